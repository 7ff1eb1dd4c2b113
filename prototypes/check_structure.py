"""Structure problems: pydantic's errors in the words and at the lines of the spec file.

A pydantic ``loc`` names model fields and union members; ``_loc_to_path`` follows it through
the data to the spec path a reader sees, so the ``Locator`` can find its line. Messages are
reworded where pydantic's would puzzle a product team (unknown keys get a "did you mean").
When the structure is broken, ``salvage_problems`` still checks every part that is valid on its
own, so one run reports as much as it can.
"""

from __future__ import annotations

import contextlib
import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from prototypes import (
    asks,
    changes,
    custom_screen,
    element_base,
    elements,
    fields,
    journey_elements,
    journey_parts,
    personas,
    spec,
    tasks,
)
from prototypes.asks import AnyQuestionSpec, question_entry
from prototypes.check_written import CheckContext, written_problems
from prototypes.elements import ELEMENT_TYPES, Screen
from prototypes.fields import Locale, LocalizedText
from prototypes.problems import Locator, Problem, join_path
from prototypes.tasks import Task

_MODEL_MODULES = (
    fields,
    elements,
    tasks,
    asks,
    changes,
    spec,
    custom_screen,
    journey_parts,
    journey_elements,
    element_base,
    personas,
)
"""Where the spec models are defined: their field names are the keys a spec may use."""


def structure_problems(exc: ValidationError, data: Any, where: Locator) -> list[Problem]:
    """One problem per pydantic error, at the spec path and line it is about."""
    problems = []
    for err in exc.errors():
        path = _loc_to_path(tuple(err["loc"]), data)
        message, kind = _message(err)
        problems.append(where.problem(path, message, kind))
    return problems


def _known_keys() -> list[str]:
    names: set[str] = set()
    for module in _MODEL_MODULES:
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseModel)
                and obj.__module__ == module.__name__
            ):
                names.update(obj.model_fields)
    return sorted(names)


def _loc_to_path(loc: tuple[Any, ...], data: Any) -> str:
    """Follow a pydantic ``loc`` through the data; skip union tags and internal segments."""
    path = ""
    current = data
    tag_skipped = False
    for i, seg in enumerate(loc):
        last = i == len(loc) - 1
        if (
            not tag_skipped
            and isinstance(current, dict)
            and seg in ELEMENT_TYPES
            and current.get("type") == seg
        ):
            tag_skipped = True  # pydantic names the union member: not a key in the file
            continue
        if not tag_skipped and isinstance(current, dict) and seg == question_entry(current):
            tag_skipped = True  # a questions: entry's union member ('instrument', 'custom')
            continue
        tag_skipped = False
        in_dict = isinstance(current, dict) and seg in current
        in_list = isinstance(current, list) and isinstance(seg, int) and 0 <= seg < len(current)
        if in_dict or in_list:
            path, current = join_path(path, seg), current[seg]
        elif last and isinstance(seg, str) and not seg.startswith("[") and "[" not in seg:
            path = join_path(path, seg)
        # else: a discriminator tag ('button'), '[key]' or a validator name: not in the file
    return path


def _message(err: dict[str, Any]) -> tuple[str, str]:
    kind = err["type"]
    loc = err["loc"]
    last = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        keys = [k for k in _known_keys() if k != last]
        hint = difflib.get_close_matches(str(last), keys, n=1)
        extra = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown key '{last}'{extra}", "unknown_key"
    if kind == "missing":
        return f"missing required key '{last}'", "missing_key"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return (
            f"unknown element type '{ctx.get('tag')}'; use one of: {', '.join(ELEMENT_TYPES)}",
            "type",
        )
    if kind == "union_tag_not_found":
        return f"an element needs a 'type': one of {', '.join(ELEMENT_TYPES)}", "missing_key"
    if last == "[key]":
        return f"'{err.get('input')}' is not a language code like 'de' or 'en'", "type"
    msg = str(err["msg"])
    if kind == "value_error":
        return msg.removeprefix("Value error, "), "invalid"
    value = err.get("input")
    if isinstance(value, str | int | float | bool) and kind not in ("text_type",):
        msg = f"{msg} (got {value!r})"
    return msg, "type"


def salvage_problems(data: dict[str, Any], where: Locator, folder: Path) -> list[Problem]:
    """When the structure is broken, still check the parts that are valid on their own."""
    locales = data.get("locales")
    try:
        locales = TypeAdapter(list[Locale]).validate_python(locales or ["de", "en"])
    except ValidationError:
        locales = ["de", "en"]
    pieces: list[tuple[Any, str]] = []
    screen_ids: set[str] = set()

    def collect_screens(items: Any, prefix: str) -> None:
        if not isinstance(items, list):
            return
        for i, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                screen_ids.add(item["id"])
            with contextlib.suppress(ValidationError):
                pieces.append((TypeAdapter(Screen).validate_python(item), f"{prefix}[{i}]"))

    collect_screens(data.get("screens"), "screens")
    for key, model in (("title", LocalizedText), ("description", LocalizedText)):
        with contextlib.suppress(ValidationError):
            pieces.append((TypeAdapter(model).validate_python(data.get(key)), key))
    for group in ("tasks", "questions"):
        adapter = TypeAdapter(Task if group == "tasks" else AnyQuestionSpec)
        items = data.get(group)
        for i, item in enumerate(items if isinstance(items, list) else []):
            with contextlib.suppress(ValidationError):
                pieces.append((adapter.validate_python(item), f"{group}[{i}]"))
    variants = data.get("variants")
    if isinstance(variants, dict):
        for name, raw in variants.items():
            if isinstance(raw, dict):
                collect_screens(raw.get("screens"), f"variants.{name}.screens")
    versions = data.get("versions")
    if isinstance(versions, list):
        for i, raw in enumerate(versions):
            if isinstance(raw, dict):
                collect_screens(raw.get("screens"), f"versions[{i}].screens")
    ctx = CheckContext(where, folder, tuple(locales), frozenset(screen_ids))
    problems: list[Problem] = []
    for model, path in pieces:
        problems += written_problems(model, path, ctx)
    return problems


__all__ = ["salvage_problems", "structure_problems"]
