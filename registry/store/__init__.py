"""SQLAlchemy models, the engine and session, queries, and Alembic migrations."""
