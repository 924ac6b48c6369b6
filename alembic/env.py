"""Alembic environment for project-filebrowser's local state DB.

Which DB: ``-x db_url=URL``, else ``PROJECT_FILEBROWSER_DB_URL``, else the extension's
default. Called from the extension, a live connection arrives in ``config.attributes``.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from project_filebrowser.store.engine import make_engine, resolve_db_url
from project_filebrowser.store.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)


def _db_url() -> str:
    explicit = context.get_x_argument(as_dictionary=True).get("db_url")
    return explicit or config.get_main_option("sqlalchemy.url") or resolve_db_url(None)


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite's ALTER TABLE is limited: recreate tables instead
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=_db_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Foreign keys off: batch mode drops and recreates tables that others refer to.
    engine = make_engine(_db_url(), foreign_keys=False, immediate=True)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
