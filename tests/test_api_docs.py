"""docs/api.md documents every name of every plugin's public API module, and each has a docstring."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
API_MODULES = ("kehu_tiering.api", "kehu_loyalty.api", "kehu_complaints.api", "kehu_forecast.api")


def public_names(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    return [(name, getattr(module, name)) for name in module.__all__]


@pytest.mark.parametrize("module_name", API_MODULES)
def test_every_public_name_is_documented(module_name):
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(f"### `{module_name}`", 1)
    assert len(section) == 2, f"docs/api.md has no section for {module_name}"
    body = section[1].split("\n### ", 1)[0]
    missing = [name for name, _ in public_names(module_name) if f"`{name}" not in body]
    assert not missing, f"{module_name}: not in docs/api.md: {missing}"


@pytest.mark.parametrize("module_name", API_MODULES)
def test_every_public_function_and_class_has_a_docstring(module_name):
    bare = [
        name
        for name, value in public_names(module_name)
        if (inspect.isfunction(value) or inspect.isclass(value)) and not inspect.getdoc(value)
    ]
    assert not bare, f"{module_name}: no docstring: {bare}"


@pytest.mark.parametrize("module_name", API_MODULES)
def test_functions_documented_with_their_real_parameters(module_name):
    text = DOCS.read_text(encoding="utf-8")
    for name, value in public_names(module_name):
        if inspect.isfunction(value):
            shown = f"`{name}({', '.join(inspect.signature(value).parameters)})`"
            assert shown in text, f"{module_name}.{name} is documented with other parameters than {shown}"
