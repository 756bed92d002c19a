"""Bad study parameters: one-line errors, never a silently changed number (issue 11)."""
from __future__ import annotations

import pandas as pd
import pytest

from impact import EventStudy, datasets, load_catalog
from impact.errors import ImpactError

OCTOBER = dict(start="2025-10-09", end="2025-10-30")

CASES = [
    ("float estimation window", dict(estimation_window=(-260.9, -11.9)), "whole numbers of sessions"),
    ("float event window", dict(event_window=(-5.5, 5)), "whole numbers of sessions"),
    ("boolean window", dict(event_window=(True, 5)), "whole numbers of sessions"),
    ("three-number window", dict(event_window=(-5, 0, 5)), "whole numbers of sessions"),
    ("min_estimation_obs true", dict(min_estimation_obs=True), "positive whole number"),
    ("min_estimation_obs float", dict(min_estimation_obs=100.5), "positive whole number"),
    ("min_estimation_obs zero", dict(min_estimation_obs=0), "positive whole number"),
]


@pytest.mark.parametrize("kwargs,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_parameter_is_one_line(kwargs, message):
    prices = datasets.load_prices(["GSPC", "SPY"])
    with pytest.raises(ImpactError, match=message) as err:
        EventStudy(prices, load_catalog().filter(**OCTOBER), assets=["SPY"], **kwargs)
    assert "\n" not in str(err.value)


def test_whole_float_window_is_accepted():
    prices = datasets.load_prices(["GSPC", "SPY"])
    study = EventStudy(prices, load_catalog().filter(**OCTOBER), assets=["SPY"], estimation_window=(-260.0, -11.0))
    assert study.estimation_window == (-260, -11)


def test_fit_with_no_events_is_an_error_not_a_nan_caar():
    prices = datasets.load_prices(["GSPC", "SPY"])
    empty = pd.DataFrame({"event_id": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[ns]")})
    with pytest.raises(ImpactError, match="no events to study"):
        EventStudy(prices, empty, assets=["SPY"]).fit()
    with pytest.raises(ImpactError, match="no events to study"):
        EventStudy(prices, load_catalog().filter(start="2030-01-01"), assets=["SPY"]).fit()
