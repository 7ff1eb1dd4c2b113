"""The sample pilot fleet: a seeded, realistic set of German stores.

``default_stores()`` gives the same stores for the same seed (Faker ``de_DE`` seeded per call,
streets from a fixed list of real shopping streets). The ``Store`` model and the lab's
``stores.csv`` reader and writer live in ``lab.py``.
"""

from __future__ import annotations

from errors import InvalidInputError
from lab import Store

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


__all__ = ["BRAND", "CITIES", "Store", "default_stores", "max_stores"]
