"""join_runs against sep.join run by run (SYNTHETIC strings: separators inside values, empty
values and runs, non-ASCII), and its refusal of lengths that do not add up."""
from __future__ import annotations

import numpy as np
import pytest

from impact.textruns import join_runs


def test_join_runs_equals_joining_each_run():
    rng = np.random.default_rng(3)
    for _ in range(300):
        lengths = rng.integers(0, 4, rng.integers(0, 8)).tolist()
        values = ["".join(rng.choice(list("ab;+é, "), rng.integers(0, 4))) for _ in range(sum(lengths))]
        for sep in (";", "+", ", "):
            runs, at = [], 0
            for n in lengths:
                runs.append(sep.join(values[at:at + n]))
                at += n
            assert join_runs(values, lengths, sep) == runs
    assert join_runs(["a", "bb", "c", "dé"], [1, 0, 3], ";") == ["a", "", "bb;c;dé"]


def test_join_runs_refuses_lengths_that_do_not_add_up():
    with pytest.raises(ValueError, match="sum to 2, not to the 3 values"):
        join_runs(["a", "b", "c"], [1, 1], ";")
