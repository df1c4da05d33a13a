"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks (``initdb`` + ``pg_ctl``).

PostgreSQL refuses to run as root, so as root the cluster is created and started as the
unprivileged ``nobody`` user (through ``runuser``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from attrs import define


def _find(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / tool).exists():
            return str(base / tool)
    raise RuntimeError(
        f"{tool} not found: install PostgreSQL (apt-get install postgresql) or set KEHU_TEST_DATABASE_URL"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@define
class PgCluster:
    """A running throwaway cluster; ``url(db)`` gives a SQLAlchemy URL, ``stop()`` removes it."""

    directory: Path
    port: int
    user: str = "kehu"
    _as_user: list[str] = []

    @classmethod
    def start(cls) -> PgCluster:
        """Create and start a cluster in a new temporary directory."""
        directory = Path(tempfile.mkdtemp(prefix="kehu-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            os.chmod(directory, 0o777)
            as_user = ["runuser", "-u", "nobody", "--"]
        data = directory / "data"
        port = _free_port()
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        subprocess.run(
            [
                *as_user,
                _find("initdb"),
                "-D",
                str(data),
                "-U",
                "kehu",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *as_user,
                _find("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        return cls(directory=directory, port=port, as_user=as_user)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` in this cluster."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its files."""
        subprocess.run(
            [
                *self._as_user,
                _find("pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)
