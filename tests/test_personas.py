"""Personas, context and ``when`` in the spec: validated with lines, and what each profile sees."""

from __future__ import annotations

import textwrap

from prototypes.library import load_prototype
from prototypes.personas import Profile, personalise, profile_from, screen_for
from prototypes.templates import template_path
from prototypes.validate import check_text

SPEC = """\
id: hello-test
title: {de: Hallo, en: Hello}
phase: advice
touchpoint: phone
personas:
  anna: {name: Anna, segment: family}
  ben: {name: Ben, segment: runner}
context:
  weather: {values: [sun, rain], default: sun}
entry_screens: {kiosk: done}
screens:
  - id: start
    elements:
      - {type: heading, id: hi, text: {de: Hallo, en: Hi}, when: {persona.segment: famly}}
      - {type: text, id: wet, text: {de: Regen, en: Rain}, when: {context.wether: rain}}
      - {type: text, id: snow, text: {de: S, en: S}, when: {context.weather: snow}}
      - {type: text, id: who, text: {de: W, en: W}, when: {persona: [anna, carl]}}
      - {type: button, id: go, label: {de: Los, en: Go}, target: done}
  - id: done
    when: {persona: ben}
    otherwise: nowhere
    elements:
      - {type: text, id: t, text: {de: Fertig, en: Done}}
"""


def _problems(text: str) -> list[tuple[int, str, str]]:
    proto, problems = check_text(text, "p.yaml")
    assert proto is None
    return [(p.line, p.path, p.message) for p in problems]


def test_unknown_persona_segment_context_and_screens_are_reported_with_their_line() -> None:
    found = _problems(SPEC)
    segment = "unknown segment 'famly' (allowed: family, runner); did you mean 'family'?"
    assert (14, "screens[0].elements[0].when.persona.segment", segment) in found
    assert any(line == 15 and "unknown context variable 'wether'" in msg and "'weather'" in msg
               for line, _, msg in found)  # fmt: skip
    assert any(line == 16 and "unknown value of weather 'snow' (allowed: sun, rain)" in msg
               for line, _, msg in found)  # fmt: skip
    assert any(line == 17 and "unknown persona 'carl'" in msg for line, _, msg in found)
    assert any(line == 21 and path == "screens[1].otherwise" and "'nowhere'" in msg
               for line, path, msg in found)  # fmt: skip
    assert any(path == "entry_screens.kiosk" and "no code_entry" in msg for _, path, msg in found)


def test_when_syntax_mistakes_are_structure_problems() -> None:
    bad = SPEC.replace("when: {persona.segment: famly}", "when: {segment: family}")
    found = _problems(bad)
    assert any(line == 14 and "unknown condition 'segment'" in msg for line, _, msg in found)
    bad = SPEC.replace("weather: {values: [sun, rain], default: sun}",
                       "weather: {values: [sun, rain], default: snow}")  # fmt: skip
    assert any("default 'snow' is not one of the values" in msg for _, _, msg in _problems(bad))
    bad = SPEC.replace("    when: {persona: ben}\n", "")
    assert any("'otherwise' needs 'when'" in msg for _, _, msg in _problems(bad))


def test_each_profile_sees_its_own_elements_and_defaults_fill_the_rest() -> None:
    view = load_prototype(template_path("phone-to-kiosk")).resolve()
    anonymous, problems = profile_from(view, None, {})
    assert problems == [] and anonymous.context["weather"] == "sun"
    ids = [e.id for e in personalise(view, anonymous).screens["home"].elements]
    assert "hello-anonymous" in ids and "hello" not in ids and "rain" not in ids
    anna, _ = profile_from(view, "anna", {"weather": "rain", "channel": "street"})
    ids = [e.id for e in personalise(view, anna).screens["home"].elements]
    assert {"hello", "rain", "nearby", "family"} <= set(ids) and "runner" not in ids
    assert anna.props() == {"persona": "anna", "context": {
        "weather": "rain", "time_of_day": "afternoon", "channel": "street"}}  # fmt: skip
    assert anna.placeholders(view.personas)["size"] == "116"
    _, problems = profile_from(view, "carl", {"weather": "snow"})
    assert len(problems) == 2 and "persona 'carl'" in problems[0]


def test_a_screen_with_when_shows_its_otherwise_screen_for_others() -> None:
    text = textwrap.dedent(SPEC).replace("otherwise: nowhere", "otherwise: start")
    text = text.replace("famly", "family").replace("wether", "weather")
    text = text.replace("weather: snow", "weather: rain").replace("carl", "ben")
    text = text.replace("entry_screens: {kiosk: done}\n", "")
    proto, problems = check_text(text, "p.yaml")
    assert problems == []
    view = proto.resolve()
    assert screen_for(view, "done", Profile("ben")) == "done"
    assert screen_for(view, "done", Profile("anna")) == "start"
