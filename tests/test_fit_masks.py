"""The fits note unusable pairs as masks beside their texts (no million-text comparisons on the
hot path): the masks must say exactly what the texts say, for every kind of problem, every
model, both fits (window by window and from window sums), mixed models and joined chunks, and
through a whole study (kept pairs have no reason, excluded ones have one).
All data here are SYNTHETIC (seeded random numbers), labelled as such."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy
from impact.study.models import concat_fits, fit_by_model, fit_normal_returns
from impact.study.moments import fit_from_moments


def _windows(k: int, seed: int = 0):
    """SYNTHETIC estimation windows with every problem: rows 0-1 too short, 2 a flat regressor,
    3 a perfect fit (zero residual variance), 4 collinear regressors (k = 2), the rest fine."""
    rng = np.random.default_rng(seed)
    P, L = 12, 40
    X = rng.normal(0, 0.01, (P, L, k))
    y = 1e-4 + X.sum(axis=2) + rng.normal(0, 0.02, (P, L))
    usable = np.ones((P, L), dtype=bool)
    usable[0, 3:] = usable[1, 5:] = False
    X[2, :, 0] = 0.003
    y[3] = 2e-4 + 0.9 * X[3, :, 0]
    if k == 2:
        X[4, :, 1] = 2.0 * X[4, :, 0]
    return y, X, usable


def _moments(y, X, usable):
    ys, xs = np.where(usable, y, 0.0), np.where(usable[:, :, None], X, 0.0)
    P, _, k = X.shape
    return dict(n=usable.sum(axis=1).astype(float), sy=ys.sum(axis=1), sx=xs.sum(axis=1),
                sxx=np.einsum("plk,plj->pkj", xs, xs), sxy=np.einsum("plk,pl->pk", xs, ys), syy=(ys**2).sum(axis=1),
                shift_y=np.zeros(P), shift_x=np.zeros((P, k)))


@pytest.mark.parametrize("model, k", [("market", 1), ("factors", 2), ("constant_mean", 1), ("market_adjusted", 1),
                                      ("raw", 1)])
def test_the_unusable_mask_is_the_pairs_with_a_problem(model, k):
    y, X, usable = _windows(k)
    fits = [fit_normal_returns(model, y, X, usable, 10), fit_from_moments(model, **_moments(y, X, usable), min_obs=10)]
    for fit in fits:
        assert fit.unusable is not None
        np.testing.assert_array_equal(fit.failed, fit.problem != "")
        assert fit.failed[:2].all() and not fit.failed[5:].any()  # the short rows, and not the fine ones
        if model in ("market", "factors"):
            assert fit.failed[2] and fit.failed[3]  # flat regressor; perfect fit
        if model == "factors":
            assert fit.failed[4]  # collinear
        np.testing.assert_array_equal(fit.take(slice(1, 4)).failed, fit.problem[1:4] != "")


def test_the_mask_survives_mixed_models_and_joined_chunks():
    y, X, usable = _windows(1)
    models = np.array(["market", "constant_mean"] * 6, dtype=object)
    mixed = fit_by_model(models, lambda m, i: fit_normal_returns(m, y[i], X[i], usable[i], 10))
    np.testing.assert_array_equal(mixed.failed, mixed.problem != "")
    assert mixed.failed[[0, 1, 2, 3]].tolist() == [True, True, True, False]  # row 3 is constant_mean: fine
    one = fit_normal_returns("market", y[:6], X[:6], usable[:6], 10)
    two = fit_normal_returns("market", y[6:], X[6:], usable[6:], 10)
    joined = concat_fits([one, two])
    np.testing.assert_array_equal(joined.failed, np.r_[one.problem, two.problem] != "")
    # A part without the mask (as a GARCH fit leaves it): the joined fit reads the texts.
    unnoted = concat_fits([one, replace(two, unusable=None)])
    assert unnoted.unusable is None
    np.testing.assert_array_equal(unnoted.failed, joined.failed)
    # ... and so does a fit of mixed models where one model's fit has no mask.
    def fit_one(m, i):
        fit = fit_normal_returns(m, y[i], X[i], usable[i], 10)
        return replace(fit, unusable=None) if m == "constant_mean" else fit
    partly = fit_by_model(models, fit_one)
    assert partly.unusable is None and partly.failed[1]  # row 1: a short constant_mean window
    np.testing.assert_array_equal(partly.failed, mixed.failed)


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("engine", ["windows", "moments"])
def test_a_study_keeps_exactly_the_pairs_without_a_reason(engine, late):
    """SYNTHETIC panel with holes, a short series, an event after the data and a flat benchmark
    stretch: pairs are excluded for several reasons; every kept pair has no reason, every excluded
    one has its reason in both tables."""
    rng = np.random.default_rng(5)
    T, N = 700, 8
    dates = pd.bdate_range("2016-01-04", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    R = 1e-4 + m[:, None] * rng.uniform(0.5, 1.5, N) + rng.normal(0, 0.02, (T, N))
    R[rng.random(R.shape) < 0.02] = np.nan  # holes: incomplete event windows
    R[:520, 1] = np.nan  # a short series: too few estimation rows
    frame = pd.DataFrame(R, index=dates, columns=[f"A{i}" for i in range(N)])
    frame["MKT"] = m
    frame.iloc[200:325, -1] = 0.0  # a flat benchmark over the first event's estimation window
    after = [dates[-1] + pd.Timedelta(days=30)] if late else []  # after the data: not placed at all
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(30 + len(after))],
                           "date": [*dates[330 + 12 * np.arange(30)], *after]})
    study = EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=(-120, -11),
                                    event_window=(-3, 3), contamination="ignore")
    study.engine = engine
    result = study.fit()
    reasons = result.alignment["excluded_reason"].astype(str)
    assert len(result.excluded) > 10 and len(result.pairs) > 100
    assert (result.excluded["reason"].astype(str) != "").all()
    kept = pd.MultiIndex.from_frame(result.pairs[["event_id", "asset"]])
    without = pd.MultiIndex.from_frame(result.alignment.loc[reasons == "", ["event_id", "asset"]])
    assert kept.sort_values().equals(without.sort_values())
    kinds = result.excluded["reason"].str.extract(r"^(event window incomplete|too few|no data|benchmark returns)")[0]
    assert set(kinds) == {"event window incomplete", "too few", "benchmark returns"} | ({"no data"} if late else set())
    # the kept pairs' arrays: one row each, every abnormal return finite, the fit usable
    assert result.abnormal.shape[0] == len(result.pairs) == len(result.fit.alpha)
    assert np.isfinite(result.abnormal).all() and np.isfinite(result.fit.alpha).all()
