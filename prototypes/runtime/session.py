"""One pilot customer's visit: which variant they see, where they are, and the events they cause.

Nothing here draws anything (``phases.py`` and ``render.py`` do): this module holds

- ``RunContext`` and ``resolve_run``: which prototype version and variant a session shows and
  which experiment it belongs to (the experiment and arm come from
  ``experiments.assignment.arm_for``; without one, the base or the named prototype variant);
- ``CustomerSession``: the journey state machine (welcome/consent → mission → screens → questions
  → comment → thanks) and an *outbox* of contract events. Widget callbacks put events in the
  outbox; ``flush`` writes them, in order, to the process-wide sink after every callback of a
  script run has run, so that a tap's x/y reported by the browser (``taps.py``) can be joined
  to the button tap Python saw;
- ``shared_sink``: the one ``SpoolSink`` per server process (``st.cache_resource``).

Consent: until the customer says yes, only ``session_start``, ``consent`` and ``session_end`` are
written. The runtime never opens the database.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from errors import InvalidInputError
from experiments.assignment import arm_for
from feedback.events import HANDOVER_REASON, JOURNEY_PROP, Event
from prototypes.personas import Profile, screen_for
from prototypes.runtime.handoff import HandoverFlow, arm_view_variant, entry_device
from prototypes.runtime.own_answers import OwnAnswers, share
from prototypes.spec import BASE_VARIANT, Prototype, PrototypeView, Question, Task

if TYPE_CHECKING:
    from lab import Lab

ALWAYS_ALLOWED = frozenset({"session_start", "consent", "session_end"})
"""Event types written even without consent."""
POSITION_TTL_S = 2.0
"""How long a browser-reported tap position waits for the Python-side tap it belongs to."""
PHONE_IDLE_TIMEOUT_S = 300
"""Phones and the web: a session ends after this long without a tap (the customer has put the
phone away), unless the prototype's ``phone: {idle_timeout_s}`` says otherwise. Kiosks take
the lab's ``[kiosk] idle_timeout_s`` unless the prototype's ``kiosk:`` says otherwise."""
THANKS_RESET_S = 20
"""Kiosk: the thank-you (or no-thanks) screen resets for the next customer after this."""

# --- which version, variant and experiment ----------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """What every event of a session carries, and what the runtime renders."""

    prototype_id: str
    version: int
    variant: str
    """The variant name written to events (the experiment's name when there is one)."""
    view_variant: str
    """The prototype variant rendered (``control`` = the base)."""
    store_id: str
    device: str
    experiment_id: str | None = None
    assignment: str = "none"
    """How the variant was chosen: ``store``, ``session``, ``forced``, ``journey`` (a handover's
    arm, ``handoff.journey_run``) or ``none``."""
    preview: bool = False
    team: bool = False
    """Opened by the team (a gallery link, the team token): events carry ``props.team``."""
    idle_timeout_s: int = PHONE_IDLE_TIMEOUT_S
    """Seconds without a tap after which the session ends (``idle_timeout_for``)."""


def idle_timeout_for(lab: Lab, proto: Prototype, device: str) -> int:
    """The prototype's ``kiosk:``/``phone:`` ``idle_timeout_s``, else the lab's ``[kiosk]
    idle_timeout_s`` on a kiosk and ``PHONE_IDLE_TIMEOUT_S`` on every other device."""
    settings = proto.kiosk if device == "kiosk" else proto.phone
    if settings is not None and settings.idle_timeout_s is not None:
        return settings.idle_timeout_s
    return lab.config.kiosk.idle_timeout_s if device == "kiosk" else PHONE_IDLE_TIMEOUT_S


def resolve_run(
    lab: Lab,
    proto: Prototype,
    *,
    store_id: str,
    device: str,
    session_id: uuid.UUID,
    variant: str = "auto",
    version: int | None = None,
    preview: bool = False,
    team: bool = False,
) -> RunContext:
    """Decide version, rendered variant, event variant and experiment for one session.

    ``variant="auto"``: an experiment on this prototype decides (``experiments.assignment.
    arm_for``: unit=store the store's arm, unit=session a hash of the session id); the arm's
    ``version`` is shown unless ``version`` is given. Stores outside a unit=store experiment and
    prototypes without an experiment get the base variant. ``variant=NAME``: an experiment arm
    of that name (recorded with ``assignment="forced"``), else the prototype variant of that name.
    """
    arm = arm_for(lab, proto.id, store_id, session_id, variant)
    if arm is not None:
        arm_spec = arm.experiment.variants[arm.name]
        shown_version = version or arm_spec.version
        if shown_version not in proto.version_numbers:
            shown_version = proto.current_version
        event_variant = arm.name
        view_variant = arm_view_variant(proto, shown_version, arm_spec.variant, arm.name)
        experiment_id, assignment = arm.experiment.id, arm.assignment
    else:
        shown_version = version or proto.current_version
        if shown_version not in proto.version_numbers:
            raise InvalidInputError(
                f"Prototype {proto.id!r} has no version {shown_version}; "
                f"versions: {', '.join(map(str, proto.version_numbers))}."
            )
        event_variant = view_variant = BASE_VARIANT if variant in ("auto", "", None) else variant
        if view_variant not in proto.variant_names(shown_version):
            raise InvalidInputError(
                f"Prototype {proto.id!r} has no variant {view_variant!r}; "
                f"variants: {', '.join(proto.variant_names(shown_version))}."
            )
        experiment_id = None
        assignment = "forced" if view_variant != BASE_VARIANT else "none"
    return RunContext(
        prototype_id=proto.id,
        version=shown_version,
        variant=event_variant,
        view_variant=view_variant,
        store_id=store_id,
        device=device,
        experiment_id=experiment_id,
        assignment=assignment,
        preview=preview,
        team=team,
        idle_timeout_s=idle_timeout_for(lab, proto, device),
    )


# --- the customer's journey -------------------------------------------------------------------

PHASES = ("welcome", "declined", "mission", "screen", "question", "thanks", "browse")
"""welcome: consent; declined: said no; mission: task card; screen: a prototype screen during a
task or free exploration; question: a scale or the comment; thanks: done; browse: looking
around after saying no (nothing is recorded)."""


@dataclass
class CustomerSession(HandoverFlow, OwnAnswers):
    """One anonymous visit. Mutated by widget callbacks; ``flush`` writes its events."""

    ctx: RunContext
    view: PrototypeView
    locale: str
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)
    phase: str = "welcome"
    consent: bool | None = None
    screen: str | None = None
    task_index: int = 0
    task_active: bool = False
    task_started_at: float | None = None
    path: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    question_index: int = 0
    last_outcome: str | None = None
    """``success``, ``abandon`` or ``fail`` of the task just finished (for the next card)."""
    awaiting_next: bool = False
    """A goal was reached: the goal screen stays with a 'done – continue' bar until tapped."""
    asked_final: bool = False
    ended: bool = False
    selections: dict[str, str] = field(default_factory=dict)
    """Picker and slot choices per element id (what the customer tapped, for display only)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Cart quantities and "helpful" marks per ``<element>.<part>`` (for display only)."""
    custom_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``api.state`` of each custom screen (screen id -> the function's scratch dict)."""
    outbox: list[tuple[Event, str | None]] = field(default_factory=list)
    positions: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    recent_taps: dict[str, float] = field(default_factory=dict)
    key_elements: dict[str, str] = field(default_factory=dict)
    """Widget key (as the browser sees it) -> element id, for taps reported by the browser."""
    last_activity: float = field(default_factory=time.monotonic)
    # --- personas, context and handover (issue 15) ---
    profile: Profile = field(default_factory=Profile)
    """The persona and context this session runs under (``view`` is personalised for it)."""
    journey: str | None = None
    """The journey this session continues (a handover it received); None: its own id."""
    pending: Any = None
    """A ``Handoff`` claimed from the link (``?journey=CODE``), taken over at consent."""
    issued: dict[str, Any] = field(default_factory=dict)
    """Handover element id -> the ``Handoff`` (code) it shows."""
    code_attempts: int = 0
    code_error: str | None = None
    """The reason of the last code that did not work (``prototypes.handover.MESSAGES``)."""
    handed_over: bool = False
    """The task went to another device: its screen stays with a 'done' bar until tapped."""
    base_view: PrototypeView | None = None
    """``view`` before personalisation (a received handover brings another profile)."""
    journey_arm: str | None = None
    """``kept`` or ``gone``: whether a received journey's experiment arm runs here."""

    # --- events -------------------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        return self.consent is True and not self.ended

    def emit(self, type_: str, *, key: str | None = None, **fields: Any) -> Event | None:
        """Queue one contract event (dropped without consent, except start/consent/end)."""
        if type_ not in ALWAYS_ALLOWED and not self.recording:
            return None
        props = dict(fields.pop("props", None) or {})
        if self.ctx.preview:
            props["preview"] = True
        if self.ctx.team:
            props["team"] = True
        if self.ctx.assignment != "none" and type_ == "session_start":
            props["assignment"] = self.ctx.assignment
        fields.setdefault("screen", self.screen)
        if type_ in ("screen_view", "tap") and (goals := self._goals(type_, fields)):
            props["goals"] = goals  # the metric goal:<name> reads them (custom_measures)
        event = Event(
            session_id=self.session_id,
            experiment_id=self.ctx.experiment_id,
            prototype_id=self.ctx.prototype_id,
            prototype_version=self.ctx.version,
            variant=self.ctx.variant,
            store_id=self.ctx.store_id,
            device=self.ctx.device,
            type=type_,
            props=props,
            **fields,
        )
        self.outbox.append((event, key))
        return event

    def flush(self, write: Callable[[Event], None]) -> int:
        """Write queued events in order; taps get the x/y the browser reported for their key."""
        now = time.monotonic()
        written = 0
        for event, key in self.outbox:
            if key is not None:
                pos = self.positions.pop(key, None)
                if pos is not None and now - pos[2] <= POSITION_TTL_S:
                    event = event.model_copy(update={"x": pos[0], "y": pos[1]})
                else:
                    self.recent_taps[key] = now
            write(event)
            written += 1
        self.outbox.clear()
        for key, (x, y, seen) in list(self.positions.items()):
            if now - seen > POSITION_TTL_S:
                # A tap on an element that no callback claimed (a text field, a picker that
                # re-rendered first): still a tap, on that element.
                del self.positions[key]
                element = self.key_elements.get(key)
                if element is not None and self.recording:
                    tap = self._event("tap", element=element, x=x, y=y)
                    write(tap)
                    written += 1
        self.recent_taps = {k: t for k, t in self.recent_taps.items() if now - t <= POSITION_TTL_S}
        return written

    def _event(self, type_: str, **fields: Any) -> Event:
        self.emit(type_, **fields)
        event, _ = self.outbox.pop()
        return event

    def _goals(self, type_: str, fields: dict[str, Any]) -> list[str]:
        """The prototype's goals this screen view or tap reaches (``goals:`` in the spec)."""
        if type_ == "screen_view":
            return self.view.goals_reached(screen=fields.get("screen"))
        return self.view.goals_reached(element=fields.get("element"))

    def browser_taps(self, taps: list[dict[str, Any]]) -> None:
        """Taps the browser saw (``taps.py``): misclicks become events, hits give positions.

        A tap counts only on a prototype screen (the browser sends the screen id it saw);
        taps on the runtime's own chrome (language toggle, task bar) are not sent at all.
        """
        now = time.monotonic()
        self.last_activity = now
        if self.first_click_pending:
            self._first_click_from(taps)
            return
        for tap in taps:
            screen = tap.get("screen")
            if not screen or self.phase != "screen" or screen not in self.view.screens:
                continue
            x, y = share(tap.get("x")), share(tap.get("y"))
            key = tap.get("key")
            if tap.get("hit"):
                if key and key in self.key_elements:
                    if key in self.recent_taps:  # the tap event already went out without x/y
                        self.recent_taps.pop(key)
                    else:
                        self.positions[key] = (x, y, now)
                continue
            self.emit("misclick", screen=screen, x=x, y=y)

    # --- the flow -----------------------------------------------------------------------------

    @property
    def tasks(self) -> list[Task]:
        return self.view.tasks

    @property
    def task(self) -> Task | None:
        if self.task_index < len(self.tasks):
            return self.tasks[self.task_index]
        return None

    @property
    def question(self) -> Question | None:
        if self.question_index < len(self.questions):
            return self.questions[self.question_index]
        return None

    def start(self, consent: bool) -> None:
        """The customer tapped 'continue' (True) or 'no thanks' (False) on the welcome screen."""
        self.last_activity = time.monotonic()
        start = {"locale": self.locale, **self.profile.props()}
        if self.pending is not None:
            start.update({JOURNEY_PROP: self.pending.journey, **self.arm_props()})
        self.emit("session_start", screen=None, props=start)
        self.consent = consent
        self.emit("consent", screen=None, value=1 if consent else 0)
        if not consent:
            self.end("abandoned")
            self.phase = "declined"
            return
        entry = self.view.entry_screens.get(entry_device(self.ctx.device))
        if self.pending is not None:
            self.receive(self.pending)
        elif entry is not None and entry_device(self.ctx.device) != self.view.touchpoint:
            self.task_index = len(self.tasks)  # a receiving device: no mission of its own
            self.show(entry)
        elif self.tasks:
            self.task_index = 0
            self.phase = "mission"
        else:
            self.show(self.view.start_screen)

    def browse(self) -> None:
        """After 'no thanks': look around anyway, nothing recorded."""
        self.phase = "browse"
        self.screen = self.view.start_screen

    def start_task(self) -> None:
        task = self.task
        if task is None:
            return
        self.task_active = True
        self.task_started_at = time.monotonic()
        self.path = []
        self.emit("task_start", task=task.id, screen=task.start_screen)
        self.show(task.start_screen)

    def show(self, screen_id: str) -> None:
        """Go to a prototype screen (screen_view), finishing the task if it is a goal; the
        screen shown in its place when its ``when`` does not hold for this profile."""
        screen_id = screen_for(self.view, screen_id, self.profile)
        self.phase = "browse" if self.phase == "browse" else "screen"
        self.screen = screen_id
        self.path.append(screen_id)
        self.emit("screen_view", screen=screen_id)
        task = self.task
        if self.task_active and task is not None and screen_id in task.goal_screens:
            self.finish_task("success")
        elif self.task_active and task is not None and self._hands_over(screen_id):
            self._task_result("task_abandon", task, reason=HANDOVER_REASON,
                              **{JOURNEY_PROP: self.journey_id})  # fmt: skip
            self.task_index += 1
            self.handed_over = True

    def navigate(self, element_id: str, target: str, key: str | None = None) -> None:
        """A button, hotspot, scan, banner or product was tapped: tap event, then go."""
        self.last_activity = time.monotonic()
        if self.first_click_pending:  # a first-click test's screen: the tap is the answer
            self.first_click(element_id)
            return
        self.emit("tap", element=element_id, key=key, props={"target": target})
        if target in self.view.screens:
            self.show(target)

    def tap(self, element_id: str, key: str | None = None, **props: Any) -> None:
        """A tap on an element that does not navigate (a size chip, a slot, a field)."""
        self.last_activity = time.monotonic()
        if self.first_click_pending:
            self.first_click(element_id.split(".")[0])
            return
        self.emit("tap", element=element_id, key=key, props=props)

    def elapsed(self) -> float:
        if self.task_started_at is None:
            return 0.0
        return round(time.monotonic() - self.task_started_at, 3)

    def finish_task(self, outcome: str) -> None:
        """success (goal reached), abandon ('I give up') or fail (time limit)."""
        task = self.task
        if task is None or not self.task_active:
            return
        kind = {"success": "task_success", "abandon": "task_abandon", "fail": "task_fail"}[outcome]
        self._task_result(kind, task)
        self.last_outcome = outcome
        self.questions = self.view.questions_after(task.id)
        self.question_index = 0
        self.task_index += 1
        if outcome == "success":
            self.awaiting_next = True  # let the customer see the goal screen first
        else:
            self._next_after_questions()

    def _task_result(self, kind: str, task: Task, **props: Any) -> None:
        """The running task's last event (its path so far and the expected one); it stops."""
        path = {"path": list(self.path), "expected_path": list(task.expected_path)}
        self.emit(kind, task=task.id, value=self.elapsed(), props={**path, **props})
        self.task_active = False

    def proceed(self) -> None:
        """'Continue' on the success bar: questions about the task, the next task or the end."""
        self.last_activity = time.monotonic()
        self.awaiting_next = False
        self._next_after_questions()

    def check_time_limit(self) -> bool:
        """Fail the running task when its ``time_limit_s`` has passed (True if it did)."""
        task = self.task
        limit = task.time_limit_s if task is not None else None
        if self.task_active and limit and self.elapsed() > limit:
            self.finish_task("fail")
            return True
        return False

    def done_exploring(self) -> None:
        """Free exploration (no tasks): the customer tapped 'done'."""
        self.last_activity = time.monotonic()
        self.task_index = len(self.tasks)
        self.questions = []
        self.question_index = 0
        self._next_after_questions()

    def _next_after_questions(self) -> None:
        if self.question is not None:
            self.phase = "question"
            return
        if self.task is not None:
            self.phase = "mission"
            return
        final = self.view.questions_after(None)
        if final and not self.asked_final:
            self.asked_final = True
            self.questions = final
            self.question_index = 0
            self.phase = "question"
            return
        self.complete()

    def answer(self, value: float | None = None, text: str | None = None) -> None:
        """Answer (or skip, with neither) the current question and move on."""
        self.last_activity = time.monotonic()
        q = self.question
        if q is None:
            return
        if q.scale is None:
            if text and text.strip():
                self.emit("comment", question=q.id, task=q.after_task, text=text.strip()[:2000])
        elif value is not None:
            self.emit("answer", question=q.id, task=q.after_task, value=float(value))
        self._advance_question()

    def _advance_question(self) -> None:
        self.question_index += 1
        self._next_after_questions()

    def complete(self) -> None:
        self.phase = "thanks"
        self.screen = None
        self.end("completed")

    def time_out(self) -> None:
        """Nobody tapped for the idle time: a running task ends with ``task_abandon`` (reason
        ``idle``), then the session with ``session_end`` (``idle_timeout``), each once."""
        task = self.task
        if self.task_active and task is not None:
            self._task_result("task_abandon", task, reason="idle")
        self.end("idle_timeout")

    def end(self, reason: str) -> None:
        """session_end once (completed, idle_timeout, abandoned)."""
        if self.ended or self.consent is None:
            return
        self.emit("session_end", screen=self.screen, props={"reason": reason})
        self.ended = True

    @property
    def started(self) -> bool:
        return self.consent is not None

    def idle_timeout_s(self) -> int | None:
        """Seconds without a tap after which the browser should report idleness (or None)."""
        if self.phase in ("thanks", "declined"):
            return THANKS_RESET_S if self.ctx.device == "kiosk" else None
        if self.phase == "welcome":
            return None
        return self.ctx.idle_timeout_s


# --- the process-wide sink --------------------------------------------------------------------


def shared_sink(lab: Lab):
    """The one ``SpoolSink`` of this server process for a lab's spool folder (thread-safe).

    It masks personal data before a line is written unless the lab turned that off
    (``[privacy] redact_text = false``). It finishes its file (``.jsonl.part`` → ``.jsonl``)
    when the server process exits (the sink's ``atexit``; Streamlit turns SIGTERM and Ctrl-C
    into a normal exit) and when Streamlit's resource cache lets go of it.
    """
    import streamlit as st

    return _cached_sink(st)(str(lab.spool_dir), lab.config.privacy.redact_text)


_SINK_FACTORY = None


def _cached_sink(st):
    global _SINK_FACTORY
    if _SINK_FACTORY is None:

        @st.cache_resource(show_spinner=False, on_release=lambda sink: sink.close())
        def spool_sink(spool_dir: str, redact: bool):
            from feedback.sink import SpoolSink

            return SpoolSink(spool_dir, redact=redact)

        _SINK_FACTORY = spool_sink
    return _SINK_FACTORY


__all__ = [
    "PHONE_IDLE_TIMEOUT_S",
    "CustomerSession",
    "RunContext",
    "idle_timeout_for",
    "resolve_run",
    "shared_sink",
]
