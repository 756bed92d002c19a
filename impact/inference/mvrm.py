"""Joint tests for events that hit many assets on the same date: the multivariate
regression model (MVRM) of Schipper & Thompson (1983) and Binder (1985).

When one policy announcement moves N assets at once, their abnormal returns are
cross-correlated and the usual cross-sectional tests overstate precision. The MVRM
estimates the N equations jointly,

    R_it = a_i + b_i' x_it + sum_{d in event window} g_id D_dt + e_it,
    Cov(e_it, e_jt) = Sigma_ij,   i = 1..N,

as a seemingly unrelated regression (Zellner 1962; ``linearmodels.system.SUR``,
GLS with the full residual covariance), and tests with Wald statistics

* ``zero``:  the event effect is zero for every asset (N restrictions), and
* ``equal``: the event effect is the same for every asset (N - 1 restrictions),

where the event effect of asset i over ``window`` is the cumulative
g_i = sum_{d in window} g_id (``effect="cumulative"``, the default) or each g_id
separately (``effect="daily"``, N x |window| and (N - 1) x |window| restrictions).

Rows and conventions:

* Estimation rows are the calendar dates on which *every* asset of the event has a
  usable estimation-window return (the study's own estimation windows, missing and
  excluded sessions dropped), so the residual covariance is contemporaneous.
* Every day of the study's event window gets its own dummy (rows in event time:
  row d is each asset's own rel_day d), so event-window returns never feed the
  normal-return parameters; with a common calendar the g_id are exactly the
  study's abnormal returns.
* ``debiased=True`` (default): Sigma_ij = e_i'e_j / sqrt((T - K_i)(T - K_j)), the
  residual degrees of freedom of the OLS market model; ``False`` divides by T.
* The Wald statistic is chi-square with q degrees of freedom (``p_value``); the
  finite-sample F form F = W / q with (q, N (T - K)) degrees of freedom is reported
  too (``f_stat``, ``f_p_value``), as in Binder (1985).

References: Schipper, K. & Thompson, R. (1983), "The impact of merger-related
regulations on the shareholders of acquiring firms", JAR 21(1); Binder, J. J.
(1985), "Measuring the effects of regulation with stock price data", RAND Journal
of Economics 16(2); Zellner, A. (1962), JASA 57.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ImpactError
from ..study.extensions import extend

#: Normal-return models the MVRM can write as a regression.
SUPPORTED = ("market", "ff3", "factors", "constant_mean")
EFFECTS = ("cumulative", "daily")

TEST_COLUMNS = ["event_id", "window", "hypothesis", "statistic", "df", "p_value", "f_stat", "f_df_denom",
                "f_p_value", "n_assets", "n_obs"]


@dataclass
class MVRMResult:
    """``tests``: one row per (event, hypothesis); ``effects``: per (event, asset) the
    event effect over the window with its SUR standard error; ``excluded``: events
    or assets that could not be tested, with the reason; ``fits``: the
    ``linearmodels`` SUR results by event id."""

    tests: pd.DataFrame
    effects: pd.DataFrame
    excluded: pd.DataFrame
    fits: dict


def _event_system(result, rows: np.ndarray, est_off: np.ndarray, ev_off: np.ndarray):
    """Stack one event's equations: dependent (T, N), regressors (N, T, k), T_est."""
    src = result.rows
    k_model = result.study.model
    sub = replace(src, pos=src.pos[rows], lo=src.lo[rows], hi=src.hi[rows])
    est, ev = sub.gather(est_off), sub.gather(ev_off)
    usable = np.isfinite(est["y"]) & np.isfinite(est["x"]).all(axis=2) & ~est["masked"]
    # Common dates: those usable for every asset of the event.
    common = None
    for j in range(len(rows)):
        d = pd.DatetimeIndex(est["dates"][j][usable[j]])
        common = d if common is None else common.intersection(d)
    y_parts, x_parts = [], []
    for j in range(len(rows)):
        d = pd.DatetimeIndex(est["dates"][j])
        take = np.flatnonzero(usable[j] & d.isin(common))
        y_parts.append(np.concatenate([est["y"][j, take], ev["y"][j]]))
        x_parts.append(np.concatenate([est["x"][j, take, :], ev["x"][j]], axis=0))
    y = np.column_stack(y_parts)
    x = np.stack(x_parts)
    if k_model == "constant_mean":
        x = x[:, :, :0]
    return y, x, len(common) if common is not None else 0


def _singular_residuals(y: np.ndarray, x: np.ndarray, names: list[str]) -> str:
    """Why the cross-equation residual covariance that SUR's GLS step inverts is singular
    ("" when it is not): an asset fitted exactly by its regressors, or two assets whose
    estimation residuals are perfectly correlated (identical series). linearmodels
    returns NaN estimates in that case instead of raising, so it is checked here."""
    T, N = y.shape
    resid = np.empty((T, N))
    for i in range(N):
        X = np.column_stack([np.ones(T), x[i]])
        resid[:, i] = y[:, i] - X @ np.linalg.lstsq(X, y[:, i], rcond=None)[0]
    sd = np.sqrt((resid**2).sum(axis=0))
    flat = np.flatnonzero(sd <= 1e-10 * np.maximum(np.sqrt((y**2).sum(axis=0)), 1e-300))
    if len(flat):
        return f"zero residual variance for {names[int(flat[0])]}"
    corr = (resid.T @ resid) / np.outer(sd, sd)
    if N > 1 and np.linalg.eigvalsh(corr)[0] < 1e-10:
        off = np.abs(corr - np.eye(N))
        first, second = np.unravel_index(int(np.argmax(off)), off.shape)
        return f"the residuals of {names[int(first)]} and {names[int(second)]} are perfectly correlated"
    return ""


