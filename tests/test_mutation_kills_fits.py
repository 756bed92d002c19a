"""Normal-return fits: mixed-model scattering, the GARCH Var(CAR) and the one-line
errors (issue 11, mutation testing: benchmarks/MUTATION.md). Each field of a mixed
fit equals the fit of its own model on its own pairs (problem strings kept whole);
a mix of parameter-free models only; Var(CAR) of a two-pair GARCH fit by hand.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from impact import ImpactError
from impact.study.models import check_model_mix, fit_by_model, fit_garch, fit_normal_returns

FIELDS = ("alpha", "beta", "sigma2", "n_obs", "df", "mean_estimated", "problem")


def panel(seed=4, P=4, L=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.01, (P, L, 1))
    y = 1e-4 + 0.8 * X[:, :, 0] + rng.normal(0, 0.01, (P, L))
    return y, X


def test_mixed_fit_scatters_every_field_and_keeps_problem_strings_whole():
    y, X = panel()
    usable = np.ones(y.shape, dtype=bool)
    usable[3, 3:] = False                    # pair 3: three usable rows, too few for the market model
    models = ["constant_mean", "market", "raw", "market"]

    def one(m, i):
        return fit_normal_returns(m, y[i], X[i], usable[i], 10, ("mkt",))

    fit = fit_by_model(models, one)
    assert fit.model == "mixed" and fit.names == ("mkt",)
    assert fit.pair_model.dtype == object and list(fit.pair_model) == models
    assert fit.problem.dtype == object
    for m in dict.fromkeys(models):
        idx = np.flatnonzero(np.array(models) == m)
        part = one(m, idx)
        for name in FIELDS:
            want = np.broadcast_to(getattr(part, name), (len(idx), *np.shape(getattr(part, name))[1:]))
            got = getattr(fit, name)[idx]
            if name == "problem":
                assert list(got) == list(want), m
            else:
                np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float), err_msg=m)
    assert fit.problem[3] != "" and fit.problem[3] == one("market", np.array([3])).problem[0]
    assert len(fit.problem[3]) > 1
    # Var(CAR): the market pairs' slope term; zero slope cross-products for the others
    window = np.ones(5, dtype=bool)
    Xe = X[:, :5, :]
    v = fit.car_variance(Xe, window)
    for i, m in enumerate(models):
        want = one(m, np.array([i])).car_variance(Xe[i:i + 1], window)[0]
        if np.isfinite(want):
            assert v[i] == pytest.approx(want, rel=1e-12), m


def test_a_mix_of_parameter_free_models_only():
    y, X = panel(P=3)
    usable = np.ones(y.shape, dtype=bool)
    models = np.array(["constant_mean", "raw", "constant_mean"], dtype=object)
    fit = fit_by_model(models, lambda m, i: fit_normal_returns(m, y[i], X[i], usable[i], 10, ("mkt",)))
    assert fit.model == "mixed" and fit.beta.shape == (3, 1)
    np.testing.assert_allclose(fit.alpha, [y[0].mean(), 0.0, y[2].mean()], rtol=1e-12)
    assert list(fit.mean_estimated) == [True, False, True]
    np.testing.assert_array_equal(fit.xtx_inv, np.zeros((3, 1, 1)))


def test_garch_car_variance_of_two_pairs_by_hand():
    pytest.importorskip("arch")
    rng = np.random.default_rng(3)
    P, L = 2, 300
    X = rng.normal(0, 0.01, (P, L, 1))
    y = 2e-4 + 0.7 * X[:, :, 0] + rng.normal(0, 0.01, (P, L)) * np.array([[1.0], [2.0]])
    fit = fit_garch(y, X, np.ones(y.shape, dtype=bool), 10, np.array([1, 2, 3]))
    Xe = rng.normal(0, 0.01, (P, 3, 1))
    window = np.array([False, True, True])
    v = fit.car_variance(Xe, window)
    for i in range(P):
        g = np.array([2.0, Xe[i, 1:, 0].sum()])
        want = fit.event_var[i, 1:].sum() + g @ fit.param_cov[i] @ g
        assert v[i] == pytest.approx(want, rel=1e-12)
    assert v[0] != pytest.approx(v[1], rel=1e-3)


def test_fit_one_line_errors_in_full(monkeypatch):
    y, X = panel(P=1)
    with pytest.raises(ImpactError, match="^" + re.escape(
            "the garch model is fitted with fit_garch (it needs the event-day horizons)") + "$"):
        fit_normal_returns("garch", y, X, np.ones(y.shape, dtype=bool), 10)
    with pytest.raises(ImpactError, match="^" + re.escape(
            "model 'garch' cannot be mixed with other models in one study; fit it in a study of its own") + "$"):
        check_model_mix({"garch", "market"})
    monkeypatch.setitem(sys.modules, "arch", None)
    with pytest.raises(ImpactError, match="^" + re.escape(
            "model 'garch' needs the optional 'arch' package: pip install 'impact[garch]'") + "$"):
        fit_garch(y, X, np.ones(y.shape, dtype=bool), 10, np.array([1]))
