"""``kehu customer import`` and ``kehu interaction import``: one shared command shape."""
from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

import click

from kehu_core.cli.context import transaction
from kehu_core.cli.output import Progress, emit_json
from kehu_core.fields import CUSTOMER_COLUMNS, INTERACTION_COLUMNS


def _import_command(kind: str, columns: tuple[str, ...], required: str, service: str, example: str) -> click.Command:
    @click.command("import", help=f"""Import {kind} from a CSV FILE (UTF-8 with or without BOM; --encoding gbk for Chinese Excel).

\b
Columns (header line, any order):
  {", ".join(columns)}
Required: {required}.{" Your own fields: attr:NAME columns." if kind == "customers" else ""}

All or nothing by default: if any row is bad, nothing is written and every bad row is
reported (line, column, reason). Re-importing the same file changes nothing.

\b
Example:
  {example}
""")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=False))
    @click.option("--encoding", default="utf-8-sig", show_default=True, help="File encoding: utf-8, gbk, gb18030 ...")
    @click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
    @click.option("--skip-invalid", is_flag=True, help="Write the good rows and report the bad ones.")
    @click.option("--errors", "errors_file", type=click.Path(dir_okay=False, writable=True), help="Write every problem to this CSV file.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    def command(file: str, encoding: str, dry_run: bool, skip_invalid: bool, errors_file: str | None, as_json: bool) -> None:
        from kehu_core import importing

        run: Callable[..., Any] = getattr(importing, service)
        sink, handle = _problem_sink(errors_file)
        try:
            with Progress(f"importing {kind}") as progress, transaction() as (app, session):
                report = run(app, session, file, encoding=encoding, skip_invalid=skip_invalid,
                             dry_run=dry_run, progress=progress, on_problem=sink)
        except importing.ImportRefused as refused:
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
        verb = "would write" if dry_run else "wrote"
        click.echo(
            f"{report.source}: read {report.read} row(s); {verb} {report.written} new"
            + (f", updated {report.updated}" if report.updated else "")
            + f", {report.unchanged} already present"
            + (f", skipped {report.invalid} invalid" if report.invalid else "")
        )
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        if report.invalid > len(report.problems):
            click.echo(f"  ... and more; see --errors FILE", err=True)

    return command


def _problem_sink(path: str | None) -> tuple[Callable[[Any], None] | None, Any]:
    if not path:
        return None, None
    handle = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115  BOM: Excel opens it right
    writer = csv.writer(handle)
    writer.writerow(["line", "column", "reason", "value"])
    return (lambda p: writer.writerow([p.row, p.field, p.reason, p.value or ""])), handle


def _report_data(report: Any, committed: bool) -> dict[str, Any]:
    return {
        "kind": report.kind, "source": report.source, "read": report.read, "written": report.written,
        "updated": report.updated, "unchanged": report.unchanged, "invalid": report.invalid,
        "dry_run": report.dry_run, "committed": committed,
        "problems": [{"line": p.row, "column": p.field, "reason": p.reason, "value": p.value} for p in report.problems],
    }


customer_import = _import_command(
    "customers", CUSTOMER_COLUMNS, "code, name", "import_customers",
    "kehu customer import customers.csv --encoding gbk",
)
interaction_import = _import_command(
    "interactions", INTERACTION_COLUMNS, "customer_code, kind, occurred_at", "import_interactions",
    "kehu interaction import orders.csv --skip-invalid --errors problems.csv",
)
