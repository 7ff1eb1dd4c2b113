"""Checks on a resolved view's own questions and goals (``prototypes.asks``).

What one entry cannot check alone: the screens a five-second, first-click or preference test
shows exist, a first-click target is an element of its screen, question ids are unique, and
every goal names a screen or element the view has. ``check_views`` runs it on every version
and variant.
"""

from __future__ import annotations

from difflib import get_close_matches

from prototypes.check_written import broken_link_message
from prototypes.problems import Locator, Problem
from prototypes.spec import PrototypeView


def element_ids(view: PrototypeView, screen_id: str) -> list[str]:
    """The element ids on one screen (its elements and the links of a custom screen)."""
    screen = view.screens.get(screen_id)
    if screen is None:
        return []
    ids = [e.id for e in screen.elements]
    return ids + [el for el, _ in screen.links() if el not in ids]


def ask_problems(view: PrototypeView, where: Locator) -> list[Problem]:
    """Every problem of the view's own questions and of its goals."""
    problems: list[Problem] = []
    qpath = view.origins["questions"]
    seen: set[str] = set()
    for i, q in enumerate(view.questions):
        spec = q.custom
        if spec is None:
            continue
        path = f"{qpath}[{i}]"
        if spec.id in seen:
            problems.append(
                where.problem(f"{path}.id", f"question id '{spec.id}' is used twice", "question")
            )
        seen.add(spec.id)
        problems += _shown_screens(view, spec, path, where)
    problems += _goal_problems(view, where)
    return problems


def _shown_screens(view: PrototypeView, spec, path: str, where: Locator) -> list[Problem]:
    """The screens a test shows exist; a first-click target is on its screen."""
    ids = list(view.screens)
    shown = [(f"{path}.screen", spec.screen)] if spec.screen else []
    shown += [
        (f"{path}.options[{j}].screen", o.screen)
        for j, o in enumerate(spec.options or [])
        if o.screen is not None
    ]
    problems = [
        where.problem(p, broken_link_message(sid, ids), "question")
        for p, sid in shown
        if sid not in view.screens
    ]
    if spec.target is not None and spec.screen in view.screens:
        on_screen = element_ids(view, spec.screen)
        if spec.target not in on_screen:
            problems.append(
                where.problem(
                    f"{path}.target",
                    f"screen '{spec.screen}' has no element '{spec.target}'"
                    + "".join(
                        f"; did you mean '{m}'?"
                        for m in get_close_matches(spec.target, on_screen, n=1)
                    ),
                    "question",
                )
            )
    return problems


def _goal_problems(view: PrototypeView, where: Locator) -> list[Problem]:
    problems = []
    every_element = {e for sid in view.screens for e in element_ids(view, sid)}
    for name, goal in view.goals.items():
        if goal.screen is not None and goal.screen not in view.screens:
            problems.append(
                where.problem(
                    f"goals.{name}.screen",
                    broken_link_message(goal.screen, view.screens),
                    "goal",
                )
            )
        if goal.element is not None and goal.element not in every_element:
            problems.append(
                where.problem(
                    f"goals.{name}.element",
                    f"goal '{name}': no screen has an element '{goal.element}'",
                    "goal",
                )
            )
    return problems


__all__ = ["ask_problems", "element_ids"]
