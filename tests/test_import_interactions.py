"""``kehu interaction import``: bad rows, all-or-nothing, --skip-invalid, --dry-run, idempotency,
hostile text, the recorded hook, stored form, streaming."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from kehu_core import customers, hookimpl, importing
from kehu_core.interactions import write_interactions
from kehu_core.models import Interaction

HEADER = "external_ref,customer_code,kind,occurred_at,amount,satisfaction,product,note"


@pytest.fixture
def shop(kehu_app):
    """Two customers, C1 and 上海01."""
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为技术"})
        customers.add_customer(kehu_app, s, {"code": "上海01", "name": "上海贸易"})
    return kehu_app


def write_csv(path, *lines: str, header: str = HEADER, encoding: str = "utf-8"):
    path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
    return str(path)


def stored(app) -> list[dict]:
    with app.session() as s:
        rows = s.execute(select(Interaction).order_by(Interaction.id)).scalars().all()
        return [
            {
                c: getattr(r, c)
                for c in (
                    "id",
                    "customer_id",
                    "kind",
                    "occurred_at",
                    "amount",
                    "satisfaction",
                    "product",
                    "note",
                    "external_ref",
                    "status",
                    "created_at",
                )
            }
            for r in rows
        ]


def count(app) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction))


BAD_ROWS = [
    ("R1,C1,purchase,2024-03-01,199.00,5,洗衣机,ok", None),
    ("R2,NOPE,visit,2024-03-01,,,,", ("customer_code", "no customer with this code", "NOPE")),
    ("R3,C1,visit,2024-02-30,,,,", ("occurred_at", "not a date or time", "2024-02-30")),
    (
        "R4,C1,visit,2024-03-01,-5,,,",
        ("amount", "must not be negative (only a purchase may be: a refund)", "-5.00"),
    ),
    ("R5,C1,purchase,2024-03-01,12abc,,,", ("amount", "not a number", "12abc")),
    ("R6,C1,feedback,2024-03-01,,6,,", ("satisfaction", "must be between 1 and 5", "6")),
    ("R7,C1,feedback,2024-03-01,,0,,", ("satisfaction", "must be between 1 and 5", "0")),
    (
        "R8,C1,purchase,2024-03-01,1,,{},".format("长" * 201),
        ("product", "too long: 201 characters, at most 200", None),
    ),
    ("R9,C1,purchase,2024-03-01,-120.50,,退货,refund", None),  # a negative purchase is a refund
    ("R10,C1,robot,2024-03-01,,,,", ("kind", "must be one of", "robot")),
    ("R11,C1,visit,2024-03-01,,,,,extra", ("(row)", "has 9 cells but the header has 8 columns", None)),
]
PROBLEMS = [(line, p) for line, (row, p) in enumerate(BAD_ROWS, start=2) if p]


def test_every_bad_row_is_reported_and_nothing_written(shop, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "i.csv", *(row for row, _ in BAD_ROWS))
    result = kehu_cli("interaction", "import", path)
    assert result.exit_code == 1
    assert f"{len(PROBLEMS)} of {len(BAD_ROWS)} row(s) refused; nothing was written" in result.output
    for line, (column, reason, _value) in PROBLEMS:
        assert f"line {line}, {column}: {reason}" in result.output
    assert "Traceback" not in result.output
    assert count(shop) == 0


def test_json_report_and_errors_file_list_every_problem(shop, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "i.csv", *(row for row, _ in BAD_ROWS))
    errors = tmp_path / "errors.csv"
    result = kehu_cli("interaction", "import", path, "--json", "--errors", str(errors))
    assert result.exit_code == 1
    report = result.json
    assert (report["read"], report["invalid"], report["written"], report["committed"]) == (
        len(BAD_ROWS),
        len(PROBLEMS),
        0,
        False,
    )
    got = [(p["line"], p["column"]) for p in report["problems"]]
    assert got == [(line, p[0]) for line, p in PROBLEMS]
    with errors.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["line", "column", "reason", "value"]
    assert [(int(r[0]), r[1]) for r in rows[1:]] == [(line, p[0]) for line, p in PROBLEMS]
    for r, (_line, (_column, reason, value)) in zip(rows[1:], PROBLEMS):
        assert r[2].startswith(reason)
        if value is not None:
            assert r[3] == value
    assert count(shop) == 0


def test_skip_invalid_writes_the_good_rows_and_reports_the_rest(shop, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "i.csv", *(row for row, _ in BAD_ROWS))
    result = kehu_cli("interaction", "import", path, "--skip-invalid", "--json")
    assert result.exit_code == 0, result
    report = result.json
    assert (report["written"], report["invalid"], report["committed"]) == (2, len(PROBLEMS), True)
    rows = {r["external_ref"]: r for r in stored(shop)}
    assert set(rows) == {"R1", "R9"}
    assert rows["R9"]["amount"] == Decimal("-120.50")
    assert rows["R1"]["product"] == "洗衣机" and rows["R1"]["satisfaction"] == 5
    human = kehu_cli("interaction", "import", path, "--skip-invalid")
    assert human.exit_code == 0
    assert "wrote 0 new, 2 unchanged" in human.stdout and f"skipped {len(PROBLEMS)} invalid" in human.stdout
    assert "line 3, customer_code: no customer with this code" in human.stderr


def test_dry_run_writes_nothing(shop, kehu_cli, tmp_path):
    path = write_csv(
        tmp_path / "i.csv", "R1,C1,purchase,2024-03-01,199.00,5,洗衣机,", "R2,C1,visit,2024-03-02,,,,"
    )
    result = kehu_cli("interaction", "import", path, "--dry-run", "--json")
    assert result.exit_code == 0, result
    assert (result.json["written"], result.json["dry_run"], result.json["committed"]) == (2, True, False)
    assert count(shop) == 0
    bad = write_csv(tmp_path / "bad.csv", "R1,C1,visit,2024-03-01,-1,,,")
    result = kehu_cli("interaction", "import", bad, "--dry-run")
    assert result.exit_code == 1 and "line 2, amount" in result.output
    assert count(shop) == 0


def test_reimport_changes_nothing_with_and_without_external_ref(shop, kehu_cli, tmp_path):
    lines = [
        "R1,C1,purchase,2024-03-01 10:00,199.00,5,洗衣机,",
        ",C1,visit,2024-03-02,,4,,拜访",
        ",C1,visit,2024-03-02,,4,,拜访",  # the same visit twice in one file: two visits
        ",上海01,call,2024-03-03T09:30:00+08:00,,,,",
    ]
    path = write_csv(tmp_path / "i.csv", *lines)
    first = kehu_cli("interaction", "import", path, "--json")
    assert first.exit_code == 0, first
    assert (first.json["written"], first.json["unchanged"]) == (4, 0)
    before = stored(shop)
    again = kehu_cli("interaction", "import", path, "--json")
    assert (again.json["written"], again.json["unchanged"]) == (0, 4)
    assert stored(shop) == before
    # The same rows reordered, with another column order and spelling, are still the same rows.
    reordered = write_csv(
        tmp_path / "r.csv",
        "上海01,2024-03-03 09:30,call,,,",
        "C1,2024/03/02,visit,4,拜访,done",
        "C1,2024-03-02 00:00,visit, 4 ,拜访,",
        header="customer_code,occurred_at,kind,satisfaction,note,status",
    )
    third = kehu_cli("interaction", "import", reordered, "--json")
    assert (third.json["written"], third.json["unchanged"]) == (0, 3), third.json
    assert stored(shop) == before
    # A third identical visit is new.
    more = write_csv(tmp_path / "m.csv", *lines[1:3], lines[1])
    fourth = kehu_cli("interaction", "import", more, "--json")
    assert (fourth.json["written"], fourth.json["unchanged"]) == (1, 2)


def test_customer_id_cache_bound_keeps_every_code(shop, tmp_path, monkeypatch):
    monkeypatch.setattr(importing._CustomerIds, "LIMIT", 1)
    codes = ["C1", "C1", "C1", "上海01", "上海01", "C1"]  # the second chunk mixes a cached code and a new one
    path = write_csv(
        tmp_path / "i.csv", *[f"R{n},{code},visit,2024-03-02,,,," for n, code in enumerate(codes)]
    )
    with shop.session() as s:
        report = importing.import_interactions(shop, s, path, chunk_rows=2)
    assert (report.written, report.invalid) == (6, 0)


def test_repeated_rows_are_counted_across_chunks(shop, tmp_path):
    path = write_csv(
        tmp_path / "i.csv", *([",C1,visit,2024-03-02,,,,"] * 5 + ["R1,C1,call,2024-03-02,,,,"] * 2)
    )
    for expected_written in (6, 0):
        with shop.session() as s:
            report = importing.import_interactions(shop, s, path, chunk_rows=2)
        assert report.written == expected_written
        assert report.unchanged == 7 - expected_written
    assert count(shop) == 6


HOSTILE = [
    "Robert'); DROP TABLE interactions;--",
    "1 OR 1=1; SELECT * FROM customers",
    "张伟的订单 😀🎉",
    "bell\x07 escape\x1b[31mred\x1b[0m tab\tend",
    '"quoted", with, commas',
]


def test_hostile_text_is_stored_and_shown_as_text(shop, kehu_cli, tmp_path):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["external_ref", "customer_code", "kind", "occurred_at", "note", "product"])
    for n, note in enumerate(HOSTILE):
        writer.writerow([f"H{n}", "上海01", "feedback", "2024-03-01", note, note[:200]])
    path = tmp_path / "h.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = kehu_cli("interaction", "import", str(path))
    assert result.exit_code == 0, result
    listed = kehu_cli("interaction", "list", "--json", "--customer", "上海01")
    assert listed.exit_code == 0, listed
    assert sorted(r["note"] for r in listed.json) == sorted(HOSTILE)
    assert json.loads(json.dumps(listed.json, ensure_ascii=False)) == listed.json
    table = kehu_cli("interaction", "list", "--customer", "上海01")
    assert table.exit_code == 0
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "\\x1b[31mred" in table.stdout
    assert count(shop) == len(HOSTILE)
    with shop.session() as s:
        assert s.execute(text("SELECT count(*) FROM customers")).scalar() == 2


class Recorder:
    """A plugin that keeps every batch it is handed."""

    def __init__(self):
        self.batches = []

    @hookimpl
    def kehu_interactions_recorded(self, session, batch):
        self.batches.append((batch.source, list(batch.rows)))


def test_hook_receives_the_written_rows_with_their_ids(shop, kehu_register_plugin, tmp_path):
    recorder = Recorder()
    kehu_register_plugin(recorder, "recorder")
    path = write_csv(
        tmp_path / "i.csv",
        "R1,C1,purchase,2024-03-01 10:00,199.00,5,洗衣机,",
        ",上海01,visit,2024-03-02,,,,",
        "R1,C1,purchase,2024-03-01 10:00,199.00,5,洗衣机,",
    )
    with shop.session() as s:
        importing.import_interactions(shop, s, path)
    assert [source for source, _ in recorder.batches] == ["import"]
    rows = recorder.batches[0][1]
    by_id = {r["id"]: r for r in stored(shop)}
    assert sorted(r["id"] for r in rows) == sorted(by_id)
    for row in rows:
        db = by_id[row["id"]]
        for key in ("customer_id", "kind", "occurred_at", "amount", "external_ref", "status", "product"):
            assert row[key] == db[key], key
    purchase = next(r for r in rows if r["external_ref"] == "R1")
    assert purchase["amount"] == Decimal("199.00")
    assert purchase["occurred_at"] == datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    with shop.session() as s:  # nothing new: the hook is not called again
        importing.import_interactions(shop, s, path)
    assert len(recorder.batches) == 1


class WriteWatcher:
    """Records the order of ``kehu_interactions_recorded`` batches and ``kehu_interactions_done``."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def kehu_interactions_recorded(self, session, batch):
        self.calls.append(("recorded", batch.source, len(batch)))

    @hookimpl
    def kehu_interactions_done(self, session, source):
        self.calls.append(("done", source))


