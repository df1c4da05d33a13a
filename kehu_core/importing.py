"""CSV imports of customers and interactions: streamed, validated row by row, all or nothing.

The whole import is one transaction. By default any bad row means nothing is written, and
the report names every bad row (line, column, reason). ``skip_invalid`` writes the good
rows; ``dry_run`` only validates. Rows are read, checked and written a chunk at a time, so
memory stays flat whatever the file size, and a killed import leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from datetime import tzinfo
from pathlib import Path
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

from attrs import define, field
from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session, selectinload

from kehu_core import audit
from kehu_core.access import Forbidden, customer_condition, require
from kehu_core.app import Kehu
from kehu_core.csvfile import DEFAULT_ENCODING, CsvStream
from kehu_core.errors import KehuError, Problem, ValidationError
from kehu_core.fields import (
    CUSTOMER_COLUMNS,
    CUSTOMER_FIELDS,
    FieldSpec,
    attribute_name,
    attribute_value,
    check_interaction_rules,
    interaction_fields,
)
from kehu_core.hooktypes import CustomerChange
from kehu_core.i18n import N_, messages
from kehu_core.interactions import (
    WRITE_COLUMNS,
    existing_refs,
    in_values,
    interaction_writer,
)
from kehu_core.models import Customer, CustomerTag
from kehu_core.types import utcnow
from kehu_core.validation import DEFAULT_TIMEZONE, FieldError, local_zone, timestamp

_, ngettext = messages("kehu_core").functions()

#: Rows read, checked and written at a time: big enough to amortise each query, small
#: enough to keep memory flat (a chunk of typical rows is a few MB).
CHUNK_ROWS = 10_000
#: Problems kept in memory for the report; the count goes on, and ``on_problem`` sees all.
MAX_REPORTED = 1000
ATTRIBUTE_PREFIX = "attr:"
#: PostgreSQL advisory lock taken by every writing import, so two imports run one after
#: the other (as on SQLite) instead of deadlocking on each other's unique keys.
IMPORT_LOCK_KEY = 0x6B656875  # "kehu"
_IN_SLICE = 5000
#: SQLite page cache for an import, in KiB (the default is 2 MiB).
SQLITE_IMPORT_CACHE_KIB = 64 * 1024
#: The tables behind the ORM classes, written with Core executemany (typed as plain FromClauses).
_CUSTOMERS = cast(Table, Customer.__table__)
_CUSTOMER_TAGS = cast(Table, CustomerTag.__table__)


@define
class ImportReport:
    """What an import did: rows read, written, updated, already present, refused, and why.

    ``problems`` keeps the first :data:`MAX_REPORTED` problems (``problem_count`` counts all
    of them); ``invalid`` counts refused rows.
    """

    kind: str
    source: str
    read: int = 0
    written: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    dry_run: bool = False
    problem_count: int = 0
    problems: list[Problem] = field(factory=list)
    _pending: list[Sequence[Problem]] = field(factory=list, repr=False)

    def refuse(self, problems: Sequence[Problem]) -> None:
        """Note one refused row with its problems (recorded by :meth:`settle`)."""
        self._pending.append(problems)

    def settle(self, on_problem: ProblemFn | None) -> None:
        """Record the rows refused in this chunk in line order, keeping the first few for the
        report and handing every problem to ``on_problem``."""
        self._pending.sort(key=lambda problems: problems[0].row or 0)
        for problems in self._pending:
            self.invalid += 1
            self.problem_count += len(problems)
            room = MAX_REPORTED - len(self.problems)
            if room > 0:
                self.problems.extend(problems[:room])
            if on_problem:
                for problem in problems:
                    on_problem(problem)
        self._pending.clear()


def describe_problem(problem: Problem) -> str:
    """``line 7, amount: not a number (got 'abc')``: a problem as a line of the report."""
    values = {"row": problem.row, "field": problem.field, "reason": problem.reason, "value": problem.value}
    if problem.value is not None:
        return _("line {row}, {field}: {reason} (got {value!r})").format(**values)
    return _("line {row}, {field}: {reason}").format(**values)


class ImportRefused(ValidationError):
    """Bad rows were found and nothing was written; ``report`` says which and why."""

    #: Problems printed in the message; all of them go to ``--errors FILE``.
    SHOWN = 50

    def __init__(self, report: ImportReport):
        self.report = report
        self.problems = list(report.problems)
        lines = [
            ngettext(
                "{source}: {invalid} of {read} row(s) refused; nothing was written "
                "(fix them, or use --skip-invalid to write the good rows):",
                "{source}: {invalid} of {read} row(s) refused; nothing was written "
                "(fix them, or use --skip-invalid to write the good rows):",
                report.read,
            ).format(source=report.source, invalid=report.invalid, read=report.read)
        ]
        lines += [f"  {describe_problem(p)}" for p in report.problems[: self.SHOWN]]
        more = report.problem_count - min(len(report.problems), self.SHOWN)
        if more > 0:
            lines.append(
                "  "
                + ngettext(
                    "... and {more} more problem(s): use --errors FILE to get every one",
                    "... and {more} more problem(s): use --errors FILE to get every one",
                    more,
                ).format(more=more)
            )
        KehuError.__init__(self, "\n".join(lines))


ProgressFn = Callable[[int, int | None], None]
ProblemFn = Callable[[Problem], None]


class Occurrences:
    """How often each key was seen earlier in the file, kept in a private temporary SQLite
    database (on disk past a small cache), so memory stays flat for any file size."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def take(self, keys: Sequence[tuple[str, int]]) -> list[tuple[int, int]]:
        """For each ``(key, line)`` in order: how many times the key came before, and the
        line of its first occurrence; then records them."""
        if self._db is None:
            self._db = sqlite3.connect("", isolation_level=None)  # "" = private temporary file
            self._db.execute(
                "CREATE TABLE seen (key TEXT PRIMARY KEY, n INTEGER NOT NULL, line INTEGER NOT NULL)"
            )
        distinct = list({key for key, _ in keys})
        prior: dict[str, tuple[int, int]] = {}
        for begin in range(0, len(distinct), _IN_SLICE):
            part = distinct[begin : begin + _IN_SLICE]
            query = f"SELECT key, n, line FROM seen WHERE key IN ({', '.join('?' * len(part))})"
            prior.update((key, (n, line)) for key, n, line in self._db.execute(query, part))
        result = []
        for key, line in keys:
            count, first = prior.get(key, (0, line))
            result.append((count, first))
            prior[key] = (count + 1, first)
        self._db.executemany(
            "INSERT INTO seen (key, n, line) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET n = excluded.n",
            [(key, n, line) for key, (n, line) in prior.items()],
        )
        return result

    def close(self) -> None:
        """Delete the temporary database."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Occurrences:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- parsing ------------------------------------------------------------------------------------
Parser = tuple[int, int, Callable[[str], Any], bool, str]


def _compile(specs: Sequence[FieldSpec], header: Sequence[str], slots: dict[str, int]) -> list[Parser]:
    """Per column present: ``(cell index, slot in the row's values, parse, required, name)``."""
    by_name = {s.name: s for s in specs}
    return [
        (index, slots[name], by_name[name].parse, by_name[name].required, name)
        for index, name in enumerate(header)
        if name in by_name
    ]


class _Refused:
    """A cell's parse failure, kept in a column's value cache."""

    __slots__ = ("reason", "raw")

    def __init__(self, reason: str, raw: str):
        self.reason, self.raw = reason, raw


#: An empty required cell; its reason is translated where the problem is made.
_REQUIRED = _Refused(N_("required, must not be empty"), "")


def _shown(text_: str) -> str:
    return text_ if len(text_) <= 60 else text_[:57] + "..."


def _parse_one(parse: Callable[[str], Any], raw: str, required: bool) -> Any:
    text_ = raw.strip()
    if not text_:
        return _REQUIRED if required else None
    try:
        return parse(text_)
    except FieldError as exc:
        return _Refused(str(exc), _shown(text_))


def _parse_column(
    column: Sequence[str], parse: Callable[[str], Any], required: bool
) -> tuple[list[Any], bool]:
    """Parse one column of a chunk: its values (a :class:`_Refused` where refused) and whether
    any was refused. A column whose values repeat (codes, kinds, names) parses each distinct
    text once; a parse is pure, so the same text gives the same value or the same error.
    Other columns take a fast path that assumes every cell is good, and redo the column cell
    by cell, to say which cells are not, only when one is not."""
    distinct = set(column)
    if len(distinct) * 2 <= len(column):
        table = {raw: _parse_one(parse, raw, required) for raw in distinct}
        refused = any(type(v) is _Refused for v in table.values())
        return list(map(table.__getitem__, column)), refused
    texts = [raw.strip() for raw in column]
    try:
        if all(texts):
            return list(map(parse, texts)), False
        if not required:
            return [parse(t) if t else None for t in texts], False
    except FieldError:
        pass
    values = [_parse_one(parse, raw, required) for raw in texts]
    return values, True


def _parse_chunk(
    parsers: list[Parser],
    chunk: list[tuple[int, list[str]]],
    width: int,
    slots: int,
) -> tuple[list[tuple[int, list[Any]]], dict[int, list[Problem]]]:
    """Parse a chunk column by column: ``(line, values by slot)`` per row, and the problems
    of the refused rows by their position in the chunk. Blank cells are ``None``."""
    problems: dict[int, list[Problem]] = {}
    cells_rows = [cells for _, cells in chunk]
    if set(map(len, cells_rows)) != {width}:
        cells_rows = []
        for pos, (line, cells) in enumerate(chunk):
            have = len(cells)
            if have > width:
                if "".join(cells[width:]).strip():
                    problems[pos] = [
                        Problem(
                            "(row)",
                            _(
                                "has {have} cells but the header has {width} columns "
                                "(a comma inside an unquoted value?)"
                            ).format(have=have, width=width),
                            line,
                        )
                    ]
                cells = cells[:width]
            elif have < width:
                cells = cells + [""] * (width - have)
            cells_rows.append(cells)
    columns = list(zip(*cells_rows))
    by_slot: list[Sequence[Any]] = [
        [None] * len(chunk)
    ] * slots  # one shared list: zip reads each independently
    for index, slot, parse, required, name in parsers:
        values, refused = _parse_column(columns[index], parse, required)
        if refused:
            for pos, value in enumerate(values):
                if type(value) is _Refused:
                    problems.setdefault(pos, []).append(
                        Problem(
                            name,
                            _(value.reason) if value is _REQUIRED else value.reason,
                            chunk[pos][0],
                            value.raw or None,
                        )
                    )
                    values[pos] = None
        by_slot[slot] = values
    rows = list(zip([line for line, _ in chunk], map(list, zip(*by_slot))))
    return rows, problems


def _lock_for_import(app: Kehu, session: Session) -> None:
    """Serialise writing imports on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already does)."""
    if app.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})


