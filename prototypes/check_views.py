"""Checks on every resolved version and variant: links, reachability, tasks and questions.

Each version and variant is resolved (``prototypes.spec.resolve_with_problems``) and its view
checked: the start screen and every link lead to screens that exist, every screen can be reached
from the start, every task can reach a goal along an ``expected_path`` that follows real links,
and questions follow tasks that exist. Problems found beyond the base say where:
``(in version 2, variant treatment)``.
"""

from __future__ import annotations

from feedback.catalogue import CATALOGUE
from prototypes.asks import CustomQuestionSpec
from prototypes.changes import origin_key
from prototypes.check_asks import ask_problems
from prototypes.check_written import broken_link_message
from prototypes.problems import Locator, Problem
from prototypes.spec import BASE_VARIANT, Prototype, PrototypeView, resolve_with_problems
from prototypes.tasks import QuestionSpec, Task


def resolution_problems(proto: Prototype, where: Locator) -> list[Problem]:
    """Every problem of every version and variant, with the version and variant named."""
    problems: list[Problem] = []
    for version in proto.version_numbers:
        for variant in proto.variant_names(version):
            view, changes = resolve_with_problems(proto, version, variant)
            base = variant == BASE_VARIANT and version == proto.version_numbers[0]
            context = "" if base else f" (in version {version}, variant {variant})"
            found = [where.problem(p, m, k) for p, m, k in changes]
            found += _view_problems(view, where)
            problems += [
                Problem(p.file, p.line, p.path, p.message + context, p.kind) for p in found
            ]
    return problems


def _view_problems(view: PrototypeView, where: Locator) -> list[Problem]:
    problems = _link_problems(view, where)
    if view.start_screen in view.screens:
        problems += _reachability_problems(view, where)
    for task in view.tasks:
        path = view.origins.get(origin_key("task", task.id), "tasks")
        problems += _task_problems(view, task, path, where)
    problems += _question_problems(view, where)
    problems += ask_problems(view, where)
    return problems


def _screen_path(view: PrototypeView, sid: str) -> str:
    return view.origins.get(origin_key("screen", sid), "screens")


def _link_problems(view: PrototypeView, where: Locator) -> list[Problem]:
    """The start screen and every element's or custom screen's link lead to a real screen."""
    problems: list[Problem] = []
    ids = list(view.screens)
    if view.start_screen not in view.screens:
        problems.append(
            where.problem(
                view.origins["start_screen"],
                f"start screen '{view.start_screen}' does not exist (screens: {', '.join(ids)})",
                "broken_link",
            )
        )
    for sid, screen in view.screens.items():
        for el in screen.elements:
            element_path = view.origins.get(
                origin_key("element", sid, el.id), _screen_path(view, sid)
            )
            for _, target, sub in el.link_targets():
                if target not in view.screens:
                    problems.append(
                        where.problem(
                            f"{element_path}.{sub}",
                            broken_link_message(target, ids),
                            "broken_link",
                        )
                    )
        if screen.custom is not None:
            for k, target in enumerate(screen.custom.targets):
                if target not in view.screens:
                    problems.append(
                        where.problem(
                            f"{_screen_path(view, sid)}.custom.targets[{k}]",
                            broken_link_message(target, ids),
                            "broken_link",
                        )
                    )
    return problems


def _reachability_problems(view: PrototypeView, where: Locator) -> list[Problem]:
    reachable = view.reachable()
    return [
        where.problem(
            _screen_path(view, sid),
            f"screen '{sid}' cannot be reached from the start screen "
            f"'{view.start_screen}': add a button or hotspot that leads to it",
            "unreachable",
        )
        for sid in view.screens
        if sid not in reachable
    ]


