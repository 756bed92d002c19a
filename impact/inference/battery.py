"""The test battery behind ``EventStudyResult.test(name, window)``: the registry of
tests (:data:`TESTS`), their dispatch (:func:`run_test`), the single-pair CAR test and
the tidy battery table. Inputs: :mod:`impact.inference.inputs`; formulas, papers and
peer conventions: docs/methods.md.
"""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..progress import progress
from ..study.extensions import extend
from ..study.statistics import significance_stars
from ..textruns import repeated_text
from .inputs import check_window, inputs
from .nonparametric import NONPARAMETRIC
from .parametric import PARAMETRIC, pair_t
from .placebo import placebo_test


def run_test(result, name: str, window=None, **options) -> pd.DataFrame:
    """One row per rel_day (``window=None``) or one row for ``window``:
    ``rel_day`` or ``window``, then ``statistic, p_value, n`` (some tests add columns)."""
    tests = {**PARAMETRIC, **NONPARAMETRIC}
    window = check_window(result, window)
    if not len(result.pairs):
        raise ImpactError(f"test {name!r}: no estimated pairs to test (every pair is in result.excluded)")
    if name == "placebo":
        return placebo_test(result, window, **options)
    if name not in tests:
        raise ImpactError(f"unknown test {name!r} (choose from {', '.join([*tests, 'placebo'])})")
    fn = tests[name]
    try:
        inspect.signature(fn).bind(None, window, **options)  # pragma: no mutate (bind checks argument names only)
    except TypeError as exc:  # an option this test does not take
        raise ImpactError(f"test {name!r}: {exc}") from None
    inp = inputs(result)
    out = fn(inp, window, **options)
    key = pd.DataFrame({"rel_day": inp.rel_days}) if window is None else pd.DataFrame({"window": [f"[{window[0]},{window[1]}]"]})
    frame = pd.concat([key, pd.DataFrame(out)], axis=1)
    frame["n"] = frame["n"].astype(int)
    if not np.isfinite(frame["statistic"]).any():
        raise ImpactError(f"test {name!r} is undefined for this sample (n = {int(frame['n'].max())} pairs; "
                          "cross-sectional tests need at least 2 with non-zero dispersion)")
    return frame


#: the battery of issue 5 (every name ``EventStudyResult.test`` accepts, with EXTRA_TESTS)
TESTS = ("t_cs", "brown_warner_1980", "brown_warner_1985", "patell", "bmp", "kolari_pynnonen",
         "corrado_rank", "grank", "sign", "generalized_sign", "wilcoxon", "placebo")
#: columns some tests add so a statistic can be audited: mean and null variance / sd of the
#: standardised ARs (patell, bmp, kolari_pynnonen), mean centred rank and its scale (rank tests),
#: counts of positive and non-positive observations (sign tests)
COMPONENTS = ("mean_sar", "var_sar", "sd_sar", "mean_rank", "rank_sd", "n_pos", "n_neg")
#: further tests estudy2 reports (Corrado & Zivney 1992 sign and modified rank, Lamb 1995)
EXTRA_TESTS = ("corrado_sign", "modified_rank", "lamb")


def pair_car_test(result, window=None, *, sigma: str = "ols", prediction_error: bool = True, df=None) -> pd.DataFrame:
    """Single-pair t test of each CAR over ``window`` (default: the event window).

    t_i = CAR_i / (sigma_i sqrt(f_i)); with the defaults f_i is the CLM (1997)
    eq. 4.4.14 factor (estimation error included) and t ~ t(L_i - p), the same
    numbers as ``result.car``. ``sigma="n", prediction_error=False, df=L-1``
    gives eventstudy-py's ``car_tstat`` (Var(CAR) = k sigma^2, no estimation
    error).
    """
    window = check_window(result, window or result.study.event_window)
    out = pair_t(inputs(result), window, sigma=sigma, prediction_error=prediction_error, df=df)
    # no mutate below: only e (and days) used: they do not depend on prediction_error
    cars = inputs(result).factors(window, prediction_error=False)[0][:, 0]  # pragma: no mutate
    return pd.DataFrame({
        "event_id": result.pairs["event_id"], "asset": result.pairs["asset"],
        "window": repeated_text(f"[{window[0]},{window[1]}]", len(cars)), "car": cars, "t": out["t"],
        "p_value": out["p_value"], "df": out["df"],
    })


def battery_table(result, names=None, windows=None) -> pd.DataFrame:
    """Tidy table of the test battery: one row per (test, window) with ``statistic,
    p_value, n, stars``. Defaults: every battery test but the (slow) placebo, over
    [0,0], [-1,1] and the whole event window."""
    ea, eb = result.study.event_window
    windows = windows or [w for w in ((0, 0), (-1, 1), (ea, eb)) if ea <= w[0] and w[1] <= eb]
    windows = list(dict.fromkeys(tuple(w) for w in windows))
    names = names or [t for t in TESTS if t != "placebo"]
    rows = []
    for name in progress(names, desc="tests", unit="test"):  # pragma: no mutate (progress-bar label)
        for w in windows:
            frame = pd.DataFrame(run_test(result, name, w))
            frame.insert(0, "test", name)
            rows.append(frame)
    if not rows:
        # no mutate below: dead: names and windows are never empty here
        return pd.DataFrame(columns=["test", "window", "statistic", "p_value", "n", "stars"])  # pragma: no mutate
    out = pd.concat(rows, ignore_index=True)
    # the tests' components (docs/methods.md) after the columns the table always had
    out = out[[c for c in out.columns if c not in COMPONENTS] + [c for c in COMPONENTS if c in out.columns]]
    return out.assign(stars=out["p_value"].map(significance_stars))


# The fitted result's inference verbs (study never imports this stage: it offers them here).
extend("test", run_test)
extend("tests", battery_table)
