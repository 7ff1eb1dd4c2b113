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
    journey_break: {de: Gibt es die Jacke in meiner Größe?, en: Is it here in my size?}
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
    kiosk: {idle_timeout_s: 60}   # optional: reset after 60 s without a tap (lab default: 90)

A screen the elements cannot express names a Python function in the prototype folder:
``custom: {module: advisor.py, function: render, targets: [product]}`` (``CustomScreen``; see
``docs/custom-screens.md``); ``targets`` are its links.

Where the parts live: ``prototypes.fields`` (ids, ``LocalizedText``, the strict base model),
``prototypes.elements`` (the 25 element types, ``Screen``), ``prototypes.custom_screen``,
``prototypes.personas`` (``personas:``, ``context:`` and ``when:``; ``entry_screens:`` names the
screen a device that receives a ``handover`` opens on),
``prototypes.tasks`` (``Task``, ``QuestionSpec``, ``Question``), ``prototypes.asks`` (questions
of the team's own and ``goals:``), ``prototypes.changes``
(variants and versions, and how they are applied); this module holds the whole ``Prototype``
and the ``PrototypeView`` of one version and variant.

Models are frozen and forbid unknown keys. ``prototypes.library.load_prototype`` (which also
runs every check in ``prototypes.validate``) is the way to read a file;
``Prototype.model_validate`` alone checks only the structure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PrivateAttr

from errors import InvalidInputError, SpecError
from feedback.events import CONTEXT_VARIABLES
from prototypes.asks import AnyQuestionSpec, GoalSpec
from prototypes.changes import Draft, VariantSpec, VersionSpec, apply_changes, origin_key
from prototypes.elements import HANDOVER_DEVICES, Screen
from prototypes.fields import Id, Locale, LocalizedText, PrototypeId, SpecModel
from prototypes.personas import ContextVariable, Persona
from prototypes.problems import Problem
from prototypes.tasks import Question, Task

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


IDLE_TIMEOUT_RANGE_S = (10, 3600)
"""The idle timeouts a prototype may set (the same range as the lab's ``[kiosk]``)."""


def _check_idle_timeout(value: int) -> int:
    low, high = IDLE_TIMEOUT_RANGE_S
    if not low <= value <= high:
        raise ValueError(f"idle_timeout_s must be between {low} and {high} seconds, not {value}")
    return value


class DeviceSettings(SpecModel):
    """How the runtime behaves on one kind of device (``kiosk:``, ``phone:`` at the top).

    ``idle_timeout_s``: seconds without a tap after which the session ends (``idle_timeout``;
    a running task is abandoned) and the welcome screen comes back for the next customer.
    Unset: the lab's ``[kiosk] idle_timeout_s`` on kiosks, 300 s on phones.
    """

    idle_timeout_s: Annotated[int, AfterValidator(_check_idle_timeout)] | None = None


class Prototype(SpecModel):
    """A whole ``prototype.yaml``. Read it with ``load_prototype``; render ``resolve()``."""

    id: PrototypeId
    title: LocalizedText
    description: LocalizedText | None = None
    journey_break: LocalizedText | None = None
    """The break in the customer journey it mends, in the customer's words (issue 15: shown
    by ``prototype templates``)."""
    phase: Literal[PHASES]
    touchpoint: Literal[TOUCHPOINTS]
    locales: list[Locale] = Field(default_factory=lambda: ["de", "en"], min_length=1)
    start_screen: Id | None = None
    screens: list[Screen] = Field(min_length=1)
    tasks: list[Task] = Field(default_factory=list)
    questions: list[AnyQuestionSpec] = Field(default_factory=list)
    goals: dict[Id, GoalSpec] = Field(default_factory=dict)
    """Business goals (``prototypes.asks``): name -> the screen viewed or element tapped."""
    variants: dict[Id, VariantSpec] = Field(default_factory=dict)
    versions: list[VersionSpec] = Field(default_factory=list)
    kiosk: DeviceSettings | None = None
    phone: DeviceSettings | None = None
    """Also for ``device=web``: every device that is not a kiosk."""
    # --- personas, context and handover (issue 15; ``prototypes.personas``) ---
    personas: dict[Id, Persona] = Field(default_factory=dict)
    context: dict[Literal[CONTEXT_VARIABLES], ContextVariable] = Field(default_factory=dict)
    entry_screens: dict[Literal[HANDOVER_DEVICES], Id] = Field(default_factory=dict)
    """Per receiving device the screen it opens on (with a ``code_entry`` keypad) when it is
    not the prototype's touchpoint."""

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
        draft = _draft_of_version(self, version)
        return [BASE_VARIANT, *draft.variants]

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
    goals: dict[str, GoalSpec] = field(default_factory=dict)
    """The prototype's business goals (the same in every version and variant)."""
    origins: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Where each screen/element/task came from in the spec (used to locate problems)."""
    # --- personas, context and handover (issue 15) ---
    personas: dict[str, Persona] = field(default_factory=dict)
    context: dict[str, ContextVariable] = field(default_factory=dict)
    entry_screens: dict[str, str] = field(default_factory=dict)

    def links(self, screen_id: str) -> list[tuple[str, str]]:
        """(element id, target screen id) for every button, hotspot, scan, banner or product
        tap on that screen, and ``custom.<target>`` for a custom screen's ``targets``
        (``KeyError`` for an unknown screen)."""
        return self.screens[screen_id].links()

    def reachable(self, start: str | None = None) -> set[str]:
        """Screens reachable from ``start`` (default: the start screen and every device's entry
        screen) by following links and the screens shown in a screen's place (``otherwise``)."""
        firsts = [start] if start else [self.start_screen, *self.entry_screens.values()]
        seen = set(firsts)
        todo = deque(firsts)
        while todo:
            screen = self.screens.get(todo.popleft())
            if screen is None:
                continue
            others = [screen.otherwise] if screen.otherwise else []
            for target in [t for _, t in screen.links()] + others:
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

    def goals_reached(self, screen: str | None = None, element: str | None = None) -> list[str]:
        """The goals a view of ``screen`` or a tap on ``element`` reaches (names, in order)."""
        return [
            name
            for name, goal in self.goals.items()
            if (screen is not None and goal.screen == screen)
            or (element is not None and goal.element == element)
        ]

    def questions_after(self, task_id: str | None) -> list[Question]:
        """Questions asked right after that task (``None``: at the end of the session)."""
        return [q for q in self.questions if q.after_task == task_id]


# --- resolving a version and variant ---------------------------------------------------------


def _draft_of_version(proto: Prototype, version: int | None) -> Draft:
    """The base with every ``versions:`` entry up to ``version`` (None = current) applied."""
    numbers = proto.version_numbers
    wanted = proto.current_version if version is None else version
    if wanted not in numbers:
        raise InvalidInputError(
            f"Prototype {proto.id!r} has no version {wanted}; "
            f"versions: {', '.join(map(str, numbers))}."
        )
    draft = Draft(
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
        draft.set_screen(screen, f"screens[{i}]")
    for i, task in enumerate(proto.tasks):
        draft.set_task(task, f"tasks[{i}]")
    for name in proto.variants:
        draft.origins[origin_key("variant", name)] = f"variants.{name}"
    for i, entry in enumerate(proto.versions):
        if entry.version <= wanted:
            apply_changes(draft, entry, f"versions[{i}]")
    return draft


def resolve_with_problems(
    proto: Prototype, version: int | None = None, variant: str | None = None
) -> tuple[PrototypeView, list[tuple[str, str, str]]]:
    """Like ``Prototype.resolve`` but returns the changes that could not be applied as
    (spec path, message, kind) instead of raising; ``prototypes.validate`` uses it."""
    draft = _draft_of_version(proto, version)
    name = variant or BASE_VARIANT
    if name != BASE_VARIANT:
        if name not in draft.variants:
            known = ", ".join([BASE_VARIANT, *draft.variants])
            raise InvalidInputError(
                f"Prototype {proto.id!r} has no variant {name!r}; variants: {known}."
            )
        prefix = draft.origins[origin_key("variant", name)]
        apply_changes(draft, draft.variants[name], prefix)
    screens = dict(draft.screens)
    start = draft.start_screen or next(iter(screens), "")
    if draft.start_screen is None and screens:
        first = next(iter(screens))
        draft.start_origin = draft.origins[origin_key("screen", first)]
    questions = [q for spec in draft.questions for q in spec.expand()]
    origins = dict(draft.origins)
    origins["start_screen"] = draft.start_origin
    origins["questions"] = draft.questions_origin
    view = PrototypeView(
        id=proto.id,
        version=proto.current_version if version is None else version,
        variant=name,
        title=draft.title,
        start_screen=start,
        screens=screens,
        tasks=list(draft.tasks.values()),
        questions=questions,
        locales=list(proto.locales),
        phase=proto.phase,
        touchpoint=proto.touchpoint,
        description=dict(proto.description) if proto.description else None,
        goals=dict(proto.goals),
        origins=origins,
        personas=dict(proto.personas),
        context=dict(proto.context),
        entry_screens=dict(proto.entry_screens),
    )
    return view, draft.problems


__all__ = [
    "BASE_VARIANT",
    "IDLE_TIMEOUT_RANGE_S",
    "PHASES",
    "TOUCHPOINTS",
    "DeviceSettings",
    "Prototype",
    "PrototypeView",
    "resolve_with_problems",
]
