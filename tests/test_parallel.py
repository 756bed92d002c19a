"""Threads for the block loops (impact/parallel.py): results in order, the same numbers whatever
the number of threads (SYNTHETIC panels)."""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impact.study.engine as engine_module
from impact import EventStudy
from impact.inference.battery import TESTS
from impact.inference.inputs import inputs
from impact.parallel import ordered_map, threads
from impact.study.statistics import PVALUE_BLOCK, t_pvalue
from impact.study.windows import DAY_SUM_BLOCK, centred_day_sums


def test_ordered_map_keeps_the_order_and_runs_on_several_threads(monkeypatch):
    monkeypatch.setenv("IMPACT_THREADS", "3")
    seen = set()

    def work(i):
        seen.add(threading.get_ident())
        return i * i

    assert list(ordered_map(work, range(50))) == [i * i for i in range(50)]
    assert len(seen) > 1
    monkeypatch.setenv("IMPACT_THREADS", "1")
    seen.clear()
    assert list(ordered_map(work, range(5))) == [0, 1, 4, 9, 16]
    assert seen == {threading.get_ident()}  # one thread: the caller's own


@pytest.mark.parametrize(("given", "want"), [("1", 1), ("3", 3), ("0", 1), ("-2", 1), ("four", 1), (" 2 ", 2)])
def test_impact_threads_is_read_and_a_bad_value_runs_one_thread(monkeypatch, given, want):
    monkeypatch.setenv("IMPACT_THREADS", given)
    assert threads() == want


def test_an_error_in_a_block_reaches_the_caller(monkeypatch):
    monkeypatch.setenv("IMPACT_THREADS", "2")

    def work(i):
        if i == 7:
            raise ValueError("block 7")
        return i

    with pytest.raises(ValueError, match="block 7"):
        list(ordered_map(work, range(20)))


def _study(seed: int = 0) -> EventStudy:
    rng = np.random.default_rng(seed)
    T, N = 700, 60
    dates = pd.bdate_range("2015-01-01", periods=T)
    m = rng.normal(0, 0.01, T)
    R = m[:, None] * rng.uniform(0.5, 1.5, N) + rng.normal(0, 0.02, (T, N))
    R[rng.random(R.shape) < 0.02] = np.nan
    frame = pd.DataFrame(R, index=dates, columns=[f"A{i}" for i in range(N)])
    frame["MKT"] = m
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(25)],
                           "date": dates[rng.choice(np.arange(300, T - 10), 25, replace=False)]})
    study = EventStudy.from_returns(frame, events, market="MKT", estimation_window=(-250, -11), event_window=(-3, 3),
                                    contamination="exclude", engine="moments")
    return study


def test_fit_and_battery_are_the_same_on_one_thread_and_on_four(monkeypatch):
    """The prefix-sum fit in blocks of rows and every test of the battery in blocks of pairs, small
    blocks so many run side by side: bit for bit the same on 1 and 4 threads."""
    monkeypatch.setattr(engine_module, "BLOCK_ROWS", 2_000)
    runs = {}
    for n in ("1", "4"):
        monkeypatch.setenv("IMPACT_THREADS", n)
        result = _study().fit()
        inputs(result, chunk_size=37)  # kept on the result: every test below reads blocks of 37 pairs
        tables = {name: result.test(name) for name in TESTS if name != "placebo"}
        tables.update({f"{name}[-1,1]": result.test(name, window=(-1, 1)) for name in ("corrado_rank", "grank")})
        runs[n] = (result.params, result.ar, tables)
        assert "arrays" not in engine_module._SCRATCH.__dict__  # the blocks' work arrays are not kept
    pd.testing.assert_frame_equal(runs["1"][0], runs["4"][0], check_exact=True)
    pd.testing.assert_frame_equal(runs["1"][1], runs["4"][1], check_exact=True)
    for name, table in runs["1"][2].items():
        pd.testing.assert_frame_equal(table, runs["4"][2][name], check_exact=True, obj=name)
    assert len(runs["1"][0]) > 1_000


