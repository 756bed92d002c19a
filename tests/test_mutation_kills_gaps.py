"""Kill tests for the code added with issue 15 (GARCH across excluded rows, R EventStudy's
rank and multi-day Patell) and for paths the fresh mutation run left open (issue 11;
benchmarks/MUTATION.md argues the survivors that remain).

* ``fit_gapped`` with every row observed *is* arch's own fit (LS and zero mean, well and
  poorly scaled): parameters, robust covariance, variances and likelihood.
* The gapped components accept a 0/1 observed mask as well as a boolean one.
* The variance recursion equals arch's on observed rows, including its guard at the
  bounds (floor, log damping, and an infinite variance).
* ``fit_garch`` trims leading unusable rows before a gapped fit; the forecast steps from
  an unobserved last row only when the last row is unobserved.
* R's rank statistic on days observed by one pair or by none; the multi-day Patell with
  the estudy2 prediction-error rows and without the correction.
* A SUR fit that raises is an excluded event with the reason; an exactly constant
  benchmark stretch is unfit in the placebo's running sums, not a LinAlgError.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such, except
where the real bundled prices are named.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.univariate import GARCH
from arch.univariate.recursions_python import bounds_check_python
from scipy import stats

import impact
from impact.inference.inputs import inputs
from impact.inference.mvrm import mvrm
from impact.inference.nonparametric import grank
from impact.inference.placebo import _placebo_ar, _placebo_ar_sums
from impact.study.garch import GappedGARCH, GappedNormal, _bounded, fit_gapped
from impact.study.models import fit_garch

CLEAN = {"contamination": "ignore", "roll_days": None}


def garch_returns(seed=21, L=500, scale=1.0):
    """SYNTHETIC market-model returns with GARCH(1,1) errors, in percent x ``scale``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.0, L)
    h, e = np.full(L, 1.0), np.zeros(L)
    for t in range(1, L):
        h[t] = 0.05 + 0.08 * e[t - 1] ** 2 + 0.9 * h[t - 1]
        e[t] = np.sqrt(h[t]) * rng.normal()
    return scale * (0.03 + 0.8 * x + e), scale * x, scale * e


