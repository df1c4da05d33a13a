"""CSV imports of customers and interactions: streamed, validated row by row, all or nothing.

The whole import is one transaction. By default any bad row means nothing is written, and
the report names every bad row (line, column, reason). ``skip_invalid`` writes the good
rows; ``dry_run`` only validates. Rows are read, checked and written a chunk at a time, so
memory stays flat whatever the file size, and a killed import leaves the database as it was.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from attrs import define, field
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.csvfile import DEFAULT_ENCODING, CsvStream
from kehu_core.errors import Problem, ValidationError
from kehu_core.fields import (
    CUSTOMER_COLUMNS,
    CUSTOMER_FIELDS,
    FieldSpec,
    check_interaction_rules,
    interaction_fields,
)
from kehu_core.hooktypes import CustomerChange
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer, CustomerTag
from kehu_core.types import utcnow
from kehu_core.validation import FieldError

CHUNK_ROWS = 5000
#: Problems kept in memory for the report; the count goes on, and ``on_problem`` sees all.
MAX_REPORTED = 1000
ATTRIBUTE_PREFIX = "attr:"


@define
class ImportReport:
    """What an import did: rows read, written, already present, refused, and why."""

    kind: str
    source: str
    read: int = 0
    written: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(factory=list)

    @property
    def complete(self) -> bool:
        """True when no row was refused."""
        return self.invalid == 0

    def add_problems(self, problems: Sequence[Problem]) -> None:
        """Count problems and keep the first :data:`MAX_REPORTED` for the report."""
        room = MAX_REPORTED - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])


class ImportRefused(ValidationError):
    """Bad rows were found and nothing was written; ``report`` says which and why."""

    def __init__(self, report: ImportReport):
        self.report = report
        more = report.invalid - len(report.problems)
        headline = (
            f"{report.source}: {report.invalid} of {report.read} row(s) refused; nothing was written "
            "(use --skip-invalid to write the good rows):"
        )
        problems = list(report.problems)
        super().__init__(problems, headline=headline)
        if more > 0:
            self.args = (self.args[0] + f"\n... and {more} more row(s) with problems (see --errors FILE)",)


ProgressFn = Callable[[int], None]
ProblemFn = Callable[[Problem], None]


def _parsers(specs: Sequence[FieldSpec], header: Sequence[str]) -> list[tuple[int, str, Callable[[Any], Any], bool]]:
    by_name = {s.name: s for s in specs}
    return [(i, name, by_name[name].parse, by_name[name].required) for i, name in enumerate(header) if name in by_name]


def _parse_row(parsers: list[tuple[int, str, Callable[[Any], Any], bool]], cells: list[str], line: int,
               problems: list[Problem]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    width = len(cells)
    for index, name, parse, required in parsers:
        raw = cells[index].strip() if index < width else ""
        if not raw:
            if required:
                problems.append(Problem(name, "required, must not be empty", line))
            continue
        try:
            clean[name] = parse(raw)
        except FieldError as exc:
            problems.append(Problem(name, str(exc), line, raw if len(raw) <= 60 else raw[:57] + "..."))
    return clean


def _chunks(stream: CsvStream, size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for item in stream.rows():
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _content_ref(cells: list[str], seen: dict[str, int]) -> str:
    """A stable reference for a row without ``external_ref``: its content, and its count among
    identical rows of the same chunk, so re-importing the same file finds the same keys."""
    digest = hashlib.blake2b("\x1f".join(c.strip() for c in cells).encode(), digest_size=16).hexdigest()
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return f"csv:{digest}:{count}"


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
    and ``occurred_at`` are required. Raises :class:`ImportRefused` (nothing written) when a
    row is bad, unless ``skip_invalid``.
    """
    specs = interaction_fields(app.interaction_kinds())
    with CsvStream(source, encoding) as stream:
        stream.check_columns([s.name for s in specs], [s.name for s in specs if s.required])
        parsers = _parsers(specs, stream.header)
        has_ref = "external_ref" in stream.header
        report = ImportReport(kind="interactions", source=stream.name, dry_run=dry_run)
        for chunk in _chunks(stream, chunk_rows):
            good: list[dict[str, Any]] = []
            codes: set[str] = set()
            seen: dict[str, int] = {}
            for line, cells in chunk:
                problems: list[Problem] = []
                clean = _parse_row(parsers, cells, line, problems)
                if not problems:
                    problems = check_interaction_rules(clean, line)
                if problems:
                    _refuse(report, problems, on_problem)
                    continue
                if not (has_ref and clean.get("external_ref")):
                    clean["external_ref"] = _content_ref(cells, seen)
                clean["_line"] = line
                codes.add(clean["customer_code"])
                good.append(clean)
            report.read += len(chunk)
            ids = dict(session.execute(select(Customer.code, Customer.id).where(Customer.code.in_(codes))).all()) if codes else {}
            rows = []
            for clean in good:
                cid = ids.get(clean["customer_code"])
                if cid is None:
                    _refuse(report, [Problem("customer_code", "no customer with this code", clean["_line"], clean["customer_code"])], on_problem)
                    continue
                clean["customer_id"] = cid
                rows.append(clean)
            if not dry_run and (skip_invalid or report.invalid == 0):
                written = write_interactions(app, session, rows, source="import")
                report.written += len(written)
                report.unchanged += len(rows) - len(written)
            elif dry_run:
                report.written += len(rows)
            if progress:
                progress(report.read)
    if report.invalid and not skip_invalid:
        raise ImportRefused(report)
    return report


