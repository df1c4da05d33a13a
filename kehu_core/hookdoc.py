"""The hook reference: every spec's signature, documentation and implementers (``kehu hooks``)."""

from __future__ import annotations

import inspect

from attrs import frozen

from kehu_core.plugins import BUILTIN_MODULES, Plugins


@frozen
class HookRef:
    """One hook spec as documented."""

    name: str
    signature: str
    doc: str
    firstresult: bool
    historic: bool
    implemented_by: tuple[str, ...]


def signature_of(function: object) -> str:
    """``(a: T, b: U) -> R`` as written in the spec (annotations are kept as text)."""
    sig = inspect.signature(function, eval_str=False)  # type: ignore[arg-type]
    params = [
        f"{p.name}: {p.annotation}" if p.annotation is not inspect.Parameter.empty else p.name
        for p in sig.parameters.values()
    ]
    returns = "" if sig.return_annotation is inspect.Signature.empty else f" -> {sig.return_annotation}"
    return f"({', '.join(params)}){returns}"


def hook_reference(plugins: Plugins) -> list[HookRef]:
    """Every hook spec known to the manager (the core's and plugins' own), by name."""
    refs = []
    owners = {id(info.hooks_object): name for name, info in plugins.loaded.items()}
    for name in sorted(dir(plugins.pm.hook)):
        caller = getattr(plugins.pm.hook, name)
        spec = getattr(caller, "spec", None)
        if spec is None or name.startswith("_"):
            continue
        implementers = []
        for impl in caller.get_hookimpls():
            plugin_name = plugins.pm.get_name(impl.plugin) or "?"
            implementers.append(
                "core" if plugin_name in BUILTIN_MODULES else owners.get(id(impl.plugin), plugin_name)
            )
        refs.append(
            HookRef(
                name=name,
                signature=signature_of(spec.function),
                doc=inspect.cleandoc(spec.function.__doc__ or ""),
                firstresult=bool(spec.opts.get("firstresult")),
                historic=bool(spec.opts.get("historic")),
                implemented_by=tuple(sorted(set(implementers))),
            )
        )
    return refs


def markdown(refs: list[HookRef]) -> str:
    """The reference as Markdown, one section per hook (``kehu hooks --markdown``).

    Each hook's signature is a one-line ``def`` in a Python block, so a test can check the
    documentation against the specs.
    """
    parts = []
    for ref in refs:
        flags = [f for f, on in (("firstresult", ref.firstresult), ("historic", ref.historic)) if on]
        parts.append(
            f"### `{ref.name}`\n\n```python\ndef {ref.name}{ref.signature}\n```\n\n"
            + (f"*{', '.join(flags)}*\n\n" if flags else "")
            + _markdown_doc(ref.doc)
            + "\n"
        )
    return "\n".join(parts)


def _markdown_doc(doc: str) -> str:
    """A sectioned docstring as Markdown: indented ``name: text`` lines become list items."""
    lines = []
    for line in doc.strip().splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if indent >= 8:
            lines.append("  " + stripped)  # continuation of a list item
        elif indent >= 4:
            name, sep, rest = stripped.partition(":")
            lines.append(f"- `{name}`:{rest}" if sep and " " not in name else f"- {stripped}")
        else:
            lines.append(line)
    return "\n".join(lines)
