"""Report specs select ``model: factors`` through a ``factors:`` field (issue 17, loose end of v1)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, datasets
from impact.data.factors import ff3_factors
from impact.errors import SpecError
from impact.report.build import run_spec
from impact.report.spec import spec_from_dict

BASE = {"name": "f", "title": "factors", "assets": ["SPY", "SOXX"], "filters": {"start": "2025-10-01",
                                                                                 "end": "2025-10-31"}}


def test_factors_field_runs_the_factor_model_on_bundled_columns(prices, catalog):
    spec = spec_from_dict(BASE | {"model": "factors", "factors": ["mkt_rf", "smb", "rf"]})
    got = run_spec(spec)
    study = EventStudy(datasets.load_prices(["SPY", "SOXX", "GSPC"]), catalog.filter(**BASE["filters"]),
                       model="factors", factors=ff3_factors()[["mkt_rf", "smb", "rf"]], assets=["SPY", "SOXX"])
    want = study.fit()
    pd.testing.assert_frame_equal(got.car(), want.car())
    assert got.study.model == "factors" and list(got.study.factors.columns) == ["mkt_rf", "smb", "rf"]
    # all bundled columns = the ff3 model
    ff3 = run_spec(spec_from_dict(BASE | {"model": "ff3"}))
    full = run_spec(spec_from_dict(BASE | {"model": "factors", "factors": "ff3"}))
    assert np.allclose(full.car()["car"], ff3.car()["car"], atol=1e-12)


def test_factors_from_a_csv_file(tmp_path):
    path = tmp_path / "f.csv"
    ff3_factors()[["mkt_rf", "rf"]].rename_axis("date").reset_index().to_csv(path, index=False)
    got = run_spec(spec_from_dict(BASE | {"model": "factors", "factors": str(path)}))
    bundled = run_spec(spec_from_dict(BASE | {"model": "factors", "factors": ["mkt_rf", "rf"]}))
    assert np.allclose(got.car()["car"], bundled.car()["car"], atol=1e-12)


@pytest.mark.parametrize("change, words", [
    ({"model": "factors"}, "model 'factors' needs factors:"),
    ({"model": "market", "factors": ["smb"]}, "not 'ff3' or 'factors'"),
    ({"model": "factors", "factors": ["size"]}, "expected bundled factor columns"),
    ({"model": "factors", "factors": ["rf"]}, "at least one besides rf"),
    ({"model": "factors", "factors": "nowhere.csv"}, "neither 'ff3'"),
])
def test_bad_factors_field_names_the_field(change, words):
    with pytest.raises(SpecError, match="field 'factors'") as err:
        spec_from_dict(BASE | change)
    assert words in str(err.value)
