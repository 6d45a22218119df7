"""Persistence: SQLAlchemy models, repositories, units of work and Alembic migrations."""
