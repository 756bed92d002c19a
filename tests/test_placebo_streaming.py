"""The placebo streams over blocks of draws (issue 16): the draws are identical whatever the
block sizes, the compact pseudo-dates expand to exactly :func:`draw_positions`, and
:func:`placebo_test` (compact, block by block) equals the summary of :func:`placebo_draws`.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy
from impact.inference import placebo as placebo_module
from impact.inference import pseudo_dates as dates_module
from impact.inference.placebo import _distinct, placebo_draws, placebo_summary, placebo_test
from impact.inference.pseudo_dates import PseudoDates, _allowed_positions, draw_positions, pseudo_dates


def _panel(n_assets=8, T=520, seed=7):
    """SYNTHETIC market-model returns (betas -0.5 to 1.8) with 2% holes, 30 masked sessions and
    10 event dates shared by every asset, two of them 4 sessions apart (overlapping windows)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=T)
    names = [f"S{i}" for i in range(n_assets)]
    m = rng.normal(2e-4, 0.01, T)
    R = np.outer(m, np.linspace(-0.5, 1.8, n_assets)) + rng.normal(0, 0.015, (T, n_assets))
    frame = pd.DataFrame(np.where(rng.random(R.shape) < 0.02, np.nan, R), index=dates, columns=names).assign(MKT=m)
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(10)],
                           "date": dates[[270, 274, 300, 330, 352, 380, 401, 430, 455, 490]]})
    mask = pd.DataFrame({"asset": rng.choice(names, 30), "date": rng.choice(dates, 30), "reason": "synthetic_mask"})
    return frame, events, mask.drop_duplicates(["asset", "date"])


@pytest.fixture(scope="module")
def results():
    frame, events, mask = _panel()
    mixed = EventStudy.from_returns(frame, events, market="MKT", model={"default": "market", "S3": "constant_mean"},
                                    estimation_window=(-200, -11), event_window=(-3, 3), estimation_exclusions=mask,
                                    roll_days=None, contamination="ignore").fit()
    excluded = EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=(-200, -11),
                                       event_window=(-3, 3), roll_days=None, contamination="exclude").fit()
    return {"mixed": mixed, "exclude": excluded}


def _cases(result):
    P = len(result.pairs)
    labels = np.array([f"g{i % 3}" for i in range(P)])
    weights = np.where(np.arange(P) % 4 == 0, -1.0, 1.0)
    weights[::5] = 0.0
    return [dict(window=None), dict(window=(-1, 1), clusters="pair"), dict(window=(-1, 1), clusters=labels),
            dict(window=(-2, 2), weights=weights, guard=2), dict(window=None, weights=weights),
            dict(window=(0, 0), weights=weights, clusters="pair"), dict(window=(-1, 1), statistic="bmp", n_draws=9)]


@pytest.mark.parametrize("name", ["mixed", "exclude"])
def test_draws_are_identical_whatever_the_block_sizes(results, name, monkeypatch):
    result = results[name]
    W = len(result.rel_days)
    for case in _cases(result):
        kw = {"n_draws": 40, "seed": 4, **case}
        window = kw.pop("window")
        whole = placebo_draws(result, window, **kw)
        table = placebo_test(result, window, **kw)
        # one draw per block, tiny fitting chunks and expansion blocks; then blocks of 3 draws
        for draw_cells, chunk_cells, block_cells in [(1, 1, 1), (3 * len(result.pairs) * W, 50, 7)]:
            with monkeypatch.context() as m:
                m.setattr(placebo_module, "DRAW_CELLS", draw_cells)
                m.setattr(placebo_module, "CHUNK_CELLS", chunk_cells)
                m.setattr(dates_module, "BLOCK_CELLS", block_cells)
                got = placebo_draws(result, window, **kw)
                for a, b in zip(got, whole):
                    np.testing.assert_array_equal(a, b)
                pd.testing.assert_frame_equal(placebo_test(result, window, **kw), table, check_exact=True)
        # placebo_test (compact pseudo-dates) is the summary of placebo_draws (whole day-0 rows)
        observed, draws, _ = whole
        pd.testing.assert_frame_equal(table, placebo_summary(result, window, observed, draws, kw["n_draws"], kw["seed"]),
                                      check_exact=True)


def test_the_statistic_is_computed_block_by_block(results, monkeypatch):
    result = results["mixed"]
    P, W = len(result.pairs), len(result.rel_days)
    seen = []
    block = placebo_module._block_draws
    monkeypatch.setattr(placebo_module, "_block_draws", lambda r, pos, *a: seen.append(pos.shape) or block(r, pos, *a))
    monkeypatch.setattr(placebo_module, "DRAW_CELLS", 3 * P * W + 1)
    placebo_test(result, (-1, 1), n_draws=10, seed=1)
    assert seen == [(3, P), (3, P), (3, P), (1, P)]
    seen.clear()
    monkeypatch.setattr(placebo_module, "DRAW_CELLS", 1)  # a block holds at least one draw
    placebo_test(result, (-1, 1), n_draws=3, seed=1)
    assert seen == [(1, P)] * 3


