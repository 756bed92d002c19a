"""Placebo draws at their defaults and edges (issue 11, mutation testing:
benchmarks/MUTATION.md): default arguments called both implicitly and explicitly,
``clusters="pair"`` draws replayed from the same seed, a sample without any
admissible pseudo-date, and the one-line
errors matched in full.

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, ImpactError
from impact.inference.placebo import (
    _allowed_positions,
    _p_two_sided,
    draw_positions,
    placebo_draws,
    placebo_test,
)

EST, EV = (-40, -6), (-2, 2)
T = 220
DAY0 = 150


def fit(frame, assets=None):
    events = pd.DataFrame({"event_id": ["e"], "date": [frame.index[DAY0]]})
    return EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=EST,
                                   event_window=EV, contamination="ignore", roll_days=None, assets=assets).fit()


def panel(seed=3, n=3):
    """SYNTHETIC returns: market MKT and assets A0..; the last asset misses its last 30 returns."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, T)
    cols = {"MKT": m, **{f"A{i}": (0.5 + 0.2 * i) * m + rng.normal(0, 0.01, T) for i in range(n)}}
    frame = pd.DataFrame(cols, index=pd.Index(pd.bdate_range("2020-01-01", periods=T), name="date"))
    frame.iloc[T - 30:, frame.columns.get_loc(f"A{n - 1}")] = np.nan
    return frame


@pytest.fixture(scope="module")
def result():
    return fit(panel())


def test_draw_positions_defaults_are_seed_zero_guard_zero_and_event_clusters(result):
    implicit = draw_positions(result, 40)
    np.testing.assert_array_equal(implicit, draw_positions(result, 40, seed=0, guard=0, clusters="event"))
    assert not np.array_equal(implicit, draw_positions(result, 40, seed=1))
    assert not np.array_equal(implicit, draw_positions(result, 40, guard=1))


def test_pair_clusters_replay_the_same_generator(result):
    """clusters="pair": per asset (in row order), one integer draw per (draw, pair) from the
    asset's admissible rows, from one generator seeded with ``seed``."""
    got = draw_positions(result, 30, seed=5, clusters="pair")
    rng = np.random.default_rng(5)
    want = np.empty_like(got)
    rows = result.rows
    for lo, cand in _allowed_positions(result, 0).items():
        cols = np.flatnonzero(rows.lo == lo)
        want[:, cols] = cand[rng.integers(0, len(cand), size=(30, len(cols)))]
    np.testing.assert_array_equal(got, want)
    for j in range(got.shape[1]):
        assert len(np.unique(got[:, j])) > 10  # every draw its own date
        assert ((got[:, j] >= rows.lo[j]) & (got[:, j] < rows.hi[j])).all()


def test_event_clusters_share_one_date(result):
    got = draw_positions(result, 60, seed=2)
    dates = result.rows.D[got]
    assert (dates == dates[:, :1]).all()  # the assets of the event share the calendar date
    assert len(np.unique(got[:, 0])) > 10


def test_placebo_draws_and_test_defaults(result):
    obs, draws, pos = placebo_draws(result, (0, 0))
    assert draws.shape == (1000, 1) and pos.shape == (1000, 3)
    obs0, draws0, pos0 = placebo_draws(result, (0, 0), statistic="caar", n_draws=1000, seed=0, guard=0,
                                       clusters="event")
    np.testing.assert_array_equal(pos, pos0)
    np.testing.assert_array_equal(draws, draws0)
    table = placebo_test(result, (0, 0))
    assert int(table["n_draws"].iloc[0]) == 1000 and int(table["seed"].iloc[0]) == 0
    p, pct = _p_two_sided(obs, draws)
    assert table["p_value"].iloc[0] == pytest.approx(p[0], rel=1e-12)
    assert table["percentile"].iloc[0] == pytest.approx(pct[0], rel=1e-12)


def test_placebo_test_passes_guard_through(result):
    obs, draws, _ = placebo_draws(result, (0, 0), n_draws=50, guard=7)
    _, plain, _ = placebo_draws(result, (0, 0), n_draws=50)
    assert not np.array_equal(draws, plain)
    table = placebo_test(result, (0, 0), n_draws=50, guard=7)
    p, _ = _p_two_sided(obs, draws)
    assert table["p_value"].iloc[0] == pytest.approx(p[0], rel=1e-12)


def test_placebo_one_line_errors_in_full(result):
    msg = re.escape("placebo: no estimated pairs to re-run (see result.excluded)") + "$"
    with pytest.raises(ImpactError, match="^" + msg):
        placebo_draws(replace(result, rows=None), (0, 0), n_draws=2)
    with pytest.raises(ImpactError, match="^" + msg):
        placebo_draws(replace(result, pairs=result.pairs.iloc[:0]), (0, 0), n_draws=2)
    with pytest.raises(ImpactError, match="^" + re.escape(
            "placebo: option(s) prediction_error, sigma apply to a test statistic, not to statistic='caar'") + "$"):
        placebo_draws(result, (0, 0), n_draws=2, sigma="n", prediction_error=False)


def test_an_asset_without_admissible_dates_is_named():
    """A sample that holds the real estimation and event window and nothing more: no
    pseudo-date is admissible, and the first asset is named."""
    day0 = -EST[0]
    frame = panel(n=2).iloc[:day0 + EV[1] + 1]
    events = pd.DataFrame({"event_id": ["e"], "date": [frame.index[day0]]})
    res = EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=EST,
                                  event_window=EV, contamination="ignore", roll_days=None).fit()
    assert list(res.pairs["asset"]) == ["A0", "A1"]
    with pytest.raises(ImpactError, match="^" + re.escape(
            "placebo: A0 has no non-event dates with a full estimation and event window") + "$"):
        draw_positions(res, 3)
