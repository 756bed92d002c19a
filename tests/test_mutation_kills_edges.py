"""Small-sample and chunking edges (issue 11, mutation testing: benchmarks/MUTATION.md):
the average residual correlation with a pair of one usable row, the placebo
percentile of a single usable draw, placebo refits split into one-pair chunks and on
windows of equal length, the event-cluster draws replayed from the seed, the SUR fits
MVRM keeps, and the df pair_t returns.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy
from impact.inference import placebo as placebo_module
from impact.inference.inputs import inputs
from impact.inference.mvrm import mvrm
from impact.inference.parametric import average_correlation, pair_t
from impact.inference.placebo import (
    _allowed_positions,
    _p_two_sided,
    _placebo_ar,
    _placebo_ar_sums,
    draw_positions,
)


def brute_force_r_bar(resid):
    """Each pair standardised over its own usable rows (ddof 0; a constant pair gives 0),
    then sum_tau [(sum_i z)^2 - sum_i z^2] / sum_tau (m^2 - m) over the pairs with sd > 0."""
    z = np.full(resid.shape, np.nan)
    keep = np.zeros(resid.shape, dtype=bool)
    for i, r in enumerate(resid):
        ok = np.isfinite(r)
        c = r[ok] - r[ok].mean()
        sd = np.sqrt((c**2).mean())
        z[i, ok] = c / sd if sd > 0 else 0.0
        keep[i] = ok & (sd > 0)
    zz = np.where(np.isfinite(z), z, 0.0)
    m = keep.sum(axis=0)
    return ((zz.sum(axis=0) ** 2 - (zz**2).sum(axis=0)).sum()) / (m * m - m).sum()


def test_average_correlation_with_a_pair_of_one_usable_row():
    rng = np.random.default_rng(12)
    resid = rng.normal(0, 1, (4, 15))
    resid[1, 3:9] = np.nan
    resid[3, 1:] = np.nan                     # one usable row: constant, contributes nothing
    assert average_correlation(resid) == pytest.approx(brute_force_r_bar(resid), rel=1e-12)
    assert average_correlation(resid) == pytest.approx(brute_force_r_bar(resid[:3]), rel=1e-12)


def test_placebo_percentile_of_a_single_usable_draw():
    p, pct = _p_two_sided(np.array([1.0, 1.0]), np.array([[0.5, 2.0], [np.nan, np.nan]]))
    assert list(pct) == [1.0, 0.0]
    assert list(p) == [1.0, 1.0]  # min(1, 2 min(2/2, 1/2)) and min(1, 2 min(1/2, 2/2))


def frame(seed=2, T=260, n=4):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, T)
    cols = {"MKT": m, **{f"A{i}": (0.4 + 0.2 * i) * m + rng.normal(0, 0.01, T) for i in range(n)}}
    return pd.DataFrame(cols, index=pd.Index(pd.bdate_range("2020-01-01", periods=T), name="date"))


def fit(f, model="market", est=(-60, -11), ev=(-3, 3), day0=200, **kw):
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[day0]]})
    return EventStudy.from_returns(f, events, market="MKT", model=model, estimation_window=est, event_window=ev,
                                   contamination="ignore", roll_days=None, **kw).fit()


def test_placebo_refits_in_one_pair_chunks_equal_one_chunk(monkeypatch):
    """A study mixing models: the batched refit cut into chunks of one pseudo pair gives the
    same ARs as one chunk, and as the running-sum fast path."""
    res = fit(frame(), model={"default": "market", "A1": "constant_mean", "A3": "raw"})
    pos = draw_positions(res, 6, seed=3)
    whole = _placebo_ar(res, pos)
    monkeypatch.setattr(placebo_module, "CHUNK_CELLS", 1)
    np.testing.assert_allclose(_placebo_ar(res, pos), whole, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_placebo_ar_sums(res, pos), whole, rtol=1e-9, atol=1e-13)


def test_placebo_refit_when_estimation_and_event_windows_have_the_same_length():
    res = fit(frame(), est=(-12, -6), ev=(-3, 3), min_estimation_obs=7)
    pos = draw_positions(res, 4, seed=1)
    np.testing.assert_allclose(_placebo_ar(res, pos), _placebo_ar_sums(res, pos), rtol=1e-9, atol=1e-13)


def test_event_cluster_draws_replay_from_the_seed():
    """One event, every asset on the same sessions: the shared pseudo-date is drawn
    uniformly from the rows admissible for every asset at once, one integer per draw."""
    res = fit(frame())
    got = draw_positions(res, 50, seed=9)
    rows = res.rows
    offsets = [set((cand - lo).tolist()) for lo, cand in _allowed_positions(res, 0).items()]
    choices = np.array(sorted(set.intersection(*offsets)))
    drawn = choices[np.random.default_rng(9).integers(0, len(choices), size=50)]
    np.testing.assert_array_equal(got, rows.lo[None, :] + drawn[:, None])


def test_mvrm_keeps_the_sur_fit_of_each_tested_event():
    res = fit(frame(n=3), est=(-80, -11), ev=(-2, 2))
    out = mvrm(res)
    assert list(out.fits) == ["e"]
    params = out.fits["e"].params
    for _, row in out.effects.iterrows():  # the cumulative effect: the sum of the event-day dummies
        want = sum(params[f"{row['asset']}_d{d:+d}"] for d in range(-2, 3))
        assert row["effect"] == pytest.approx(want, rel=1e-10)
    assert len(out.effects) == 3


def test_pair_t_returns_a_float_df_for_an_integer_df():
    inp = inputs(fit(frame()))
    out = pair_t(inp, (-1, 1), df=5)
    assert out["df"].dtype == float and (out["df"] == 5.0).all()


def test_battery_residuals_leave_out_masked_estimation_rows():
    """A0 has a second event inside the first one's estimation window ("exclude" masks
    that window's rows): the battery residuals are NaN exactly on the masked or missing
    rows and y - alpha - beta x elsewhere."""
    f = frame()
    f.iloc[175, f.columns.get_loc("A0")] = np.nan
    events = pd.DataFrame({"event_id": ["e1", "e2"], "date": [f.index[200], f.index[170]], "asset": ["A0", "A0"]})
    res = EventStudy.from_returns(f, events, market="MKT", model="market", estimation_window=(-60, -11),
                                  event_window=(-3, 3), contamination="exclude", roll_days=None).fit()
    i = list(res.pairs["event_id"]).index("e1")
    inp = inputs(res)
    g = res.rows.gather(np.arange(-60, -10), dates=False)
    masked = g["masked"][i]
    assert masked.sum() == 7
    y, x = g["y"][i], g["x"][i, :, 0]
    usable = np.isfinite(y) & ~masked
    want = np.where(usable, y - res.fit.alpha[i] - res.fit.beta[i, 0] * x, np.nan)
    np.testing.assert_allclose(inp.resid[i], want, rtol=1e-12, atol=1e-15)
    assert np.isnan(inp.resid[i][masked]).all() and np.isnan(inp.resid[i][175 - 140])
