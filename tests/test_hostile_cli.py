"""Hostile input at the core's command line: spreadsheet formulas in CSV output, unknown codecs,
huge limits, racing duplicates, and streamed list output."""

from __future__ import annotations

import csv
import io
import json
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from kehu_core import customers
from kehu_core.cli import create_cli, output
from kehu_core.cli import customer as customer_cli
from kehu_core.cli import interaction as interaction_cli
from kehu_core.models import Customer, Interaction
from kehu_core.types import utcnow

#: Cells a spreadsheet would run as formulas, and what the CSV output must hold instead.
FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1+2": "'+1+2",
    "-2+3": "'-2+3",
    "@SUM(A1)": "'@SUM(A1)",
}
HUGE = str(10**30)


def count(app, table) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def formulas(kehu_app):
    """One customer per formula (the formula as its name), each with one call noting it."""
    with kehu_app.session() as s:
        for i, formula in enumerate(FORMULAS):
            customers.add_customer(kehu_app, s, {"code": f"C{i}", "name": formula, "region": "-"})
    return kehu_app


def test_customer_list_csv_neutralises_formulas_and_json_keeps_them(formulas, kehu_cli):
    result = kehu_cli("customer", "list", "--csv", "--columns", "code,name,region")
    assert result.exit_code == 0, result
    rows = csv_rows(result.stdout)
    assert sorted(r["name"] for r in rows) == sorted(FORMULAS.values())
    assert {r["region"] for r in rows} == {"'-"}
    result = kehu_cli("customer", "list", "--json", "--columns", "code,name")
    assert sorted(r["name"] for r in result.json) == sorted(FORMULAS)


def test_interaction_list_csv_neutralises_formulas_but_not_negative_amounts(formulas, kehu_cli):
    for i, formula in enumerate(FORMULAS):
        args = ("interaction", "log", f"C{i}", "purchase", "--amount", "-12.50", "--note", formula)
        assert kehu_cli(*args).exit_code == 0
    result = kehu_cli("interaction", "list", "--csv")
    assert result.exit_code == 0, result
    rows = csv_rows(result.stdout)
    assert sorted(r["note"] for r in rows) == sorted(FORMULAS.values())
    assert {r["amount"] for r in rows} == {"-12.50"}
    result = kehu_cli("interaction", "list", "--json")
    assert sorted(r["note"] for r in result.json) == sorted(FORMULAS)
    assert {r["amount"] for r in result.json} == {"-12.50"}


