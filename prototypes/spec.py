"""The prototype spec: pydantic models for ``prototype.yaml`` and the view a runtime renders.

A prototype is a small clickable product for one break in the customer journey. The file holds
the *base* (screens, tasks, questions), named *variants* (``treatment``: changes on top of the
base) and its *versions* (``versions:``: version 1 is the base, every later entry changes the
version before it). ``Prototype.resolve(version, variant)`` applies those changes and returns a
``PrototypeView``: the plain screens, links, tasks and questions of exactly one version and
variant. The runtime renders a view, the pilot simulator walks it.

A short spec::

    id: scan-and-discover
    title: {de: Scannen und entdecken, en: Scan and discover}
    phase: information            # inspiration|information|advice|purchase|after-sales|…
    touchpoint: phone             # kiosk|phone|associate-tablet
    locales: [de, en]             # every customer-facing text has one entry per locale
    screens:                      # the first screen is the start unless start_screen says otherwise
      - id: scan
        elements:
          - {type: heading, id: title, text: {de: Artikel scannen, en: Scan an item}}
          - {type: scan, id: scanner, label: {de: Etikett scannen, en: Scan label}, target: product}
      - id: product
        elements:
          - {type: button, id: back, label: {de: Zurück, en: Back}, target: scan}
    tasks:
      - id: find-product
        prompt: {de: Scannen Sie die Jacke., en: Scan the jacket.}
        start_screen: scan
        goal_screens: [product]
        expected_path: [scan, product]
    questions:
      - {instrument: seq, after_task: find-product}
      - {instrument: umux_lite}
    variants:
      treatment:                  # same keys as a version's changes (see ``Changes``)
        note: Stock first
        elements:
          - {screen: product, before: back, element: {type: text, id: stock, text: {de: …, en: …}}}
    versions:
      - {version: 1, note: First pilot}
      - {version: 2, note: Bigger scan button, date: 2026-11-16}

A screen the elements cannot express names a Python function in the prototype folder:
``custom: {module: advisor.py, function: render, targets: [product]}`` (``CustomScreen``; see
``docs/custom-screens.md``); ``targets`` are its links.

Models are frozen and forbid unknown keys. ``load_prototype`` (which also runs every check in
``prototypes.validate``) is the way to read a file; ``Prototype.model_validate`` alone checks
only the structure.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from errors import InvalidInputError, SpecError
from feedback.catalogue import CATALOGUE

PHASES: tuple[str, ...] = (
    "inspiration",
    "information",
    "advice",
    "purchase",
    "after-sales",
    "recommendation",
)
TOUCHPOINTS: tuple[str, ...] = ("kiosk", "phone", "associate-tablet")
BASE_VARIANT = "control"
"""Name of the base (unchanged) variant in views and events; not allowed as a variant name."""

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PROTOTYPE_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LOCALE_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
COLOUR_RE = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z]+)$")
MAX_ID_LEN = 64


# --- errors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec file, located by file, line and path in the spec."""

    file: str
    line: int
    path: str
    message: str
    kind: str = "invalid"
    """yaml, unknown_key, missing_key, type, duplicate_key, duplicate_id, broken_link,
    unreachable, task, question, translation, asset, custom, too_large, version, variant,
    invalid"""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top level)'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: file, line, path, kind, message."""
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "kind": self.kind,
            "message": self.message,
        }


# --- field types ------------------------------------------------------------------------------


