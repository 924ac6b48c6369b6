"""``project-filebrowser cloud ...``: run the Projects service and manage its users.

Attach :data:`cloud` to the main click group, or run ``python -m project_cloud.cli``.
Exit status: 0 success, 1 a failure explained in one line, 2 bad usage.

``--db`` and ``--storage`` default to ``cloud.db`` and ``blobs/`` in a data folder: the
one the host command puts in ``ctx.meta[DATA_DIR_KEY]`` when it mounts this group (the
``project-filebrowser`` command gives its own, as its contract says), else the service's
own default, :func:`~.server.default_data_dir`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .blobs import BlobStore
from .core import DEFAULT_MAX_FILE_SIZE
from .db import create_db_engine, upgrade
from .errors import Conflict, NotFound, ServiceError
from .gc import DEFAULT_GRACE, collect
from .retention import DEFAULT_KEEP_DAYS
from .server import (
    GC_INTERVAL_SECONDS,
    CloudServer,
    default_data_dir,
    default_db_url,
    default_storage_url,
)
from .service import CloudService

_SIZE_RE = re.compile(r"^\s*([0-9]+)\s*(?:([kmgt])(i?))?b?\s*$", re.IGNORECASE)


class ByteSize(click.ParamType):
    """``1048576``, ``512MiB`` (x1024), ``2GB`` (x1000), ``100k`` ..."""

    name = "size"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE_RE.match(str(value))
        if not match:
            self.fail(f"{value!r} is not a size (e.g. 1048576, 512MiB, 5GiB)", param, ctx)
        number, prefix, binary = match.groups()
        if not prefix:
            return int(number)
        base = 1024 if binary else 1000
        return int(number) * base ** ("kmgt".index(prefix.lower()) + 1)


DATA_DIR_KEY = "project_cloud.data_dir"  # ctx.meta: the host command's data folder


def _data_dir() -> Path:
    """The host command's data folder, else the service's own default."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(DATA_DIR_KEY) if ctx is not None else None
    return Path(given) if given is not None else default_data_dir()


def _default_db() -> str:
    return default_db_url(_data_dir())


def _default_storage() -> str:
    return default_storage_url(_data_dir())


def _service(db_url: str) -> CloudService:
    engine = create_db_engine(db_url)
    upgrade(engine)
    return CloudService(engine, blobs=None)  # user management needs no blob store


@click.group(
    name="cloud",
    help="Run the cloud Projects service and manage its users. The data folder (--db and "
    "--storage defaults) is the host command's (project-filebrowser cloud: <jupyter data "
    "dir>/project_filebrowser/cloud), else <jupyter data dir>/project_cloud.",
)
def cloud() -> None:
    pass


DB_HELP = "Metadata DB URL (default: sqlite, cloud.db in the data folder)."
STORAGE_HELP = "Blob store: a folder or an fsspec URL (default: blobs/ in the data folder)."
KEEP_DAYS_HELP = (
    "Keep every revision this many days, then one a day for 90 days, then one a week "
    "(heads, checkpoints and deleted files' last versions always); 0: keep everything."
)


def _keep_days_option() -> Any:
    return click.option(
        "--keep-days",
        type=click.IntRange(min=0),
        default=DEFAULT_KEEP_DAYS,
        show_default=True,
        help=KEEP_DAYS_HELP,
    )


