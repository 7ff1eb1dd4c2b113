"""The lab: a folder that holds one pilot's prototypes, experiments, stores and data.

Finding it (``--lab``, then ``STORELAB_LAB``, then walking up to a ``storelab.toml``), creating
it and reading its config. The error types live in ``errors.py``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import tomllib
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from errors import InvalidInputError, LabNotFoundError, format_validation_error

CONFIG_FILE = "storelab.toml"
ENV_VAR = "STORELAB_LAB"


# --- config ---------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabSection(_Strict):
    name: str
    locale: Literal["de", "en"] = "de"
    stores: str = Field("stores.csv", description="store list, relative to the lab")


class PrivacySection(_Strict):
    redact_text: bool = Field(
        True, description="mask e-mail addresses, phone numbers and IBANs wherever text enters"
    )
    retention_days: int = Field(
        30, ge=1, description="ingested spool files older than this many days are removed"
    )


class KioskSection(_Strict):
    idle_timeout_s: int = Field(
        90, ge=10, le=3600, description="a kiosk resets after this long without a tap"
    )


OPENING_HOURS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$"


def opening_hours_problem(text: str) -> str | None:
    """What is wrong with an ``HH:MM-HH:MM`` opening-hours value (None: nothing).

    A closing time before the opening time means the store is open past midnight
    (``22:00-06:00``); ``24:00`` closes at midnight.
    """
    if not re.fullmatch(OPENING_HOURS_PATTERN, text):
        return f"{text!r} is not opening hours like 09:00-20:00 (HH:MM-HH:MM, local time)"
    opens, closes = text.split("-")
    if closes > "24:00":
        return f"{text!r} closes after 24:00"
    if opens == closes:
        return f"{text!r} opens and closes at the same time"
    return None


class PilotSection(_Strict):
    opening_hours: str = Field(
        "09:00-20:00",
        pattern=OPENING_HOURS_PATTERN,
        description="local opening hours of the stores (stores.csv may set its own per store)",
    )
    timezone: str = Field("Europe/Berlin", description="the stores' time zone (IANA name)")
    silent_after_minutes: int = Field(
        60, ge=1, description="a store without events for this long while open is flagged"
    )

    @field_validator("opening_hours")
    @classmethod
    def _hours_make_sense(cls, text: str) -> str:
        problem = opening_hours_problem(text)
        if problem:
            raise ValueError(problem)
        return text


class DashboardSection(_Strict):
    token: str = Field(min_length=16)


# --- storage: the lab's DuckDB file (default) or a DuckLake shared by many writers ---------


class StorageSection(_Strict):
    kind: Literal["duckdb", "ducklake"] = Field(
        "duckdb", description="duckdb: one file in the lab; ducklake: catalog + Parquet folder"
    )
    catalog: str | None = Field(
        None, description="ducklake: the PostgreSQL catalog, postgresql://user@host:port/db"
    )
    data_path: str = Field(
        "lake", description="ducklake: folder of the Parquet files (relative to the lab)"
    )

    @field_validator("catalog")
    @classmethod
    def _postgres_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^postgres(ql)?://", url):
            raise ValueError(f"{url!r} is not a postgresql:// URL")
        return url

    def model_post_init(self, _context: object) -> None:
        if self.kind == "ducklake" and not self.catalog:
            raise ValueError(
                'kind = "ducklake" needs catalog = "postgresql://..." (`storelab lake up` '
                "starts a local one and writes it here)"
            )


class LabConfig(_Strict):
    lab: LabSection
    privacy: PrivacySection = PrivacySection()
    kiosk: KioskSection = KioskSection()
    pilot: PilotSection = PilotSection()
    dashboard: DashboardSection
    storage: StorageSection = StorageSection()


@dataclass(frozen=True)
class Lab:
    """A lab folder and the paths inside it."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @cached_property
    def config(self) -> LabConfig:
        return load_config(self.config_path)

    @property
    def prototypes_dir(self) -> Path:
        return self.root / "prototypes"

    @property
    def experiments_dir(self) -> Path:
        return self.root / "experiments"

    @property
    def spool_dir(self) -> Path:
        return self.root / "spool"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def db_path(self) -> Path:
        return self.root / "storelab.duckdb"

    @property
    def lake_data_path(self) -> Path:
        """The Parquet folder of a ``ducklake`` lab (absolute, or relative to the lab)."""
        # absolute: the catalog remembers the path it was created with
        return (self.root / Path(self.config.storage.data_path).expanduser()).resolve()

    @property
    def stores_csv(self) -> Path:
        return self.root / self.config.lab.stores

    @property
    def truth_path(self) -> Path:
        """Where the simulator writes the true effects it planted."""
        return self.root / "sample_truth.json"


