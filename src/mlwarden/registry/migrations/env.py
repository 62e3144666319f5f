"""Alembic environment: the registry passes an open connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from mlwarden.registry.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the registry runs these migrations
    raise RuntimeError("mlwarden registry migrations run through mlwarden.registry.db.upgrade()")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
