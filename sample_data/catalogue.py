"""A small, deterministic product catalogue that fits the seed articles' examples.

Fashion in colours and sizes (rain jacket, knit sweater, chinos, sneakers …, with material, care
instructions and price) and household appliances with the accessories a "segment of one"
recommendation would offer: enamel cleaner for the enamelled toaster, a filter for the kettle,
descaling tablets for the coffee machine. ``stock(store_id, sku)`` gives the same availability
for the same store and SKU every time (a hash, not a random generator).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class Product:
    """One article (a model); its sellable units are the ``skus`` (colour × size)."""

    id: str
    name: dict[str, str]  # locale -> name
    category: str  # fashion | household | accessory
    price_eur: float
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    material: dict[str, str] = field(default_factory=dict)
    care: dict[str, str] = field(default_factory=dict)
    accessories: tuple[str, ...] = ()  # product ids recommended with it

    @property
    def skus(self) -> list[str]:
        """``id-colour-size`` for every combination (``id`` alone for unsized items)."""
        colours = self.colours or ("",)
        sizes = self.sizes or ("",)
        return ["-".join(p for p in (self.id, c, s) if p) for c in colours for s in sizes]


_CARE_30 = {
    "de": "Waschen bei 30 °C, nicht in den Trockner",
    "en": "Wash at 30 °C, do not tumble dry",
}
_CARE_WOOL = {"de": "Handwäsche, liegend trocknen", "en": "Hand wash, dry flat"}
_CARE_40 = {"de": "Waschen bei 40 °C, auf links bügeln", "en": "Wash at 40 °C, iron inside out"}
_CARE_WIPE = {"de": "Feucht abwischen", "en": "Wipe clean with a damp cloth"}
CLOTHING_SIZES = ("XS", "S", "M", "L", "XL")
SHOE_SIZES = tuple(str(s) for s in range(37, 47))

PRODUCTS: tuple[Product, ...] = (
    Product(
        "nordkap",
        {"de": "Regenjacke Nordkap", "en": "Nordkap rain jacket"},
        "fashion",
        129.95,
        ("navy", "olive", "red"),
        CLOTHING_SIZES,
        {"de": "100 % Polyamid, PFC-frei imprägniert", "en": "100% polyamide, PFC-free finish"},
        _CARE_30,
        ("fleece", "beanie", "impregnation-spray"),
    ),
    Product(
        "fjord-knit",
        {"de": "Strickpullover Fjord", "en": "Fjord knit sweater"},
        "fashion",
        89.95,
        ("ecru", "anthracite", "bottle-green"),
        CLOTHING_SIZES,
        {"de": "70 % Merinowolle, 30 % Baumwolle", "en": "70% merino wool, 30% cotton"},
        _CARE_WOOL,
        ("wool-detergent",),
    ),
    Product(
        "hafen-chino",
        {"de": "Chino Hafen", "en": "Hafen chinos"},
        "fashion",
        69.95,
        ("beige", "navy", "stone"),
        ("28", "30", "32", "34", "36", "38"),
        {"de": "98 % Baumwolle, 2 % Elasthan", "en": "98% cotton, 2% elastane"},
        _CARE_40,
    ),
    Product(
        "elbe-sneaker",
        {"de": "Sneaker Elbe", "en": "Elbe sneakers"},
        "fashion",
        99.95,
        ("white", "black"),
        SHOE_SIZES,
        {"de": "Glattleder, Gummisohle", "en": "Smooth leather, rubber sole"},
        _CARE_WIPE,
        ("shoe-care-set",),
    ),
    Product(
        "fleece",
        {"de": "Fleecejacke Kamm", "en": "Kamm fleece jacket"},
        "fashion",
        59.95,
        ("grey", "navy"),
        CLOTHING_SIZES,
        {"de": "100 % recyceltes Polyester", "en": "100% recycled polyester"},
        _CARE_30,
    ),
    Product(
        "beanie",
        {"de": "Mütze Düne", "en": "Düne beanie"},
        "fashion",
        24.95,
        ("navy", "mustard"),
        ("one-size",),
        {"de": "100 % Merinowolle", "en": "100% merino wool"},
        _CARE_WOOL,
    ),
    Product(
        "enamel-toaster",
        {"de": "Emaille-Toaster Retro", "en": "Retro enamel toaster"},
        "household",
        79.95,
        ("cream", "mint", "red"),
        (),
        {"de": "Emailliertes Stahlgehäuse, 2 Schlitze", "en": "Enamelled steel, 2 slots"},
        _CARE_WIPE,
        ("enamel-cleaner", "pot-holders-floral"),
    ),
    Product(
        "kettle",
        {"de": "Wasserkocher Quelle 1,7 l", "en": "Quelle kettle 1.7 l"},
        "household",
        49.95,
        ("steel", "black"),
        (),
        {"de": "Edelstahl, Kalkfilter herausnehmbar", "en": "Stainless steel, removable filter"},
        _CARE_WIPE,
        ("kettle-filter", "descaler"),
    ),
    Product(
        "coffee-machine",
        {"de": "Kaffeevollautomat Bohne", "en": "Bohne bean-to-cup machine"},
        "household",
        449.00,
        ("silver",),
        (),
        {"de": "Kegelmahlwerk aus Stahl, 15 bar", "en": "Steel conical grinder, 15 bar"},
        _CARE_WIPE,
        ("descaling-tablets", "descaler"),
    ),
    Product(
        "enamel-cleaner", {"de": "Emaille-Reiniger", "en": "Enamel cleaner"}, "accessory", 7.95
    ),
    Product(
        "pot-holders-floral",
        {"de": "Topflappen mit Blumenmuster", "en": "Floral pot holders"},
        "accessory",
        9.95,
    ),
    Product(
        "kettle-filter",
        {"de": "Kalkfilter für Wasserkocher", "en": "Kettle scale filter"},
        "accessory",
        6.95,
    ),  # fmt: skip
    Product(
        "descaler",
        {"de": "Flüssigentkalker 500 ml", "en": "Liquid descaler 500 ml"},
        "accessory",
        8.95,
    ),  # fmt: skip
    Product(
        "descaling-tablets",
        {"de": "Entkalkungstabletten (6 Stück)", "en": "Descaling tablets (6)"},
        "accessory",
        12.95,
    ),
    Product(
        "impregnation-spray",
        {"de": "Imprägnierspray", "en": "Waterproofing spray"},
        "accessory",
        11.95,
    ),  # fmt: skip
    Product("wool-detergent", {"de": "Wollwaschmittel", "en": "Wool detergent"}, "accessory", 6.45),
    Product("shoe-care-set", {"de": "Schuhpflege-Set", "en": "Shoe care kit"}, "accessory", 19.95),
)


def products() -> list[Product]:
    """Every product, in catalogue order."""
    return list(PRODUCTS)


@cache
def _by_id() -> dict[str, Product]:
    return {p.id: p for p in PRODUCTS}


def product(product_id: str) -> Product:
    """One product by id (``KeyError`` names the known ids)."""
    try:
        return _by_id()[product_id]
    except KeyError:
        raise KeyError(f"unknown product {product_id!r}; known: {', '.join(_by_id())}") from None


def accessories_for(product_id: str) -> list[Product]:
    """The accessories recommended with a product (the "segment of one" example)."""
    return [product(a) for a in product(product_id).accessories]


def stock(store_id: str, sku: str) -> int:
    """Units of ``sku`` in ``store_id``: deterministic, 0 in about a fifth of cases.

    Middle sizes sell out more often than the edges, as in real stores.
    """
    h = hashlib.blake2b(f"{store_id}|{sku}".encode(), digest_size=4).digest()
    u = int.from_bytes(h, "big") / 2**32
    size = sku.rsplit("-", 1)[-1]
    sold_out = 0.30 if size in ("M", "L", "40", "41", "42", "32") else 0.15
    if u < sold_out:
        return 0
    return 1 + int((u - sold_out) / (1 - sold_out) * 8)


def availability(sku: str, store_ids: list[str]) -> dict[str, int]:
    """``stock`` of one SKU in each of the given stores."""
    return {s: stock(s, sku) for s in store_ids}
