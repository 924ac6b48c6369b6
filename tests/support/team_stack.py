"""The team stack of the cloud tests: a real PostgreSQL and an S3-compatible server on
loopback, started (and stopped) by the tests.

* PostgreSQL: ``PROJECT_CLOUD_TEST_PG_URL`` (a SQLAlchemy URL of a server whose user may
  create databases) if set; otherwise a throwaway cluster made with ``initdb``/``pg_ctl``
  found on ``PATH``, in ``/usr/local/bin`` or under ``/usr/lib/postgresql/<v>/bin``
  (Debian's ``postgresql`` package), run as the ``postgres`` user when we are root, on
  127.0.0.1 and a free port. Each test session gets its own database in it.
* S3: ``PROJECT_CLOUD_TEST_S3_ENDPOINT`` (``http://host:port`` of an S3 server taking the
  credentials in ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) if set; otherwise moto's
  server mode (``moto[server]`` from PyPI) in a subprocess on 127.0.0.1 and a free port.
  Each session gets its own bucket.

When a part cannot be had, :func:`unavailable` skips with the reason - or fails, when
``PFB_REQUIRE_TEAM_STACK=1`` (CI sets it, so the team stack can never silently not run).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

from support.polling import eventually
from support.ports import free_port

PG_BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
S3_KEY, S3_SECRET, S3_REGION = "testing", "testing", "us-east-1"


def require_team_stack() -> bool:
    return os.environ.get("PFB_REQUIRE_TEAM_STACK", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip (locally) or fail (``PFB_REQUIRE_TEAM_STACK=1``) a test needing the team stack."""
    if require_team_stack():
        pytest.fail(f"team stack required (PFB_REQUIRE_TEAM_STACK=1) but {reason}", False)
    pytest.skip(f"team stack unavailable: {reason}")


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, in /usr/local/bin, or Debian's newest version."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in PG_BIN_DIRS:
        root, _, rest = pattern.partition("*")
        candidates = (
            sorted(Path(root).glob("*" + rest), key=_version_key, reverse=True)
            if rest or pattern.endswith("*")
            else [Path(pattern)]
        )
        for base in candidates:
            if (base / name).is_file() and os.access(base / name, os.X_OK):
                return str(base / name)
    return None


def _version_key(path: Path) -> tuple[int, ...]:
    parts = [p for p in path.parts if p.replace(".", "").isdigit()]
    return tuple(int(x) for x in parts[-1].split(".")) if parts else (0,)


# --- PostgreSQL ---------------------------------------------------------------------------


@dataclass
class PostgresCluster:
    """A throwaway PostgreSQL cluster (``url`` is its ``postgres`` database)."""

    url: str
    data: Path | None = None
    pg_ctl: str | None = None
    prefix: list[str] = field(default_factory=list)
    tmp: Path | None = None

    @classmethod
    def start(cls) -> PostgresCluster:
        """Start a cluster; raises :class:`RuntimeError` saying why it cannot."""
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError(
                "no PostgreSQL server binaries (initdb, pg_ctl) on PATH, in /usr/local/bin "
                "or /usr/lib/postgresql/*/bin; install Debian's 'postgresql' package"
            )
        prefix: list[str] = []
        owner: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            owner = "postgres"
            try:
                pwd.getpwnam(owner)
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user") from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root without runuser")
            prefix = [runuser, "-u", owner, "--"]
        tmp = Path(tempfile.mkdtemp(prefix="pfb-pg-"))
        if owner:
            shutil.chown(tmp, owner)
        port = free_port()
        data = tmp / "data"
        try:
            subprocess.run(
                [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                check=True,
                capture_output=True,
                timeout=120,
            )
            options = (
                f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            subprocess.run(
                [
                    *prefix,
                    pg_ctl,
                    "-D",
                    str(data),
                    "-l",
                    str(tmp / "log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        except subprocess.CalledProcessError as exc:
            log = (tmp / "log").read_text(errors="replace") if (tmp / "log").exists() else ""
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(
                f"cannot start PostgreSQL: {exc}: {exc.stderr!r} {log[-2000:]}"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"cannot start PostgreSQL: {exc}") from None
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        return cls(url=url, data=data, pg_ctl=pg_ctl, prefix=prefix, tmp=tmp)

    def stop(self) -> None:
        if self.data is not None and self.pg_ctl is not None:
            subprocess.run(
                [*self.prefix, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=120,
            )
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        return create_database(self.url)


def create_database(server_url: str) -> str:
    """``CREATE DATABASE`` a fresh one on the server of ``server_url``; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pfb_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    finally:
        engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    engine = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server we may create databases on (env or our own)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (the 'postgres' extra)")
    url = os.environ.get("PROJECT_CLOUD_TEST_PG_URL")
    if url:
        yield url
        return
    try:
        cluster = PostgresCluster.start()
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        yield cluster.url
    finally:
        cluster.stop()


# --- S3 -----------------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint: str
    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls) -> S3Server:
        """moto's server mode on 127.0.0.1; raises :class:`RuntimeError` saying why not."""
        try:
            import moto.server  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "moto[server] is not installed (pip install 'moto[server]')"
            ) from None
        port = free_port()
        env = s3_env(dict(os.environ))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from moto.server import main; main()",
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )

        def listening() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with status {proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                return True
            return False

        try:
            eventually(listening, 60, 0.1, what="moto_server to listen")
        except AssertionError:
            proc.kill()
            raise RuntimeError("moto_server did not listen within 60 s") from None
        return cls(f"http://127.0.0.1:{port}", proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def s3_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for talking to a plain-http S3 on loopback: test credentials unless some are
    set, and no ``AWS_CA_BUNDLE`` (which breaks plain-http clients)."""
    env.pop("AWS_CA_BUNDLE", None)
    env.setdefault("AWS_ACCESS_KEY_ID", S3_KEY)
    env.setdefault("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    env.setdefault("AWS_DEFAULT_REGION", S3_REGION)
    return env


@contextlib.contextmanager
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The endpoint URL of an S3 server (env or moto), with this process's environment set
    up for it (through ``monkeypatch``)."""
    try:
        import s3fs  # noqa: F401
    except ImportError:
        unavailable("s3fs is not installed (the 's3' extra)")
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    for key, value in s3_env({}).items():
        if key not in os.environ:
            monkeypatch.setenv(key, value)
    endpoint = os.environ.get("PROJECT_CLOUD_TEST_S3_ENDPOINT")
    if endpoint:
        yield endpoint.rstrip("/")
        return
    try:
        server = S3Server.start()
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        yield server.endpoint
    finally:
        server.stop()


def create_bucket(endpoint: str, prefix: str = "pfb") -> str:
    """A new bucket on ``endpoint``; returns its ``s3://bucket`` URL with the endpoint."""
    import s3fs

    bucket = f"{prefix}-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
    fs.mkdir(bucket)
    return f"s3://{bucket}/blobs?endpoint_url={endpoint}"