def _refuse(report: ImportReport, problems: list[Problem], on_problem: ProblemFn | None) -> None:
    report.invalid += 1
    report.add_problems(problems)
    if on_problem:
        for problem in problems:
            on_problem(problem)


def _upsert(dialect: str) -> Any:
    return {"sqlite": sqlite, "postgresql": postgresql}[dialect].insert(Customer.__table__)


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
    columns present are written, and a row equal to what is stored changes nothing.
    """
    with CsvStream(source, encoding) as stream:
        stream.check_columns(CUSTOMER_COLUMNS, ("code", "name"), extra_prefix=ATTRIBUTE_PREFIX)
        parsers = _parsers(CUSTOMER_FIELDS, stream.header)
        attr_columns = [(i, h[len(ATTRIBUTE_PREFIX):]) for i, h in enumerate(stream.header) if h.startswith(ATTRIBUTE_PREFIX)]
        present = {name for _, name, _, _ in parsers}
        report = ImportReport(kind="customers", source=stream.name, dry_run=dry_run)
        for chunk in _chunks(stream, chunk_rows):
            good: dict[str, dict[str, Any]] = {}
            for line, cells in chunk:
                problems: list[Problem] = []
                clean = _parse_row(parsers, cells, line, problems)
                if attr_columns:
                    attrs_ = dict(clean.get("attributes") or {})
                    attrs_.update({name: cells[i].strip() for i, name in attr_columns if i < len(cells) and cells[i].strip()})
                    clean["attributes"] = attrs_
                code = clean.get("code")
                if code in good:
                    problems.append(Problem("code", f"appears twice in the file (also line {good[code]['_line']})", line, code))
                if problems:
                    _refuse(report, problems, on_problem)
                    continue
                clean["_line"] = line
                good[code] = clean
            report.read += len(chunk)
            if not dry_run and (skip_invalid or report.invalid == 0):
                _write_customers(app, session, list(good.values()), present | ({"attributes"} if attr_columns else set()), report)
            elif dry_run:
                report.written += len(good)
            if progress:
                progress(report.read)
    if report.invalid and not skip_invalid:
        raise ImportRefused(report)
    return report


def _write_customers(app: Kehu, session: Session, rows: list[dict[str, Any]], present: set[str], report: ImportReport) -> None:
    if not rows:
        return
    existing = {c.code: c for c in session.scalars(select(Customer).where(Customer.code.in_([r["code"] for r in rows])))}
    now = utcnow()
    changes: list[CustomerChange] = []
    new_rows = []
    for row in rows:
        current = existing.get(row["code"])
        values = {k: v for k, v in row.items() if k in present and k not in ("tags", "_line")}
        if current is None:
            values.setdefault("kind", "company")
            values["kind"] = values["kind"] or "company"
            values["special_dates"] = values.get("special_dates") or {}
            values["attributes"] = values.get("attributes") or {}
            values["marketing_consent"] = bool(values.get("marketing_consent"))
            new_rows.append({**values, "active": True, "created_at": now, "updated_at": now, "_tags": row.get("tags")})
            continue
        changed = [k for k, v in values.items() if getattr(current, k) != (v if v is not None or k not in ("special_dates", "attributes") else {})]
        if "kind" in changed and values["kind"] is None:
            changed.remove("kind")
        tags_changed = "tags" in present and (row.get("tags") or []) != [t.tag for t in current.tags]
        if not changed and not tags_changed:
            report.unchanged += 1
            continue
        for key in changed:
            setattr(current, key, values[key] if values[key] is not None or key not in ("special_dates", "attributes") else {})
        if tags_changed:
            current.tags = [CustomerTag(tag=t) for t in row.get("tags") or []]
            changed.append("tags")
        current.updated_at = now
        report.updated += 1
        changes.append(CustomerChange(current.id, current.code, "updated", tuple(changed)))
    session.flush()
    if new_rows:
        tags_by_code = {r["code"]: r.pop("_tags") or [] for r in new_rows}
        stmt = _upsert(app.dialect).returning(Customer.__table__.c.id, Customer.__table__.c.code)
        created = session.execute(stmt, new_rows).all()
        tag_rows = [{"customer_id": cid, "tag": t} for cid, code in created for t in tags_by_code[code]]
        if tag_rows:
            session.execute(CustomerTag.__table__.insert(), tag_rows)
        changes += [CustomerChange(cid, code, "created", tuple(sorted(present))) for cid, code in created]
        report.written += len(created)
    if changes:
        app.hook.kehu_customers_changed(session=session, changes=changes)
