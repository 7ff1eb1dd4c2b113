"""One simulator run for the benchmark: ``python bench/sim_once.py LAB SESSIONS``.

Writes spool files only (no ingest), like a busy pilot's prototypes would.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab import Lab  # noqa: E402
from sample_data.generate import generate_sample  # noqa: E402


def simulate(lab_root: Path, sessions: int) -> dict:
    """Simulate ``sessions`` sessions of the lab's pilot into its spool."""
    return generate_sample(
        Lab(lab_root),
        sessions=sessions,
        seed=11,
        effects={"task_success_rate": 0.05},
        ingest=False,
    )


if __name__ == "__main__":
    simulate(Path(sys.argv[1]), int(sys.argv[2]))
