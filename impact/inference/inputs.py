"""What every test of the battery sees: the inputs built once per fitted result.

Every test sees the same inputs, built once per result (:class:`BatteryInputs`):
event-window abnormal returns AR (P, W), each pair's estimation-window
residuals (P, L; NaN on unusable rows), residual variances under the chosen
convention and the prediction-error factors of CLM (1997, eq. 4.4.14).

A test is then applied to *event observations* e (P, m) with variance factors
f (P, m), sigma_i^2 f_im being the variance of e_im under the null:

* ``window=None``: m = W columns, one per rel_day, e = AR_it, f = 1 + 1/L_i +
  (x_t - xbar)'(X_c'X_c)^-1 (x_t - xbar);
* ``window=(a, b)``: m = 1, e = CAR_i(a, b), f = D + D^2/L_i + s'(X_c'X_c)^-1 s
  (D = b - a + 1, s the summed centred regressors), the Var(CAR) the rest of the
  package reports.

The estimation-window residuals are never held for every pair at once (1M pairs x 250
rows would be 2 GB): :meth:`BatteryInputs.blocks` re-gathers them ``chunk_size`` pairs at a
time from the fitted result's rows, and the tests keep per-pair or per-row summaries
(:meth:`BatteryInputs.summary`, one pass, cached). Inputs built from arrays (placebo draws,
hand-made cases) are sliced the same way; the numbers do not depend on the chunk size.

The formulas, their papers and the peer conventions are in docs/methods.md.
The test functions live in :mod:`impact.inference.parametric` and
:mod:`impact.inference.nonparametric`; they are pure functions of these inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ImpactError
from ..parallel import ordered_map
from ..study.models import NormalFit

SIGMA_CONVENTIONS = ("ols", "n-1", "n")
PE_ROWS = ("pair", "benchmark")
#: pairs per block: 1,024 x 250 estimation rows (2 MB) stay in cache through a rank test's comparisons
CHUNK = 1024


@dataclass
class BatteryInputs:
    """What every test sees: ``ar`` (P, W) event-window ARs, ``rel_days`` (W,), ``n_obs``, ``df``
    (P,), ``fit`` (the study's :class:`NormalFit`), ``benchmark`` (P, W, k) event-window
    regressors, ``memo`` (derived quantities shared by tests), and the estimation rows: either
    arrays ``resid`` (P, L; NaN where unusable) and ``x_est`` (P, L, k), or ``rows`` (the fitted
    result's :class:`~impact.study.windows.RowSource`) and ``offsets`` (L,) to gather them from,
    ``chunk_size`` pairs at a time (:meth:`blocks`). ``resid`` / ``x_est`` are still readable in
    the second form (gathered whole, for small cases and tests); the tests never ask for them."""

    ar: np.ndarray
    rel_days: np.ndarray
    resid: np.ndarray | None = field(repr=False)
    x_est: np.ndarray | None = field(repr=False)
    n_obs: np.ndarray
    df: np.ndarray
    fit: NormalFit
    benchmark: np.ndarray
    memo: dict = field(default_factory=dict, repr=False)
    rows: Any = field(default=None, repr=False)  # RowSource
    offsets: np.ndarray | None = None
    chunk_size: int = CHUNK

    @property
    def n_rows(self) -> int:
        """L, the estimation rows of every pair."""
        stored = self.__dict__["_resid"]
        return stored.shape[1] if stored is not None else len(np.asarray(self.offsets))

    def blocks(self, x: bool = False):
        """``(slice, resid (p, L), x_est (p, L, k) or None)`` for ``chunk_size`` pairs at a time."""
        for sl in self._slices():
            yield (sl, *self._block(sl, x))

    def map_blocks(self, fn, x: bool = False):
        """``fn(slice, resid, x_est or None)`` for every block of :meth:`blocks`, the blocks side by
        side on :func:`impact.parallel.ordered_map`'s threads; the results in block order, so the
        caller's sums add up as in one thread."""
        return ordered_map(lambda sl: fn(sl, *self._block(sl, x)), self._slices())

    def _slices(self) -> list[slice]:
        P, size = len(self.ar), max(int(self.chunk_size), 1)
        return [slice(start, min(start + size, P)) for start in range(0, P, size)]

    def _block(self, sl: slice, x: bool):
        stored, xs = self.__dict__["_resid"], self.__dict__["_x_est"]
        if stored is not None:
            return stored[sl], xs[sl] if x else None
        resid, xs = self._gather(sl)
        return resid, xs if x else None

    def _gather(self, sl):
        """One block's residuals, exactly as the whole-array ``y - fit.expected(x)`` with NaN on
        unusable rows. Windows inside the asset's series are contiguous rows: sliced from strided
        views (no index arrays); the others go through ``RowSource.gather``."""
        rows, off = self.rows, self.offsets
        pos = rows.pos[sl]
        first = pos + off[0]
        if ((first >= rows.lo[sl]) & (pos + off[-1] < rows.hi[sl])).all():
            if "views" not in self.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
                X = rows.X if rows.X.ndim == 2 else rows.X[:, None]
                L = len(off)
                self.memo["views"] = (sliding_window_view(rows.Y, L), sliding_window_view(X, L, axis=0),
                                      sliding_window_view(rows.masked, L))
            yv, xv, mv = self.memo["views"]
            if "any_masked" not in self.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
                self.memo["any_masked"] = bool(rows.masked.any())
            y = yv[first]
            masked = mv[first] if self.memo["any_masked"] else None  # no row left out anywhere
            x = xv[rows.x_rows(pos, rows.lo[sl]) + off[0]].transpose(0, 2, 1)  # another asset's rows: same values
            x = x if x.shape[2] == 1 else np.ascontiguousarray(x)
        else:
            g = replace(rows, pos=pos, lo=rows.lo[sl], hi=rows.hi[sl]).gather(off, dates=False)
            y, x, masked = g["y"], g["x"], g["masked"]
        clean = self.memo.get("clean")  # pairs with every estimation row usable, after the summary pass
        check = clean is None or not clean[sl].all()
        with np.errstate(invalid="ignore", over="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            if x.shape[2] == 1:  # the market model: alpha + x beta, fit.expected's one-term sum
                resid = np.multiply(x[:, :, 0], self.fit.beta[sl, 0][:, None])
                resid += self.fit.alpha[sl, None]
                np.subtract(y, resid, out=resid)
            else:
                resid = y - replace(self.fit, alpha=self.fit.alpha[sl], beta=self.fit.beta[sl]).expected(x)
        if check:
            usable = np.isfinite(y) & np.isfinite(x).all(axis=2)
            if masked is not None:
                usable &= ~masked
            resid[~usable] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
        return resid, x

    def sigma2(self, sigma: str = "ols") -> np.ndarray:
        """Residual variance: ``ols`` SSR/(L_i - p) as fitted (default), ``n-1`` the
        sample variance of the estimation ARs (estudy2), ``n`` with denominator L_i
        (eventstudy-py)."""
        if sigma == "ols":
            return np.asarray(self.fit.sigma2, dtype=float)  # pragma: no mutate (sigma2 is already a float array)
        if sigma not in SIGMA_CONVENTIONS:
            raise ImpactError(f"sigma must be one of {', '.join(SIGMA_CONVENTIONS)}, got {sigma!r}")
        key = ("sigma2", sigma)  # pragma: no mutate (cache key: a renamed key only misses the cache)
        if key not in self.memo:
            s = self.summary()
            denom = s.n - (1 if sigma == "n-1" else 0)
            with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                # no mutate below: inner guard: entries replaced by NaN
                self.memo[key] = np.where(denom > 0, s.ssq / np.where(denom > 0, denom, 1), np.nan)  # pragma: no mutate
        return self.memo[key]

    def factors(self, window, prediction_error: bool = True, pe_rows: str = "pair"):
        """Event observations and variance factors: (e (P, m), f (P, m), days (m,)), cached
        read-only (several tests ask for the same ones)."""
        if pe_rows not in PE_ROWS:
            raise ImpactError(f"pe_rows must be one of {', '.join(PE_ROWS)}, got {pe_rows!r}")
        # no mutate below: cache key: a renamed key only misses the cache
        key = ("factors", None if window is None else tuple(window), bool(prediction_error),  # pragma: no mutate
               pe_rows if prediction_error else "")  # pragma: no mutate
        if key not in self.memo:
            out = self._factors(window, prediction_error, pe_rows)
            for a in out:
                a.flags.writeable = False
            self.memo[key] = out
        return self.memo[key]

    def _factors(self, window, prediction_error, pe_rows):
        P, W = self.ar.shape
        masks = [self.rel_days == d for d in self.rel_days] if window is None else [
            (self.rel_days >= window[0]) & (self.rel_days <= window[1])]
        e = np.column_stack([self.ar[:, m].sum(axis=1) for m in masks]) if P else np.zeros((0, len(masks)))
        days = np.array([m.sum() for m in masks], dtype=float)
        if not prediction_error:
            return e, np.broadcast_to(days, e.shape).copy(), days
        if pe_rows == "pair":
            # Var(CAR)/sigma^2 exactly as the fit reports it (CLM 1997 eq. 4.4.14).
            with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                f = np.column_stack([self.fit.car_variance(self.benchmark, m) / self.fit.sigma2 for m in masks])
            return e, f, days
        xbar, ainv = self._benchmark_moments()
        f = np.empty_like(e)
        for j, m in enumerate(masks):
            s = (self.benchmark[:, m, :] - xbar[:, None, :]).sum(axis=1)
            d = days[j]
            f[:, j] = d + d**2 / self.n_obs + np.einsum("pk,pkj,pj->p", s, ainv, s)
        return e, f, days

    def _benchmark_moments(self):
        """estudy2: xbar and the centred cross-products over every estimation row where
        the benchmark is observed, even rows where the asset is missing (per pair, cached)."""
        if "benchmark_moments" not in self.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
            xbar = np.zeros((len(self.ar), self.benchmark.shape[2]))
            ainv = np.zeros((len(self.ar), self.benchmark.shape[2], self.benchmark.shape[2]))
            for sl, _, x in self.blocks(x=True):
                ok = np.isfinite(x).all(axis=2)
                cnt = np.maximum(ok.sum(axis=1), 1)
                xbar[sl] = np.where(ok[:, :, None], x, 0.0).sum(axis=1) / cnt[:, None]
                xc = np.where(ok[:, :, None], x - xbar[sl][:, None, :], 0.0)
                xtx = np.einsum("plk,plj->pkj", xc, xc)  # pragma: no mutate (upper-case einsum labels give the same sum)
                ainv[sl] = np.linalg.pinv(xtx)
            self.memo["benchmark_moments"] = (xbar, ainv)
        return self.memo["benchmark_moments"]

    def summary(self) -> SimpleNamespace:
        """One pass over the estimation rows (cached): per pair ``n`` usable rows, ``mean``,
        ``ssq`` (sum of squared deviations) and ``pos`` (positive residuals); per estimation row
        ``n_row`` (usable pairs), ``total`` (sum of residuals), the correlation sums of
        :func:`correlation_sums`, and the rank sums of the corrado and GRANK tests: ``rank`` (sum
        of each row's within-pair ranks :func:`_ranks`), ``rank_w`` (the same weighted by
        1 / (n_i + 2)) and ``centre`` (sum of n_i + 1 over the usable pairs). Cached when the rows
        come from a fitted result; arrays handed in may change, so they are summarised afresh."""
        if "summary" in self.memo:  # pragma: no mutate (cache key: a renamed key only misses the cache)
            return self.memo["summary"]
        P, L = len(self.ar), self.n_rows
        out = SimpleNamespace(n=np.zeros(P, dtype=np.int64), mean=np.zeros(P), ssq=np.zeros(P),
                              pos=np.zeros(P, dtype=np.int64), n_row=np.zeros(L, dtype=np.int64),
                              total=np.zeros(L), z=np.zeros(L), zz=np.zeros(L), m=np.zeros(L),
                              rank=np.zeros(L), rank_w=np.zeros(L), centre=np.zeros(L))
        for sl, per_pair, per_row in self.map_blocks(_summarise_block):
            out.n[sl], out.mean[sl], out.pos[sl], out.ssq[sl] = per_pair
            n_row, total, (z, zz, m), rank, rank_w, centre = per_row
            out.n_row += n_row
            out.total += total
            out.z, out.zz, out.m = out.z + z, out.zz + zz, out.m + m
            out.rank += rank
            out.rank_w += rank_w
            out.centre += centre
        if self.rows is not None:
            self.memo["summary"] = out  # pragma: no mutate (cache key: a renamed key only misses the cache)
            self.memo["clean"] = out.n == L  # later passes skip the usable-row masks of these pairs
        return out



def _summarise_block(sl: slice, resid: np.ndarray, _) -> tuple:
    """One block's part of :meth:`BatteryInputs.summary`: per pair (n, mean, positives, ssq) and
    per row (usable pairs, residual sum, correlation sums, rank sums, centres)."""
    ok = np.isfinite(resid)
    n = ok.sum(axis=1)
    r = np.where(ok, resid, 0.0)
    mean = r.sum(axis=1) / np.maximum(n, 1)
    ssq = (np.where(ok, resid - mean[:, None], 0.0) ** 2).sum(axis=1)
    base = _ranks(resid)
    # GRANK's weights 1 / (M_i + 1) when the pair has its event value (M_i = n_i + 1)
    per_row = (ok.sum(axis=0), r.sum(axis=0), correlation_sums(resid), np.where(ok, base, 0.0).sum(axis=0),
               np.nansum(base * (1.0 / (n + 2))[:, None], axis=0), (n + 1.0) @ ok if len(n) else 0.0)
    return sl, (n, mean, (resid > 0).sum(axis=1), ssq), per_row


def _whole(inp: BatteryInputs, name: str) -> np.ndarray:
    """``resid`` / ``x_est``: the arrays handed in, or (rows given) gathered whole on first read."""
    if inp.__dict__[name] is None and inp.rows is not None:
        blocks = list(inp.blocks(x=True))
        L, k = inp.n_rows, inp.benchmark.shape[2]
        inp.__dict__["_resid"] = np.concatenate([np.zeros((0, L))] + [r for _, r, _ in blocks])
        inp.__dict__["_x_est"] = np.concatenate([np.zeros((0, L, k))] + [x for _, _, x in blocks])
    return inp.__dict__[name]


def _set_resid(inp: BatteryInputs, value) -> None:
    inp.__dict__["_resid"] = value


def _set_x_est(inp: BatteryInputs, value) -> None:
    inp.__dict__["_x_est"] = value


BatteryInputs.resid = property(lambda inp: _whole(inp, "_resid"), _set_resid)  # type: ignore[assignment]
BatteryInputs.x_est = property(lambda inp: _whole(inp, "_x_est"), _set_x_est)  # type: ignore[assignment]


def inputs(result, chunk_size: int = CHUNK) -> BatteryInputs:
    """Build (and cache on the result) what every test needs; the estimation rows are gathered
    ``chunk_size`` pairs at a time when a test asks for them."""
    cache = result._cache
    if "battery" in cache:  # pragma: no mutate (cache key: a renamed key only misses the cache)
        return cache["battery"]
    if result.rows is None:
        raise ImpactError("this result carries no estimation rows; refit with EventStudy.fit()")
    ea, eb = result.study.estimation_window
    fit = result.fit
    built = BatteryInputs(
        ar=result.abnormal, rel_days=result.rel_days, resid=None, x_est=None, n_obs=np.asarray(fit.n_obs, dtype=float),
        df=np.asarray(fit.df, dtype=float), fit=fit, benchmark=result.benchmark,
        rows=result.rows, offsets=np.arange(ea, eb + 1), chunk_size=chunk_size,
    )
    cache["battery"] = built  # pragma: no mutate (cache key: a renamed key only misses the cache)
    return built


def check_window(result, window):
    if window is None:
        return None
    try:
        a, b = (int(v) for v in window)
    except (TypeError, ValueError):
        raise ImpactError(f"window must be a pair of integers (start, end), got {window!r}") from None
    ea, eb = result.study.event_window
    if a > b or a < ea or b > eb:
        raise ImpactError(f"window {(a, b)} must be an ordered range inside the event window {(ea, eb)}")
    return a, b


def correlation_sums(resid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per estimation row: sum_i z_i, sum_i z_i^2 and the pairs m counted, z_i each pair's residuals
    standardised over its own usable rows (ddof 0); a constant series counts nowhere
    (:func:`impact.inference.parametric.average_correlation`)."""
    ok = np.isfinite(resid)
    complete = bool(ok.all())
    n = np.maximum(ok.sum(axis=1, keepdims=True), 1)
    r0 = resid if complete else np.where(ok, resid, 0.0)
    mu = r0.sum(axis=1, keepdims=True) / n
    c = resid - mu if complete else np.where(ok, resid - mu, 0.0)
    sd = np.sqrt((c**2).sum(axis=1, keepdims=True) / n)
    z = c / np.where(sd > 0, sd, np.inf)  # a constant series contributes nothing
    return z.sum(axis=0), (z**2).sum(axis=0), (ok & (sd > 0)).sum(axis=0).astype(float)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks within each row (1-based, average ties); NaN cells stay NaN and are not
    counted. One stable argsort per row, ties averaged with running group bounds
    (same numbers as ``scipy.stats.rankdata(..., nan_policy="omit")``, much faster
    on many short rows)."""
    if values.size == 0:
        return values.astype(float)  # pragma: no mutate (astype(None) is float64)
    ok = np.isfinite(values)
    v = np.where(ok, values, np.inf)
    order = np.argsort(v, axis=1)  # pragma: no mutate (axis -1 = 1); tie order is irrelevant: ties share their average rank
    srt = np.sort(v, axis=1)  # pragma: no mutate (axis -1 = 1); the same sequence as v[order], and cheaper than gathering it
    P, T = v.shape
    same = (srt[:, 1:] == srt[:, :-1]) & np.isfinite(srt[:, 1:])
    if same.any():
        j = np.broadcast_to(np.arange(T), (P, T))
        new = np.ones((P, T), dtype=bool)
        new[:, 1:] = ~same
        last = np.ones((P, T), dtype=bool)
        last[:, :-1] = new[:, 1:]
        start = np.maximum.accumulate(np.where(new, j, 0), axis=1)
        end = np.minimum.accumulate(np.where(last, j, T)[:, ::-1], axis=1)[:, ::-1]
        vals = (start + end) / 2.0 + 1.0
    else:
        vals = np.broadcast_to(np.arange(1.0, T + 1.0), (P, T))
    ranks = np.empty((P, T))
    ranks[np.arange(P)[:, None], order] = vals
    ranks[~ok] = np.nan  # pragma: no mutate (None assigned into a float array is NaN)
    return ranks
