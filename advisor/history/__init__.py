"""The history database: every recommendation, profile, prediction and real outcome, and the queries over them.

    tables.py      SQLAlchemy 2 tables (``...Table``); the schema itself comes from the alembic migrations
    engine.py      an engine per ``History`` (SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writes)
    migrate.py     ``advisor db upgrade`` and the automatic upgrade on first use
    repository.py  ``advisor.History``: save_*, record_outcome, list, show, compare, export, training_rows
    rows.py        how the pydantic models map onto table rows and back
    comparison.py  compare's errors and aggregates (pure arithmetic over the query's rows)
    training.py    the learned correction's training rows: their query and the base predictions they carry
    export.py      the export table (EXPORT_COLUMNS), CSV / JSON writing, atomic output files
    track.py       ``advisor.track``: time a real job and store its outcome
    session.py     the history as one predict / recommend call opens it, and the correction fitted from it

Nothing here imports the CLI or torch.
"""
