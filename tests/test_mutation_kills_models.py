"""Normal-return fits checked field by field (issue 11, mutation testing:
benchmarks/MUTATION.md): ``fit_garch`` against ``arch`` fitted directly and its
recorded exclusions; ``fit_from_moments`` and ``fit_normal_returns`` against
statsmodels OLS / numpy by hand, at their sample-size boundaries; the one-line model
errors matched in full.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re
import warnings

import arch  # the test extra installs it
import numpy as np
import pytest
import statsmodels.api as sm

from impact import ImpactError
from impact.study import models
from impact.study.models import (
    NormalFit,
    check_model_mix,
    concat_fits,
    fit_by_model,
    fit_garch,
    fit_normal_returns,
    n_parameters,
)
from impact.study.moments import fit_from_moments


def garch_panel(seed=3, P=2, L=300, k=1, scale=0.01):
    """SYNTHETIC returns with GARCH(1,1)-like volatility clustering: y = a + b x + e."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, scale, (P, L, k))
    h = np.full((P, L), scale**2)
    e = np.zeros((P, L))
    for t in range(1, L):
        h[:, t] = 0.05 * scale**2 + 0.1 * e[:, t - 1] ** 2 + 0.85 * h[:, t - 1]
        e[:, t] = np.sqrt(h[:, t]) * rng.normal(size=P)
    y = 2e-4 + 0.7 * X.sum(axis=2) + e
    return y, X


def arch_by_hand(y, x, horizons):
    fit = arch.arch_model(100 * y, x=100 * x, mean="LS", vol="GARCH", p=1, q=1, dist="normal",
                          rescale=False).fit(disp="off")
    k = x.shape[1]
    th = fit.params.to_numpy()
    alpha, beta = th[0] / 100, th[1:1 + k]
    resid = y - alpha - x @ beta
    fc = fit.forecast(horizon=int(max(horizons)), reindex=False, x=np.zeros((k, 1, int(max(horizons)))))
    var = fc.variance.to_numpy()[-1][np.asarray(horizons) - 1] / 1e4
    sc = np.array([100.0, *([1.0] * k)])
    cov = fit.param_cov.to_numpy()[:1 + k, :1 + k] / np.outer(sc, sc)
    garch = th[1 + k:] / np.array([1e4, 1.0, 1.0])
    return dict(alpha=alpha, beta=beta, sigma2=(resid**2).sum() / (len(y) - 1 - k), var=var, cov=cov, garch=garch)


