"""Importing a CSV file all or nothing: the shared part of the opportunity and market imports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from kehu_core.csvfile import CsvStream
from kehu_core.errors import ValidationError
from kehu_core.i18n import messages

_ = messages("kehu_forecast").gettext


def import_rows(
    source: str | Path | IO[bytes],
    encoding: str,
    columns: Sequence[str],
    required: Sequence[str],
    write: Callable[[list[dict[str, str]]], int],
) -> int:
    """Read every row of ``source``, then ``write`` them all (0 for a file of no rows).

    ``write`` numbers its problems by row from 0; they are renumbered to the file's lines and
    raised again as one :class:`ValidationError` naming the file.
    """
    with CsvStream(source, encoding) as stream:
        stream.check_columns(columns, required)
        rows, lines = [], []
        for line, cells in stream.rows():
            rows.append(dict(zip(stream.header, cells)))
            lines.append(line)
    if not rows:
        return 0
    try:
        return write(rows)
    except ValidationError as exc:
        for p in exc.problems:
            object.__setattr__(p, "row", lines[p.row] if p.row is not None else None)
        raise ValidationError(
            exc.problems, headline=_("{file}: rows refused; nothing was written:").format(file=stream.name)
        ) from None
