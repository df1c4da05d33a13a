"""A lint-like check: text shown to people that is not passed through the translation functions.

It finds a string literal or f-string holding words in the places where kehu shows text to
people: ``click.echo``/``secho``, the output helpers (``emit_result``'s message,
``emit_pairs``' title, ``Progress``' label, table headers), ``self.fail`` of click types,
and the exceptions whose message is printed to the user (kehu's :class:`KehuError` family,
:class:`~kehu_core.validation.FieldError` and the other user-facing ``ValueError`` kinds,
click's exceptions) and :class:`~kehu_core.errors.Problem`'s reason. ``_("...")``,
``ngettext(...)`` and ``N_("...")`` (also with ``.format(...)``) are translated and pass.

``ValueError``, ``TypeError`` and ``RuntimeError`` are for programmers (a plugin declaring
a permission twice) and stay English. A line that must show text as written (a code, a
command line) says so with ``# untranslated: <why>``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from attrs import frozen

TRANSLATORS = {"_", "ngettext", "N_", "gettext"}
#: Calls whose first positional argument is shown to people.
SHOWN_FIRST = {"echo", "secho", "emit_pairs", "Progress", "fail", "warn", "note"}
#: Calls whose argument at this position is shown.
SHOWN_AT = {"emit_result": 2, "Problem": 1}
#: Calls whose keyword argument of this name is shown: a problem's reason, a scheduled job's
#: description (``kehu jobs list --json``).
KEYWORDS_SHOWN = {"Problem": "reason", "Job": "description"}
#: Calls whose first argument is a list of headers.
HEADERS = {"emit_table", "emit_rows", "table", "emit_csv_or_table"}
#: Exceptions whose message reaches people.
USER_ERRORS = re.compile(
    r"^(KehuError|NotFound|Conflict|NotInstalled|PluginError|ValidationError|HookError|Forbidden|UnknownUser"
    r"|SchemaBehind|ImportRefused|DecodeError|CsvFormatError|Forgotten|FieldError|CalendarError|SettingRefused"
    r"|TransitionRefused|PointsOutOfRange|EarnRuleError|ExpressionError|ClickException|UsageError|BadParameter"
    r"|BadOptionUsage|BadArgumentUsage|FileError|_UserError|\w*Refused|\w*Error)$"
)
DEVELOPER_ERRORS = {
    "ValueError",
    "TypeError",
    "RuntimeError",
    "LookupError",
    "KeyError",
    "NotImplementedError",
}
WORD = re.compile(r"[A-Za-z]{2,}")
MARKER = "# untranslated:"


@frozen
class Finding:
    """A literal shown to people without translation."""

    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r} is shown to people untranslated"


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _literal_words(node: ast.expr) -> str | None:
    """The English text of a literal or f-string, or None when it is not one or holds no words."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _literal_words(node.left) or _literal_words(node.right)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):  # "...".format(), .replace()
        return _literal_words(node.func.value)
    elif isinstance(node, ast.IfExp):
        return _literal_words(node.body) or _literal_words(node.orelse)
    else:
        return None
    return text if WORD.search(text) else None


def _shown(call: ast.Call) -> Iterator[ast.expr]:
    name = _name(call.func)
    if name in DEVELOPER_ERRORS:
        return
    if name in SHOWN_FIRST or USER_ERRORS.match(name):
        if call.args:
            yield call.args[0]
        for keyword in call.keywords:
            if keyword.arg in ("message", "reason", "label", "title", "headline"):
                yield keyword.value
    if name in SHOWN_AT and len(call.args) > SHOWN_AT[name]:
        yield call.args[SHOWN_AT[name]]
    if name in KEYWORDS_SHOWN:
        for keyword in call.keywords:
            if keyword.arg == KEYWORDS_SHOWN[name]:
                yield keyword.value
    if name in HEADERS and call.args and isinstance(call.args[0], (ast.List, ast.Tuple)):
        yield from call.args[0].elts


def findings(path: Path) -> Iterator[Finding]:
    """Every untranslated literal shown to people in the Python file ``path``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        for shown in _shown(node):
            text = _literal_words(shown)
            if text is None:
                continue
            first = shown.lineno - 1
            last = getattr(shown, "end_lineno", shown.lineno) or shown.lineno
            if any(MARKER in lines[i] for i in range(max(first - 1, 0), min(last + 1, len(lines)))):
                continue
            yield Finding(path, shown.lineno, text)


def package_files(package_dir: Path) -> Iterator[Path]:
    """The package's Python files that ship (not its tests, migrations or scaffold templates)."""
    for path in sorted(package_dir.rglob("*.py")):
        parts = set(path.relative_to(package_dir).parts)
        if parts & {"tests", "migrations", "templates"}:
            continue
        yield path


#: Words that stay as they are in Chinese text: names, codes, file formats, abbreviations.
ALLOWED_WORDS = {
    "kehu", "CSV", "JSON", "SQLite", "PostgreSQL", "SQL", "URL", "UTF", "BOM", "Excel", "PNG", "TOML",
    "ISO", "API", "VIP", "ABC", "RFM", "SLA", "MASE", "sMAPE", "BG", "NBD", "MinT", "OLS", "WLS", "Odoo",
    "Argon2id", "pip", "cron", "gbk", "gb18030", "utf", "Python", "CJK", "ID", "AutoTheta", "AutoETS",
    "ETS", "Croston", "MinTrace", "dask", "DuckDB", "pandas", "statsforecast", "SMART", "6W1H1S", "KPI",
    "OS", "PDF", "HTML", "YYYY", "MM", "DD", "HH",
}  # fmt: skip


def language_free(data: Any, worded: Collection[str] = ()) -> Any:
    """``--json`` output ``data`` with the values under the ``worded`` keys (sentences written
    in the reader's language: a reason, a note) replaced by ``"..."``, keys kept: what must be
    the same whatever the language, so two languages' outputs compare equal."""
    if isinstance(data, dict):
        return {k: ("..." if k in worded else language_free(v, worded)) for k, v in data.items()}
    if isinstance(data, list):
        return [language_free(v, worded) for v in data]
    return data


def english_words(text: str, identifiers: Iterable[str] = ()) -> set[str]:
    """The English words of ``text`` a Chinese reader should not see: not options, metavars,
    codes, identifiers, command lines, bracketed choices, the allowed words, nor the
    ``identifiers`` given (command names, which people type as they are)."""
    for name in identifiers:  # hyphenated ones (profile-set) would read as two words
        if "-" in name:
            text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)  # code
    text = re.sub(r"\b\w+=[\w|/-]+", " ", text)  # a filter as typed: acme_key=yes|no
    # A code shown with its label, as Vocabulary.accepted() and labels do: influence (影响力), 是（yes）
    text = re.sub(r"\b[a-z][a-z0-9_]*(?= ?[（(][^)）]*[\u4e00-\u9fff])", " ", text)
    text = re.sub(r"(?<=[\u4e00-\u9fff][（(])[a-z][a-z0-9_]*(?=[)）])", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # choices and click's [default: ...]
    text = re.sub(r"(?m)^\s*(kehu|pip|cd|python|\$)\b.*$", " ", text)  # example command lines
    text = re.sub(r"(?<![\w-])--?[\w-]+", " ", text)  # options
    text = re.sub(r"\$\w+|\w+://\S+|\S+\.(md|csv|toml|py|png|json|db)\b", " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[_.:][A-Za-z0-9]+)*", text))
    kept = ALLOWED_WORDS | set(identifiers)
    return {w for w in words if w not in kept and not w.isupper() and "_" not in w and "." not in w}
