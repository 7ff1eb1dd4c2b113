"""The pilot simulator: contract events for many sessions walking a prototype, with known truth.

``simulate_pilot`` strings the parts together, each vectorised with numpy (loops run per
variant, task and screen step, never per event or per session):

- ``sample_data.design``: the pilot as the simulator sees it (variants as walkable arms,
  stores, period), from an experiment spec or from prototype views;
- ``sample_data.model`` and ``sample_data.answers``: what happens in each session, and how
  latent satisfaction becomes answers to any instrument of ``feedback.catalogue``;
- ``sample_data.calibration``: the variant parameters that plant the effects asked for, the
  true means and the truth file;
- ``sample_data.walk`` and ``sample_data.encoding``: one chunk of sessions as a pyarrow table
  of contract events (DESIGN.md "Event"), written as one spool file with
  ``feedback.sink.write_batch``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from errors import InvalidInputError
from feedback.sink import write_batch
from lab import Lab
from sample_data.calibration import RunSettings, calibrate, truth_record, validate_effects
from sample_data.comments import flat_bank
from sample_data.design import PilotDesign, check_design, design_from_spec, make_design
from sample_data.encoding import Positions, Vocab, encode_arm, open_days
from sample_data.model import draw_stores
from sample_data.own import OwnTruth, own_truth
from sample_data.problem import (
    PlantedProblem,
    plant,
    problem_truth,
    record_problem,
    theme_codes,
)
from sample_data.walk import ChunkContext, chunk_table

MC_SESSIONS = 60_000
CHUNK_SESSIONS = 50_000


@dataclass
class SimResult:
    """What ``simulate_pilot`` wrote."""

    files: list[Path]
    sessions: int
    events: int
    truth: dict[str, Any]
    seconds: float = 0.0
    truth_path: Path | None = None

    @property
    def sessions_per_second(self) -> float:
        return self.sessions / self.seconds if self.seconds > 0 else float("nan")


def _design(target: Any, experiment: Any) -> PilotDesign:
    if isinstance(experiment, PilotDesign):
        design = experiment
    elif isinstance(experiment, tuple):
        design = make_design(*experiment)
    else:
        if not isinstance(target, Lab):
            raise InvalidInputError("an experiment spec needs a lab to find its prototype")
        design = design_from_spec(target, experiment)
    check_design(design)
    return design


def _chunk_context(
    design: PilotDesign, cal: Any, stores: Any, seed: int, own: OwnTruth | None = None
) -> ChunkContext:
    vocab = Vocab()
    texts, slices = flat_bank()
    text_codes = np.array([vocab.code(s) for s in texts], np.int32)
    theme = theme_codes(design.problem, vocab, texts) if design.problem is not None else None
    return ChunkContext(
        design=design,
        cal=cal,
        stores=stores,
        period=open_days(design.start, design.end),
        vocab=vocab,
        positions=Positions(vocab),
        codes={name: encode_arm(arm, vocab) for name, arm in design.arms.items()},
        comment_codes={key: text_codes[s0:s1] for key, (s0, s1) in slices.items()},
        seed=seed,
        theme=theme,
        own_truth=own or OwnTruth(),
    )


def simulate_pilot(
    target: Any,
    experiment: Any,
    sessions: int = 2_000,
    seed: int = 7,
    effects: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    icc: float = 0.03,
    chunk_sessions: int = CHUNK_SESSIONS,
    truth_path: Path | str | None = None,
    mc_sessions: int = MC_SESSIONS,
    problem: PlantedProblem | None = None,
    own: OwnTruth | None = None,
) -> SimResult:
    """Simulate ``sessions`` pilot sessions and write them as spool files plus the truth.

    ``target``: a ``Lab`` (spool into ``lab.spool_dir``, truth to ``lab.truth_path``) or a
    spool folder (truth to ``truth_path`` if given). ``experiment``: an ``ExperimentSpec`` (needs
    a lab), a ``PilotDesign``, or a tuple ``(views, variants, stores, unit)`` for
    ``make_design``. ``effects``: true differences of every non-baseline variant to the
    baseline, in each metric's own units (``task_success_rate=0.05``, ``sus=4``,
    ``time_on_task_s=-3``); metrics not named get no planted effect. ``progress(done, total)``
    is called after each chunk. ``problem``: a usability problem planted on one screen
    (``sample_data.problem``); the truth's ``problem`` says exactly what it wrote. Never opens
    the database. ``own``: the planted answers to the prototype's own questions
    (``sample_data.own``; default ``OwnTruth()``); the truth's ``own`` says what they and
    its goals wrote.
    """
    started = time.perf_counter()
    if sessions < 1:
        raise InvalidInputError(f"sessions must be at least 1, not {sessions}")
    run = RunSettings(seed, sessions, validate_effects(effects), icc)
    if isinstance(target, Lab):
        spool_dir, truth_file = target.spool_dir, Path(truth_path or target.truth_path)
    else:
        spool_dir, truth_file = Path(target), Path(truth_path) if truth_path else None
    design = _design(target, experiment)
    if problem is not None:
        design = plant(design, problem)
    stores = draw_stores(design, seed, icc)
    cal = calibrate(design, run.effects, stores, seed, mc_sessions)
    ctx = _chunk_context(design, cal, stores, seed, own)

    files: list[Path] = []
    events = done = chunk = 0
    tag = f"sim-{design.experiment_id or design.prototype_id}-s{seed}"
    while done < sessions:
        n = min(chunk_sessions, sessions - done)
        table = chunk_table(ctx, chunk, n)
        files.append(write_batch(spool_dir, table, name=f"{tag}-{chunk:04d}"))
        events += table.num_rows
        done += n
        chunk += 1
        if progress:
            progress(done, sessions)

    truth = truth_record(design, run, stores, cal)
    truth["events"] = events
    truth["files"] = [f.name for f in files]
    if design.problem is not None:
        truth["problem"] = problem_truth(design, ctx.tally)
    if any(arm.own or arm.goals for arm in design.arms.values()):
        truth["own"] = own_truth(design, ctx.own_truth, ctx.tally)
    if truth_file is not None:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        truth_file.write_text(json.dumps(truth, indent=2, ensure_ascii=False), encoding="utf-8")
        if design.problem is not None:
            key = design.experiment_id or design.prototype_id
            record_problem(truth_file.parent, key, {"prototype": design.prototype_id,
                                                    **truth["problem"]})  # fmt: skip
    return SimResult(files, sessions, events, truth, time.perf_counter() - started, truth_file)
