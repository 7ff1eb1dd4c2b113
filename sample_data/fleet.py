"""The pilot fleet: a seeded, realistic set of German stores and its ``stores.csv`` file.

``default_stores()`` gives the same stores for the same seed (Faker ``de_DE`` seeded per call,
streets from a fixed list of real shopping streets), ``write_stores_csv`` writes the lab's
store list and ``read_stores`` reads it back with error messages that name file, line and column.
"""

from __future__ import annotations

import csv
from dataclasses import astuple, dataclass
from pathlib import Path

from errors import InvalidInputError

COLUMNS: tuple[str, ...] = ("store_id", "name", "city", "region", "format", "size_sqm")
REGIONS: tuple[str, ...] = ("Nord", "Süd", "West", "Ost")
FORMATS: tuple[str, ...] = ("flagship", "city", "mall", "outlet")
BRAND = "storelab"

# City, region and real shopping streets. Order matters: the first twelve cover every region
# three times, so the default fleet is balanced.
CITIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Hamburg", "Nord", ("Mönckebergstraße", "Jungfernstieg", "Spitalerstraße")),
    ("Berlin", "Ost", ("Kurfürstendamm", "Tauentzienstraße", "Schloßstraße")),
    ("München", "Süd", ("Kaufingerstraße", "Neuhauser Straße", "Sendlinger Straße")),
    ("Köln", "West", ("Schildergasse", "Hohe Straße", "Ehrenstraße")),
    ("Frankfurt am Main", "West", ("Zeil", "Goethestraße", "Berger Straße")),
    ("Stuttgart", "Süd", ("Königstraße", "Calwer Straße", "Marienstraße")),
    ("Düsseldorf", "West", ("Königsallee", "Schadowstraße", "Flinger Straße")),
    ("Leipzig", "Ost", ("Grimmaische Straße", "Petersstraße", "Hainstraße")),
    ("Bremen", "Nord", ("Obernstraße", "Sögestraße", "Lloydpassage")),
    ("Dresden", "Ost", ("Prager Straße", "Wilsdruffer Straße", "Altmarkt")),
    ("Hannover", "Nord", ("Georgstraße", "Bahnhofstraße", "Große Packhofstraße")),
    ("Nürnberg", "Süd", ("Karolinenstraße", "Breite Gasse", "Königstraße")),
    ("Dortmund", "West", ("Westenhellweg", "Ostenhellweg", "Kampstraße")),
    ("Essen", "West", ("Limbecker Straße", "Kettwiger Straße", "Rüttenscheider Straße")),
)
# Floor space by format (square metres, inclusive bounds, multiples of 10).
SIZE_RANGES: dict[str, tuple[int, int]] = {
    "flagship": (2500, 4500),
    "city": (900, 1800),
    "mall": (600, 1400),
    "outlet": (1200, 2600),
}
FLAGSHIP_CITIES = frozenset({"Hamburg", "Berlin", "München"})


@dataclass(frozen=True)
class Store:
    """One pilot store, as a row of ``stores.csv``."""

    store_id: str
    name: str
    city: str
    region: str
    format: str
    size_sqm: int


def max_stores() -> int:
    """How many distinct stores ``default_stores`` can make (cities × streets)."""
    return sum(len(streets) for _, _, streets in CITIES)


def default_stores(n: int = 12, seed: int = 7) -> list[Store]:
    """``n`` stores in real German cities; the same ``seed`` always gives the same fleet.

    The first round visits every city once (S01 Hamburg, S02 Berlin, …); larger fleets open a
    second store on another street in the same cities. Flagships stand in Hamburg, Berlin and
    München; the other formats are drawn with the seed, so every format appears in a fleet
    of twelve.
    """

    if not 1 <= n <= max_stores():
        raise InvalidInputError(f"--stores must be between 1 and {max_stores()}, not {n}.")
    from faker import Faker

    fake = Faker("de_DE")
    fake.seed_instance(seed)
    rng = fake.random  # random.Random owned by this Faker instance
    streets = {city: rng.sample(list(s), len(s)) for city, _, s in CITIES}
    other_formats = ["city", "city", "mall", "outlet"]
    stores: list[Store] = []
    for k in range(n):
        round_, pos = divmod(k, len(CITIES))
        city, region, _ = CITIES[pos]
        street = streets[city][round_]
        if round_ == 0 and city in FLAGSHIP_CITIES:
            fmt = "flagship"
        else:
            fmt = other_formats[(k + rng.randrange(len(other_formats))) % len(other_formats)]
            if k in (3, 4, 5):  # guarantee city, mall and outlet in every fleet of six or more
                fmt = ("city", "mall", "outlet")[(k + seed) % 3]
        lo, hi = SIZE_RANGES[fmt]
        size = fake.random_int(lo // 10, hi // 10) * 10
        stores.append(
            Store(
                store_id=f"S{k + 1:02d}",
                name=f"{BRAND} {city} {street}",
                city=city,
                region=region,
                format=fmt,
                size_sqm=size,
            )
        )
    return stores


def write_stores_csv(path: Path | str, stores: list[Store] | None = None) -> Path:
    """Write ``stores`` (default: ``default_stores()``) as UTF-8 CSV with the contract header."""
    path = Path(path)
    rows = default_stores() if stores is None else stores
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for store in rows:
            writer.writerow(astuple(store))
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
        stores.append(
            Store(
                store_id=store_id,
                name=values["name"],
                city=values["city"],
                region=values["region"],
                format=values["format"],
                size_sqm=int(size),
            )
        )
    return stores


__all__ = [
    "COLUMNS",
    "FORMATS",
    "REGIONS",
    "Store",
    "default_stores",
    "max_stores",
    "read_stores",
    "write_stores_csv",
]
