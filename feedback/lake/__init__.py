"""Lake mode: the store as a DuckLake (catalog in PostgreSQL, events as Parquet files).

``catalog`` attaches it to DuckDB and lists its live files, ``server`` runs a local PostgreSQL
for it, ``commands`` is ``storelab lake up|down|status``.
"""
