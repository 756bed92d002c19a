"""Start-up (issue 16): ``import impact`` and ``impact --help`` load none of the heavy libraries;
the public names, the results' verbs and every command's handler are still there when used.

Which modules are loaded is checked in fresh interpreters; nothing here is timed
(timings: benchmarks/startup.py, benchmarks/RESULTS.md)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["scipy.stats", "matplotlib", "jinja2", "statsmodels", "exchange_calendars", "pandas_market_calendars",
         "arch", "linearmodels", "yfinance"]
HELP = "import sys\nfrom impact.cli.main import main\nsys.argv[1:] = ['--help']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"


def _loaded_after(code: str) -> list[str]:
    """The HEAVY modules in sys.modules after running ``code`` in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("code", ["import impact", "import impact.cli.main", HELP],
                         ids=["import-impact", "import-cli", "impact--help"])
def test_start_up_loads_no_heavy_library(code):
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_library_when_one_is_loaded():
    # the same probe after real work: the test battery pulls in scipy.stats, a report matplotlib;
    # a study alone loads neither, nor arch (only a GARCH fit does), nor matplotlib (a figure does)
    study_stage = _loaded_after("from impact import EventStudy")
    assert not {"scipy.stats", "matplotlib", "arch"} & set(study_stage)
    assert "jinja2" in study_stage  # the result's notebook card
    assert "scipy.stats" in _loaded_after("import impact.inference.battery")
    assert {"matplotlib", "jinja2"} <= set(_loaded_after("import impact.report.build"))
    assert "matplotlib" in _loaded_after("from impact import EventStudy\nEventStudy.__init__\n"
                                         "from impact.study.result import _plots\n_plots()")


def test_public_names_are_the_same_objects_as_in_their_modules():
    import impact
    from impact import EventStudy, datasets, load_catalog
    from impact.data import datasets as datasets_module
    from impact.events.catalog import load_catalog as load_catalog_fn
    from impact.study.eventstudy import EventStudy as EventStudyClass

    assert (EventStudy, datasets, load_catalog) == (EventStudyClass, datasets_module, load_catalog_fn)
    for name in impact.__all__:
        assert getattr(impact, name) is not None
    assert set(impact.__all__) <= set(dir(impact))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        impact.nothing  # noqa: B018


def test_every_verb_is_named_by_the_inference_stage_and_offered_by_its_module():
    """``impact.inference.VERBS`` (imported on first use) matches the ``extend(name, ...)`` calls
    of the inference modules exactly, so no verb is missing and none is named twice."""
    from impact.inference import VERBS
    from impact.study import extensions

    offered = {}
    for path in sorted((ROOT / "impact" / "inference").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and ast.unparse(node.value.func) == "extend":
                offered[node.value.args[0].value] = path.stem
    assert offered == VERBS
    for verb in VERBS:
        assert extensions.has_extension(verb)
        assert callable(extensions.extension(verb))  # imports the module on first use


def test_a_result_verb_loads_its_module_in_a_fresh_process():
    # SYNTHETIC returns; the module behind result.test is imported by the verb, not by `import impact`
    code = """
import sys
import numpy as np, pandas as pd
from impact import EventStudy
dates = pd.bdate_range("2020-01-01", periods=300)
rng = np.random.default_rng(0)
frame = pd.DataFrame({"A": rng.normal(0, 0.01, 300), "B": rng.normal(0, 0.01, 300), "MKT": rng.normal(0, 0.01, 300)}, index=dates)
events = pd.DataFrame({"event_id": ["E1"], "date": [dates[280]]})
result = EventStudy.from_returns(frame, events, market="MKT").fit()
before = "impact.inference.battery" in sys.modules
table = result.test("t_cs", (-1, 1))
print(before, "impact.inference.battery" in sys.modules, len(table), file=sys.stderr)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-1] == "False True 1"


def test_every_command_handler_resolves_to_a_function_of_its_module():
    import argparse

    from impact.cli.parser import Handler, build_parser

    def handlers(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    func = sub.get_default("func")
                    if func is not None:
                        yield name, func
                    yield from handlers(sub)

    found = dict(handlers(build_parser()))
    assert len(found) == 10  # report, study, backtest, data x4, events x4 (events list/data list share a name)
    for name, func in found.items():
        assert isinstance(func, Handler), name
        assert callable(func.resolve()), func
        assert func.resolve().__module__ == f"impact.cli.{func.module}"