class LocalizedText(dict):
    """A customer-facing text in every language of the prototype: ``{de: "…", en: "…"}``.

    A plain ``dict`` (locale -> text) so a runtime can simply index it.
    """

    def get_text(self, locale: str, fallback: str | None = None) -> str:
        """The text in ``locale``, else in ``fallback``, else the first one given."""
        if locale in self:
            return self[locale]
        if fallback and fallback in self:
            return self[fallback]
        return next(iter(self.values()), "")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        def require_mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise PydanticCustomError(
                    "text_type",
                    "expected a text per language like 'de: …' and 'en: …' below it, got {kind}",
                    {"kind": _kind(value)},
                )
            return value

        inner = core_schema.dict_schema(
            keys_schema=core_schema.str_schema(pattern=LOCALE_RE.pattern),
            values_schema=core_schema.str_schema(min_length=1, strip_whitespace=True),
            min_length=1,
        )
        return core_schema.no_info_before_validator_function(
            require_mapping,
            core_schema.no_info_after_validator_function(cls, inner),
            serialization=core_schema.plain_serializer_function_ser_schema(dict),
        )


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a plain string"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _check_id(value: str) -> str:
    if not ID_RE.match(value) or len(value) > MAX_ID_LEN:
        raise ValueError(
            f"{value!r} is not a valid id: use lowercase letters, digits, '-' and '_' "
            f"(at most {MAX_ID_LEN} characters)"
        )
    return value


def _check_prototype_id(value: str) -> str:
    if not PROTOTYPE_ID_RE.match(value) or len(value) > MAX_ID_LEN:
        raise ValueError(
            f"{value!r} is not a valid prototype id: use lowercase letters, digits and dashes, "
            "e.g. scan-and-discover"
        )
    return value


def _check_colour(value: str) -> str:
    if not COLOUR_RE.match(value):
        raise ValueError(f"{value!r} is not a colour: use '#rrggbb' or a CSS name like 'navy'")
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _number_to_str(value: Any) -> Any:
    """Sizes like ``38`` or ``42.5`` may be written as YAML numbers; keep them as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Id = Annotated[str, AfterValidator(_check_id)]
PrototypeId = Annotated[str, AfterValidator(_check_prototype_id)]
Colour = Annotated[str, AfterValidator(_check_colour)]
Locale = Annotated[str, Field(pattern=LOCALE_RE.pattern)]
Share = Annotated[float, Field(ge=0, le=1)]
Label = Annotated[str, BeforeValidator(_number_to_str), Field(min_length=1)]
"""A short non-translated label: a size (``M``, ``38``), an option value."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- elements ---------------------------------------------------------------------------------


class Placeholder(_Spec):
    """A picture the runtime draws itself: an icon (emoji) on a coloured tile. No files, no URLs."""

    icon: str = Field(min_length=1, max_length=16)
    colour: Colour = "#e9ecef"


class _Element(_Spec):
    id: Id

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        """(element id for events, target screen, spec path below the element) per link."""
        target = getattr(self, "target", None)
        if target is not None:
            yield self.id, target, "target"


class Heading(_Element):
    """A headline."""

    type: Literal["heading"]
    text: LocalizedText
    level: Literal[1, 2, 3] = 1


class Paragraph(_Element):
    """Running text; ``style: muted`` for small print."""

    type: Literal["text"]
    text: LocalizedText
    style: Literal["body", "muted", "strong"] = "body"


class Image(_Element):
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


class Product(_Spec):
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


class ProductCard(_Element):
    """One product, large; tapping it goes to ``target`` when given."""

    type: Literal["product_card"]
    product: Product

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        if self.product.target is not None:
            yield self.id, self.product.target, "product.target"


class ProductGrid(_Element):
    """Several products; a tap on an item is the element ``<grid id>.<item id>``."""

    type: Literal["product_grid"]
    title: LocalizedText | None = None
    items: list[Product] = Field(min_length=1)

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        for i, item in enumerate(self.items):
            if item.target is not None:
                yield f"{self.id}.{item.id}", item.target, f"items[{i}].target"


class PickerOption(_Spec):
    value: Label
    label: LocalizedText | None = None
    swatch: Colour | None = None
    available: bool = True


class Picker(_Element):
    """Size or colour choice; unavailable options are shown but greyed out."""

    type: Literal["picker"]
    kind: Literal["size", "colour"]
    label: LocalizedText
    options: list[PickerOption] = Field(min_length=1)
    selected: Label | None = None


class StoreStock(_Spec):
    name: str = Field(min_length=1, description="store name; '{{store.name}}' for this store")
    distance_km: float | None = Field(None, ge=0)
    stock: Literal["in_stock", "low", "out_of_stock"] = "in_stock"
    sizes: list[Label] = Field(default_factory=list, description="sizes on the shelf there")
    note: LocalizedText | None = None


