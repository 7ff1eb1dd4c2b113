"""Checks a ``prototype.yaml`` and reports every problem at once, each with file, line and path.

What is checked: file size (spec ≤ 1 MB), YAML syntax and duplicate keys
(``prototypes.yaml_lines``), the structure (unknown keys, wrong types, missing keys: pydantic,
with the error's ``loc`` mapped back to the line it came from: ``prototypes.check_structure``),
the spec as written (missing translations, duplicate ids, version numbers, image files and
custom screen modules: ``prototypes.check_written``, ``prototypes.check_files``), and then,
for every version and variant: links to screens that do not exist, screens that cannot be
reached from the start screen, tasks whose goal cannot be reached or whose ``expected_path``
does not follow real links, questions after unknown tasks, changes that name missing screens or
elements (``prototypes.check_views``). Validation never imports or runs user code.

``validate_file(path) -> list[Problem]`` is the entry point; ``prototypes.library.load_prototype``
uses ``check_file`` and raises ``SpecError`` when the list is not empty.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from prototypes.check_profiles import profile_problems
from prototypes.check_structure import salvage_problems, structure_problems
from prototypes.check_views import resolution_problems
from prototypes.check_written import CheckContext, written_problems
from prototypes.problems import Locator, Problem
from prototypes.spec import Prototype
from prototypes.yaml_lines import parse_yaml

SPEC_FILE = "prototype.yaml"
"""The spec's file name in a prototype folder (``prototypes.library`` maps ids to folders)."""
MAX_SPEC_BYTES = 1024 * 1024


def spec_path(path: Path | str) -> Path:
    """The spec file for ``path``: the file itself, or ``prototype.yaml`` inside a folder."""
    p = Path(path)
    return p / SPEC_FILE if p.is_dir() else p


def validate_file(path: Path | str) -> list[Problem]:
    """Every problem in the spec at ``path`` (a file or a prototype folder); empty when valid."""
    return check_file(path)[1]


def check_file(path: Path | str) -> tuple[Prototype | None, list[Problem]]:
    """Read, parse and check a spec: (the prototype when it is valid, every problem)."""
    file = spec_path(path)
    name = str(file)
    if not file.is_file():
        return None, [Problem(name, 1, "", "no such file", "missing_file")]
    size = file.stat().st_size
    if size > MAX_SPEC_BYTES:
        return None, [
            Problem(
                name,
                1,
                "",
                f"the spec is {size / 1e6:.1f} MB; at most 1 MB is allowed. Keep images in "
                "files under assets/ instead of inlining them",
                "too_large",
            )
        ]
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 1, "", f"not UTF-8 text ({exc.reason})", "yaml")]
    proto, problems = check_text(text, name, folder=file.parent)
    if proto is not None:
        proto._path = file.resolve()
    return proto, problems


def check_text(
    text: str, file: str = "<text>", folder: Path | None = None
) -> tuple[Prototype | None, list[Problem]]:
    """Check spec text; image paths are resolved against ``folder`` (default: current dir)."""
    folder = Path(folder) if folder is not None else Path.cwd()
    parsed = parse_yaml(text, file)
    if not parsed.readable:
        return None, parsed.problems
    data = parsed.data
    problems = list(parsed.problems)
    where = Locator(file, parsed.lines)
    if not isinstance(data, dict):
        got = "nothing" if data is None else f"a {type(data).__name__}"
        return None, [
            *problems,
            where.problem("", f"a spec is a mapping of keys (id, title, …), got {got}", "type"),
        ]
    try:
        proto = Prototype.model_validate(data)
    except ValidationError as exc:
        problems += structure_problems(exc, data, where)
        problems += salvage_problems(data, where, folder)
        return None, sorted(_dedupe(problems), key=lambda p: p.line)
    problems += written_problems(proto, "", CheckContext(where, folder, tuple(proto.locales)))
    problems += resolution_problems(proto, where)
    problems += profile_problems(proto, where)
    problems = sorted(_dedupe(problems), key=lambda p: p.line)
    return (None if problems else proto), problems


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """The first of problems that differ only in the version and variant they were found in."""
    seen: set[tuple[str, str]] = set()
    out: list[Problem] = []
    for p in problems:
        key = (p.path, p.message.split(" (in version ")[0])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


__all__ = [
    "MAX_SPEC_BYTES",
    "SPEC_FILE",
    "check_file",
    "check_text",
    "spec_path",
    "validate_file",
]