def load_config(path: Path) -> LabConfig:
    """Read and check ``storelab.toml``; every problem is named with its key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LabNotFoundError(
            f"{path} does not exist. Create a lab with `storelab init`."
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return LabConfig.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"{path}:\n{format_validation_error(exc)}") from exc


def find_lab(explicit: Path | str | None = None, *, start: Path | None = None) -> Lab:
    """Locate the lab: ``explicit`` path, then ``$STORELAB_LAB``, then walk up from ``start``."""
    given = explicit or os.environ.get(ENV_VAR) or None
    if given:
        root = Path(given).expanduser()
        source = "--lab" if explicit else ENV_VAR
        if not root.exists():
            raise LabNotFoundError(f"{source} points to {root}, which does not exist.")
        if not (root / CONFIG_FILE).is_file():
            raise LabNotFoundError(
                f"{source} points to {root}, which has no {CONFIG_FILE}. "
                f"Run `storelab init {root}` first."
            )
        return Lab(root.resolve())
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return Lab(folder)
    raise LabNotFoundError(
        f"No lab found in {here} or above it. Run `storelab init PATH`, pass --lab PATH "
        f"or set {ENV_VAR}."
    )


def new_token() -> str:
    """A fresh random dashboard access token."""
    return secrets.token_urlsafe(24)


def _toml_string(value: str) -> str:
    # JSON's string escapes are valid in TOML basic strings: quotes, backslashes, controls
    return json.dumps(value, ensure_ascii=False)


def write_config(path: Path, name: str, locale: str, token: str) -> None:
    """Write a fresh ``storelab.toml``, readable by its owner only (it holds the token)."""
    text = f"""# storelab lab configuration
[lab]
name = {_toml_string(name)}
locale = {_toml_string(locale)}          # default language customers see: de or en
stores = "stores.csv"   # pilot fleet: store_id,name,city,region,format,size_sqm

[privacy]
redact_text = true      # mask e-mail addresses, phone numbers and IBANs wherever text enters
retention_days = 30     # ingested spool files older than this are removed

[kiosk]
idle_timeout_s = 90     # a kiosk resets for the next customer after this long without a tap

[pilot]
opening_hours = "09:00-20:00"   # stores.csv may give a store its own (column opening_hours)
timezone = "Europe/Berlin"
silent_after_minutes = 60       # `storelab pilot status` flags a store silent this long while open

