"""Lake mode against the DuckDB file: ingest throughput, analyze at scale, and Spark local[2].

1. Ingest: the same spool (``--ingest-events`` contract events in 8 JSONL files, taken from
   the scale lab) into a fresh store each run: one ``feedback ingest`` worker into a lake, two
   workers into a lake (4 files each, started together; wall time until both finish), and one
   writer into a DuckDB file. A B C A B C …, whole processes.
2. Analyze: ``experiment analyze bench-pilot --json`` on ``--events`` events (the lab of
   ``bench/scale_lab.py``, cached in ``bench/out``) in a lake (the same rows copied into it)
   against the same on the DuckDB file, paired.
3. Spark: ``experiment analyze bench-pilot --engine spark --master local[2] --json`` on the
   lake against DuckDB's ``--no-timeline --no-breakdowns`` on the lake (Spark computes only
   the analysis), paired; plus one in-process run that splits Spark's start-up from its query.

A throwaway PostgreSQL (``feedback.lake.server``) holds the catalogs. Usage:
    python bench/lake_scale.py --events 10000000 --ingest-events 500000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.analyze_scale import cached_lab  # noqa: E402
from bench.harness import pair, run_measured  # noqa: E402
from bench.scale_lab import EXPERIMENT  # noqa: E402

PY = sys.executable
CLI = str(ROOT / "cli.py")
FILES = 8


def _lake_lab(catalog, source: Path, target: Path) -> Path:
    """A copy of lab ``source``'s settings at ``target``, in lake mode on a fresh catalog."""
    from feedback.lake.server import create_database
    from lab import Lab, StorageSection, write_storage

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("storelab.toml", "stores.csv"):
        shutil.copy(source / name, target / name)
    for folder in ("experiments", "prototypes"):
        if (source / folder).exists():
            shutil.copytree(source / folder, target / folder)
    url = create_database(catalog, f"b_{uuid.uuid4().hex[:12]}")
    write_storage(Lab(target), StorageSection(kind="ducklake", catalog=url, data_path="lake"))
    return target


def _spool(scale_lab: Path, out: Path, events: int) -> Path:
    """``events`` events of the scale lab as contract JSONL in ``FILES`` spool files."""
    import duckdb

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    con = duckdb.connect(str(scale_lab / "storelab.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    per = events // FILES
    for i in range(FILES):
        target = out / f"bench-{i}.jsonl"
        con.execute(
            f"""COPY (SELECT * EXCLUDE (source, ingested_at) FROM events
                      ORDER BY ts, event_id LIMIT {per} OFFSET {i * per})
                TO '{target}' (FORMAT json)"""
        )
    con.close()
    return out


def bench_ingest(catalog, scale_lab: Path, work: Path, events: int, runs: int) -> dict:
    spool = _spool(scale_lab, work / "spool", events)
    halves = [work / "half-0", work / "half-1"]
    for i, half in enumerate(halves):
        half.mkdir(exist_ok=True)
        for f in sorted(spool.glob("*.jsonl"))[i::2]:
            target = half / f.name
            if not target.exists():
                target.hardlink_to(f)  # ingest refuses symlinked spool entries
    times: dict[str, list[float]] = {"lake, 1 worker": [], "lake, 2 workers": [], "file": []}
    for _ in range(runs + 1):  # the first round warms up
        lake = _lake_lab(catalog, scale_lab, work / "ingest-lake")
        one = [PY, CLI, "feedback", "ingest", "--worker", "w1", "--spool", str(spool),
               "--lab", str(lake), "--json"]  # fmt: skip
        t_one = run_measured(one)[0]
        lake = _lake_lab(catalog, scale_lab, work / "ingest-lake")
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    PY,
                    CLI,
                    "feedback",
                    "ingest",
                    "--worker",
                    f"w{i}",
                    "--spool",
                    str(half),
                    "--lab",
                    str(lake),
                    "--json",
                ],  # fmt: skip
                stdout=subprocess.DEVNULL,
            )
            for i, half in enumerate(halves)
        ]
        if any(p.wait() for p in procs):
            raise SystemExit("a worker failed")
        t_two = time.perf_counter() - started
        file_lab = work / "ingest-file"
        if file_lab.exists():
            shutil.rmtree(file_lab)
        file_lab.mkdir()
        for name in ("storelab.toml", "stores.csv"):
            shutil.copy(scale_lab / name, file_lab / name)
        t_file = run_measured(
            [
                PY,
                CLI,
                "feedback",
                "ingest",
                "--spool",
                str(spool),
                "--lab",
                str(file_lab),
                "--json",
            ]  # fmt: skip
        )[0]
        for lab in (lake, file_lab):  # every event stored, once
            stored = _count(lab)
            if stored != events // FILES * FILES:
                raise SystemExit(f"{lab}: {stored} events stored, expected {events}")
        for key, t in zip(times, (t_one, t_two, t_file), strict=True):
            times[key].append(t)
    result = {}
    for key, values in times.items():
        values = values[1:]
        result[key] = {
            "median_s": statistics.median(values),
            "events_per_s": events / statistics.median(values),
        }
    file_s = times["file"][1:]
    for key in ("lake, 1 worker", "lake, 2 workers"):
        ratios = [f / t for t, f in zip(times[key][1:], file_s, strict=True)]
        result[key]["throughput_vs_file"] = statistics.median(ratios)
    return result


