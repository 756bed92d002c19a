"""Normal-return models, fitted for all (event, asset) pairs in one batched pass.

Each pair has an estimation window of L rows (a mask marks usable rows). With
y the asset's returns and X the k regressors on those rows:

* ``market`` — market model, R_t = alpha + beta R_mt + e_t, OLS
  (Campbell, Lo & MacKinlay 1997, sec. 4.4.1; MacKinlay 1997).
* ``ff3`` — Fama & French (1993) three-factor model on excess returns,
  R_t - rf_t = alpha + b1 MKT-RF_t + b2 SMB_t + b3 HML_t + e_t, OLS; the bundled
  daily factors (:func:`impact.factors.ff3_factors`).
* ``factors`` — the same regression on any user factor columns (excess returns
  when the factors include an ``rf`` column), e.g. a commodity index next to the
  market (CLM 1997, sec. 4.3.2 "multifactor models").
* ``constant_mean`` — R_t = mu + e_t (CLM 1997, sec. 4.3.1).
* ``market_adjusted`` — AR_t = R_t - R_mt, no parameters (Brown & Warner 1980, 1985).
* ``raw`` — AR_t = R_t, for studies that report event-day returns themselves.
* ``garch`` — market model with GARCH(1,1) errors, R_t = alpha + beta R_mt + e_t,
  e_t ~ N(0, h_t), h_t = omega + a e_{t-1}^2 + b h_{t-1}, fitted by maximum
  likelihood with the ``arch`` package (Bollerslev 1986; for event studies, e.g.
  Corhay & Tourani Rad 1996). Optional extra ``impact[garch]``.

OLS is solved in closed form on centred data for every pair at once (no loop over
pairs); results equal statsmodels OLS pair by pair. sigma^2 = SSR / (n - p) with p
the number of estimated parameters (n - 1 for the parameter-free models, where
the residual variance is the sample variance of the estimation-window ARs).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, fields, replace

import numpy as np

from ..errors import ImpactError
from ..textruns import empty_texts
from .windows import centred_day_sums

MODELS = ("market", "constant_mean", "market_adjusted", "raw", "ff3", "factors", "garch")
#: Models whose regressors include the benchmark return.
NEEDS_BENCHMARK = ("market", "market_adjusted", "garch")
#: Models whose regressors are factor columns (``factors=``).
FACTOR_MODELS = ("ff3", "factors")
#: Models fitted by closed-form OLS on their regressors.
OLS_MODELS = ("market", "ff3", "factors")


@dataclass
class NormalFit:
    """Fitted normal-return parameters for P pairs (arrays of length P)."""

    model: str
    alpha: np.ndarray          # (P,)
    beta: np.ndarray           # (P, k); fixed slopes for parameter-free models
    sigma2: np.ndarray         # (P,) residual variance
    n_obs: np.ndarray          # (P,) usable estimation rows
    df: np.ndarray             # (P,) residual degrees of freedom
    xbar: np.ndarray           # (P, k) regressor means over the estimation rows
    xtx_inv: np.ndarray | None # (P, k, k) inverse centred cross-products (estimated slopes)
    mean_estimated: bool | np.ndarray  # whether the intercept/mean is estimated ((P,) bool when models mix)
    problem: np.ndarray        # (P,) object: "" or the reason the fit is unusable
    names: tuple = ()          # regressor names (k)
    event_var: np.ndarray | None = None  # (P, W) forecast error variance per event day (garch)
    param_cov: np.ndarray | None = None  # (P, 1+k, 1+k) covariance of (alpha, beta) (garch)
    pair_model: np.ndarray | None = None  # (P,) model of each pair when a study mixes models
    garch: np.ndarray | None = None  # (P, 3) omega, a, b of the GARCH(1,1) variance (garch)
    unusable: np.ndarray | None = None  # (P,) bool: problem != "" (None: read from problem)

    @property
    def failed(self) -> np.ndarray:
        """(P,) True where the fit is unusable (``problem`` holds why); the fits note it as a
        mask, so a million pairs' texts are not compared."""
        return self.unusable if self.unusable is not None else self.problem != ""

    @property
    def models(self) -> np.ndarray:
        """The normal-return model of every pair, (P,) object array."""
        if self.pair_model is not None:
            return self.pair_model
        return np.full(len(self.alpha), self.model, dtype=object)

    def expected(self, X: np.ndarray) -> np.ndarray:
        """Normal returns for regressors X of shape (P, W, k)."""
        # no mutate below: upper-case einsum labels give the same sum
        return self.alpha[:, None] + np.einsum("pwk,pk->pw", X, self.beta)  # pragma: no mutate

    def take(self, keep: np.ndarray | slice) -> NormalFit:
        """The fit for a subset of pairs (boolean mask, integer index, or a slice: views)."""
        return replace(self, **{f.name: getattr(self, f.name)[keep] for f in fields(self)
                                if isinstance(getattr(self, f.name), np.ndarray)})

    def car_variance(self, X: np.ndarray, window: np.ndarray) -> np.ndarray:
        """Var(CAR) over the rows of ``window`` (bool, (W,)) including estimation error.

        OLS models: Var(CAR) = sigma^2 [ L2 + L2^2/n + s' (X_c'X_c)^{-1} s ],
        s = sum_{t in window}(x_t - xbar) (CLM 1997 eq. 4.4.14 written for centred
        regressors); the last two terms are dropped when the mean or slopes are not
        estimated. GARCH: sum_{t in window} h_t (the conditional variance forecasts)
        + g' V g with g = sum_{t in window} (1, x_t) and V the ML covariance of
        (alpha, beta) — the same two parts, with a time-varying variance.
        """
        if self.event_var is not None and self.param_cov is not None:
            g = np.concatenate([np.full((len(self.alpha), 1), float(window.sum())),
                                X[:, window, :].sum(axis=1)], axis=1)
            return self.event_var[:, window].sum(axis=1) + np.einsum("pk,pkj,pj->p", g, self.param_cov, g)
        length = float(window.sum())
        factor = np.full(len(self.alpha), length)
        factor = factor + np.where(self.mean_estimated, length**2 / self.n_obs, 0.0)
        if self.xtx_inv is not None:
            s = centred_day_sums(X, self.xbar, np.flatnonzero(window))  # sum over the window of (x_t - xbar)
            # no mutate below: upper-case einsum labels give the same sum
            factor = factor + np.einsum("pk,pkj,pj->p", s, self.xtx_inv, s)  # pragma: no mutate
        return self.sigma2 * factor


