"""Experiment read-outs for analysts: HTML report, terminal scorecard, plotly figures, dashboard.

Everything here takes the typed result of ``experiments.analysis.analyze`` (with the spec's
context: ``reports.data.ExperimentReport``), or the pilot's ``experiments.pilot.health``, and
only presents it; no statistics are computed in this package.
Importing ``reports`` is cheap: plotly, streamlit and duckdb are imported inside functions.
"""
