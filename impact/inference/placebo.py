"""Placebo (permutation-style) inference: the same study on random non-event dates.

Each of ``n_draws`` draws gives every *event* one random pseudo-date (seeded,
reproducible), shared by all assets of that event and mapped to each asset's own
sessions (its first session on or after the date): a policy shock hits many
assets on one session, and their abnormal returns are correlated that day, so
the placebo must keep that cross-sectional structure or its spread is too
narrow (Brown & Warner 1985, event-date clustering; Bernard 1987; Kolari &
Pynnönen 2010). A pseudo-date is admissible when, for every asset of the event,
the pseudo event window stays off that asset's real event windows and the whole
estimation and event window lies inside the series. ``clusters="pair"`` draws an
independent date for every pair instead (the classic design, valid only when
events do not share dates); an array of labels (one per pair) defines other
clusters, e.g. the bundles of :meth:`EventStudyResult.by_bundle`. The
normal-return model is refitted on every pseudo pair (for the CAAR statistic by a
sliding-window OLS from running sums, once per distinct pseudo day-0 row, otherwise by
the study's batched closed-form fit) a block of draws at a time, keeping only each
draw's statistic: memory O(pairs), not O(draws x pairs). The pseudo-dates are drawn up
front and kept compact (:mod:`impact.inference.pseudo_dates`), so the draws are the
same whatever the blocks, locally or on a Dask client. Rows the study leaves out of estimation windows (its
``estimation_exclusions``, roll days, and, under ``contamination="exclude"``, the
real events' windows) are left out of the pseudo estimation windows too. The
observed statistic is then placed in the placebo
distribution:

    p = min(1, 2 min((1 + #{s_b <= s}) / (B + 1), (1 + #{s_b >= s}) / (B + 1)))

(two-sided, with the +1 of Davison & Hinkley 1997 / Phipson & Smyth 2010 so a
p-value is never 0). This is the "bootstrap / simulation on non-event dates" idea
of Brown & Warner (1980, 1985), here on the study's own assets and calendars.
"""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..progress import progress
from ..study.distributed import dask_client, map_shared
from ..study.models import OLS_MODELS, fit_by_model, fit_normal_returns, n_parameters
from .inputs import BatteryInputs, inputs
from .nonparametric import NONPARAMETRIC
from .parametric import PARAMETRIC
from .pseudo_dates import PseudoDates, draw_positions, pseudo_dates
from .pseudo_dates import _allowed_positions as _allowed_positions  # re-exported: its home until the split

#: cells (pseudo pairs x window rows) gathered per chunk
CHUNK_CELLS = 4_000_000
#: abnormal-return cells (draws x pairs x event-window days) held per block of draws
DRAW_CELLS = 16_000_000


def _pair_models(result) -> str | np.ndarray:
    """The study's model, or (P,) per-pair models when it mixes them."""
    return result.study.model if result.study.model != "mixed" else result.fit.models


