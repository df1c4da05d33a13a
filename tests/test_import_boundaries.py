"""The import's counted limits at the edge and a step either side, on the core alone: the
problems kept for the report (:data:`~kehu_core.importing.MAX_REPORTED`), the problems printed
in the refusal (``ImportRefused.SHOWN``), a refused cell shown whole up to 60 characters, a
row with one cell too many or too few, and a file read in chunks of exactly its size."""

from __future__ import annotations

import pytest

from kehu_core import customers, importing
from kehu_core.importing import MAX_REPORTED, ImportRefused

HEADER = "external_ref,customer_code,kind,occurred_at,amount"


pytestmark = pytest.mark.core_alone


@pytest.fixture
def app(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "张伟", "kind": "person"})
    return kehu_app


def csv_file(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return str(path)


def bad_rows(n: int) -> list[str]:
    return [f"R{i},C1,purchase,2026-03-01,abc{i}" for i in range(n)]


def refuse(app, path, **kw) -> ImportRefused:
    with app.session() as s, pytest.raises(ImportRefused) as refused:
        importing.import_interactions(app, s, path, **kw)
    return refused.value


@pytest.mark.parametrize("n", [49, 50, 51])
def test_the_refusal_prints_50_problems_then_counts_the_rest(app, tmp_path, n):
    error = refuse(app, csv_file(tmp_path, bad_rows(n)))
    lines = str(error).splitlines()
    assert lines[0].startswith(f"{tmp_path / 'rows.csv'}: {n} of {n} row(s) refused; nothing was written")
    shown = [line for line in lines if line.startswith("  line ")]
    assert len(shown) == min(n, 50)
    assert shown[0].startswith("  line 2, amount: ") and shown[0].endswith("(got 'abc0')")
    more = [line for line in lines if "more problem(s)" in line]
    assert more == (
        [] if n <= 50 else [f"  ... and {n - 50} more problem(s): use --errors FILE to get every one"]
    )


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_the_report_keeps_the_first_1000_problems_and_counts_every_one(app, tmp_path, extra):
    n = MAX_REPORTED + extra
    seen = []
    with app.session() as s:
        report = importing.import_interactions(
            app, s, csv_file(tmp_path, bad_rows(n)), skip_invalid=True, on_problem=seen.append
        )
    assert MAX_REPORTED == 1000
    assert (report.read, report.written, report.invalid, report.problem_count) == (n, 0, n, n)
    assert len(report.problems) == min(n, 1000) and len(seen) == n
    assert [p.row for p in report.problems[:2]] == [2, 3]  # in line order


@pytest.mark.parametrize(("length", "shown"), [(60, "x" * 60), (61, "x" * 57 + "...")])
def test_a_refused_value_is_shown_whole_up_to_60_characters(app, tmp_path, length, shown):
    error = refuse(app, csv_file(tmp_path, [f"R1,C1,purchase,2026-03-01,{'x' * length}"]))
    assert error.problems[0].value == shown


def test_a_row_with_a_cell_too_many_is_refused_and_one_too_few_is_blank(app, tmp_path):
    path = csv_file(
        tmp_path,
        [
            "R1,C1,purchase,2026-03-01,10,surplus",  # a sixth cell: refused
            "R2,C1,purchase,2026-03-01,10,",  # a sixth cell, empty: fine
            "R3,C1,purchase,2026-03-01",  # a cell short: no amount
        ],
    )
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert (report.written, report.invalid) == (2, 1)
    assert [(p.row, p.field) for p in report.problems] == [(2, "(row)")]
    assert report.problems[0].reason.startswith("has 6 cells but the header has 5 columns")


@pytest.mark.parametrize("chunk_rows", [2, 3, 4])
def test_chunks_of_the_files_size_a_row_less_and_a_row_more_write_the_same(app, tmp_path, chunk_rows):
    path = csv_file(tmp_path, [f"R{i},C1,purchase,2026-03-0{i + 1},{i}" for i in range(3)])
    with app.session() as s:
        report = importing.import_interactions(app, s, path, chunk_rows=chunk_rows)
    assert (report.read, report.written, report.unchanged) == (3, 3, 0)
    with app.session() as s:
        again = importing.import_interactions(app, s, path, chunk_rows=chunk_rows)
    assert (again.read, again.written, again.unchanged) == (3, 0, 3)