@contextmanager
def _bulk_cache(app: Kehu, session: Session) -> Iterator[None]:
    """On SQLite, a bigger page cache while the import runs: a big transaction then keeps its
    index pages in memory instead of spilling them to the WAL and reading them back."""
    if app.dialect != "sqlite":
        yield
        return
    connection = session.connection()
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


# -- interactions -------------------------------------------------------------------------------
_SLOTS = {name: i for i, name in enumerate(WRITE_COLUMNS)}
_CODE = _SLOTS["customer_id"]  # holds the customer code until the id is looked up
_REF, _STATUS = _SLOTS["external_ref"], _SLOTS["status"]
_KIND, _AMOUNT, _DUE, _PAID = _SLOTS["kind"], _SLOTS["amount"], _SLOTS["due_at"], _SLOTS["paid_at"]
INTERACTION_SLOTS = {**_SLOTS, "customer_code": _CODE}
#: The columns holding times, which a content key reads in one fixed zone (see :func:`_key_by_content`).
_TIME_COLUMNS = ("occurred_at", "due_at", "paid_at")
#: The zone a content key reads times without an offset in, whatever ``KEHU_TIMEZONE`` says:
#: the default zone, so keys made before this rule (under the default) stay the same.
_KEY_ZONE = ZoneInfo(DEFAULT_TIMEZONE)