def test_fit_garch_every_field_against_arch(capsys):
    y, X = garch_panel(P=2)
    usable = np.ones(y.shape, dtype=bool)
    usable[1, [0, 1, 2]] = False  # leading rows: the recursion starts at the first usable row (no gap inside)
    horizons = np.array([1, 2, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DataScaleWarning: rescale=False on 100 * returns
        fit = fit_garch(y, X, usable, 10, horizons, names=("mkt",))
    assert capsys.readouterr().out == ""  # the optimiser prints nothing
    assert fit.model == "garch" and fit.names == ("mkt",)
    assert fit.mean_estimated is True and fit.xtx_inv is None
    assert fit.alpha.dtype == np.float64 and fit.beta.dtype == np.float64
    assert fit.n_obs.dtype.kind == "i" and fit.df.dtype.kind == "i"
    assert list(fit.n_obs) == [300, 297] and list(fit.df) == [298, 295]
    np.testing.assert_array_equal(fit.xbar, np.zeros((2, 1)))
    assert list(fit.problem) == ["", ""]
    for p in range(2):
        want = arch_by_hand(y[p, usable[p]], X[p, usable[p]], horizons)
        assert fit.alpha[p] == pytest.approx(want["alpha"], abs=1e-12)
        np.testing.assert_allclose(fit.beta[p], want["beta"], atol=1e-10)
        assert fit.sigma2[p] == pytest.approx(want["sigma2"], rel=1e-10)
        np.testing.assert_allclose(fit.event_var[p], want["var"], rtol=1e-10)
        np.testing.assert_allclose(fit.param_cov[p], want["cov"], rtol=1e-8)
        np.testing.assert_allclose(fit.garch[p], want["garch"], rtol=1e-10)


def test_fit_garch_small_returns_are_not_rescaled():
    """Returns of 0.1 % a day are 0.1 after the x100: arch must not rescale them again."""
    y, X = garch_panel(P=1, scale=0.001)
    usable = np.ones(y.shape, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_garch(y, X, usable, 10, np.array([1]))
    want = arch_by_hand(y[0], X[0], [1])
    assert fit.alpha[0] == pytest.approx(want["alpha"], abs=1e-12)
    np.testing.assert_allclose(fit.beta[0], want["beta"], atol=1e-9)
    np.testing.assert_allclose(fit.event_var[0], want["var"], rtol=1e-8)


def test_fit_garch_two_regressors_one_constant_is_refused():
    y, X = garch_panel(P=2, k=2)
    X[0, :, 1] = 0.003  # constant second regressor for pair 0 only
    fit = fit_garch(y, X, np.ones(y.shape, dtype=bool), 10, np.array([1]))
    assert list(fit.problem) == ["benchmark returns constant over the estimation window", ""]
    assert np.isnan(fit.alpha[0]) and np.isnan(fit.sigma2[0]) and np.isnan(fit.beta[0]).all()
    want = arch_by_hand(y[1], X[1], [1])
    assert fit.sigma2[1] == pytest.approx(want["sigma2"], rel=1e-10)  # the next pair is still fitted
    assert list(fit.df) == [297, 297]


def test_fit_garch_too_few_rows_at_the_boundary():
    """need = max(min_obs, 1 + k + 3 + 2): 7 rows for one regressor."""
    y, X = garch_panel(P=3, L=40)
    usable = np.zeros(y.shape, dtype=bool)
    usable[0, :6] = True   # one short
    usable[1, :7] = True   # exactly enough
    usable[2, :] = True
    fit = fit_garch(y, X, usable, 1, np.array([1, 2]))
    assert fit.problem[0] == "too few estimation observations: 6 < 7"
    assert not fit.problem[1].startswith("too few")
    assert fit.problem[2] == ""
    assert np.isfinite(fit.sigma2[2])
    fit = fit_garch(y, X, usable, 30, np.array([1, 2]))
    assert list(fit.problem[:2]) == ["too few estimation observations: 6 < 30",
                                     "too few estimation observations: 7 < 30"]
    assert fit.problem[2] == "" and list(fit.n_obs) == [6, 7, 40]


class _FakeResult:
    def __init__(self, flag):
        self.convergence_flag = flag


def test_fit_garch_failures_are_recorded_and_the_loop_goes_on(monkeypatch):
    y, X = garch_panel(P=3)
    usable = np.ones(y.shape, dtype=bool)
    real = arch.arch_model
    calls = []

    def fake(yp, **kw):
        calls.append(len(calls))
        if len(calls) == 1:
            raise ValueError("bad start values")
        if len(calls) == 2:
            model = real(yp, **kw)
            model.fit = lambda **_: _FakeResult(1)
            return model
        return real(yp, **kw)

    monkeypatch.setattr(arch, "arch_model", fake)
    fit = fit_garch(y, X, usable, 10, np.array([1]))
    assert list(fit.problem) == ["GARCH estimation failed: bad start values", "GARCH estimation did not converge", ""]
    assert np.isnan(fit.alpha[:2]).all() and np.isfinite(fit.alpha[2])
    want = arch_by_hand(y[2], X[2], [1])
    assert fit.sigma2[2] == pytest.approx(want["sigma2"], rel=1e-10)


# ---- fit_from_moments / fit_normal_returns ---------------------------------------------

def ols_panel(seed=5, P=4, L=30, k=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.01, (P, L, k))
    y = 1e-3 + X @ np.linspace(0.5, 1.2, k) + rng.normal(0, 0.01, (P, L))
    return y, X


def moments(y, X, usable, shift_y=None, shift_x=None):
    P, L, k = X.shape
    shift_y = np.zeros(P) if shift_y is None else shift_y
    shift_x = np.zeros((P, k)) if shift_x is None else shift_x
    ys = np.where(usable, y - shift_y[:, None], 0.0)
    xs = np.where(usable[:, :, None], X - shift_x[:, None, :], 0.0)
    return dict(n=usable.sum(axis=1).astype(float), sy=ys.sum(axis=1), sx=xs.sum(axis=1),
                sxx=np.einsum("plk,plj->pkj", xs, xs), sxy=np.einsum("plk,pl->pk", xs, ys),
                syy=(ys**2).sum(axis=1), shift_y=shift_y, shift_x=shift_x)


def by_statsmodels(model, y, x):
    if model in ("market", "ff3", "factors"):
        fit = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit()
        return fit.params[0], fit.params[1:], fit.mse_resid, fit.df_resid
    if model == "constant_mean":
        return y.mean(), np.zeros(x.shape[1]), y.var(ddof=1), len(y) - 1
    if model == "market_adjusted":
        d = y - x[:, 0]
        return 0.0, np.ones(x.shape[1]), d.var(ddof=1), len(y) - 1
    return 0.0, np.zeros(x.shape[1]), y.var(ddof=1), len(y) - 1


@pytest.mark.parametrize("model", ["market", "factors", "constant_mean", "market_adjusted", "raw"])
@pytest.mark.parametrize("shifted", [False, True])
def test_fit_from_moments_and_batched_fit_equal_statsmodels(model, shifted):
    k = 1 if model in ("market", "market_adjusted") else 2
    y, X = ols_panel(k=k)
    usable = np.ones(y.shape, dtype=bool)
    usable[1, [0, 4, 9]] = False
    usable[2, 20:] = False
    sy = y.mean(axis=1) if shifted else None
    sx = X.mean(axis=1) if shifted else None
    mo = fit_from_moments(model, **moments(y, X, usable, sy, sx), min_obs=5, names=("a", "b")[:k])
    full = fit_normal_returns(model, y, X, usable, 5, names=("a", "b")[:k])
    for fit in (mo, full):
        assert fit.model == model and fit.names == ("a", "b")[:k]
        assert list(fit.problem) == [""] * 4
        assert fit.n_obs.dtype.kind == "i" and fit.df.dtype.kind == "i"
        assert fit.mean_estimated is (model in ("market", "factors", "constant_mean"))
        for p in range(4):
            u = usable[p]
            a, b, s2, df = by_statsmodels(model, y[p, u], X[p, u])
            assert fit.alpha[p] == pytest.approx(a, abs=1e-10)
            np.testing.assert_allclose(fit.beta[p], b, atol=1e-8)
            assert fit.sigma2[p] == pytest.approx(s2, rel=1e-8)
            assert fit.df[p] == df and fit.n_obs[p] == u.sum()
            np.testing.assert_allclose(fit.xbar[p], X[p, u].mean(axis=0), atol=1e-14)
        if model in ("market", "factors"):
            for p in range(4):
                xc = X[p, usable[p]] - X[p, usable[p]].mean(axis=0)
                np.testing.assert_allclose(fit.xtx_inv[p], np.linalg.inv(xc.T @ xc), rtol=1e-7)
        else:
            assert fit.xtx_inv is None


@pytest.mark.parametrize("fitter", ["moments", "batched"])
@pytest.mark.parametrize("model,n_params", [("market", 2), ("factors", 3), ("constant_mean", 1), ("raw", 0)])
def test_too_few_rows_at_the_boundary(fitter, model, n_params):
    """need = max(min_obs, p + 2): exactly need rows are fitted, one fewer is recorded."""
    k = 2 if model == "factors" else 1
    y, X = ols_panel(P=3, L=12, k=k)
    need = n_params + 2
    usable = np.zeros(y.shape, dtype=bool)
    usable[0, :need - 1] = True
    usable[1, :need] = True
    usable[2, :] = True

    def fit(min_obs):
        if fitter == "moments":
            return fit_from_moments(model, **moments(y, X, usable), min_obs=min_obs)
        return fit_normal_returns(model, y, X, usable, min_obs)

    f = fit(1)
    assert list(f.problem) == [f"too few estimation observations: {need - 1} < {need}", "", ""]
    assert np.isnan(f.alpha[0]) and np.isnan(f.sigma2[0]) and np.isnan(f.beta[0]).all()
    assert np.isfinite(f.sigma2[1:]).all() and np.isfinite(f.alpha[1:]).all()
    assert list(f.n_obs) == [need - 1, need, 12]
    assert list(f.df) == [need - 1 - max(n_params, 1), need - max(n_params, 1), 12 - max(n_params, 1)]
    f = fit(need + 1)
    assert list(f.problem) == [f"too few estimation observations: {need - 1} < {need + 1}",
                               f"too few estimation observations: {need} < {need + 1}", ""]


@pytest.mark.parametrize("fitter", ["moments", "batched"])
def test_flat_and_collinear_regressors_and_zero_variance(fitter):
    y, X = ols_panel(P=4, L=20, k=2)
    X[0, :, 1] = 0.002                       # flat factor
    X[1, :, 1] = 3 * X[1, :, 0]              # collinear factors
    y[2] = 0.01 + X[2] @ np.array([1.0, 2.0])  # perfect fit: zero residual variance
    usable = np.ones(y.shape, dtype=bool)
    if fitter == "moments":
        f = fit_from_moments("factors", **moments(y, X, usable), min_obs=5)
    else:
        f = fit_normal_returns("factors", y, X, usable, 5)
    assert list(f.problem) == [
        "a factor is constant over the estimation window",
        "factors are collinear over the estimation window",
        "zero residual variance in the estimation window (asset equals its benchmark?)",
        "",
    ]
    assert np.isnan(f.alpha[:2]).all() and np.isnan(f.sigma2[:2]).all()
    a, b, s2, _ = by_statsmodels("factors", y[3], X[3])
    assert f.alpha[3] == pytest.approx(a, abs=1e-10) and f.sigma2[3] == pytest.approx(s2, rel=1e-8)
    # one regressor: the flat-benchmark wording of the market model
    y1, X1 = ols_panel(P=2, L=20, k=1)
    X1[0] = 0.001
    usable = np.ones(y1.shape, dtype=bool)
    if fitter == "moments":
        f = fit_from_moments("market", **moments(y1, X1, usable), min_obs=5)
    else:
        f = fit_normal_returns("market", y1, X1, usable, 5)
    assert list(f.problem) == ["benchmark returns constant over the estimation window", ""]


def test_model_errors_are_exact_one_liners():
    y, X = ols_panel(P=1, k=1)
    u = np.ones(y.shape, dtype=bool)
    choose = "market, constant_mean, market_adjusted, raw, ff3, factors, garch"
    with pytest.raises(ImpactError, match=re.escape(f"unknown model 'capm' (choose from {choose})")):
        fit_normal_returns("capm", y, X, u, 5)
    with pytest.raises(ImpactError, match=re.escape(
            "the garch model is fitted with fit_garch (it needs the event-day horizons)")):
        fit_normal_returns("garch", y, X, u, 5)
    for bad in ("garch", "capm"):
        with pytest.raises(ImpactError, match=re.escape(f"fit_from_moments cannot fit model {bad!r}")):
            fit_from_moments(bad, **moments(y, X, u), min_obs=5)
    with pytest.raises(ImpactError, match=re.escape(f"unknown model 'capm' (choose from {choose})")):
        check_model_mix({"market", "capm", "zzz"})
    with pytest.raises(ImpactError, match=re.escape(
            "model 'garch' cannot be mixed with other models in one study; fit it in a study of its own")):
        check_model_mix({"garch", "raw"})
    with pytest.raises(ImpactError, match=re.escape(
            "models factors, market need different regressors and cannot share a study; "
            "mix one of them with constant_mean or raw, or run two studies")):
        check_model_mix({"market", "factors", "raw"})
    with pytest.raises(ImpactError, match=re.escape("models factors, ff3")):
        check_model_mix({"ff3", "factors"})
    for ok in ({"garch"}, {"market"}, {"market", "market_adjusted", "raw"}, {"ff3", "constant_mean"}, set()):
        check_model_mix(ok)


def test_n_parameters():
    assert [n_parameters(m, 3) for m in ("market", "ff3", "factors", "garch", "constant_mean",
                                         "market_adjusted", "raw")] == [4, 4, 4, 4, 1, 0, 0]


def test_fit_by_model_scatters_mixed_fits_back_in_pair_order():
    y, X = ols_panel(P=5, L=25, k=1)
    u = np.ones(y.shape, dtype=bool)
    kinds = np.array(["market", "raw", "market", "constant_mean", "raw"], dtype=object)

    def one(m, i):
        return fit_normal_returns(m, y[i], X[i], u[i], 5, ("mkt",))

    fit = fit_by_model(kinds, one)
    assert fit.model == "mixed" and fit.names == ("mkt",)
    assert list(fit.pair_model) == list(kinds) and list(fit.models) == list(kinds)
    assert list(fit.mean_estimated) == [True, False, True, True, False]
    assert fit.mean_estimated.dtype == bool and fit.n_obs.dtype.kind == "i" and fit.df.dtype.kind == "i"
    assert list(fit.df) == [23, 24, 23, 24, 24] and list(fit.n_obs) == [25] * 5
    for p, m in enumerate(kinds):
        a, b, s2, _ = by_statsmodels(m, y[p], X[p])
        assert fit.alpha[p] == pytest.approx(a, abs=1e-12)
        assert fit.beta[p, 0] == pytest.approx(b[0], abs=1e-9)
        assert fit.sigma2[p] == pytest.approx(s2, rel=1e-9)
    # pairs without estimated slopes: zero cross-products, so Var(CAR) adds nothing for them
    assert (fit.xtx_inv[[1, 3, 4]] == 0).all()
    np.testing.assert_allclose(fit.xbar[:, 0], X[:, :, 0].mean(axis=1), rtol=1e-12)
    xc = X[0, :, 0] - X[0, :, 0].mean()
    assert fit.xtx_inv[0, 0, 0] == pytest.approx(1 / (xc @ xc), rel=1e-9)
    assert list(fit.problem) == [""] * 5
    single = fit_by_model(np.array(["raw", "raw"], dtype=object), lambda m, i: fit_normal_returns(
        m, y[:2][i], X[:2][i], u[:2][i], 5))
    assert single.model == "raw" and list(single.pair_model) == ["raw", "raw"]
    assert fit_by_model("raw", lambda m, i: fit_normal_returns(m, y, X, u, 5)).pair_model is None
    plain = fit_normal_returns("market", y, X, u, 5)
    assert list(plain.models) == ["market"] * 5


def test_concat_fits_and_take():
    y, X = ols_panel(P=4, L=25, k=1)
    u = np.ones(y.shape, dtype=bool)
    whole = fit_normal_returns("market", y, X, u, 5)
    parts = [fit_normal_returns("market", y[:1], X[:1], u[:1], 5), fit_normal_returns("market", y[1:], X[1:], u[1:], 5)]
    joined = concat_fits(parts)
    assert concat_fits(parts[:1]) is parts[0]
    for name in ("alpha", "beta", "sigma2", "n_obs", "df", "xbar", "xtx_inv"):
        np.testing.assert_allclose(getattr(joined, name), getattr(whole, name), rtol=1e-12)
    sub = whole.take(np.array([False, True, False, True]))
    np.testing.assert_array_equal(sub.alpha, whole.alpha[[1, 3]])
    assert isinstance(sub, NormalFit) and sub.model == "market"


def test_car_variance_by_hand():
    y, X = ols_panel(P=2, L=25, k=1)
    u = np.ones(y.shape, dtype=bool)
    fit = fit_normal_returns("market", y, X, u, 5)
    Xev = np.random.default_rng(1).normal(0, 0.01, (2, 4, 1))
    win = np.array([False, True, True, True])
    got = fit.car_variance(Xev, win)
    for p in range(2):
        xe = X[p, :, 0]
        s = (Xev[p, 1:, 0] - xe.mean()).sum()
        want = fit.sigma2[p] * (3 + 9 / 25 + s**2 / ((xe - xe.mean()) ** 2).sum())
        assert got[p] == pytest.approx(want, rel=1e-12)
    adj = fit_normal_returns("market_adjusted", y, X, u, 5)
    np.testing.assert_allclose(adj.car_variance(Xev, win), adj.sigma2 * 3, rtol=1e-12)
    assert models.MIXABLE_FREE == ("constant_mean", "raw")
