"""Calling each plugin's implementation of a tiering hook on its own, to know whose values are whose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kehu_core.app import Kehu
from kehu_core.errors import HookError, KehuError
from kehu_tiering.settings import RuleContext

T = TypeVar("T")


def call_each(
    app: Kehu,
    hook: str,
    context: RuleContext,
    kind: type[T],
    check: Callable[[str, T], None] | None = None,
) -> list[tuple[str, list[T]]]:
    """``(plugin name, values)`` from every implementation of ``hook``, in registration order.

    Each implementation gets ``app`` and ``context`` when it takes them. Every value must be a
    ``kind``, then passes ``check(plugin, value)``, which raises to refuse it. Raises
    :class:`~kehu_core.errors.HookError` naming the plugin whose implementation failed or
    returned something refused (a :class:`~kehu_core.errors.KehuError` passes through as it is).
    """
    caller = app.hook_caller(hook)
    found: list[tuple[str, list[T]]] = []
    for impl in reversed(caller.get_hookimpls()):  # registration order
        plugin = app.plugins.pm.get_name(impl.plugin) or "unknown"
        arguments: dict[str, Any] = {"app": app, "context": context}
        try:
            values = list(impl.function(*(arguments[arg] for arg in impl.argnames)) or [])
            for value in values:
                if not isinstance(value, kind):
                    raise TypeError(f"{hook} must return {kind.__name__} values, got {type(value).__name__}")
                if check is not None:
                    check(plugin, value)
        except KehuError:
            raise
        except Exception as exc:
            raise HookError(plugin, hook, exc) from exc
        found.append((plugin, values))
    return found
