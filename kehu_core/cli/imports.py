"""``kehu customer import`` and ``kehu interaction import``: one shared command shape."""

from __future__ import annotations

import codecs
import csv
import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import Progress, csv_row, emit_json, refusing_duplicates
from kehu_core.fields import CUSTOMER_COLUMNS, INTERACTION_COLUMNS
from kehu_core.i18n import N_, messages
from kehu_core.importing import (
    ImportRefused,
    ImportReport,
    describe_problem,
    import_customers,
    import_interactions,
)

_, ngettext = messages("kehu_core").functions()

#: Problems printed after a successful ``--skip-invalid`` import; ``--errors FILE`` has all.
SHOWN_PROBLEMS = 50
ERRORS_HEADER = ("line", "column", "reason", "value")
#: The encodings named in the refusal of an unknown one (any other Python text codec works too).
COMMON_ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "utf-16", "latin-1")


def _text_encoding(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """``--encoding``: a codec that turns bytes into text, refused in one line otherwise."""
    encodings = ", ".join(COMMON_ENCODINGS)
    try:
        info = codecs.lookup(value)
    except (LookupError, ValueError):
        raise click.ClickException(
            _(
                "unknown encoding {value!r}; use one of {encodings} (or another text encoding Python knows)"
            ).format(value=value, encodings=encodings)
        ) from None
    # base64, zlib, rot13 ... are codecs too, but they do not turn bytes into text.
    if not getattr(info, "_is_text_encoding", True):
        raise click.ClickException(
            _(
                "{value!r} is not a text encoding; "
                "use one of {encodings} (or another text encoding Python knows)"
            ).format(value=value, encodings=encodings)
        )
    return value


def _import_command(
    kind: str,
    columns: tuple[str, ...],
    required: str,
    service: Callable[..., ImportReport],
    notes: str,
    example: str,
) -> click.Command:
    @click.command(
        "import",
        cls=TranslatedCommand,
        help_values={
            "kind": kind,
            "columns": ", ".join(columns),
            "required": required,
            "notes": notes,
            "example": example,
        },
        help="""Import {kind} from a CSV FILE (UTF-8 with or without BOM; --encoding gbk for Chinese Excel).

\b
Columns (header line, any order, names as below):
  {columns}
Required: {required}.
{notes}

All or nothing by default: if any row is bad, nothing is written and every bad row is
reported (line, column, reason). --skip-invalid writes the good rows instead; --dry-run
only checks. Re-importing the same file changes nothing. See docs/importing.md.

\b
Example:
  {example}
""",
    )
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=False))
    @click.option(
        "--encoding",
        default="utf-8",
        show_default=True,
        callback=_text_encoding,
        help="File encoding: utf-8 (BOM or not), gbk, gb18030 ...",
    )
    @click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
    @click.option("--skip-invalid", is_flag=True, help="Write the good rows and report the bad ones.")
    @click.option(
        "--errors",
        "errors_file",
        type=click.Path(dir_okay=False, writable=True),
        help="Write every problem to this CSV file (line,column,reason,value).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    def command(
        file: str, encoding: str, dry_run: bool, skip_invalid: bool, errors_file: str | None, as_json: bool
    ) -> None:
        handle = open(errors_file, "w", encoding="utf-8-sig", newline="") if errors_file else None  # noqa: SIM115  BOM: Excel opens it right
        sink = _problem_sink(handle) if handle else None
        try:
            with (
                Progress(
                    _("importing {kind}").format(kind=_(kind)), total=max(os.path.getsize(file), 1)
                ) as progress,
                refusing_duplicates(
                    _(
                        "another command wrote some of these {kind} at the same moment; run the import again"
                    ).format(kind=_(kind))
                ),
                transaction() as (app, session),
                _gc_spared(),
            ):
                report = service(
                    app,
                    session,
                    file,
                    encoding=encoding,
                    skip_invalid=skip_invalid,
                    dry_run=dry_run,
                    progress=progress,
                    on_problem=sink,
                )
        except ImportRefused as refused:
            if as_json:
                emit_json(_report_data(refused.report, committed=False))
                raise SystemExit(1) from None
            raise
        finally:
            if handle:
                handle.close()
        if as_json:
            emit_json(_report_data(report, committed=not dry_run))
            return
        click.echo(_summary(report, dry_run))
        for problem in report.problems[:SHOWN_PROBLEMS]:
            click.echo(f"  {describe_problem(problem)}", err=True)
        more = report.problem_count - min(len(report.problems), SHOWN_PROBLEMS)
        if more > 0:
            if errors_file:
                text = ngettext("... and {n} more problem(s)", "... and {n} more problem(s)", more)
            else:
                text = ngettext(
                    "... and {n} more problem(s); use --errors FILE to get every one",
                    "... and {n} more problem(s); use --errors FILE to get every one",
                    more,
                )
            click.echo("  " + text.format(n=more), err=True)

    return command


