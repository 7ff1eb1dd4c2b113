"""Problems in a spec file, and the spec paths that locate them.

A spec path names a place in ``prototype.yaml`` the way a reader would: ``screens[2].elements[0]
.target``. ``join_path`` builds one; a ``Locator`` turns one into a ``Problem`` carrying the line
of the nearest node that exists in the file (a missing key is reported where its parent is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec file, located by file, line and path in the spec."""

    file: str
    line: int
    path: str
    message: str
    kind: str = "invalid"
    """yaml, unknown_key, missing_key, type, duplicate_key, duplicate_id, broken_link,
    unreachable, task, question, translation, asset, custom, too_large, version, variant,
    invalid"""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top level)'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: file, line, path, kind, message."""
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "kind": self.kind,
            "message": self.message,
        }


def join_path(path: str, key: Any) -> str:
    """The spec path of ``key`` (a mapping key or a list index) below ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


_LAST_SEGMENT = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


class Locator:
    """Turns spec paths into problems with the line of the nearest existing node."""

    def __init__(self, file: str, index: dict[str, int]) -> None:
        self.file = file
        self.index = index

    def line(self, path: str) -> int:
        """The line of ``path``, else of its nearest parent in the file, else of the document."""
        probe = path
        while probe:
            if probe in self.index:
                return self.index[probe]
            stripped = _LAST_SEGMENT.sub("", probe)
            if stripped == probe:
                break
            probe = stripped
        return self.index.get("", 1)

    def problem(self, path: str, message: str, kind: str) -> Problem:
        """A problem at ``path``, on the line ``line(path)`` gives."""
        return Problem(self.file, self.line(path), path, message, kind)


__all__ = ["Locator", "Problem", "join_path"]
