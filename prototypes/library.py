"""A lab's prototypes: where each lives, which exist, and loading one by id or by path.

The one place that turns a prototype id into ``<lab>/prototypes/<id>/prototype.yaml``. Ids are
checked against the id pattern before they touch the file system, so an id can never name a
folder outside the lab's ``prototypes/``. "No such prototype" is worded here and only here.
``load_prototype`` reads any spec file (or folder) and runs every check of
``prototypes.validate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from errors import InvalidInputError, SpecError, UnknownPrototypeError
from feedback.catalogue import CATALOGUE
from prototypes.diff import view_diff
from prototypes.fields import MAX_ID_LEN, PROTOTYPE_ID_RE
from prototypes.spec import Prototype
from prototypes.validate import SPEC_FILE, check_file

if TYPE_CHECKING:
    from lab import Lab


def is_prototype_id(value: object) -> bool:
    """True when ``value`` is a well-formed prototype id (lowercase, digits, dashes)."""
    return (
        isinstance(value, str)
        and len(value) <= MAX_ID_LEN
        and PROTOTYPE_ID_RE.match(value) is not None
    )


def prototype_dir(lab: Lab, prototype_id: str) -> Path:
    """The folder of prototype ``prototype_id`` in the lab (it need not exist yet)."""
    if not is_prototype_id(prototype_id):
        raise UnknownPrototypeError(
            f"{prototype_id!r} is not a prototype id: use lowercase letters, digits and "
            "dashes, e.g. scan-and-discover."
        )
    return lab.prototypes_dir / prototype_id


def prototype_file(lab: Lab, prototype_id: str) -> Path:
    """The ``prototype.yaml`` of an existing prototype, or ``UnknownPrototypeError``."""
    path = prototype_dir(lab, prototype_id) / SPEC_FILE
    if not path.is_file():
        raise UnknownPrototypeError(unknown_prototype_message(lab, prototype_id))
    return path


def list_prototype_ids(lab: Lab) -> list[str]:
    """Ids of the lab's prototypes (folders with a ``prototype.yaml``), sorted."""
    if not lab.prototypes_dir.is_dir():
        return []
    return sorted(
        p.parent.name
        for p in lab.prototypes_dir.glob(f"*/{SPEC_FILE}")
        if is_prototype_id(p.parent.name)
    )


def has_prototype(lab: Lab, prototype_id: str) -> bool:
    """Whether the lab has a prototype with this (well-formed) id."""
    return (
        is_prototype_id(prototype_id) and (lab.prototypes_dir / prototype_id / SPEC_FILE).is_file()
    )


def load_prototype(path: Path | str) -> Prototype:
    """Read and check a ``prototype.yaml`` (or a prototype folder holding one).

    Raises ``SpecError`` listing every problem (``file:line: path: message``) when the spec is
    invalid: YAML syntax, unknown keys, wrong types, broken links, unreachable screens,
    unreachable task goals, missing translations, bad assets, files too large.
    """
    proto, problems = check_file(path)
    if problems or proto is None:
        raise SpecError(problems, str(path))
    return proto


def load_lab_prototype(lab: Lab, prototype_id: str) -> Prototype:
    """Load and check the lab's prototype ``prototype_id``.

    Raises ``UnknownPrototypeError`` when there is none and ``SpecError`` (listing every
    problem) when its spec is invalid.
    """
    return load_prototype(prototype_file(lab, prototype_id))


def unknown_prototype_message(lab: Lab, prototype_id: str) -> str:
    """The one wording of "no such prototype", for the terminal (pages show their own)."""
    known = list_prototype_ids(lab)
    listing = f"Prototypes in this lab: {', '.join(known)}." if known else "The lab has none yet."
    return (
        f"There is no prototype {prototype_id!r} in {lab.prototypes_dir}. {listing} "
        f"Create it with `storelab prototype new {prototype_id} --template scan-and-discover`."
    )


@dataclass(frozen=True)
class Comparison:
    """What a first experiment on a prototype compares, as ``experiments.spec`` takes it."""

    arms: dict[str, dict[str, object]]
    """Experiment variant -> ``{"version": n}`` (plus ``"variant"``), the baseline first."""
    instruments: tuple[str, ...]
    """The scored instruments the compared version asks, in catalogue order."""
    what: str
    """In words: "version 2 of P against version 1"."""


def comparison_for(lab: Lab, prototype_id: str) -> Comparison:
    """What a first experiment on the lab's prototype can compare.

    Two or more versions: the previous one against the current one. Otherwise the base against
    the prototype's first variant; a prototype with neither has nothing to compare.
    """
    proto = load_lab_prototype(lab, prototype_id)
    current = proto.current_version
    asked = {q.instrument for q in proto.resolve(current).questions}
    instruments = tuple(i.id for i in CATALOGUE.scored_instruments() if i.id in asked)
    if current >= 2:
        _refuse_identical(proto, (current - 1, None), (current, None))
        return Comparison(
            {"control": {"version": current - 1}, "treatment": {"version": current}},
            instruments,
            f"version {current} of {prototype_id} against version {current - 1}",
        )
    variants = [v for v in proto.variant_names(current) if v != "control"]
    if not variants:
        raise InvalidInputError(
            f"{prototype_id} has one version and no variants, so there is nothing to compare. "
            f"Run `storelab prototype version {prototype_id}` and change version 2, or add a "
            "variant to its spec."
        )
    _refuse_identical(proto, (current, None), (current, variants[0]))
    return Comparison(
        {
            "control": {"version": current},
            "treatment": {"version": current, "variant": variants[0]},
        },
        instruments,
        f"the {variants[0]} variant of {prototype_id} against its base",
    )


# --- identical arms (issue 15): compare what customers would see, not file names ---------------


def _refuse_identical(
    proto: Prototype, old: tuple[int, str | None], new: tuple[int, str | None]
) -> None:
    """``InvalidInputError`` naming what to change when the two arms show and ask the same."""
    if not view_diff(proto.resolve(*old), proto.resolve(*new)).empty:
        return
    where = proto.path or proto.id
    version, variant = new
    if variant is None:
        raise InvalidInputError(
            f"Version {version} of {proto.id} is the same as version {old[0]}, so an experiment "
            f"would compare two identical arms: describe what version {version} changes "
            f"(screens, elements, tasks or questions) under its '- version: {version}' entry "
            f"in {where}."
        )
    raise InvalidInputError(
        f"The {variant} variant of {proto.id} is the same as its base, so an experiment would "
        f"compare two identical arms: give it the screens, elements, tasks or questions it "
        f"changes under 'variants: {variant}:' in {where}."
    )
