"""Personas and context: who the customer is and where they are, and what shows for them.

A spec declares its ``personas`` (what the retailer knows about a customer) and the
``context`` variables it plays with (weather, time of day, channel, loyalty, mood; each with
its values and a default)::

    personas:
      anna: {name: Anna, segment: family, history: [kids' rain jacket 2026-09],
             devices: [phone, kiosk], preferences: {size: "38", colour: navy}}
      ben: {name: Ben, segment: runner, devices: [phone]}
    context:
      weather: {values: [sun, rain], default: sun}
      channel: {values: [street, store], default: store}

Screens and elements then show conditionally with ``when:``, a mapping of conditions that must
all hold (a list of values: any of them)::

    - {type: heading, id: hello, text: {de: "Hallo {{persona.name}}!", en: …},
       when: {persona.segment: family, context.weather: [rain]}}

Condition keys: ``persona`` (a persona id, or ``anonymous`` for a customer without one),
``persona.segment``, ``context.<variable>``. A screen with ``when`` names the screen shown in
its place when the condition does not hold (``otherwise``). Texts may say
``{{persona.name}}``, ``{{persona.segment}}`` and ``{{persona.<preference>}}``.

``Profile`` is the persona and context one session runs under; ``personalise`` turns a
``PrototypeView`` into what that session sees (elements whose condition fails removed), and
``screen_for`` follows a screen's ``otherwise``. The runtime and the simulator both use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from feedback.events import CONTEXT_PROP, CONTEXT_VARIABLES, PERSONA_PROP
from prototypes.fields import Id, Label, SpecModel

ANONYMOUS = "anonymous"
"""The ``persona`` condition value (and link value) for a customer without a persona."""
PERSONA_DEVICES = ("kiosk", "phone", "associate-tablet")


class Persona(SpecModel):
    """A customer the retailer knows: shown by name, content by segment and preferences."""

    name: str = Field(min_length=1, max_length=60, description="what {{persona.name}} shows")
    segment: Id
    history: list[str] = Field(default_factory=list, description="what they did before")
    devices: list[Literal[PERSONA_DEVICES]] = Field(default_factory=list)
    preferences: dict[Id, Label] = Field(default_factory=dict)


class ContextVariable(SpecModel):
    """One context variable: the values it can take and the one a link without it gets."""

    values: list[Id] = Field(min_length=1)
    default: Id

    @model_validator(mode="after")
    def _default_is_a_value(self) -> ContextVariable:
        if self.default not in self.values:
            raise ValueError(
                f"default {self.default!r} is not one of the values: {', '.join(self.values)}"
            )
        return self


def _check_condition_keys(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        if key in (PERSONA_PROP, f"{PERSONA_PROP}.segment"):
            continue
        scope, _, name = key.partition(".")
        if scope != CONTEXT_PROP or not name:
            raise ValueError(
                f"unknown condition {key!r}: use persona, persona.segment or "
                f"context.<variable> ({', '.join(CONTEXT_VARIABLES)})"
            )
    if not value:
        raise ValueError("'when' needs at least one condition, e.g. {persona.segment: family}")
    return value


def _listed(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


When = Annotated[
    dict[str, Annotated[list[Label], BeforeValidator(_listed), Field(min_length=1)]],
    AfterValidator(_check_condition_keys),
]
"""``{key: value or [values]}``; keys persona, persona.segment, context.<variable>."""


@dataclass(frozen=True)
class Profile:
    """The persona (None: anonymous) and context one session runs under."""

    persona: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    def facts(self, personas: Mapping[str, Persona]) -> dict[str, str]:
        """Condition key → this profile's value (what ``when`` compares)."""
        out = {PERSONA_PROP: self.persona or ANONYMOUS}
        persona = personas.get(self.persona or "")
        if persona is not None:
            out[f"{PERSONA_PROP}.segment"] = persona.segment
        out.update({f"{CONTEXT_PROP}.{k}": v for k, v in self.context.items()})
        return out

    def props(self) -> dict[str, Any]:
        """What ``session_start`` records: ``persona`` (when there is one) and ``context``."""
        out: dict[str, Any] = {}
        if self.persona:
            out[PERSONA_PROP] = self.persona
        if self.context:
            out[CONTEXT_PROP] = dict(self.context)
        return out

    def placeholders(self, personas: Mapping[str, Persona]) -> dict[str, str]:
        """``{{persona.…}}`` values: name, segment and each preference ({} when anonymous)."""
        persona = personas.get(self.persona or "")
        if persona is None:
            return {}
        return {**persona.preferences, "name": persona.name, "segment": persona.segment}


def default_profile(view: Any) -> Profile:
    """No persona, every context variable at its default."""
    return Profile(None, {k: v.default for k, v in view.context.items()})


def profile_from(
    view: Any, persona: str | None, context: Mapping[str, str | None]
) -> tuple[Profile, list[str]]:
    """The profile a link asks for, filled up with the defaults, and what in it is unknown
    (one sentence each, for the team; the unknown parts take their default)."""
    problems = []
    if persona in (None, "", ANONYMOUS):
        persona = None
    elif persona not in view.personas:
        known = ", ".join([ANONYMOUS, *view.personas])
        problems.append(f"persona {persona!r} is not declared (personas: {known})")
        persona = None
    values = {k: v.default for k, v in view.context.items()}
    for name, value in context.items():
        if value in (None, ""):
            continue
        variable = view.context.get(name)
        if variable is None or value not in variable.values:
            allowed = ", ".join(variable.values) if variable else "not declared"
            problems.append(f"context {name}={value!r} is not allowed ({name}: {allowed})")
            continue
        values[name] = value
    return Profile(persona, values), problems


def holds(when: Mapping[str, list[str]] | None, facts: Mapping[str, str]) -> bool:
    """Whether every condition of ``when`` holds for ``facts`` (no ``when``: always)."""
    return when is None or all(facts.get(key) in values for key, values in when.items())


def personalise(view: Any, profile: Profile) -> Any:
    """``view`` as ``profile`` sees it: elements whose ``when`` does not hold are left out."""
    if not view.personas and not view.context:
        return view
    facts = profile.facts(view.personas)
    screens = {
        sid: screen.model_copy(
            update={"elements": [e for e in screen.elements if holds(e.when, facts)]}
        )
        for sid, screen in view.screens.items()
    }
    return dataclasses.replace(view, screens=screens)


def screen_for(view: Any, screen_id: str, profile: Profile) -> str:
    """The screen shown for ``screen_id``: its ``otherwise`` while its ``when`` does not hold
    (followed as far as it goes, never in a circle)."""
    facts = profile.facts(view.personas)
    seen = {screen_id}
    while True:
        screen = view.screens.get(screen_id)
        if screen is None or screen.otherwise is None or holds(screen.when, facts):
            return screen_id
        if screen.otherwise in seen:
            return screen_id
        screen_id = screen.otherwise
        seen.add(screen_id)


__all__ = [
    "ANONYMOUS",
    "ContextVariable",
    "Persona",
    "Profile",
    "When",
    "default_profile",
    "holds",
    "personalise",
    "profile_from",
    "screen_for",
]
