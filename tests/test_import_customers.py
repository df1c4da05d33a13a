"""``kehu customer import``: bad rows, duplicate codes, re-import is a no-op, updates, forgotten customers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kehu_core import customers, hookimpl, importing, privacy
from kehu_core.models import Customer

HEADER = "code,name,kind,region,credit_limit,email,birthday,tags"
ROWS = [
    "C1,华为技术有限公司,company,华南,50000,,,vip、深圳",
    "C2,张三,person,华东,,zhang@example.cn,1980-05-01,",
    'C3,"Robert\'); DROP TABLE customers;--",company,,,,,',
]


def write_csv(path, *lines: str, header: str = HEADER):
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return str(path)


def snapshot(app) -> dict[str, tuple]:
    with app.session() as s:
        return {
            c.code: (
                c.name,
                c.kind,
                c.region,
                c.credit_limit,
                c.email,
                c.birthday,
                tuple(t.tag for t in c.tags),
                dict(c.attributes),
                c.updated_at,
                c.created_at,
            )
            for c in s.scalars(select(Customer))
        }


def count(app) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(Customer))


def test_import_then_reimport_changes_nothing(kehu_app, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", *ROWS)
    first = kehu_cli("customer", "import", path, "--json")
    assert first.exit_code == 0, first
    assert (first.json["written"], first.json["updated"], first.json["unchanged"]) == (3, 0, 0)
    before = snapshot(kehu_app)
    assert before["C1"][6] == ("vip", "深圳") and before["C1"][3] == Decimal("50000.00")
    assert before["C3"][0] == "Robert'); DROP TABLE customers;--"
    again = kehu_cli("customer", "import", path, "--json")
    assert (again.json["written"], again.json["updated"], again.json["unchanged"]) == (0, 0, 3)
    assert snapshot(kehu_app) == before  # updated_at untouched too


def test_changed_rows_update_only_those_customers(kehu_app, kehu_cli, tmp_path):
    kehu_cli("customer", "import", write_csv(tmp_path / "c.csv", *ROWS))
    before = snapshot(kehu_app)
    changed = write_csv(
        tmp_path / "d.csv",
        "C1,华为技术有限公司,company,华南,80000,,,vip、深圳",
        ROWS[1],
        "C3,Robert,company,,,,,",
    )
    result = kehu_cli("customer", "import", changed, "--json")
    assert (result.json["written"], result.json["updated"], result.json["unchanged"]) == (0, 2, 1)
    after = snapshot(kehu_app)
    assert after["C1"][3] == Decimal("80000.00") and after["C3"][0] == "Robert"
    assert after["C2"] == before["C2"]
    assert after["C1"][8] > before["C1"][8]
    assert after["C1"][9] == before["C1"][9]


def test_only_present_columns_are_written_and_blank_clears(kehu_app, kehu_cli, tmp_path):
    kehu_cli("customer", "import", write_csv(tmp_path / "c.csv", *ROWS))
    partial = write_csv(tmp_path / "p.csv", "C1,华为技术有限公司,", header="code,name,tags")
    result = kehu_cli("customer", "import", partial, "--json")
    assert result.json["updated"] == 1
    after = snapshot(kehu_app)["C1"]
    assert after[6] == () and after[2] == "华南" and after[3] == Decimal("50000.00")


def test_attr_columns_merge_into_attributes(kehu_app, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", "C1,甲,A,红", "C2,乙,,", header="code,name,attr:grade,attr:颜色")
    assert kehu_cli("customer", "import", path).exit_code == 0
    assert snapshot(kehu_app)["C1"][7] == {"grade": "A", "颜色": "红"}
    assert snapshot(kehu_app)["C2"][7] == {}
    later = write_csv(tmp_path / "b.csv", "C1,甲,B", header="code,name,attr:grade")
    assert kehu_cli("customer", "import", later).exit_code == 0
    assert snapshot(kehu_app)["C1"][7] == {"grade": "B", "颜色": "红"}


@pytest.mark.parametrize("chunk_rows", [1000, 1], ids=["same-chunk", "across-chunks"])
def test_duplicate_code_in_the_file_is_refused(kehu_app, tmp_path, chunk_rows):
    path = write_csv(tmp_path / "c.csv", *ROWS, "C2,李四,person,,,,,")
    with pytest.raises(importing.ImportRefused) as refused, kehu_app.session() as s:
        importing.import_customers(kehu_app, s, path, chunk_rows=chunk_rows)
    assert "line 5, code: appears more than once in the file (first on line 3) (got 'C2')" in str(
        refused.value
    )
    assert count(kehu_app) == 0


@pytest.mark.parametrize(
    "row, column, reason",
    [
        ("C9,,company,,,,,", "name", "required, must not be empty"),
        ("C9,某某,robot,,,,,", "kind", "must be one of person, company"),
        ("C9,某某,company,,-1,,,", "credit_limit", "must not be negative"),
        ("C9,某某,company,,lots,,,", "credit_limit", "not a number"),
        ("C9,某某,company,,,not-an-email,,", "email", "not an e-mail address"),
        ("C9,某某,person,,,,1980-02-30,", "birthday", "not a date like 2024-03-01"),
        ("C9," + "名" * 201 + ",company,,,,,", "name", "too long: 201 characters, at most 200"),
        ("C" + "9" * 64 + ",某某,company,,,,,", "code", "too long: 65 characters, at most 64"),
        ("C9,某某,company," + "区" * 101 + ",,,,", "region", "too long: 101 characters, at most 100"),
    ],
)
def test_bad_value_names_line_column_reason_and_writes_nothing(
    kehu_app, kehu_cli, tmp_path, row, column, reason
):
    path = write_csv(tmp_path / "c.csv", *ROWS, row)
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 1
    assert f"line 5, {column}: {reason}" in result.output
    assert count(kehu_app) == 0
    skipped = kehu_cli("customer", "import", path, "--skip-invalid", "--json")
    assert skipped.exit_code == 0
    assert (skipped.json["written"], skipped.json["invalid"]) == (3, 1)
    assert count(kehu_app) == 3


def test_forgotten_customer_is_not_brought_back(kehu_app, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", *ROWS)
    kehu_cli("customer", "import", path)
    with kehu_app.session() as s:
        privacy.forget_customer(kehu_app, s, "C2")
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 1
    assert "line 3, code: this customer was forgotten" in result.output
    with kehu_app.session() as s:
        assert customers.get_customer(s, "C2").name == privacy.FORGOTTEN_NAME


def test_dry_run_reports_what_would_change_and_writes_nothing(kehu_app, kehu_cli, tmp_path):
    kehu_cli("customer", "import", write_csv(tmp_path / "c.csv", *ROWS[:2]))
    before = snapshot(kehu_app)
    path = write_csv(tmp_path / "d.csv", "C1,新名字,company,华南,50000,,,vip、深圳", *ROWS[1:])
    result = kehu_cli("customer", "import", path, "--dry-run", "--json")
    assert result.exit_code == 0, result
    assert (result.json["written"], result.json["updated"], result.json["unchanged"]) == (1, 1, 1)
    assert snapshot(kehu_app) == before


class ChangeRecorder:
    """Keeps every customer change it is told about."""

    def __init__(self):
        self.changes = []

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        self.changes.extend(changes)


def test_customers_changed_hook_sees_created_and_updated(kehu_app, kehu_register_plugin, tmp_path):
    recorder = ChangeRecorder()
    kehu_register_plugin(recorder, "recorder")
    with kehu_app.session() as s:
        importing.import_customers(kehu_app, s, write_csv(tmp_path / "c.csv", *ROWS))
    assert sorted((c.code, c.action) for c in recorder.changes) == [
        ("C1", "created"),
        ("C2", "created"),
        ("C3", "created"),
    ]
    recorder.changes.clear()
    with kehu_app.session() as s:
        importing.import_customers(
            kehu_app, s, write_csv(tmp_path / "d.csv", "C1,华为,company,华南,50000,,,vip、深圳", *ROWS[1:])
        )
    assert [(c.code, c.action, c.changed_fields) for c in recorder.changes] == [("C1", "updated", ("name",))]
