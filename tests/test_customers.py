"""Customer services and CLI: add, edit, list, show, archive, forget, export; bad values."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kehu_core import customers
from kehu_core.errors import NotFound, ValidationError
from kehu_core.text import display_width
from kehu_core.validation import local_zone


def add(app, **values):
    with app.session() as s:
        return customers.add_customer(app, s, values)


def test_add_and_show_chinese_customer(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="华为技术有限公司", region="华南", tags="vip、深圳", credit_limit="50000")
    result = kehu_cli("customer", "show", "C1", "--json")
    assert result.exit_code == 0, result
    data = result.json
    assert data["profile"]["name"] == "华为技术有限公司"
    assert data["profile"]["credit_limit"] == "50000.00"
    assert data["profile"]["tags"] == ["vip", "深圳"]


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("credit_limit", "abc", "not a number"),
        ("credit_limit", "-5", "must not be negative"),
        ("birthday", "2024-13-40", "not a date"),
        ("email", "not-an-email", "not an e-mail"),
        ("kind", "robot", "must be one of"),
        ("name", "名" * 201, "too long"),
    ],
)
def test_bad_values_name_the_field_and_change_nothing(kehu_app, field, value, reason):
    values = {"code": "C1", "name": "张三", field: value}
    with pytest.raises(ValidationError) as err:
        add(kehu_app, **values)
    assert field in str(err.value) and reason in str(err.value)
    with kehu_app.session() as s:
        assert customers.list_customers(kehu_app, s, customers.CustomerQuery()).total == 0


def test_a_birthday_is_a_day_that_has_come(kehu_app):
    today = datetime.now(local_zone()).date()
    add(kehu_app, code="C1", name="今天", birthday=today.isoformat())  # born today: accepted
    add(kehu_app, code="C2", name="昨天", birthday=(today - timedelta(days=1)).isoformat())
    tomorrow = (today + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as err:
        add(kehu_app, code="C3", name="明天", birthday=tomorrow)
    assert f"birthday: a day that has not come yet (today is {today.isoformat()})" in str(err.value)
    assert f"(got '{tomorrow}')" in str(err.value)
    with kehu_app.session() as s:
        assert customers.list_customers(kehu_app, s, customers.CustomerQuery()).total == 2


def test_a_filter_no_plugin_adds_says_so(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="甲")
    result = kehu_cli("customer", "list", "--filter", "shop_rules_label=战略客户")
    assert result.exit_code == 1
    assert (
        "unknown filter 'shop_rules_label': no plugin loaded here adds a filter (see `kehu plugins list`)"
        in result.output
    )


def test_duplicate_code_is_refused(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="甲")
    result = kehu_cli("customer", "add", "C1", "乙")
    assert result.exit_code == 1
    assert "code: already used" in result.output
    with kehu_app.session() as s:
        assert customers.get_customer(s, "C1").name == "甲"


def test_list_sorts_chinese_by_pinyin_and_filters(kehu_app, kehu_cli):
    for code, name, region in (
        ("C1", "上海贸易", "华东"),
        ("C2", "北京科技", "华北"),
        ("C3", "广州商行", "华南"),
        ("C4", "安徽建材", "华东"),
    ):
        add(kehu_app, code=code, name=name, region=region, owner="王芳")
    result = kehu_cli("customer", "list", "--sort", "name", "--json")
    assert [r["name"] for r in result.json] == ["安徽建材", "北京科技", "广州商行", "上海贸易"]
    result = kehu_cli("customer", "list", "--region", "华东", "--sort", "name", "--desc", "--csv")
    assert result.output.splitlines()[1:] == ["C1,上海贸易,华东,,,王芳", "C4,安徽建材,华东,,,王芳"]


def test_table_aligns_wide_characters(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="华为", region="华南")
    add(kehu_app, code="C2", name="ABCDEF", region="x")
    lines = kehu_cli("customer", "list").output.splitlines()
    header, rule, row1, row2 = lines[:4]
    # The region column starts at the same terminal column on every line.
    col = display_width(header[: header.index("region")])
    assert display_width(row1[: row1.index("华南")]) == col
    assert display_width(row2[: row2.index("x")]) == col


def test_edit_clears_and_changes(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="甲", region="华东")
    assert kehu_cli("customer", "edit", "C1", "--region", "", "--owner", "李娜").exit_code == 0
    with kehu_app.session() as s:
        c = customers.get_customer(s, "C1")
        assert c.region is None and c.owner == "李娜"


def test_archive_hides_from_list(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="甲")
    kehu_cli("customer", "archive", "C1")
    assert kehu_cli("customer", "list", "--json").json == []
    assert len(kehu_cli("customer", "list", "--archived", "--json").json) == 1


def test_forget_erases_personal_data_and_keeps_aggregates(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="张三", phone="13800000000", email="z@example.cn", birthday="1980-01-02")
    assert (
        kehu_cli("interaction", "log", "C1", "purchase", "--amount", "100", "--note", "张三的私事").exit_code
        == 0
    )
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    exported = kehu_cli("customer", "export", "C1").json
    assert exported["customer"]["name"] == "(forgotten)"
    assert exported["customer"]["phone"] is None and exported["customer"]["birthday"] is None
    assert exported["interactions"][0]["note"] is None
    assert exported["interactions"][0]["amount"] == "100.00"
    assert "张三" not in kehu_cli("customer", "export", "C1").output


def test_unknown_customer(kehu_app, kehu_cli):
    with kehu_app.session() as s, pytest.raises(NotFound):
        customers.get_customer(s, "nope")
    result = kehu_cli("customer", "show", "nope")
    assert result.exit_code == 1 and "no customer with code 'nope'" in result.output
