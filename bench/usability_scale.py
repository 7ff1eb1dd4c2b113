"""A usability report against `experiment analyze` on the same lab: whole processes, A B A B.

Usage: ``python bench/usability_scale.py [--sessions N] [--runs R] [--lab PATH]``
(``make bench-usability``; ``--sessions 1000000`` for the issue's goal: 1M sessions, about 17M
events, ~3 minutes to simulate and ingest and ~4 GB of disk). The lab is the simulator's sample
pilot (``sample_data.generate.generate_sample``: scan-and-discover, one experiment over every
store); an existing ``--lab`` with data is reused, so the slow part runs once.

A = ``storelab report usability scan-and-discover --json`` (every task, screen, path, answer),
B = ``storelab experiment analyze scan-and-discover-pilot --json``. Goal: A ≤ 2 × B.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.harness import pair  # noqa: E402

PY = sys.executable


def make_lab(path: Path, sessions: int) -> None:
    """A lab with ``sessions`` simulated sessions, ingested (skipped when it has data)."""
    from lab import find_lab, init_lab
    from sample_data.fleet import default_stores
    from sample_data.generate import generate_sample

    if (path / "storelab.duckdb").exists():
        print(f"reusing {path}", flush=True)
        return
    lab = init_lab(path, stores=default_stores()) if not (path / "storelab.toml").exists() else (
        find_lab(path)
    )  # fmt: skip
    start = time.perf_counter()
    generate_sample(lab, sessions=sessions, seed=11)
    print(f"{sessions:,} sessions simulated and ingested in {time.perf_counter() - start:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lab", type=Path, default=None)
    args = parser.parse_args()
    lab = args.lab or Path(tempfile.mkdtemp(prefix="storelab-usab-")) / "lab"
    make_lab(lab, args.sessions)
    cli = [PY, str(ROOT / "cli.py")]
    result = pair(
        f"usability report vs experiment analyze, {args.sessions:,} sessions",
        [*cli, "report", "usability", "scan-and-discover", "--json", "--lab", str(lab)],
        [*cli, "experiment", "analyze", "scan-and-discover-pilot", "--json", "--lab", str(lab)],
        runs=args.runs,
    )
    print(
        f"| {result.name} | **{result.ratio_median:.2f}×** ({result.ratio_min:.2f}–"
        f"{result.ratio_max:.2f}) | {result.a_median_s:.2f} | {result.b_median_s:.2f} | "
        f"{result.runs} |"
    )
    print("goal ≤ 2×:", "met" if result.ratio_median <= 2 else "NOT met")


if __name__ == "__main__":
    main()