class OnlineStock(_Spec):
    stock: Literal["in_stock", "low", "out_of_stock"] = "in_stock"
    delivery: LocalizedText | None = None


class StoreAvailability(_Element):
    """Where the item is: this store, nearby stores with distance, online."""

    type: Literal["store_availability"]
    title: LocalizedText | None = None
    stores: list[StoreStock] = Field(min_length=1)
    online: OnlineStock | None = None


class Offer(_Spec):
    text: LocalizedText
    amount: float | None = Field(None, ge=0, description="the offer price")
    code: str | None = None
    personal: bool = Field(True, description="a segment-of-one offer for this customer")


class Price(_Element):
    """A price, optionally a former price and a (personalised) offer."""

    type: Literal["price"]
    amount: float = Field(ge=0)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    was: float | None = Field(None, ge=0)
    offer: Offer | None = None


class Map(_Element):
    """A drawn map tile with a store's address and distance."""

    type: Literal["map"]
    label: LocalizedText
    address: str = Field(min_length=1)
    distance_km: float | None = Field(None, ge=0)


class Slot(_Spec):
    id: Id
    label: LocalizedText
    available: bool = True


class PickupSlots(_Element):
    """Choice of a pickup or fitting-room time."""

    type: Literal["pickup_slots"]
    label: LocalizedText
    slots: list[Slot] = Field(min_length=1)


class FieldOption(_Spec):
    value: str = Field(min_length=1)
    label: LocalizedText


class FormField(_Element):
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


class Scan(_Element):
    """Barcode-scan placeholder: a camera frame; tapping it 'scans' and goes to ``target``."""

    type: Literal["scan"]
    label: LocalizedText
    target: Id


class Banner(_Element):
    """A notification (e.g. a push message); tapping it goes to ``target`` when given."""

    type: Literal["banner"]
    text: LocalizedText
    title: LocalizedText | None = None
    tone: Literal["info", "success", "warning", "offer"] = "info"
    icon: str | None = Field(None, max_length=16)
    target: Id | None = None


class Review(_Spec):
    author: str = Field(min_length=1)
    stars: int = Field(ge=1, le=5)
    text: LocalizedText


class Rating(_Element):
    """Average stars, number of ratings and a few reviews."""

    type: Literal["rating"]
    stars: float = Field(ge=0, le=5)
    count: int = Field(ge=0)
    reviews: list[Review] = Field(default_factory=list)


class Detail(_Spec):
    label: LocalizedText
    value: LocalizedText


class Details(_Element):
    """Label/value facts: material, care, fit, warranty."""

    type: Literal["details"]
    title: LocalizedText | None = None
    items: list[Detail] = Field(min_length=1)


class Button(_Element):
    """A button that goes to another screen."""

    type: Literal["button"]
    label: LocalizedText
    target: Id
    style: Literal["primary", "secondary", "link"] = "primary"


class Area(_Spec):
    x: Share
    y: Share
    w: Share
    h: Share


class Hotspot(_Element):
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
    | Hotspot,
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
)


