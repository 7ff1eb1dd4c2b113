"""A planted usability problem: one screen where customers give up, misclick and complain.

``PlantedProblem`` names a screen of the simulated prototype (and, optionally, the variant or
version that has it) and what goes wrong there, each a known amount:

- **drop-off**: a session that arrives on the screen during a task whose expected path passes
  it, and would have gone on, abandons the task there with probability ``drop``. The share of
  arrivals that end the task unsuccessfully on that screen is therefore
  ``r0 + drop · (1 − r0)``, ``r0`` being the share without the problem;
- **misclicks**: every such arrival makes Poisson(``misclicks``) extra misclicks, at positions
  normal around (``x``, ``y``) with sd ``spread`` (shares of the screen, the frame of the
  runtime's tap capture, clipped to 0..1); the screen's ordinary misclicks stay as they are;
- **comments**: a session that reached the screen writes a comment on ``theme`` with
  probability ``comment_share`` (its comment text is one of ``THEME_COMMENTS[theme]``, in the
  session's language; only variants that ask for a comment).

The effects asked for with ``--effect`` are solved without the problem; the problem comes on
top, and the truth file's true means include it. What was planted, and exactly how much of it
the simulation wrote (arrivals, sessions that left there, misclicks, comments), is in the truth
file under ``problem`` and in ``sample generate``'s summary.

CLI: ``storelab sample generate --problem reserve@0.5,0.42 --problem-theme payment``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from errors import InvalidInputError
from sample_data.comments import THEME_COMMENTS, mentions
from sample_data.design import ArmProblem, PilotDesign

THEMES: tuple[str, ...] = tuple(THEME_COMMENTS)
PROBLEMS_FILE = "sample_problems.json"
"""Next to the truth file: every planted problem by experiment (a later simulation of another
experiment replaces the truth file, not this record)."""


@dataclass(frozen=True)
class PlantedProblem:
    """What goes wrong on one screen, and where (see the module docstring).

    ``variant`` / ``version``: only the variant of that name / the variants showing that
    prototype version have the problem (None: every variant whose tasks pass the screen).
    """

    screen: str
    x: float = 0.5
    y: float = 0.5
    variant: str | None = None
    version: int | None = None
    drop: float = 0.3
    misclicks: float = 1.2
    spread: float = 0.03
    theme: str = "usability"
    comment_share: float = 0.25

    def __post_init__(self) -> None:
        checks = (
            (
                0 <= self.x <= 1 and 0 <= self.y <= 1,
                f"x, y must be in 0..1, not {self.x}, {self.y}",
            ),
            (0 <= self.drop < 1, f"drop must be in [0, 1), not {self.drop}"),
            (0 <= self.misclicks <= 20, f"misclicks must be in 0..20, not {self.misclicks}"),
            (0 < self.spread <= 0.5, f"spread must be in (0, 0.5], not {self.spread}"),
            (0 <= self.comment_share <= 1, f"comments must be in 0..1, not {self.comment_share}"),
            (self.theme in THEMES, f"theme {self.theme!r} unknown; one of {', '.join(THEMES)}"),
        )
        for ok, why in checks:
            if not ok:
                raise InvalidInputError(f"--problem: {why}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SPEC = re.compile(r"^(?P<screen>[A-Za-z0-9_-]+)(?:@(?P<x>[^,]+),(?P<y>.+))?$")


def parse_problem(text: str, **options: Any) -> PlantedProblem:
    """``SCREEN`` or ``SCREEN@X,Y`` (the misclicks' centre, shares of the screen) plus the
    other fields of ``PlantedProblem`` (None: the default)."""
    m = _SPEC.match(text.strip())
    if not m:
        raise InvalidInputError(
            f"--problem {text!r}: write SCREEN or SCREEN@X,Y with X, Y in 0..1, "
            "e.g. reserve@0.5,0.42"
        )
    fields: dict[str, Any] = {"screen": m["screen"]}
    if m["x"] is not None:
        try:
            fields["x"], fields["y"] = float(m["x"]), float(m["y"])
        except ValueError:
            raise InvalidInputError(f"--problem {text!r}: X and Y must be numbers") from None
    fields.update({k: v for k, v in options.items() if v is not None})
    return PlantedProblem(**fields)


def _steps(arm: Any, screen: str) -> tuple[int, ...]:
    """Per task: the screen's position on the path, -1 if not on it or the task's goal."""
    out = []
    for task in arm.tasks:
        k = task.path.index(screen) if screen in task.path else -1
        out.append(k if k < len(task.path) - 1 else -1)
    return tuple(out)


def plant(design: PilotDesign, problem: PlantedProblem) -> PilotDesign:
    """The design with ``problem`` planted in its variants; ``InvalidInputError`` when no
    variant it applies to passes the screen on the way to a task's goal."""
    if problem.variant is not None and problem.variant not in design.arms:
        raise InvalidInputError(
            f"--problem-variant {problem.variant!r}: the experiment's variants are "
            f"{', '.join(design.arms)}"
        )
    arms, hit = {}, []
    for name, arm in design.arms.items():
        steps = _steps(arm, problem.screen)
        chosen = problem.variant in (None, name) and problem.version in (None, arm.version)
        if chosen and any(k >= 0 for k in steps):
            arm = dataclasses.replace(arm, problem=ArmProblem(
                problem.screen, steps, problem.drop, problem.misclicks, problem.x, problem.y,
                problem.spread, problem.comment_share))  # fmt: skip
            hit.append(name)
        arms[name] = arm
    if not hit:
        on_paths = sorted({s for arm in design.arms.values() for t in arm.tasks
                           for s in t.path[:-1]})  # fmt: skip
        raise InvalidInputError(
            f"--problem {problem.screen!r}: no variant chosen passes that screen on the way to a "
            f"task's goal; screens that can have a problem: {', '.join(on_paths)}"
        )
    return dataclasses.replace(design, arms=arms, problem=problem)


@dataclass(frozen=True)
class ThemeCodes:
    """The planted theme's comment texts as codes (per locale), and every code that mentions it."""

    texts: dict[str, np.ndarray]  # "de" / "en" -> codes
    mentions: np.ndarray  # codes of every text (bank or planted) with one of its keywords


def theme_codes(problem: PlantedProblem, vocab: Any, bank: list[str]) -> ThemeCodes:
    """The theme's texts as vocabulary codes and every code (bank or theme) mentioning it."""
    texts = THEME_COMMENTS[problem.theme]
    codes = {loc: np.array([vocab.code(t) for t in texts[loc]], np.int32) for loc in ("de", "en")}
    every = [*bank, *texts["de"], *texts["en"]]
    hits = np.array([vocab.code(t) for t in every if mentions(t, problem.theme)], np.int32)
    return ThemeCodes(codes, hits)


def problem_truth(design: PilotDesign, tally: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The truth file's ``problem``: what was planted where, and exactly what it wrote."""
    problem = design.problem
    planted = {
        name: {
            "version": arm.version,
            **{
                k: tally.get(name, {}).get(k, 0)
                for k in ("task_visits", "left_there", "misclicks", "comments")
            },
        }  # fmt: skip
        for name, arm in design.arms.items()
        if arm.problem is not None
    }
    return {
        **problem.to_dict(),
        "tasks": sorted(
            {
                t.id
                for arm in design.arms.values()
                if arm.problem
                for t, k in zip(arm.tasks, arm.problem.steps, strict=True)
                if k >= 0
            }
        ),  # fmt: skip
        "keywords": list(THEME_COMMENTS[problem.theme]["keywords"]),
        "texts": [*THEME_COMMENTS[problem.theme]["de"], *THEME_COMMENTS[problem.theme]["en"]],
        "planted": planted,
        "comments_planted": sum(v["comments"] for v in planted.values()),
        "comments_on_theme": tally.get("*", {}).get("theme_comments", 0),
        "meaning": (
            "task_visits: task runs that reached the screen; left_there: of them, runs the "
            "problem made end there (abandon); misclicks: planted misclicks (around x, y, sd "
            "spread); comments: sessions that wrote a planted comment on the theme. "
            "comments_on_theme: every comment written that contains a theme keyword (planted "
            "and ordinary ones)."
        ),
    }


def record_problem(folder: Path, key: str, truth: dict[str, Any]) -> Path:
    """Add (or replace) ``key``'s planted problem in ``folder/sample_problems.json``."""
    path = Path(folder) / PROBLEMS_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        known = {}  # a damaged record is rewritten; the truth file holds the same numbers
    known = known if isinstance(known, dict) else {}
    known[key] = truth
    path.write_text(json.dumps(known, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def read_problems(folder: Path) -> dict[str, dict[str, Any]]:
    """The problems planted in a lab (``folder``: the lab root), by experiment id."""
    path = Path(folder) / PROBLEMS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: not valid JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}
