"""What goes into the store besides events, and what comes out: store KPIs in, events out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from errors import InvalidInputError
from feedback.ingest import EXAMPLES_PER_FILE
from feedback.ingest_files import csv_rows_problem
from feedback.lake.catalog import write_transaction
from feedback.store import connect, sql_literal
from feedback.writers import writer_lock

if TYPE_CHECKING:
    from lab import Lab


def import_kpis(lab: Lab, csv_path: Path) -> dict:
    """Load daily store KPIs (``store_id,date,metric,value``); later values replace earlier ones.

    Bad rows are reported with their line numbers and skipped; good rows are kept.
    """

    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise InvalidInputError(f"{csv_path} does not exist.")
    if problem := csv_rows_problem(csv_path):
        raise InvalidInputError(problem)
    reader = f"read_csv({sql_literal(str(csv_path))}, all_varchar=true, header=true)"
    with writer_lock(lab), connect(lab, read_only=False) as con:
        try:
            columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        except Exception as exc:  # noqa: BLE001
            raise InvalidInputError(f"{csv_path}: cannot read as CSV: {exc}") from exc
        expected = ["store_id", "date", "metric", "value"]
        if sorted(columns) != sorted(expected):
            raise InvalidInputError(
                f"{csv_path}: columns are {', '.join(columns)}; expected exactly "
                f"{','.join(expected)}. Nothing was imported."
            )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE kpi_staged AS
            SELECT row_number() OVER () + 1 AS lineno, store_id,
                TRY_CAST(date AS DATE) AS date, metric, TRY_CAST("value" AS DOUBLE) AS "value",
                CASE WHEN store_id IS NULL THEN 'store_id is empty'
                     WHEN TRY_CAST(date AS DATE) IS NULL THEN 'date is not YYYY-MM-DD: ' || date
                     WHEN metric IS NULL THEN 'metric is empty'
                     WHEN TRY_CAST("value" AS DOUBLE) IS NULL THEN 'value is not a number'
                END AS reason
            FROM {reader}"""
        )

        def replace() -> int:
            # Delete, then insert: a DuckLake has no key for INSERT OR REPLACE.
            con.execute(
                """DELETE FROM store_kpis WHERE (store_id, date, metric) IN (
                       SELECT (store_id, date, metric) FROM kpi_staged WHERE reason IS NULL)"""
            )
            return con.execute(
                """INSERT INTO store_kpis
                   SELECT store_id, date, metric, "value" FROM kpi_staged WHERE reason IS NULL
                   QUALIFY row_number() OVER (
                       PARTITION BY store_id, date, metric ORDER BY lineno DESC) = 1"""
            ).fetchone()[0]

        lake = lab.config.storage.kind == "ducklake"
        imported = write_transaction(con, replace, lake=lake)
        bad = con.execute(
            "SELECT lineno, reason FROM kpi_staged WHERE reason IS NOT NULL ORDER BY lineno"
        ).fetchall()
        con.execute("DROP TABLE kpi_staged")
    return {
        "imported": imported,
        "rejected": len(bad),
        "examples": [f"line {n}: {r}" for n, r in bad[:EXAMPLES_PER_FILE]],
    }


def export(lab: Lab, fmt: str, out: Path | None = None) -> Path:
    """Write all stored events to one Parquet or CSV file and return its path."""

    if fmt not in ("parquet", "csv"):
        raise InvalidInputError(f"format must be parquet or csv, not {fmt!r}.")
    out = Path(out) if out else lab.root / "exports" / f"events.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    target = sql_literal(str(out))
    with connect(lab) as con:
        con.execute(f"COPY (SELECT * FROM events ORDER BY ts, event_id) TO {target} (FORMAT {fmt})")
    return out