[dashboard]
token = {_toml_string(token)}       # analysts enter this (or open ?token=...) to see data
"""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)  # also when the file existed with wider rights


_SECTION_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_TOKEN_VALUE = r"(\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')"
_TOKEN_LINE = {  # the token's line in [dashboard], or as a dotted key before any section
    "dashboard": re.compile(r"^(\s*token\s*=\s*)" + _TOKEN_VALUE),
    None: re.compile(r"^(\s*dashboard\s*\.\s*token\s*=\s*)" + _TOKEN_VALUE),
}


def _with_token(text: str, token: str) -> str | None:
    """``text`` with the ``[dashboard] token`` value replaced, every other byte kept; None when
    there is not exactly one such line (an inline table, a multi-line string)."""
    lines = text.splitlines(keepends=True)
    section: str | None = None
    found = []
    for i, line in enumerate(lines):
        header = _SECTION_RE.match(line)
        if header:
            section = header.group(1)
            continue
        pattern = _TOKEN_LINE.get(section)
        match = pattern.match(line) if pattern else None
        if match:
            found.append((i, match))
    if len(found) != 1:
        return None
    i, match = found[0]
    lines[i] = lines[i][: match.start(2)] + _toml_string(token) + lines[i][match.end(2) :]
    return "".join(lines)


def rotate_token(lab: Lab) -> str:
    """Give the lab a fresh access token in ``storelab.toml``; returns it.

    Only the token's value changes (every other line and comment stays); the file is replaced
    in one step and stays readable by its owner only. The dashboard and the runtime read the
    config on every page run, so links and open pages with the old token stop working at once.
    """
    path = lab.config_path
    load_config(path)  # a missing or broken config is named as such, before anything changes
    text = path.read_text(encoding="utf-8")
    token = new_token()
    updated = _with_token(text, token)
    before = tomllib.loads(text)
    after = tomllib.loads(updated) if updated is not None else None
    if after is None or after.get("dashboard", {}).get("token") != token:
        raise InvalidInputError(
            f'{path}: found no single line `token = "..."` under [dashboard] to replace. '
            "Write the token on a line of its own there, then run `storelab token rotate` again."
        )
    after["dashboard"]["token"] = before["dashboard"]["token"]
    if after != before:  # a line inside a multi-line string can look like the token's
        raise InvalidInputError(
            f"{path}: replacing the token would change other settings; edit it by hand."
        )
    _write_private(path, updated)
    lab.__dict__.pop("config", None)  # the cached config holds the old token
    return token


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a reader never sees half), mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def init_lab(
    path: Path | str,
    *,
    locale: str = "de",
    name: str | None = None,
    stores: Sequence[Store] = (),
) -> Lab:
    """Create a lab folder with config, ``stores`` in stores.csv and the empty sub-folders.

    ``storelab init`` passes the sample fleet (``sample_data.fleet.default_stores()``).
    """
    root = Path(path).expanduser()
    if (root / CONFIG_FILE).exists():
        raise InvalidInputError(f"{root} is already a lab ({CONFIG_FILE} exists).")
    if root.exists() and not root.is_dir():
        raise InvalidInputError(f"{root} exists and is not a folder.")
    if locale not in ("de", "en"):
        raise InvalidInputError(f"locale must be 'de' or 'en', not {locale!r}.")
    root.mkdir(parents=True, exist_ok=True)
    lab = Lab(root.resolve())
    for sub in (lab.prototypes_dir, lab.experiments_dir, lab.spool_dir, lab.reports_dir):
        sub.mkdir(exist_ok=True)
    write_config(lab.config_path, name or root.resolve().name, locale, new_token())
    (root / ".gitignore").write_text(
        "spool/\n*.duckdb\n*.duckdb.wal\n",
        encoding="utf-8",
    )
    write_stores_csv(lab.stores_csv, stores)
    return lab


# --- stores: the pilot fleet in stores.csv --------------------------------------------------

COLUMNS: tuple[str, ...] = ("store_id", "name", "city", "region", "format", "size_sqm")
OPENING_HOURS = "opening_hours"  # optional column: the store's own hours, else [pilot]'s
REGIONS: tuple[str, ...] = ("Nord", "Süd", "West", "Ost")
FORMATS: tuple[str, ...] = ("flagship", "city", "mall", "outlet")


@dataclass(frozen=True)
class Store:
    """One pilot store, as a row of ``stores.csv``."""

    store_id: str
    name: str
    city: str
    region: str
    format: str
    size_sqm: int
    opening_hours: str | None = None
    """``HH:MM-HH:MM`` local; None: the lab's ``[pilot] opening_hours``."""