def test_done_fires_once_after_the_last_chunk_of_an_import(shop, kehu_register_plugin, tmp_path):
    watcher = WriteWatcher()
    kehu_register_plugin(watcher, "watcher")
    lines = [f"D{n},C1,purchase,2024-03-01 10:00,{n + 1}.00,,," for n in range(5)]
    path = write_csv(tmp_path / "i.csv", *lines)
    with shop.session() as s:
        importing.import_interactions(shop, s, path, chunk_rows=2)
    assert watcher.calls == [
        ("recorded", "import", 2),
        ("recorded", "import", 2),
        ("recorded", "import", 1),
        ("done", "import"),
    ]
    watcher.calls.clear()
    with shop.session() as s:  # nothing new to write: the write still ends
        importing.import_interactions(shop, s, path, chunk_rows=2)
    assert watcher.calls == [("done", "import")]


def test_done_follows_a_single_write_and_not_a_dry_run_or_a_refused_import(
    shop, kehu_register_plugin, kehu_cli, tmp_path
):
    watcher = WriteWatcher()
    kehu_register_plugin(watcher, "watcher")
    assert kehu_cli("interaction", "log", "C1", "visit", "--at", "2024-03-01").exit_code == 0
    assert watcher.calls == [("recorded", "log", 1), ("done", "log")]
    watcher.calls.clear()
    good = write_csv(tmp_path / "good.csv", "G1,C1,purchase,2024-03-01 10:00,5.00,,,")
    with shop.session() as s:
        importing.import_interactions(shop, s, good, dry_run=True)
    bad = write_csv(
        tmp_path / "bad.csv", "B1,C1,purchase,2024-03-01 10:00,5.00,,,", "B2,nobody,purchase,2024-03-01,1,,,"
    )
    with pytest.raises(importing.ImportRefused), shop.session() as s:
        importing.import_interactions(shop, s, bad)
    customers_csv = write_csv(tmp_path / "c.csv", "C9,新客户", header="code,name")
    with shop.session() as s:  # a customer import writes no interaction
        importing.import_customers(shop, s, customers_csv)
    assert watcher.calls == []