@cloud.command(help="Run the Projects service until interrupted.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port; the chosen one is printed).",
)
@click.option("--db", "db_url", default=None, help=DB_HELP)
@click.option("--storage", "storage_url", default=None, help=STORAGE_HELP)
@_keep_days_option()
@click.option(
    "--gc-interval",
    type=click.FloatRange(min=1),
    default=GC_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds between retention and garbage collection runs (the first 5 min after start).",
)
@click.option(
    "--max-file-size",
    type=ByteSize(),
    default=DEFAULT_MAX_FILE_SIZE,
    show_default=True,
    help="Largest accepted file, bytes or e.g. 5GiB.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def serve(
    host: str,
    port: int,
    db_url: str | None,
    storage_url: str | None,
    keep_days: int,
    gc_interval: float,
    max_file_size: int,
    log_level: str,
) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    if log_level.upper() != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)

    async def main() -> None:
        try:
            server = CloudServer(
                db_url or _default_db(),
                storage_url or _default_storage(),
                max_file_size,
                keep_days=keep_days,
                gc_interval=gc_interval,
            )
            bound = await server.start(host, port)
        except OSError as exc:
            raise click.ClickException(f"cannot serve on {host}:{port}: {exc}") from None
        except Exception as exc:
            raise click.ClickException(f"cannot start the Projects service: {exc}") from None
        click.echo(f"Projects service listening on {server.url}/api/v1 (port {bound})")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(main())


@cloud.command(name="add-user", help="Create a user; prints a token as the last line.")
@click.argument("name")
@click.option(
    "--password",
    default=None,
    help="Password for POST /auth/token (default: none usable; use the token).",
)
@click.option("--db", "db_url", default=None, help=DB_HELP)
def add_user(name: str, password: str | None, db_url: str | None) -> None:
    try:
        service = _service(db_url or _default_db())
        service.create_user(name, password)
        token = service.issue_token(name, label="cli")
    except Conflict:
        raise click.ClickException(f"user {name!r} already exists") from None
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    except Exception as exc:
        raise click.ClickException(f"cannot add the user: {exc}") from None
    click.echo(f"Created user {name}.")
    click.echo(token)


@cloud.command(name="token", help="Issue a new token for an existing user (last line).")
@click.argument("name")
@click.option("--db", "db_url", default=None, help=DB_HELP)
def token(name: str, db_url: str | None) -> None:
    try:
        service = _service(db_url or _default_db())
        value = service.issue_token(name, label="cli")
    except NotFound:
        raise click.ClickException(f"no user {name!r}") from None
    except Exception as exc:
        raise click.ClickException(f"cannot issue a token: {exc}") from None
    click.echo(value)


@cloud.command(
    name="gc",
    help="Thin old revisions and remove the blobs no revision refers to, once; prints what "
    "it removed. A blob is removed by a run at least --grace-minutes after the run that "
    "first found it unreferenced.",
)
@click.option("--db", "db_url", default=None, help=DB_HELP)
@click.option("--storage", "storage_url", default=None, help=STORAGE_HELP)
@_keep_days_option()
@click.option(
    "--grace-minutes",
    type=click.FloatRange(min=0),
    default=DEFAULT_GRACE.total_seconds() / 60,
    show_default=True,
    help="How long a blob stays unreferenced before it is removed.",
)
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def gc(
    db_url: str | None,
    storage_url: str | None,
    keep_days: int,
    grace_minutes: float,
    dry_run: bool,
) -> None:
    try:
        engine = create_db_engine(db_url or _default_db())
        upgrade(engine)
        service = CloudService(engine, BlobStore(storage_url or _default_storage()))
        report = collect(
            service.core,
            keep_days=keep_days,
            grace=dt.timedelta(minutes=grace_minutes),
            dry_run=dry_run,
        )
        engine.dispose()
    except Exception as exc:
        raise click.ClickException(f"cannot collect garbage: {exc}") from None
    what = "Would remove" if dry_run else "Removed"
    click.echo(f"{what} {report.revisions} revisions (keeping {keep_days or 'all'} days).")
    click.echo(f"{what} {report.blobs} blobs and {report.packs} packs, {report.bytes_freed} bytes.")
    if dry_run:
        click.echo(f"{report.unreferenced} blobs are unreferenced.")
    else:
        click.echo(f"{report.marked} blobs newly found unreferenced (removed by a later run).")


def main() -> None:
    cloud(prog_name="project-filebrowser cloud")


if __name__ == "__main__":
    main()
