"""The errors a user can cause, in one place with no dependencies (as copier's ``errors.py``).

Every module imports what it raises from here at the top. The CLI (``clikit.StorelabGroup``)
turns a ``StorelabError`` into one line ``Error: …`` and ``exit_code``; never a traceback.
"""

from __future__ import annotations

from typing import Any


class StorelabError(Exception):
    """A problem the user can fix; the message says what to do."""

    exit_code = 1


class LabNotFoundError(StorelabError):
    """No lab at the given path, or none above the current directory."""


class InvalidInputError(StorelabError):
    """A file or value the user gave cannot be used as it is."""


class UnknownPrototypeError(InvalidInputError):
    """The lab has no prototype with this id (or the id is not a valid one)."""


class SpecError(StorelabError):
    """A prototype spec has problems; the message lists every one, one per line.

    ``problems`` are ``prototypes.problems.Problem`` objects: each prints as ``file:line: path: …``.
    """

    def __init__(self, problems: list[Any], file: str | None = None) -> None:
        self.problems = list(problems)
        where = file or (self.problems[0].file if self.problems else "the spec")
        n = len(self.problems)
        head = f"{where} has {n} problem{'s' if n != 1 else ''}:"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


class DatabaseBusyError(StorelabError):
    """Another process holds the DuckDB file."""


class LakeImportError(StorelabError):
    """``storelab lake import`` failed part-way; its one transaction was rolled back."""


class DataProblemError(StorelabError):
    """Data problems found in ``--strict`` mode; the valid data was still kept."""

    exit_code = 3


class HandoverCodeError(StorelabError):
    """A handover code that cannot be taken: ``reason`` is ``format`` (not six digits),
    ``unknown`` (no such code here: wrong, used or from another store), ``expired`` or
    ``locked`` (too many wrong tries on this device)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def format_validation_error(exc: Any) -> str:
    """One line per problem of a pydantic ``ValidationError``: ``  key.path: message``."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)
