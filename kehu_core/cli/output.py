"""Rendering results: aligned tables (CJK-aware), JSON and CSV. The only module that formats output."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import click
from attrs import asdict
from sqlalchemy.exc import IntegrityError

from kehu_core import calendar
from kehu_core.cli import CliState
from kehu_core.errors import Conflict
from kehu_core.i18n import messages
from kehu_core.text import display_width, pad, printable, truncate

_ = messages("kehu_core").gettext

#: Table cells are cut to this many terminal columns, unless ``--wide`` or ``$KEHU_WIDE=1``.
MAX_CELL = 40
#: What ends a cut cell: ASCII, whose width every terminal agrees on ("…" is ambiguous in CJK).
CUT = "..."
#: The values of ``$KEHU_WIDE`` that mean yes, as click reads a flag from the environment.
_TRUE = ("1", "true", "yes", "y", "on", "t")

#: The largest ``--limit`` or ``--offset``: far beyond any real list, well inside a 64-bit SQL integer.
MAX_ROWS = 10**12

#: What a spreadsheet reads as the start of a formula (OWASP's CSV-injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A plain number (``-12.50``, ``+3``): a spreadsheet reads it as that number and nothing else.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: Decimal as string (exact), attrs classes as dicts, times in ISO 8601
    in UTC with its offset (``2026-03-01T02:00:00+00:00``), dates (local days) as ``2026-03-01``."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__attrs_attrs__"):
        return to_jsonable(asdict(value, recurse=False))
    return value


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (UTF-8, Chinese kept as is)."""
    click.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))


def emit_result(data: Any, as_json: bool, message: str) -> None:
    """Print ``data`` as JSON for scripts, or ``message`` for people."""
    if as_json:
        emit_json(data)
    else:
        click.echo(message)


def cell(value: Any) -> str:
    """A value as table text: blanks as ``-``, yes/no in the user's language, times as local
    ``YYYY-MM-DD HH:MM`` (:func:`kehu_core.calendar.format_time`), control characters escaped."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return calendar.format_time(value)
    return printable(str(value))


def wide() -> bool:
    """Whether tables show whole cells: ``kehu --wide``, a list command's ``--wide``, or ``$KEHU_WIDE=1``."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        state = ctx.find_object(CliState)
        if ctx.meta.get(_WIDE_KEY) or (state is not None and state.wide):
            return True
    return os.environ.get("KEHU_WIDE", "").strip().lower() in _TRUE


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal columns, ending with ``...`` when cut."""
    if display_width(text) <= width:
        return text
    return truncate(text, max(width - len(CUT) + 1, 1))[:-1] + CUT


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, max_cell: int | None = MAX_CELL) -> str:
    """Rows aligned under headers; wide (CJK) characters count as two columns.

    A cell longer than ``max_cell`` columns is cut, unless ``max_cell`` is None or the user
    asked for whole cells (:func:`wide`).
    """
    limit = None if max_cell is None or wide() else max_cell
    texts = [[cell(v) if limit is None else cut(cell(v), limit) for v in row] for row in rows]
    heads = [str(h) for h in headers]
    widths = [display_width(h) for h in heads]
    for row in texts:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))
    lines = ["  ".join(pad(h, w) for h, w in zip(heads, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(v, w) for v, w in zip(row, widths)).rstrip() for row in texts]
    return "\n".join(lines)


def emit_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table."""
    click.echo(table(headers, rows))


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
    quote in front (the OWASP CSV-injection rule), except a plain number such as ``-12.50``
    or ``+3``, which a spreadsheet can only read as that number. Other values pass unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(row: Iterable[Any]) -> list[Any]:
    """One row's cells for a CSV file: blanks empty, values as in JSON, formulas neutralised."""
    return [spreadsheet_safe("" if v is None else to_jsonable(v)) for v in row]


def emit_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print CSV (UTF-8) with a header line, each row as it comes (:func:`spreadsheet_safe` cells)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(csv_row(headers))
    for row in rows:
        writer.writerow(csv_row(row))
    sys.stdout.flush()


#: One encoder for every row of a streamed list (``json.dumps`` with ``indent`` builds one a call).
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=2)


