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
from kehu_core.i18n import messages

_ = messages("kehu_core").gettext

DEFAULT_ENCODING = "utf-8-sig"  # reads UTF-8 with or without the BOM Excel writes
#: At most this many cells in a line (the header or a row): a header with thousands of
#: trailing commas would otherwise make every row that wide in memory.
MAX_COLUMNS = 200
#: At most this many characters in one cell. It is the csv module's own default limit, set
#: again (process-wide) in case something raised it; no field kehu stores is longer.
MAX_CELL = 131_072
#: A chunk of rows ends after this many bytes of the file, however few rows it holds, so
#: wide rows of long cells cannot fill memory.
CHUNK_BYTES = 32 * 1024 * 1024
#: The encodings named in the refusal of an unknown one (any other Python text codec works too).
COMMON_ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "utf-16", "latin-1")


class DecodeError(KehuError):
    """The file is not in the expected encoding."""


class CsvFormatError(KehuError):
    """The file is not well-formed CSV, or is beyond the limits (columns, cell size); the
    message names the line."""


def check_encoding(encoding: str) -> str:
    """The codec to read ``encoding`` with (plain UTF-8 also accepts a BOM), or a one-line
    :class:`~kehu_core.errors.KehuError`: an unknown name, or a codec that does not turn bytes
    into text (base64, rot13, zlib, hex ...), refused as ``kehu ... import --encoding`` refuses it."""
    common = ", ".join(COMMON_ENCODINGS)
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        raise KehuError(
            _(
                "unknown encoding {encoding!r}; use one of {common} (or another text encoding Python knows)"
            ).format(encoding=encoding, common=common)
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise KehuError(
            _(
                "{encoding!r} is not a text encoding; use one of {common} "
                "(or another text encoding Python knows)"
            ).format(encoding=encoding, common=common)
        )
    return "utf-8-sig" if info.name == "utf-8" else info.name


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
            raise KehuError(
                _("cannot open {name}: {reason}").format(name=self.name, reason=exc.strerror)
            ) from None
        self._raw = raw
        self._owned = owned
        try:
            self.size: int | None = os.fstat(raw.fileno()).st_size
        except (OSError, AttributeError, io.UnsupportedOperation):
            self.size = None
        self._text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
        if csv.field_size_limit() != MAX_CELL:
            csv.field_size_limit(MAX_CELL)
        # strict: a quote that is never closed (or text after a closing quote) is an error
        # instead of a cell that silently swallows the rest of the file.
        self._reader = csv.reader(self._text, strict=True)
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
            raise KehuError(_("{name}: the file is empty (no header line)").format(name=self.name))
        if len(first[1]) > MAX_COLUMNS:
            raise CsvFormatError(
                _(
                    "{name}: line 1: the header has {count} columns, at most {most} "
                    "are allowed (trailing commas?); the file was not imported"
                ).format(name=self.name, count=len(first[1]), most=MAX_COLUMNS)
            )
        self.header = [h.strip().lstrip("\ufeff").lower() for h in first[1]]

    def _next(self) -> tuple[int, list[str]] | None:
        """The next record and the line it starts on, or None at the end of the file."""
        reader = self._reader
        start = reader.line_num + 1
        try:
            return start, next(reader)
        except StopIteration:
            return None
        except UnicodeError as exc:  # UnicodeDecodeError, or UTF-16's "does not start with BOM"
            raise DecodeError(self._decode_message(exc)) from None
        except csv.Error as exc:
            raise CsvFormatError(self._format_message(start, str(exc))) from None

    def _format_message(self, start: int, reason: str) -> str:
        """The csv module's complaint about the record that starts on line ``start``, for people."""
        end = self._reader.line_num
        if reason.startswith("unexpected end of data"):
            message = _(
                '{name}: line {start}: a quote (") opened in this row is never closed, so every later '
                "line would be read into one cell; the file was not imported"
            )
        elif "expected after" in reason and end > start:
            message = _(
                "{name}: line {start}: a quoted cell opened in this row is followed by more text after "
                'its closing quote on line {end} (a quote inside a quoted value must be doubled: ""); '
                "the file was not imported"
            )
        elif "expected after" in reason:
            message = _(
                "{name}: line {start}: a quoted cell opened in this row is followed by more text after "
                'its closing quote (a quote inside a quoted value must be doubled: ""); '
                "the file was not imported"
            )
        elif "field limit" in reason:
            message = _(
                "{name}: line {start}: a cell is longer than {most} characters (an unclosed quote?); "
                "the file was not imported"
            )
        else:
            message = _("{name}: line {start}: malformed CSV ({reason}); the file was not imported")
        return message.format(name=self.name, start=start, end=end, most=MAX_CELL, reason=reason)

    def _decode_message(self, exc: UnicodeError) -> str:
        line, column = self._locate_bad_byte()
        if line and column:
            where = _("line {line}, byte {column}").format(line=line, column=column)
        elif line:
            where = _("line {line}").format(line=line)
        else:
            where = _("near line {line}").format(line=self._reader.line_num + 1)
        reason = getattr(exc, "reason", exc)
        return _(
            "{name}: cannot read {where} as {encoding} ({reason}). The file is in another "
            "encoding: if it comes from Chinese Excel, try --encoding gbk (or gb18030)."
        ).format(name=self.name, where=where, encoding=self.encoding, reason=reason)

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
            except UnicodeError:
                return number, None
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
        append, read, position = chunk.append, self._next, self.position
        until = position() + CHUNK_BYTES
        while (item := read()) is not None:
            row = item[1]
            if not row or not (row[0].strip() or "".join(row).strip()):
                continue
            if len(row) > MAX_COLUMNS:
                raise CsvFormatError(
                    _(
                        "{name}: line {line}: {count} cells, at most {most} are allowed "
                        "(trailing commas?); the file was not imported"
                    ).format(name=self.name, line=item[0], count=len(row), most=MAX_COLUMNS)
                )
            append(item)
            if len(chunk) >= size or position() > until:
                self.line = item[0]
                yield chunk
                chunk = []
                append = chunk.append
                until = position() + CHUNK_BYTES
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
            shown = repr(name if len(name) <= 60 else name[:57] + "...")
            if name in seen:
                problems.append(_("column {column} appears twice").format(column=shown))
            seen.add(name)
            if name not in allowed and not (
                extra_prefix and name.startswith(extra_prefix) and len(name) > len(extra_prefix)
            ):
                problems.append(_("unknown column {column}").format(column=shown))
        missing = [c for c in required if c not in seen]
        if missing:
            problems.append(_("missing required column(s): {columns}").format(columns=", ".join(missing)))
        if problems:
            message = (
                _(
                    "{name}: header (line 1) refused: {problems}.\nAllowed columns: {allowed} and "
                    "{prefix}NAME for your own fields. Required: {required}."
                )
                if extra_prefix
                else _(
                    "{name}: header (line 1) refused: {problems}.\nAllowed columns: {allowed}. "
                    "Required: {required}."
                )
            )
            raise KehuError(
                message.format(
                    name=self.name,
                    problems=_("; ").join(problems),
                    allowed=", ".join(allowed),
                    prefix=extra_prefix,
                    required=", ".join(required),
                )
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
