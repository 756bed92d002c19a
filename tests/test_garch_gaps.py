"""GARCH(1,1) across rows left out of estimation (impact/study/garch.py, docs/methods.md
"GARCH across excluded rows"): the rows neither enter the likelihood nor feed a shock to
the variance, which steps over them with its expectation h_{t+1} = omega + (a + b) h_t.

Checked against a log-likelihood and a variance recursion written here with numpy loops
(independent of the package), on SYNTHETIC GARCH returns (seeded, labelled) and on the
real bundled soybean and S&P 500 prices.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from impact import EventStudy, datasets
from impact.data.prices import price_series
from impact.study.garch import GappedGARCH, fit_gapped, variance_forecasts
from impact.study.models import fit_garch


def synthetic(seed=11, L=400, scale=0.01):
    """SYNTHETIC market-model returns with GARCH(1,1) errors (omega, a, b) = (0.05, 0.1, 0.85) x scale^2."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, scale, L)
    h, e = np.full(L, scale**2), np.zeros(L)
    for t in range(1, L):
        h[t] = 0.05 * scale**2 + 0.1 * e[t - 1] ** 2 + 0.85 * h[t - 1]
        e[t] = np.sqrt(h[t]) * rng.normal()
    return 3e-4 + 0.8 * x + e, x


def hand_loglik(theta, y, x, obs):
    """Gaussian GARCH(1,1) log-likelihood of the observed rows, written independently: arch's
    backcast (0.94-weighted mean of the first 75 squared OLS residuals of the observed rows,
    fixed), an unobserved row adds nothing and passes h on with its own expectation."""
    c, b, omega, a, bb = theta
    X = np.column_stack([np.ones(obs.sum()), x[obs]])
    ols = np.linalg.lstsq(X, y[obs], rcond=None)[0]
    r0 = y[obs] - X @ ols
    w = 0.94 ** np.arange(min(75, len(r0)))
    backcast = (w / w.sum()) @ r0[: len(w)] ** 2
    e = y - c - b * x
    ll, h = 0.0, np.nan
    for t in range(len(y)):
        if t == 0:
            h = omega + (a + bb) * backcast
        else:
            shock = e[t - 1] ** 2 if obs[t - 1] else h
            h = omega + a * shock + bb * h
        if obs[t]:
            ll += -0.5 * (np.log(2 * np.pi) + np.log(h) + e[t] ** 2 / h)
    return ll, h, e