def _json_items(items: Iterable[Any], indent: str) -> Iterator[str]:
    """The text of a JSON array of ``items`` indented by ``indent``, one item at a time.

    The same text as ``json.dumps(list(items), indent=2)`` nested at that depth: a JSON
    string holds no raw line break, so re-indenting an item's lines is safe.
    """
    first = True
    for item in items:
        text = _ROW_ENCODER.encode(to_jsonable(item)).replace("\n", "\n  " + indent)
        yield ("[\n" if first else ",\n") + indent + "  " + text
        first = False
    yield "[]" if first else "\n" + indent + "]"


def emit_json_rows(rows: Iterable[Any], extra: Mapping[str, Any] | None = None) -> None:
    """Print ``rows`` as a JSON array (or ``extra`` plus ``"rows"``), writing each row as it comes.

    The output is the text :func:`emit_json` prints for the whole list, but a million rows
    never sit in memory at once.
    """
    out = sys.stdout
    if extra and "rows" not in extra:
        head = json.dumps(to_jsonable({**extra, "rows": None}), ensure_ascii=False, indent=2)
        out.write(head.removesuffix("null\n}"))
        for chunk in _json_items(rows, "  "):
            out.write(chunk)
        out.write("\n}\n")
    elif extra:
        emit_json({**extra, "rows": list(rows)})
        return
    else:
        for chunk in _json_items(rows, ""):
            out.write(chunk)
        out.write("\n")
    out.flush()


def emit_pairs(title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    """Print a titled block of label: value lines, labels aligned."""
    click.secho(title, bold=True)
    if not pairs:
        click.echo("  -")
        return
    width = max(display_width(label) for label, _ in pairs)
    for label, value in pairs:
        click.echo(f"  {pad(label, width)}  {cell(value)}")


def row_count(minimum: int) -> click.IntRange:
    """The type of ``--limit`` or ``--offset``: ``minimum`` to :data:`MAX_ROWS`, else refused in one line."""
    return click.IntRange(min=minimum, max=MAX_ROWS)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


#: Where a command's own ``--wide`` is kept for the invocation (``ctx.meta`` is shared by its contexts).
_WIDE_KEY = "kehu.wide"


def _set_wide(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_WIDE_KEY] = True


def wide_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--wide`` (whole cells in tables); the command receives nothing, :func:`table` reads it."""
    return click.option(
        "--wide",
        is_flag=True,
        expose_value=False,
        callback=_set_wide,
        help="Show whole cells in the table (also kehu --wide, or $KEHU_WIDE=1).",
    )(func)


def list_output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``, ``--csv`` and ``--wide``."""
    func = wide_option(func)
    func = click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8).")(func)
    return json_option(func)


def emit_rows(
    headers: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    as_json: bool,
    as_csv: bool,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Print mappings as JSON (a list, or ``extra`` plus ``rows``), CSV, or a table.

    JSON and CSV are written row by row as ``rows`` yields them (pass an iterator to stream
    a long list); a table needs every row first, to align the columns.
    """
    if as_json:
        emit_json_rows(rows, extra)
    elif as_csv:
        emit_csv(keys, ([r.get(k) for k in keys] for r in rows))
    else:
        emit_table(headers, ([r.get(k) for k in keys] for r in rows))


#: PostgreSQL's SQLSTATE for a unique violation; SQLite says it in words.
_UNIQUE_VIOLATION = "23505"


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether ``exc`` is a unique (or primary-key) constraint refusing a duplicate."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == _UNIQUE_VIOLATION or "UNIQUE constraint failed" in str(orig)


@contextmanager
def refusing_duplicates(message: str) -> Iterator[None]:
    """Turn a unique violation inside the block into one line: ``message``, nothing changed.

    A command checks for a duplicate before it writes; another process writing the same key
    between that check and the commit makes the database refuse it instead. Put this
    around the command's transaction, so that the refusal at the commit is caught too
    (the transaction has rolled back by then).
    """
    try:
        yield
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise Conflict(_("{message}; nothing was changed").format(message=message)) from None


class Progress:
    """A progress callback for services: a bar on a terminal (stderr), silence elsewhere."""

    def __init__(self, label: str, total: int | None = None, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        self.label, self.total = label, total

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = click.progressbar(length=self.total, label=self.label, file=sys.stderr, show_pos=True)
            self._bar.__enter__()
        return self

    def __call__(self, done: int, total: int | None = None) -> None:
        if self._bar is not None:
            if total is not None and self._bar.length != total:
                self._bar.length = total
            self._bar.update(done - self._bar.pos)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