def write_stores_csv(path: Path | str, stores: Sequence[Store]) -> Path:
    """Write ``stores`` as UTF-8 CSV with the contract header (plus ``opening_hours`` when a
    store has its own)."""
    path = Path(path)
    rows = list(stores)
    hours = any(store.opening_hours for store in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow((*COLUMNS, OPENING_HOURS) if hours else COLUMNS)
        for store in rows:
            values = astuple(store)[: len(COLUMNS)]
            writer.writerow((*values, store.opening_hours or "") if hours else values)
    return path


def read_stores(path: Path | str) -> list[Store]:
    """Read a ``stores.csv``; any problem raises ``InvalidInputError`` naming file, line, column."""

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InvalidInputError(
            f"{path} does not exist. Write one with the columns {','.join(COLUMNS)}."
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc}). Save it as UTF-8.") from exc

    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise InvalidInputError(f"{path}, line 1: the file is empty; expected {','.join(COLUMNS)}.")
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInputError(
            f"{path}, line 1, column {missing[0]!r}: missing column(s) {', '.join(missing)}; "
            f"the header must contain {','.join(COLUMNS)}."
        )
    index = {c: header.index(c) for c in COLUMNS}
    stores: list[Store] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def fail(column: str, message: str, line_no: int = line_no) -> InvalidInputError:
            return InvalidInputError(f"{path}, line {line_no}, column {column!r}: {message}")

        if len(row) < len(header):
            raise fail(header[len(row)], f"the row has {len(row)} of {len(header)} fields.")
        values = {c: row[i].strip() for c, i in index.items()}
        for column in ("store_id", "name", "city"):
            if not values[column]:
                raise fail(column, "is empty.")
        store_id = values["store_id"]
        if store_id in seen:
            first = seen[store_id]
            raise fail("store_id", f"duplicate store id {store_id!r} (first on line {first}).")
        seen[store_id] = line_no
        if values["region"] not in REGIONS:
            raise fail("region", f"{values['region']!r} is not one of {', '.join(REGIONS)}.")
        if values["format"] not in FORMATS:
            raise fail("format", f"{values['format']!r} is not one of {', '.join(FORMATS)}.")
        try:
            size = float(values["size_sqm"])
        except ValueError:
            raise fail(
                "size_sqm", f"{values['size_sqm']!r} is not a number of square metres."
            ) from None
        if not size > 0 or size != int(size):
            raise fail("size_sqm", f"{values['size_sqm']!r} must be a positive whole number.")
        hours = row[header.index(OPENING_HOURS)].strip() if OPENING_HOURS in header else ""
        if hours and (problem := opening_hours_problem(hours)):
            raise fail(OPENING_HOURS, f"{problem} (leave it empty for the lab's hours).")
        stores.append(
            Store(
                store_id=store_id,
                name=values["name"],
                city=values["city"],
                region=values["region"],
                format=values["format"],
                size_sqm=int(size),
                opening_hours=hours or None,
            )
        )
    return stores


def lab_stores(lab: Lab) -> dict[str, Store]:
    """The lab's stores by id, in file order (``InvalidInputError`` naming line and column)."""
    return {s.store_id: s for s in read_stores(lab.stores_csv)}


# --- storage section in storelab.toml ------------------------------------------------------


def write_storage(lab: Lab, storage: StorageSection) -> None:
    """Replace the ``[storage]`` section of ``storelab.toml`` (every other line stays).

    ``storelab lake up`` writes the catalog URL of the PostgreSQL it started here.
    """
    path = lab.config_path
    load_config(path)  # a broken config is named as such before anything changes
    kept, section = [], None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        header = _SECTION_RE.match(line)
        if header:
            section = header.group(1)
        if section != "storage":
            kept.append(line)
    text = "".join(kept).rstrip("\n") + "\n\n[storage]\n"
    text += f"kind = {_toml_string(storage.kind)}   # duckdb (one file) or ducklake (shared)\n"
    if storage.catalog:
        text += f"catalog = {_toml_string(storage.catalog)}\n"
    text += f"data_path = {_toml_string(storage.data_path)}   # Parquet files of a ducklake\n"
    if load_config_text(text, path).storage != storage:
        raise InvalidInputError(f"{path}: could not write the [storage] section; edit it by hand.")
    _write_private(path, text)
    lab.__dict__.pop("config", None)


def load_config_text(text: str, path: Path) -> LabConfig:
    """``load_config`` for text not yet written to ``path`` (named in messages)."""
    try:
        return LabConfig.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise InvalidInputError(f"{path}: {exc}") from exc