def test_window_by_window_fit_in_small_chunks_is_the_same_on_one_thread_and_on_four(monkeypatch):
    """SYNTHETIC panel with holes and masked windows: chunks of 16 pairs fitted side by side and
    written in their order give the one-thread result bit for bit, exclusions and flags included."""
    runs = {}
    for n in ("1", "4"):
        monkeypatch.setenv("IMPACT_THREADS", n)
        study = _study(seed=3)
        study.engine, study.chunk_size = "windows", 16
        result = study.fit()
        runs[n] = (result.params, result.ar, result.excluded, result.alignment)
    for one, four in zip(runs["1"], runs["4"]):
        pd.testing.assert_frame_equal(one, four, check_exact=True)
    assert len(runs["1"][0]) > 1_000 and len(runs["1"][2]) > 0


def test_t_pvalues_in_blocks_equal_one_scipy_call_bit_for_bit(monkeypatch):
    """Blocks of p-values on the threads: the same bits as scipy's t survival function in one call,
    with a df per statistic or one df, NaN and non-positive df included (SYNTHETIC t values)."""
    rng = np.random.default_rng(11)
    n = 2 * PVALUE_BLOCK + 12_345
    t = rng.standard_t(5, n)
    t[::997] = np.nan
    df = rng.integers(-1, 300, n).astype(float)
    with np.errstate(invalid="ignore"):
        want = 2 * stats.t.sf(np.abs(t), np.where(df > 0, df, np.nan))
    monkeypatch.setenv("IMPACT_THREADS", "3")
    np.testing.assert_array_equal(t_pvalue(t, df), want)
    np.testing.assert_array_equal(t_pvalue(t, 248.0), 2 * stats.t.sf(np.abs(t), 248.0))
    monkeypatch.setenv("IMPACT_THREADS", "1")
    np.testing.assert_array_equal(t_pvalue(t, df), want)


def test_centred_day_sums_in_blocks_equal_the_day_by_day_loop_bit_for_bit(monkeypatch):
    """SYNTHETIC regressors over three blocks of pairs (a partial one last), a window of some days:
    the blocked sums on the threads equal adding (x_d - xbar) day after day over all pairs at once."""
    rng = np.random.default_rng(12)
    P = 2 * DAY_SUM_BLOCK + 777
    X, xbar = rng.normal(size=(P, 7, 2)) * 1e-2, rng.normal(size=(P, 2)) * 1e-3
    days = np.array([1, 2, 3, 4])
    want = np.zeros_like(xbar)
    for d in days:
        want += X[:, d, :] - xbar
    monkeypatch.setenv("IMPACT_THREADS", "3")
    np.testing.assert_array_equal(centred_day_sums(X, xbar, days), want)
    monkeypatch.setenv("IMPACT_THREADS", "1")
    np.testing.assert_array_equal(centred_day_sums(X, xbar, days), want)


@pytest.mark.parametrize("lengths", [[5, 5, 5, 5], [2, 5, 5, 5], [7], [3, 0, 4]])
@pytest.mark.parametrize("k", [None, 1, 3])
def test_segment_means_subtracted_by_broadcast_or_repeat_equal_the_plain_formula(lengths, k):
    """SYNTHETIC rows in segments of one length (broadcast) or of several (repeat), returns (n,) or
    regressors (n, k): bit for bit values - np.repeat(means, lengths)."""
    rng = np.random.default_rng(13)
    lengths = np.array(lengths)
    shape = (int(lengths.sum()),) + (() if k is None else (k,))
    values, means = rng.normal(size=shape), rng.normal(size=(len(lengths),) + shape[1:])
    out = np.empty(shape)
    engine_module.subtract_segment_means(values, means, lengths, out)
    np.testing.assert_array_equal(out, values - np.repeat(means, lengths, axis=0))
