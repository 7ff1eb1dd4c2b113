"""Time whole commands against a baseline in the same run: A B A B …, median of paired ratios.

The machines are shared and noisy, so every figure is a ratio against a baseline measured in
the same run, pair by pair; absolute seconds are printed for orientation only.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    """One benchmark's result: medians of A and B and the median of the A/B ratios."""

    name: str
    a_median_s: float
    b_median_s: float
    ratio_median: float
    ratio_min: float
    ratio_max: float
    runs: int


def run_once(cmd: list[str], setup: Callable[[], None] | None = None) -> float:
    """Wall-clock seconds of one whole process (after ``setup``, which is not timed)."""
    if setup:
        setup()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def pair(
    name: str,
    a: list[str],
    b: list[str],
    *,
    runs: int = 5,
    warmup: int = 1,
    setup_a: Callable[[], None] | None = None,
    setup_b: Callable[[], None] | None = None,
) -> Pair:
    """Run A and B alternately ``runs`` times after ``warmup`` rounds; compare pair by pair."""
    for _ in range(warmup):
        run_once(a, setup_a)
        run_once(b, setup_b)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(run_once(a, setup_a))
        tb.append(run_once(b, setup_b))
    ratios = [x / y for x, y in zip(ta, tb, strict=True)]
    return Pair(
        name=name,
        a_median_s=statistics.median(ta),
        b_median_s=statistics.median(tb),
        ratio_median=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        runs=runs,
    )