@pytest.mark.parametrize("name", ["mixed", "exclude"])
def test_the_running_sums_are_made_once_for_every_block(results, name, monkeypatch):
    calls = []
    sums = placebo_module._prefix_sums
    monkeypatch.setattr(placebo_module, "_prefix_sums", lambda rows: calls.append(1) or sums(rows))
    monkeypatch.setattr(placebo_module, "DRAW_CELLS", 1)
    placebo_test(results[name], None, n_draws=4, seed=1)
    assert len(calls) == 1
    placebo_test(results[name], (-1, 1), statistic="bmp", n_draws=2, seed=1)  # a test statistic refits instead
    assert len(calls) == 1


def test_a_weighted_window_without_event_days_is_zero_in_every_draw(results):
    """The window [10, 12] lies after the event window [-3, 3]: every CAR is an empty sum."""
    result = results["mixed"]
    weights = np.where(np.arange(len(result.pairs)) % 2 == 0, -1.0, 1.0)
    observed, draws, _ = placebo_draws(result, (10, 12), weights=weights, n_draws=3)
    np.testing.assert_array_equal(observed, [0.0])
    np.testing.assert_array_equal(draws, np.zeros((3, 1)))


@pytest.mark.parametrize("clusters", ["event", "pair", "labels"])
def test_compact_pseudo_dates_expand_to_the_drawn_rows(results, clusters):
    result = results["mixed"]
    P = len(result.pairs)
    labels = np.array([f"g{i % 3}" for i in range(P)]) if clusters == "labels" else clusters
    dates = pseudo_dates(result, 25, seed=6, clusters=labels)
    whole = draw_positions(result, 25, seed=6, clusters=labels)
    assert whole.dtype == np.int64 and whole.shape == (25, P)
    np.testing.assert_array_equal(dates.rows(), whole)
    np.testing.assert_array_equal(np.concatenate([dates.rows(b, b + 4) for b in range(0, 25, 4)]), whole)
    np.testing.assert_array_equal(dates.block(5, 17).rows(), whole[5:17])
    assert len(dates) == 25 and len(dates.block(5, 17)) == 12
    # what is kept: one small integer per draw and cluster (or per draw and pair)
    columns = {"event": result.pairs["event_id"].nunique(), "pair": P, "labels": 3}[clusters]
    assert dates.idx.shape == (25, columns) and dates.idx.dtype.itemsize <= 2


def test_pair_clusters_keep_the_candidate_numbers_in_the_smallest_type(results):
    dates = pseudo_dates(results["mixed"], 3, seed=2, clusters="pair")
    assert isinstance(dates, PseudoDates)
    assert dates.idx.dtype == np.min_scalar_type(int(np.diff(np.r_[np.unique(dates.base), len(dates.table)]).max()) - 1)
    assert (dates.idx.astype(np.int64) + dates.base[None, :] < len(dates.table)).all()


@pytest.mark.parametrize("n", [10, 10_000])
def test_distinct_is_unique_with_its_inverse(n):
    rng = np.random.default_rng(n)
    flat = rng.integers(0, 500, size=n)  # short (np.unique) and long (one mark per value) alike
    uniq, where = _distinct(flat, 500)
    want, inverse = np.unique(flat, return_inverse=True)
    np.testing.assert_array_equal(uniq, want)
    np.testing.assert_array_equal(where, inverse)
    np.testing.assert_array_equal(uniq[where], flat)


@pytest.mark.parametrize("guard", [0, 1, 4, 9])
def test_allowed_positions_equal_a_check_against_every_real_window(results, guard):
    """Two real events 4 sessions apart (windows overlapping) and eight more: each candidate
    is checked against every real event window, one by one."""
    result = results["exclude"]
    rows = result.rows
    (ea, _), (wa, wb) = result.study.estimation_window, result.study.event_window
    got = _allowed_positions(result, guard)
    assert sorted(got) == sorted(np.unique(rows.lo).tolist())
    for lo, allowed in got.items():
        mine = rows.lo == lo
        cand = np.arange(lo - ea, int(rows.hi[mine][0]) - wb)
        keep = [c for c in cand if all(c + wb + guard < p + wa or c + wa - guard > p + wb for p in rows.pos[mine])]
        np.testing.assert_array_equal(allowed, keep)
        assert len(keep) < len(cand)