def _check_function_name(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError(f"{value!r} is not a Python function name (e.g. render, size_advisor)")
    return value


class CustomScreen(_Spec):
    """A screen drawn by a Python function in the prototype folder (``docs/custom-screens.md``).

    The runtime calls ``function(api)`` from ``module`` with a ``ScreenAPI``. The validator never
    runs the code, so ``targets`` declares the screens the function may go to: they are the
    screen's links for reachability, task paths and the pilot simulator.
    """

    module: str = Field(min_length=1, description="a .py file inside the prototype folder")
    function: Annotated[str, AfterValidator(_check_function_name)] = "render"
    targets: list[Id] = Field(default_factory=list, description="screens the function may go to")


class Screen(_Spec):
    """One screen: a title and its elements, top to bottom. Element ids are unique per screen.

    A screen with ``custom`` is drawn by a Python function first; its ``elements`` (then
    optional) follow below.
    """

    id: Id
    title: LocalizedText | None = None
    custom: CustomScreen | None = None
    elements: list[Element] = Field(default_factory=list, validate_default=True)

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


class Task(_Spec):
    """A mission for the customer: reach one of ``goal_screens`` starting at ``start_screen``."""

    id: Id
    prompt: LocalizedText
    start_screen: Id
    goal_screens: Annotated[list[Id], BeforeValidator(_one_or_many), Field(min_length=1)]
    expected_path: list[Id] = Field(
        min_length=1, description="screen ids from start to a goal, inclusive"
    )
    time_limit_s: int | None = Field(None, gt=0)


# --- questions and the built-in instruments ---------------------------------------------------


class QuestionSpec(_Spec):
    """An instrument of ``feedback.catalogue`` to ask, after a task or at the end.

    ``text`` rewords a single-item instrument (``nps``, ``csat``, ``ces``, ``seq``, ``comment``);
    multi-item questionnaires (``sus``, ``umux_lite``) keep their validated wording.
    """

    instrument: str
    after_task: Id | None = None
    text: LocalizedText | None = None

    @field_validator("instrument")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATALOGUE.instruments:
            raise ValueError(
                f"unknown instrument {value!r}; known: {', '.join(CATALOGUE.instruments)}"
            )
        return value

    @model_validator(mode="after")
    def _rules(self) -> QuestionSpec:
        inst = CATALOGUE.instrument(self.instrument)
        if inst.per_task and self.after_task is None:
            raise ValueError(f"{inst.id} is asked right after a task: add 'after_task: <task id>'")
        if self.text is not None and not inst.rewordable:
            rewordable = ", ".join(i.id for i in CATALOGUE.instruments.values() if i.rewordable)
            raise ValueError(
                f"{self.instrument} has a fixed, validated wording: remove 'text' "
                f"(only {rewordable} can be reworded)"
            )
        return self

    def expand(self) -> list[Question]:
        """The questions this instrument asks, with the ids written to events."""
        inst = CATALOGUE.instrument(self.instrument)
        return [
            Question(
                id=item.id,
                instrument=inst.id,
                after_task=self.after_task,
                scale=inst.scale,
                text=dict(self.text) if self.text is not None else dict(item.text),
                anchors=(dict(inst.anchors[0]), dict(inst.anchors[1])) if inst.anchors else None,
            )
            for item in inst.items
        ]


@dataclass(frozen=True)
class Question:
    """One question as the runtime asks it and events name it (``question`` = ``id``)."""

    id: str
    instrument: str
    after_task: str | None
    scale: tuple[int, int] | None
    """(low, high) of the answer scale; None for free text (``comment``)."""
    text: dict[str, str]
    anchors: tuple[dict[str, str], dict[str, str]] | None = None
    """Labels of the low and the high end of the scale."""


# --- changes: variants and versions -----------------------------------------------------------


class ElementChange(_Spec):
    """Change one element of a screen: ``replace``, ``remove``, or insert ``before``/``after``."""

    screen: Id
    replace: Id | None = None
    remove: Id | None = None
    before: Id | None = None
    after: Id | None = None
    element: Element | None = None

    @model_validator(mode="after")
    def _one_operation(self) -> ElementChange:
        ops = [k for k in ("replace", "remove", "before", "after") if getattr(self, k) is not None]
        if len(ops) != 1:
            raise ValueError(
                "say exactly one of 'replace', 'remove', 'before' or 'after' (an element id)"
            )
        if ops[0] == "remove" and self.element is not None:
            raise ValueError("'remove' takes no 'element'")
        if ops[0] != "remove" and self.element is None:
            raise ValueError(f"'{ops[0]}' needs the new 'element'")
        return self

    @property
    def operation(self) -> tuple[str, str]:
        """(operation, element id) of this change."""
        for k in ("replace", "remove", "before", "after"):
            if getattr(self, k) is not None:
                return k, getattr(self, k)
        raise AssertionError("validated: exactly one operation")


class Changes(_Spec):
    """Changes on top of what came before; what is not mentioned stays as it was.

    ``screens`` replace the screen with the same id (keeping its place) or are added at the end;
    ``elements`` change single elements; ``tasks`` replace by id or are added; ``questions``
    replaces the whole question list.
    """

    note: str | None = None
    title: LocalizedText | None = None
    start_screen: Id | None = None
    screens: list[Screen] = Field(default_factory=list)
    remove_screens: list[Id] = Field(default_factory=list)
    elements: list[ElementChange] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    remove_tasks: list[Id] = Field(default_factory=list)
    questions: list[QuestionSpec] | None = None


class VariantSpec(Changes):
    """A variant (e.g. ``treatment``): changes to the resolved version it runs on."""


class VersionSpec(Changes):
    """One entry of ``versions:``. Version 1 is the base; version n+1 starts as a copy of n.

    ``mode: override`` (default) changes the previous version; ``mode: full`` is a complete
    snapshot: its screens, tasks, questions and variants replace those before it.
    """

    version: int = Field(ge=1)
    date: dt.date | None = None
    mode: Literal["override", "full"] = "override"
    variants: dict[Id, VariantSpec] | None = None


class Prototype(_Spec):
    """A whole ``prototype.yaml``. Read it with ``load_prototype``; render ``resolve()``."""

    id: PrototypeId
    title: LocalizedText
    description: LocalizedText | None = None
    phase: Literal[PHASES]
    touchpoint: Literal[TOUCHPOINTS]
    locales: list[Locale] = Field(default_factory=lambda: ["de", "en"], min_length=1)
    start_screen: Id | None = None
    screens: list[Screen] = Field(min_length=1)
    tasks: list[Task] = Field(default_factory=list)
    questions: list[QuestionSpec] = Field(default_factory=list)
    variants: dict[Id, VariantSpec] = Field(default_factory=dict)
    versions: list[VersionSpec] = Field(default_factory=list)

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The file this prototype was loaded from (None when built in memory)."""
        return self._path

    @property
    def current_version(self) -> int:
        """The newest version number (1 when there is no ``versions:`` list)."""
        return max((v.version for v in self.versions), default=1)

    @property
    def version_numbers(self) -> list[int]:
        """Every version that ``resolve`` accepts, oldest first."""
        return sorted({1, *(v.version for v in self.versions)})

    def variant_names(self, version: int | None = None) -> list[str]:
        """``control`` followed by the variants defined in that version (default: current)."""
        content, _ = _resolve_content(self, version)
        return [BASE_VARIANT, *content.variants]

    def resolve(self, version: int | None = None, variant: str | None = None) -> PrototypeView:
        """The screens, links, tasks and questions of one version (None = current) and variant
        (None or ``control`` = the base)."""
        view, problems = resolve_with_problems(self, version, variant)
        if problems:
            file = str(self._path) if self._path else self.id
            raise SpecError([Problem(file, 1, path, msg, kind) for path, msg, kind in problems])
        return view


# --- the resolved view ------------------------------------------------------------------------


@dataclass(frozen=True)
class PrototypeView:
    """One version and variant of a prototype, ready to render or walk."""

    id: str
    version: int
    variant: str
    title: dict[str, str]
    start_screen: str
    screens: dict[str, Screen]
    """In spec order."""
    tasks: list[Task]
    questions: list[Question]
    locales: list[str]
    phase: str
    touchpoint: str
    description: dict[str, str] | None = None
    origins: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Where each screen/element/task came from in the spec (used to locate problems)."""

    def links(self, screen_id: str) -> list[tuple[str, str]]:
        """(element id, target screen id) for every button, hotspot, scan, banner or product
        tap on that screen, and ``custom.<target>`` for a custom screen's ``targets``
        (``KeyError`` for an unknown screen)."""
        return self.screens[screen_id].links()

    def reachable(self, start: str | None = None) -> set[str]:
        """Screens reachable from ``start`` (default: the start screen) by following links."""
        first = start or self.start_screen
        seen = {first}
        todo = deque([first])
        while todo:
            screen = self.screens.get(todo.popleft())
            if screen is None:
                continue
            for _, target in screen.links():
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen & set(self.screens)

    def task(self, task_id: str) -> Task:
        """The task with this id (``KeyError`` if there is none)."""
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)

    def questions_after(self, task_id: str | None) -> list[Question]:
        """Questions asked right after that task (``None``: at the end of the session)."""
        return [q for q in self.questions if q.after_task == task_id]