def _count(root: Path) -> int:
    from feedback.store import connect
    from lab import Lab

    with connect(Lab(root)) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]


def _check(cmd: list[str]) -> None:
    """Run ``cmd`` once; a failure shows its stderr (the harness hides it)."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")


def copy_into_lake(file_lab: Path, lake: Path) -> float:
    """The file lab's events into the lake's ``events``, in one transaction; seconds."""
    from feedback.store import connect
    from lab import Lab

    started = time.perf_counter()
    with connect(Lab(lake), read_only=False) as con:
        con.execute(f"ATTACH '{file_lab / 'storelab.duckdb'}' AS f (READ_ONLY)")
        con.execute("INSERT INTO events SELECT * FROM f.events")
    return time.perf_counter() - started


def spark_split(lake: Path) -> dict:
    """One in-process Spark run: start-up and query seconds, files read."""
    from experiments.spark import spark_statistics
    from experiments.spec import load_experiment
    from lab import Lab

    lab = Lab(lake)
    _, run = spark_statistics(lab, load_experiment(lab, EXPERIMENT), "local[2]")
    return {"startup_s": run.startup_s, "query_s": run.query_s, "data_files": run.data_files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--ingest-events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spark-runs", type=int, default=1, help="Spark is slow: fewer pairs")
    parser.add_argument("--dir", type=Path, default=HERE / "out")
    parser.add_argument("--skip", default="", help="comma list of: ingest, analyze, spark")
    args = parser.parse_args()
    args.dir = args.dir.resolve()
    skip = set(filter(None, args.skip.split(",")))
    from feedback.lake import server

    args.dir.mkdir(parents=True, exist_ok=True)
    pg = Path(tempfile.mkdtemp(prefix="storelab-bench-pg-"))
    pg.chmod(0o755)
    catalog = server.start(pg / "catalog")
    results: dict = {"events": args.events, "ingest_events": args.ingest_events}
    try:
        scale_lab, n = cached_lab(args.dir, args.events)
        results["events"] = n
        if "ingest" not in skip:
            results["ingest"] = bench_ingest(
                catalog, scale_lab, args.dir / "lake-ingest", args.ingest_events, args.runs
            )
            print(json.dumps(results["ingest"], indent=2), flush=True)
        lake = _lake_lab(catalog, scale_lab, args.dir / f"analyze-lake-{args.events}")
        results["copy_into_lake_s"] = copy_into_lake(scale_lab, lake)
        results["bytes"] = {
            "duckdb_file": (scale_lab / "storelab.duckdb").stat().st_size,
            "lake_parquet": sum(f.stat().st_size for f in (lake / "lake").rglob("*.parquet")),
        }
        analyze = [PY, CLI, "experiment", "analyze", EXPERIMENT, "--json", "--lab"]
        _check(analyze + [str(lake)])
        if "analyze" not in skip:
            p = pair("analyze: lake vs file", analyze + [str(lake)], analyze + [str(scale_lab)],
                     runs=args.runs)  # fmt: skip
            results["analyze"] = p.__dict__
            print(json.dumps(p.__dict__, indent=2), flush=True)
        if "spark" not in skip:
            plain = [*analyze, str(lake), "--no-timeline", "--no-breakdowns"]
            spark = [*analyze, str(lake), "--engine", "spark", "--master", "local[2]"]
            p = pair("spark local[2] vs duckdb, on the lake", spark, plain,
                     runs=args.spark_runs, warmup=0)  # fmt: skip
            results["spark"] = {**p.__dict__, **spark_split(lake)}
            print(json.dumps(results["spark"], indent=2), flush=True)
    finally:
        server.stop(catalog.folder, throwaway=True)
        shutil.rmtree(pg, ignore_errors=True)
    (args.dir / "lake.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
