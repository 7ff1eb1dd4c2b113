"""Experiments: spec, assignment, metrics SQL, statistics, power/MDE, analysis and decisions.

Light on import: submodules load numpy, scipy, duckdb and pydantic only where they need them.
"""
