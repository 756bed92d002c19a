"""The one check behind the table-driven bad-input suites (tests/test_bad_inputs_*.py)."""
from __future__ import annotations

import pytest

from impact.errors import ImpactError


def check(run, expected, ctx) -> None:
    """``expected`` a string: ``run(ctx)`` raises a one-line ImpactError containing it;
    otherwise ``expected`` is a function that checks what ``run(ctx)`` returned."""
    if isinstance(expected, str):
        with pytest.raises(ImpactError) as err:
            run(ctx)
        message = str(err.value)
        assert expected in message
        assert "\n" not in message
    else:
        expected(run(ctx))
