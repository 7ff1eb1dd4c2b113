"""Writes prototype specs: a new prototype from a built-in template, and the next version of one.

``new_prototype`` copies a template into ``<lab>/prototypes/<id>/prototype.yaml``, edits the
text in place (so the template's comments survive), fills placeholders and writes an answers
record ``.storelab-answers.yml`` beside it (template id, template hash and version, the answers
given, storelab version, date) so the prototype can be refreshed from its template later.

Placeholders are ``{{name}}`` inside double-quoted YAML strings; they are filled from the first
row of the lab's ``stores.csv`` (the pilot store the team usually designs for):

====================  =============================================
``{{store.id}}``      store_id, e.g. ``S01``
``{{store.name}}``    name, e.g. ``storelab Hamburg Jungfernstieg``
``{{store.city}}``    city, e.g. ``Hamburg``
``{{store.region}}``  region
``{{store.format}}``  format (flagship, city, mall, outlet)
``{{lab.name}}``      the lab's name from ``storelab.toml``
``{{prototype.id}}``  the new prototype's id
====================  =============================================

Without a readable ``stores.csv`` a neutral store ("storelab Innenstadt", "Musterstadt") is
used. Unknown placeholders stay as they are and are listed in the answers record.

``add_version`` appends ``version: n+1`` (a copy of version n until edited) to ``versions:``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from errors import InvalidInputError, SpecError
from lab import Lab

ANSWERS_FILE = ".storelab-answers.yml"
PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
FALLBACK_STORE = {
    "store_id": "S01",
    "name": "storelab Innenstadt",
    "city": "Musterstadt",
    "region": "",
    "format": "city",
}


def new_prototype(
    lab: Lab,
    id: str,
    template: str,
    locale: str | None = None,
    title: str | None = None,
) -> Path:
    """Create ``<lab>/prototypes/<id>/prototype.yaml`` from a built-in template; returns its path.

    ``locale`` (default: the lab's) becomes the first of the prototype's ``locales`` – the
    language a runtime shows first. ``title`` replaces the template's title in every locale
    (translate it later in the file). Raises ``InvalidInputError`` for an invalid or taken id,
    an unknown template or locale.
    """
    from prototypes.library import is_prototype_id, prototype_dir
    from prototypes.templates import template_path

    if not is_prototype_id(id):
        raise InvalidInputError(
            f"{id!r} is not a valid prototype id: use lowercase letters, digits and dashes "
            "(e.g. scan-pos-v2)."
        )
    source = template_path(template)
    folder = prototype_dir(lab, id)
    if folder.exists():
        raise InvalidInputError(
            f"Prototype {id!r} already exists ({folder}). Choose another id or delete the folder."
        )
    text = source.read_text(encoding="utf-8")
    template_data = _load(text)
    locale = locale or lab.config.lab.locale
    ordered = _locales_starting_with(locale, template, template_data)
    text = _replace_top_level(text, _top_level_edits(id, ordered, title))
    store = _first_store(lab)
    values = {
        "store.id": store["store_id"],
        "store.name": store["name"],
        "store.city": store["city"],
        "store.region": store["region"],
        "store.format": store["format"],
        "lab.name": lab.config.lab.name,
        "prototype.id": id,
    }
    text, unfilled = fill_placeholders(text, values)
    spec_file = _write_valid_spec(folder, text)
    answers = {
        "template": template,
        "template_version": int(template_data.get("versions", [{}])[-1].get("version", 1)),
        "template_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "answers": {
            "id": id,
            "locale": locale,
            "title": title,
            "store": {k: store[k] for k in ("store_id", "name", "city")},
        },
        "unfilled_placeholders": unfilled,
        "storelab_version": storelab_version(),
        "created": dt.date.today().isoformat(),
    }
    _write_answers(folder / ANSWERS_FILE, answers)
    return spec_file


def _locales_starting_with(locale: str, template: str, template_data: dict[str, Any]) -> list[str]:
    """The template's locales with ``locale`` first (``InvalidInputError`` if it has none)."""
    locales = list(template_data.get("locales") or ["de", "en"])
    if locale not in locales:
        raise InvalidInputError(
            f"Template {template!r} is written in {', '.join(locales)}, not {locale!r}."
        )
    return [locale, *(x for x in locales if x != locale)]


def _top_level_edits(id: str, locales: list[str], title: str | None) -> dict[str, str]:
    """New values (YAML snippets) of the top-level keys ``id``, ``locales`` and ``title``."""
    edits: dict[str, str] = {"id": id, "locales": "[" + ", ".join(locales) + "]"}
    if title is not None:
        if not title.strip():
            raise InvalidInputError("--title must not be empty.")
        edits["title"] = "{" + ", ".join(f"{loc}: {_quote(title.strip())}" for loc in locales) + "}"
    return edits


def _write_valid_spec(folder: Path, text: str) -> Path:
    """Write the spec into the new ``folder``; a spec that does not validate leaves nothing."""
    from prototypes.library import SPEC_FILE
    from prototypes.validate import check_file

    folder.mkdir(parents=True)
    spec_file = folder / SPEC_FILE
    spec_file.write_text(text, encoding="utf-8")
    _proto, problems = check_file(spec_file)
    if problems:  # a broken template or an answer that breaks it: leave nothing half-made
        spec_file.unlink()
        folder.rmdir()
        raise SpecError(problems, str(spec_file))
    return spec_file


def fill_placeholders(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """Replace ``{{key}}`` by ``values[key]`` (escaped for a double-quoted YAML string).

    Returns the text and the sorted placeholders that had no value (left unchanged).
    """
    unfilled: set[str] = set()

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("persona."):  # filled by the runtime for each session's persona
            return match.group(0)
        if key not in values:
            unfilled.add(key)
            return match.group(0)
        return json.dumps(str(values[key]), ensure_ascii=False)[1:-1]

    return PLACEHOLDER_RE.sub(sub, text), sorted(unfilled)


def add_version(path: Path | str, note: str | None = None, today: dt.date | None = None) -> int:
    """Append version n+1 to the spec's ``versions:`` (identical to n until edited); returns n+1.

    The spec must be valid. The file is edited as text, so comments and layout stay.
    """
    import yaml

    import yamlguard
    from prototypes.library import load_prototype
    from prototypes.validate import spec_path

    file = spec_path(path)
    proto = load_prototype(file)
    current = proto.current_version
    new = current + 1
    date = (today or dt.date.today()).isoformat()
    note = note or f"Started from version {current}."
    text = file.read_text(encoding="utf-8")
    root = yamlguard.compose(text)
    versions = next((v for k, v in root.value if k.value == "versions"), None)

    def entry(number: int, entry_note: str, pad: str, with_date: bool) -> str:
        lines = [f"{pad}- version: {number}", f"{pad}  note: {_quote(entry_note)}"]
        if with_date:
            lines.append(f"{pad}  date: {date}")
        return "\n".join(lines) + "\n"

    if versions is None or (isinstance(versions, yaml.SequenceNode) and not versions.value):
        if versions is not None:  # `versions: []`: drop it and write a block list at the end
            key = next(k for k, v in root.value if v is versions)
            start = text.rfind("\n", 0, key.start_mark.index) + 1
            end = text.find("\n", versions.end_mark.index)
            text = text[:start] + (text[end + 1 :] if end != -1 else "")
        block = (
            "versions:\n" + entry(1, "Base version.", "  ", False) + entry(new, note, "  ", True)
        )
        text = text.rstrip("\n") + "\n\n" + block
    elif isinstance(versions, yaml.SequenceNode) and not versions.flow_style:
        dash = " " * versions.start_mark.column
        last = max(_last_index(item) for item in versions.value)
        line_end = text.find("\n", last)
        insert = len(text) if line_end == -1 else line_end + 1
        prefix = "" if text[:insert].endswith("\n") else "\n"
        text = text[:insert] + prefix + entry(new, note, dash, True) + text[insert:]
    else:
        raise InvalidInputError(
            f"{file}: write 'versions:' as a block list (one '- version: n' per line) so "
            "storelab can add to it."
        )
    file.write_text(text, encoding="utf-8")
    load_prototype(file)  # the new entry must leave the spec valid
    return new


def storelab_version() -> str:
    """The installed storelab version, else the one in the source tree's pyproject.toml."""
    from importlib import metadata

    try:
        return metadata.version("storelab")
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


# --- helpers ----------------------------------------------------------------------------------


def _load(text: str) -> dict[str, Any]:
    import yamlguard

    data = yamlguard.load(text)
    return data if isinstance(data, dict) else {}


def _quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _replace_top_level(text: str, values: dict[str, str]) -> str:
    """Replace the values of top-level keys by YAML snippets, keeping the rest of the text."""
    import yamlguard

    root = yamlguard.compose(text)
    spans = []
    for key, value in root.value:
        if key.value in values:
            start = key.end_mark.index
            end = _last_index(value)
            spans.append((start, end, f": {values[key.value]}"))
    for start, end, snippet in sorted(spans, reverse=True):
        # the value ends where its last scalar ends; skip the ':' between key and value
        text = text[:start] + snippet + text[end:]
    return text


def _last_index(node: Any) -> int:
    """Index just after the last character of a node's content (not its trailing blank lines)."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return node.end_mark.index
    if node.flow_style:
        return node.end_mark.index
    children = node.value if isinstance(node, yaml.SequenceNode) else [v for _, v in node.value]
    return max((_last_index(c) for c in children), default=node.end_mark.index)


def _first_store(lab: Lab) -> dict[str, str]:
    try:
        with lab.stores_csv.open(encoding="utf-8-sig", newline="") as fh:
            row = next(csv.DictReader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        row = None
    if not row or not (row.get("name") or "").strip():
        return dict(FALLBACK_STORE)
    return {k: (row.get(k) or FALLBACK_STORE[k]).strip() for k in FALLBACK_STORE}


def _write_answers(path: Path, answers: dict[str, Any]) -> None:
    import yaml

    header = (
        "# Written by `storelab prototype new`: how this prototype was generated, so it can be\n"
        "# refreshed from its template later. Do not edit by hand.\n"
    )
    body = yaml.safe_dump(answers, sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")


__all__ = ["ANSWERS_FILE", "add_version", "fill_placeholders", "new_prototype", "storelab_version"]