def _summary(report: ImportReport, dry_run: bool) -> str:
    """One line: what was read, written, updated, unchanged and skipped."""
    counts = [
        (_("would write {n} new") if dry_run else _("wrote {n} new")).format(n=report.written),
    ]
    if report.kind == "customers":
        counts.append((_("would update {n}") if dry_run else _("updated {n}")).format(n=report.updated))
    counts.append(_("{n} unchanged (already present)").format(n=report.unchanged))
    if report.invalid:
        counts.append(_("skipped {n} invalid").format(n=report.invalid))
    line = ngettext(
        "{source}: read {n} row(s); {counts}", "{source}: read {n} row(s); {counts}", report.read
    ).format(source=report.source, n=report.read, counts=_(", ").join(counts))
    return _("{summary} (dry run: nothing was written)").format(summary=line) if dry_run else line


@contextmanager
def _gc_spared() -> Iterator[None]:
    """Keep the objects that exist before an import out of Python's full garbage collections.

    A big import allocates millions of short-lived objects, and every so often the collector
    walks every object alive, including the whole application (SQLAlchemy, pluggy, the
    plugins), and that costs seconds of a million-row import. ``gc.freeze`` parks those objects while
    the import runs. It is done here, in the ``kehu`` process, and never in the library:
    ``gc.unfreeze`` would also hand back to the collector whatever an embedding application
    froze itself.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _problem_sink(handle: TextIO) -> Callable[[Any], None]:
    writer = csv.writer(handle)
    writer.writerow(ERRORS_HEADER)
    return lambda p: writer.writerow(csv_row([p.row, p.field, p.reason, p.value]))


def _report_data(report: ImportReport, committed: bool) -> dict[str, Any]:
    return {
        "kind": report.kind,
        "source": report.source,
        "read": report.read,
        "written": report.written,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "invalid": report.invalid,
        "dry_run": report.dry_run,
        "committed": committed,
        "problem_count": report.problem_count,
        "problems": [
            {"line": p.row, "column": p.field, "reason": p.reason, "value": p.value} for p in report.problems
        ],
    }


customer_import = _import_command(
    N_("customers"),
    CUSTOMER_COLUMNS,
    "code, name",
    import_customers,
    N_(
        "Your own fields: attr:NAME columns. Known codes are updated from the columns present\n"
        "(a blank cell clears that field); a row equal to what is stored changes nothing."
    ),
    "kehu customer import customers.csv --encoding gbk",
)
interaction_import = _import_command(
    N_("interactions"),
    INTERACTION_COLUMNS,
    "customer_code, kind, occurred_at",
    import_interactions,
    N_(
        "due_at and paid_at are for payments; amount may be negative only for a purchase (a refund).\n"
        "A row whose external_ref is already stored is skipped; rows without one are keyed by content."
    ),
    "kehu interaction import orders.csv --skip-invalid --errors problems.csv",
)
