"""YAML that cannot hurt: the one loader for every YAML file a user or a lab hands storelab.

PyYAML's safe loader is safe against code, not against size: it expands aliases (a 351-byte
"billion laughs" file grows to gigabytes), recurses once per nesting level (a RecursionError on
a deeply nested file) and raises a bare ``ReaderError`` on a NUL byte. Here, before anything is
built, text with control characters or over ``MAX_BYTES`` is refused; then, while the node tree
is composed, the first anchor or alias and the first collection nested deeper than
``MAX_DEPTH`` are refused: an alias is never looked up, so nothing is ever expanded.

Every refusal is a ``RefusedYaml``, a ``yaml.MarkedYAMLError`` with the line it is about, so code
that handles YAML errors already handles it; ``describe`` turns any YAML error into (line,
one-line reason). No project imports: every room may import this module.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings (a prototype spec needs about ten)."""
MAX_BYTES = 1024 * 1024
"""Largest YAML text (a prototype spec keeps its images in files)."""

# What YAML itself calls printable (PyYAML's reader uses the same set), as a search for the rest.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class RefusedYaml(yaml.MarkedYAMLError):
    """YAML storelab will not read: an anchor, an alias, too deep, a control character, too big."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def _mark(text: str, index: int) -> yaml.Mark:
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return yaml.Mark("<text>", index, line, column, None, None)


def check_text(text: str, *, max_bytes: int = MAX_BYTES) -> None:
    """Refuse text that is too large or holds a control character (``RefusedYaml``)."""
    if len(text) > max_bytes or (
        len(text) * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes
    ):
        raise RefusedYaml(f"the file is larger than {max_bytes // 1024} KB", _mark(text, 0))
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        raise RefusedYaml(
            f"control character U+{ord(bad.group()):04X} is not allowed in YAML text "
            "(was the file saved as text?)",
            _mark(text, bad.start()),
        )


class _GuardedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses anchors, aliases and deep nesting while composing."""

    def __init__(self, text: str, max_depth: int) -> None:
        super().__init__(text)
        self._depth = 0
        self._max_depth = max_depth

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYaml(
                f"aliases (*{event.anchor}) are not allowed: write the value out",
                event.start_mark,
            )
        if event.anchor is not None:
            raise RefusedYaml(
                f"anchors (&{event.anchor}) are not allowed: write each value out",
                event.start_mark,
            )
        nests = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nests:
            self._depth += 1
            if self._depth > self._max_depth:
                raise RefusedYaml(
                    f"lists and mappings are nested more than {self._max_depth} levels deep",
                    event.start_mark,
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1


def compose_and_load(
    text: str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES
) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data of one YAML document, or ``RefusedYaml``
    / another ``yaml.YAMLError``. An empty document is ``(None, None)``."""
    check_text(text, max_bytes=max_bytes)
    loader = _GuardedLoader(text, max_depth)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:  # not reachable within MAX_DEPTH; a guard, not a path
        raise RefusedYaml("the file is nested too deeply") from None
    finally:
        loader.dispose()
    return node, data


def load(text: str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """The data of one YAML document (``yaml.safe_load`` with the guards)."""
    return compose_and_load(text, max_depth=max_depth, max_bytes=max_bytes)[1]


def compose(text: str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """The node tree of one YAML document (``yaml.compose`` with the guards), or None."""
    return compose_and_load(text, max_depth=max_depth, max_bytes=max_bytes)[0]


def read_text(path: Path | str, *, max_bytes: int = MAX_BYTES) -> str:
    """A YAML file's text, refused (``RefusedYaml``) when over ``max_bytes`` or not UTF-8;
    ``FileNotFoundError`` when it is missing. The size is checked before reading."""
    file = Path(path)
    size = file.stat().st_size
    if size > max_bytes:
        raise RefusedYaml(f"the file is {size / 1e6:.1f} MB; at most {max_bytes // 1024} KB")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RefusedYaml(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def describe(exc: yaml.YAMLError) -> tuple[int, str]:
    """(1-based line, one-line reason) for any YAML error, refusals and syntax errors alike."""
    if isinstance(exc, RefusedYaml):
        mark = exc.problem_mark
        return (mark.line + 1 if mark else 1), str(exc.problem)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return (mark.line + 1 if mark else 1), f"YAML syntax error: {what}"
    return 1, "YAML error: " + " ".join(str(exc).split())


__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "RefusedYaml",
    "check_text",
    "compose",
    "compose_and_load",
    "describe",
    "load",
    "read_text",
]