@dataclass
class _Content:
    """Working copy while changes are applied, with the spec path each part came from."""

    title: dict[str, str]
    start_screen: str | None
    start_origin: str
    screens: dict[str, Screen]
    tasks: dict[str, Task]
    questions: list[QuestionSpec]
    questions_origin: str
    variants: dict[str, VariantSpec]
    origins: dict[str, str] = field(default_factory=dict)


def _origin_key(kind: str, *ids: str) -> str:
    return f"{kind}:" + "/".join(ids)


def _set_screen(content: _Content, screen: Screen, path: str) -> None:
    content.screens[screen.id] = screen
    content.origins[_origin_key("screen", screen.id)] = path
    for j, el in enumerate(screen.elements):
        content.origins[_origin_key("element", screen.id, el.id)] = f"{path}.elements[{j}]"


def _apply(
    content: _Content, changes: Changes, prefix: str, problems: list[tuple[str, str, str]]
) -> None:
    """Apply one variant's or version's changes in place, collecting what cannot be applied."""
    full = isinstance(changes, VersionSpec) and changes.mode == "full"
    if full:
        content.screens.clear()
        content.tasks.clear()
    if changes.title is not None:
        content.title = dict(changes.title)
    if changes.start_screen is not None:
        content.start_screen = changes.start_screen
        content.start_origin = f"{prefix}.start_screen"
    for i, sid in enumerate(changes.remove_screens):
        if content.screens.pop(sid, None) is None:
            problems.append(
                (
                    f"{prefix}.remove_screens[{i}]",
                    f"there is no screen '{sid}' to remove",
                    "variant",
                )
            )
    for i, screen in enumerate(changes.screens):
        _set_screen(content, screen, f"{prefix}.screens[{i}]")
    for i, change in enumerate(changes.elements):
        _apply_element_change(content, change, f"{prefix}.elements[{i}]", problems)
    for i, tid in enumerate(changes.remove_tasks):
        if content.tasks.pop(tid, None) is None:
            problems.append(
                (f"{prefix}.remove_tasks[{i}]", f"there is no task '{tid}' to remove", "variant")
            )
    for i, task in enumerate(changes.tasks):
        content.tasks[task.id] = task
        content.origins[_origin_key("task", task.id)] = f"{prefix}.tasks[{i}]"
    if changes.questions is not None:
        content.questions = list(changes.questions)
        content.questions_origin = f"{prefix}.questions"
    if isinstance(changes, VersionSpec) and changes.variants is not None:
        if full:
            content.variants.clear()
        for name, variant in changes.variants.items():
            content.variants[name] = variant
            content.origins[_origin_key("variant", name)] = f"{prefix}.variants.{name}"


