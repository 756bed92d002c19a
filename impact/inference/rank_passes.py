"""The passes over the estimation rows behind the rank tests: block by block (side by side on
:func:`impact.parallel.ordered_map`'s threads), each block's counts combined in block order,
so the sums are those of one thread. :func:`impact.inference.nonparametric.corrado_rank` and
:func:`~impact.inference.nonparametric.grank` turn them into their statistics."""
from __future__ import annotations

import numpy as np

from .inputs import _ranks


def event_column_counts(inp, sel: np.ndarray) -> dict:
    """Per event column w of ``inp.ar``, over every pair, in one pass over the estimation rows:
    per row the pairs whose estimation value lies above the event value (``gt``) and equals it
    (``eq``), the sum of #estimation values below it (+ half the ties) (``below``) and per row the
    finite estimation values of the pairs without that event value (``lacking``). Kept for a
    fitted result, where a first call counts every column (the next window or the days then
    cost no pass); inputs handed in as arrays count the columns asked for."""
    memo = inp.memo.setdefault("event_column_counts", {}) if inp.rows is not None else {}
    todo = [int(w) for w in (range(inp.ar.shape[1]) if inp.rows is not None else sel) if int(w) not in memo]
    if todo:
        s = inp.summary()
        have = np.isfinite(inp.ar[:, todo])
        L = inp.n_rows
        gt_rows, eq_rows, lacking = (np.zeros((len(todo), L), dtype=np.int64) for _ in range(3))
        below = np.zeros(len(todo))

        def count(sl, est, _):
            finite = np.isfinite(est)
            n_have = s.n[sl] @ have[sl]  # estimation values of the pairs with each event value
            part = (np.zeros((len(todo), L), dtype=np.int64), np.zeros((len(todo), L), dtype=np.int64),
                    np.zeros(len(todo)), np.zeros((len(todo), L), dtype=np.int64))
            for j, w in enumerate(todo):
                e = inp.ar[sl, w, None]
                with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                    lt, gt = est < e, est > e
                n_lt, n_gt = np.count_nonzero(lt), np.count_nonzero(gt)
                part[0][j] = np.count_nonzero(gt, axis=0)
                n_eq = n_have[j] - n_lt - n_gt
                part[2][j] = n_lt + 0.5 * n_eq
                if n_eq:
                    part[1][j] = np.count_nonzero(finite & ~lt & ~gt & have[sl, j, None], axis=0)
                if not have[sl, j].all():
                    part[3][j] = np.count_nonzero(finite[~have[sl, j]], axis=0)
            return part

        for gt_part, eq_part, below_part, lacking_part in inp.map_blocks(count):  # in block order
            gt_rows += gt_part
            eq_rows += eq_part
            below += below_part
            lacking += lacking_part
        memo.update({w: (gt_rows[j], eq_rows[j], below[j], lacking[j]) for j, w in enumerate(todo)})
    return memo


def grank_pass(inp, zs: np.ndarray, scale: np.ndarray):
    """GRANK's sums over the pairs, one pass over the estimation rows block by block.

    SAR_i,tau = residual / sigma_i has the ranks of the residuals (:meth:`BatteryInputs.summary`).
    Adding the event value z_i moves every larger estimation value up by one (half for ties):
    K = base + [SAR > z] + [SAR == z]/2, weighted by w_i = 1 / (M_i + 1), M_i = L_i + [z_i observed].
    Returns per column of ``zs``: sum_i w_i K_i,tau (J, L); the pairs observed per row (L,);
    K of the event values (P, J); L_i (P,)."""
    P, J = zs.shape
    L = inp.n_rows
    s = inp.summary()
    have = np.isfinite(zs)
    num = np.tile(s.rank_w, (J, 1))  # every pair with its event value and L_i = n_i: weight 1 / (n_i + 2)
    part = np.zeros((J, L))
    counts: list[dict[float, np.ndarray]] = [{} for _ in range(J)]
    n_est, L_i, K_ev = np.zeros(L, dtype=np.int64), np.zeros(P, dtype=np.int64), np.full((P, J), np.nan)
    def block(sl, resid, _):
        """One block's updates, applied below in block order (sums as in one thread)."""
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (np.errstate: warnings only)
            est = resid / scale[sl, None]
        ok = np.isfinite(est)
        le = ok.sum(axis=1)
        w = 1.0 / (le[:, None] + have[sl] + 1)
        odd = (le != s.n[sl])[:, None] | ~have[sl]  # a weight other than the summary's 1 / (n_i + 2)
        to_num, to_counts, to_part = [], [], []
        if odd.any():
            rows = odd.any(axis=1)
            # the summary counted the residuals' ranks at 1 / (n_i + 2): take those out and put in the
            # ranks of the standardised values this pair really has (none when its sigma is not finite)
            base, w_odd, w_sum = _ranks(resid[rows]), w[rows], 1.0 / (s.n[sl][rows] + 2)
            own = base if np.array_equal(np.isfinite(est[rows]), np.isfinite(resid[rows])) else _ranks(est[rows])
            for j in np.flatnonzero(odd.any(axis=0)):
                k = odd[rows, j]
                to_num.append((j, np.nansum(own[k] * w_odd[k, j, None], axis=0)
                               - np.nansum(base[k] * w_sum[k, None], axis=0)))
        k_ev = np.full((len(le), J), np.nan)
        for j in np.flatnonzero(have[sl].any(axis=0)):
            with np.errstate(invalid="ignore"):  # pragma: no mutate (np.errstate: warnings only)
                gt, eq = est > zs[sl, j, None], est == zs[sl, j, None]
            wj = w[:, j]
            if (wj == wj[0]).all():  # a plain count when every pair has the same weight
                to_counts.append((j, wj[0], count_bool(gt, 0)))
            else:
                to_part.append((j, wj @ gt))
            n_eq = np.zeros(len(le), dtype=np.int64)
            if eq.any():
                n_eq = count_bool(eq, 1)
                to_part.append((j, 0.5 * (wj @ eq)))
            k_ev[:, j] = (le - count_bool(gt, 1) - n_eq) + 1 + np.divide(n_eq, 2.0)
        return sl, le, ok.sum(axis=0), to_num, to_counts, to_part, k_ev

    for sl, le, n_ok, to_num, to_counts, to_part, k_ev in inp.map_blocks(block):
        L_i[sl], K_ev[sl] = le, k_ev
        n_est += n_ok
        for j, add in to_num:
            num[j] += add
        for j, weight, c in to_counts:
            counts[j][weight] = counts[j].get(weight, 0) + c
        for j, add in to_part:
            part[j] += add
    for row, by_weight, rest in zip(num, counts, part):
        row += sum(c * wt for wt, c in by_weight.items()) + rest
    return num, n_est, K_ev, L_i


def count_bool(b: np.ndarray, axis: int) -> np.ndarray:
    """``np.count_nonzero(b, axis)`` for a 2-D bool block, summed as bytes (several times faster)."""
    return b.view(np.uint8).sum(axis=axis, dtype=np.uint16 if b.shape[axis] < 2**16 else np.int64).astype(np.int64)
