"""join_runs against sep.join run by run (SYNTHETIC strings: separators inside values, empty
values and runs, non-ASCII), and its refusal of lengths that do not add up; the bulk text
columns against what pandas makes of the same values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact.textruns import empty_texts, join_runs, repeated_text


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


@pytest.mark.parametrize("value", ["[-5,5]", "", "given_date", "é;√ x"])
@pytest.mark.parametrize("n", [0, 1, 7])
def test_repeated_text_is_the_column_pandas_makes_of_the_value(value, n):
    made = pd.Series(repeated_text(value, n))
    want = pd.Series(value, index=pd.RangeIndex(n), dtype=pd.Series([value]).dtype)
    pd.testing.assert_series_equal(made, want)  # values and dtype (pandas' own text storage)
    assert made.tolist() == [value] * n
    frame = pd.DataFrame({"x": np.arange(n)}).assign(w=repeated_text(value, n))
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"x": np.arange(n)}).assign(w=value))


def test_empty_texts_are_empty_python_strings_that_can_be_written():
    texts = empty_texts(4)
    assert texts.dtype == object and texts.tolist() == ["", "", "", ""]
    texts[2] = "why"
    assert (texts != "").tolist() == [False, False, True, False]
    assert empty_texts(0).shape == (0,)
