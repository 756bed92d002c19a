"""The prefix-sum fit's shared regressor sums: in a block of assets with the same regressor rows
(one market on one calendar) and the same usable rows, the regressors' window sums are taken
from one asset's rows. On SYNTHETIC panels they must equal the window-by-window fit, and a block
where any asset differs (a gap, other events left out, another benchmark) must not take them."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import impact.study.engine as engine_module
from impact import EventStudy
from impact.study.engine import _shared_segment, regressor_sources


def _panel(n_assets=24, T=700, seed=8):
    """SYNTHETIC market-model returns on one business-day calendar, no missing values."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2016-01-04", periods=T)
    m = rng.normal(3e-4, 0.01, T)
    R = 2e-4 + m[:, None] * rng.uniform(0.2, 1.8, n_assets) + rng.normal(0, 0.015, (T, n_assets))
    frame = pd.DataFrame(R, index=dates, columns=[f"S{i:02d}" for i in range(n_assets)])
    frame["MKT"], frame["ALT"] = m, rng.normal(1e-4, 0.012, T)
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(12)],
                           "date": dates[np.sort(rng.choice(np.arange(260, T - 10), 12, replace=False))]})
    return frame, events


def _spy(monkeypatch) -> list:
    """Record, per block, whether the shared sums were taken."""
    seen: list = []
    real = engine_module._shared_segment

    def spy(*args):
        out = real(*args)
        seen.append(out is not None)
        return out

    monkeypatch.setattr(engine_module, "_shared_segment", spy)
    return seen


def _fits(study: EventStudy):
    study.engine = "moments"
    fast = study.fit()
    study.engine = "windows"
    slow = study.fit()
    return fast, slow


def _assert_same(fast, slow):
    pd.testing.assert_frame_equal(fast.excluded, slow.excluded)
    pd.testing.assert_frame_equal(fast.params, slow.params, check_exact=False, atol=1e-12, rtol=0)
    np.testing.assert_allclose(fast.abnormal, slow.abnormal, atol=1e-13, rtol=0)
    np.testing.assert_allclose(fast.estimation_masked, slow.estimation_masked)
    fc, sc = fast.car((-1, 1)), slow.car((-1, 1))
    np.testing.assert_allclose(fc["se"], sc["se"], atol=1e-13, rtol=0)
    np.testing.assert_allclose(fc["t"], sc["t"], atol=1e-9, rtol=0)


@pytest.mark.parametrize("contamination", ["ignore", "exclude"])
def test_shared_sums_equal_window_fits(contamination, monkeypatch):
    """Every asset with the same events: under "exclude" the other events' windows are left out of
    every asset's estimation rows alike, so the shared sums still apply (and count those rows)."""
    frame, events = _panel()
    seen = _spy(monkeypatch)
    study = EventStudy.from_returns(frame.drop(columns="ALT"), events, market="MKT", estimation_window=(-250, -11),
                                    event_window=(-3, 3), contamination=contamination, roll_days=None)
    fast, slow = _fits(study)
    assert seen and all(seen)
    assert len(fast.pairs) == 24 * 12
    if contamination == "exclude":  # events closer than the estimation window: rows left out
        assert fast.estimation_masked.max() > 0
    _assert_same(fast, slow)


def test_blocks_that_differ_take_their_own_sums(monkeypatch):
    """Blocks of three assets: one with a gap, one with its own events (other rows left out under
    "exclude"), one against another benchmark; the blocks without them are shared."""
    frame, events = _panel()
    frame.iloc[400, 1] = np.nan  # S01: a missing return inside estimation windows
    assets = [f"S{i:02d}" for i in range(24)]
    events = pd.concat([events.iloc[3:].assign(asset=a) if a == "S19" else events.assign(asset=a) for a in assets],
                       ignore_index=True)
    monkeypatch.setattr(engine_module, "BLOCK_ROWS", 3 * 720)
    monkeypatch.setenv("IMPACT_THREADS", "1")  # blocks in order: the spy's list reads block by block
    seen = _spy(monkeypatch)
    study = EventStudy.from_returns(frame, events, market={"S23": "ALT", "default": "MKT"},
                                    estimation_window=(-250, -11), event_window=(-3, 3), contamination="exclude",
                                    roll_days=None)
    fast, slow = _fits(study)
    # blocks: [padding, S00-S02] (S01's gap), then S03-S05, ..., [S18-S20] (S19's events), [S21-S23] (ALT)
    assert seen == [False, True, True, True, True, True, False, False]
    _assert_same(fast, slow)


