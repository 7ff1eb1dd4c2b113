"""A customer session's part in a journey across devices (``CustomerSession`` inherits it).

``HandoverFlow`` holds what a session does when its task goes to another device or comes from
one: the journey it belongs to, whether a screen hands the task over, ``receive`` (continue a
claimed ``prototypes.handover.Handoff`` here) and ``done_here``. The state lives in
``CustomerSession``'s fields (``journey``, ``profile``, ``base_view``, ``handed_over``, …);
drawing is ``runtime.render_handover``'s.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from experiments.assignment import journey_arm
from feedback.events import ARM_GONE, ARM_KEPT, HANDOVER_PROP, JOURNEY_ARM_PROP, JOURNEY_PROP
from prototypes.elements import Handover
from prototypes.personas import Profile, personalise
from prototypes.spec import BASE_VARIANT, Prototype

if TYPE_CHECKING:
    from lab import Lab

ENTRY_DEVICES = {"kiosk": "kiosk", "phone": "phone", "web": "associate-tablet"}
"""A session's device (events) -> the spec's device name for entry screens and handovers:
the associate tablet runs the web layout (``device=web``)."""


def entry_device(device: str) -> str:
    """The spec's name (``entry_screens``, ``handover.to``) of an event ``device``."""
    return ENTRY_DEVICES.get(device, device)


def arm_view_variant(proto: Prototype, version: int, name: str | None, fallback: str) -> str:
    """The prototype variant for an experiment arm: its ``variant:``, else a same-named one."""
    names = proto.variant_names(version)
    if name and name in names:
        return name
    return fallback if fallback in names else BASE_VARIANT


def journey_run(lab: Lab, proto: Prototype, ctx: Any, handoff: Any) -> tuple[Any, str | None]:
    """The run context (``session.RunContext``) a session continues ``handoff``'s journey in,
    and its ``journey_arm`` prop (None: the sender ran in no experiment, or this is the team's
    forced variant; nothing changes).

    Sticky bucketing: the sender's experiment arm and version (``ARM_KEPT``), so the customer
    sees the same variant on both devices and the journey stays one unit in one arm. When the
    experiment no longer has that arm (its spec changed in between), ``ctx`` stays as it was
    assigned here (``ARM_GONE``). With unit=store both devices are in the same store, whose
    arm ``ctx`` already is."""
    if not getattr(handoff, "experiment_id", None) or ctx.assignment == "forced":
        return ctx, None
    arm = journey_arm(lab, proto.id, handoff.experiment_id, handoff.variant)
    if arm is None:
        return ctx, ARM_GONE
    if arm.experiment.unit == "store":
        return ctx, ARM_KEPT if ctx.variant == arm.name else ARM_GONE
    spec = arm.experiment.variants[arm.name]
    version = handoff.version if handoff.version in proto.version_numbers else spec.version
    if version not in proto.version_numbers:
        version = proto.current_version
    view_variant = arm_view_variant(proto, version, spec.variant, arm.name)
    run = replace(ctx, version=version, variant=arm.name, view_variant=view_variant,
                  experiment_id=arm.experiment.id, assignment=arm.assignment)  # fmt: skip
    return run, ARM_KEPT


class HandoverFlow:
    """Handover methods of ``session.CustomerSession`` (which provides the state, ``emit``,
    ``show`` and ``complete``)."""

    @property
    def journey_id(self) -> str:
        """The journey this session belongs to: a received one, else its own id."""
        return self.journey or str(self.session_id)

    def _hands_over(self, screen_id: str) -> bool:
        screen = self.view.screens.get(screen_id)
        return screen is not None and any(isinstance(e, Handover) for e in screen.elements)

    def take_arm(self, lab: Lab, proto: Prototype, handoff: Any) -> None:
        """Run from now on in the arm ``journey_run`` gives for ``handoff`` (the keypad: the
        session began before the code; a ``?journey=`` link's session is made in it)."""
        ctx, self.journey_arm = journey_run(lab, proto, self.ctx, handoff)
        if ctx != self.ctx:
            self.ctx = ctx
            self.base_view = self.view = proto.resolve(ctx.version, ctx.view_variant)

    def receive(self, handoff: Any, element_id: str | None = None) -> None:
        """Continue the journey of ``handoff`` here: its persona, context and language, its
        task (started again on this device) at its screen. ``element_id``: the keypad the code
        was typed into (a tap with the journey and ``journey_arm``); from a link the
        session_start carries them. The arm is taken first (``take_arm``)."""
        self.last_activity = time.monotonic()
        self.pending = None
        self.journey = handoff.journey
        self.profile = Profile(handoff.persona, dict(handoff.context))
        if self.base_view is not None:
            self.view = personalise(self.base_view, self.profile)
        if handoff.locale in self.view.locales:
            self.locale = handoff.locale
        if element_id is not None:
            props = {HANDOVER_PROP: "in", JOURNEY_PROP: handoff.journey, "locale": self.locale,
                     **self.profile.props(), **self.arm_props()}  # fmt: skip
            self.emit("tap", element=element_id, props=props)
        ids = [t.id for t in self.tasks]
        if handoff.task in ids and handoff.target in self.view.screens:
            self.task_index = ids.index(handoff.task)
            self.task_active = True
            self.task_started_at = time.monotonic()
            self.path = []
            self.emit("task_start", task=handoff.task, screen=handoff.target,
                      props={HANDOVER_PROP: "in", JOURNEY_PROP: handoff.journey})  # fmt: skip
        self.show(handoff.target if handoff.target in self.view.screens else self.view.start_screen)

    def arm_props(self) -> dict[str, str]:
        """``journey_arm`` for the event that takes a journey (none outside an experiment)."""
        return {JOURNEY_ARM_PROP: self.journey_arm} if self.journey_arm else {}

    def done_here(self) -> None:
        """'Done' after handing the task over: this device's part of the journey is over."""
        self.last_activity = time.monotonic()
        self.handed_over = False
        self.complete()


__all__ = ["ENTRY_DEVICES", "HandoverFlow", "arm_view_variant", "entry_device", "journey_run"]
