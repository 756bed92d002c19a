"""The package reads as the pipeline: imports run one way, stage by stage (docs/architecture.md).

events -> data -> study -> inference -> report / backtest -> cli, with the shared base modules
(errors, resources, progress, atomic, csvsafe, textruns, parallel) below every stage. Parsed with ``ast``: no module
imports a later stage, no function hides an import of the package to dodge a circle, the
module graph has no cycle, and imports by name (``importlib``) happen only in the few listed
places that defer work for start-up time."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "impact"
STAGES = {"events": 1, "data": 2, "study": 3, "inference": 4, "report": 5, "backtest": 5, "cli": 6}
BASE = {"errors", "resources", "progress", "atomic", "csvsafe", "textruns", "version", "parallel"}
MAX_LINES = 450
#: The only modules that import by name (``importlib.import_module``), each to keep ``import impact``
#: and ``impact --help`` fast (issue 16), never to dodge a circle (docs/architecture.md "Start-up").
DEFERRED = {
    "impact": "the public names (EventStudy, load_catalog, datasets, ...) on first use (PEP 562)",
    "impact.study.extensions": "the inference module that offers a result's verb, on the verb's first use",
    "impact.cli.parser": "a command's handler module, when the command runs",
    "impact.study.models": "the GARCH module (and arch behind it), when a GARCH model is fitted",
    "impact.study.result": "the plots module (and matplotlib behind it), with a result's first figure",
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return 7  # the package's own __init__: the public API, above every stage
    if parts[1] in BASE:
        return 0
    return STAGES[parts[1]]


def _imports(path: Path) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(module-level imports, imports inside functions) of package modules, with line numbers."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top, nested = [], []

    def visit(node, depth):
        for child in ast.iter_child_nodes(node):
            inner = depth + isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only, never run
            targets = []
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    name = ".".join(base + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                if name.startswith("impact"):
                    subs = [f"{name}.{a.name}" for a in child.names]
                    targets = [s if (PACKAGE.parent / (s.replace(".", "/") + ".py")).exists()
                               or (PACKAGE.parent / s.replace(".", "/")).is_dir() else name for s in subs]
            elif isinstance(child, ast.Import):
                targets = [a.name for a in child.names if a.name.startswith("impact")]
            for t in targets:
                (nested if inner else top).append((t, child.lineno))
            visit(child, inner)

    visit(tree, 0)
    return top, nested


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_no_module_imports_a_later_stage():
    wrong = []
    for path in MODULES:
        me = _module(path)
        for target, line in _imports(path)[0]:
            if _stage(target) > _stage(me):
                wrong.append(f"{me}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_function_level_imports_of_the_package():
    hidden = [f"{_module(p)}:{line} imports {t}" for p in MODULES for t, line in _imports(p)[1]]
    assert not hidden, "\n".join(hidden)


def test_module_graph_has_no_cycle():
    graph = {_module(p): {t for t, _ in _imports(p)[0]} for p in MODULES}
    state: dict[str, int] = {}

    def walk(node, trail):
        state[node] = 1
        for nxt in graph.get(node, ()):
            nxt = nxt if nxt in graph else nxt.rsplit(".", 1)[0]
            if nxt == node or nxt not in graph or nxt == "impact":
                continue
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join([*trail, node, nxt]))
            if not state.get(nxt):
                walk(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            walk(node, [])


def test_modules_are_small_and_the_listing_reads_as_the_pipeline():
    sizes = {_module(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    big = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert not big, big
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert folders == sorted(STAGES)
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert set(top) == BASE


def _imports_by_name(path: Path) -> list[int]:
    """Lines that import a module by name: ``importlib.import_module(...)`` or ``__import__(...)``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in ("importlib.import_module", "import_module", "__import__"):
                lines.append(node.lineno)
    return lines


def test_imports_by_name_only_where_start_up_needs_them():
    found = {_module(p): _imports_by_name(p) for p in MODULES}
    wrong = [f"{m}:{line} imports by name" for m, lines in found.items() if m not in DEFERRED for line in lines]
    assert not wrong, "\n".join(wrong)
    assert {m for m, lines in found.items() if lines} == set(DEFERRED)  # the list stays exact
