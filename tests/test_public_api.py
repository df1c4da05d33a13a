"""The public names of ``kehu_core``: listed once for linters, loaded lazily at run time."""

from __future__ import annotations

import subprocess
import sys

import kehu_core


def test_all_lists_exactly_the_lazy_names():
    assert kehu_core.__all__ == ["__version__", *kehu_core._EXPORTS]
    for name in kehu_core._EXPORTS:
        assert getattr(kehu_core, name) is not None


def test_the_root_command_imports_no_sqlalchemy():
    code = "import sys, kehu_core.cli; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