def content_ref(digest: str, occurrence: int) -> str:
    """The reference of a row without ``external_ref``: its content digest and occurrence."""
    return f"csv:{digest}:{occurrence}"


def _digest(values: list[Any]) -> str:
    """A digest of a row's parsed values (so ``100`` and ``100.00``, or a moved column, agree),
    with times read in :data:`_KEY_ZONE` (so the company's zone does not change the key)."""
    canonical = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def import_interactions(
    app: Kehu,
    session: Session,
    source: str | Path | IO[bytes],
    *,
    encoding: str = DEFAULT_ENCODING,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    on_problem: ProblemFn | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import interactions from a CSV file into ``session``'s transaction.

    Columns: ``external_ref,customer_code,kind,status,occurred_at,channel,amount,cost,quantity,
    product,category,salesperson,satisfaction,note,due_at,paid_at``; ``customer_code``, ``kind``
    and ``occurred_at`` are required. A row whose ``external_ref`` is already stored is left
    alone; a row without one is keyed by its content (see :func:`content_ref`), so importing
    the same file again changes nothing. Raises :class:`ImportRefused` (nothing written) when
    a row is bad, unless ``skip_invalid``; ``dry_run`` writes nothing.

    Needs permission ``customer.import`` and a user who sees every customer.
    """
    _require_import(session, N_("import interactions"))
    specs = interaction_fields(app.interaction_kinds())
    occurrences = Occurrences()
    with CsvStream(source, encoding) as stream:
        stream.check_columns([s.name for s in specs], [s.name for s in specs if s.required])
        parsers = _compile(specs, stream.header, INTERACTION_SLOTS)
        width = len(stream.header)
        times = [(index, slot) for index, slot, _, _, name in parsers if name in _TIME_COLUMNS]
        report = ImportReport(kind="interactions", source=stream.name, dry_run=dry_run)
        customers = _CustomerIds(session)
        if not dry_run:
            _lock_for_import(app, session)
        with ExitStack() as stack:
            stack.enter_context(occurrences)
            stack.enter_context(_bulk_cache(app, session))
            writer = None if dry_run else stack.enter_context(interaction_writer(app, session, "import"))
            for chunk in stream.chunks(chunk_rows):
                parsed, problems = _parse_chunk(parsers, chunk, width, len(WRITE_COLUMNS))
                good: list[tuple[int, list[Any]]] = []
                for pos, (line, values) in enumerate(parsed):
                    bad = problems.get(pos)
                    if not bad and (
                        values[_DUE] or values[_PAID] or (values[_AMOUNT] is not None and values[_AMOUNT] < 0)
                    ):
                        bad = check_interaction_rules(
                            {
                                "kind": values[_KIND],
                                "amount": values[_AMOUNT],
                                "due_at": values[_DUE],
                                "paid_at": values[_PAID],
                            },
                            line,
                        )
                    if bad:
                        report.refuse(bad)
                    else:
                        good.append((line, values))
                report.read += len(chunk)
                _key_by_content(good, occurrences, chunk, times)
                rows = _resolve_customers(customers, good, report)
                report.settle(on_problem)
                if writer is None:
                    present = existing_refs(session, list({r[_REF] for r in rows}))
                    fresh = len({r[_REF] for r in rows} - present)
                    report.written += fresh
                    report.unchanged += len(rows) - fresh
                elif skip_invalid or report.invalid == 0:
                    written = writer.write(rows)
                    report.written += len(written)
                    report.unchanged += len(rows) - len(written)
                if progress:
                    progress(stream.position(), stream.size)
            if report.invalid and not skip_invalid:
                # Raised inside the writer's block, so kehu_interactions_done does not fire
                # for a write that is being rolled back.
                raise ImportRefused(report)
    return report


def _key_by_content(
    good: list[tuple[int, list[Any]]],
    occurrences: Occurrences,
    chunk: list[tuple[int, list[str]]],
    times: list[tuple[int, int]],
) -> None:
    """Give rows without ``external_ref`` their content reference (digest + occurrence in the file).

    ``times`` are the ``(cell index, slot)`` of the time columns: under a company zone other
    than :data:`_KEY_ZONE`, their cells are read again in that zone for the digest, so the
    same file imported under another ``KEHU_TIMEZONE`` gets the same keys.
    """
    keyless = [(line, values) for line, values in good if not values[_REF]]
    if not keyless:
        return
    for _line, values in keyless:
        values[_STATUS] = values[_STATUS] or "done"  # a blank status and "done" are the same row
    if times and _zone_key(local_zone()) != DEFAULT_TIMEZONE:
        cells = dict(chunk)
        digests = [_digest(_in_key_zone(values, cells[line], times)) for line, values in keyless]
    else:
        digests = [_digest(values) for _, values in keyless]
    counts = occurrences.take([(digest, line) for digest, (line, _) in zip(digests, keyless)])
    for (_line, values), digest, (count, _first) in zip(keyless, digests, counts):
        values[_REF] = content_ref(digest, count)


def _zone_key(zone: tzinfo) -> str | None:
    return getattr(zone, "key", None)


def _in_key_zone(values: list[Any], cells: list[str], times: list[tuple[int, int]]) -> list[Any]:
    """A copy of ``values`` with the times read from their cells in :data:`_KEY_ZONE`."""
    keyed = list(values)
    for index, slot in times:
        raw = cells[index].strip() if index < len(cells) else ""
        if raw:
            with suppress(FieldError):  # read in the company's zone it passed; keep that reading
                keyed[slot] = timestamp(raw, _KEY_ZONE)
    return keyed


class _CustomerIds:
    """Customer ids by code, looked up a chunk at a time and remembered (up to a bound, so
    memory stays flat), so a file over a few thousand customers asks the database once each."""

    LIMIT = 200_000

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.known: dict[str, int | None] = {}  # None: forgotten

    def lookup(self, codes: set[str]) -> dict[str, int | None]:
        """``{code: id, or None if forgotten}`` for the codes that exist."""
        missing = [c for c in codes if c not in self.known]
        if missing:
            if len(self.known) + len(missing) > self.LIMIT:
                self.known.clear()
                missing = list(codes)
            table = _CUSTOMERS
            stmt = select(table.c.code, table.c.id, table.c.forgotten_at.is_(None)).where(
                in_values(table.c.code, missing, self.dialect)
            )
            self.known.update(
                (code, cid if alive else None) for code, cid, alive in self.session.execute(stmt)
            )
        return self.known


def _resolve_customers(
    customers: _CustomerIds, good: list[tuple[int, list[Any]]], report: ImportReport
) -> list[list[Any]]:
    """Replace each row's customer code by the customer's id; refuse unknown or forgotten codes."""
    known = customers.lookup({values[_CODE] for _, values in good})
    rows = []
    for line, values in good:
        code = values[_CODE]
        cid = known.get(code)
        if cid is None:
            reason = (
                _("no customer with this code")
                if code not in known
                else _("this customer was forgotten (personal data erased)")
            )
            report.refuse([Problem("customer_code", reason, line, code)])
            continue
        values[_CODE] = cid
        rows.append(values)
    return rows


# -- customers ----------------------------------------------------------------------------------
_EMPTY = {"special_dates": dict, "attributes": dict, "tags": list}
_BLANK_MEANS = {"kind": "company", "marketing_consent": False}


def import_customers(
    app: Kehu,
    session: Session,
    source: str | Path | IO[bytes],
    *,
    encoding: str = DEFAULT_ENCODING,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    on_problem: ProblemFn | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import customers from a CSV file: new codes are added, known codes updated.

    Columns: ``code,name,kind,region,industry,size,scale,credit_limit,owner,source,phone,email,
    birthday,tags`` (and ``special_dates``, ``marketing_consent``, ``attributes``, or
    ``attr:NAME`` columns for your own fields); ``code`` and ``name`` are required. Only the
    columns present are written; a blank cell clears that field (as ``customer edit`` does).
    A row equal to what is stored changes nothing, not even ``updated_at``. A code twice in
    the file, or a forgotten customer's code, is refused.

    Needs permission ``customer.import`` and a user who sees every customer. The audit trail
    gets one entry for the import (file, rows written), not one per customer.
    """
    _require_import(session, N_("import customers"))
    occurrences = Occurrences()
    with CsvStream(source, encoding) as stream:
        stream.check_columns(CUSTOMER_COLUMNS, ("code", "name"), extra_prefix=ATTRIBUTE_PREFIX)
        names = [s.name for s in CUSTOMER_FIELDS]
        parsers = _compile(CUSTOMER_FIELDS, stream.header, {n: i for i, n in enumerate(names)})
        present = [name for _, _, _, _, name in parsers]
        attr_columns = _attribute_columns(stream.name, stream.header)
        width = len(stream.header)
        report = ImportReport(kind="customers", source=stream.name, dry_run=dry_run)
        if not dry_run:
            _lock_for_import(app, session)
        with occurrences:
            for chunk in stream.chunks(chunk_rows):
                rows, problems = _parse_chunk(parsers, chunk, width, len(names))
                parsed: list[tuple[int, dict[str, Any], dict[str, str | None]]] = []
                for pos, (line, values) in enumerate(rows):
                    attrs_, bad = _attribute_cells(chunk[pos][1], attr_columns, line)
                    if pos in problems or bad:
                        report.refuse(problems.get(pos, []) + bad)
                        continue
                    clean = {name: values[i] for i, name in enumerate(names) if name in present}
                    parsed.append((line, clean, attrs_))
                report.read += len(chunk)
                seen = occurrences.take([(clean["code"], line) for line, clean, _ in parsed])
                good = []
                for (line, clean, attrs_), (count, first) in zip(parsed, seen):
                    if count:
                        report.refuse(
                            [
                                Problem(
                                    "code",
                                    _("appears more than once in the file (first on line {first})").format(
                                        first=first
                                    ),
                                    line,
                                    clean["code"],
                                )
                            ]
                        )
                    else:
                        good.append((line, clean, attrs_))
                plan = _plan_customers(session, good, report, app.dialect)
                report.settle(on_problem)
                if not dry_run and (skip_invalid or report.invalid == 0):
                    _write_customers(app, session, plan)
                if progress:
                    progress(stream.position(), stream.size)
    if report.invalid and not skip_invalid:
        raise ImportRefused(report)
    if not dry_run and (report.written or report.updated):
        audit.record(
            session,
            "import",
            report.source,
            "imported customers",
            {"added": report.written, "updated": report.updated},
        )
    return report


def _require_import(session: Session, doing: str) -> None:
    """Imports need ``customer.import``, by a user whose record rules limit nothing: a file's
    rows are not checked one by one against what its importer may see. ``doing`` is marked
    ``N_`` and translated here."""
    actor = require(session, "customer.import", doing)
    if customer_condition(session) is not None:
        raise Forbidden(
            _(
                "{login} may not {doing}: imports need a user who sees every customer "
                "(a manager); nothing was done"
            ).format(login=actor.login, doing=_(doing))
        )


def _attribute_columns(source: str, header: Sequence[str]) -> list[tuple[int, str]]:
    """``(cell index, NAME)`` of the ``attr:NAME`` columns; a name that is not plain text is refused."""
    columns = []
    for index, column in enumerate(header):
        if column.startswith(ATTRIBUTE_PREFIX):
            name = column[len(ATTRIBUTE_PREFIX) :]
            try:
                columns.append((index, attribute_name(name)))
            except FieldError as exc:
                raise KehuError(
                    _("{source}: header (line 1) refused: column {column!r}: {reason}").format(
                        source=source, column=_shown(column), reason=exc
                    )
                ) from None
    return columns


def _attribute_cells(
    cells: list[str], columns: list[tuple[int, str]], line: int
) -> tuple[dict[str, str | None], list[Problem]]:
    """A row's ``attr:NAME`` values (``None`` for a blank cell: the attribute is removed) and
    the problems of the cells refused."""
    values: dict[str, str | None] = {}
    problems: list[Problem] = []
    for index, name in columns:
        raw = cells[index].strip() if index < len(cells) else ""
        if not raw:
            values[name] = None
            continue
        try:
            values[name] = attribute_value(raw)
        except FieldError as exc:
            problems.append(Problem(ATTRIBUTE_PREFIX + name, str(exc), line, _shown(raw)))
    return values, problems


@define
class _CustomerPlan:
    """What a chunk of customer rows will do: rows to insert (with their tags) and updates."""

    new_rows: list[dict[str, Any]] = field(factory=list)
    new_tags: dict[str, list[str]] = field(factory=dict)
    updates: list[tuple[Customer, list[str], dict[str, Any], list[str] | None]] = field(factory=list)


def _plan_customers(
    session: Session,
    rows: list[tuple[int, dict[str, Any], dict[str, str | None]]],
    report: ImportReport,
    dialect: str,
) -> _CustomerPlan:
    """Compare each row with the stored customer: new, changed (which fields), or unchanged."""
    plan = _CustomerPlan()
    if not rows:
        return plan
    codes = [clean["code"] for _, clean, _ in rows]
    stmt = (
        select(Customer)
        .options(selectinload(Customer.tags))
        .where(in_values(_CUSTOMERS.c.code, codes, dialect))
    )
    existing = {c.code: c for c in session.scalars(stmt)}
    for line, clean, attrs_ in rows:
        values: dict[str, Any] = {
            k: (_EMPTY[k]() if k in _EMPTY else _BLANK_MEANS.get(k)) if v is None else v
            for k, v in clean.items()
        }
        tags = values.pop("tags", None)
        current = existing.get(values["code"])
        if current is not None and current.forgotten_at is not None:
            report.refuse(
                [
                    Problem(
                        "code",
                        _("this customer was forgotten (personal data erased); use a new code"),
                        line,
                        values["code"],
                    )
                ]
            )
            continue
        if attrs_:
            merged = dict(values.get("attributes", current.attributes if current is not None else {}) or {})
            for name, value in attrs_.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            values["attributes"] = merged
        if current is None:
            for key, default in (
                ("kind", "company"),
                ("marketing_consent", False),
                ("special_dates", {}),
                ("attributes", {}),
            ):
                values.setdefault(key, default)
            plan.new_rows.append(values)
            plan.new_tags[values["code"]] = tags or []
            report.written += 1
            continue
        changed = [k for k, v in values.items() if getattr(current, k) != v]
        # Tags are a set: the same tags in another order change nothing.
        if tags is not None and sorted(tags) != sorted(t.tag for t in current.tags):
            changed.append("tags")
        if changed:
            plan.updates.append((current, changed, values, tags))
            report.updated += 1
        else:
            report.unchanged += 1
    return plan


def _write_customers(app: Kehu, session: Session, plan: _CustomerPlan) -> None:
    """Apply a chunk's plan and fire ``kehu_customers_changed`` once for the chunk."""
    now = utcnow()
    changes: list[CustomerChange] = []
    for current, changed, values, tags in plan.updates:
        for key in changed:
            if key != "tags":
                setattr(current, key, values[key])
        if "tags" in changed:
            current.tags = [CustomerTag(tag=t) for t in tags or []]
        current.updated_at = now
        changes.append(CustomerChange(current.id, current.code, "updated", tuple(changed)))
    session.flush()
    if plan.new_rows:
        table = _CUSTOMERS
        rows = [{**values, "active": True, "created_at": now, "updated_at": now} for values in plan.new_rows]
        session.execute(insert(table), rows)  # executemany; ids read back below (cheaper than RETURNING)
        codes = [row["code"] for row in rows]
        created = session.execute(
            select(table.c.id, table.c.code).where(in_values(table.c.code, codes, app.dialect))
        ).all()
        tag_rows = [{"customer_id": cid, "tag": t} for cid, code in created for t in plan.new_tags[code]]
        if tag_rows:
            session.execute(insert(_CUSTOMER_TAGS), tag_rows)
        fields_written = tuple(sorted(plan.new_rows[0]))
        changes += [CustomerChange(cid, code, "created", fields_written) for cid, code in created]
    if changes:
        app.hook.kehu_customers_changed(session=session, changes=changes)
