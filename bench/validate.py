"""Run the validation study and write its table (``make validate``).

Usage: ``python bench/validate.py [--runs N] [--workers W] [--readme README.md]``. Prints the
Markdown table and, with ``--readme``, replaces the text between ``<!-- validation:start -->``
and ``<!-- validation:end -->`` in that file. About 1500 runs per cell take a few minutes on one
core, plus a few for the store-KPI rows (in ``--workers`` processes, default 2). What is
measured and how: ``bench/validation.py`` (session metrics) and ``bench/validation_kpis.py``
(store KPIs).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.validation import (  # noqa: E402
    AA_GOAL,
    ALPHA,
    COVERAGE_GOAL,
    DESIGNS,
    PEEK_DAYS,
    POWER_GOAL,
    CoverageRow,
    PeekRow,
    PowerRow,
    coverage,
    peeking,
    session_power,
    store_power,
)
from bench.validation_kpis import KpiCoverageRow, kpi_study  # noqa: E402

START, END = "<!-- validation:start -->", "<!-- validation:end -->"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _mark(failures: list[str]) -> str:
    return "✓" if not failures else "✗ " + "; ".join(failures)


def coverage_table(rows: list[CoverageRow]) -> list[str]:
    lo, hi = COVERAGE_GOAL
    alo, ahi = AA_GOAL
    out = [
        f"| design | metric | CI coverage (goal {lo:.0%}–{hi:.0%}) | relative CI coverage "
        f"| A/A p < {ALPHA:g} (goal {alo:.0%}–{ahi:.0%}) | A/A CI excludes 0 | method | runs "
        "| goals |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.design} | {r.metric} | {_pct(r.coverage)} | {_pct(r.rel_coverage)} "
            f"| {_pct(r.aa_p)} | {_pct(r.aa_ci)} | {r.method} | {r.runs} | {_mark(r.failures())} |"
        )
    return out


def kpi_coverage_table(rows: list[KpiCoverageRow]) -> list[str]:
    lo, hi = COVERAGE_GOAL
    alo, ahi = AA_GOAL
    out = [
        f"| design | store KPI | planted effect | CI coverage (goal {lo:.0%}–{hi:.0%}) "
        f"| relative CI coverage | A/A p < {ALPHA:g} (goal {alo:.0%}–{ahi:.0%}) "
        "| A/A CI excludes 0 | A/A placebo flagged | method | runs | goals |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.design} | {r.metric} | {r.effect:+g} on {r.baseline:.3g} | {_pct(r.coverage)} "
            f"| {_pct(r.rel_coverage)} | {_pct(r.aa_p)} | {_pct(r.aa_ci)} | {_pct(r.placebo)} "
            f"| {r.method} | {r.runs} | {_mark(r.failures())} |"
        )
    return out


def peeking_table(rows: list[PeekRow]) -> list[str]:
    out = [
        f"| A/A session pilot, a look every day for {PEEK_DAYS} days | ever p < {ALPHA:g} "
        f"| goal | runs |",
        "|---|---|---|---|",
    ]
    for r in rows:
        if r.sequential:
            goal = f"≤ {ALPHA:.0%}: " + (
                _mark(r.failures()) if r.ever_rejected is not None else r.note
            )
        else:
            goal = "none: why peeking needs a sequential test"
        out.append(f"| {r.test} | {_pct(r.ever_rejected)} | {goal} | {r.runs} |")
    return out


def power_table(rows: list[PowerRow]) -> list[str]:
    out = [
        "| design | metric | plan | planned power "
        f"| achieved (goal ±{POWER_GOAL * 100:.0f} points) | runs | goals |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        goals = _mark(r.failures()) if r.goal else (r.note or "explains the row above")
        out.append(
            f"| {r.design} | {r.metric} | {r.plan} | {_pct(r.planned)} | {_pct(r.achieved)} "
            f"| {r.runs} | {goals} |"
        )
    return out


def study(runs: int, workers: int = 2) -> tuple[list[str], int]:
    """The whole study as Markdown lines, and how many rows miss a goal (``workers``: the
    processes the store-KPI part runs in)."""
    cov = [row for design in DESIGNS for row in coverage(design, runs)]
    peek = peeking(runs)
    kpi_cov, kpi_power = kpi_study(runs, workers)
    power = session_power(runs) + store_power(runs) + kpi_power
    missed = sum(bool(r.failures()) for r in [*cov, *kpi_cov, *peek, *power])
    se = {p: 100 * math.sqrt(p * (1 - p) / runs) for p in (0.95, 0.05, 0.8)}
    lines = [
        f"Measured {date.today().isoformat()} with `make validate`: {runs} simulated pilots per "
        f"row, so a rate's binomial SE is {se[0.95]:.1f} points near 95%, {se[0.05]:.1f} near 5% "
        f"and {se[0.8]:.1f} near 80%.",
        "",
        *coverage_table(cov),
        "",
        *kpi_coverage_table(kpi_cov),
        "",
        *peeking_table(peek),
        "",
        *power_table(power),
    ]
    return lines, missed


def write_readme(path: Path, lines: list[str]) -> None:
    """Replace the text between the markers in ``path``."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no {START} … {END} markers")
    block = "\n".join([START, *lines, END])
    path.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1500, help="simulated pilots per row")
    parser.add_argument("--readme", type=Path, help="write the table between the markers")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes for the store-KPI rows (1: none)"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    lines, missed = study(args.runs, args.workers)
    print("\n".join(lines))
    print(f"\n{missed} row(s) miss a goal; {time.perf_counter() - began:.0f} s", file=sys.stderr)
    if args.readme:
        write_readme(args.readme, lines)


if __name__ == "__main__":
    main()