def _question_problems(view: PrototypeView, where: Locator) -> list[Problem]:
    """Questions after tasks that exist, and no instrument asked twice at the same moment."""
    problems: list[Problem] = []
    task_ids = [t.id for t in view.tasks]
    qpath = view.origins["questions"]
    asked: set[tuple[str, str | None]] = set()
    for i, spec_q in enumerate(_question_specs(view)):
        if spec_q.after_task is not None and spec_q.after_task not in task_ids:
            problems.append(
                where.problem(
                    f"{qpath}[{i}].after_task",
                    f"there is no task '{spec_q.after_task}' (tasks: "
                    f"{', '.join(task_ids) or 'none'})",
                    "question",
                )
            )
        if isinstance(spec_q, CustomQuestionSpec):
            continue  # its id is unique per view: prototypes.check_asks
        key = (spec_q.instrument, spec_q.after_task)
        if key in asked:
            when = f"after task '{spec_q.after_task}'" if spec_q.after_task else "at the end"
            problems.append(
                where.problem(
                    f"{qpath}[{i}].instrument",
                    f"{spec_q.instrument} is asked twice {when}",
                    "question",
                )
            )
        asked.add(key)
    return problems


def _question_specs(view: PrototypeView) -> list[QuestionSpec | CustomQuestionSpec]:
    """The question specs behind ``view.questions`` (one per entry, in order)."""
    specs: list[QuestionSpec | CustomQuestionSpec] = []
    for q in view.questions:
        if q.custom is not None:
            specs.append(q.custom)
            continue
        inst = CATALOGUE.instrument(q.instrument)
        if q.id == inst.items[0].id:
            specs.append(QuestionSpec(instrument=q.instrument, after_task=q.after_task))
    return specs


def _task_problems(view: PrototypeView, task: Task, path: str, where: Locator) -> list[Problem]:
    """The task's screens exist, a goal is reachable, and ``expected_path`` is a real walk."""
    problems: list[Problem] = []
    ids = list(view.screens)
    if task.start_screen not in view.screens:
        problems.append(
            where.problem(
                f"{path}.start_screen",
                f"task '{task.id}' starts on screen '{task.start_screen}', which does not exist",
                "task",
            )
        )
    for i, goal in enumerate(task.goal_screens):
        if goal not in view.screens:
            problems.append(
                where.problem(f"{path}.goal_screens[{i}]", broken_link_message(goal, ids), "task")
            )
    if problems:
        return problems
    reachable = view.reachable(task.start_screen)
    if not any(goal in reachable for goal in task.goal_screens):
        return [
            where.problem(
                f"{path}.goal_screens",
                f"task '{task.id}': no goal screen ({', '.join(task.goal_screens)}) can be "
                f"reached from its start screen '{task.start_screen}'",
                "task",
            )
        ]
    return _expected_path_problems(view, task, path, where)


def _expected_path_problems(
    view: PrototypeView, task: Task, path: str, where: Locator
) -> list[Problem]:
    """``expected_path`` runs from the start screen to a goal along links."""
    problems: list[Problem] = []
    ids = list(view.screens)
    walk = task.expected_path
    if walk[0] != task.start_screen:
        problems.append(
            where.problem(
                f"{path}.expected_path[0]",
                f"the expected path must begin at the start screen '{task.start_screen}', "
                f"not '{walk[0]}'",
                "task",
            )
        )
    if walk[-1] not in task.goal_screens:
        problems.append(
            where.problem(
                f"{path}.expected_path[{len(walk) - 1}]",
                f"the expected path must end on a goal screen "
                f"({', '.join(task.goal_screens)}), not '{walk[-1]}'",
                "task",
            )
        )
    for i, (a, b) in enumerate(zip(walk, walk[1:], strict=False), start=1):
        if a not in view.screens or b not in view.screens:
            missing = b if a in view.screens else a
            problems.append(
                where.problem(
                    f"{path}.expected_path[{i}]", broken_link_message(missing, ids), "task"
                )
            )
            break
        if b not in {t for _, t in view.links(a)}:
            problems.append(
                where.problem(
                    f"{path}.expected_path[{i}]",
                    f"nothing on screen '{a}' leads to '{b}'; the expected path must follow "
                    "buttons, hotspots or other links",
                    "task",
                )
            )
    return problems


__all__ = ["resolution_problems"]
