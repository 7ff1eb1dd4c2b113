"""``storelab demo``: the whole loop on simulated pilot data, in a fresh demo lab.

init lab → prototypes from templates → experiment specs → simulated customers in 12 stores →
spool files → ingest into DuckDB → analysis → HTML reports → (serve gallery + dashboard).
Each step is the same library call a user would make by hand; the demo only strings them
together and says what it is doing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab import Lab

DEMO_MARKER = ".storelab-demo"
DEFAULT_SESSIONS = 12_000
DEFAULT_SEED = 7
# What the simulated pilot "really" did: the treatment helps customers find their size.
DEFAULT_EFFECTS = {"task_success_rate": 0.08, "sus": 5.0, "time_on_task_s": -0.15}

Step = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo produced, for printing and for tests."""

    lab: Lab
    generated: dict
    analyses: list[dict] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)


def prepare_demo_lab(path: Path | str, locale: str = "de") -> Lab:
    """A fresh lab at ``path``; an earlier demo lab there is replaced, anything else refused."""
    from lab import InvalidInputError, init_lab

    root = Path(path).expanduser()
    if root.exists():
        if (root / DEMO_MARKER).exists():
            shutil.rmtree(root)
        elif root.is_dir() and not any(root.iterdir()):
            pass
        else:
            raise InvalidInputError(
                f"{root} exists and is not a demo lab; the demo only replaces a folder it made "
                "itself. Pass --lab with a new folder."
            )
    lab = init_lab(root, locale=locale, name="storelab demo")
    (lab.root / DEMO_MARKER).write_text(
        "Made by `storelab demo`; the next demo run replaces this folder.\n", encoding="utf-8"
    )
    return lab


def run_demo(
    path: Path | str,
    *,
    sessions: int = DEFAULT_SESSIONS,
    seed: int = DEFAULT_SEED,
    step: Step | None = None,
) -> DemoResult:
    """Fill a fresh demo lab with a simulated pilot, analyse it and write the reports."""
    from experiments.analysis import analyze_all
    from reports.html import write_report
    from sample_data.generate import generate_sample

    say = step or (lambda _msg: None)
    say(f"Creating a fresh demo lab in {path}")
    lab = prepare_demo_lab(path)
    say(f"Simulating {sessions:,} customer sessions in 12 pilot stores (seed {seed})")
    generated = generate_sample(
        lab, stores=12, sessions=sessions, seed=seed, effects=dict(DEFAULT_EFFECTS)
    )
    result = DemoResult(lab=lab, generated=generated)
    say("Analysing every experiment (statistics from DuckDB)")
    result.analyses = analyze_all(lab)
    for analysis in result.analyses:
        say(f"Writing the HTML report for {analysis['experiment']}")
        result.reports.append(write_report(lab, analysis["experiment"]))
    return result
