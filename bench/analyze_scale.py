"""`experiment analyze --json` on a big lab against a bare DuckDB per-session GROUP BY.

Usage: ``python bench/analyze_scale.py [--events N] [--runs N] [--dir DIR]``
(``make bench-analyze``; ``EVENTS=1000000 make bench-analyze`` for a quick look).

The lab (``bench.scale_lab``: events shaped like the runtime's, 12 stores, a store-randomised
experiment with every catalogue metric) is made once and kept in ``DIR/analyze-lab-<N>``
(default ``bench/out``). Then, A B A B … after one warm-up round, as whole processes:

A   ``python cli.py experiment analyze bench-pilot --lab LAB --json`` (with its default
    timeline and breakdowns)
B   ``python -c`` opening the same database read-only and fetching
    ``SELECT session_id, count(*) FROM events GROUP BY session_id`` (the issue's baseline)
B2  the same GROUP BY reduced to per-variant means in SQL, two rows fetched (stricter: no
    Python rows at all)

and prints the median of the paired ratios A/B (min–max), the medians in seconds and the
largest peak resident memory of one process (the kernel's ``ru_maxrss``). Goal (issue 13):
A ≤ 3× B and A's peak under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Pair, pair  # noqa: E402
from bench.scale_lab import EXPERIMENT  # noqa: E402

PY = sys.executable
GOAL_RATIO = 3.0
GOAL_PEAK_MIB = 1024.0

PER_SESSION = "SELECT session_id, count(*) FROM events GROUP BY session_id"
PER_VARIANT = (
    "SELECT variant, count(*), avg(n) FROM (SELECT session_id, min(variant) AS variant, "
    "count(*) AS n FROM events GROUP BY session_id) GROUP BY variant"
)


def cached_lab(directory: Path, events: int) -> tuple[Path, int]:
    """The lab with ``events`` events under ``directory``, made on first use."""
    root = directory / f"analyze-lab-{events}"
    stamp = root / "bench-events.txt"
    if not stamp.exists():
        if root.exists():
            raise SystemExit(f"{root} exists but is incomplete: remove it and run again.")
        print(f"making {root} ({events:,} events, about 3 s per million) …", flush=True)
        # in a child process: a fork of a big parent would count its memory in every
        # measured child's peak (Linux carries ru_maxrss across exec)
        made = subprocess.run(
            [PY, str(HERE / "scale_lab.py"), str(root), str(events)],
            check=True,
            capture_output=True,
            text=True,
        )
        stamp.write_text(made.stdout.strip(), encoding="utf-8")
    return root, int(stamp.read_text(encoding="utf-8"))


def bare(db: Path, sql: str) -> list[str]:
    """A whole process that opens ``db`` read-only and fetches every row of ``sql``."""
    code = (
        f"import duckdb; c = duckdb.connect({str(db)!r}, read_only=True); "
        f"c.execute({sql!r}).fetchall()"
    )
    return [PY, "-c", code]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=HERE / "out")
    parser.add_argument(
        "--cli",
        type=Path,
        default=ROOT / "cli.py",
        help="the cli.py to time (another checkout's, to compare versions on the same lab)",
    )
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    lab, stored = cached_lab(args.dir, args.events)
    db = lab / "storelab.duckdb"
    analyze = [PY, str(args.cli), "experiment", "analyze", EXPERIMENT]
    analyze += ["--lab", str(lab), "--json"]
    results: list[Pair] = [
        pair(
            f"`experiment analyze --json` vs per-session GROUP BY fetched ({stored:,} events)",
            analyze,
            bare(db, PER_SESSION),
            runs=args.runs,
        ),
        pair(
            f"`experiment analyze --json` vs per-session GROUP BY → per-variant means "
            f"({stored:,} events)",
            analyze,
            bare(db, PER_VARIANT),
            runs=args.runs,
        ),
    ]
    print("| benchmark | ratio (median, min–max) | A median s | B median s ", end="")
    print("| A peak MiB | B peak MiB |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | **{r.ratio_median:.2f}×** ({r.ratio_min:.2f}–{r.ratio_max:.2f}) "
            f"| {r.a_median_s:.2f} | {r.b_median_s:.2f} | {r.a_peak_mib:.0f} | {r.b_peak_mib:.0f} |"
        )
    main_pair = results[0]
    met = main_pair.ratio_median <= GOAL_RATIO and main_pair.a_peak_mib < GOAL_PEAK_MIB
    print(
        f"\ngoal (≤ {GOAL_RATIO:.0f}× the per-session GROUP BY, peak < {GOAL_PEAK_MIB:.0f} MiB): "
        + ("met" if met else "NOT met")
    )
    out = args.dir / f"analyze_scale-{args.events}.json"
    out.write_text(
        json.dumps({"events": stored, "pairs": [r.__dict__ for r in results]}, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
