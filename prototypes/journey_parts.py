"""The parts of the journey elements (issue 15) that are not elements themselves.

Cart lines, payment methods, tracking steps, reviews and stores of a store map, and the checks
those elements share (``prototypes.elements`` holds the elements: ``Cart``, ``PaymentSheet``,
``OrderTracking``, ``ReviewList``, ``StoreMap``, ``StaffNote``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from prototypes.fields import Id, LocalizedText, SpecModel

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


def unique_ids(items: list[Any], what: str) -> None:
    """Refuse two parts with the same id: taps name them ``<element>.<id>``."""
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{what} id '{item.id}' appears twice; taps name them by id")
        seen.add(item.id)


def label_with_target(label: Any, target: Any, label_key: str) -> None:
    """A button needs its text and its target screen, or neither."""
    if (label is None) != (target is None):
        raise ValueError(f"give '{label_key}' (the button's text) and 'target' together")


class CartLine(SpecModel):
    id: Id
    name: LocalizedText
    price: float = Field(ge=0, description="price of one piece")
    quantity: int = Field(1, ge=1, le=99)
    detail: LocalizedText | None = Field(None, description="colour, size, …")
    icon: str | None = Field(None, max_length=16, description="an emoji for the line")


class PaymentMethod(SpecModel):
    id: Id
    label: LocalizedText
    icon: str | None = Field(None, max_length=16)
    available: bool = True


class TrackingStep(SpecModel):
    id: Id
    label: LocalizedText
    time: LocalizedText | None = None
    done: bool = False


class ReviewItem(SpecModel):
    id: Id
    author: str = Field(min_length=1)
    stars: int = Field(ge=1, le=5)
    text: LocalizedText
    verified: bool = Field(False, description="a verified purchase")
    helpful: int = Field(0, ge=0)


class MapStore(SpecModel):
    id: Id
    name: str = Field(min_length=1, description="store name; '{{store.name}}' for this store")
    address: str = Field(min_length=1)
    distance_km: float | None = Field(None, ge=0)
    hours: LocalizedText | None = None
    stock: Literal["in_stock", "low", "out_of_stock"] | None = None
    target: Id | None = None


__all__ = [
    "CartLine",
    "Currency",
    "MapStore",
    "PaymentMethod",
    "ReviewItem",
    "TrackingStep",
    "label_with_target",
    "unique_ids",
]
