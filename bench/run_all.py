"""Run every benchmark and print a Markdown table for bench/README.md.

Usage: ``python bench/run_all.py [--runs N] [--events N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Pair, pair  # noqa: E402

PY = sys.executable


def bench_startup(runs: int) -> list[Pair]:
    """`storelab --help` against a bare `import typer`, and against a one-command Typer app's
    `--help` (which also pays for Typer's rich help renderer: the fair floor)."""
    cli = [PY, str(ROOT / "cli.py"), "--help"]
    minimal = (
        "import typer\napp = typer.Typer()\n@app.command()\ndef hello(name: str = 'x'):\n"
        "    pass\n@app.command()\ndef bye():\n    pass\napp()"
    )
    return [
        pair(
            "CLI start-up: `python cli.py --help` vs `python -c 'import typer'`",
            cli,
            [PY, "-c", "import typer"],
            runs=runs,
        ),
        pair(
            "CLI start-up: `python cli.py --help` vs a two-command Typer app's `--help`",
            cli,
            [PY, "-c", minimal, "--help"],
            runs=runs,
        ),
    ]


def make_events(path: Path, n: int, seed: int = 1) -> None:
    """``n`` contract events as JSONL, made by DuckDB (fast, deterministic shape)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 10})")
    con.execute(
        f"""COPY (
        SELECT uuid()::VARCHAR AS event_id,
          strftime(TIMESTAMPTZ '2026-11-02 09:00:00+00' + to_seconds(i // 10),
                   '%Y-%m-%dT%H:%M:%S.%g+00:00') AS ts,
          md5(CAST(i // 12 AS VARCHAR))::UUID::VARCHAR AS session_id,
          'scan-pos-v2' AS experiment_id, 'scan-and-discover' AS prototype_id,
          1 AS prototype_version,
          CASE WHEN (i // 12) % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
          'S' || lpad(CAST((i // 12) % 12 + 1 AS VARCHAR), 2, '0') AS store_id,
          CASE WHEN i % 3 = 0 THEN 'kiosk' ELSE 'phone' END AS device,
          (['screen_view', 'tap', 'tap', 'misclick', 'answer'])[i % 5 + 1] AS type,
          'product' AS screen, CASE WHEN i % 5 IN (1, 2) THEN 'btn-sizes' END AS element,
          NULL::VARCHAR AS task, CASE WHEN i % 5 = 4 THEN 'seq' END AS question,
          round(random(), 4) AS x, round(random(), 4) AS y,
          CASE WHEN i % 5 = 4 THEN 1 + i % 7 END AS "value",
          NULL::VARCHAR AS "text", {{'n': i % 3}} AS props
        FROM range({n}) t(i)) TO '{path}' (FORMAT json)"""
    )


def bench_ingest(runs: int, events: int, work: Path) -> Pair:
    """`storelab feedback ingest FILE` (validate, redact, dedupe, store) vs bare read_json."""
    from lab import init_lab
    from sample_data.fleet import default_stores

    data = work / "events.jsonl"
    make_events(data, events)
    lab = init_lab(work / "lab", stores=default_stores())
    baseline_db = work / "baseline.duckdb"

    def fresh_lab() -> None:
        for p in lab.root.glob("storelab.duckdb*"):
            p.unlink()

    def fresh_baseline() -> None:
        for p in work.glob("baseline.duckdb*"):
            p.unlink()

    return pair(
        f"Ingest {events:,} events: `storelab feedback ingest` vs DuckDB `read_json` into a table",
        [
            PY,
            str(ROOT / "cli.py"),
            "feedback",
            "ingest",
            str(data),
            "--lab",
            str(lab.root),
            "--json",
        ],
        [
            PY,
            "-c",
            f"import duckdb; c = duckdb.connect({str(baseline_db)!r}); "
            f'c.execute("CREATE TABLE events AS SELECT * FROM read_json({str(data)!r}, '
            "format='newline_delimited')\"); c.close()",
        ],
        runs=runs,
        setup_a=fresh_lab,
        setup_b=fresh_baseline,
    )


def bench_simulator(runs: int, sessions: int, work: Path) -> tuple[Pair, float, int]:
    """Simulator (N sessions to spool files) vs writing as many events with no simulation.

    The baseline has DuckDB write the same number of contract events as JSONL, the floor
    for any writer of spool files, so the ratio is the cost of the simulation on top.
    """
    from bench.sim_once import simulate
    from lab import init_lab
    from sample_data.fleet import default_stores

    lab = init_lab(work / "simlab", stores=default_stores())
    events = simulate(lab.root, sessions)["events"]  # also scaffolds prototype + experiment
    floor = work / "floor.jsonl"

    def clean() -> None:
        shutil.rmtree(lab.spool_dir, ignore_errors=True)
        lab.spool_dir.mkdir()

    result = pair(
        f"Simulator: {sessions:,} sessions ({events:,} events) to spool vs DuckDB writing "
        "as many events as JSONL",
        [PY, str(HERE / "sim_once.py"), str(lab.root), str(sessions)],
        [
            PY,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"from bench.run_all import make_events; from pathlib import Path; "
            f"make_events(Path({str(floor)!r}), {events})",
        ],
        runs=runs,
        setup_a=clean,
    )
    return result, sessions / result.a_median_s, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--sessions", type=int, default=50_000)
    parser.add_argument("--only", choices=["startup", "ingest", "simulator"], default=None)
    args = parser.parse_args()
    results: list[Pair] = []
    extra = {}
    with tempfile.TemporaryDirectory(prefix="storelab-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "startup"):
            results.extend(bench_startup(args.runs))
        if args.only in (None, "ingest"):
            results.append(bench_ingest(args.runs, args.events, work))
        if args.only in (None, "simulator"):
            sim, rate, events = bench_simulator(args.runs, args.sessions, work)
            results.append(sim)
            extra["simulator_sessions_per_s"] = round(rate)
            extra["simulator_events_per_s"] = round(rate * events / args.sessions)
    print("| benchmark | ratio (median, min–max) | A median s | B median s | runs |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | **{r.ratio_median:.2f}×** ({r.ratio_min:.2f}–{r.ratio_max:.2f}) "
            f"| {r.a_median_s:.2f} | {r.b_median_s:.2f} | {r.runs} |"
        )
    for k, v in extra.items():
        print(f"\n{k}: {v:,}")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "results.json").write_text(
        json.dumps({"pairs": [r.__dict__ for r in results], **extra}, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
