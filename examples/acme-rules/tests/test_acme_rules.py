"""ACME's key-account flags: set through the CLI, on the card, in the list, filters, export, forget."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kehu_acme_rules.flags import is_judged_key_account, key_account_customers
from kehu_core import customers
from kehu_core.models import Customer


@pytest.fixture
def acme(kehu_app, kehu_install):
    kehu_install("acme_rules")
    with kehu_app.session() as session:
        for code, name in (("C1", "华为技术"), ("C2", "小米科技"), ("C3", "安徽建材")):
            customers.add_customer(kehu_app, session, {"code": code, "name": name, "owner": "王芳"})
    return kehu_app


def test_set_flags_and_see_them_on_the_card(acme, kehu_cli):
    result = kehu_cli(
        "--as",
        "王芳",  # a database without users: whoever acts is its administrator, under this name
        "acme",
        "set",
        "C1",
        "--strategic-project",
        "--influence",
        "--note",
        "省级示范项目",
        "--json",
    )
    assert result.exit_code == 0, result
    data = result.json
    assert (
        data["strategic_project"],
        data["influence"],
        data["technical_strength"],
        data["key_account"],
    ) == (True, True, False, True)
    card = kehu_cli("customer", "show", "C1", "--json").json["acme_rules"]
    assert card["judged"] is True and card["judged_by"] == "王芳" and card["note"] == "省级示范项目"
    text = kehu_cli("customer", "show", "C1").output
    assert "Key-account judgement (ACME)" in text and "Strategic project" in text
    assert kehu_cli("customer", "show", "C2", "--json").json["acme_rules"] == {"judged": False}


def test_flags_not_given_keep_their_value(acme, kehu_cli):
    kehu_cli("acme", "set", "C1", "--strategic-project", "--market-strength")
    result = kehu_cli("acme", "set", "C1", "--no-strategic-project", "--json").json
    assert (result["strategic_project"], result["market_strength"], result["key_account"]) == (
        False,
        True,
        True,
    )
    result = kehu_cli("acme", "set", "C1", "--no-market-strength", "--json").json
    assert result["key_account"] is False
    assert kehu_cli("acme", "show", "C1").output.count(" no\n") == 5


def test_list_column_and_filters(acme, kehu_cli):
    kehu_cli("acme", "set", "C1", "--strategic-project", "--influence")
    kehu_cli("acme", "set", "C3", "--technical-strength")
    kehu_cli("acme", "set", "C2", "--no-influence")  # judged, but no flag
    rows = kehu_cli("customer", "list", "--json").json
    assert [(r["code"], r["acme_flags"]) for r in rows] == [
        ("C1", "战略项目,影响力"),
        ("C2", None),
        ("C3", "技术实力"),
    ]
    keys = kehu_cli("customer", "list", "--filter", "acme_key=yes", "--json").json
    assert [r["code"] for r in keys] == ["C1", "C3"]
    others = kehu_cli("customer", "list", "--filter", "acme_key=no", "--json").json
    assert [r["code"] for r in others] == ["C2"]
    tech = kehu_cli("customer", "list", "--filter", "acme_flag=technical-strength", "--json").json
    assert [r["code"] for r in tech] == ["C3"]
    by_flags = kehu_cli("customer", "list", "--sort", "acme_flags", "--columns", "code,acme_flags", "--csv")
    # Sorted by pinyin (ji < zhan), customers without flags last.
    assert by_flags.stdout.splitlines()[1:] == ["C3,技术实力", 'C1,"战略项目,影响力"', "C2,"]
    bad = kehu_cli("customer", "list", "--filter", "acme_key=maybe")
    assert bad.exit_code == 1 and "acme_key: must be one of yes, no (got 'maybe')" in bad.output


def test_rules_read_the_judgement_set_based(acme, kehu_cli):
    """What a key-account tiering rule will use: one SELECT, no per-customer Python."""

    kehu_cli("acme", "set", "C2", "--market-strength")
    with acme.session() as session:
        assert list(session.scalars(key_account_customers())) == [2]
        codes = session.scalars(
            select(Customer.code).where(is_judged_key_account(Customer.id)).order_by(Customer.code)
        )
        assert list(codes) == ["C2"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("C1",), "flags: nothing to change"),
        (("C1", "--influence", "--note", "长" * 2001), "note: too long"),
        (("NOPE", "--influence"), "NOPE"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(acme, kehu_cli, args, message):
    result = kehu_cli("acme", "set", *args)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert kehu_cli("customer", "show", "C1", "--json").json["acme_rules"] == {"judged": False}


def test_export_and_forget(acme, kehu_cli):
    kehu_cli("acme", "set", "C1", "--influence", "--note", "老板是校友")
    assert kehu_cli("customer", "export", "C1").json["acme_rules"]["note"] == "老板是校友"
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    exported = kehu_cli("customer", "export", "C1").json["acme_rules"]
    assert exported["note"] is None and exported["influence"] is True


def test_not_installed_says_how_and_uninstall_keeps_customers(kehu_app, kehu_cli, kehu_install):
    with kehu_app.session() as session:
        customers.add_customer(kehu_app, session, {"code": "C1", "name": "华为"})
    refused = kehu_cli("acme", "set", "C1", "--influence")
    assert refused.exit_code == 1 and "kehu plugins install acme_rules" in refused.output
    kehu_install("acme_rules")
    assert kehu_cli("acme", "set", "C1", "--influence").exit_code == 0
    assert kehu_cli("plugins", "uninstall", "acme_rules", "--yes").exit_code == 0
    card = kehu_cli("customer", "show", "C1", "--json").json
    assert "acme_rules" not in card and card["profile"]["name"] == "华为"


def test_demo_data_judges_some_customers(kehu_app, kehu_install, kehu_cli):
    kehu_install("acme_rules")
    result = kehu_cli("demo", "--customers", "40", "--json")
    assert result.exit_code == 0, result
    judged = "acme_rules: 2 customers judged by their salesperson (key-account flags); tiered again with them"
    assert any(line.startswith(judged) for line in result.json["lines"])
    judged = kehu_cli("customer", "list", "--filter", "acme_key=yes", "--json").json
    assert len(judged) == 2 and all(r["acme_flags"] for r in judged)
