"""Reading CSV files as a stream: encodings (UTF-8 with or without BOM, GBK ...), headers, line numbers."""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from kehu_core.errors import KehuError

DEFAULT_ENCODING = "utf-8-sig"  # reads UTF-8 with or without the BOM Excel writes


class DecodeError(KehuError):
    """The file is not in the expected encoding."""


def check_encoding(encoding: str) -> str:
    """The codec name for ``encoding``, or a clear error."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise KehuError(f"unknown encoding {encoding!r}; try utf-8, gbk or gb18030") from None


class CsvStream:
    """Rows of a CSV file as lists of strings, with the header and 1-based line numbers.

    Decoding happens as the file is read, so memory stays flat; an undecodable byte stops
    the read with an error that names the line and suggests ``--encoding``.
    """

    def __init__(self, source: str | Path | IO[bytes], encoding: str = DEFAULT_ENCODING):
        self.encoding = check_encoding(encoding)
        if self.encoding == "utf-8":
            self.encoding = "utf-8-sig"
        self.name = str(source) if not hasattr(source, "read") else getattr(source, "name", "<stream>")
        raw = open(source, "rb") if not hasattr(source, "read") else source  # noqa: SIM115
        self._raw: IO[bytes] = raw  # type: ignore[assignment]
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, newline="")
        self._reader = csv.reader(self._text)
        self.header: list[str] = []
        self.line = 0
        self._read_header()

    def _read_header(self) -> None:
        try:
            first = next(self._guarded(), None)
        except DecodeError:
            raise
        if first is None:
            raise KehuError(f"{self.name}: the file is empty (no header line)")
        self.header = [h.strip().lstrip("\ufeff").lower() for h in first]

    def _guarded(self) -> Iterator[list[str]]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"{self.name}: cannot read line {self._reader.line_num + 1} as {self.encoding} "
                    f"({exc.reason} at byte {exc.start}). If the file comes from Chinese Excel, "
                    "try --encoding gbk (or gb18030)."
                ) from None
            except csv.Error as exc:
                raise KehuError(f"{self.name}: line {self._reader.line_num}: malformed CSV ({exc})") from None
            self.line = self._reader.line_num
            yield row

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line number, cells)`` for each data row; blank lines are skipped."""
        for row in self._guarded():
            if not row or all(not cell.strip() for cell in row):
                continue
            yield self.line, row

    def check_columns(self, allowed: Sequence[str], required: Sequence[str], extra_prefix: str | None = None) -> None:
        """Refuse unknown or duplicate columns and missing required ones, naming them."""
        problems = []
        seen = set()
        for name in self.header:
            if name in seen:
                problems.append(f"column {name!r} appears twice")
            seen.add(name)
            if name not in allowed and not (extra_prefix and name.startswith(extra_prefix)):
                problems.append(f"unknown column {name!r}")
        missing = [c for c in required if c not in seen]
        if missing:
            problems.append("missing required column(s): " + ", ".join(missing))
        if problems:
            raise KehuError(
                f"{self.name}: header refused: " + "; ".join(problems)
                + f".\nAllowed columns: {', '.join(allowed)}"
            )

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __enter__(self) -> CsvStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
