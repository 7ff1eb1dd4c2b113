"""Experiment read-outs for analysts: HTML report, terminal scorecard, plotly figures, dashboard.

Everything here takes the dict that ``experiments.analysis.analyze`` returns (DESIGN.md's
``analyze --json`` shape) and only presents it; no statistics are computed in this package.
Importing ``reports`` is cheap: plotly, streamlit and duckdb are imported inside functions.
"""
