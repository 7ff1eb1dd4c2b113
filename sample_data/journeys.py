"""Simulated journeys across devices: a phone hands a task over, a kiosk (or tablet) goes on.

``simulate_handover_journeys`` writes, for a prototype with a ``handover`` element on a task's
expected path, journeys exactly as the runtime records them (``prototypes.runtime.session``):
the sending session walks the path up to the handover screen and ends its task with
``task_abandon`` (reason ``handover``, the journey id = its own session id); the receiving
session (for ``continue_share`` of the journeys) enters the code on its entry screen's keypad
(a tap with ``handover: in``, the journey, persona and context) or opens the QR link (its
``session_start`` carries the journey, persona and context), starts the task again at the
handover's target and reaches the goal (``success_share``) or gives up. Persona and context
are drawn per journey and written on the sending ``session_start``, as the runtime does.
Variants too: each session is assigned by the runtime's own ``resolve_run`` (the lab's
experiment on the prototype, if any), and the receiving session continues in the sending
session's arm from the event that took the journey on (``runtime.handoff.journey_run``: a QR
link's whole session, the keypad's from its tap; ``journey_arm`` on that event).
``JourneyTruth`` says what was planted, for the analyses to find.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from errors import InvalidInputError
from feedback.events import HANDOVER_PROP, HANDOVER_REASON, JOURNEY_PROP, Event
from feedback.sink import SpoolSink
from lab import Lab
from prototypes.elements import CodeEntry, Handover
from prototypes.handover import Handoff
from prototypes.library import load_lab_prototype
from prototypes.runtime.handoff import journey_run
from prototypes.runtime.session import RunContext, resolve_run

EVENT_DEVICE = {"kiosk": "kiosk", "phone": "phone", "associate-tablet": "web"}
"""The spec's device (``handover.to``, touchpoint) -> the device events name."""


@dataclass(frozen=True)
class JourneyTruth:
    """What the simulator planted: journeys, how many went on and how many reached the goal."""

    prototype_id: str
    task: str
    journeys: int
    continued: int
    succeeded: int
    sessions: int
    by_persona: dict[str, int] = field(default_factory=dict)
    """Journeys per persona id (``anonymous`` for none)."""
    by_variant: dict[str, int] = field(default_factory=dict)
    """Journeys per variant (the sending session's; the receiving one continues in it)."""


@dataclass(frozen=True)
class _Split:
    """A task's expected path cut at its handover."""

    task: str
    before: list[str]  # the sending device's screens, ending on the handover screen
    after: list[str]  # the receiving device's screens, from the handover's target
    to: str
    entry: str | None
    keypad: str | None


def _split(view: Any) -> _Split:
    for task in view.tasks:
        path = list(task.expected_path)
        for k, screen in enumerate(path[:-1]):
            for el in view.screens[screen].elements:
                if isinstance(el, Handover) and el.target == path[k + 1]:
                    entry = view.entry_screens.get(el.to)
                    pads = view.screens[entry].elements if entry else []
                    keypad = next((e.id for e in pads if isinstance(e, CodeEntry)), None)
                    return _Split(task.id, path[: k + 1], path[k + 1 :], el.to, entry, keypad)
    raise InvalidInputError(
        f"Prototype {view.id!r} has no task whose expected_path crosses a handover element."
    )


class _Writer:
    """Events of one session, written in order with a moving clock."""

    def __init__(self, sink: SpoolSink, sim: _Sim, device: str, start: datetime, rng) -> None:
        self.sink, self.t, self.rng = sink, start, rng
        self.session_id = uuid.uuid4()
        self.ctx = resolve_run(sim.lab, sim.proto, store_id=sim.store_id, device=device,
                               session_id=self.session_id)  # fmt: skip
        self.base: dict[str, Any] = {}
        self.run_in(self.ctx)

    def run_in(self, ctx: RunContext) -> None:
        """Label the events from now on with ``ctx``'s experiment, variant and version."""
        self.ctx = ctx
        self.base = {"prototype_id": ctx.prototype_id, "prototype_version": ctx.version,
                     "variant": ctx.variant, "store_id": ctx.store_id, "device": ctx.device,
                     "experiment_id": ctx.experiment_id}  # fmt: skip

    @property
    def assignment(self) -> dict[str, str]:
        """``assignment`` as the runtime writes it on ``session_start``."""
        return {"assignment": self.ctx.assignment} if self.ctx.assignment != "none" else {}

    def __call__(self, type_: str, **fields: Any) -> None:
        self.t += timedelta(milliseconds=self.rng.randint(1_500, 9_000))
        self.sink.emit(Event(session_id=self.session_id, ts=self.t, type=type_, **self.base,
                             **fields))  # fmt: skip

    def walk(self, view: Any, path: list[str]) -> None:
        """Taps along ``path`` (its first screen already seen), a view of every next screen."""
        for here, there in zip(path, path[1:], strict=False):
            element = next((e for e, target in view.links(here) if target == there), there)
            self("tap", screen=here, element=element, props={"target": there})
            self("screen_view", screen=there)


@dataclass(frozen=True)
class _Sim:
    """What every session of one simulation shares."""

    lab: Lab
    proto: Any
    store_id: str


