"""Rules of kehu_core.importing that mutation testing found unpinned, on the core alone (fast
enough for ``make mutation MODULE=kehu_core/importing.py``): rows with cells missing, the
rows' order and values whatever the chunking, the content key of rows without a reference."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kehu_core import customers, hookimpl, i18n, importing
from kehu_core.importing import Occurrences, content_ref
from kehu_core.models import AuditEntry, Customer, Interaction

HEADER = "external_ref,customer_code,kind,occurred_at,amount,note,channel"


pytestmark = pytest.mark.core_alone


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


@pytest.mark.parametrize("chunk_rows", [1, 10_000], ids=["a-row-a-chunk", "one-chunk"])
def test_rows_short_of_cells_leave_the_missing_columns_blank(app, tmp_path, chunk_rows):
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
        report = importing.import_interactions(app, s, path, skip_invalid=True, chunk_rows=chunk_rows)
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


# -- the report ---------------------------------------------------------------------------------


def test_problems_are_reported_in_line_order_whoever_found_them(app, tmp_path):
    # Line 2's unknown customer is found after line 3's bad amount (codes are looked up per chunk).
    path = csv_file(
        tmp_path, ["R1,C9,purchase,2026-03-01,1", "R2,C1,purchase,2026-03-01,abc", "R3,C1,visit,2026-03-01"]
    )
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert [(p.row, p.field) for p in report.problems] == [(2, "customer_code"), (3, "amount")]
    assert (report.written, report.invalid) == (1, 2)


@pytest.mark.parametrize(("n", "more"), [(101, 51), (120, 70)])
def test_the_refusal_counts_the_problems_past_the_50_shown(app, tmp_path, n, more):
    path = csv_file(tmp_path, [f"R{i},C1,purchase,2026-03-01,abc{i}" for i in range(n)])
    with app.session() as s, pytest.raises(importing.ImportRefused) as refused:
        importing.import_interactions(app, s, path)
    assert str(refused.value).splitlines()[-1] == (
        f"  ... and {more} more problem(s): use --errors FILE to get every one"
    )


def test_a_repeated_bad_value_is_refused_on_every_row(app, tmp_path):
    # Four rows, two distinct amounts: the column is parsed once per distinct text.
    lines = ["R1,C1,purchase,2026-03-01,abc", "R2,C1,purchase,2026-03-01,abc", "R3,C1,purchase,2026-03-01,5"]
    path = csv_file(tmp_path, [*lines, "R4,C1,purchase,2026-03-01,5"])
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert [(p.row, p.field, p.value) for p in report.problems] == [
        (2, "amount", "abc"),
        (3, "amount", "abc"),
    ]
    assert [r[0] for r in stored(app)] == ["R3", "R4"]
    with app.session() as s:  # every cell of the column refused
        report = importing.import_interactions(app, s, csv_file(tmp_path, lines[:2]), skip_invalid=True)
    assert (report.written, report.invalid) == (0, 2)


@pytest.mark.parametrize(
    ("kind", "amount", "refused"),
    [("visit", "-0.01", True), ("visit", "-0.50", True), ("visit", "0", False), ("purchase", "-0.50", False)],
)
def test_a_negative_amount_down_to_a_cent_is_a_refund_of_a_purchase_only(
    app, tmp_path, kind, amount, refused
):
    path = csv_file(tmp_path, [f"R1,C1,{kind},2026-03-01,{amount}"])
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert (report.written, report.invalid) == ((0, 1) if refused else (1, 0))


# -- content keys -------------------------------------------------------------------------------


def test_a_stored_content_key_stays_the_same_across_versions(app, tmp_path):
    # Two identical rows without a reference: occurrences 0 and 1 of one digest. The digest is
    # written out: a key an earlier import stored must be found again by the next version.
    path = csv_file(tmp_path, [",C1,purchase,2026-03-01 10:00,12.5,,"] * 2 + [",C2,visit,2026-03-01,,,"])
    with app.session() as s:
        report = importing.import_interactions(app, s, path)
    assert report.written == 3
    refs = [r[0] for r in stored(app)]
    assert sorted(refs) == sorted([content_ref(PURCHASE, 0), content_ref(PURCHASE, 1), content_ref(VISIT, 0)])
    assert content_ref(PURCHASE, 1) == f"csv:{PURCHASE}:1" and len(PURCHASE) == 32


def digest(*values: str) -> str:
    """The digest of a row's values in the order of the stored columns (customer code, kind,
    status, occurred_at in UTC, channel, amount, cost, quantity, product, category, salesperson,
    satisfaction, note, external_ref, due_at, paid_at, created_at), blank ones empty."""
    cells = [*values, *[""] * (17 - len(values))]
    return hashlib.blake2b("\x1f".join(cells).encode(), digest_size=16).hexdigest()


PURCHASE = digest("C1", "purchase", "done", "2026-03-01 02:00:00+00:00", "", "12.50")
VISIT = digest("C2", "visit", "done", "2026-02-28 16:00:00+00:00")
assert (PURCHASE, VISIT) == ("8cfe6e2fb223d634dc560c8c414ceaef", "d20edb4276a025ec54a3b79122f35350")


def test_a_blank_status_and_done_are_the_same_row(app, tmp_path):
    header = "customer_code,kind,occurred_at,status"
    with app.session() as s:
        importing.import_interactions(app, s, csv_file(tmp_path, ["C1,visit,2026-03-01,"], header))
    with app.session() as s:
        again = importing.import_interactions(
            app, s, csv_file(tmp_path, ["C1,visit,2026-03-01,done"], header)
        )
    assert (again.written, again.unchanged) == (0, 1)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_under_another_zone_a_row_short_of_its_time_cells_keeps_its_key(app, tmp_path, company_zone, zone):
    # due_at and paid_at are the last columns: a row may stop before them.
    header = "customer_code,kind,occurred_at,amount,due_at,paid_at"
    path = csv_file(
        tmp_path, ["C1,payment,2026-03-01 10:00,5,2026-04-01", "C1,payment,2026-03-02 10:00,5"], header
    )
    company_zone("Asia/Shanghai")
    with app.session() as s:
        assert importing.import_interactions(app, s, path).written == 2
    company_zone(zone)
    with app.session() as s:
        again = importing.import_interactions(app, s, path)
    assert (again.written, again.unchanged) == (0, 2)


@pytest.mark.parametrize("chunk_rows", [1, 2, 4])
def test_a_code_repeated_in_a_later_chunk_is_refused_whatever_the_chunks(app, tmp_path, chunk_rows):
    path = csv_file(tmp_path, ["C3,甲", "C4,乙", "C4,乙", "C3,甲"], "code,name")
    with app.session() as s:
        report = importing.import_customers(app, s, path, skip_invalid=True, chunk_rows=chunk_rows)
    assert [(p.row, p.reason) for p in report.problems] == [
        (4, "appears more than once in the file (first on line 3)"),
        (5, "appears more than once in the file (first on line 2)"),
    ]


def test_occurrences_count_each_key_and_remember_its_first_line_then_close():
    occurrences = Occurrences()
    with occurrences:
        assert occurrences.take([("a", 2), ("b", 3), ("a", 4)]) == [(0, 2), (0, 3), (1, 2)]
        assert occurrences.take([("b", 5), ("c", 6), ("a", 7)]) == [(1, 3), (0, 6), (2, 2)]
    assert occurrences._db is None
    with occurrences:  # opened again on first use, empty
        assert occurrences.take([("a", 9)]) == [(0, 9)]


# -- hooks and the audit trail ------------------------------------------------------------------


class Watcher:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def kehu_interactions_recorded(self, session, batch):
        self.calls.append("recorded")

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        self.calls.append("changed")


def test_a_refused_import_tells_no_plugin_of_rows_it_rolls_back(app, tmp_path, kehu_register_plugin):
    watcher = Watcher()
    kehu_register_plugin(watcher, "watcher")
    bad = csv_file(tmp_path, ["R1,C1,purchase,2026-03-01,1", "R2,C1,purchase,2026-03-01,abc"])
    with app.session() as s, pytest.raises(importing.ImportRefused):
        importing.import_interactions(app, s, bad)
    bad_customers = csv_file(tmp_path, ["C3,甲", "C4,乙,robot"], "code,name,kind", "c.csv")
    with app.session() as s, pytest.raises(importing.ImportRefused):
        importing.import_customers(app, s, bad_customers)
    assert watcher.calls == []
    with app.session() as s:
        importing.import_interactions(app, s, bad, skip_invalid=True)
        importing.import_customers(app, s, bad_customers, skip_invalid=True)
    assert watcher.calls == ["recorded", "changed"]


def test_a_customer_import_is_one_audit_entry_when_it_adds_or_updates(app, tmp_path):
    def entries() -> list[tuple]:
        with app.session() as s:
            stmt = select(AuditEntry).where(AuditEntry.entity == "import").order_by(AuditEntry.id)
            return [(Path(e.key).name, e.action, e.changes) for e in s.scalars(stmt)]

    added = csv_file(tmp_path, ["C3,甲", "C4,乙"], "code,name", "added.csv")
    updated = csv_file(tmp_path, ["C3,甲二"], "code,name", "updated.csv")
    with app.session() as s:
        importing.import_customers(app, s, added, dry_run=True)
    assert entries() == []
    for path in (added, added, updated):  # the second changes nothing
        with app.session() as s:
            importing.import_customers(app, s, path)
    assert entries() == [
        ("added.csv", "imported customers", {"added": 2, "updated": 0}),
        ("updated.csv", "imported customers", {"added": 0, "updated": 1}),
    ]


# -- customers ----------------------------------------------------------------------------------


def customer_rows(app) -> dict[str, tuple]:
    with app.session() as s:
        return {
            c.code: (c.name, c.kind, c.marketing_consent, c.active, c.attributes)
            for c in s.scalars(select(Customer).order_by(Customer.code))
        }


def test_new_customers_are_active_without_consent_unless_the_file_says_so(app, tmp_path):
    with app.session() as s:
        importing.import_customers(app, s, csv_file(tmp_path, ["C3,甲"], "code,name", "a.csv"))
        importing.import_customers(
            app, s, csv_file(tmp_path, ["C4,乙,", "C5,丙,yes"], "code,name,marketing_consent", "b.csv")
        )
    rows = customer_rows(app)
    assert rows["C3"] == ("甲", "company", False, True, {})
    assert rows["C4"] == ("乙", "company", False, True, {})
    assert rows["C5"][2:4] == (True, True)


def test_a_refused_or_forgotten_row_does_not_stop_the_rows_after_it(app, tmp_path):
    with app.session() as s:
        s.scalar(select(Customer).where(Customer.code == "C2")).forgotten_at = datetime.now(UTC)
    path = csv_file(
        tmp_path, ["C3,甲,robot", "C4,乙,person", "C2,王,person", "C5,丙,person"], "code,name,kind"
    )
    with app.session() as s:
        report = importing.import_customers(app, s, path, skip_invalid=True)
    assert [(p.row, p.field) for p in report.problems] == [(2, "kind"), (4, "code")]
    assert (report.written, report.invalid) == (2, 2)
    assert {"C4", "C5"} <= set(customer_rows(app)) and "C3" not in customer_rows(app)


def test_attribute_cells_blank_or_missing_remove_only_their_own(app, tmp_path):
    with app.session() as s:
        customers.edit_customer(app, s, "C1", {"attributes": {"a": "1", "b": "2", "c": "3", "d": "4"}})
    header = "code,name,attr:a,attr:b,attr:c"
    path = csv_file(tmp_path, ["C1,张伟,,x,y", "C2,王芳,p", "C7,新,q,r"], header)  # C2, C7 stop short
    with app.session() as s:
        importing.import_customers(app, s, path)
    rows = customer_rows(app)
    assert rows["C1"][4] == {"b": "x", "c": "y", "d": "4"}  # d: no column, kept
    assert rows["C2"][4] == {"a": "p"}
    assert rows["C7"][4] == {"a": "q", "b": "r"}


def test_a_dry_run_counts_what_it_would_write_and_what_is_there_already(app, tmp_path):
    path = csv_file(tmp_path, ["R1,C1,purchase,2026-03-01,1", "R2,C1,purchase,2026-03-02,2"])
    with app.session() as s:
        first = importing.import_interactions(app, s, path, dry_run=True)
    assert (first.read, first.written, first.unchanged, first.dry_run) == (2, 2, 0, True)
    with app.session() as s:
        importing.import_interactions(
            app, s, csv_file(tmp_path, ["R1,C1,purchase,2026-03-01,1"], name="r1.csv")
        )
    with app.session() as s:
        second = importing.import_interactions(app, s, path, dry_run=True)
    assert (second.written, second.unchanged) == (1, 1)
    with app.session() as s:
        importing.import_interactions(app, s, path)
        third = importing.import_interactions(app, s, path, dry_run=True)
    assert (third.written, third.unchanged) == (0, 2)


def test_the_reasons_of_refused_cells_are_in_the_users_language(app, tmp_path):
    path = csv_file(tmp_path, ["R1,C1,purchase,,1", "R2,C1,purchase,2026-03-01,abc"])
    with i18n.using("zh_CN"), app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    reasons = [(p.row, p.field, p.reason) for p in report.problems]
    assert reasons[0] == (2, "occurred_at", "必填，不能为空")
    assert reasons[1][:2] == (3, "amount") and reasons[1][2] != "not a number"


class Changes:
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        self.seen.append(tuple((c.code, c.action, c.changed_fields) for c in changes))


def tags_of(app) -> dict[str, list[str]]:
    with app.session() as s:
        return {c.code: sorted(t.tag for t in c.tags) for c in s.scalars(select(Customer))}


def test_tags_and_fields_change_only_what_differs_and_plugins_hear_of_it_once(
    app, tmp_path, kehu_register_plugin
):
    changes = Changes()
    kehu_register_plugin(changes, "changes")
    header = "code,name,region,tags,special_dates"

    def run(*lines: str) -> importing.ImportReport:
        with app.session() as s:
            return importing.import_customers(app, s, csv_file(tmp_path, list(lines), header, "t.csv"))

    first = run("C3,甲,华南,vip、深圳,", "C4,乙,,,")
    assert (first.written, first.updated, first.unchanged) == (2, 0, 0)
    assert tags_of(app) | {"C1": [], "C2": []} == {"C1": [], "C2": [], "C3": ["vip", "深圳"], "C4": []}
    fields = ("code", "kind", "marketing_consent", "attributes", "name", "region", "special_dates")
    assert changes.seen == [
        (("C3", "created", tuple(sorted(fields))), ("C4", "created", tuple(sorted(fields))))
    ]
    assert (run("C3,甲,华南,vip、深圳,", "C4,乙,,,").unchanged, len(changes.seen)) == (2, 1)
    # the same tags in another order, and one tag less: unchanged, then changed
    assert (run("C3,甲,华南,深圳、vip,", "C4,乙,,,").unchanged, len(changes.seen)) == (2, 1)
    assert tags_of(app)["C3"] == ["vip", "深圳"]
    second = run("C3,甲,华南,vip,", "C4,乙,华北,x,")
    assert (second.updated, second.unchanged) == (2, 0)
    assert changes.seen[1] == (("C3", "updated", ("tags",)), ("C4", "updated", ("region", "tags")))
    assert tags_of(app)["C3"] == ["vip"] and tags_of(app)["C4"] == ["x"]
    third = run("C3,甲,华南,,", "C4,乙,华北,x,")  # a blank tags cell clears them
    assert (third.updated, third.unchanged) == (1, 1)
    assert tags_of(app)["C3"] == [] and changes.seen[2] == (("C3", "updated", ("tags",)),)
    with app.session() as s:
        c4 = s.scalar(select(Customer).where(Customer.code == "C4"))
        assert (c4.region, c4.special_dates, c4.attributes) == ("华北", {}, {})


def test_an_unknown_and_a_forgotten_customer_are_refused_each_with_its_reason(app, tmp_path):
    with app.session() as s:
        s.scalar(select(Customer).where(Customer.code == "C2")).forgotten_at = datetime.now(UTC)
    path = csv_file(tmp_path, ["R1,C9,visit,2026-03-01", "R2,C2,visit,2026-03-01", "R3,C1,visit,2026-03-01"])
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert [(p.row, p.reason, p.value) for p in report.problems] == [
        (2, "no customer with this code", "C9"),
        (3, "this customer was forgotten (personal data erased)", "C2"),
    ]
    assert [r[0] for r in stored(app)] == ["R3"]


def test_a_refused_attribute_cell_is_named_by_its_column(app, tmp_path):
    path = csv_file(tmp_path, ["C3,甲,ok,x" + "y" * 10_000], "code,name,attr:a,attr:b")
    with app.session() as s:
        report = importing.import_customers(app, s, path, skip_invalid=True)
    assert [(p.row, p.field, p.reason) for p in report.problems] == [
        (2, "attr:b", "too long: 10001 characters, at most 10000")
    ]


def test_a_payment_with_dates_and_a_bad_amount_is_refused_for_the_amount(app, tmp_path):
    header = "external_ref,customer_code,kind,occurred_at,amount,due_at,paid_at"
    path = csv_file(
        tmp_path,
        ["P1,C1,payment,2026-03-01,abc,2026-04-01,", "P2,C1,payment,2026-03-01,5,2026-04-01,"],
        header,
    )
    with app.session() as s:
        report = importing.import_interactions(app, s, path, skip_invalid=True)
    assert [(p.row, p.field) for p in report.problems] == [(2, "amount")]
    assert [r[0] for r in stored(app)] == ["P2"]


def test_due_and_paid_dates_are_refused_on_anything_but_a_payment(app, tmp_path):
    header = "external_ref,customer_code,kind,occurred_at,amount,due_at,paid_at"
    lines = [
        "V1,C1,visit,2026-03-01,,2026-04-01,",
        "V2,C1,visit,2026-03-01,,,2026-04-01",
        "V3,C1,visit,2026-03-01,,,",
    ]
    with app.session() as s:
        report = importing.import_interactions(app, s, csv_file(tmp_path, lines, header), skip_invalid=True)
    assert [(p.row, p.field) for p in report.problems] == [(2, "due_at"), (3, "paid_at")]
    assert [r[0] for r in stored(app)] == ["V3"]
