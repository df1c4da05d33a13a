"""Run pytest in a child forked from a process that has already imported the libraries.

Mutation testing runs the same short test command once per mutant, and most of each run went
on importing pandas, statsforecast, SQLAlchemy and pytest itself (about four seconds, as
loading every kehu plugin imports the forecast libraries). ``serve`` imports those libraries
once and waits on a Unix socket; for each request it forks, and the child runs ``pytest.main``
with the request's arguments, working directory and environment, writing to the caller's own
standard streams (passed over the socket). Nothing of kehu is imported before the fork, so
every child imports kehu, its plugins and the mutated module afresh from the files on disk.

``run`` is the test command's side: it sends its arguments and streams, waits, and exits with
pytest's exit code. When it is killed (cosmic-ray's timeout), the server kills the child and
everything it started.

Usage (``tools/mutation.py`` does this)::

    python tools/preloaded_pytest.py serve /tmp/x/socket &     # or: serve SOCKET MODULE... to preload those
    python tools/preloaded_pytest.py run /tmp/x/socket -x -q tests/test_privacy_rules.py
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time

#: Imported once by the server: the third-party libraries kehu's modules and tests import.
#: A name that is not installed is skipped. Never a kehu package: those must be read afresh.
PRELOAD = (
    "pytest",
    "_pytest.python",
    "_pytest.fixtures",
    "_pytest.assertion.rewrite",
    "numpy",
    "pandas",
    "scipy.stats",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "alembic",
    "alembic.command",
    "alembic.config",
    "click",
    "pluggy",
    "attrs",
    "babel",
    "babel.numbers",
    "babel.dates",
    "babel.support",
    "argon2",
    "psycopg",
    "chinese_calendar",
    "pypinyin",
    "statsforecast",
    "statsforecast.models",
    "hierarchicalforecast",
    "hierarchicalforecast.core",
    "hierarchicalforecast.methods",
    "utilsforecast",
    "coreforecast",
    "statsmodels.api",
    "hypothesis",
    "matplotlib",
    "matplotlib.pyplot",
)

_HEADER = 8


def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    """Read ``size`` bytes from ``conn`` (a stream socket may hand them over in pieces)."""
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 16))
        if not chunk:
            raise ConnectionError("the caller went away in the middle of its request")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _child(request: dict[str, object]) -> int:
    """In the forked child: become the caller's ``python -m pytest ARGS`` and return its exit code."""
    cwd = str(request["cwd"])
    env = request["env"]
    assert isinstance(env, dict)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    # As the caller's interpreter would: cosmic-ray sets PYTHONDONTWRITEBYTECODE for every
    # mutant, and ``python -m`` puts the working directory first on the path.
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    sys.path[0] = cwd
    args = [str(a) for a in request["args"]]  # type: ignore[attr-defined]
    sys.argv = ["pytest", *args]
    # The run side (once per mutant) must not import pytest; the server has it loaded: this binds the name.
    import pytest  # noqa: PLC0415

    code = int(pytest.main(args))
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _handle(listener: socket.socket, conn: socket.socket) -> None:
    """Fork a child for one request, and answer with its exit code once it is done."""
    header, fds, _flags, _addr = socket.recv_fds(conn, _HEADER, 3)
    if len(header) < _HEADER or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return
    request = json.loads(_receive_exactly(conn, int.from_bytes(header, "big")))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            listener.close()
            conn.close()
            os.setpgid(0, 0)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            code = _child(request)
        except BaseException as error:  # noqa: BLE001 - the child must never return into the server
            print(f"preloaded_pytest: {error!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        readable, _, _ = select.select([conn], [], [], 0.05)
        if readable and not conn.recv(1):
            # The caller was killed (the mutant's timeout): so is the child, with what it started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
    code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(OSError):
        conn.sendall(str(code if code >= 0 else 128 - code).encode())


def serve(path: str, preload: tuple[str, ...] = PRELOAD) -> None:
    """Import ``preload``, then answer requests on the Unix socket ``path`` one at a time."""
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    # The children share the imported objects' pages; frozen, the collector leaves them alone.
    gc.collect()
    gc.freeze()
    # A child killed mid-write must not take the server down with it.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(4)
        print("ready", flush=True)
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    _handle(listener, conn)
                except (ConnectionError, ValueError) as error:
                    print(f"preloaded_pytest: request dropped: {error}", file=sys.stderr, flush=True)


def run(path: str, args: list[str]) -> int:
    """Have the server at ``path`` run ``pytest ARGS`` here; its exit code (1 when it gave none)."""
    request = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        socket.send_fds(conn, [len(request).to_bytes(_HEADER, "big")], [0, 1, 2])
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(16):
            reply += chunk
    return int(reply) if reply.strip() else 1


def main() -> None:
    """``serve SOCKET [MODULE...]`` or ``run SOCKET PYTEST-ARGS...``."""
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2], tuple(sys.argv[3:]) or PRELOAD)
    elif len(sys.argv) >= 3 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit("usage: preloaded_pytest.py serve SOCKET [MODULE...] | run SOCKET PYTEST-ARGS...")


if __name__ == "__main__":
    main()
