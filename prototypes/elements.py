"""What a screen is made of: the 25 element types and the screen (``prototypes.custom_screen``:
a screen drawn by Python).

Every element has an ``id`` (unique on its screen: events name elements by it) and a ``type``
that picks its model. Elements that navigate (buttons, hotspots, scans, banners, product taps)
name a ``target`` screen; ``link_targets`` lists them so links, reachability and the pilot
simulator see every way from one screen to another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from prototypes.custom_screen import CustomScreen
from prototypes.element_base import ElementBase
from prototypes.fields import Colour, Id, Label, LocalizedText, Share, SpecModel
from prototypes.journey_elements import (
    HANDOVER_DEVICES,
    JOURNEY_ELEMENT_TYPES,
    Cart,
    CodeEntry,
    Handover,
    OrderTracking,
    PaymentSheet,
    ReviewList,
    StaffNote,
    StoreMap,
)
from prototypes.personas import When


class Placeholder(SpecModel):
    """A picture the runtime draws itself: an icon (emoji) on a coloured tile. No files, no URLs."""

    icon: str = Field(min_length=1, max_length=16)
    colour: Colour = "#e9ecef"


class Heading(ElementBase):
    """A headline."""

    type: Literal["heading"]
    text: LocalizedText
    level: Literal[1, 2, 3] = 1


class Paragraph(ElementBase):
    """Running text; ``style: muted`` for small print."""

    type: Literal["text"]
    text: LocalizedText
    style: Literal["body", "muted", "strong"] = "body"


class Image(ElementBase):
    """A picture: a file inside the prototype folder (``src``) or a drawn ``placeholder``."""

    type: Literal["image"]
    src: str | None = None
    placeholder: Placeholder | None = None
    alt: LocalizedText | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Image:
        if (self.src is None) == (self.placeholder is None):
            raise ValueError("an image needs exactly one of 'src' (a file) or 'placeholder'")
        return self


class Product(SpecModel):
    """A product as cards and grids show it."""

    id: Id
    name: LocalizedText
    brand: str | None = None
    price: float | None = Field(None, ge=0)
    was: float | None = Field(None, ge=0, description="former price, shown struck through")
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    colour: LocalizedText | None = None
    size: Label | None = None
    badge: LocalizedText | None = None
    image: Placeholder | None = None
    target: Id | None = None


class ProductCard(ElementBase):
    """One product, large; tapping it goes to ``target`` when given."""

    type: Literal["product_card"]
    product: Product

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        if self.product.target is not None:
            yield self.id, self.product.target, "product.target"


class ProductGrid(ElementBase):
    """Several products; a tap on an item is the element ``<grid id>.<item id>``."""

    type: Literal["product_grid"]
    title: LocalizedText | None = None
    items: list[Product] = Field(min_length=1)

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        for i, item in enumerate(self.items):
            if item.target is not None:
                yield f"{self.id}.{item.id}", item.target, f"items[{i}].target"


class PickerOption(SpecModel):
    value: Label
    label: LocalizedText | None = None
    swatch: Colour | None = None
    available: bool = True


class Picker(ElementBase):
    """Size or colour choice; unavailable options are shown but greyed out."""

    type: Literal["picker"]
    kind: Literal["size", "colour"]
    label: LocalizedText
    options: list[PickerOption] = Field(min_length=1)
    selected: Label | None = None


class StoreStock(SpecModel):
    name: str = Field(min_length=1, description="store name; '{{store.name}}' for this store")
    distance_km: float | None = Field(None, ge=0)
    stock: Literal["in_stock", "low", "out_of_stock"] = "in_stock"
    sizes: list[Label] = Field(default_factory=list, description="sizes on the shelf there")
    note: LocalizedText | None = None


class OnlineStock(SpecModel):
    stock: Literal["in_stock", "low", "out_of_stock"] = "in_stock"
    delivery: LocalizedText | None = None


class StoreAvailability(ElementBase):
    """Where the item is: this store, nearby stores with distance, online."""

    type: Literal["store_availability"]
    title: LocalizedText | None = None
    stores: list[StoreStock] = Field(min_length=1)
    online: OnlineStock | None = None


class Offer(SpecModel):
    text: LocalizedText
    amount: float | None = Field(None, ge=0, description="the offer price")
    code: str | None = None
    personal: bool = Field(True, description="a segment-of-one offer for this customer")


class Price(ElementBase):
    """A price, optionally a former price and a (personalised) offer."""

    type: Literal["price"]
    amount: float = Field(ge=0)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    was: float | None = Field(None, ge=0)
    offer: Offer | None = None


class Map(ElementBase):
    """A drawn map tile with a store's address and distance."""

    type: Literal["map"]
    label: LocalizedText
    address: str = Field(min_length=1)
    distance_km: float | None = Field(None, ge=0)


class Slot(SpecModel):
    id: Id
    label: LocalizedText
    available: bool = True


class PickupSlots(ElementBase):
    """Choice of a pickup or fitting-room time."""

    type: Literal["pickup_slots"]
    label: LocalizedText
    slots: list[Slot] = Field(min_length=1)


class FieldOption(SpecModel):
    value: str = Field(min_length=1)
    label: LocalizedText


class FormField(ElementBase):
    """One form input. Prototypes never store what is typed, only that it was filled."""

    type: Literal["field"]
    kind: Literal["text", "email", "phone", "number", "select", "checkbox", "textarea"]
    label: LocalizedText
    placeholder: LocalizedText | None = None
    required: bool = False
    options: list[FieldOption] = Field(default_factory=list)

    @model_validator(mode="after")
    def _options_for_select(self) -> FormField:
        if self.kind == "select" and not self.options:
            raise ValueError("a 'select' field needs 'options'")
        if self.kind != "select" and self.options:
            raise ValueError("only a 'select' field takes 'options'")
        return self


