"""Tolerances and rarely-taken paths left by the fresh mutation run (issue 11; the survivors
are argued in benchmarks/MUTATION.md).

* MVRM's singular-residual check is relative to each asset's own scale: rescaling returns
  (fractions vs basis points) does not change which asset is flagged, and a large asset
  does not hide a small one's genuine variance.
* A benchmark that varies by 1e-8 a day (below the 1e-7 per-row cut, but above what a
  cut divided by n would catch) is constant for the placebo's running sums and refits.
* The estudy2 variance factor with two factors over a three-day window, by hand.
* An ``ff3`` study's refit path of the placebo equals its running-sum path.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy
from impact.inference.inputs import inputs
from impact.inference.mvrm import _singular_residuals
from impact.inference.placebo import _placebo_ar, _placebo_ar_sums

CLEAN = {"contamination": "ignore", "roll_days": None}
ZERO = "zero residual variance for {}"


def system(ratio_b, scale_a=1.0, scale_b=1.0, T=60, seed=2):
    """SYNTHETIC two-asset estimation system on one market x. A is ordinary noise; B is an
    exact linear function of x plus a residual whose norm is ``ratio_b`` times B's own norm
    (the residual is orthogonal to [1, x], so it is exactly B's OLS residual)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.01, T)
    X = np.column_stack([np.ones(T), x])
    a = rng.normal(0, 0.01, T) + 0.8 * x
    base = 0.0005 + 1.1 * x
    e = rng.normal(0, 1, T)
    e -= X @ np.linalg.lstsq(X, e, rcond=None)[0]
    e *= ratio_b * np.linalg.norm(base) / np.linalg.norm(e)
    y = np.column_stack([a * scale_a, (base + e) * scale_b])
    xs = np.stack([x[:, None] * scale_a, x[:, None] * scale_b])
    return y, xs


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_singular_residual_cut_is_relative_to_each_assets_scale(scale):
    """||resid_B|| = 1e-9 ||y_B|| is a genuine (if tiny) variance; 1e-12 ||y_B|| is zero
    variance (cut: 1e-10 ||y_B||), whether returns are in fractions, 1/1000 or bp."""
    y, x = system(1e-9, scale, scale)
    assert _singular_residuals(y, x, ["A", "B"]) == ""
    y, x = system(1e-12, scale, scale)
    assert _singular_residuals(y, x, ["A", "B"]) == ZERO.format("B")


def test_a_large_asset_does_not_hide_a_small_assets_variance():
    """A in basis points (x1e4) beside B in fractions: B's residual of 1e-9 ||y_B|| is still
    judged against B's own norm, not the system's."""
    y, x = system(1e-9, scale_a=1e4)
    assert _singular_residuals(y, x, ["A", "B"]) == ""
    y, x = system(1e-12, scale_a=1e4)
    assert _singular_residuals(y, x, ["A", "B"]) == ZERO.format("B")


# -- the placebo's constant-benchmark cut at 1e-8 a day ------------------------------------

T, DAY0, EST, EV = 300, 250, (-60, -11), (-3, 3)


def frame_with_flat_stretch(sd, seed=6):
    """SYNTHETIC: MKT varies by ``sd`` a day on rows 20-89 (level 0.2%) and is ordinary
    elsewhere; three assets load on it."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, T)
    m[20:90] = 0.002 + rng.normal(0, sd, 70)
    cols = {"MKT": m, **{f"A{i}": (0.5 + 0.3 * i) * m + rng.normal(0, 0.01, T) for i in range(3)}}
    return pd.DataFrame(cols, index=pd.Index(pd.bdate_range("2019-01-01", periods=T), name="date"))


@pytest.mark.parametrize("sd, flat", [(1e-8, True), (1e-6, False)])
def test_placebo_constant_benchmark_cut_is_1e_14_per_row(sd, flat):
    """Centred sum of squares ~ 50 sd^2: 5e-15 for sd 1e-8 (<= 1e-14 * 50: constant, unfit on
    both placebo paths) and 5e-11 for sd 1e-6 (fitted)."""
    f = frame_with_flat_stretch(sd)
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[DAY0]]})
    res = EventStudy.from_returns(f, events, market="MKT", model="market", estimation_window=EST,
                                  event_window=EV, **CLEAN).fit()
    pos = res.rows.lo[None, :] + np.array([[90]])     # estimation rows 30-79: inside the stretch
    for ar in (_placebo_ar(res, pos), _placebo_ar_sums(res, pos)):
        assert np.isnan(ar).all() == flat
        assert np.isfinite(ar).all() == (not flat)


# -- the estudy2 factor with two factors -----------------------------------------------------

def test_estudy2_factor_with_two_factors_over_three_days_by_hand():
    """pe_rows="benchmark", factors model with k = 2: f = d + d^2 / n_i + s' (Xc'Xc)^-1 s,
    s = sum over the window's days of (x_t - xbar), a 2-vector."""
    rng = np.random.default_rng(12)
    idx = pd.bdate_range("2020-01-01", periods=T)
    F = pd.DataFrame({"F1": rng.normal(0, 0.01, T), "F2": rng.normal(0, 0.006, T)}, index=idx)
    f = pd.DataFrame({f"A{i}": F["F1"] * (0.6 + 0.2 * i) - 0.3 * F["F2"] + rng.normal(0, 0.01, T)
                      for i in range(3)}, index=pd.Index(idx, name="date"))
    events = pd.DataFrame({"event_id": ["e"], "date": [idx[DAY0]]})
    res = EventStudy.from_returns(f, events, market=None, model="factors", factors=F, estimation_window=EST,
                                  event_window=EV, **CLEAN).fit()
    inp = inputs(res)
    _, fac, days = inp.factors((-1, 1), pe_rows="benchmark")
    assert list(days) == [3.0]
    Xe = F.to_numpy()[DAY0 + EST[0]:DAY0 + EST[1] + 1]
    Xw = F.to_numpy()[DAY0 - 1:DAY0 + 2]
    xbar = Xe.mean(axis=0)
    Xc = Xe - xbar
    s = (Xw - xbar).sum(axis=0)
    want = 3 + 9 / (EST[1] - EST[0] + 1) + s @ np.linalg.solve(Xc.T @ Xc, s)
    np.testing.assert_allclose(fac[:, 0], want, rtol=1e-12)


# -- ff3 on the placebo's refit path ---------------------------------------------------------

def test_ff3_placebo_refits_equal_the_running_sums():
    """SYNTHETIC returns on the bundled FF3 factors: the batched refit path (used for
    statistics other than the CAAR) supports ff3 and equals the running-sum path."""
    idx = pd.bdate_range("2024-01-02", "2025-09-30")
    rng = np.random.default_rng(11)
    f = pd.DataFrame({f"A{i}": rng.normal(0, 0.01, len(idx)) for i in range(2)}, index=pd.Index(idx, name="date"))
    events = pd.DataFrame({"event_id": ["e"], "date": [idx[-20]]})
    res = EventStudy.from_returns(f, events, market=None, model="ff3", estimation_window=EST, event_window=(0, 1),
                                  **CLEAN).fit()
    pos = res.rows.lo[None, :] + np.array([[200], [300]])
    slow, fast = _placebo_ar(res, pos), _placebo_ar_sums(res, pos)
    assert np.isfinite(slow).all()
    np.testing.assert_allclose(slow, fast, rtol=1e-7, atol=1e-12)