def wald_statistic(b: np.ndarray, cov: np.ndarray, R: np.ndarray) -> tuple[float, int]:
    """W = (R b)' (R V R')^{-1} (R b) for H0: R b = 0, and its degrees of freedom q = rank(R)
    (Greene, Econometric Analysis, sec. 5.4; linearmodels' system results offer no Wald test)."""
    rb = R @ b
    middle = R @ cov @ R.T
    return float(rb @ np.linalg.solve(middle, rb)), int(np.linalg.matrix_rank(R))


def mvrm(result, window=None, *, events=None, effect: str = "cumulative", debiased: bool = True) -> MVRMResult:
    """Binder (1985) joint tests for every event of a fitted study (see module docs).

    ``window`` (default: the event window) must lie inside the study's event
    window; ``events`` limits the events tested. Events with a single asset get the
    ``zero`` test only. Events whose system cannot be estimated (fewer common
    estimation dates than parameters + 2) are listed in ``excluded`` with the reason.
    """
    try:
        from linearmodels.system import SUR
    except ImportError:  # pragma: no cover - linearmodels is a core dependency
        raise ImpactError("mvrm needs the 'linearmodels' package: pip install linearmodels") from None
    study = result.study
    if study.model not in SUPPORTED:
        raise ImpactError(f"mvrm needs a regression normal-return model ({', '.join(SUPPORTED)}), "
                          f"not {study.model!r}")
    if effect not in EFFECTS:
        raise ImpactError(f"unknown mvrm effect {effect!r} (choose from {', '.join(EFFECTS)})")
    if result.rows is None:
        raise ImpactError("this result keeps no estimation rows; re-fit the study to run mvrm")
    window = window or study.event_window
    mask = result._window_mask(window)
    label = f"[{window[0]},{window[1]}]"
    ea, eb = study.estimation_window
    wa, wb = study.event_window
    est_off, ev_off = np.arange(ea, eb + 1), np.arange(wa, wb + 1)
    in_window = np.flatnonzero(mask)
    ids = result.pairs["event_id"].astype(str).to_numpy()
    assets = result.pairs["asset"].astype(str).to_numpy()
    wanted = list(dict.fromkeys(ids)) if events is None else [str(e) for e in events]
    unknown = [e for e in wanted if e not in set(ids)]
    if unknown:
        raise ImpactError(f"mvrm: event(s) {', '.join(unknown)} have no estimated pairs in this result")

    tests, effects, excluded, fits = [], [], [], {}
    for event_id in wanted:
        rows = np.flatnonzero(ids == event_id)
        names = [f"{a}" for a in assets[rows]]
        y, x, t_est = _event_system(result, rows, est_off, ev_off)
        T, N = y.shape
        k = x.shape[2]
        K = 1 + k + len(ev_off)
        if t_est < 1 + k + 2:
            excluded.append((event_id, "", f"only {t_est} common estimation dates for {N} assets"))
            continue
        dummies = np.vstack([np.zeros((t_est, len(ev_off))), np.eye(len(ev_off))])
        dummy_names = [f"d{d:+d}" for d in ev_off]
        equations = {}
        for i, name in enumerate(names):
            exog = pd.DataFrame(np.column_stack([np.ones(T), x[i], dummies]),
                                columns=["const", *[f"x{j}" for j in range(k)], *dummy_names])
            equations[name] = {"dependent": pd.Series(y[:, i], name=name), "exog": exog}
        problem = _singular_residuals(y[:t_est], x[:, :t_est], names)
        if problem:
            excluded.append((event_id, "", f"SUR estimation failed ({problem}); are two assets identical?"))
            continue
        try:
            fit = SUR(equations).fit(method="gls", cov_type="unadjusted", debiased=debiased)
        except (np.linalg.LinAlgError, ValueError) as exc:
            excluded.append((event_id, "", f"SUR estimation failed ({exc}); are two assets identical?"))
            continue
        fits[event_id] = fit
        params = fit.params
        cols = list(params.index)
        pick = [dummy_names[j] for j in in_window]

        def row_for(name, days, cols=cols):
            r = np.zeros(len(cols))
            for dn in days:
                r[cols.index(f"{name}_{dn}")] = 1.0
            return r

        if effect == "cumulative":
            zero = np.array([row_for(n, pick) for n in names])
            diff = [row_for(n, pick) - row_for(names[-1], pick) for n in names[:-1]]
        else:
            zero = np.array([row_for(n, [dn]) for n in names for dn in pick])
            diff = [row_for(n, [dn]) - row_for(names[-1], [dn]) for n in names[:-1] for dn in pick]
        cov = fit.cov.to_numpy()
        b = params.to_numpy()
        df_denom = N * (T - K)
        hypotheses = [("zero", zero)] + ([("equal", np.array(diff))] if N > 1 else [])
        for hyp, R in hypotheses:
            stat, q = wald_statistic(b, cov, R)
            f_stat = stat / q
            tests.append((event_id, label, hyp, stat, q, float(stats.chi2.sf(stat, q)), f_stat, df_denom,
                          float(stats.f.sf(f_stat, q, df_denom)), N, T))
        for name in names:
            r = row_for(name, pick)
            est, se = float(r @ b), float(np.sqrt(r @ cov @ r))
            effects.append((event_id, name, label, est, se, est / se if se > 0 else np.nan))
    return MVRMResult(
        tests=pd.DataFrame(tests, columns=TEST_COLUMNS),
        effects=pd.DataFrame(effects, columns=["event_id", "asset", "window", "effect", "se", "t"]),
        excluded=pd.DataFrame(excluded, columns=["event_id", "asset", "reason"]),
        fits=fits,
    )


extend("mvrm", mvrm)  # result.mvrm(): the fitted result's joint test
