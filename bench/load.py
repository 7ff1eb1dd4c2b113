"""Load on one pilot server: N customers tap through at once; nothing may be lost.

Starts ``storelab prototype run`` (one Streamlit server, as a store would) for the
scan-and-discover template in a fresh lab on 127.0.0.1, then drives N headless chromium pages
(Debian's ``/usr/bin/chromium`` through Playwright, never a downloaded browser) through the
same walk a customer makes: consent, the mission, the two taps of the expected path, continue,
one answer. It counts the taps made against the ``tap`` events stored after the server is
stopped and the spool ingested, and times every click until the page shows its result.

The second part times ``SpoolSink.emit`` (one JSON line, flushed) from several threads: the
cost a customer's tap pays before the page moves on.

Usage: ``python bench/load.py [--customers 10,20] [--appends 20000]``; prints Markdown rows
for bench/README.md. Bounded: every step times out, and the server is stopped in any case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
PROTOTYPE = "scan-and-discover"
STEP_TIMEOUT_MS = 120_000
# The walk: (button key to click, selector that shows the click took effect, is it a prototype
# element whose tap the runtime records as a `tap` event)
WALK = (
    ("sl_consent_yes", ".st-key-sl_start_task", False),
    ("sl_start_task", ".st-key-el_scanbtn__scan__scanner", False),
    ("el_scanbtn__scan__scanner", ".st-key-el_btn__product__to-availability", True),
    ("el_btn__product__to-availability", ".st-key-sl_next", True),
    ("sl_next", ".st-key-sl_scale_6", False),
    ("sl_scale_6", ".st-key-sl_start_task, .st-key-sl_scale_1, .st-key-sl_send", False),
)


@dataclass
class Customers:
    """What the customers did: finished walks, element taps made, click latencies (s)."""

    n: int
    finished: int = 0
    taps: int = 0
    clicks: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _customer(browser, url: str, i: int, out: Customers) -> None:
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    try:
        store = f"S{i % 12 + 1:02d}"
        await page.goto(f"{url}/?prototype={PROTOTYPE}&store={store}&device=phone")
        for key, done, is_tap in WALK:
            button = page.locator(f".st-key-{key} button").first
            await button.wait_for(state="visible", timeout=STEP_TIMEOUT_MS)
            await button.evaluate("e => e.scrollIntoView({block: 'center'})")
            start = time.perf_counter()
            await button.click(timeout=STEP_TIMEOUT_MS)
            if is_tap:
                out.taps += 1
            await page.locator(done).first.wait_for(state="visible", timeout=STEP_TIMEOUT_MS)
            out.clicks.append(time.perf_counter() - start)
        out.finished += 1
    except Exception as exc:  # noqa: BLE001 - a customer who got stuck is a result, not a crash
        out.errors.append(f"customer {i}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def _drive(url: str, n: int) -> tuple[Customers, float]:
    from playwright.async_api import async_playwright

    out = Customers(n)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            start = time.perf_counter()
            await asyncio.gather(*(_customer(browser, url, i, out) for i in range(n)))
            wall = time.perf_counter() - start
        finally:
            await browser.close()
    return out, wall


def _stop(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, OSError):
        pass
    except Exception:  # noqa: BLE001 - make sure it is gone
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _stored_taps(lab) -> tuple[int, int]:
    """(tap events, sessions) stored after ingest; spool files still ``.part`` count too."""
    from feedback.ingest import ingest
    from feedback.store import connect

    ingest(lab)
    with connect(lab) as con:
        taps, sessions = con.execute(
            "SELECT count(*) FILTER (WHERE type = 'tap'), count(DISTINCT session_id) FROM events"
        ).fetchone()
    return int(taps), int(sessions)


def run_customers(n: int, work: Path) -> dict:
    """One server, ``n`` customers at once; the figures for bench/README."""
    from lab import init_lab
    from prototypes.runtime.launch import run_prototype
    from prototypes.scaffold import new_prototype
    from sample_data.fleet import default_stores
    from tests.fixtures import free_port, wait_healthy

    lab = init_lab(work / f"lab-{n}", stores=default_stores())
    new_prototype(lab, PROTOTYPE, PROTOTYPE)
    port = free_port()
    with (work / f"server-{n}.log").open("w") as log:
        proc = run_prototype(lab, PROTOTYPE, port=port, quiet=True, output=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        customers, wall = asyncio.run(_drive(url, n))
    finally:
        _stop(proc)
    taps, sessions = _stored_taps(lab)
    clicks = sorted(customers.clicks)
    return {
        "customers": n,
        "finished": customers.finished,
        "sessions_per_min": round(customers.finished / (wall / 60), 1),
        "click_p50_s": round(statistics.median(clicks), 2) if clicks else None,
        "click_p95_s": round(clicks[int(0.95 * (len(clicks) - 1))], 2) if clicks else None,
        "taps_made": customers.taps,
        "taps_stored": taps,
        "events_lost": customers.taps - taps,
        "sessions_stored": sessions,
        "parts_left": len(list(lab.spool_dir.glob("*.part"))),
        "errors": customers.errors,
    }


def spool_append_latency(appends: int, threads: int, work: Path) -> dict:
    """Per-event ``SpoolSink.emit`` latency (ms) with ``threads`` writers sharing one sink."""
    from feedback.events import Event
    from feedback.sink import SpoolSink

    lab_spool = work / "spool-latency"
    lab_spool.mkdir()
    times: list[float] = []
    lock = threading.Lock()
    per_thread = appends // threads

    def writer(sink: SpoolSink, k: int) -> None:
        mine = []
        for j in range(per_thread):
            event = Event(
                session_id=f"00000000-0000-4000-8000-{k * per_thread + j:012d}",
                prototype_id=PROTOTYPE, prototype_version=1, variant="control", store_id="S01",
                device="phone", type="tap", screen="product", element="to-availability",
                x=0.5, y=0.5,
            )  # fmt: skip
            start = time.perf_counter()
            sink.emit(event)
            mine.append(time.perf_counter() - start)
        with lock:
            times.extend(mine)

    with SpoolSink(lab_spool) as sink:
        pool = [threading.Thread(target=writer, args=(sink, k)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    ms = sorted(t * 1000 for t in times)
    return {
        "appends": len(ms),
        "threads": threads,
        "p50_ms": round(ms[len(ms) // 2], 3),
        "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 3),
        "max_ms": round(ms[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", default="10,20", help="comma-separated N to run")
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
    results = {"customers": [], "spool": None}
    with tempfile.TemporaryDirectory(prefix="storelab-load-") as tmp:
        work = Path(tmp)
        for n in (int(x) for x in args.customers.split(",")):
            results["customers"].append(run_customers(n, work))
        results["spool"] = spool_append_latency(args.appends, args.threads, work)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("| customers | finished | sessions/min | click p50 s | click p95 s | taps made | "
          "taps stored | events lost | .part left |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results["customers"]:
        print(f"| {r['customers']} | {r['finished']} | {r['sessions_per_min']} | "
              f"{r['click_p50_s']} | {r['click_p95_s']} | {r['taps_made']} | "
              f"{r['taps_stored']} | **{r['events_lost']}** | {r['parts_left']} |")  # fmt: skip
        for err in r["errors"]:
            print(f"  - {err}")
    s = results["spool"]
    print(f"\nspool append ({s['appends']:,} events, {s['threads']} threads): "
          f"p50 {s['p50_ms']} ms, p99 **{s['p99_ms']} ms**, max {s['max_ms']} ms")  # fmt: skip


if __name__ == "__main__":
    main()
