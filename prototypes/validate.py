"""Checks a ``prototype.yaml`` and reports every problem at once, each with file, line and path.

What is checked: file size (spec ≤ 1 MB), YAML syntax and duplicate keys, the structure
(unknown keys, wrong types, missing keys: pydantic, with the error's ``loc`` mapped back to the
line it came from), and then, for every version and variant: links to screens that do not
exist, screens that cannot be reached from the start screen, tasks whose goal cannot be reached
or whose ``expected_path`` does not follow real links, questions after unknown tasks, changes
that name missing screens or elements, duplicate ids, missing translations (every customer-facing
text needs each of the prototype's ``locales``), image files (inside the prototype folder,
present, ≤ 5 MB, no URLs) and custom screens (``custom.module``: a ``.py`` file inside the
prototype folder, ≤ 256 kB, that defines ``custom.function``; ``custom.targets``: screens that
exist). The module is read with ``ast`` only: validation never imports or runs user code.

``validate_file(path) -> list[Problem]`` is the entry point; ``prototypes.library.load_prototype``
uses ``check_file`` and raises ``SpecError`` when the list is not empty.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from feedback.catalogue import CATALOGUE
from prototypes import changes, elements, fields, spec, tasks
from prototypes.changes import Changes
from prototypes.elements import ELEMENT_TYPES, CustomScreen, Image, Screen
from prototypes.fields import Locale, LocalizedText
from prototypes.problems import Problem
from prototypes.spec import BASE_VARIANT, Prototype, PrototypeView, resolve_with_problems
from prototypes.tasks import QuestionSpec, Task

SPEC_FILE = "prototype.yaml"
MAX_SPEC_BYTES = 1024 * 1024
MAX_ASSET_BYTES = 5 * 1024 * 1024
MAX_MODULE_BYTES = 256 * 1024
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})


# --- entry points -----------------------------------------------------------------------------


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
    if isinstance(parsed, list):
        return None, parsed
    data, index, problems = parsed
    where = _Locator(file, index)
    if not isinstance(data, dict):
        got = "nothing" if data is None else f"a {type(data).__name__}"
        return None, [
            *problems,
            where.problem("", f"a spec is a mapping of keys (id, title, …), got {got}", "type"),
        ]
    try:
        proto = Prototype.model_validate(data)
    except ValidationError as exc:
        problems += _structure_problems(exc, data, where)
        problems += _salvage_checks(data, where, folder)
        return None, sorted(_dedupe(problems), key=lambda p: p.line)
    problems += _spec_checks(proto, proto, "", where, folder, screen_ids=None)
    problems += _resolution_checks(proto, where)
    problems = sorted(_dedupe(problems), key=lambda p: p.line)
    return (None if problems else proto), problems


# --- YAML with line numbers -------------------------------------------------------------------


def parse_yaml(text: str, file: str) -> tuple[Any, dict[str, int], list[Problem]] | list[Problem]:
    """(data, {spec path: line}, duplicate-key problems), or the syntax problem as a list."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return [Problem(file, line, "", f"YAML syntax error: {what}", "yaml")]
    except yaml.YAMLError as exc:
        return [Problem(file, 1, "", f"YAML error: {exc}", "yaml")]
    finally:
        loader.dispose()
    index: dict[str, int] = {}
    problems: list[Problem] = []
    if node is not None:
        index[""] = node.start_mark.line + 1
        _index_node(node, "", index, problems, file)
    return data, index, problems


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _index_node(
    node: yaml.Node, path: str, index: dict[str, int], problems: list[Problem], file: str
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            child = _join(path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        file,
                        line,
                        child,
                        f"duplicate key '{key}' (first on line {seen[key]}); "
                        "YAML would silently keep only the last one",
                        "duplicate_key",
                    )
                )
            else:
                seen[key] = line
                index[child] = line
            _index_node(value_node, child, index, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = _join(path, i)
            index[child] = item.start_mark.line + 1
            _index_node(item, child, index, problems, file)


_LAST_SEGMENT = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


class _Locator:
    """Turns spec paths into problems with the line of the nearest existing node."""

    def __init__(self, file: str, index: dict[str, int]) -> None:
        self.file = file
        self.index = index

    def line(self, path: str) -> int:
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
        return Problem(self.file, self.line(path), path, message, kind)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out: list[Problem] = []
    for p in problems:
        key = (p.path, p.message.split(" (in version ")[0])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# --- structure (pydantic) ---------------------------------------------------------------------


def _known_keys() -> list[str]:
    names: set[str] = set()
    for module in (fields, elements, tasks, changes, spec):
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
        tag_skipped = False
        in_dict = isinstance(current, dict) and seg in current
        in_list = isinstance(current, list) and isinstance(seg, int) and 0 <= seg < len(current)
        if in_dict or in_list:
            path, current = _join(path, seg), current[seg]
        elif last and isinstance(seg, str) and not seg.startswith("[") and "[" not in seg:
            path = _join(path, seg)
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


def _structure_problems(exc: ValidationError, data: Any, where: _Locator) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path = _loc_to_path(tuple(err["loc"]), data)
        message, kind = _message(err)
        problems.append(where.problem(path, message, kind))
    return problems


def _salvage_checks(data: dict[str, Any], where: _Locator, folder: Path) -> list[Problem]:
    """When the structure is broken, still check the parts that are valid on their own."""
    locales = data.get("locales")
    try:
        locales = TypeAdapter(list[Locale]).validate_python(locales or ["de", "en"])
    except ValidationError:
        locales = ["de", "en"]
    ctx = _Ctx(locales)
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
        adapter = TypeAdapter(Task if group == "tasks" else QuestionSpec)
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
    problems: list[Problem] = []
    for model, path in pieces:
        problems += _spec_checks(model, ctx, path, where, folder, screen_ids=screen_ids)
    return problems


# --- checks on the spec as written ------------------------------------------------------------


class _Ctx:
    def __init__(self, locales: list[str]) -> None:
        self.locales = locales


def _walk(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every model and text in ``obj`` with its spec path."""
    if isinstance(obj, LocalizedText):
        yield path, obj
    elif isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), _join(path, name))
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _walk(item, _join(path, i))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk(value, _join(path, key))


def _spec_checks(
    root: Any,
    ctx: Any,
    prefix: str,
    where: _Locator,
    folder: Path,
    screen_ids: set[str] | None,
) -> list[Problem]:
    """Translations, images, duplicate ids, numbering; with ``screen_ids``, also link targets."""
    problems: list[Problem] = []
    locales = list(ctx.locales)
    for path, obj in _walk(root, prefix):
        if isinstance(obj, LocalizedText):
            missing = [loc for loc in locales if loc not in obj]
            if missing:
                problems.append(
                    where.problem(
                        path,
                        f"missing translation for {', '.join(repr(m) for m in missing)} "
                        f"(this prototype's locales: {', '.join(locales)})",
                        "translation",
                    )
                )
        elif isinstance(obj, Image) and obj.src is not None:
            problems += _asset_problems(obj.src, _join(path, "src"), where, folder)
        elif isinstance(obj, Screen):
            problems += _duplicates(
                [e.id for e in obj.elements],
                f"{path}.elements",
                f"element id '{{id}}' is used twice on screen '{obj.id}' (first at {{first}}); "
                "events name elements by id, so ids must be unique per screen",
                where,
            )
            if screen_ids is not None:
                for sub, target in _screen_link_paths(obj):
                    if target not in screen_ids:
                        problems.append(
                            where.problem(
                                f"{path}.{sub}", _broken_link(target, screen_ids), "broken_link"
                            )
                        )
        elif isinstance(obj, CustomScreen):
            problems += _custom_problems(obj, path, where, folder)
        elif isinstance(obj, QuestionSpec):
            for item in CATALOGUE.instrument(obj.instrument).items:
                text = obj.text or item.text
                missing = [loc for loc in locales if loc not in text]
                if missing and obj.text is None:
                    problems.append(
                        where.problem(
                            path,
                            f"the built-in {obj.instrument} has no text in "
                            f"{', '.join(missing)}; available: de, en",
                            "translation",
                        )
                    )
                    break
        elif isinstance(obj, Changes | Prototype):
            problems += _duplicates(
                [s.id for s in obj.screens],
                f"{path}.screens" if path else "screens",
                "screen id '{id}' is used twice (first at {first})",
                where,
            )
            problems += _duplicates(
                [t.id for t in obj.tasks],
                f"{path}.tasks" if path else "tasks",
                "task id '{id}' is used twice (first at {first})",
                where,
            )
        if isinstance(obj, Prototype):
            problems += _duplicates(
                list(obj.locales), "locales", "locale '{id}' is listed twice", where, field=None
            )
            for i, entry in enumerate(obj.versions):
                if entry.version != i + 1:
                    problems.append(
                        where.problem(
                            f"versions[{i}].version",
                            f"versions are numbered 1, 2, 3 … in order: expected {i + 1}, "
                            f"got {entry.version}",
                            "version",
                        )
                    )
            names = list(obj.variants)
            for entry in obj.versions:
                names += list(entry.variants or {})
            if BASE_VARIANT in names:
                problems.append(
                    where.problem(
                        f"variants.{BASE_VARIANT}",
                        f"'{BASE_VARIANT}' is the name of the base; give the variant "
                        "another name (e.g. treatment)",
                        "variant",
                    )
                )
    return problems


def _duplicates(
    ids: list[str], list_path: str, template: str, where: _Locator, field: str | None = "id"
) -> list[Problem]:
    problems = []
    first: dict[str, str] = {}
    for i, value in enumerate(ids):
        item_path = f"{list_path}[{i}]"
        if value in first:
            path = f"{item_path}.{field}" if field else item_path
            problems.append(
                where.problem(path, template.format(id=value, first=first[value]), "duplicate_id")
            )
        else:
            first[value] = item_path
    return problems


def _broken_link(target: str, screen_ids: set[str] | list[str]) -> str:
    hint = difflib.get_close_matches(target, list(screen_ids), n=1)
    extra = f"; did you mean '{hint[0]}'?" if hint else ""
    return (
        f"links to screen '{target}', which does not exist "
        f"(screens: {', '.join(sorted(screen_ids))}){extra}"
    )


def _screen_link_paths(screen: Screen) -> Iterator[tuple[str, str]]:
    """(spec path below the screen, target screen) for every link of the screen."""
    for j, el in enumerate(screen.elements):
        for _, target, sub in el.link_targets():
            yield f"elements[{j}].{sub}", target
    if screen.custom is not None:
        for k, target in enumerate(screen.custom.targets):
            yield f"custom.targets[{k}]", target


def _asset_problems(src: str, path: str, where: _Locator, folder: Path) -> list[Problem]:
    def problem(message: str, kind: str = "asset") -> list[Problem]:
        return [where.problem(path, message, kind)]

    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not re.match(r"^[a-zA-Z]:[\\/]", src):
        return problem(
            f"'{src}' is a URL; prototypes run offline in the store: put the image under "
            "assets/ in the prototype folder, or use 'placeholder: {icon, colour}'"
        )
    if Path(src).is_absolute():
        return problem(f"'{src}' is an absolute path; use a path inside the prototype folder")
    base = folder.resolve()
    target = (base / src).resolve()
    if not target.is_relative_to(base):
        return problem(f"'{src}' is outside the prototype folder; copy it into assets/")
    if target.suffix.lower() not in IMAGE_SUFFIXES:
        return problem(
            f"'{src}' is not an image file; use one of {', '.join(sorted(IMAGE_SUFFIXES))}"
        )
    if not target.is_file():
        return problem(f"image '{src}' is missing (looked for {target})")
    size = target.stat().st_size
    if size > MAX_ASSET_BYTES:
        return problem(
            f"image '{src}' is {size / 1e6:.1f} MB; at most 5 MB is allowed: make it smaller",
            "too_large",
        )
    return []


def _custom_problems(
    custom: CustomScreen, path: str, where: _Locator, folder: Path
) -> list[Problem]:
    """``custom.module`` is a .py file inside the folder that defines ``custom.function``.

    The file is parsed with ``ast``, never imported: validation must not run user code.
    """
    src = custom.module
    mpath = f"{path}.module"

    def problem(message: str, kind: str = "asset", at: str = mpath) -> list[Problem]:
        return [where.problem(at, message, kind)]

    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not re.match(r"^[a-zA-Z]:[\\/]", src):
        return problem(f"'{src}' is a URL; put the module as a .py file in the prototype folder")
    if Path(src).is_absolute() or re.match(r"^([\\/]|[a-zA-Z]:)", src):
        return problem(f"'{src}' is an absolute path; use a path inside the prototype folder")
    if ".." in re.split(r"[\\/]", src):
        return problem(f"'{src}' leaves the prototype folder ('..'); put the module inside it")
    base = folder.resolve()
    target = (base / src).resolve()
    if not target.is_relative_to(base):
        return problem(f"'{src}' is outside the prototype folder; put the module inside it")
    if target.suffix != ".py":
        return problem(f"'{src}' is not a Python file; custom.module must end in .py")
    if not target.is_file():
        return problem(f"custom screen module '{src}' is missing (looked for {target})")
    size = target.stat().st_size
    if size > MAX_MODULE_BYTES:
        return problem(
            f"custom screen module '{src}' is {size / 1e3:.0f} kB; at most "
            f"{MAX_MODULE_BYTES // 1024} kB is allowed: keep data in the YAML or split it up",
            "too_large",
        )
    try:
        tree = ast.parse(target.read_bytes(), filename=src)
    except SyntaxError as exc:
        return problem(f"'{src}' line {exc.lineno}: Python syntax error: {exc.msg}", "custom")
    except ValueError as exc:  # e.g. NUL bytes
        return problem(f"'{src}' cannot be read as Python source: {exc}", "custom")
    names, star = _top_level_names(tree.body)
    if custom.function not in names and not star:
        defined = ", ".join(sorted(names)) or "none"
        return problem(
            f"'{src}' has no top-level function '{custom.function}' (defined there: {defined})",
            "custom",
            f"{path}.function",
        )
    return []


def _top_level_names(body: list[ast.stmt]) -> tuple[set[str], bool]:
    """Names a module defines at top level (also inside if/try/with), and whether it has a
    ``from … import *`` (then any name may exist)."""
    names: set[str] = set()
    star = False
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
        for block in ("body", "orelse", "finalbody", "handlers"):
            if isinstance(node, ast.If | ast.Try | ast.With) and hasattr(node, block):
                inner = getattr(node, block)
                stmts = [s for h in inner for s in h.body] if block == "handlers" else inner
                more, more_star = _top_level_names(stmts)
                names |= more
                star = star or more_star
    return names, star


# --- checks on every resolved version and variant ---------------------------------------------


def _resolution_checks(proto: Prototype, where: _Locator) -> list[Problem]:
    problems: list[Problem] = []
    for version in proto.version_numbers:
        for variant in proto.variant_names(version):
            view, changes = resolve_with_problems(proto, version, variant)
            base = variant == BASE_VARIANT and version == proto.version_numbers[0]
            context = "" if base else f" (in version {version}, variant {variant})"
            found = [where.problem(p, m, k) for p, m, k in changes]
            found += _view_problems(view, where)
            problems += [
                Problem(p.file, p.line, p.path, p.message + context, p.kind) for p in found
            ]
    return problems


def _view_problems(view: PrototypeView, where: _Locator) -> list[Problem]:
    problems: list[Problem] = []
    origins = view.origins
    ids = list(view.screens)

    def screen_path(sid: str) -> str:
        return origins.get(f"screen:{sid}", "screens")

    def element_path(sid: str, eid: str) -> str:
        return origins.get(f"element:{sid}/{eid}", screen_path(sid))

    if view.start_screen not in view.screens:
        problems.append(
            where.problem(
                origins["start_screen"],
                f"start screen '{view.start_screen}' does not exist (screens: {', '.join(ids)})",
                "broken_link",
            )
        )
    for sid, screen in view.screens.items():
        for el in screen.elements:
            for _, target, sub in el.link_targets():
                if target not in view.screens:
                    problems.append(
                        where.problem(
                            f"{element_path(sid, el.id)}.{sub}",
                            _broken_link(target, ids),
                            "broken_link",
                        )
                    )
        if screen.custom is not None:
            for k, target in enumerate(screen.custom.targets):
                if target not in view.screens:
                    problems.append(
                        where.problem(
                            f"{screen_path(sid)}.custom.targets[{k}]",
                            _broken_link(target, ids),
                            "broken_link",
                        )
                    )
    if view.start_screen in view.screens:
        reachable = view.reachable()
        for sid in ids:
            if sid not in reachable:
                problems.append(
                    where.problem(
                        screen_path(sid),
                        f"screen '{sid}' cannot be reached from the start screen "
                        f"'{view.start_screen}': add a button or hotspot that leads to it",
                        "unreachable",
                    )
                )
    task_ids = [t.id for t in view.tasks]
    for task in view.tasks:
        problems += _task_problems(view, task, origins.get(f"task:{task.id}", "tasks"), where)
    qpath = origins["questions"]
    asked: set[tuple[str, str | None]] = set()
    for i, spec_q in enumerate(_question_specs(view)):
        if spec_q.after_task is not None and spec_q.after_task not in task_ids:
            problems.append(
                where.problem(
                    f"{qpath}[{i}].after_task",
                    f"there is no task '{spec_q.after_task}' (tasks: "
                    f"{', '.join(task_ids) or 'none'})",
                    "question",
                )
            )
        key = (spec_q.instrument, spec_q.after_task)
        if key in asked:
            when = f"after task '{spec_q.after_task}'" if spec_q.after_task else "at the end"
            problems.append(
                where.problem(
                    f"{qpath}[{i}].instrument",
                    f"{spec_q.instrument} is asked twice {when}",
                    "question",
                )
            )
        asked.add(key)
    return problems


def _question_specs(view: PrototypeView) -> list[QuestionSpec]:
    """The question specs behind ``view.questions`` (one per instrument entry, in order)."""
    specs: list[QuestionSpec] = []
    for q in view.questions:
        inst = CATALOGUE.instrument(q.instrument)
        if q.id == inst.items[0].id:
            specs.append(QuestionSpec(instrument=q.instrument, after_task=q.after_task))
    return specs


def _task_problems(view: PrototypeView, task: Task, path: str, where: _Locator) -> list[Problem]:
    problems: list[Problem] = []
    ids = list(view.screens)
    bad = False
    if task.start_screen not in view.screens:
        problems.append(
            where.problem(
                f"{path}.start_screen",
                f"task '{task.id}' starts on screen '{task.start_screen}', which does not exist",
                "task",
            )
        )
        bad = True
    for i, goal in enumerate(task.goal_screens):
        if goal not in view.screens:
            problems.append(
                where.problem(f"{path}.goal_screens[{i}]", _broken_link(goal, ids), "task")
            )
            bad = True
    if bad:
        return problems
    reachable = view.reachable(task.start_screen)
    if not any(goal in reachable for goal in task.goal_screens):
        problems.append(
            where.problem(
                f"{path}.goal_screens",
                f"task '{task.id}': no goal screen ({', '.join(task.goal_screens)}) can be "
                f"reached from its start screen '{task.start_screen}'",
                "task",
            )
        )
        return problems
    walk = task.expected_path
    if walk[0] != task.start_screen:
        problems.append(
            where.problem(
                f"{path}.expected_path[0]",
                f"the expected path must begin at the start screen '{task.start_screen}', "
                f"not '{walk[0]}'",
                "task",
            )
        )
    if walk[-1] not in task.goal_screens:
        problems.append(
            where.problem(
                f"{path}.expected_path[{len(walk) - 1}]",
                f"the expected path must end on a goal screen "
                f"({', '.join(task.goal_screens)}), not '{walk[-1]}'",
                "task",
            )
        )
    for i, (a, b) in enumerate(zip(walk, walk[1:], strict=False), start=1):
        if a not in view.screens or b not in view.screens:
            missing = b if a in view.screens else a
            problems.append(
                where.problem(f"{path}.expected_path[{i}]", _broken_link(missing, ids), "task")
            )
            break
        if b not in {t for _, t in view.links(a)}:
            problems.append(
                where.problem(
                    f"{path}.expected_path[{i}]",
                    f"nothing on screen '{a}' leads to '{b}'; the expected path must follow "
                    "buttons, hotspots or other links",
                    "task",
                )
            )
    return problems


__all__ = [
    "MAX_ASSET_BYTES",
    "MAX_MODULE_BYTES",
    "MAX_SPEC_BYTES",
    "SPEC_FILE",
    "check_file",
    "check_text",
    "parse_yaml",
    "spec_path",
    "validate_file",
]
