"""Engine "dask": the fit and the placebo draws on a LocalCluster (2 worker processes) equal the
local engine's, on a SYNTHETIC panel with holes, masked sessions, shared event dates and mixed models."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, ImpactError
from impact.inference.placebo import placebo_draws
from impact.study.distributed import date_partitions

distributed = pytest.importorskip("distributed", reason="the dask extra: pip install 'impact[dask]'")

TOL = {"check_exact": False, "rtol": 0, "atol": 1e-12}


def _synthetic(n_assets=10, T=600, seed=5):
    """SYNTHETIC market-model returns with random holes; 12 event dates shared by every asset."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2016-01-01", periods=T)
    m = rng.normal(2e-4, 0.01, T)
    R = 1e-4 + m[:, None] * rng.uniform(-0.5, 1.8, n_assets) + rng.normal(0, 0.015, (T, n_assets))
    R[rng.random(R.shape) < 0.02] = np.nan
    frame = pd.DataFrame(R, index=dates, columns=[f"S{i}" for i in range(n_assets)])
    frame["MKT"] = m
    events = pd.DataFrame({"event_id": [f"E{j}" for j in range(12)],
                           "date": dates[np.sort(rng.choice(np.arange(270, T - 8), 12, replace=False))]})
    mask = pd.DataFrame({"asset": [f"S{i}" for i in rng.integers(0, n_assets, 40)],
                         "date": dates[rng.integers(0, T, 40)], "reason": "synthetic_mask"}).drop_duplicates(["asset", "date"])
    return frame, events, mask


def _study(engine: str) -> EventStudy:
    frame, events, mask = _synthetic()
    study = EventStudy.from_returns(frame, events, market="MKT", model={"default": "market", "S3": "constant_mean"},
                                    estimation_exclusions=mask, roll_days=None, engine=engine)
    study.chunk_size, study.partition_size = 7, 25  # several chunks per task, several tasks
    return study


def test_dask_engine_without_dask_or_client_is_a_one_line_error(monkeypatch):
    # first in the file: once the module's cluster runs, get_client() would find it
    study = _study("dask")
    with pytest.raises(ImpactError, match="no Dask client is running"):
        study.fit()
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    with pytest.raises(ImpactError, match=r"pip install 'impact\[dask\]'"):
        study.fit()
    study.engine = "spark"
    with pytest.raises(ImpactError, match="unknown engine 'spark'"):
        study.fit()
    with pytest.raises(ImpactError, match="must be a dask.distributed Client"):
        _study("windows").fit(client=object())


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def fits(client):
    return _study("windows").fit(), _study("dask").fit(client=client)


def test_dask_fit_equals_the_local_engine(fits):
    local, remote = fits
    assert len(local.pairs) > 80 and len(local.excluded) > 0 and (local.pairs["flags"] != "").any()
    day0 = local.dates[:, list(local.rel_days).index(0)]
    assert len(date_partitions(day0, 25)) >= 4  # the work was really split
    pd.testing.assert_frame_equal(local.pairs, remote.pairs)
    pd.testing.assert_frame_equal(local.ar, remote.ar, **TOL)
    pd.testing.assert_frame_equal(local.car((-1, 1)), remote.car((-1, 1)), **TOL)
    pd.testing.assert_frame_equal(local.params, remote.params, **TOL)
    pd.testing.assert_frame_equal(local.excluded, remote.excluded)
    pd.testing.assert_frame_equal(local.alignment, remote.alignment)
    pd.testing.assert_frame_equal(local.tests, remote.tests, **TOL)
    np.testing.assert_array_equal(local.estimation_masked, remote.estimation_masked)
    assert (local.params["model"] == "constant_mean").sum() > 0  # mixed models crossed the wire


@pytest.mark.parametrize("statistic", ["caar", "bmp"])
def test_dask_placebo_draws_equal_the_local_draws_for_a_seed(fits, client, statistic):
    local = fits[0]
    n_draws = 60 if statistic == "caar" else 12
    options = {"statistic": statistic, "n_draws": n_draws, "seed": 7}
    _, draws, positions = placebo_draws(local, (-1, 1), **options)
    _, remote, remote_positions = placebo_draws(local, (-1, 1), client=client, **options)
    np.testing.assert_array_equal(positions, remote_positions)
    np.testing.assert_allclose(remote, draws, rtol=0, atol=1e-12)
    assert np.isfinite(draws).sum() > n_draws // 2 and np.std(draws) > 0


def test_date_partitions_keep_every_date_whole():
    rng = np.random.default_rng(0)
    day0 = np.datetime64("2020-01-01") + rng.integers(0, 30, 500).astype("timedelta64[D]")
    parts = date_partitions(day0, 40)
    assert sorted(np.concatenate(parts).tolist()) == list(range(500))
    owners = [{d for d in day0[p]} for p in parts]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1:])
    assert all(len(p) <= 40 or len(set(day0[p])) == 1 for p in parts) and len(parts) >= 500 // 40