def _apply_element_change(
    content: _Content, change: ElementChange, path: str, problems: list[tuple[str, str, str]]
) -> None:
    screen = content.screens.get(change.screen)
    if screen is None:
        problems.append((f"{path}.screen", f"there is no screen '{change.screen}'", "variant"))
        return
    op, target_id = change.operation
    ids = [e.id for e in screen.elements]
    if target_id not in ids:
        problems.append(
            (
                f"{path}.{op}",
                f"screen '{change.screen}' has no element '{target_id}' "
                f"(elements: {', '.join(ids)})",
                "variant",
            )
        )
        return
    at = ids.index(target_id)
    new_id = change.element.id if change.element is not None else None
    if new_id is not None and new_id in ids and not (op == "replace" and new_id == target_id):
        problems.append(
            (
                f"{path}.element.id",
                f"element id '{new_id}' already exists on screen '{change.screen}'; "
                "events name elements by id, so ids must be unique per screen",
                "duplicate_id",
            )
        )
        return
    elements = list(screen.elements)
    if op == "replace":
        elements[at] = change.element
    elif op == "remove":
        del elements[at]
    elif op == "before":
        elements.insert(at, change.element)
    else:
        elements.insert(at + 1, change.element)
    content.screens[screen.id] = screen.model_copy(update={"elements": elements})
    if change.element is not None:
        content.origins[_origin_key("element", screen.id, change.element.id)] = f"{path}.element"