def test_bulk_path_stores_exactly_what_the_orm_stores(shop):
    when = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    values = dict(
        kind="payment",
        status="done",
        occurred_at=when,
        amount=Decimal("12.30"),
        cost=Decimal("1.05"),
        quantity=Decimal("2.125"),
        satisfaction=3,
        note="备注",
        due_at=when,
        paid_at=when,
        created_at=when,
    )
    with shop.session() as s:
        cid = customers.get_customer(s, "C1").id
        s.add(Interaction(customer_id=cid, external_ref="orm", **values))
        s.flush()
        write_interactions(shop, s, [dict(values, customer_id=cid, external_ref="bulk")], source="test")
    columns = (
        "kind, status, occurred_at, amount, cost, quantity, satisfaction, note, due_at, paid_at, created_at"
    )
    with shop.session() as s:
        orm, bulk = (
            s.execute(text(f"SELECT {columns} FROM interactions WHERE external_ref = :r"), {"r": r}).one()
            for r in ("orm", "bulk")
        )
    assert tuple(orm) == tuple(bulk)


def test_bulk_path_quantizes_money_and_refuses_naive_times_as_the_types_do(shop):
    with shop.session() as s:
        cid = customers.get_customer(s, "C1").id
        written = write_interactions(
            shop,
            s,
            [
                dict(
                    customer_id=cid,
                    kind="purchase",
                    amount=Decimal("10.005"),
                    occurred_at=datetime(2024, 3, 1, 8, tzinfo=UTC),
                    external_ref="q",
                )
            ],
            source="test",
        )
        raw = s.execute(
            text("SELECT amount FROM interactions WHERE id = :i"), {"i": written[0]["id"]}
        ).scalar()
        assert (
            float(raw) == 10.00
        )  # quantized half-even before storing, as Money does (not 10.005, not 10.01)
    with pytest.raises(ValueError, match="naive datetime"), shop.session() as s:
        write_interactions(
            shop, s, [dict(customer_id=cid, kind="visit", occurred_at=datetime(2024, 3, 1))], source="test"
        )
    assert count(shop) == 1


