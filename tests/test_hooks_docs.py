"""docs/plugins.md documents every hook spec with its exact signature (datasette's rule)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from attrs import fields

from kehu_core import hookspecs
from kehu_core.hookdoc import hook_reference, markdown, signature_of
from kehu_core.manifest import Manifest
from kehu_core.plugins import Plugins, new_plugin_manager

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
SPECS = {
    name: fn for name, fn in vars(hookspecs).items() if name.startswith("kehu_") and hasattr(fn, "kehu_spec")
}


def reference_section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    assert "\n## Hooks reference\n" in text
    return text.split("\n## Hooks reference\n", 1)[1]


def documented() -> dict[str, str]:
    """``{hook name: the def line documented}`` from the reference's Python blocks."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r"^def (kehu_\w+)(\(.*\)(?: -> .+)?)$", reference_section(), re.M)
    }


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_spec_is_documented_with_its_exact_signature(name):
    docs = documented()
    assert name in docs, f"{name} is missing from docs/plugins.md; run `KEHU_PLUGINS= kehu hooks --markdown`"
    assert docs[name] == f"def {name}{signature_of(SPECS[name])}", (
        f"{name} is documented with another signature"
    )
    first_line = SPECS[name].__doc__.strip().splitlines()[0]
    assert first_line in reference_section(), f"{name}'s documentation is out of date"


def test_no_hook_is_documented_that_does_not_exist():
    headings = re.findall(r"^### `(\w+)`$", reference_section(), re.M)
    assert sorted(headings) == sorted(documented()) == sorted(SPECS)


def test_the_reference_is_what_kehu_hooks_markdown_prints():
    """The generated part is up to date, so the text matches the specs' docstrings too."""
    refs = hook_reference(Plugins(pm=new_plugin_manager()))
    assert reference_section().endswith(markdown(refs))


def guide_section() -> str:
    return DOCS.read_text(encoding="utf-8").split("\n## Hooks reference\n", 1)[0]


def test_hook_signatures_shown_in_the_guide_are_real():
    """An example implementation may leave arguments out, but never name one the spec lacks."""
    shown = re.findall(r"^def (kehu_\w+)\(([^)]*)\)", guide_section(), re.M)
    core = [(name, args) for name, args in shown if name in SPECS]
    assert core, "the guide shows no implementation of a core hook"
    for name, args in core:
        params = {a.split(":")[0].strip() for a in args.split(",") if a.strip()}
        assert params <= set(SPECS[name].__code__.co_varnames), f"{name}({args}) is not the real signature"


def test_manifest_fields_shown_in_the_guide_are_real():
    block = guide_section().split("MANIFEST = Manifest(", 1)[1].split("\n)", 1)[0]
    shown = set(re.findall(r"^\s+(\w+)=", block, re.M))
    assert shown and shown <= {f.name for f in fields(Manifest)}
