"""tools/preloaded_pytest.py, which mutation testing runs each mutant's tests through: a child
forked per run reads the code afresh, gives pytest's exit code, writes to the caller's streams,
and dies with its caller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.core_alone

TOOL = Path(__file__).resolve().parents[1] / "tools" / "preloaded_pytest.py"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A server that preloads only pytest (the real list takes seconds to import)."""
    socket_path = str(tmp_path / "s")
    process = subprocess.Popen(
        [sys.executable, str(TOOL), "serve", socket_path, "pytest"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    yield socket_path
    process.kill()
    process.wait()


def _run(server: str, folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` in ``folder`` through the server, as cosmic-ray runs a mutant's tests."""
    command = [sys.executable, str(TOOL), "run", server, "-q", "-p", "no:cacheprovider", *args]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **env)
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=60)


def test_exit_codes_output_and_code_read_afresh_in_every_run(server: str, tmp_path: Path) -> None:
    (tmp_path / "rule.py").write_text("def cut(x):\n    return x < 80\n")
    (tmp_path / "test_rule.py").write_text(
        "import rule\n\ndef test_edge():\n    print('seen by the caller')\n    assert not rule.cut(80)\n"
    )
    passed = _run(server, tmp_path, "-s", "test_rule.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "seen by the caller" in passed.stdout
    assert "1 passed" in passed.stdout

    # The mutant a maintainer might make: the next run reads it, as a fresh interpreter would.
    (tmp_path / "rule.py").write_text("def cut(x):\n    return x <= 80\n")
    failed = _run(server, tmp_path, "test_rule.py")
    assert failed.returncode == 1
    assert "1 failed" in failed.stdout

    nothing = _run(server, tmp_path, "test_absent.py")
    assert nothing.returncode == 4  # pytest's "usage error": no such file


def test_the_environment_and_working_directory_are_the_callers(server: str, tmp_path: Path) -> None:
    (tmp_path / "test_env.py").write_text(
        "import os, sys\n\ndef test_env():\n"
        "    assert os.environ['KEHU_PROBE'] == 'here'\n"
        "    assert os.getcwd() == os.environ['EXPECTED_CWD']\n"
        "    assert sys.dont_write_bytecode\n"
    )
    done = _run(server, tmp_path, "test_env.py", KEHU_PROBE="here", EXPECTED_CWD=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_killed_caller_takes_its_tests_with_it(server: str, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    (tmp_path / "test_loop.py").write_text(
        "import os, time\n\ndef test_forever():\n"
        f"    open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        "    while True:\n        time.sleep(0.1)\n"
    )
    command = [sys.executable, str(TOOL), "run", server, "-q", "-p", "no:cacheprovider", "test_loop.py"]
    caller = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(marker.read_text())
    caller.send_signal(signal.SIGKILL)  # what cosmic-ray does when a mutant's tests time out
    caller.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the tests' process {child} outlived its caller")

    # The server goes on answering.
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    assert _run(server, tmp_path, "test_ok.py").returncode == 0
