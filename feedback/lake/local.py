"""The lab's own catalog server (``storelab lake up|down|status``): where it lives, and the
switch of ``storelab.toml`` to lake mode."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedback.lake import server
from lab import StorageSection, write_storage

if TYPE_CHECKING:
    from lab import Lab

CATALOG_DIR = ".lake-catalog"  # in the lab: PostgreSQL's data folder, log and port


def lake_up(lab: Lab, port: int | None = None) -> str:
    """Start (initdb once) the lab's PostgreSQL and point ``[storage]`` at it; returns its URL.

    The lab keeps its ``data_path`` (default ``lake/``). The lake starts empty: what the lab's
    DuckDB file holds stays in that file (switching back to ``kind = "duckdb"`` reads it
    again) until ``storelab lake import`` (``feedback.lake.from_file``) copies it in; the
    spool's files are ingested into the lake afresh (an imported ledger skips them).
    """
    catalog = server.start(lab.root / CATALOG_DIR, port)
    url = catalog.url()
    storage = lab.config.storage
    if storage.kind != "ducklake" or storage.catalog != url:
        write_storage(
            lab, StorageSection(kind="ducklake", catalog=url, data_path=storage.data_path)
        )
    data = lab.config.storage.data_path
    _ignore(
        lab, f"{CATALOG_DIR}/", *([] if data.startswith(("/", "~")) else [f"{data.rstrip('/')}/"])
    )
    return url


def lake_down(lab: Lab) -> bool:
    """Stop the lab's PostgreSQL (catalog and data stay); False when it was not running."""
    return server.stop(lab.root / CATALOG_DIR)


def lake_status(lab: Lab) -> str | None:
    """The URL of the lab's running catalog, or None."""
    running = server.status(lab.root / CATALOG_DIR)
    return running.url() if running else None


def _ignore(lab: Lab, *entries: str) -> None:
    """Keep the catalog and the Parquet files out of the lab's git."""
    path = lab.root / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    missing = [e for e in entries if e not in text.splitlines()]
    if missing:
        path.write_text(text + ("" if text.endswith("\n") or not text else "\n")
                        + "\n".join(missing) + "\n", encoding="utf-8")  # fmt: skip
