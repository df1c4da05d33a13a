"""The ``kehu`` script (:func:`kehu_core.cli.script`): the command's exit status, then an exit
whose last garbage collections skip what the command left behind."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from kehu_core import cli


@pytest.fixture
def unfrozen():
    """The test process's objects back in the collector's care after the test."""
    yield
    gc.unfreeze()


def test_the_script_keeps_the_commands_exit_status_and_freezes_what_is_left(monkeypatch, unfrozen):
    def command() -> None:
        sys.exit(3)

    monkeypatch.setattr(cli, "main", command)
    assert gc.get_freeze_count() == 0
    with pytest.raises(SystemExit) as stopped:
        cli.script()
    assert stopped.value.code == 3
    assert gc.get_freeze_count() > 0


def test_a_crash_still_freezes(monkeypatch, unfrozen):
    def command() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "main", command)
    with pytest.raises(RuntimeError):
        cli.script()
    assert gc.get_freeze_count() > 0


def test_the_installed_script_exits_with_the_commands_status():
    run = [sys.executable, "-c", "from kehu_core.cli import script; script()"]
    ok = subprocess.run([*run, "--help"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "kehu" in ok.stdout
    wrong = subprocess.run([*run, "no-such-command"], capture_output=True, text=True, check=False)
    assert wrong.returncode == 2 and "no-such-command" in wrong.stderr