class Scan(ElementBase):
    """Barcode-scan placeholder: a camera frame; tapping it 'scans' and goes to ``target``."""

    type: Literal["scan"]
    label: LocalizedText
    target: Id


class Banner(ElementBase):
    """A notification (e.g. a push message); tapping it goes to ``target`` when given."""

    type: Literal["banner"]
    text: LocalizedText
    title: LocalizedText | None = None
    tone: Literal["info", "success", "warning", "offer"] = "info"
    icon: str | None = Field(None, max_length=16)
    target: Id | None = None


class Review(SpecModel):
    author: str = Field(min_length=1)
    stars: int = Field(ge=1, le=5)
    text: LocalizedText


class Rating(ElementBase):
    """Average stars, number of ratings and a few reviews."""

    type: Literal["rating"]
    stars: float = Field(ge=0, le=5)
    count: int = Field(ge=0)
    reviews: list[Review] = Field(default_factory=list)


class Detail(SpecModel):
    label: LocalizedText
    value: LocalizedText


class Details(ElementBase):
    """Label/value facts: material, care, fit, warranty."""

    type: Literal["details"]
    title: LocalizedText | None = None
    items: list[Detail] = Field(min_length=1)


class Button(ElementBase):
    """A button that goes to another screen."""

    type: Literal["button"]
    label: LocalizedText
    target: Id
    style: Literal["primary", "secondary", "link"] = "primary"


class Area(SpecModel):
    x: Share
    y: Share
    w: Share
    h: Share


class Hotspot(ElementBase):
    """An invisible tap area (share of the screen, 0–1) that goes to ``target``."""

    type: Literal["hotspot"]
    target: Id
    area: Area
    label: LocalizedText | None = None


Element = Annotated[
    Heading
    | Paragraph
    | Image
    | ProductCard
    | ProductGrid
    | Picker
    | StoreAvailability
    | Price
    | Map
    | PickupSlots
    | FormField
    | Scan
    | Banner
    | Rating
    | Details
    | Button
    | Hotspot
    | Cart
    | PaymentSheet
    | OrderTracking
    | ReviewList
    | StoreMap
    | StaffNote
    | Handover
    | CodeEntry,
    Field(discriminator="type"),
]
ELEMENT_TYPES: tuple[str, ...] = (
    "heading",
    "text",
    "image",
    "product_card",
    "product_grid",
    "picker",
    "store_availability",
    "price",
    "map",
    "pickup_slots",
    "field",
    "scan",
    "banner",
    "rating",
    "details",
    "button",
    "hotspot",
    *JOURNEY_ELEMENT_TYPES,
    "handover",
    "code_entry",
)


class Screen(SpecModel):
    """One screen: a title and its elements, top to bottom. Element ids are unique per screen.

    A screen with ``custom`` is drawn by a Python function first; its ``elements`` (then
    optional) follow below.
    """

    id: Id
    title: LocalizedText | None = None
    custom: CustomScreen | None = None
    elements: list[Element] = Field(default_factory=list, validate_default=True)
    when: When | None = None
    """Shown only when these conditions hold; else the ``otherwise`` screen in its place."""
    otherwise: Id | None = None

    @model_validator(mode="after")
    def _when_needs_otherwise(self) -> Screen:
        if (self.when is None) != (self.otherwise is None):
            raise ValueError(
                "a screen's 'when' needs 'otherwise' (the screen shown in its place), and "
                "'otherwise' needs 'when'"
            )
        return self

    @field_validator("elements")
    @classmethod
    def _elements_or_custom(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        # 'custom' is missing from info.data when it was itself invalid: reported there already
        if not value and "custom" in info.data and info.data["custom"] is None:
            raise ValueError(
                "a screen needs at least one element, or 'custom: {module: …}' to draw it "
                "with a Python function"
            )
        return value

    def links(self) -> list[tuple[str, str]]:
        """(element id, target screen id) for every element that navigates, then
        (``custom.<target>``, target) for each of the custom function's ``targets``."""
        own = [(eid, target) for e in self.elements for eid, target, _ in e.link_targets()]
        if self.custom is not None:
            own += [(f"custom.{t}", t) for t in self.custom.targets]
        return own

    def element(self, element_id: str) -> Any:
        """The element with this id (``KeyError`` if there is none)."""
        for e in self.elements:
            if e.id == element_id:
                return e
        raise KeyError(element_id)


__all__ = [
    "ELEMENT_TYPES",
    "JOURNEY_ELEMENT_TYPES",
    "Area",
    "Banner",
    "Button",
    "Cart",
    "CodeEntry",
    "Detail",
    "Details",
    "Element",
    "FieldOption",
    "FormField",
    "HANDOVER_DEVICES",
    "Handover",
    "Heading",
    "Hotspot",
    "Image",
    "Map",
    "Offer",
    "OnlineStock",
    "OrderTracking",
    "Paragraph",
    "PaymentSheet",
    "Picker",
    "PickerOption",
    "Placeholder",
    "Price",
    "Product",
    "ProductCard",
    "ProductGrid",
    "Rating",
    "Review",
    "ReviewList",
    "Scan",
    "Screen",
    "Slot",
    "StaffNote",
    "StoreAvailability",
    "StoreMap",
    "StoreStock",
]