def simulate_handover_journeys(
    lab: Lab,
    prototype_id: str,
    *,
    journeys: int = 60,
    continue_share: float = 0.75,
    success_share: float = 0.9,
    store_id: str = "S01",
    day: date = date(2026, 11, 16),
    seed: int = 0,
) -> JourneyTruth:
    """Write ``journeys`` handover journeys of ``prototype_id`` to the lab's spool, each
    session in the experiment arm the runtime would give it (none without an experiment)."""
    proto = load_lab_prototype(lab, prototype_id)
    view = proto.resolve()
    cut = _split(view)
    rng = random.Random(seed)
    sim = _Sim(lab, proto, store_id)
    sink = SpoolSink(lab.spool_dir, redact=lab.config.privacy.redact_text)
    continued = succeeded = sessions = 0
    by_persona: dict[str, int] = {}
    by_variant: dict[str, int] = {}
    try:
        for j in range(journeys):
            persona = rng.choice([None, *view.personas])
            context = {k: rng.choice(v.values) for k, v in view.context.items()}
            by_persona[persona or "anonymous"] = by_persona.get(persona or "anonymous", 0) + 1
            locale = rng.choice(view.locales)
            start = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=7 * j)
            profile = {**({"persona": persona} if persona else {}),
                       **({"context": context} if context else {})}  # fmt: skip
            phone = _Writer(sink, sim, EVENT_DEVICE[view.touchpoint], start, rng)
            by_variant[phone.ctx.variant] = by_variant.get(phone.ctx.variant, 0) + 1
            journey = str(phone.session_id)
            _send(phone, view, cut, locale, profile, journey)
            sessions += 1
            if rng.random() >= continue_share:
                continue
            continued += 1
            kiosk = _Writer(sink, sim, EVENT_DEVICE[cut.to], phone.t, rng)
            handoff = Handoff(code="", journey=journey, prototype_id=proto.id, store_id=store_id,
                              to=cut.to, target=cut.after[0], task=cut.task,
                              experiment_id=phone.ctx.experiment_id, variant=phone.ctx.variant,
                              version=phone.ctx.version)  # fmt: skip
            succeeded += _receive(kiosk, (sim, handoff), view, cut, locale, profile,
                                  rng.random() < success_share)  # fmt: skip
            sessions += 1
    finally:
        sink.close()
    return JourneyTruth(proto.id, cut.task, journeys, continued, succeeded, sessions, by_persona,
                        by_variant)  # fmt: skip


def _send(w: _Writer, view: Any, cut: _Split, locale: str, profile: dict, journey: str) -> None:
    """The sending device: start, the path to the handover screen, the task handed over."""
    w("session_start", props={"locale": locale, **profile, **w.assignment})
    w("consent", value=1)
    w("task_start", task=cut.task, screen=cut.before[0])
    w("screen_view", screen=cut.before[0])
    w.walk(view, cut.before)
    expected = [*cut.before, *cut.after]
    w("task_abandon", task=cut.task, screen=cut.before[-1], value=30.0,
      props={"path": cut.before, "expected_path": expected, "reason": HANDOVER_REASON,
             JOURNEY_PROP: journey})  # fmt: skip
    w("session_end", props={"reason": "completed"})


def _receive(
    w: _Writer,
    taken: tuple[_Sim, Handoff],
    view: Any,
    cut: _Split,
    locale: str,
    profile: dict,
    success: bool,
) -> int:
    """The receiving device: the keypad (or the QR link), the task again, its end. In the
    journey's arm from the event that took it on (a link's session is made in it)."""
    sim, handoff = taken
    journey = handoff.journey
    continued, arm = journey_run(sim.lab, sim.proto, w.ctx, handoff)
    arm_prop = {"journey_arm": arm} if arm else {}
    link = cut.keypad is None or w.rng.random() < 0.5
    if link:
        w.run_in(continued)
    start = {"locale": locale, **profile, **({JOURNEY_PROP: journey, **arm_prop} if link else {})}
    if not link:  # the keypad: this session started under the device's own defaults
        defaults = {k: v.default for k, v in view.context.items()}
        start = {"locale": locale, **({"context": defaults} if defaults else {})}
    w("session_start", props={**start, **w.assignment})
    w("consent", value=1)
    if not link:
        w("screen_view", screen=cut.entry)
        w.run_in(continued)
        w("tap", screen=cut.entry, element=cut.keypad,
          props={HANDOVER_PROP: "in", JOURNEY_PROP: journey, "locale": locale,
                 **profile, **arm_prop})  # fmt: skip
    w("task_start", task=cut.task, screen=cut.after[0],
      props={HANDOVER_PROP: "in", JOURNEY_PROP: journey})  # fmt: skip
    w("screen_view", screen=cut.after[0])
    walked = cut.after if success else cut.after[: max(1, len(cut.after) - 1)]
    w.walk(view, walked)
    kind = "task_success" if success else "task_abandon"
    w(kind, task=cut.task, screen=walked[-1], value=25.0,
      props={"path": walked, "expected_path": [*cut.before, *cut.after]})  # fmt: skip
    w("session_end", props={"reason": "completed"})
    return int(success)


__all__ = ["EVENT_DEVICE", "JourneyTruth", "simulate_handover_journeys"]
