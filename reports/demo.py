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
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from errors import InvalidInputError

if TYPE_CHECKING:
    from experiments.results import ExperimentResult
    from lab import Lab

DEMO_MARKER = ".storelab-demo"
DEFAULT_SESSIONS = 12_000
DEFAULT_SEED = 7
# What the simulated pilots "really" did. Store-randomised: showing sizes in nearby stores
# helps customers find their size. Session-randomised: recommending the descaler to toaster
# buyers (segment of one) makes the recommendation task easier. The store pilot also lifts the
# stores' conversion rate (a daily store KPI, adjusted for its 28-day pre-period).
STORE_PILOT_EFFECTS = {"task_success_rate": 0.08, "umux_lite": 4.0, "kpi:conversion_rate": 0.02}
SESSION_PILOT = "reco-descaler"
SESSION_PILOT_PROTOTYPE = "personal-recommendation"
SESSION_PILOT_EFFECTS = {"task_success_rate": 0.06, "nps": 8.0}
# A usability problem planted in both variants of the store pilot, for the iteration reports to
# find: on the reserve screen customers look for how to pay (the reservation is free), tap the
# pickup slots' labels, give up and say so. Its exact counts are in the truth file.
STORE_PILOT_PROBLEM = {"screen": "reserve", "x": 0.62, "y": 0.38, "drop": 0.25,
                       "misclicks": 0.6, "theme": "payment", "comment_share": 0.08}  # fmt: skip

Step = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo produced, for printing and for tests."""

    lab: Lab
    generated: dict
    analyses: list[ExperimentResult] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)


def prepare_demo_lab(path: Path | str, locale: str = "de") -> Lab:
    """A fresh lab at ``path``; an earlier demo lab there is replaced, anything else refused."""
    from insights.codebook import write_default_codebook
    from lab import init_lab
    from sample_data.fleet import default_stores

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
    lab = init_lab(root, locale=locale, name="storelab demo", stores=default_stores())
    write_default_codebook(lab)
    (lab.root / DEMO_MARKER).write_text(
        "Made by `storelab demo`; the next demo run replaces this folder.\n", encoding="utf-8"
    )
    return lab


def write_session_experiment(lab: Lab, start: date, end: date) -> None:
    """A session-randomised experiment on the personal-recommendation prototype."""
    from experiments.spec import parse_experiment, write_experiment
    from lab import read_stores
    from prototypes.scaffold import new_prototype

    new_prototype(lab, SESSION_PILOT_PROTOTYPE, SESSION_PILOT_PROTOTYPE)
    raw = {
        "id": SESSION_PILOT,
        "hypothesis": "Offering the matching descaler to toaster buyers (segment of one) "
        "makes finding the right accessory easier.",
        "prototype": SESSION_PILOT_PROTOTYPE,
        "unit": "session",
        "variants": {
            "control": {"version": 1},
            "treatment": {"version": 1, "variant": "treatment"},
        },
        "allocation": {"control": 0.5, "treatment": 0.5},
        "stores": [s.store_id for s in read_stores(lab.stores_csv)],
        "start": start,
        "end": end,
        "primary_metric": "task_success_rate",
        "secondary_metrics": ["nps", "time_on_task_s"],
        "guardrails": ["misclick_rate"],
        "alpha": 0.05,
        "power": 0.8,
        "min_effect": 0.03,
    }
    write_experiment(lab, parse_experiment(raw, f"{lab.experiments_dir}/{SESSION_PILOT}.yaml"))


def run_demo(
    path: Path | str,
    *,
    sessions: int = DEFAULT_SESSIONS,
    seed: int = DEFAULT_SEED,
    step: Step | None = None,
) -> DemoResult:
    """Fill a fresh demo lab with a simulated pilot, analyse it and write the reports."""
    from experiments.analysis import analyze_all
    from experiments.results import AnalysisFailure
    from reports.htmlreport import write_report
    from sample_data.generate import finished_pilot_window, generate_sample
    from sample_data.problem import PlantedProblem

    say = step or (lambda _msg: None)
    say(f"Creating a fresh demo lab in {path}")
    lab = prepare_demo_lab(path)
    start, end = finished_pilot_window()
    say(
        f"Store-randomised pilot, {start:%d.%m.}–{end:%d.%m.%Y}: simulating {sessions:,} "
        f"customer sessions in 12 stores (seed {seed})"
    )
    first = generate_sample(
        lab,
        stores=12,
        sessions=sessions,
        seed=seed,
        effects=STORE_PILOT_EFFECTS,
        start=start,
        end=end,
        problem=PlantedProblem(**STORE_PILOT_PROBLEM),
    )
    planted = first.get("problem")
    if planted:
        left = sum(v["left_there"] for v in planted["planted"].values())
        say(
            f"Planted a usability problem on the {planted['screen']} screen: {left:,} task runs "
            f"end there because of it, misclicks cluster at ({planted['x']:g}, {planted['y']:g}), "
            f"{planted['comments_planted']:,} comments on {planted['theme']} "
            "(sample_problems.json has the truth)"
        )
    say(f"Session-randomised pilot in every store: simulating {sessions:,} more sessions")
    write_session_experiment(lab, start, end)
    second = generate_sample(
        lab,
        sessions=sessions,
        seed=seed + 1,
        effects=SESSION_PILOT_EFFECTS,
        experiment_id=SESSION_PILOT,
    )
    generated = {
        "sessions": first["sessions"] + second["sessions"],
        "events": first["events"] + second["events"],
        "experiments": [first, second],
    }
    result = DemoResult(lab=lab, generated=generated)
    say("Analysing every experiment (statistics from DuckDB)")
    for analysis in analyze_all(lab):
        if isinstance(analysis, AnalysisFailure):
            say(f"Could not analyse {analysis.experiment}: {analysis.error}")
            continue
        result.analyses.append(analysis)
        say(f"Writing the HTML report for {analysis.experiment}")
        result.reports.append(write_report(lab, analysis.experiment))
    return result
