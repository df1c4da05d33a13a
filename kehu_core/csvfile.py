"""Reading CSV files as a stream: encodings (UTF-8 with or without BOM, GBK ...), headers, line numbers."""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from kehu_core.errors import KehuError

DEFAULT_ENCODING = "utf-8-sig"  # reads UTF-8 with or without the BOM Excel writes


class DecodeError(KehuError):
    """The file is not in the expected encoding."""


def check_encoding(encoding: str) -> str:
    """The codec to read ``encoding`` with (plain UTF-8 also accepts a BOM), or a clear error."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise KehuError(f"unknown encoding {encoding!r}; try utf-8, gbk or gb18030") from None
    return "utf-8-sig" if name == "utf-8" else name


class CsvStream:
    """Rows of a CSV file as lists of strings, with the header and 1-based line numbers.

    Decoding happens as the file is read, so memory stays flat (one field may hold at most
    ``csv.field_size_limit()`` characters); an undecodable byte stops the read with an
    error that names its line and suggests ``--encoding``. Columns with a blank name (the
    empty columns Excel sometimes adds) are ignored.
    """

    def __init__(self, source: str | Path | IO[bytes], encoding: str = DEFAULT_ENCODING):
        self.encoding = check_encoding(encoding)
        owned = isinstance(source, (str, os.PathLike))
        self.name = str(source) if owned else getattr(source, "name", "<stream>")
        try:
            raw = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source  # noqa: SIM115
        except OSError as exc:
            raise KehuError(f"cannot open {self.name}: {exc.strerror}") from None
        self._raw = raw
        self._owned = owned
        try:
            self.size: int | None = os.fstat(raw.fileno()).st_size
        except (OSError, AttributeError, io.UnsupportedOperation):
            self.size = None
        self._text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
        self._reader = csv.reader(self._text)
        self.header: list[str] = []
        #: The line the last row returned by :meth:`rows` starts on.
        self.line = 0
        try:
            self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> None:
        first = self._next()
        if first is None:
            raise KehuError(f"{self.name}: the file is empty (no header line)")
        self.header = [h.strip().lstrip("\ufeff").lower() for h in first[1]]

    def _next(self) -> tuple[int, list[str]] | None:
        """The next record and the line it starts on, or None at the end of the file."""
        reader = self._reader
        start = reader.line_num + 1
        try:
            return start, next(reader)
        except StopIteration:
            return None
        except UnicodeDecodeError as exc:
            raise DecodeError(self._decode_message(exc)) from None
        except csv.Error as exc:
            raise KehuError(f"{self.name}: line {start}: malformed CSV ({exc})") from None

    def _decode_message(self, exc: UnicodeDecodeError) -> str:
        line, column = self._locate_bad_byte()
        where = (
            f"line {line}" + (f", byte {column}" if column else "")
            if line
            else f"near line {self._reader.line_num + 1}"
        )
        return (
            f"{self.name}: cannot read {where} as {self.encoding} ({exc.reason}). The file is in another "
            "encoding: if it comes from Chinese Excel, try --encoding gbk (or gb18030)."
        )

    def _locate_bad_byte(self) -> tuple[int | None, int | None]:
        """Scan the file again, line by line, for the first line that does not decode.

        The text layer decodes 8 KB at a time, so the line being parsed when decoding failed
        is not always the line with the bad byte; this scan (only on the error path) is.
        """
        try:
            self._raw.seek(0)
        except (OSError, ValueError, io.UnsupportedOperation):
            return None, None
        decoder = codecs.getincrementaldecoder(self.encoding)()
        for number, data in enumerate(self._raw, start=1):
            try:
                decoder.decode(data)
            except UnicodeDecodeError as bad:
                return number, bad.start + 1
        return None, None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line number, cells)`` for each data row; blank lines are skipped."""
        for chunk in self.chunks(1):
            yield chunk[0]

    def chunks(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """Lists of up to ``size`` ``(line number, cells)`` rows; blank lines are skipped.

        One loop over the csv reader, not generators stacked on it: this is the innermost
        loop of every import.
        """
        chunk: list[tuple[int, list[str]]] = []
        append, read = chunk.append, self._next
        while (item := read()) is not None:
            row = item[1]
            if not row or not (row[0].strip() or "".join(row).strip()):
                continue
            append(item)
            if len(chunk) >= size:
                self.line = item[0]
                yield chunk
                chunk = []
                append = chunk.append
        if chunk:
            self.line = chunk[-1][0]
            yield chunk

    def position(self) -> int:
        """Bytes read so far (ahead of the rows returned by the read buffer), for progress."""
        try:
            return self._raw.tell()
        except (OSError, ValueError, io.UnsupportedOperation):
            return 0

    def check_columns(
        self, allowed: Sequence[str], required: Sequence[str], extra_prefix: str | None = None
    ) -> None:
        """Refuse unknown or duplicate columns and missing required ones, naming them."""
        problems = []
        seen = set()
        for name in self.header:
            if not name:
                continue
            if name in seen:
                problems.append(f"column {name!r} appears twice")
            seen.add(name)
            if name not in allowed and not (
                extra_prefix and name.startswith(extra_prefix) and len(name) > len(extra_prefix)
            ):
                problems.append(f"unknown column {name!r}")
        missing = [c for c in required if c not in seen]
        if missing:
            problems.append("missing required column(s): " + ", ".join(missing))
        if problems:
            more = f" and {extra_prefix}NAME for your own fields" if extra_prefix else ""
            raise KehuError(
                f"{self.name}: header (line 1) refused: "
                + "; ".join(problems)
                + f".\nAllowed columns: {', '.join(allowed)}{more}. Required: {', '.join(required)}."
            )

    def close(self) -> None:
        """Close the file (a stream passed in is left open)."""
        if self._owned:
            self._text.close()
        else:
            self._text.detach()

    def __enter__(self) -> CsvStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
