"""The elements the seeds' journeys need (issue 15): cart, payment sheet, order tracking,
review list, store map and staff note, and the two ends of a device handover.

``prototypes.elements`` puts them into the one ``Element`` union.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, model_validator

from prototypes.element_base import ElementBase
from prototypes.fields import Id, LocalizedText
from prototypes.journey_parts import (
    CartLine,
    Currency,
    MapStore,
    PaymentMethod,
    ReviewItem,
    TrackingStep,
    label_with_target,
    unique_ids,
)

# --- Journey elements (issue 15): cart, payment sheet, order tracking, review list, store map,
# staff note. Their taps name ``<element>.<part>`` (a cart line's stepper, a payment method, a
# store, a review's "helpful"); those with a ``target`` navigate like a button.


class Cart(ElementBase):
    """A basket: its lines with big − / + steppers, the total, and a checkout button."""

    type: Literal["cart"]
    title: LocalizedText | None = None
    lines: list[CartLine] = Field(min_length=1)
    currency: Currency = "EUR"
    checkout: LocalizedText | None = Field(None, description="text of the checkout button")
    target: Id | None = None

    @model_validator(mode="after")
    def _check(self) -> Cart:
        unique_ids(self.lines, "cart line")
        label_with_target(self.checkout, self.target, "checkout")
        return self


class PaymentSheet(ElementBase):
    """A payment sheet: the amount, the methods as big choices, and the pay button."""

    type: Literal["payment_sheet"]
    amount: float = Field(ge=0)
    currency: Currency = "EUR"
    methods: list[PaymentMethod] = Field(min_length=1)
    selected: Id | None = Field(None, description="the method chosen at first")
    pay: LocalizedText = Field(description="text of the pay button")
    target: Id
    note: LocalizedText | None = None

    @model_validator(mode="after")
    def _check(self) -> PaymentSheet:
        unique_ids(self.methods, "payment method")
        usable = [m.id for m in self.methods if m.available]
        if not usable:
            raise ValueError("at least one payment method must be available")
        if self.selected is not None and self.selected not in usable:
            raise ValueError(
                f"selected '{self.selected}' is not an available method ({', '.join(usable)})"
            )
        return self


class OrderTracking(ElementBase):
    """Where an order is: its steps (done ones first), the expected time, a pickup code."""

    type: Literal["order_tracking"]
    order: str = Field(min_length=1, max_length=40, description="the order number shown")
    steps: list[TrackingStep] = Field(min_length=2)
    eta: LocalizedText | None = None
    pickup_code: str | None = Field(None, min_length=1, max_length=16)
    target: Id | None = None

    @model_validator(mode="after")
    def _check(self) -> OrderTracking:
        unique_ids(self.steps, "tracking step")
        done = [step.done for step in self.steps]
        if done != sorted(done, reverse=True):
            raise ValueError(
                "the steps that are done come first: a step is done only when every step "
                "before it is"
            )
        return self


class ReviewList(ElementBase):
    """Reviews with a star summary, star filter chips, "helpful" taps and a write button."""

    type: Literal["review_list"]
    stars: float = Field(ge=0, le=5)
    count: int = Field(ge=0)
    reviews: list[ReviewItem] = Field(min_length=1)
    highlight: LocalizedText | None = Field(None, description="what reviewers often say")
    filters: bool = True
    write: LocalizedText | None = Field(None, description="text of a 'write a review' button")
    target: Id | None = None

    @model_validator(mode="after")
    def _check(self) -> ReviewList:
        unique_ids(self.reviews, "review")
        label_with_target(self.write, self.target, "write")
        if self.count < len(self.reviews):
            raise ValueError(f"count {self.count} is less than the {len(self.reviews)} reviews")
        return self


class StoreMap(ElementBase):
    """A drawn map with a pin per store and a big tappable row per store."""

    type: Literal["store_map"]
    title: LocalizedText | None = None
    stores: list[MapStore] = Field(min_length=1, max_length=6)

    @model_validator(mode="after")
    def _check(self) -> StoreMap:
        unique_ids(self.stores, "store")
        return self

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        for i, store in enumerate(self.stores):
            if store.target is not None:
                yield f"{self.id}.{store.id}", store.target, f"stores[{i}].target"


class StaffNote(ElementBase):
    """A note from a member of staff; ``audience: staff`` marks one only the associate sees."""

    type: Literal["staff_note"]
    author: str = Field(min_length=1)
    role: LocalizedText | None = None
    text: LocalizedText
    audience: Literal["customer", "staff"] = "customer"
    icon: str | None = Field(None, max_length=16)
    action: LocalizedText | None = Field(None, description="text of a button below the note")
    target: Id | None = None

    @model_validator(mode="after")
    def _check(self) -> StaffNote:
        label_with_target(self.action, self.target, "action")
        return self


JOURNEY_ELEMENT_TYPES: tuple[str, ...] = (
    "cart",
    "payment_sheet",
    "order_tracking",
    "review_list",
    "store_map",
    "staff_note",
)
# --- end of journey elements -------------------------------------------------------------------
# --- device handover (issue 15): hand the journey to another device, and take it over ---------

HANDOVER_DEVICES = ("kiosk", "phone", "associate-tablet")


class Handover(ElementBase):
    """Continue on another device: shows a short code and a QR code that the device ``to``
    enters or scans; there the journey goes on at ``target`` (a screen of this prototype)."""

    type: Literal["handover"]
    to: Literal[HANDOVER_DEVICES]
    target: Id
    text: LocalizedText | None = None


class CodeEntry(ElementBase):
    """A big keypad for the code another device shows (the receiving device's entry screen)."""

    type: Literal["code_entry"]
    label: LocalizedText | None = None
