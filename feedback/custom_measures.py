"""A prototype's own measures as metrics: ``goal:<name>`` and ``question:<id>[.<option>]``.

DESIGN.md promises metrics on events a team defines. A prototype spec names them
(``prototypes.measures``); this module turns a *name* into a catalogue-style ``Metric`` with its
per-session SQL, so that ``experiments`` can analyse it without reading the prototype:

- ``goal:<name>`` — a proportion, the share of sessions that reached the goal. The runtime
  (and the simulator) writes ``props.goals: [<name>, …]`` on the ``screen_view`` or ``tap``
  that reaches it, so the events carry it; per session 1 if any event names it, else 0.
- ``question:<id>.<option>`` — a proportion: of the sessions that answered question ``<id>``,
  the share whose answers name ``<option>`` in ``element`` (a choice, the preferred design,
  ``recalled`` in a five-second test, the element tapped first in a first-click test);
  sessions that did not answer have no value.
- ``question:<id>`` — a mean: the session's last answer ``value`` (a rating).

Which names a prototype defines, and refusing the others with a clear message, is
``prototypes.measures``; whether the lab has data for them is only known at analysis time.
``recalled(text, keywords)`` is the one keyword match of five-second tests (runtime, simulator
and usability report).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from feedback.catalogue import Metric

GOAL_PREFIX = "goal:"
QUESTION_PREFIX = "question:"
_PART = r"[a-z0-9][a-z0-9_-]{0,63}"  # a spec id (prototypes.fields.ID_RE, 64 characters)
GOAL_RE = re.compile(rf"^goal:({_PART})$")
QUESTION_RE = re.compile(rf"^question:({_PART})(?:\.({_PART}))?$")


def is_custom(metric: str) -> bool:
    """True for ``goal:…`` and ``question:…`` names."""
    return metric.startswith((GOAL_PREFIX, QUESTION_PREFIX))


def custom_name_problem(metric: str) -> str | None:
    """Why a ``goal:``/``question:`` name is malformed, or None."""
    if metric.startswith(GOAL_PREFIX) and not GOAL_RE.match(metric):
        return f"{metric!r}: write goal:<name> with the goal's name from the prototype's goals:"
    if metric.startswith(QUESTION_PREFIX) and not QUESTION_RE.match(metric):
        return (
            f"{metric!r}: write question:<id> (a rating's mean) or question:<id>.<option> "
            "(the share choosing an option) with ids from the prototype's questions:"
        )
    return None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def goal_sql(name: str) -> str:
    """Per session: 1.0 when any screen view or tap names goal ``name`` in ``props.goals``.

    A substring test on the JSON text first, so only events that name the goal are parsed
    (as ``feedback.events.team_event_sql``)."""
    text = "CAST(props AS VARCHAR)"
    hit = (
        f"CASE WHEN type IN ('screen_view', 'tap') AND contains({text}, {_quote(name)}) "
        f"THEN list_contains(json_extract_string(props, '$.goals[*]'), {_quote(name)}) END"
    )
    return f"CASE WHEN coalesce(bool_or({hit}), false) THEN 1.0 ELSE 0.0 END"


def option_sql(question: str, option: str) -> str:
    """Per session: NULL without an answer to ``question``, else 1.0 when one names
    ``option`` (in ``element``), else 0.0."""
    asked = f"type = 'answer' AND question = {_quote(question)}"
    return (
        f"CASE WHEN bool_or({asked}) THEN "
        f"max(CASE WHEN {asked} AND element = {_quote(option)} THEN 1.0 ELSE 0.0 END) END"
    )


def value_sql(question: str) -> str:
    """Per session: the last ``value`` answered to ``question`` (NULL without one)."""
    asked = f"type = 'answer' AND question = {_quote(question)} AND \"value\" IS NOT NULL"
    return f'arg_max(CASE WHEN {asked} THEN "value" END, CASE WHEN {asked} THEN ts END)'


def custom_metric(metric: str) -> Metric:
    """The definition of a well-formed ``goal:``/``question:`` name (``ValueError`` else)."""
    if problem := custom_name_problem(metric):
        raise ValueError(problem)
    if m := GOAL_RE.match(metric):
        name = m.group(1)
        return Metric(
            id=metric,
            kind="proportion",
            higher_is_better=True,
            label={"de": f"Ziel: {name}", "en": f"Goal: {name}"},
            description=f"share of sessions that reached goal {name!r}",
            source="events",
            sql=goal_sql(name),
        )
    m = QUESTION_RE.match(metric)
    if m is None:
        raise ValueError(f"{metric!r} is not a goal: or question: metric")
    question, option = m.group(1), m.group(2)
    if option is not None:
        return Metric(
            id=metric,
            kind="proportion",
            higher_is_better=True,
            label={"de": f"{question}: {option}", "en": f"{question}: {option}"},
            description=f"share of the sessions answering {question!r} that chose {option!r}",
            source="events",
            sql=option_sql(question, option),
        )
    return Metric(
        id=metric,
        kind="mean",
        higher_is_better=True,
        label={"de": f"{question} (Mittel)", "en": f"{question} (mean)"},
        description=f"mean answer to {question!r}",
        source="events",
        sql=value_sql(question),
    )


# --- five-second tests: did they name what was shown? ------------------------------------------


def _fold(text: str) -> str:
    """Lower case, umlauts and accents folded (ä → ae, é → e), ß → ss: 'Größe' ~ 'groesse'."""
    text = text.lower().replace("ß", "ss")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, plain)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def recalled(text: str | None, keywords: Iterable[str]) -> bool:
    """Whether ``text`` names one of ``keywords``, case, umlauts and accents folded.

    A keyword of four letters or more matches a word that contains it (German compounds:
    'jacke' finds 'Winterjacken'); a shorter one (a price, '49') a word that starts with it;
    a keyword of several words matches them in a row."""
    if not text:
        return False
    words = re.findall(r"\w+", _fold(text))
    for keyword in keywords:
        parts = re.findall(r"\w+", _fold(keyword))
        if not parts:
            continue
        for i in range(len(words) - len(parts) + 1):
            if all(_word_matches(words[i + j], p) for j, p in enumerate(parts)):
                return True
    return False


def _word_matches(word: str, part: str) -> bool:
    return part in word if len(part) >= 4 else word.startswith(part)


__all__ = [
    "GOAL_PREFIX",
    "QUESTION_PREFIX",
    "custom_metric",
    "custom_name_problem",
    "goal_sql",
    "is_custom",
    "option_sql",
    "recalled",
    "value_sql",
]
