"""The code's structure, read from its imports: layers point one way, no cycles.

flows -> tasks -> models (deployments above them all: they serve the flows).
Read with `ast` from the files, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.paths import PROJECT_ROOT

#: Each package and the packages it may import. Nothing imports deployments/ but
#: deployments/ itself (and the tests and benches, which are not app code).
ALLOWED = {
    "deployments": {"deployments", "flows", "tasks", "models"},
    "flows": {"flows", "tasks", "models"},
    "tasks": {"tasks", "models"},
    "models": {"models"},
}
PACKAGES = tuple(ALLOWED)
#: Longer than this, a module holds more than one thing (issue 14).
MAX_LINES = 600


def _app_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            # Migrations are history: frozen as written, never imported by the app.
            if "migrations" not in path.parts:
                yield path


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every lovflow module `path` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from tasks import email` imports the module tasks.email.
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    known = {_module_name(p) for p in _app_files()}
    return {name for name in found if name.split(".")[0] in PACKAGES and name in known}


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in _app_files()}


def test_layers_point_one_way() -> None:
    upward = sorted(
        f"{module} imports {imported}"
        for module, imports in _graph().items()
        for imported in imports
        if imported.split(".")[0] not in ALLOWED[module.split(".")[0]]
    )
    assert upward == []


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph.get(module, set())):
            if imported == module:
                continue
            if state.get(imported) == "open":
                cycles.append(path[path.index(imported) :] + [imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_app_module_over_600_lines() -> None:
    long = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in _app_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def _defines_a_task(path: Path) -> bool:
    """Whether the module declares a Prefect task (`@task` or `@task(...)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Name) and target.id == "task":
                    return True
    return False


def test_tasks_holds_what_prefect_runs_as_tasks() -> None:
    """Issue 14: a module in tasks/ holds Prefect tasks; what they call lives in models/."""
    without = sorted(
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted((PROJECT_ROOT / "tasks").glob("*.py"))
        if path.name != "__init__.py" and not _defines_a_task(path)
    )
    assert without == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from models.email_queue import enqueue_email\n", {"models.email_queue"}),
        ("import models.clock\n", {"models.clock"}),
        ("def f():\n    from flows.names import MAIL_CHECK\n", {"flows.names"}),
        ("from models import clock\n", {"models", "models.clock"}),
        ("import json\nfrom prefect import flow\n", set()),
    ],
)
def test_the_import_reader_sees_every_kind_of_import(
    tmp_path: Path, source: str, expected: set[str]
) -> None:
    """The checks above are only as good as the reader: it must see lazy imports."""
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert _imports(path) == expected