def _placebo_ar(result, positions: np.ndarray):
    """Abnormal returns (B, P, W) of the pseudo pairs (NaN where a pair cannot be fitted)."""
    study = result.study
    if study.model not in ("market", "constant_mean", "market_adjusted", "raw", "ff3", "factors", "mixed"):
        raise ImpactError(f"placebo: model {study.model!r} is not supported (use an OLS or parameter-free model)")
    rows = result.rows
    ea, eb = study.estimation_window
    wa, wb = study.event_window
    est_off, ev_off = np.arange(ea, eb + 1), np.arange(wa, wb + 1)
    B, P = positions.shape
    flat = positions.reshape(-1)  # pragma: no mutate (reshape(-2) acts as -1)
    chunk = max(1, CHUNK_CELLS // (len(est_off) + len(ev_off)))
    ar = np.empty((len(flat), len(ev_off)))
    X = rows.X if rows.X.ndim == 2 else rows.X[:, None]  # pragma: no mutate (the engine always stores X as (n, k))
    names = tuple(getattr(result.fit, "names", ()) or ())  # pragma: no mutate (regressor names: labels only)
    models = _pair_models(result)
    flat_models = models if isinstance(models, str) else np.tile(models, B)
    for c0 in range(0, len(flat), chunk):  # pragma: no mutate (any step recomputes the same slices)
        pos = flat[c0:c0 + chunk]
        chunk_models = flat_models if isinstance(flat_models, str) else flat_models[c0:c0 + chunk]
        # pseudo windows lie inside their asset's rows by construction: plain fancy indexing
        est_idx, ev_idx = pos[:, None] + est_off[None, :], pos[:, None] + ev_off[None, :]
        y_est, x_est = rows.Y[est_idx], X[est_idx]
        usable = np.isfinite(y_est) & np.isfinite(x_est).all(axis=2) & ~rows.masked[est_idx]
        fit = fit_by_model(chunk_models, lambda m, i, y=y_est, x=x_est, u=usable: fit_normal_returns(
            m, y[i], x[i], u[i], study.min_estimation_obs, names))  # pragma: no mutate (names: labels only)
        with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            a = rows.Y[ev_idx] - fit.expected(X[ev_idx])
        a[(fit.problem != "") | ~np.isfinite(a).all(axis=1)] = np.nan  # unusable pseudo pairs drop out
        ar[c0:c0 + chunk] = a
    return ar.reshape(B, P, len(ev_off))


def _prefix_sums(rows) -> dict[str, np.ndarray]:
    """Running sums over the concatenated rows of the usable-row count, y, x, x x' and x y,
    so any window's OLS moments are two look-ups (a sliding-window regression)."""
    X = rows.X if rows.X.ndim == 2 else rows.X[:, None]  # pragma: no mutate (the engine always stores X as (n, k))
    u = np.isfinite(rows.Y) & np.isfinite(X).all(axis=1) & ~rows.masked
    y0 = np.where(u, rows.Y, 0.0)
    x0 = np.where(u[:, None], X, 0.0)

    def run(a):
        out = np.zeros((len(a) + 1,) + a.shape[1:])
        np.cumsum(a, axis=0, out=out[1:])
        return out

    return {"n": run(u.astype(float)), "y": run(y0), "x": run(x0),  # pragma: no mutate (astype(None) is float64)
            "xx": run(x0[:, :, None] * x0[:, None, :]), "xy": run(x0 * y0[:, None])}


def _placebo_ar_sums(result, positions: np.ndarray, sums: dict | None = None) -> np.ndarray | None:
    """Pseudo-pair ARs (B, P, W) from window sums, each pair with its own model (see
    :func:`_ar_sums`; ``sums``: :func:`_prefix_sums` of the rows when already made); None
    when a model is not covered."""
    models = _pair_models(result)
    if isinstance(models, str):
        return _ar_sums(result, models, positions, sums)
    out = np.empty(positions.shape + (result.abnormal.shape[1],))
    for model in pd.unique(models):
        cols = np.flatnonzero(models == model)
        part = _ar_sums(result, model, positions[:, cols], sums)
        if part is None:
            return None
        out[:, cols] = part
    return out


def _distinct(flat: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``flat`` (all in ``range(n)``), sorted, and where each element is
    among them: ``np.unique(flat, return_inverse=True)`` by a mark per value when ``flat`` is
    long (no sort)."""
    if len(flat) < n // 8:  # pragma: no mutate (either way: the same values and places)
        return np.unique(flat, return_inverse=True)
    seen = np.zeros(n, dtype=bool)
    seen[flat] = True
    uniq = np.flatnonzero(seen)
    where = np.empty(n, dtype=np.int64)
    where[uniq] = np.arange(len(uniq))
    return uniq, where[flat]


def _ar_sums(result, model: str, positions: np.ndarray, sums: dict | None = None) -> np.ndarray | None:
    """Pseudo-pair ARs (B, P, W) from window sums: O(1) per fit instead of O(L), and once per
    distinct day-0 row (draws revisit the same rows: an asset has only so many sessions).

    Same estimator as :func:`impact.models.fit_normal_returns` (OLS on the usable
    rows, centred moments; parameter-free models need only the row count), so the
    draws equal a full re-run up to floating-point rounding of the running sums.
    Returns None when the model is not covered (the batched fit is used instead).
    """
    study = result.study
    if model not in (*OLS_MODELS, "constant_mean", "market_adjusted", "raw"):
        return None
    rows = result.rows
    X = rows.X if rows.X.ndim == 2 else rows.X[:, None]  # pragma: no mutate (the engine always stores X as (n, k))
    k = X.shape[1]
    if model == "market_adjusted" and k != 1:
        return None
    S = _prefix_sums(rows) if sums is None else sums
    ea, eb = study.estimation_window
    ev_off = np.arange(study.event_window[0], study.event_window[1] + 1)
    need = max(study.min_estimation_obs, n_parameters(model, k) + 2)
    flat, where = _distinct(positions.reshape(-1), len(rows.Y))  # pragma: no mutate (reshape(-2) acts as -1)
    out = np.empty((len(flat), len(ev_off)))
    chunk = max(1, CHUNK_CELLS // (len(ev_off) * (k + 1)))  # pragma: no mutate (chunk size: memory only)
    for c0 in range(0, len(flat), chunk):  # pragma: no mutate (any step recomputes the same slices)
        pos = flat[c0:c0 + chunk]
        a, b = pos + ea, pos + eb + 1
        n = S["n"][b] - S["n"][a]
        ev_idx = pos[:, None] + ev_off[None, :]
        y_ev, x_ev = rows.Y[ev_idx], X[ev_idx]
        bad = n < need
        n_safe = np.where(n > 0, n, 1.0)
        if model in OLS_MODELS:
            sx, sy = S["x"][b] - S["x"][a], S["y"][b] - S["y"][a]
            xbar, ybar = sx / n_safe[:, None], sy / n_safe
            cxx = (S["xx"][b] - S["xx"][a]) - n_safe[:, None, None] * xbar[:, :, None] * xbar[:, None, :]
            cxy = (S["xy"][b] - S["xy"][a]) - n_safe[:, None] * xbar * ybar[:, None]
            diag = np.einsum("pkk->pk", cxx)  # pragma: no mutate (upper-case einsum labels give the same sum)
            bad |= (diag <= 1e-14 * n_safe[:, None]).any(axis=1)
            if k > 1:
                sd = np.sqrt(np.where(diag > 0, diag, 1.0))
                corr = cxx / (sd[:, :, None] * sd[:, None, :])
                bad |= np.linalg.eigvalsh(np.where(bad[:, None, None], np.eye(k), corr))[:, 0] < 1e-10
            cxx = np.where(bad[:, None, None], np.eye(k), cxx)
            beta = np.linalg.solve(cxx, cxy[:, :, None])[:, :, 0]
            alpha = ybar - np.einsum("pk,pk->p", xbar, beta)  # pragma: no mutate (upper-case einsum labels give the same sum)
            # no mutate below: upper-case einsum labels give the same sum
            ar = y_ev - alpha[:, None] - np.einsum("pwk,pk->pw", x_ev, beta)  # pragma: no mutate
        elif model == "constant_mean":
            ar = y_ev - ((S["y"][b] - S["y"][a]) / n_safe)[:, None]
        elif model == "market_adjusted":
            ar = y_ev - x_ev[:, :, 0]
        else:  # raw
            ar = y_ev.copy()
        ar[bad | ~np.isfinite(ar).all(axis=1)] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
        out[c0:c0 + chunk] = ar
    return out[where].reshape(positions.shape + (len(ev_off),))


def _p_two_sided(observed: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    B = np.isfinite(draws).sum(axis=0)
    le = (draws <= observed[None, :]).sum(axis=0)
    ge = (draws >= observed[None, :]).sum(axis=0)
    p = np.minimum(1.0, 2 * np.minimum((1 + le) / (B + 1), (1 + ge) / (B + 1)))
    return p, le / np.maximum(B, 1)


def placebo_draws(result, window=None, *, statistic: str = "caar", n_draws: int = 1000, seed: int = 0,
                  guard: int = 0, clusters="event", weights: np.ndarray | None = None, client=None,
                  **options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed statistic (m,), its placebo draws (B, m) and the drawn day-0 rows (B, P).

    ``client`` (a ``dask.distributed.Client``): blocks of draws are computed on its workers;
    the day-0 rows are drawn here first from ``seed``, so the draws equal the local ones.

    ``weights`` (P,), for ``statistic="caar"``: the statistic is the mean of
    ``weight * CAR`` over pairs with a non-zero weight (e.g. -1 flips an asset expected
    to rise, 0 leaves a pair out), in the observed data and in every draw alike.

    The draws are computed block by block (memory O(pairs), whatever ``n_draws``); only the
    returned day-0 rows are draws x pairs (:func:`placebo_test` does not make them)."""
    weights, mask = _checked(result, window, statistic, n_draws, weights, options)
    positions = draw_positions(result, int(n_draws), seed, guard, clusters)  # drawn up front: same for any client
    return *_observed_and_draws(result, positions, window, mask, statistic, weights, client, options), positions


def _checked(result, window, statistic: str, n_draws: int, weights, options: dict) -> tuple[np.ndarray | None, np.ndarray]:
    """The arguments of :func:`placebo_draws` checked: the weights as floats and the rel_day mask of ``window``."""
    if result.rows is None or not len(result.pairs):
        raise ImpactError("placebo: no estimated pairs to re-run (see result.excluded)")
    if int(n_draws) < 1:
        raise ImpactError(f"placebo: n_draws must be a positive integer, got {n_draws!r}")
    if statistic != "caar" and statistic not in {**PARAMETRIC, **NONPARAMETRIC}:
        raise ImpactError(f"placebo: unknown statistic {statistic!r} (use 'caar' or a test name)")
    if statistic == "caar" and options:
        raise ImpactError(f"placebo: option(s) {', '.join(sorted(options))} apply to a test statistic, "
                          "not to statistic='caar'")
    rel = result.rel_days
    mask = np.ones(len(rel), dtype=bool) if window is None else (rel >= window[0]) & (rel <= window[1])
    if weights is not None:
        if statistic != "caar":
            raise ImpactError("placebo: weights apply to statistic='caar' only")
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (len(result.pairs),) or not (weights != 0).any():
            raise ImpactError(f"placebo: weights needs one value per pair ({len(result.pairs)}), not all zero")
    return weights, mask


def _observed_and_draws(result, positions: np.ndarray | PseudoDates, window, mask: np.ndarray, statistic: str,
                        weights: np.ndarray | None, client, options: dict) -> tuple[np.ndarray, np.ndarray]:
    """The observed statistic and its draws on day-0 rows ``positions`` (whole, or compact)."""
    if statistic == "caar":
        real = result.abnormal if weights is None else result.abnormal[weights != 0] * weights[weights != 0, None]
        observed = real.mean(axis=0) if window is None else np.array([real[:, mask].sum(axis=1).mean()])
    else:
        # no mutate below: already float
        observed = np.asarray({**PARAMETRIC, **NONPARAMETRIC}[statistic](inputs(result), window, **options)["statistic"],
                              dtype=float)  # pragma: no mutate
    args = (window, mask, statistic, weights, len(observed), options)
    if client is None:
        return observed, _statistic_draws(result, positions, *args)
    # Dask: blocks of draws on the workers; each draw's statistic depends on its own positions only.
    blocks = np.array_split(np.arange(len(positions)), min(len(positions), 4 * max(1, _workers(client))))
    pieces = [(positions.block(b[0], b[-1] + 1) if isinstance(positions, PseudoDates) else positions[b],) for b in blocks]
    return observed, np.concatenate(map_shared(dask_client(client), _statistic_draws, result, pieces, *args))


def _workers(client) -> int:
    info = getattr(client, "scheduler_info", None)
    return len(info().get("workers", {})) if callable(info) else 1


def _statistic_draws(result, positions: np.ndarray | PseudoDates, window, mask: np.ndarray, statistic: str,
                     weights: np.ndarray | None, m: int, options: dict) -> np.ndarray:
    """The placebo statistic (B, m) in each draw of ``positions`` (B, P) (see :func:`placebo_draws`),
    computed for a block of draws at a time: memory O(pairs x window), not O(draws x pairs)."""
    step = max(1, DRAW_CELLS // (len(result.rows.pos) * len(result.rel_days)))
    sums = _prefix_sums(result.rows) if statistic == "caar" else None  # once for every block
    out = np.empty((len(positions), m))
    # no mutate below: progress label
    for b0 in progress(range(0, len(positions), step), desc="placebo", unit="block"):  # pragma: no mutate
        pos = positions.rows(b0, b0 + step) if isinstance(positions, PseudoDates) else positions[b0:b0 + step]
        out[b0:b0 + len(pos)] = _block_draws(result, pos, sums, window, mask, statistic, weights, m, options)
    return out


def _block_draws(result, positions: np.ndarray, sums: dict | None, window, mask: np.ndarray, statistic: str,
                 weights: np.ndarray | None, m: int, options: dict) -> np.ndarray:
    """The placebo statistic (b, m) in each draw of one block of day-0 rows (b, P)."""
    # no mutate below: fast path or batched refit: the same ARs
    ar = _placebo_ar_sums(result, positions, sums) if statistic == "caar" else None  # pragma: no mutate
    if ar is None:
        ar = _placebo_ar(result, positions)  # (B, P, W), batched refits
    if statistic == "caar":
        if weights is not None:
            return _weighted_caar(ar, weights, window, mask)
        # a draw where no pseudo pair could be fitted is NaN; nanmean's "Mean of empty slice" is expected
        with warnings.catch_warnings(action="ignore", category=RuntimeWarning):  # pragma: no mutate (warnings only)
            return np.nanmean(ar, axis=1) if window is None else np.nanmean(ar[:, :, mask].sum(axis=2), axis=1)[:, None]
    tests = {**PARAMETRIC, **NONPARAMETRIC}
    draws = np.full((len(ar), m), np.nan)
    base = inputs(result)
    for b in range(len(ar)):
        ok = np.isfinite(ar[b]).all(axis=1)
        inp = _pseudo_inputs(result, base, positions[b], ar[b], ok)
        if inp is not None:
            draws[b] = tests[statistic](inp, window, **options)["statistic"]
    return draws


def _weighted_caar(ar: np.ndarray, weights: np.ndarray, window, mask: np.ndarray) -> np.ndarray:
    """The mean of ``weight * AR`` (window None) or of ``weight * CAR`` over pairs with a non-zero
    weight, NaN pairs left out, in each draw of ``ar`` (b, P, W).

    Summed day after day, then pair after pair, whatever the block's size: the order numpy takes
    for ``nanmean`` of ``ar[:, use] * weights`` on a block of several draws (a one-draw block
    would be summed pairwise, and the last digits of a draw would depend on the blocks)."""
    use = weights != 0
    x = ar[:, use] * weights[None, use, None]
    if window is not None:
        x = sum((x[:, :, d] for d in np.flatnonzero(mask)), np.zeros(x.shape[:2]))
    missing = np.isnan(x)
    with np.errstate(invalid="ignore"):  # pragma: no mutate (a draw without pairs is 0 / 0 = NaN)
        mean = np.cumsum(np.where(missing, 0.0, x), axis=1)[:, -1] / (~missing).sum(axis=1)
    return mean if window is None else mean[:, None]


def placebo_test(result, window=None, *, statistic: str = "caar", n_draws: int = 1000, seed: int = 0,
                 guard: int = 0, clusters="event", weights: np.ndarray | None = None, client=None,
                 **options) -> pd.DataFrame:
    """Observed statistic against its distribution on random non-event dates.

    ``statistic="caar"`` (default, fully vectorised): the mean AR per rel_day
    (``window=None``) or the mean CAR over ``window``. Any battery test name
    (e.g. ``"bmp"``, with its ``options``) is recomputed draw by draw instead.
    ``guard`` widens the real event windows the pseudo windows must avoid.
    ``clusters`` (default ``"event"``: one pseudo-date per event shared by its assets;
    ``"pair"``: independent dates), ``weights`` and ``client`` (Dask) as in :func:`placebo_draws`.
    Columns: ``statistic`` (observed), ``p_value``, ``n`` (pairs), ``percentile``
    (share of placebo draws <= observed), ``n_draws``, ``seed``.
    """
    weights, mask = _checked(result, window, statistic, n_draws, weights, options)
    dates = pseudo_dates(result, int(n_draws), seed, guard, clusters)  # compact: expanded block by block
    observed, draws = _observed_and_draws(result, dates, window, mask, statistic, weights, client, options)
    return placebo_summary(result, window, observed, draws, n_draws, seed)


def placebo_summary(result, window, observed: np.ndarray, draws: np.ndarray, n_draws: int, seed: int) -> pd.DataFrame:
    """The :func:`placebo_test` table for draws already made (:func:`placebo_draws`)."""
    p, pct = _p_two_sided(observed, draws)
    rel = result.rel_days
    key = pd.DataFrame({"rel_day": rel}) if window is None else pd.DataFrame({"window": [f"[{window[0]},{window[1]}]"]})
    return pd.concat([key, pd.DataFrame({
        "statistic": observed, "p_value": p, "n": len(result.pairs), "percentile": pct,
        "n_draws": int(n_draws), "seed": int(seed),
    })], axis=1)


def _pseudo_inputs(result, base, positions, ar, ok):
    """Battery inputs for one placebo draw (pairs that could be fitted only)."""
    if ok.sum() < 2:
        return None
    study = result.study
    rows = replace(result.rows, pos=positions[ok], lo=result.rows.lo[ok], hi=result.rows.hi[ok])
    ea, eb = study.estimation_window
    wa, wb = study.event_window
    est, ev = rows.gather(np.arange(ea, eb + 1)), rows.gather(np.arange(wa, wb + 1))
    usable = np.isfinite(est["y"]) & np.isfinite(est["x"]).all(axis=2) & ~est["masked"]
    models = _pair_models(result)
    models = models if isinstance(models, str) else models[ok]
    names = tuple(getattr(result.fit, "names", ()) or ())  # pragma: no mutate (regressor names: labels only)
    fit = fit_by_model(models, lambda m, i: fit_normal_returns(m, est["y"][i], est["x"][i], usable[i],
                                                               # no mutate below: names: labels only
                                                               study.min_estimation_obs, names))  # pragma: no mutate
    resid = np.where(usable, est["y"] - fit.expected(np.where(usable[:, :, None], est["x"], 0.0)), np.nan)
    return BatteryInputs(ar=ar[ok], rel_days=base.rel_days, resid=resid, x_est=est["x"],
                         n_obs=np.asarray(fit.n_obs, dtype=float), df=np.asarray(fit.df, dtype=float),
                         fit=fit, benchmark=ev["x"])