@pytest.mark.parametrize(
    "value, written",
    [
        *FORMULAS.items(),
        ("\tcmd", "'\tcmd"),  # stored text is stripped, but a plugin's column may start so
        ("\rcmd", "'\rcmd"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("-.5", "-.5"),
        ("-1e5", "'-1e5"),  # not the plain-number rule: kept as text
        ("-", "'-"),
        ("a=b", "a=b"),
        (-7, -7),
        (None, None),
    ],
)
def test_spreadsheet_safe_rule(value, written):
    assert output.spreadsheet_safe(value) == written


def test_errors_file_neutralises_formulas(kehu_app, kehu_cli, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("code,name,email\nC1,甲,=cmd|' /C calc'!A0\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    result = kehu_cli("customer", "import", str(source), "--errors", str(errors))
    assert result.exit_code == 1, result
    assert count(kehu_app, Customer) == 0
    raw = errors.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    (row,) = csv_rows(raw.decode("utf-8-sig"))
    assert row["line"] == "2" and row["column"] == "email"
    assert row["value"] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "encoding, problem",
    [
        ("base64", "'base64' is not a text encoding"),
        ("rot13", "'rot13' is not a text encoding"),
        ("zlib", "'zlib' is not a text encoding"),
        ("no-such-codec", "unknown encoding 'no-such-codec'"),
    ],
)
def test_import_refuses_a_codec_that_is_not_a_text_encoding(kehu_app, kehu_cli, tmp_path, encoding, problem):
    source = tmp_path / "c.csv"
    source.write_text("code,name\nC1,甲\n", encoding="utf-8")
    result = kehu_cli("customer", "import", str(source), "--encoding", encoding)
    assert result.exit_code == 1, result
    assert result.stderr.splitlines() == [
        f"Error: {problem}; use one of utf-8, utf-8-sig, gbk, gb18030, gb2312, big5, utf-16, latin-1"
        " (or another text encoding Python knows)"
    ]
    assert count(kehu_app, Customer) == 0


@pytest.mark.parametrize(
    "args",
    [
        ("customer", "list", "--limit", HUGE),
        ("customer", "list", "--offset", HUGE),
        ("interaction", "list", "--limit", HUGE),
    ],
    ids=["customer-limit", "customer-offset", "interaction-limit"],
)
def test_huge_limit_or_offset_is_a_range_error(kehu_app, kehu_cli, args):
    result = kehu_cli(*args)
    assert result.exit_code == 2, result
    option = args[2]
    assert f"Invalid value for '{option}': {HUGE} is not in the range" in result.stderr
    assert "<=1000000000000." in result.stderr
    assert "Traceback" not in result.output


def _race(monkeypatch, module, name, duplicate):
    """Make ``module.name`` meet a duplicate another process wrote after its check: the
    service runs, then the same key is inserted in its transaction, as the racing writer's
    commit would make the database refuse it."""
    real = getattr(module, name)

    def raced(app, session, *args, **kwargs):
        record = real(app, session, *args, **kwargs)
        duplicate(session)
        session.flush()
        return record

    monkeypatch.setattr(module, name, raced)


def test_racing_customer_add_is_one_line(kehu_app, kehu_cli, monkeypatch):
    now = utcnow()
    row = {"code": "C1", "name": "乙", "active": True, "marketing_consent": False}
    row |= {"created_at": now, "updated_at": now, "attributes": {}}
    _race(monkeypatch, customer_cli, "add_customer", lambda s: s.execute(insert(Customer).values(**row)))
    result = kehu_cli("customer", "add", "C1", "甲")
    assert result.exit_code == 1, result
    assert result.stderr.strip().splitlines() == ["Error: customer C1 already exists; nothing was changed"]
    assert count(kehu_app, Customer) == 0


def test_racing_customer_edit_new_code_is_one_line(kehu_app, kehu_cli, monkeypatch):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
    now = utcnow()
    row = {"code": "C2", "name": "乙", "active": True, "marketing_consent": False}
    row |= {"created_at": now, "updated_at": now, "attributes": {}}
    _race(monkeypatch, customer_cli, "edit_customer", lambda s: s.execute(insert(Customer).values(**row)))
    result = kehu_cli("customer", "edit", "C1", "--new-code", "C2")
    assert result.exit_code == 1, result
    assert result.stderr.strip().splitlines() == ["Error: customer C2 already exists; nothing was changed"]
    with kehu_app.session() as s:
        assert [c.code for c in s.scalars(select(Customer))] == ["C1"]


def test_racing_interaction_log_with_the_same_reference_is_one_line(kehu_app, kehu_cli, monkeypatch):
    with kehu_app.session() as s:
        customer_id = customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"}).id
    now = utcnow()
    row = {"customer_id": customer_id, "kind": "call", "status": "done", "occurred_at": now}
    row |= {"external_ref": "R1", "created_at": now}

    def duplicate(session):
        session.execute(insert(Interaction).values(**row))

    _race(monkeypatch, interaction_cli, "log_interaction", duplicate)
    result = kehu_cli("interaction", "log", "C1", "call", "--external-ref", "R1")
    assert result.exit_code == 1, result
    assert result.stderr.strip().splitlines() == [
        "Error: an interaction with reference R1 is already recorded; nothing was changed"
    ]
    assert count(kehu_app, Interaction) == 0


def test_interaction_list_json_streams_the_same_text(kehu_app, kehu_cli):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
    for i in range(3):
        kehu_cli("interaction", "log", "C1", "call", "--note", f'第{i}次\n"引号"')
    result = kehu_cli("interaction", "list", "--limit", "0", "--json")
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert [r["note"] for r in data] == [f'第{i}次\n"引号"' for i in (2, 1, 0)]
    assert result.stdout == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    empty = kehu_cli("interaction", "list", "--kind", "visit", "--json")
    assert empty.stdout == "[]\n"


def test_two_customer_adds_at_once_on_postgresql(kehu_app, kehu_cli):
    """A true race: another transaction has inserted C1 and not committed yet, so the
    command's check finds nothing and its insert waits on the unique index, then fails."""
    if kehu_app.dialect != "postgresql":
        pytest.skip("SQLite takes the write lock before the check: no race there")
    now = utcnow()
    row = {"code": "C1", "name": "乙", "active": True, "marketing_consent": False}
    row |= {"created_at": now, "updated_at": now, "attributes": {}}
    results = []
    with kehu_app.engine.connect() as other:
        other.execute(insert(Customer).values(**row))
        racer = threading.Thread(target=lambda: results.append(kehu_cli("customer", "add", "C1", "甲")))
        racer.start()
        time.sleep(1.5)  # the command is now waiting on the unique index
        other.commit()
    racer.join(timeout=60)
    (result,) = results
    assert result.exit_code == 1, result
    assert result.stderr.strip().splitlines() == ["Error: customer C1 already exists; nothing was changed"]
    with kehu_app.session() as s:
        assert [c.name for c in s.scalars(select(Customer))] == ["乙"]


@pytest.mark.parametrize("value", ["abc", "-5", "1e3", "99999999999"])
def test_a_bad_busy_timeout_variable_is_one_line(tmp_path, monkeypatch, value):
    monkeypatch.setenv("KEHU_SQLITE_BUSY_TIMEOUT_MS", value)
    result = CliRunner().invoke(create_cli(), ["--db", str(tmp_path / "k.db"), "init"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: KEHU_SQLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds up to 3600000 "
        f"(got {value!r})"
    )