def solve_slopes(model: str, xtx: np.ndarray, xty: np.ndarray, scale: np.ndarray, flat: np.ndarray,
                 few: np.ndarray, problem: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slopes from centred cross-products for every pair; records unidentified pairs in ``problem``
    and returns them too (with the ``few`` ones): (X'X)^-1, slopes, unidentified.

    ``flat``: a regressor without variation; collinear factors are caught by the smallest
    eigenvalue of their correlation matrix being ~0. Unidentified pairs get an identity
    system (their results are discarded) so one bad pair cannot break the batch.
    """
    k = xtx.shape[1]
    problem[flat] = ("benchmark returns constant over the estimation window" if model == "market"
                     else "a factor is constant over the estimation window")
    singular = flat | few
    if k > 1:
        d = 1.0 / np.sqrt(np.where(scale > 0, scale, 1.0))
        corr = np.where(singular[:, None, None], np.eye(k), xtx * d[:, :, None] * d[:, None, :])
        collinear = (np.linalg.eigvalsh(corr)[:, 0] < 1e-10) & ~singular
        problem[collinear] = "factors are collinear over the estimation window"
        singular = singular | collinear
    system = np.where(singular[:, None, None], np.eye(k), xtx)
    # One regressor: the inverse is the reciprocal (what LAPACK's solve gives, bit for bit; ~40x faster).
    xtx_inv = 1.0 / system if k == 1 else np.linalg.inv(system)
    slopes = np.einsum("pkj,pj->pk", xtx_inv, xty)  # pragma: no mutate (upper-case einsum labels give the same sum)
    return xtx_inv, slopes, singular


def n_parameters(model: str, k: int) -> int:
    """Parameters estimated in the normal-return model (intercept and slopes)."""
    if model in OLS_MODELS or model == "garch":
        return 1 + k
    return {"constant_mean": 1, "market_adjusted": 0, "raw": 0}[model]


def fit_normal_returns(model: str, y: np.ndarray, X: np.ndarray, usable: np.ndarray, min_obs: int,
                       names: tuple = ()) -> NormalFit:
    """Fit ``model`` on estimation rows: y (P, L), X (P, L, k), usable (P, L) bool.

    Pairs that cannot be fitted keep NaN parameters and a reason in ``problem``:
    too few usable rows, a regressor with no variation, collinear regressors, or a
    zero residual variance.
    """
    if model not in MODELS:
        raise ImpactError(f"unknown model {model!r} (choose from {', '.join(MODELS)})")
    if model == "garch":
        raise ImpactError("the garch model is fitted with fit_garch (it needs the event-day horizons)")
    P, _, k = X.shape
    Xt = np.moveaxis(X, 2, 1)  # (P, k, L): contiguous rows per regressor make the batched products fast
    all_usable = bool(usable.all())
    n = np.full(P, float(y.shape[1])) if all_usable else np.count_nonzero(usable, axis=1).astype(float)
    problem = empty_texts(P)
    n_params = n_parameters(model, k)
    need = max(min_obs, n_params + 2)
    few = n < need
    problem[few] = [f"too few estimation observations: {int(v)} < {need}" for v in n[few]]
    n_safe = np.where(n > 0, n, 1.0)
    # Unusable rows (missing, masked, outside the series) are zeroed so sums skip them.
    y0 = y if all_usable else np.where(usable, y, 0.0)
    X0 = Xt if all_usable else np.where(usable[:, None, :], Xt, 0.0)
    ybar = y0.sum(axis=1) / n_safe
    xbar = X0.sum(axis=2) / n_safe[:, None]

    xtx_inv = None
    Xc = None
    bad = few  # pairs without a usable fit (the slopes' solve adds unidentified ones)
    if model in OLS_MODELS:
        # Centred regressors (zero on unusable rows): numerically the safe form of OLS.
        Xc = X0 - xbar[:, :, None]
        if not all_usable:
            Xc *= usable[:, None, :]
        xtx = Xc @ np.swapaxes(Xc, 1, 2)
        # Xc sums to zero over usable rows, so X_c'y needs no centring of y.
        xty = (Xc @ y0[:, :, None])[:, :, 0]
        # A regressor with no variation in the window cannot identify its slope.
        scale = np.einsum("pkk->pk", xtx)  # pragma: no mutate (upper-case einsum labels give the same sum)
        flat = (scale <= 1e-14 * n_safe[:, None]).any(axis=1) & ~few
        xtx_inv, beta, bad = solve_slopes(model, xtx, xty, scale, flat, few, problem)
        alpha = ybar - np.einsum("pk,pk->p", xbar, beta)
        mean_estimated = True
    elif model == "constant_mean":
        beta = np.zeros((P, k))
        alpha = ybar
        mean_estimated = True
    elif model == "market_adjusted":
        beta = np.ones((P, k))
        alpha = np.zeros(P)
        mean_estimated = False
    else:  # raw
        beta = np.zeros((P, k))
        alpha = np.zeros(P)
        mean_estimated = False

    if Xc is not None:
        resid = y0 - ybar[:, None] - (beta[:, None, :] @ Xc)[:, 0, :]
    else:
        resid = y0 - alpha[:, None] - (beta[:, None, :] @ X0)[:, 0, :]
    if not mean_estimated:  # sample variance of the estimation ARs (demeaned)
        resid = resid - (np.where(usable, resid, 0.0).sum(axis=1) / n_safe)[:, None]
    if not all_usable:
        resid *= usable
    ssr = np.einsum("pl,pl->p", resid, resid)  # pragma: no mutate (upper-case einsum labels give the same sum)
    df = n - max(n_params, 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
        sigma2 = ssr / np.where(df > 0, df, np.nan)
    alpha = alpha.astype(float)  # pragma: no mutate (astype(None) is float64)
    beta = beta.astype(float)  # pragma: no mutate (astype(None) is float64)
    for arr in (alpha, sigma2):
        arr[bad] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
    beta[bad] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
    # Relative to the returns' own scale (sum of y^2 = SSR + explained + n ybar^2, no extra
    # pass over the data), so a perfect fit is caught despite rounding.
    if Xc is not None:
        scale_y = (ssr + np.nan_to_num(np.einsum("pk,pkj,pj->p", beta, xtx, beta)) + n * ybar**2) / n_safe
    else:
        scale_y = np.einsum("pl,pl->p", y0, y0) / n_safe
    tiny = sigma2 <= 1e-20 * np.maximum(scale_y, 1e-300)
    zero_var = tiny & ~bad
    problem[zero_var] = "zero residual variance in the estimation window (asset equals its benchmark?)"
    return NormalFit(model, alpha, beta, sigma2, n.astype(int), df.astype(int), xbar, xtx_inv,
                     mean_estimated, problem, tuple(names), unusable=bad | zero_var)


def fit_garch(y: np.ndarray, X: np.ndarray, usable: np.ndarray, min_obs: int, horizons: np.ndarray,
              names: tuple = ()) -> NormalFit:
    """Market model with GARCH(1,1) normal errors, fitted pair by pair with ``arch``.

    ``horizons`` (W,) are the event days' distances from the last estimation row
    (rel_day - end of the estimation window, all >= 1): the event-day variances are
    the model's h-step conditional variance forecasts from the estimation window's
    end, so event-window returns never feed the variance. Returns are scaled by 100
    for the optimiser and the estimates scaled back. sigma2 is the residual variance
    SSR / (n - 1 - k) of the mean equation, for tests that need one number per pair.
    Rows without a usable return between the first usable row and the window's end
    neither enter the likelihood nor feed a shock to the variance recursion, which
    steps over them with its expected value (:mod:`impact.study.garch`).
    Maximum likelihood cannot be batched in closed form, so this is the one model
    fitted in a loop; pairs that fail to converge are recorded as exclusions.
    """
    try:
        from arch import arch_model
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImpactError("model 'garch' needs the optional 'arch' package: pip install 'impact[garch]'") from None
    # deferred for start-up time (docs/architecture.md): arch loads only when a GARCH is fitted
    garch_module = importlib.import_module(".garch", __package__)
    P, _, k = X.shape
    W = len(horizons)
    alpha = np.full(P, np.nan)
    beta = np.full((P, k), np.nan)
    sigma2 = np.full(P, np.nan)
    event_var = np.full((P, W), np.nan)
    param_cov = np.full((P, 1 + k, 1 + k), np.nan)
    garch = np.full((P, 3), np.nan)
    n = usable.sum(axis=1)
    problem = empty_texts(P)
    need = max(min_obs, 1 + k + 3 + 2)
    hmax = int(np.max(horizons))
    # The fit is on 100*y = c + b (100*x): alpha = c/100, beta = b, so Var(alpha) = Var(c)/1e4,
    # Cov(alpha, beta) = Cov(c, b)/100 and Var(beta) = Var(b).
    scale = np.array([100.0, *([1.0] * k)])
    for p in range(P):
        if n[p] < need:
            problem[p] = f"too few estimation observations: {int(n[p])} < {need}"
            continue
        yp, xp = y[p, usable[p]], X[p, usable[p], :]
        if (xp.std(axis=0) <= 1e-12).any():
            problem[p] = "benchmark returns constant over the estimation window"
            continue
        # The recursion runs from the first usable row to the window's last row.
        observed = usable[p, int(np.argmax(usable[p])):]
        try:
            if observed.all():
                # no mutate below: arch: names case-insensitive, GARCH(1,1) its default
                res = arch_model(100 * yp, x=100 * xp, mean="LS", vol="GARCH", p=1, q=1,  # pragma: no mutate
                                 # no mutate below: arch: normal its default dist, disp=None quiet
                                 dist="normal", rescale=False).fit(disp="off")  # pragma: no mutate
            else:
                span = slice(len(usable[p]) - len(observed), None)
                res = garch_module.fit_gapped(100 * y[p, span], 100 * X[p, span, :], observed)
        except (ValueError, np.linalg.LinAlgError) as exc:
            problem[p] = f"GARCH estimation failed: {exc}"
            continue
        if res.convergence_flag != 0:
            problem[p] = "GARCH estimation did not converge"
            continue
        theta = res.params.to_numpy()
        alpha[p] = theta[0] / 100.0
        beta[p] = theta[1:1 + k]
        cov = res.param_cov.to_numpy()[: 1 + k, : 1 + k]
        param_cov[p] = cov / np.outer(scale, scale)
        fc = garch_module.variance_forecasts(theta[1 + k:], float(np.asarray(res.resid)[-1]),
                                float(np.asarray(res.conditional_volatility)[-1]) ** 2, bool(observed[-1]), hmax)
        event_var[p] = fc[np.asarray(horizons) - 1] / 1e4
        garch[p] = theta[1 + k:] / np.array([1e4, 1.0, 1.0])  # omega back on the returns' scale
        resid = yp - alpha[p] - xp @ beta[p]
        sigma2[p] = (resid**2).sum() / (n[p] - 1 - k)
    return NormalFit("garch", alpha, beta, sigma2, n.astype(int), (n - 1 - k).astype(int),
                     np.zeros((P, k)), None, True, problem, tuple(names), event_var, param_cov, garch=garch)


#: Models that can share one study: regressors (benchmark or factors) plus models that ignore them.
MIXABLE_FREE = ("constant_mean", "raw")


def check_model_mix(models: set[str]) -> None:
    """Models in one study share one design matrix: at most one regression family
    (benchmark: market, market_adjusted; or one factor model), plus the models that
    ignore their regressors (constant_mean, raw). garch is fitted on its own."""
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ImpactError(f"unknown model {unknown[0]!r} (choose from {', '.join(MODELS)})")
    if len(models) < 2:
        return
    if "garch" in models:
        raise ImpactError("model 'garch' cannot be mixed with other models in one study; fit it in a study of its own")
    regress = set(models) - set(MIXABLE_FREE)
    # no mutate below: labels: only their count is used
    families = {"factors" if m in FACTOR_MODELS else "benchmark" for m in regress}  # pragma: no mutate
    if len(families) > 1 or len(regress & set(FACTOR_MODELS)) > 1:
        raise ImpactError(f"models {', '.join(sorted(regress))} need different regressors and cannot share a study; "
                          "mix one of them with constant_mean or raw, or run two studies")


def fit_by_model(models: str | np.ndarray, fit_one) -> NormalFit:
    """Fit every pair with its own model: ``fit_one(model, index)`` fits the pairs at
    ``index``. One model: its fit unchanged. Several: the fits are scattered back into
    pair order, with per-pair ``mean_estimated`` and ``pair_model``, and zero slope
    cross-products for pairs without estimated slopes (so Var(CAR) adds nothing for them)."""
    if isinstance(models, str):
        return fit_one(models, slice(None))
    models = np.asarray(models, dtype=object)
    kinds = list(dict.fromkeys(models.tolist()))
    if len(kinds) == 1:
        return replace(fit_one(kinds[0], slice(None)), pair_model=models.copy())
    parts = [(np.flatnonzero(models == m), fit_one(m, np.flatnonzero(models == m))) for m in kinds]
    P = len(models)
    ref = next((f for _, f in parts if f.xtx_inv is not None), parts[0][1])
    k = ref.beta.shape[1]

    def scatter(name, shape, fill, dtype=float):
        out = np.full((P, *shape), fill, dtype=dtype)
        for idx, f in parts:
            value = getattr(f, name)
            if name == "mean_estimated":
                value = np.broadcast_to(value, len(idx))
            if value is not None:
                out[idx] = value
        return out

    return NormalFit(
        model="mixed", names=ref.names, pair_model=models.copy(),
        # no mutate below: fill values are always overwritten (the parts cover every pair; these fields are never None)
        alpha=scatter("alpha", (), np.nan), beta=scatter("beta", (k,), np.nan),  # pragma: no mutate
        sigma2=scatter("sigma2", (), np.nan), n_obs=scatter("n_obs", (), 0, int),  # pragma: no mutate
        df=scatter("df", (), 0, int), mean_estimated=scatter("mean_estimated", (), False, bool),  # pragma: no mutate
        problem=scatter("problem", (), "", object),
        unusable=scatter("unusable", (), False, bool) if all(f.unusable is not None for _, f in parts) else None,
        xbar=scatter("xbar", (k,), 0.0), xtx_inv=scatter("xtx_inv", (k, k), 0.0))


def concat_fits(parts: list[NormalFit]) -> NormalFit:
    """Stack fits of consecutive chunks of pairs. Chunks of a study that mixes models may
    hold one model or several: per-pair models, ``mean_estimated`` and (zero) slope
    cross-products are then spread over every pair, as :func:`fit_by_model` does."""
    first = parts[0]
    if len(parts) == 1:
        return first
    changes: dict = {}
    if any(p.unusable is None for p in parts):  # read from the problems where a part did not note it
        changes["unusable"] = None
    if any(p.pair_model is not None for p in parts) or len({p.model for p in parts}) > 1:
        models = np.concatenate([p.models for p in parts])
        mixed = len(set(models.tolist())) > 1
        changes["model"] = "mixed" if mixed else first.model
        changes["pair_model"] = models
        if mixed:  # as fit_by_model: per-pair mean_estimated, zero slope cross-products where none are estimated
            k = first.beta.shape[1]
            changes["mean_estimated"] = np.concatenate([np.broadcast_to(p.mean_estimated, len(p.alpha)) for p in parts])
            changes["xtx_inv"] = np.concatenate([p.xtx_inv if p.xtx_inv is not None else np.zeros((len(p.alpha), k, k))
                                                 for p in parts])
    values = {}
    for f in fields(first):
        value = getattr(first, f.name)
        if isinstance(value, np.ndarray) and f.name not in changes:
            values[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
    return replace(first, **values, **changes)  # type: ignore[arg-type]  # only the array fields, by name
