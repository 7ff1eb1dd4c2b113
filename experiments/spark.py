"""The analysis' sufficient statistics on Spark: ``experiment analyze ID --engine spark``.

Spark reads the lake's live Parquet files, whose list comes from the DuckLake catalog
(``feedback.lake.catalog.live_files``), and runs the very SQL text of
``experiments.metrics.sufficient_statistics_sql``, translated by ``spark_sql`` below (the one
place where the two dialects meet). The rows go through the same ``read_statistics`` and the
same statistics as DuckDB's; results agree to 1e-9 (``tests/test_spark.py``).

Dialect differences, all handled here:
  DuckDB                               Spark SQL
  ``AS NOT MATERIALIZED (`` CTE hint   ``AS (`` (no hint; also ``AS MATERIALIZED (``)
  ``TRY_CAST(… journey … AS UUID)``    ``unhex(replace(…, '-', ''))`` (session_id is 16 bytes)
  ``list_contains(json_extract_string(props, '$.goals[*]'), g)``
                                       ``array_contains(from_json(get_json_object(props,
                                       '$.goals'), 'array<string>'), g)`` (goal metrics)
  ``arg_min`` / ``arg_max``            ``min_by`` / ``max_by``
  ``list_contains(list, x)``           ``array_contains(array, x)``
  ``unnest(a) AS x, unnest(b) AS y``   ``inline(arrays_zip(a, b)) AS (x, y)``
  ``json_extract_string``              ``get_json_object``
  ``CAST(… AS VARCHAR)``               ``CAST(… AS STRING)``
  ``fsum`` (compensated sum)           ``sum`` (differs in the last bits only)
  ``date_diff('millisecond', a, b)``   ``timestampdiff(MILLISECOND, a, b)``
  ``TIMESTAMPTZ '…'``, ``[a, b]``      ``TIMESTAMP '…'``, ``array(a, b)`` (``spark_literal``)
  ``"value"`` (quoted identifier)      the same, with ``spark.sql.ansi.doubleQuotedIdentifiers``
Parquet: DuckDB writes UUIDs with Parquet's UUID type, which Spark cannot infer; Spark reads
the columns the SQL needs with the explicit ``EVENTS_SCHEMA`` (``session_id`` as 16 bytes,
which groups and joins like the UUID). Only the analysis runs on Spark: the timeline and the
breakdowns (local days in a time zone) stay DuckDB's.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from errors import InvalidInputError
from experiments.measures import catalogue_for
from experiments.metrics import (
    MetricData,
    query_parameters,
    read_statistics,
    render,
    sufficient_statistics_sql,
)
from feedback.store import sql_literal

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec
    from lab import Lab

DEFAULT_MASTER = "local[2]"
# The columns of ``events`` the metric SQL reads, as Spark reads them from the Parquet files.
EVENTS_SCHEMA = (
    "session_id BINARY, ts TIMESTAMP, experiment_id STRING, variant STRING, store_id STRING, "
    "device STRING, type STRING, screen STRING, element STRING, task STRING, "
    "question STRING, `value` DOUBLE, props STRING"
)
# (DuckDB text, Spark text): applied in order to the metric SQL; see the module's table.
_DIALECT: tuple[tuple[str, str], ...] = (
    (" AS NOT MATERIALIZED (", " AS ("),
    (" AS MATERIALIZED (", " AS ("),
    (  # a journey id (text) as the 16 bytes Spark reads session_id as
        "TRY_CAST(arg_min(json_extract_string(props, '$.journey'), ts) AS UUID)",
        "unhex(replace(min_by(get_json_object(props, '$.journey'), ts), '-', ''))",
    ),
    (  # a goal metric (feedback.custom_measures.goal_sql): the list of goals an event reached
        "list_contains(json_extract_string(props, '$.goals[*]'), ",
        "array_contains(from_json(get_json_object(props, '$.goals'), 'array<string>'), ",
    ),
    ("arg_min(", "min_by("),
    ("arg_max(", "max_by("),
    ("list_contains(", "array_contains("),
    (
        "unnest($assigned_stores) AS store_id, unnest($assigned_variants) AS assigned",
        "inline(arrays_zip($assigned_stores, $assigned_variants)) AS (store_id, assigned)",
    ),
    ("json_extract_string(", "get_json_object("),
    (" AS VARCHAR)", " AS STRING)"),
    ("fsum(", "sum("),
    ("date_diff('millisecond', ", "timestampdiff(MILLISECOND, "),
)


def spark_sql(duckdb_sql: str) -> str:
    """The metric SQL in Spark's dialect (the module's table); every rule must apply."""
    text = duckdb_sql
    for old, new in _DIALECT:
        text = text.replace(old, new)
    return text


def spark_literal(value: object) -> str:
    """A query parameter as a Spark SQL literal (``metrics.sql_value``'s twin)."""
    if isinstance(value, bool | int | str):
        return sql_literal(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, datetime):  # Spark's TIMESTAMP is an instant, like TIMESTAMPTZ
        return f"TIMESTAMP {sql_literal(value.isoformat())}"
    if isinstance(value, date):
        return f"DATE {sql_literal(value.isoformat())}"
    if isinstance(value, list | tuple) and value:
        return "array(" + ", ".join(spark_literal(v) for v in value) + ")"
    raise TypeError(f"no Spark SQL literal for {value!r}")


@dataclass(frozen=True)
class SparkRun:
    """What a Spark analysis measured: its start-up and query seconds, and what it read."""

    startup_s: float
    query_s: float
    data_files: int
    delete_files: int


def check_spark() -> None:
    """pyspark and Java are there, or one clear line saying how to get them."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise InvalidInputError(
            "--engine spark needs pyspark: pip install 'storelab[spark]' (and Java 17: "
            "apt-get install openjdk-17-jre-headless)."
        )
    java_home = os.environ.get("JAVA_HOME")
    if not (shutil.which("java") or (java_home and os.path.exists(f"{java_home}/bin/java"))):
        raise InvalidInputError(
            "--engine spark needs Java 17: apt-get install openjdk-17-jre-headless "
            "(or set JAVA_HOME)."
        )


def require_lake(lab: Lab) -> None:
    """Spark reads a lake's Parquet files: a lab with a DuckDB file gets one clear line."""
    if lab.config.storage.kind != "ducklake":
        raise InvalidInputError(
            "--engine spark reads a lake's Parquet files, and this lab keeps its events in "
            f"{lab.db_path.name}. Switch it to lake mode (storelab lake up) and ingest there."
        )


def spark_statistics(
    lab: Lab, spec: ExperimentSpec, master: str | None = None
) -> tuple[MetricData, SparkRun]:
    """The sufficient statistics of ``spec``, computed by Spark on the lake's live files."""
    from feedback.lake.catalog import live_files
    from feedback.store import connect

    require_lake(lab)
    check_spark()
    with connect(lab) as con:  # the file list of one snapshot
        data_files, delete_files = live_files(con, "events")
    started = time.monotonic()
    spark = _session(master or DEFAULT_MASTER)
    startup = time.monotonic() - started
    try:
        started = time.monotonic()
        _register_events(spark, data_files, delete_files)
        catalogue = catalogue_for(spec)  # the catalogue plus the spec's goal:/question: metrics
        sql = render(spark_sql(sufficient_statistics_sql(catalogue)), query_parameters(spec),
                     spark_literal)  # fmt: skip
        rows = [tuple(row) for row in spark.sql(sql).collect()]
        query = time.monotonic() - started
    finally:
        spark.stop()
    data, _ = read_statistics(rows, catalogue=catalogue)
    return data, SparkRun(startup, query, len(data_files), len(delete_files))


def _session(master: str):
    with warnings.catch_warnings():  # pyspark warns about pandas 3, which it does not use here
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master)
            .appName("storelab analyze")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.ansi.doubleQuotedIdentifiers", "true")
            .config("spark.sql.session.timeZone", "UTC")
        )
        local = re.fullmatch(r"local\[(\d+)\]", master)
        if local:  # one shuffle partition per core, not Spark's 200 (cluster default stays)
            builder = builder.config("spark.sql.shuffle.partitions", local.group(1))
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _register_events(spark, data_files: list[str], delete_files: list[str]) -> None:
    """The view ``events``: the live data files minus the rows their delete files name."""
    from pyspark.sql import functions as F

    if not data_files:  # an empty lake: an empty view with the same columns
        spark.createDataFrame([], EVENTS_SCHEMA).createOrReplaceTempView("events")
        return
    events = spark.read.schema(EVENTS_SCHEMA).parquet(*data_files)
    if delete_files:
        # A delete file lists (file_path, pos) of deleted rows; pos is the row's index in its
        # data file, which Spark gives as _metadata.row_index.
        deleted = spark.read.schema("file_path STRING, pos BIGINT").parquet(*delete_files)
        plain = F.regexp_replace(F.col("_metadata.file_path"), "^file:(//)?", "")
        events = events.select(
            "*", plain.alias("_file"), F.col("_metadata.row_index").alias("_row")
        )
        deleted = deleted.select(
            F.regexp_replace("file_path", "^file:(//)?", "").alias("_file"),
            F.col("pos").alias("_row"),
        )
        events = events.join(deleted, ["_file", "_row"], "left_anti").drop("_file", "_row")
    events.createOrReplaceTempView("events")
