"""Rendering results: aligned tables (CJK-aware), JSON and CSV. The only module that formats output."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import click
from attrs import asdict

from kehu_core import calendar
from kehu_core.text import display_width, pad, printable, truncate

MAX_CELL = 40


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
    """A value as table text: blanks as ``-``, times as local ``YYYY-MM-DD HH:MM``
    (:func:`kehu_core.calendar.format_time`), control characters escaped."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return calendar.format_time(value)
    return printable(str(value))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, max_cell: int = MAX_CELL) -> str:
    """Rows aligned under headers; wide (CJK) characters count as two columns."""
    texts = [[truncate(cell(v), max_cell) for v in row] for row in rows]
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


def emit_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print CSV (UTF-8) with a header line."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else to_jsonable(v) for v in row])
    sys.stdout.flush()


def emit_pairs(title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    """Print a titled block of label: value lines, labels aligned."""
    click.secho(title, bold=True)
    if not pairs:
        click.echo("  -")
        return
    width = max(display_width(label) for label, _ in pairs)
    for label, value in pairs:
        click.echo(f"  {pad(label, width)}  {cell(value)}")


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def list_output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json`` and ``--csv``."""
    func = click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8).")(func)
    return json_option(func)


def emit_rows(
    headers: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    as_json: bool,
    as_csv: bool,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Print mappings as JSON (a list, or ``extra`` plus ``rows``), CSV, or a table."""
    if as_json:
        emit_json({**extra, "rows": list(rows)} if extra else list(rows))
    elif as_csv:
        emit_csv(keys, ([r.get(k) for k in keys] for r in rows))
    else:
        emit_table(headers, ([r.get(k) for k in keys] for r in rows))


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
