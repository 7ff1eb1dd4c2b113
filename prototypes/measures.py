"""Which ``goal:`` and ``question:`` metrics a prototype defines, and refusing the others.

``feedback.custom_measures`` makes a metric out of a well-formed name; only the prototype knows
which names mean something. ``defined_measures(proto)`` lists them over every version and
variant (with what each measures), ``measure_problems(proto, names)`` says in one line per name
why a name is not one of them, and ``check_experiment_measures(lab, spec)`` refuses an
experiment that names one (``InvalidInputError``): the command layer calls it before an analysis
(``experiment analyze``, ``report show``/``html`` and the dashboard through ``reports.data``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from errors import InvalidInputError
from feedback.custom_measures import GOAL_RE, QUESTION_RE, is_custom
from feedback.question_types import NOT_RECALLED, QUESTION_TYPES, RECALLED
from prototypes.check_asks import element_ids
from prototypes.spec import Prototype

if TYPE_CHECKING:
    from lab import Lab


def _own_questions(proto: Prototype) -> dict[str, tuple[Any, set[str]]]:
    """Question id -> (its spec, the element ids of the screen it shows), over every version
    and variant (the first definition of an id wins)."""
    found: dict[str, tuple[Any, set[str]]] = {}
    for version in proto.version_numbers:
        for variant in proto.variant_names(version):
            view = proto.resolve(version, variant)
            for q in view.questions:
                if q.custom is not None and q.id not in found:
                    shown = set(element_ids(view, q.custom.screen)) if q.custom.screen else set()
                    found[q.id] = (q.custom, shown)
    return found


def _options(spec: Any, shown: set[str]) -> list[str]:
    """The ``.<option>`` names a question of this type has."""
    if spec.type == "five_second":
        return [RECALLED, NOT_RECALLED]
    if spec.type == "first_click":
        return [spec.target, *sorted(shown - {spec.target})]
    return spec.option_ids()


def defined_measures(proto: Prototype) -> dict[str, str]:
    """Every ``goal:``/``question:`` metric the prototype defines -> what it measures."""
    out = {f"goal:{name}": f"share of sessions reaching goal {name!r}" for name in proto.goals}
    for qid, (spec, shown) in _own_questions(proto).items():
        kind = QUESTION_TYPES[spec.type]
        if kind.metric == "value":
            out[f"question:{qid}"] = f"mean answer to {qid!r} ({kind.name['en']})"
        elif kind.metric == "option":
            for option in _options(spec, shown):
                out[f"question:{qid}.{option}"] = (
                    f"share answering {qid!r} with {option!r} ({kind.name['en']})"
                )
    return out


def measure_problems(proto: Prototype, names: list[str]) -> list[str]:
    """One line per ``goal:``/``question:`` name the prototype does not define."""
    defined = defined_measures(proto)
    own = _own_questions(proto)
    problems = []
    for name in names:
        if not is_custom(name) or name in defined:
            continue
        if m := GOAL_RE.match(name):
            goals = ", ".join(proto.goals) or "none; add goals: to its spec"
            problems.append(
                f"{name}: prototype {proto.id} has no goal {m.group(1)!r} (its goals: {goals})"
            )
        elif (m := QUESTION_RE.match(name)) and m.group(1) in own:
            spec, shown = own[m.group(1)]
            if QUESTION_TYPES[spec.type].metric == "value":
                problems.append(f"{name}: {spec.id!r} is a rating; write question:{spec.id}")
            elif QUESTION_TYPES[spec.type].metric == "none":
                problems.append(f"{name}: {spec.id!r} is open text, read, not compared")
            else:
                options = ", ".join(f"question:{spec.id}.{o}" for o in _options(spec, shown))
                problems.append(f"{name}: no such answer; {spec.id!r} has {options}")
        else:
            ids = ", ".join(own) or "none"
            problems.append(
                f"{name}: prototype {proto.id} has no question of its own with that id "
                f"(its own questions: {ids})"
            )
    return problems


def check_experiment_measures(lab: Lab, spec: Any) -> None:
    """Refuse an experiment whose ``goal:``/``question:`` metrics its prototype does not define
    (one line per name). Nothing to check without such metrics."""
    from prototypes.library import load_lab_prototype

    names = [m for m, _role in spec.metric_roles() if is_custom(m)]
    if not names:
        return
    problems = measure_problems(load_lab_prototype(lab, spec.prototype), names)
    if problems:
        raise InvalidInputError(
            f"Experiment {spec.id!r} names metrics its prototype does not define:\n  "
            + "\n  ".join(problems)
        )


__all__ = ["check_experiment_measures", "defined_measures", "measure_problems"]
