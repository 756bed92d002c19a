"""Multiple-testing adjustment (impact/inference/multiple.py): p_adjusted equals statsmodels'
multipletests applied by hand family by family (Holm 1979; Benjamini & Hochberg 1995),
NaN p-values stay NaN and are not counted, bad options are refused in one line."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from impact import EventStudy, datasets, load_catalog
from impact.errors import ImpactError
from impact.inference.multiple import adjust_pvalues, adjusted_car


@pytest.fixture(scope="module")
def real():
    """Real bundled data: four assets and the 2025 events, the market model on the S&P 500."""
    prices = datasets.load_prices(["GSPC", "SPY", "SOXX", "NVDA", "HG_F"])
    return EventStudy(prices, load_catalog().filter(start="2025-01-01", end="2025-12-31"), market="GSPC").fit()


STATSMODELS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni"}


@pytest.mark.parametrize("method", ["holm", "bh", "bonferroni"])
@pytest.mark.parametrize("family", ["event_id", "asset", None])
def test_p_adjusted_is_multipletests_per_family(real, method, family):
    out = real.adjusted((-1, 1), method=method, family=family)
    cars = real.car((-1, 1))
    pd.testing.assert_frame_equal(out[cars.columns], cars)
    assert (out["method"] == method).all() and (out["family"] == (family or "all")).all()
    expected = pd.Series(np.nan, index=cars.index)
    groups = cars.groupby(family) if family else [("all", cars)]
    n_families = 0
    for _, block in groups:
        expected[block.index] = multipletests(block["p_value"].to_numpy(), method=STATSMODELS[method])[1]
        n_families += 1
    np.testing.assert_allclose(out["p_adjusted"].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-15)
    assert n_families == (1 if family is None else cars[family].nunique()) and n_families >= 1
    assert (out["p_adjusted"] >= out["p_value"] - 1e-15).all()  # adjusting never lowers a p-value


def test_holm_and_bh_by_hand_on_a_small_family():
    """m = 4: Holm p~_(j) = max_{k<=j} min(1, (m-k+1) p_(k)); BH p~_(j) = min_{k>=j} min(1, m p_(k)/k)."""
    frame = pd.DataFrame({"p_value": [0.01, 0.04, 0.03, 0.20]})
    holm = adjust_pvalues(frame)["p_adjusted"].to_numpy()
    np.testing.assert_allclose(holm, [0.04, 0.09, 0.09, 0.20], atol=1e-15)
    bh = adjust_pvalues(frame, method="bh")["p_adjusted"].to_numpy()
    np.testing.assert_allclose(bh, [0.04, 0.16 / 3, 0.16 / 3, 0.20], atol=1e-15)
    bonferroni = adjust_pvalues(frame, method="bonferroni")["p_adjusted"].to_numpy()
    np.testing.assert_allclose(bonferroni, [0.04, 0.16, 0.12, 0.80], atol=1e-15)


def test_nan_p_values_stay_nan_and_are_not_counted():
    frame = pd.DataFrame({"family": ["a", "a", "a", "b", "b", "b"],
                          "p": [0.01, np.nan, 0.02, 0.3, 0.04, np.nan],
                          "other": range(6)})
    out = adjust_pvalues(frame, column="p", method="holm", by="family")
    pd.testing.assert_frame_equal(out.drop(columns="p_adjusted"), frame)
    assert np.isnan(out["p_adjusted"].iloc[[1, 5]]).all()
    # family a: m = 2 (not 3): 0.01 -> 0.02, 0.02 -> 0.02; family b: 0.04 -> 0.08, 0.3 -> 0.3
    np.testing.assert_allclose(out["p_adjusted"].iloc[[0, 2, 3, 4]].to_numpy(), [0.02, 0.02, 0.3, 0.08],
                               atol=1e-15)
    whole = adjust_pvalues(frame, column="p", method="bonferroni")  # one family, m = 4
    np.testing.assert_allclose(whole["p_adjusted"].to_numpy(), [0.04, np.nan, 0.08, 1.0, 0.16, np.nan],
                               atol=1e-15)
    empty = adjust_pvalues(pd.DataFrame({"p_value": [np.nan, np.nan]}))
    assert empty["p_adjusted"].isna().all()


def test_adjusted_car_function_equals_the_verb(real):
    pd.testing.assert_frame_equal(adjusted_car(real, (0, 0), "bh", "asset"), real.adjusted((0, 0), "bh", "asset"))


BAD = [
    (lambda r: r.adjusted(method="fdr"), "unknown adjustment method 'fdr' (choose from holm, bh, bonferroni)"),
    (lambda r: r.adjusted(family="kind"), "unknown family 'kind' (choose from event_id, asset, None)"),
    (lambda r: adjust_pvalues(r.car(), column="p"),
     "no p-value column 'p' in the frame (columns: event_id, asset, window, car, se, t, p_value, df)"),
    (lambda r: adjust_pvalues(r.car(), by="kind"), "cannot adjust by 'kind': not a column of the frame"),
    (lambda r: adjust_pvalues(r.car(), column="t"), "column 't' holds values outside [0, 1]; are these p-values?"),
]


@pytest.mark.parametrize("run,message", BAD)
def test_bad_options_are_refused_in_one_line(real, run, message):
    with pytest.raises(ImpactError) as err:
        run(real)
    assert str(err.value) == message