def _resolve_content(
    proto: Prototype, version: int | None
) -> tuple[_Content, list[tuple[str, str, str]]]:
    numbers = proto.version_numbers
    wanted = proto.current_version if version is None else version
    if wanted not in numbers:
        raise InvalidInputError(
            f"Prototype {proto.id!r} has no version {wanted}; "
            f"versions: {', '.join(map(str, numbers))}."
        )
    problems: list[tuple[str, str, str]] = []
    content = _Content(
        title=dict(proto.title),
        start_screen=proto.start_screen,
        start_origin="start_screen" if proto.start_screen else "screens[0]",
        screens={},
        tasks={},
        questions=list(proto.questions),
        questions_origin="questions",
        variants=dict(proto.variants),
    )
    for i, screen in enumerate(proto.screens):
        _set_screen(content, screen, f"screens[{i}]")
    for i, task in enumerate(proto.tasks):
        content.tasks[task.id] = task
        content.origins[_origin_key("task", task.id)] = f"tasks[{i}]"
    for name in proto.variants:
        content.origins[_origin_key("variant", name)] = f"variants.{name}"
    for i, entry in enumerate(proto.versions):
        if entry.version <= wanted:
            _apply(content, entry, f"versions[{i}]", problems)
    return content, problems


def resolve_with_problems(
    proto: Prototype, version: int | None = None, variant: str | None = None
) -> tuple[PrototypeView, list[tuple[str, str, str]]]:
    """Like ``Prototype.resolve`` but returns the changes that could not be applied as
    (spec path, message, kind) instead of raising; ``prototypes.validate`` uses it."""
    content, problems = _resolve_content(proto, version)
    name = variant or BASE_VARIANT
    if name != BASE_VARIANT:
        if name not in content.variants:
            known = ", ".join([BASE_VARIANT, *content.variants])
            raise InvalidInputError(
                f"Prototype {proto.id!r} has no variant {name!r}; variants: {known}."
            )
        prefix = content.origins[_origin_key("variant", name)]
        _apply(content, content.variants[name], prefix, problems)
    screens = dict(content.screens)
    start = content.start_screen or next(iter(screens), "")
    if content.start_screen is None and screens:
        first = next(iter(screens))
        content.start_origin = content.origins[_origin_key("screen", first)]
    questions = [q for spec in content.questions for q in spec.expand()]
    origins = dict(content.origins)
    origins["start_screen"] = content.start_origin
    origins["questions"] = content.questions_origin
    view = PrototypeView(
        id=proto.id,
        version=proto.current_version if version is None else version,
        variant=name,
        title=content.title,
        start_screen=start,
        screens=screens,
        tasks=list(content.tasks.values()),
        questions=questions,
        locales=list(proto.locales),
        phase=proto.phase,
        touchpoint=proto.touchpoint,
        description=dict(proto.description) if proto.description else None,
        origins=origins,
    )
    return view, problems


# --- loading ----------------------------------------------------------------------------------


def load_prototype(path: Path | str) -> Prototype:
    """Read and check a ``prototype.yaml`` (or a prototype folder holding one).

    Raises ``SpecError`` listing every problem (``file:line: path: message``) when the spec is
    invalid: YAML syntax, unknown keys, wrong types, broken links, unreachable screens,
    unreachable task goals, missing translations, bad assets, files too large.
    """
    from prototypes.validate import check_file

    proto, problems = check_file(path)
    if problems or proto is None:
        raise SpecError(problems, str(path))
    return proto


__all__ = [
    "BASE_VARIANT",
    "ELEMENT_TYPES",
    "PHASES",
    "TOUCHPOINTS",
    "Changes",
    "CustomScreen",
    "ElementChange",
    "LocalizedText",
    "Problem",
    "Prototype",
    "PrototypeView",
    "Question",
    "QuestionSpec",
    "Screen",
    "SpecError",
    "Task",
    "VariantSpec",
    "VersionSpec",
    "load_prototype",
    "resolve_with_problems",
]
