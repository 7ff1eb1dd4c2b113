"""``experiment analyze --engine spark``: the same statistics from Spark on the lake's files.

The Spark test needs Java (Debian's openjdk-17-jre-headless) and pyspark (``storelab[spark]``);
without them it is skipped with the reason, except in CI (``STORELAB_REQUIRE_LAKE=1``), which
installs both.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from cli import app
from experiments.metrics import sufficient_statistics_sql
from experiments.spark import spark_sql
from feedback.catalogue import CATALOGUE, Catalogue
from feedback.custom_measures import custom_metric
from tests.conftest import REQUIRE_LAKE
from tests.test_lake import _assert_close

runner = CliRunner()
EXPERIMENT = "scan-and-discover-pilot"


def _need_spark() -> None:
    import importlib.util

    missing = []
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing.append("Java 17 (apt-get install openjdk-17-jre-headless)")
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install 'storelab[spark]')")
    if missing:
        if os.environ.get(REQUIRE_LAKE):
            pytest.fail(f"the Spark test needs {' and '.join(missing)}")
        pytest.skip(f"the Spark test needs {' and '.join(missing)}")


@pytest.mark.parametrize("own", [(), ("goal:reserved", "question:layout.b", "question:stars")])
def test_the_metric_sql_is_translated_completely_for_spark(own):
    """Also with a spec's own goal:/question: metrics (their SQL is built from the name)."""
    metrics = {**CATALOGUE.metrics, **{m: custom_metric(m) for m in own}}
    catalogue = Catalogue(instruments=dict(CATALOGUE.instruments), metrics=metrics)
    text = spark_sql(sufficient_statistics_sql(catalogue))
    for duckdb_only in ("NOT MATERIALIZED", "arg_min(", "arg_max(", "list_contains(",
                        "unnest(", "json_extract_string(", "AS VARCHAR)", "fsum(",
                        "date_diff(", "AS UUID)", " MATERIALIZED"):  # fmt: skip
        assert duckdb_only not in text


def test_spark_on_a_lab_without_a_lake_is_one_clear_line(lab):
    result = runner.invoke(
        app, ["experiment", "analyze", "x", "--engine", "spark", "--lab", str(lab.root)]
    )
    assert result.exit_code != 0
    assert "lake mode (storelab lake up)" in result.output


def test_an_unknown_engine_is_refused(lab):
    result = runner.invoke(
        app, ["experiment", "analyze", "x", "--engine", "trino", "--lab", str(lab.root)]
    )
    assert result.exit_code != 0 and "--engine must be duckdb or spark" in result.output


@pytest.mark.lake
@pytest.mark.spark
def test_spark_analysis_equals_duckdb_on_the_live_files_after_a_delete(lake_lab):
    _need_spark()
    root = str(lake_lab.root)
    args = ["sample", "generate", "--sessions", "400", "--lab", root, "--json"]
    assert runner.invoke(app, args).exit_code == 0
    # Rows deleted from the lake (as retention would) live on in their Parquet file, listed
    # in a delete file: Spark must leave them out as DuckDB does.
    from feedback.lake.catalog import live_files
    from feedback.store import connect

    with connect(lake_lab, read_only=False) as con:
        deleted = con.execute("DELETE FROM events WHERE store_id = 'S01'").fetchone()[0]
        assert deleted > 0 and live_files(con, "events")[1], "the delete left no delete file"

    def analyze(*extra: str) -> dict:
        out = runner.invoke(
            app, ["experiment", "analyze", EXPERIMENT, "--lab", root, "--json", *extra]
        )
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    on_duckdb = analyze("--no-timeline", "--no-breakdowns")
    on_spark = analyze("--engine", "spark", "--master", "local[2]")
    _assert_close(on_spark, on_duckdb)  # with S01's deleted rows counted, sessions differ


@pytest.mark.lake
@pytest.mark.spark
def test_spark_counts_a_journey_across_devices_as_one_unit_as_duckdb_does(lake_lab, monkeypatch):
    """The journey id (text in props) joins Spark's 16-byte session ids like DuckDB's UUIDs."""
    _need_spark()
    from feedback.ingest import ingest
    from sample_data.journeys import simulate_handover_journeys
    from tests.fixtures import arms_experiment_lab

    lab = arms_experiment_lab(lake_lab, monkeypatch)
    truth = simulate_handover_journeys(lab, "hello-kiosk", journeys=30, continue_share=1.0, seed=2)
    assert ingest(lab).rejected == 0
    root = str(lab.root)

    def analyze(*extra: str) -> dict:
        out = runner.invoke(app, ["experiment", "analyze", "arms", "--lab", root, "--json", *extra])
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    on_duckdb = analyze("--no-timeline", "--no-breakdowns")
    on_spark = analyze("--engine", "spark", "--master", "local[2]")
    _assert_close(on_spark, on_duckdb)
    # 60 sessions, one unit per journey, in both engines
    assert on_duckdb["srm"]["sessions"] == on_spark["srm"]["sessions"] == truth.by_variant
