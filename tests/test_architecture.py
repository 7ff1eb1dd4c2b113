"""The house keeps its shape: imports follow docs/architecture.md's table, with no exceptions.

Read with ``ast`` (as sqlite-utils' documentation tests read the docs): every ``import`` in every
module counts, at the top, inside functions and under ``TYPE_CHECKING`` alike, because a lazy
import still ties the two rooms together.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("errors", "yamlguard", "lab", "clikit", "cli", "feedback", "prototypes", "experiments",
         "sample_data", "insights", "reports", "bench")  # fmt: skip
COMMAND_LAYER = "<command layer>"
EVERYTHING = frozenset({"errors", "yamlguard", "lab", "clikit", "feedback", "prototypes",
                        "experiments", "sample_data", "insights", "reports"})  # fmt: skip
# Root modules without project imports that every room may import: the error types, and the
# one YAML loader (experiments and prototypes both read YAML but may not import each other).
IMPORTABLE_BY_ALL = frozenset({"errors", "yamlguard"})

# What each room may import (besides the standard library, third-party packages and itself).
# A dotted entry allows that one module only. This table is the one in docs/architecture.md.
ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "yamlguard": frozenset(),
    "lab": frozenset({"errors"}),
    "clikit": frozenset({"errors", "lab"}),
    "feedback": frozenset({"errors", "lab"}),
    "experiments": frozenset({"errors", "lab", "feedback"}),
    "prototypes": frozenset({"errors", "lab", "feedback", "experiments.assignment"}),
    "sample_data": frozenset({"errors", "lab", "feedback", "prototypes", "experiments"}),
    "insights": frozenset({"errors", "lab", "feedback", "prototypes", "experiments"}),
    "reports": EVERYTHING,
    "bench": EVERYTHING,
    # cli.py and each package's commands.py parse arguments and call the libraries; they
    # compose packages (experiment new = a prototype's comparison + an experiment spec).
    COMMAND_LAYER: EVERYTHING,
}
MAX_MODULE_LINES = 600


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every project module (tests and docs excluded)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        top_file = len(rel.parts) == 1 and rel.stem in ROOMS
        if not top_file and (len(rel.parts) == 1 or rel.parts[0] not in ROOMS):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _room(module: str) -> str:
    if module == "cli" or module.endswith(".commands"):
        return COMMAND_LAYER
    return module.split(".")[0]


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported project module) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod when there is one
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                     for a in node.names]  # fmt: skip
        else:
            continue
        for name in dict.fromkeys(names):
            if name.split(".")[0] in ROOMS:
                out.append((node.lineno, name))
    return out


def _allowed(room: str, target: str) -> bool:
    target_room = target.split(".")[0]
    if target_room == room or target in IMPORTABLE_BY_ALL:
        return True
    rules = ALLOWED[room]
    return target_room in rules or any(
        target == rule or target.startswith(rule + ".") for rule in rules if "." in rule
    )


def test_every_import_follows_the_table():
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {_room(module)} imports {target}"
        for module, path in MODULES.items()
        for line, target in _imports(path, module)
        if not _allowed(_room(module), target)
    ]
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for _, target in _imports(path, module):
            # a package import (`import prototypes`) runs its __init__ only
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_itself_in_a_circle():
    assert _cycles(_graph()) == []


def test_the_table_catches_an_import_against_the_flow(tmp_path):
    # The checker itself: feedback importing experiments, and a two-module circle, are found.
    assert not _allowed("feedback", "experiments.analysis")
    assert not _allowed("prototypes", "experiments.spec")
    assert _allowed("prototypes", "experiments.assignment")
    assert _allowed("experiments", "yamlguard") and not _allowed("yamlguard", "lab")
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines; split it by job"


def test_architecture_doc_states_the_same_table():
    # The doc's table lists each room with what it may import; keep them in step.
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([a-z_]+)`[^|]*\| ([^|]+) \|$", doc, flags=re.M))
    for room, allowed in ALLOWED.items():
        if room == COMMAND_LAYER:
            continue
        assert room in table, f"docs/architecture.md has no row for {room}"
        stated = {w.strip("` ") for w in table[room].split(",") if w.strip("` ")} - {"nothing"}
        if "everything" in stated:
            assert allowed == EVERYTHING, room
        else:
            assert stated == set(allowed), f"{room}: doc says {stated}, test says {allowed}"