FIELDS = ("params", "param_cov")


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_fit_gapped_without_gaps_is_archs_own_fit(scale):
    """scale 0.01 is poorly scaled for arch (returns as fractions): both fits keep it as it is
    (rescale=False), so the numbers still agree field by field."""
    y, x, e = garch_returns(scale=scale)
    obs = np.ones(len(y), dtype=bool)
    cases = [(fit_gapped(y, x[:, None], obs),
              arch_model(y, x=x[:, None], mean="LS", vol="GARCH", p=1, q=1, dist="normal", rescale=False)),
             (fit_gapped(e, None, obs),
              arch_model(e, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False))]
    for got, model in cases:
        want = model.fit(disp="off")
        assert got.convergence_flag == 0 == want.convergence_flag
        np.testing.assert_allclose(got.params.to_numpy(), want.params.to_numpy(), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(got.param_cov.to_numpy(), want.param_cov.to_numpy(), rtol=1e-4, atol=1e-14)
        np.testing.assert_allclose(got.conditional_volatility, want.conditional_volatility, rtol=1e-6)
        assert got.loglikelihood == pytest.approx(want.loglikelihood, rel=1e-9)
        assert got.scale == 1.0


def test_zero_mean_gapped_fit_ignores_the_unobserved_rows():
    """SYNTHETIC residuals with two holes: the zero-mean fit is the same whatever the
    unobserved rows hold, and a 0/1 mask gives the boolean mask's fit."""
    _, _, e = garch_returns(seed=5)
    obs = np.ones(len(e), dtype=bool)
    obs[[100, 101, 300]] = False
    base = fit_gapped(e, None, obs)
    noisy = e.copy()
    noisy[~obs] = [40.0, -25.0, 60.0]
    again = fit_gapped(noisy, None, obs.astype(int))
    np.testing.assert_array_equal(again.params.to_numpy(), base.params.to_numpy())
    np.testing.assert_array_equal(again.conditional_volatility, base.conditional_volatility)
    # the hole is stepped over with the expectation: h_{t+1} = omega + (a + b) h_t
    omega, a, b = base.params.to_numpy()
    h = base.conditional_volatility**2
    assert h[101] == pytest.approx(omega + (a + b) * h[100], rel=1e-12)
    assert h[102] == pytest.approx(omega + (a + b) * h[101], rel=1e-12)
    assert h[100] == pytest.approx(omega + a * e[99] ** 2 + b * h[99], rel=1e-12)


def test_gapped_components_take_a_zero_one_mask():
    _, _, e = garch_returns(seed=8, L=200)
    mask = np.ones(200, dtype=int)
    mask[[20, 21, 150]] = 0
    as_bool, as_int = GappedGARCH(mask.astype(bool)), GappedGARCH(mask)
    np.testing.assert_array_equal(as_int.variance_bounds(e), as_bool.variance_bounds(e))
    assert as_int.backcast(e) == as_bool.backcast(e)
    sigma2 = np.zeros(200)
    normal = GappedNormal(mask)
    ll = normal.loglikelihood(None, e, np.ones(200), individual=True)
    assert ll.shape == (200,) and (ll[[20, 21, 150]] == 0).all()
    np.testing.assert_allclose(ll[mask == 1], stats.norm.logpdf(e[mask == 1]), rtol=1e-12)
    assert normal.loglikelihood(None, e, np.ones(200)) == pytest.approx(ll.sum(), rel=1e-14)
    assert sigma2.sum() == 0


@pytest.mark.parametrize("params", [(0.05, 0.08, 0.9), (1e-9, 1e-9, 1e-9), (50.0, 0.5, 0.5)])
def test_the_recursion_is_archs_on_observed_rows_including_the_guard(params):
    """Every row observed: the gapped recursion equals arch's GARCH.compute_variance, also
    when the first variance falls below the lower bound or above the upper one (the bounds
    differ from row to row, so the first row's must be used)."""
    _, _, e = garch_returns(seed=3, L=120)
    vol, plain = GappedGARCH(np.ones(120, dtype=bool)), GARCH()
    bounds = plain.variance_bounds(e)
    assert bounds[0, 0] != bounds[1, 0] and bounds[0, 1] != bounds[1, 1]
    backcast = plain.backcast(e)
    got, want = np.zeros(120), np.zeros(120)
    vol.compute_variance(np.array(params), e, got, backcast, bounds)
    plain.compute_variance(np.array(params), e, want, backcast, bounds)
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("h", [0.5, 1.0, 1.5, 2.0, 3.0, 1e300, np.inf])
def test_bounded_is_archs_bounds_check(h):
    bounds = np.array([1.0, 2.0])
    assert _bounded(h, bounds) == pytest.approx(bounds_check_python(h, bounds), rel=1e-15)
    if np.isinf(h):
        assert _bounded(h, bounds) == 1002.0


def test_fit_garch_trims_leading_unusable_rows_before_a_gapped_fit():
    """Rows 0-9 unusable (a series starting late) and a hole at 200: the fit is fit_gapped
    on rows 10.. with the hole, and the event variances step from the window's last row."""
    y, x, _ = garch_returns(seed=9, L=400, scale=0.01)
    usable = np.ones((1, 400), dtype=bool)
    usable[0, :10] = False
    usable[0, 200] = False
    fit = fit_garch(y[None], x[None, :, None], usable, 10, np.array([1, 3]))
    want = fit_gapped(100 * y[10:], 100 * x[10:, None], usable[0, 10:])
    theta = want.params.to_numpy()
    assert fit.alpha[0] == pytest.approx(theta[0] / 100, rel=1e-12)
    assert fit.beta[0, 0] == pytest.approx(theta[1], rel=1e-12)
    omega, a, b = theta[2:]
    h_T = want.conditional_volatility[-1] ** 2
    h1 = omega + a * want.resid[-1] ** 2 + b * h_T     # the last row is observed: its shock counts
    h3 = omega + (a + b) * (omega + (a + b) * h1)
    np.testing.assert_allclose(fit.event_var[0], np.array([h1, h3]) / 1e4, rtol=1e-10)


def test_only_the_last_row_unobserved_feeds_its_expected_shock():
    y, x, _ = garch_returns(seed=12, L=300, scale=0.01)
    usable = np.ones((1, 300), dtype=bool)
    usable[0, -1] = False
    fit = fit_garch(y[None], x[None, :, None], usable, 10, np.array([1]))
    want = fit_gapped(100 * y, 100 * x[:, None], usable[0])
    omega, a, b = want.params.to_numpy()[2:]
    h_T = want.conditional_volatility[-1] ** 2
    assert fit.event_var[0, 0] == pytest.approx((omega + (a + b) * h_T) / 1e4, rel=1e-10)
    assert fit.event_var[0, 0] != pytest.approx((omega + a * want.resid[-1] ** 2 + b * h_T) / 1e4, rel=1e-6)


# -- R EventStudy's rank statistic on days seen by one pair or by none -----------------------

EST, EV = (-120, -11), (-3, 3)


def two_assets_with_holes():
    """SYNTHETIC: A misses estimation rows -120..-111, B rows -115..-106 (one event date):
    rows -120..-116 are seen by B alone, -115..-111 by nobody, -110..-106 by A alone."""
    dates = pd.bdate_range("2023-01-02", periods=320)
    rng = np.random.default_rng(31)
    mkt = rng.normal(0, 0.01, 320)
    f = pd.DataFrame({"A": 0.9 * mkt + rng.normal(0, 0.012, 320), "B": 1.1 * mkt + rng.normal(0, 0.015, 320),
                      "MKT": mkt}, index=pd.Index(dates, name="date"))
    p0 = 280
    f.iloc[p0 - 120:p0 - 110, 0] = np.nan
    f.iloc[p0 - 115:p0 - 105, 1] = np.nan
    events = pd.DataFrame({"event_id": ["e", "e"], "asset": ["A", "B"], "date": [dates[p0]] * 2})
    res = impact.EventStudy.from_returns(f, events, market="MKT", estimation_window=EST, event_window=EV,
                                         **CLEAN).fit()
    return res, f, p0


def hand_market_model(f, asset, p0):
    """OLS of ``asset`` on MKT over its usable estimation rows, by numpy: the estimation rows,
    their usable mask, (alpha, beta), the residuals of every estimation row and the event ARs."""
    y, x = f[asset].to_numpy(), f["MKT"].to_numpy()
    rows = np.arange(p0 + EST[0], p0 + EST[1] + 1)
    ok = np.isfinite(y[rows])
    b, a = np.polyfit(x[rows][ok], y[rows][ok], 1)
    return rows, ok, a, b, y[rows] - a - b * x[rows], y[p0 - 3:p0 + 4] - a - b * x[p0 - 3:p0 + 4]


def test_r_rank_with_days_seen_by_one_pair_or_none():
    res, f, p0 = two_assets_with_holes()
    U = []
    for asset in ("A", "B"):
        *_, resid, ar = hand_market_model(f, asset, p0)
        v = np.r_[resid, ar]
        fin = np.isfinite(v)
        u = np.full(len(v), np.nan)
        u[fin] = stats.rankdata(v[fin]) / (fin.sum() + 1) - 0.5
        U.append(u)
    U = np.array(U)
    seen = np.isfinite(U).sum(axis=0)
    assert {0, 1, 2} <= set(seen.tolist())
    day_mean = np.array([col[np.isfinite(col)].mean() if np.isfinite(col).any() else np.nan for col in U.T])
    S = np.nanstd(day_mean, ddof=1)                      # days seen by nobody carry no mean
    got = res.test("corrado_rank", convention="r_eventstudy")
    np.testing.assert_allclose(got["rank_sd"], S, rtol=1e-10)
    np.testing.assert_allclose(got["statistic"], day_mean[-7:] / S, rtol=1e-10)


# -- the multi-day Patell with estudy2's prediction-error rows, and without the correction ---

@pytest.mark.parametrize("options", [dict(prediction_error=False), dict(pe_rows="benchmark")])
def test_patell_csar_prediction_error_options_by_hand(options):
    """B misses ten estimation rows; the market is complete. pe_rows="benchmark": xbar and
    Sxx over every estimation row where the market is observed (estudy2); no correction:
    the daily SAR is AR / sigma."""
    res, f, p0 = two_assets_with_holes()
    window = (-1, 2)
    days = np.arange(EV[0], EV[1] + 1)
    w = (days >= window[0]) & (days <= window[1])
    z = []
    x = f["MKT"].to_numpy()
    for asset in ("A", "B"):
        rows, ok, _, _, resid, ar = hand_market_model(f, asset, p0)
        M = ok.sum()
        s2 = (resid[ok] ** 2).sum() / (M - 2)
        xw = x[p0 - 3:p0 + 4]
        xe = x[rows] if options.get("pe_rows") == "benchmark" else x[rows][ok]
        fac = (np.ones(7) if options.get("prediction_error") is False else
               1 + 1 / M + (xw - xe.mean()) ** 2 / ((xe - xe.mean()) ** 2).sum())
        Q = (M - 2) / (M - 4)
        z.append((ar / np.sqrt(s2 * fac))[w].sum() / np.sqrt(w.sum() * Q))
    got = res.test("patell", window, multiday="csar", **options).iloc[0]
    assert got["statistic"] == pytest.approx(np.sum(z) / np.sqrt(2), rel=1e-10)
    other = res.test("patell", window, multiday="csar").iloc[0]
    assert other["statistic"] != pytest.approx(got["statistic"], rel=1e-8)


# -- MVRM: a SUR fit that raises; the placebo on an exactly constant benchmark -----------------

def test_a_sur_fit_that_raises_is_an_excluded_event(monkeypatch):
    """Real bundled prices (SPY, QQQ on the S&P 500): linearmodels raising inside the fit
    gives an excluded event with its reason, not a traceback."""
    from linearmodels.system import SUR

    prices = impact.datasets.load_prices(["GSPC", "SPY", "QQQ"])
    events = impact.load_catalog().filter(ids=["USCN-2025-22"])
    res = impact.EventStudy(prices, events, market="GSPC", assets=["SPY", "QQQ"]).fit()

    def fail(self, *args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(SUR, "fit", fail)
    out = mvrm(res, (0, 0))
    assert out.tests.empty and out.fits == {}
    assert out.excluded.to_dict("records") == [
        {"event_id": "USCN-2025-22", "asset": "",
         "reason": "SUR estimation failed (Singular matrix); are two assets identical?"}]


def test_placebo_running_sums_on_an_exactly_constant_benchmark():
    """SYNTHETIC: the market return is exactly 0 on rows 20-89 (a stale index): its centred
    sum of squares is exactly 0 there, the pseudo pairs are unfit (NaN) on both placebo
    paths, and the others are fitted."""
    rng = np.random.default_rng(4)
    T = 300
    m = rng.normal(0, 0.01, T)
    m[20:90] = 0.0
    f = pd.DataFrame({"MKT": m, **{f"A{i}": 0.7 * m + rng.normal(0, 0.01, T) for i in range(2)}},
                     index=pd.Index(pd.bdate_range("2019-01-01", periods=T), name="date"))
    events = pd.DataFrame({"event_id": ["e"], "date": [f.index[250]]})
    res = impact.EventStudy.from_returns(f, events, market="MKT", estimation_window=(-60, -11), event_window=(-3, 3),
                                         **CLEAN).fit()
    pos = res.rows.lo[None, :] + np.array([[90], [160]])
    for ar in (_placebo_ar(res, pos), _placebo_ar_sums(res, pos)):
        assert np.isnan(ar[0]).all() and np.isfinite(ar[1]).all()


def test_zero_mean_gapped_likelihood_counts_observed_rows_only():
    """SYNTHETIC residuals with holes: the zero-mean fit's log-likelihood is the normal
    density of the observed rows under its own variances (unobserved rows add nothing)."""
    _, _, e = garch_returns(seed=17, L=400)
    obs = np.ones(400, dtype=bool)
    obs[[50, 51, 52, 250]] = False
    res = fit_gapped(e, None, obs)
    h = np.asarray(res.conditional_volatility) ** 2
    hand = np.sum(-0.5 * (np.log(2 * np.pi) + np.log(h[obs]) + e[obs] ** 2 / h[obs]))
    assert res.loglikelihood == pytest.approx(hand, rel=1e-12)


def test_mvrm_tests_the_events_after_one_whose_sur_fit_raised(monkeypatch):
    """Real bundled prices, two events: linearmodels raises for the first only; the second
    is still tested (continue, not break)."""
    from linearmodels.system import SUR

    prices = impact.datasets.load_prices(["GSPC", "SPY", "QQQ"])
    events = impact.load_catalog().filter(ids=["USCN-2025-22", "USCN-2025-27"])
    res = impact.EventStudy(prices, events, market="GSPC", assets=["SPY", "QQQ"]).fit()
    real_fit, calls = SUR.fit, []

    def first_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("boom")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(SUR, "fit", first_fails)
    out = mvrm(res, (0, 0))
    assert list(out.excluded["event_id"]) == ["USCN-2025-22"]
    assert set(out.tests["event_id"]) == {"USCN-2025-27"} and list(out.fits) == ["USCN-2025-27"]


def test_grank_components_are_float_nan_where_fewer_than_two_pairs():
    """One pair (SYNTHETIC): GRANK's re-standardisation needs two event values, so every day is
    NaN — as floats, like the other statistics' columns."""
    f, _ = two_assets_with_holes()[1], None
    events = pd.DataFrame({"event_id": ["e"], "asset": ["A"], "date": [f.index[280]]})
    one = impact.EventStudy.from_returns(f, events, market="MKT", estimation_window=EST, event_window=EV,
                                         **CLEAN).fit()
    out = grank(inputs(one), None)
    for key in ("statistic", "mean_rank", "rank_sd"):
        assert out[key].dtype == np.float64 and np.isnan(out[key]).all(), key


# -- concat_fits: chunks of a study that mixes models ------------------------------------------

def fits_of(models, seed=2, P=12, L=80):
    """SYNTHETIC estimation rows for P pairs; the fit of ``models`` (a name or one per pair)."""
    from impact.study.models import fit_by_model, fit_normal_returns

    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.01, (P, L, 1))
    y = 0.8 * x[:, :, 0] + rng.normal(0, 0.01, (P, L))
    usable = np.ones((P, L), dtype=bool)

    def fit(part):
        m = models if isinstance(models, str) else np.asarray(models, dtype=object)[part]
        return fit_by_model(m, lambda name, i: fit_normal_returns(name, y[part][i], x[part][i], usable[part][i], 10,
                                                                  ("MKT",)))
    return fit


@pytest.mark.parametrize("models", [
    ["market"] * 4 + ["constant_mean"] * 4 + ["market"] * 4,      # chunks of one model, and mixed ones
    ["constant_mean"] * 6 + ["raw"] * 6,                           # no chunk has estimated slopes
    ["market"] * 12,                                               # a mixed study whose pairs share a model
])
@pytest.mark.parametrize("cuts", [(4, 8), (3, 6, 9), (6,)])
def test_concat_fits_of_chunks_equals_one_fit(models, cuts):
    from dataclasses import fields

    from impact.study.models import concat_fits

    fit = fits_of(models)
    whole = fit(np.arange(12))
    bounds = [0, *cuts, 12]
    stacked = concat_fits([fit(np.arange(a, b)) for a, b in zip(bounds[:-1], bounds[1:])])
    assert stacked.model == whole.model
    for f in fields(whole):
        a, b = getattr(stacked, f.name), getattr(whole, f.name)
        if isinstance(b, np.ndarray):
            np.testing.assert_array_equal(np.asarray(a), b, err_msg=f.name)
        else:
            assert a == b, f.name


def test_concat_fits_of_one_named_model_keeps_the_name_and_no_pair_models():
    from impact.study.models import concat_fits

    fit = fits_of("market")
    stacked = concat_fits([fit(np.arange(0, 5)), fit(np.arange(5, 12))])
    whole = fit(np.arange(12))
    assert stacked.model == "market" and stacked.pair_model is None and stacked.mean_estimated is True
    np.testing.assert_array_equal(stacked.xtx_inv, whole.xtx_inv)
    np.testing.assert_array_equal(stacked.alpha, whole.alpha)


# -- the placebo's draws on a client --------------------------------------------------------------

class StubClient:
    """A synchronous stand-in for dask.distributed.Client (scatter, submit, gather), counting
    the tasks; ``workers`` is what scheduler_info reports (None: no scheduler_info)."""

    def __init__(self, workers):
        self.workers, self.submitted = workers, 0
        if workers is None:
            self.scheduler_info = None

    def scheduler_info(self):
        return {"workers": {f"w{i}": {} for i in range(self.workers)}}

    def scatter(self, data, broadcast=False):
        return data

    def submit(self, func, *args, pure=True):
        self.submitted += 1
        return func(*args)

    def gather(self, futures):
        return list(futures)


class BareClient(StubClient):
    """scatter, submit and gather only: no scheduler_info at all (counted as one worker)."""

    scheduler_info = property(lambda self: (_ for _ in ()).throw(AttributeError("scheduler_info")))

    def __init__(self, workers=None):
        self.workers, self.submitted = workers, 0


@pytest.mark.parametrize("workers, blocks", [(3, 12), (1, 4), (None, 4), (0, 4), ("bare", 4)])
@pytest.mark.parametrize("statistic", ["caar", "bmp"])
def test_placebo_draws_on_a_client_equal_the_local_draws(workers, blocks, statistic):
    """SYNTHETIC study; the draws come back in blocks of about B / (4 workers), in order."""
    from impact.inference.placebo import placebo_draws, placebo_test

    res, _, _ = two_assets_with_holes()
    local = placebo_draws(res, (0, 1), statistic=statistic, n_draws=20, seed=3)
    make = (lambda: BareClient(None)) if workers == "bare" else (lambda: StubClient(workers))
    client = make()
    assert workers != "bare" or not hasattr(client, "scheduler_info")
    remote = placebo_draws(res, (0, 1), statistic=statistic, n_draws=20, seed=3, client=client)
    assert client.submitted == blocks
    for a, b in zip(remote, local):
        np.testing.assert_array_equal(a, b)
    client = make()
    table = placebo_test(res, (0, 1), statistic=statistic, n_draws=20, seed=3, client=client)
    assert client.submitted == blocks
    pd.testing.assert_frame_equal(table, placebo_test(res, (0, 1), statistic=statistic, n_draws=20, seed=3))
