"""A customer session's part in a journey across devices (``CustomerSession`` inherits it).

``HandoverFlow`` holds what a session does when its task goes to another device or comes from
one: the journey it belongs to, whether a screen hands the task over, ``receive`` (continue a
claimed ``prototypes.handover.Handoff`` here) and ``done_here``. The state lives in
``CustomerSession``'s fields (``journey``, ``profile``, ``base_view``, ``handed_over``, …);
drawing is ``runtime.render_handover``'s.
"""

from __future__ import annotations

import time
from typing import Any

from feedback.events import HANDOVER_PROP, JOURNEY_PROP
from prototypes.elements import Handover
from prototypes.personas import Profile, personalise

ENTRY_DEVICES = {"kiosk": "kiosk", "phone": "phone", "web": "associate-tablet"}
"""A session's device (events) -> the spec's device name for entry screens and handovers:
the associate tablet runs the web layout (``device=web``)."""


def entry_device(device: str) -> str:
    """The spec's name (``entry_screens``, ``handover.to``) of an event ``device``."""
    return ENTRY_DEVICES.get(device, device)


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

    def receive(self, handoff: Any, element_id: str | None = None) -> None:
        """Continue the journey of ``handoff`` here: its persona, context and language, its
        task (started again on this device) at its screen. ``element_id``: the keypad the code
        was typed into (a tap with the journey); from a link the session_start carries it."""
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
                     **self.profile.props()}  # fmt: skip
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

    def done_here(self) -> None:
        """'Done' after handing the task over: this device's part of the journey is over."""
        self.last_activity = time.monotonic()
        self.handed_over = False
        self.complete()


__all__ = ["ENTRY_DEVICES", "HandoverFlow", "entry_device"]
