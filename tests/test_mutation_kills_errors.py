"""One-line errors of the battery inputs and MVRM matched in full (issue 11, mutation
testing: benchmarks/MUTATION.md).

All data in this file is SYNTHETIC (seeded random numbers), labelled as such.
"""
from __future__ import annotations

import re
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, ImpactError
from impact.inference.inputs import inputs
from impact.inference.mvrm import mvrm


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(6)
    T = 160
    m = rng.normal(0, 0.01, T)
    frame = pd.DataFrame({"MKT": m, "A0": 0.9 * m + rng.normal(0, 0.01, T), "A1": 0.5 * m + rng.normal(0, 0.01, T)},
                         index=pd.Index(pd.bdate_range("2021-01-01", periods=T), name="date"))
    events = pd.DataFrame({"event_id": ["e"], "date": [frame.index[120]]})
    return EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=(-80, -11),
                                   event_window=(-2, 2), contamination="ignore", roll_days=None).fit()


def test_inputs_without_estimation_rows(result):
    with pytest.raises(ImpactError, match="^" + re.escape(
            "this result carries no estimation rows; refit with EventStudy.fit()") + "$"):
        inputs(replace(result, rows=None, _cache={}))


def test_mvrm_without_estimation_rows_or_linearmodels(result, monkeypatch):
    with pytest.raises(ImpactError, match="^" + re.escape(
            "this result keeps no estimation rows; re-fit the study to run mvrm") + "$"):
        mvrm(replace(result, rows=None, _cache={}))
    assert len(mvrm(result).tests)  # the study itself runs
    monkeypatch.setitem(sys.modules, "linearmodels.system", None)
    with pytest.raises(ImpactError, match="^" + re.escape(
            "mvrm needs the 'linearmodels' package: pip install linearmodels") + "$"):
        mvrm(result)
