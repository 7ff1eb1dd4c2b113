"""Time whole commands against a baseline in the same run: A B A B …, median of paired ratios.

The machines are shared and noisy, so every figure is a ratio against a baseline measured in
the same run, pair by pair; absolute seconds are printed for orientation only.
"""

from __future__ import annotations

import os
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
    a_peak_mib: float | None = None
    """Largest peak resident memory of one A process over the runs (MiB)."""
    b_peak_mib: float | None = None


def run_once(cmd: list[str], setup: Callable[[], None] | None = None) -> float:
    """Wall-clock seconds of one whole process (after ``setup``, which is not timed)."""
    return run_measured(cmd, setup)[0]


def run_measured(cmd: list[str], setup: Callable[[], None] | None = None) -> tuple[float, float]:
    """Wall-clock seconds and peak resident memory (MiB) of one whole process.

    The peak is the kernel's own ``ru_maxrss`` of that child (``os.wait4``), all its threads.
    """
    if setup:
        setup()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


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
    ta, tb, peak_a, peak_b = [], [], [], []
    for _ in range(runs):
        for cmd, setup, times, peaks in ((a, setup_a, ta, peak_a), (b, setup_b, tb, peak_b)):
            wall, peak = run_measured(cmd, setup)
            times.append(wall)
            peaks.append(peak)
    ratios = [x / y for x, y in zip(ta, tb, strict=True)]
    return Pair(
        name=name,
        a_median_s=statistics.median(ta),
        b_median_s=statistics.median(tb),
        ratio_median=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        runs=runs,
        a_peak_mib=max(peak_a),
        b_peak_mib=max(peak_b),
    )