def test_problems_kept_in_memory_are_bounded(shop, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_REPORTED", 10)
    path = write_csv(tmp_path / "i.csv", *[f"R{n},C1,visit,not-a-date,,,," for n in range(300)])
    seen = []
    with pytest.raises(importing.ImportRefused) as refused, shop.session() as s:
        importing.import_interactions(shop, s, path, on_problem=seen.append, chunk_rows=50)
    report = refused.value.report
    assert (len(report.problems), report.problem_count, report.invalid, len(seen)) == (10, 300, 300, 300)
    assert "and 290 more problem(s): use --errors FILE" in str(refused.value)


def _peak_import_memory(app, path, chunk_rows: int) -> int:
    tracemalloc.start()
    try:
        with app.session() as s:
            importing.import_interactions(app, s, path, chunk_rows=chunk_rows, dry_run=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_file_grows(shop, tmp_path):
    def file(rows: int):
        lines = [
            f"{f'R{n}' if n % 2 else ''},C1,purchase,2024-03-01 10:{n % 60:02d},{n}.50,,产品{n % 7},note {n}"
            for n in range(rows)
        ]
        return write_csv(tmp_path / f"f{rows}.csv", *lines)

    small, big = file(3000), file(12000)
    _peak_import_memory(shop, small, 500)  # warm caches (compiled statements, parsers)
    peak_small = _peak_import_memory(shop, small, 500)
    peak_big = _peak_import_memory(shop, big, 500)
    assert peak_big < peak_small * 1.5, (peak_small, peak_big)


def test_progress_reports_bytes_read_up_to_the_file_size(shop, tmp_path):
    path = write_csv(tmp_path / "i.csv", *[f"R{n},C1,visit,2024-03-01,,,," for n in range(2000)])
    calls = []
    with shop.session() as s:
        importing.import_interactions(
            shop, s, path, chunk_rows=300, progress=lambda done, total: calls.append((done, total))
        )
    size = (tmp_path / "i.csv").stat().st_size
    assert len(calls) == 7
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (size, size) and all(total == size for _, total in calls)


def test_no_progress_bar_when_not_on_a_terminal(shop, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "i.csv", "R1,C1,visit,2024-03-01,,,,")
    result = kehu_cli("interaction", "import", path)
    assert result.exit_code == 0
    assert "importing interactions" not in result.stderr and "%" not in result.stderr