def test_shared_segment_needs_one_group_one_length_and_the_same_rows():
    """Direct cases: segments (start, length) with their data rows, usable and finite rows."""
    starts, lengths = np.array([0, 2, 7, 12]), np.array([2, 5, 5, 5])
    rows, group = np.array([0, 4, 4, 4]), np.array([-1, 3, 3, 3])
    u = np.zeros(17, dtype=bool)
    for s in starts[1:]:
        u[s:s + 4] = True
    u[[3, 8, 13]] = False  # the same row of each asset left out (a masked event window)
    finite = u.copy()
    count = np.add.reduceat(u.astype(int), starts)
    rows_given = rows.copy()
    rows_given[1:] = 4
    assert _shared_segment(u, finite, starts, lengths, count, rows_given, group) == 1
    other = group.copy()
    other[3] = 4
    assert _shared_segment(u, finite, starts, lengths, count, rows_given, other) is None  # another benchmark
    assert _shared_segment(u, finite, starts, lengths, count, rows_given, np.array([-1, -1, -1, -1])) is None
    moved = u.copy()
    moved[[13, 14]] = True, False  # the same count, another row
    assert _shared_segment(moved, moved, starts, lengths, np.add.reduceat(moved.astype(int), starts), rows_given,
                           group) is None
    masked = finite.copy()
    masked[8] = True  # finite yet unusable in one asset only (a masked row where others have a gap)
    assert _shared_segment(u, masked, starts, lengths, count, rows_given, group) is None
    assert _shared_segment(u, finite, starts, np.array([2, 5, 5, 6]), count, rows_given, group) is None
    assert _shared_segment(u, finite, starts, lengths, count, np.zeros(4, dtype=int), group) is None  # no data
    # an asset without rows between two (its padding alone): the others' rows are not one grid
    starts, lengths = np.array([0, 2, 7, 9]), np.array([2, 5, 2, 5])
    u = np.zeros(14, dtype=bool)
    u[[4, 5, 9, 10]] = True  # one grid would line rows 2-6 up with 7-11: the same pattern, wrongly
    count = np.add.reduceat(u.astype(int), starts)
    assert _shared_segment(u, u, starts, lengths, count, np.array([0, 4, 0, 4]), np.array([-1, 3, -1, 3])) is None


def test_rows_read_regressors_from_the_first_asset_that_shares_them():
    """The kept rows name, per asset, where its regressor rows are read: the first asset of one
    market on one calendar; the values gathered are those of the pair's own rows, windows past the
    series' start included (NaN there either way)."""
    frame, events = _panel(n_assets=5, T=400)
    study = EventStudy.from_returns(frame.drop(columns="ALT"), events, market="MKT", estimation_window=(-250, -11),
                                    event_window=(-3, 3), contamination="ignore", roll_days=None)
    rows = study.fit().rows
    starts, source = rows.x_source
    assert len(starts) == 5 and (source == starts[0]).all()
    assert (rows.x_rows(rows.pos, rows.lo) - rows.pos == starts[0] - rows.lo).all()
    offsets = np.arange(-300, 4)  # reaches before the first row of every series
    shared, own = rows.gather(offsets, dates=False), replace(rows, x_source=None).gather(offsets, dates=False)
    assert (~shared["inside"]).any()
    np.testing.assert_array_equal(shared["x"], own["x"])
    np.testing.assert_array_equal(shared["y"], own["y"])


def test_regressor_sources_name_the_first_asset_of_each_group():
    offsets = {"A": 6, "B": 20, "C": 40, "D": 60, "E": 80}
    assert regressor_sources(offsets, [0, 1, 0, 1, 2]) == {"A": 6, "B": 20, "C": 6, "D": 20, "E": 80}
