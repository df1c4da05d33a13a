"""Rules of kehu_core.importing that mutation testing found unpinned, on the core alone (fast
enough for ``make mutation MODULE=kehu_core/importing.py``): rows with cells missing, the
rows' order and values whatever the chunking, the content key of rows without a reference."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from kehu_core import customers, importing
from kehu_core.models import Customer, Interaction
from kehu_core.plugins import Plugins, discover

HEADER = "external_ref,customer_code,kind,occurred_at,amount,note,channel"


@pytest.fixture
def kehu_plugins() -> Plugins:
    """The core alone."""
    return discover(strict=True, allow=set())


@pytest.fixture
def app(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "张伟", "kind": "person"})
        customers.add_customer(kehu_app, s, {"code": "C2", "name": "王芳", "kind": "person"})
    return kehu_app


def csv_file(tmp_path, lines: list[str], header: str = HEADER, name: str = "rows.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return str(path)


def stored(app) -> list[tuple]:
    with app.session() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(
                    Interaction.external_ref,
                    Customer.code,
                    Interaction.kind,
                    Interaction.occurred_at,
                    Interaction.amount,
                    Interaction.note,
                    Interaction.channel,
                )
                .join(Customer, Customer.id == Interaction.customer_id)
                .order_by(Interaction.external_ref)
            )
        ]


def test_rows_short_of_cells_leave_the_missing_columns_blank(app, tmp_path):
    # Seven columns; rows of seven down to three cells (3 cells: the 4 short are not 7 modulo
    # the 3 present, as they are for 4 to 6 cells).
    path = csv_file(
        tmp_path,
        [
            "R7,C1,purchase,2026-03-01,7,note 7,web",
            "R6,C1,purchase,2026-03-01,6,note 6",
            "R5,C2,purchase,2026-03-01,5",
            "R4,C2,visit,2026-03-01",
            "R3,C2,visit",
        ],
    )
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert (report.read, report.written, report.invalid) == (5, 4, 1)
    assert [(p.row, p.field, p.reason) for p in report.problems] == [
        (6, "occurred_at", "required, must not be empty")
    ]
    day = datetime(2026, 2, 28, 16, tzinfo=UTC)  # 1 March in Shanghai
    assert stored(app) == [
        ("R4", "C2", "visit", day, None, None, None),
        ("R5", "C2", "purchase", day, Decimal("5.00"), None, None),
        ("R6", "C1", "purchase", day, Decimal("6.00"), "note 6", None),
        ("R7", "C1", "purchase", day, Decimal("7.00"), "note 7", "web"),
    ]


def test_an_import_holds_the_import_lock_until_it_ends_and_a_dry_run_takes_none(app, tmp_path):
    # PostgreSQL: the advisory lock serialises writing imports (SQLite's BEGIN IMMEDIATE does it there).
    if app.dialect != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    held = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
        "AND classid = 0 AND objid = :key AND objsubid = 1"
    )
    path = csv_file(tmp_path, ["R1,C1,purchase,2026-03-01,1"])
    with app.session() as s:
        importing.import_interactions(app, s, path, dry_run=True)
        assert s.scalar(held, {"key": importing.IMPORT_LOCK_KEY}) == 0
        importing.import_customers(
            app, s, csv_file(tmp_path, ["C1,张伟"], "code,name", "c.csv"), dry_run=True
        )
        assert s.scalar(held, {"key": importing.IMPORT_LOCK_KEY}) == 0
        importing.import_interactions(app, s, path)
        assert s.scalar(held, {"key": importing.IMPORT_LOCK_KEY}) == 1
    with app.session() as s:
        importing.import_customers(app, s, csv_file(tmp_path, ["C3,李娜"], "code,name", "c.csv"))
        assert s.scalar(held, {"key": importing.IMPORT_LOCK_KEY}) == 1


def test_an_sqlite_import_runs_with_a_64_mib_page_cache_and_gives_back_the_one_before(app, tmp_path):
    path = csv_file(tmp_path, ["R1,C1,purchase,2026-03-01,1", "R2,C1,purchase,2026-03-02,2"])
    during: list[int] = []
    with app.session() as s:
        if app.dialect == "sqlite":
            s.connection().exec_driver_sql("PRAGMA cache_size = -3000")

        def cache_size(done: int, total: int | None) -> None:
            if app.dialect == "sqlite":
                during.append(s.connection().exec_driver_sql("PRAGMA cache_size").scalar_one())

        importing.import_interactions(app, s, path, progress=cache_size, chunk_rows=1)
        if app.dialect == "sqlite":
            assert during == [-64 * 1024, -64 * 1024]  # in KiB: 64 MiB
            assert s.connection().exec_driver_sql("PRAGMA cache_size").scalar_one() == -3000
        else:
            assert during == []
    assert [r[0] for r in stored(app)] == ["R1", "R2"]
