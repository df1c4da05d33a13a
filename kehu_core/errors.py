"""Exceptions that carry a message meant for the user (the CLI prints them without a traceback)."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from kehu_core.i18n import messages

_ = messages("kehu_core").gettext


class KehuError(Exception):
    """An error the user can act on; its message is complete and printed as is."""

    exit_code = 1


class NotFound(KehuError):
    """A customer, interaction or other record named by the user does not exist."""


class Conflict(KehuError):
    """The record changed under us (another writer won) or would duplicate a unique value."""


class NotInstalled(KehuError):
    """A plugin's command was used in a database where that plugin is not installed."""


class PluginError(KehuError):
    """A plugin could not be loaded, installed or uninstalled."""


@frozen
class Problem:
    """One reason a value was refused: where (row and field), what, and why."""

    field: str
    reason: str
    row: int | None = None
    value: str | None = None

    def __str__(self) -> str:
        values = {"row": self.row, "field": self.field, "reason": self.reason, "value": self.value}
        if self.row is not None and self.value is not None:
            return _("row {row}, {field}: {reason} (got {value!r})").format(**values)
        if self.row is not None:
            return _("row {row}, {field}: {reason}").format(**values)
        if self.value is not None:
            return _("{field}: {reason} (got {value!r})").format(**values)
        return _("{field}: {reason}").format(**values)


class ValidationError(KehuError):
    """One or more values were refused; nothing was written."""

    def __init__(self, problems: Sequence[Problem], headline: str | None = None):
        self.problems = list(problems)
        lines = [headline] if headline else []
        lines += [str(p) for p in self.problems]
        super().__init__("\n".join(lines))


class HookError(KehuError):
    """A plugin's hook implementation raised; the whole command was rolled back."""

    def __init__(self, plugin: str, hook: str, error: BaseException):
        self.plugin, self.hook, self.error = plugin, hook, error
        super().__init__(
            _(
                "plugin {plugin!r} failed in hook {hook}: {error_type}: {error}\n"
                "Nothing was changed. Disable the plugin with KEHU_PLUGINS or uninstall it, "
                "and report the error to its author."
            ).format(plugin=plugin, hook=hook, error_type=type(error).__name__, error=error)
        )
