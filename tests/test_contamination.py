"""Event-window contamination: overlap detection on a labelled synthetic session index,
and its effect on estimation checked against statsmodels on real bundled prices."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact import EventStudy
from impact.data.prices import price_series
from impact.data.returns import benchmark_returns
from impact.errors import ImpactError
from impact.events.axes import distinct_axes, index_axes, search_by_axis
from impact.events.contamination import contamination

# SYNTHETIC session index (business days); only the positions matter here.
SESSIONS = pd.bdate_range("2024-01-01", periods=200)


def _pairs(positions: dict[str, int], asset: str = "X") -> pd.DataFrame:
    return pd.DataFrame({"event_id": list(positions), "asset": asset,
                         "day0": [SESSIONS[p] for p in positions.values()], "flags": ""})


def test_overlaps_are_windows_closer_than_their_length():
    # windows (-2, 2): span 4 sessions; a-b 3 apart overlap, b-c 5 apart do not, c-d same day.
    pairs = _pairs({"a": 50, "b": 53, "c": 58, "d": 58})
    found = contamination(pairs, {"X": SESSIONS}, (-2, 2))
    assert list(found.flags) == ["overlap:b@+3", "overlap:a@-3", "overlap:d@+0", "overlap:c@+0"]
    assert found.overlaps[["event_id", "other_id", "gap"]].values.tolist() == [["a", "b", 3], ["c", "d", 0]]
    assert (found.reason == "").all()
    # Every event's own window, by reason; the study leaves them out of *other* pairs' estimation.
    ex = found.exclusions
    assert len(ex) == 4 * 5
    assert list(ex.loc[ex["reason"] == "event_window:b", "date"]) == list(SESSIONS[51:56])


def test_merge_keeps_the_first_event_of_each_cluster():
    # span 4: b and c are within reach of a; d overlaps c but not a, so it starts a new
    # cluster (no chaining); e is alone.
    pairs = _pairs({"a": 50, "b": 53, "c": 54, "d": 57, "e": 90})
    found = contamination(pairs, {"X": SESSIONS}, (-2, 2), mode="merge")
    assert found.flags[0] == "overlap:b@+3;overlap:c@+4;merged:b+c"
    assert found.flags[3] == "overlap:b@-4;overlap:c@-3"
    assert found.reason.tolist() == [
        "", "merged into a: event windows overlap (day 0 3 sessions after a's)",
        "merged into a: event windows overlap (day 0 4 sessions after a's)", "", ""]
    decisions = found.overlaps.set_index(["event_id", "other_id"])["decision"].to_dict()
    assert decisions == {("a", "b"): "merged into a", ("a", "c"): "merged into a",
                         ("b", "c"): "merged into a",
                         ("b", "d"): "flagged; other window excluded from estimation",
                         ("c", "d"): "flagged; other window excluded from estimation"}


def test_ignore_mode_flags_without_exclusions_and_skips_pairs_without_day0():
    pairs = _pairs({"a": 10, "b": 11})
    pairs.loc[2] = ["z", "X", pd.NaT, ""]
    pairs.loc[3] = ["w", "Y", SESSIONS[5], ""]          # asset without sessions: skipped
    pairs.loc[4] = ["s", "X", pd.Timestamp("2024-01-06"), ""]  # a Saturday: placed on Monday (position 5)
    found = contamination(pairs, {"X": SESSIONS}, (-1, 1), mode="ignore")
    assert found.exclusions.empty
    assert found.flags.tolist() == ["overlap:b@+1", "overlap:a@-1", "", "", ""]
    found = contamination(pairs, {"X": SESSIONS}, (-1, 1))
    assert list(found.exclusions.loc[found.exclusions["reason"] == "event_window:s", "date"]) == list(SESSIONS[4:7])
    with pytest.raises(ImpactError, match="unknown contamination mode 'drop'"):
        contamination(pairs, {"X": SESSIONS}, (-1, 1), mode="drop")


def _spy(prices):
    closes = price_series(prices[prices["symbol"].isin(["SPY", "GSPC"])])
    r = np.log(closes["SPY"]).diff()
    return r, benchmark_returns(closes["GSPC"], r.index, "log")


def test_study_leaves_other_events_windows_out_of_estimation(prices):
    r, m = _spy(prices)
    a = r.index.get_loc(pd.Timestamp("2025-03-03"))
    b = a + 40                                           # B's estimation window [-260, -11] holds A's [-5, +5]
    events = pd.DataFrame({"event_id": ["A", "B"], "asset": "SPY", "date": [r.index[a], r.index[b]]})
    ignored = EventStudy(prices, events, market="GSPC", contamination="ignore").fit().params.set_index("event_id")
    result = EventStudy(prices, events, market="GSPC").fit()
    params = result.params.set_index("event_id")
    assert ignored.loc["B", "n_masked"] == 0 and ignored.loc["B", "n_obs"] == 250
    assert params.loc["A", "n_masked"] == 0 and params.loc["A", "n_obs"] == 250
    assert params.loc["B", "n_masked"] == 11 and params.loc["B", "n_obs"] == 239
    est = pd.DataFrame({"y": r.iloc[b - 260: b - 10], "x": m.iloc[b - 260: b - 10]}).drop(index=r.index[a - 5: a + 6])
    fit = sm.OLS(est["y"], sm.add_constant(est["x"])).fit()
    assert params.loc["B", "alpha"] == pytest.approx(fit.params["const"], abs=1e-12)
    assert params.loc["B", "beta"] == pytest.approx(fit.params["x"], abs=1e-10)
    assert params.loc["B", "sigma"] ** 2 == pytest.approx(fit.mse_resid, abs=1e-12)
    assert result.alignment["flags"].tolist() == ["", ""]  # windows 40 sessions apart do not overlap
    assert result.contamination.empty


def test_study_flags_or_merges_events_closer_than_the_event_window(prices):
    r, _ = _spy(prices)
    a = r.index.get_loc(pd.Timestamp("2025-04-02"))
    events = pd.DataFrame({"event_id": ["A", "B"], "asset": "SPY", "date": [r.index[a], r.index[a + 3]]})
    flagged = EventStudy(prices, events, market="GSPC").fit()
    assert flagged.alignment.set_index("event_id")["flags"].to_dict() == {"A": "overlap:B@+3", "B": "overlap:A@-3"}
    assert len(flagged.params) == 2 and flagged.excluded.empty
    assert flagged.contamination[["event_id", "other_id", "gap"]].values.tolist() == [["A", "B", 3]]
    merged = EventStudy(prices, events, market="GSPC", contamination="merge").fit()
    assert merged.params["event_id"].tolist() == ["A"]
    assert merged.excluded[["event_id", "reason"]].values.tolist() == [
        ["B", "merged into A: event windows overlap (day 0 3 sessions after A's)"]]
    assert merged.alignment.set_index("event_id").loc["A", "flags"] == "overlap:B@+3;merged:B"
    # The kept event's numbers are those of the flagged run (merging only drops B).
    np.testing.assert_allclose(merged.car((-1, 1))["car"], flagged.car((-1, 1)).iloc[:1]["car"], rtol=0, atol=0)
    with pytest.raises(ImpactError, match="unknown contamination 'drop'"):
        EventStudy(prices, events, market="GSPC", contamination="drop")


def test_events_before_a_series_starts_are_not_placed_or_merged():
    """MP listed in June 2020: the 2018 events cannot overlap each other on it."""
    pairs = pd.DataFrame({"event_id": ["a", "b", "c"], "asset": "X",
                          "day0": [SESSIONS[0] - pd.Timedelta(days=30), SESSIONS[0] - pd.Timedelta(days=20),
                                   SESSIONS[3]]})
    found = contamination(pairs, {"X": SESSIONS}, (-2, 2), mode="merge")
    assert found.overlaps.empty
    assert (found.reason == "").all()
    assert list(found.windows["event_id"]) == ["c"]


def _brute_force(pairs: pd.DataFrame, span: int, mode: str) -> tuple[list[str], list[str], list[tuple]]:
    """Every pair against every other, in Python (O(n^2)): the flags, reasons and overlaps the
    module's sorted sweep must reproduce. Events sort by (asset, position, id); an event sees the
    others within `span` sessions by their position, at one position the later ones first."""
    pos = {k: SESSIONS.searchsorted(d) for k, d in pairs["day0"].items()}
    order = sorted(pairs.index, key=lambda k: (pairs.at[k, "asset"], pos[k], pairs.at[k, "event_id"]))
    rank = {k: n for n, k in enumerate(order)}
    head = {}
    for n, k in enumerate(order):
        prev = order[n - 1] if n else None
        same = prev is not None and pairs.at[prev, "asset"] == pairs.at[k, "asset"]
        head[k] = head[prev] if same and pos[k] - pos[head[prev]] <= span else k
    flags, reasons, overlaps = {}, {}, []
    for k in order:
        near = [m for m in order if m != k and pairs.at[m, "asset"] == pairs.at[k, "asset"]
                and abs(pos[m] - pos[k]) <= span]
        near.sort(key=lambda m: (pos[m], rank[m] < rank[k], rank[m]))
        notes = [f"overlap:{pairs.at[m, 'event_id']}@{pos[m] - pos[k]:+d}" for m in near]
        members = [m for m in order if head[m] == k and m != k] if mode == "merge" else []
        notes += ["merged:" + "+".join(pairs.at[m, "event_id"] for m in members)] if members else []
        flags[k] = ";".join(notes)
        first = pairs.at[head[k], "event_id"]
        reasons[k] = (f"merged into {first}: event windows overlap (day 0 {pos[k] - pos[head[k]]} sessions "
                      f"after {first}'s)") if mode == "merge" and head[k] != k else ""
        for m in near:
            if rank[m] > rank[k]:
                decision = ("merged into " + pairs.at[head[k], "event_id"] if mode == "merge" and head[m] == head[k]
                            else "flagged" if mode == "ignore" else "flagged; other window excluded from estimation")
                overlaps.append((pairs.at[k, "event_id"], pairs.at[m, "event_id"], pos[m] - pos[k], decision))
    return [flags[k] for k in pairs.index], [reasons[k] for k in pairs.index], overlaps


@pytest.mark.parametrize("chunk", [1 << 20, 7])
@pytest.mark.parametrize("mode", ["exclude", "merge", "ignore"])
def test_sweep_equals_every_pair_against_every_other(mode, chunk, monkeypatch):
    monkeypatch.setattr("impact.events.contamination.RENDER_CHUNK", chunk)  # 7: flags rendered in many chunks
    # SYNTHETIC: 120 events on two assets, several per session (ties), ids out of order.
    rng = np.random.default_rng(7)
    n = 120
    pairs = pd.DataFrame({"event_id": [f"e{k}" for k in rng.permutation(n)], "asset": rng.choice(["X", "Y"], n),
                          "day0": SESSIONS[rng.integers(20, 60, n)], "flags": ""}, index=rng.permutation(n) + 500)
    found = contamination(pairs, {"X": SESSIONS, "Y": SESSIONS}, (-2, 3), mode=mode)
    flags, reasons, overlaps = _brute_force(pairs, 5, mode)
    assert found.flags.tolist() == flags
    assert found.reason.tolist() == reasons
    assert found.overlaps[["event_id", "other_id", "gap", "decision"]].values.tolist() == [list(o) for o in overlaps]
    assert (found.overlaps["other_day0"] - found.overlaps["day0"] >= pd.Timedelta(0)).all()
    assert found.flags.str.count("overlap:").sum() == 2 * len(overlaps) > 1000


def test_distinct_axes_and_one_search_per_axis_equal_a_search_per_array():
    """SYNTHETIC session axes: equal arrays (same content, other objects) share a code, arrays of the
    same length and end points but other middles do not, an empty one has its own; the search per
    axis equals np.searchsorted per entry, -1 where there is no axis."""
    a = np.arange(0, 100, 2, dtype=np.int64)
    b = a.copy()
    c = a.copy()
    c[10] += 1  # same length and ends as a, another middle
    axes = [a, np.zeros(0, dtype=np.int64), b, c, a[:30]]
    code, firsts = distinct_axes(axes)
    assert code.tolist() == [0, 1, 0, 2, 3] and firsts == [0, 1, 3, 4]
    rng = np.random.default_rng(0)
    axis_of = rng.integers(-1, 4, 200)
    values = rng.integers(-5, 110, 200)
    got = search_by_axis([axes[f] for f in firsts], axis_of, values)
    want = [np.searchsorted(axes[firsts[k]], v, side="left") if k >= 0 else -1 for k, v in zip(axis_of, values)]
    assert got.tolist() == want
    # Runs of one axis and value (one event's pairs across a frame's assets), searched once per run:
    # runs of several lengths, a value repeated on another axis, runs without an axis.
    lengths = rng.integers(1, 9, 200)
    axis_runs, value_runs = np.repeat(axis_of, lengths), np.repeat(values, lengths)
    value_runs[::7] = value_runs[0]
    got = search_by_axis([axes[f] for f in firsts], axis_runs, value_runs)
    want = [np.searchsorted(axes[firsts[k]], v, side="left") if k >= 0 else -1 for k, v in zip(axis_runs, value_runs)]
    assert got.tolist() == want and len(got) > 2 * 200


def test_index_axes_convert_each_index_object_once_and_compare_in_nanoseconds():
    """SYNTHETIC session indexes: entries holding one object share its axis; an equal index in another
    unit (microseconds) is the same axis in nanoseconds; another calendar is another axis; None is -1."""
    ns = pd.bdate_range("2024-01-01", periods=30).as_unit("ns")
    us = pd.DatetimeIndex(ns.to_numpy().astype("datetime64[us]"))
    other = ns.delete(5)
    code, axes, units = index_axes([ns, None, ns, us, other, ns])
    assert code.tolist() == [0, -1, 0, 0, 1, 0] and units == {"ns", "us"}
    np.testing.assert_array_equal(axes[0], ns.asi8)
    np.testing.assert_array_equal(axes[1], other.asi8)
    assert axes[0].dtype == np.int64 and len(axes) == 2


def test_no_overlap_makes_no_texts_until_asked_and_codes_follow_the_pairs():
    """SYNTHETIC sessions, windows apart: no flag or reason text is made, yet both read as "" per
    pair on the input index; the asset and id codes are the pairs' own (ids coded in sorted order)."""
    pairs = _pairs({"b": 50, "a": 70, "c": 90}).set_axis([7, 8, 9])
    found = contamination(pairs, {"X": SESSIONS}, (-2, 2), "merge")
    assert found.flag_texts is None and found.reason_texts is None and found.overlaps.empty
    assert found.flags.tolist() == found.reason.tolist() == ["", "", ""] and list(found.flags.index) == [7, 8, 9]
    asset_codes, names, id_codes = found.codes
    assert asset_codes.tolist() == [0, 0, 0] and names.tolist() == ["X"] and id_codes.tolist() == [1, 0, 2]
    merged = contamination(_pairs({"a": 50, "b": 51}), {"X": SESSIONS}, (-2, 2), "merge")
    assert merged.reason.tolist() == ["", "merged into a: event windows overlap (day 0 1 sessions after a's)"]
