"""A throwaway PostgreSQL server for the test session (and the store benchmark).

The server runs from Debian's binaries (``/usr/lib/postgresql/*/bin``, or ``initdb`` on
PATH), as an unprivileged user when we are root, with its data in a temporary folder,
listening on 127.0.0.1 on a free port; it is stopped and removed afterwards.
``RESIDENCY_TEST_PG_URL`` names a server to use instead (tests create and drop their
own databases on it). ``make postgres`` installs the binaries.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_URL_ENV = "RESIDENCY_TEST_PG_URL"
SKIP_ENV = "RESIDENCY_SKIP_PG"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


def _bindir() -> Path:
    def version(path: str) -> int:
        name = Path(path).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    msg = "no PostgreSQL server binaries (initdb): run `make postgres` (apt-get install postgresql)"
    raise PostgresUnavailable(msg)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user() -> tuple[list[str], str | None]:
    """Return the command prefix that runs the server unprivileged (the server refuses root)."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"], user
    msg = "running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as"
    raise PostgresUnavailable(msg)


@contextlib.contextmanager
def throwaway_cluster(*, fsync: bool = False) -> Iterator[str]:
    """Start a new PostgreSQL cluster and yield its admin URL; stop and remove it after."""
    bindir = _bindir()
    prefix, user = _as_user()
    folder = Path(tempfile.mkdtemp(prefix="residency-pg-"))
    data = folder / "data"
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            msg = f"{Path(args[0]).name} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"
            raise PostgresUnavailable(msg)

    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder}"
            f" -c fsync={'on' if fsync else 'off'} -c max_connections=60"
        )
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
            "-t", "60", "-o", options, "start")  # fmt: skip
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                 "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def with_database(admin_url: str, name: str) -> str:
    """Return ``admin_url`` naming the database ``name`` instead."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _admin(admin_url: str, sql: str) -> None:
    import psycopg

    url = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def create_database(admin_url: str, name: str) -> str:
    """Create the database ``name`` on the server and return its URL."""
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop the database ``name``, ending any connection still open to it."""
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