def test_the_likelihood_is_the_hand_written_one_and_is_maximised():
    y, x = synthetic()
    y, x = 100 * y, 100 * x
    obs = np.ones(len(y), dtype=bool)
    obs[[40, 41, 42, 200, 201, 399]] = False  # a three-day hole, a two-day one and the last row
    res = fit_gapped(y, x[:, None], obs)
    assert res.convergence_flag == 0
    theta = res.params.to_numpy()
    ll, h_last, e = hand_loglik(theta, y, x, obs)
    assert res.loglikelihood == pytest.approx(ll, rel=1e-12)
    np.testing.assert_allclose(res.conditional_volatility[-1] ** 2, h_last, rtol=1e-12)
    # no parameter vector near the optimum does better on the hand likelihood
    better = optimize.minimize(lambda th: -hand_loglik(th, y, x, obs)[0], theta, method="Nelder-Mead",
                               options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
    assert -better.fun <= ll + 1e-4
    np.testing.assert_allclose(better.x, theta, rtol=2e-3, atol=1e-4)
    # forecasts: the last row is unobserved, so its expected shock h_T feeds h_{T+1}
    omega, a, b = theta[2:]
    fc = variance_forecasts(theta[2:], float(e[-1]), h_last, False, 3)
    want1 = omega + (a + b) * h_last
    np.testing.assert_allclose(fc, [want1, omega + (a + b) * want1, omega + (a + b) * (omega + (a + b) * want1)],
                               rtol=1e-14)
    fc_obs = variance_forecasts(theta[2:], 2.0, h_last, True, 1)
    assert fc_obs[0] == pytest.approx(omega + a * 4.0 + b * h_last, rel=1e-14)


def test_a_masked_outlier_changes_nothing_and_an_unmasked_one_does():
    y, x = synthetic()
    X = x[None, :, None]
    usable = np.ones((1, len(y)), dtype=bool)
    usable[0, 150] = False
    horizons = np.array([1, 2, 5])
    calm = fit_garch(y[None], X, usable, 10, horizons)
    shocked = y.copy()
    shocked[150] = 0.5  # a +50% day, the kind of move an excluded event or roll day carries
    masked = fit_garch(shocked[None], X, usable, 10, horizons)
    for field in ("alpha", "beta", "sigma2", "event_var", "param_cov", "garch"):
        np.testing.assert_array_equal(getattr(masked, field), getattr(calm, field), err_msg=field)
    assert list(masked.n_obs) == [399] and list(masked.df) == [397] and masked.problem[0] == ""
    # left in, the outlier dominates the variance parameters
    kept = fit_garch(shocked[None], X, np.ones_like(usable), 10, horizons)
    assert abs(kept.garch[0, 0] - calm.garch[0, 0]) > 0.5 * calm.garch[0, 0]
    # the old rule (rows pushed together, recursion straight across the hole) is a different fit
    pushed = fit_garch(y[None, usable[0]], X[:, usable[0]], np.ones((1, 399), dtype=bool), 10, horizons)
    assert abs(pushed.garch[0, 2] - calm.garch[0, 2]) > 1e-6
    # and the gap fit is the hand likelihood's maximum (parameters to optimiser tolerance)
    theta = np.r_[100 * calm.alpha[0], calm.beta[0, 0], calm.garch[0, 0] * 1e4, calm.garch[0, 1:]]
    better = optimize.minimize(lambda th: -hand_loglik(th, 100 * y, 100 * x, usable[0])[0], theta,
                               method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
    assert -better.fun <= hand_loglik(theta, 100 * y, 100 * x, usable[0])[0] + 1e-4


def test_event_day_variances_are_forecasts_from_the_windows_last_row():
    """Trailing rows excluded (e.g. another event's window just before this one): the horizon
    still counts from the estimation window's last row, across the excluded rows."""
    y, x = synthetic(seed=4, L=300)
    usable = np.ones((1, 300), dtype=bool)
    usable[0, -3:] = False
    fit = fit_garch(y[None], x[None, :, None], usable, 10, np.array([1, 4]))
    omega, a, b = fit.garch[0]
    e = y - fit.alpha[0] - fit.beta[0, 0] * x
    # the fitted recursion by hand (100-scale as arch runs it), then three unobserved rows
    res = fit_gapped(100 * y, 100 * x[:, None], usable[0])
    h = res.conditional_volatility[-1] ** 2 / 1e4
    h_before = res.conditional_volatility[-4] ** 2 / 1e4
    step = omega + a * e[-4] ** 2 + b * h_before  # the last observed shock
    assert res.conditional_volatility[-3] ** 2 / 1e4 == pytest.approx(step, rel=1e-9)
    h_pred = [omega + (a + b) * h]
    for _ in range(3):
        h_pred.append(omega + (a + b) * h_pred[-1])
    np.testing.assert_allclose(fit.event_var[0], [h_pred[0], h_pred[3]], rtol=1e-9)


def test_bounds_and_starting_values_come_from_the_observed_rows():
    y, x = synthetic(seed=2, L=120)
    obs = np.ones(120, dtype=bool)
    obs[[10, 11, 60]] = False
    resid = y - y.mean()
    resid[obs == 0] = 5.0  # whatever an unobserved row holds is ignored
    vol = GappedGARCH(obs)
    from arch.univariate import GARCH
    plain = GARCH()
    np.testing.assert_array_equal(vol.starting_values(resid), plain.starting_values(resid[obs]))
    assert vol.backcast(resid) == plain.backcast(resid[obs])
    assert vol.bounds(resid) == plain.bounds(resid[obs])
    inner = plain.variance_bounds(resid[obs])
    got = vol.variance_bounds(resid)
    assert got.shape == (120, 2)
    np.testing.assert_array_equal(got[obs], inner)
    np.testing.assert_array_equal(got[[10, 11, 60]], inner[[9, 9, 57]])  # the last observed row's bounds


def test_variance_guard_is_archs():
    vol = GappedGARCH(np.ones(3, dtype=bool))
    sigma2 = np.zeros(3)
    bounds = np.array([[1.0, 2.0]] * 3)
    vol.compute_variance(np.array([0.1, 0.1, 0.1]), np.array([0.0, 0.0, 0.0]), sigma2, 0.5, bounds)
    assert sigma2[0] == 1.0  # 0.1 + 0.05 + 0.05 floored at the lower bound
    vol.compute_variance(np.array([3.0, 0.1, 0.1]), np.array([0.0, 0.0, 0.0]), sigma2, 0.5, bounds)
    assert sigma2[0] == pytest.approx(2.0 + np.log(3.1 / 2.0), rel=1e-15)  # damped above the upper one


@pytest.fixture(scope="module")
def soybeans():
    prices = datasets.load_prices(["ZS_F", "GSPC"])
    return prices


def test_study_with_an_excluded_day_on_real_prices(soybeans):
    """Real ZS_F against the S&P 500, one estimation day excluded: the study's fit equals
    fit_garch on the returns gathered by hand with that row unusable, and the excluded day's
    return does not matter."""
    events = pd.DataFrame({"event_id": ["e"], "asset": ["ZS_F"], "date": ["2018-04-04"]})
    closes = price_series(soybeans[soybeans["symbol"] == "ZS_F"])["ZS_F"]
    r = np.log(closes).diff()
    gspc = price_series(soybeans[soybeans["symbol"] == "GSPC"])["GSPC"]
    p0 = r.index.searchsorted(pd.Timestamp("2018-04-04"))
    day = r.index[p0 - 100]
    excl = pd.DataFrame({"asset": ["ZS_F"], "date": [day], "reason": ["SYNTHETIC exclusion for the test"]})
    res = EventStudy(soybeans, events, market="GSPC", model="garch", contamination="ignore", roll_days=None,
                     estimation_exclusions=excl).fit()
    assert res.excluded.empty and int(res.params["n_masked"].iloc[0]) == 1
    m = np.log(gspc.reindex(gspc.index.union(r.index)).ffill().reindex(r.index)).diff()
    y = r.iloc[p0 - 260: p0 - 10].to_numpy()
    x = m.iloc[p0 - 260: p0 - 10].to_numpy()
    usable = np.isfinite(y) & np.isfinite(x)
    usable[r.index[p0 - 260: p0 - 10] == day] = False
    want = fit_garch(y[None], x[None, :, None], usable[None], 30, np.arange(6, 17))
    assert res.params["alpha"].iloc[0] == pytest.approx(want.alpha[0], abs=1e-12)
    assert res.params["beta"].iloc[0] == pytest.approx(want.beta[0, 0], abs=1e-12)
    np.testing.assert_allclose(res.fit.event_var[0], want.event_var[0], rtol=1e-12)
    y_out = y.copy()
    y_out[~usable & np.isfinite(y)] = 0.3
    again = fit_garch(y_out[None], x[None, :, None], usable[None], 30, np.arange(6, 17))
    np.testing.assert_array_equal(again.garch, want.garch)
