"""Members' birthday months live on their accounts (earning reads one row per purchase); every
way the core changes a birthday keeps the copy right, and so the birthday bonus lands right."""

from __future__ import annotations

import io

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from kehu_core import schema
from kehu_core.importing import import_customers
from kehu_core.models import Customer
from kehu_loyalty.models import ACCOUNTS


def months(shop) -> dict[str, int | None]:
    with shop.app.session() as s:
        rows = s.execute(
            select(Customer.code, ACCOUNTS.c.birthday_month).join(
                ACCOUNTS, ACCOUNTS.c.customer_id == Customer.id
            )
        )
        return dict(rows.all())


def earned(shop, code: str) -> list[tuple[str, int]]:
    return [(e["rule"], e["points"]) for e in shop.ledger(code) if e["kind"] == "earn"]


def test_enrolment_copies_the_birthday_month(shop):
    with_birthday = shop.customer(birthday="1990-05-20")
    without = shop.customer()
    assert months(shop) == {with_birthday: 5, without: None}


def test_editing_a_birthday_moves_the_bonus_month(shop, kehu_cli):
    code = shop.customer(birthday="1990-05-20")
    assert kehu_cli("customer", "edit", code, "--birthday", "1990-07-02").exit_code == 0
    assert months(shop)[code] == 7
    shop.log(code, amount="100", at="2024-05-10T12:00:00+08:00")
    shop.log(code, amount="100", at="2024-07-10T12:00:00+08:00")
    assert earned(shop, code) == [("base", 100), ("base+birthday", 200)]


def test_importing_customers_updates_birthdays_and_leaves_others(shop, kehu_app):
    moved = shop.customer("B1", name="王芳", birthday="1985-03-03")
    kept = shop.customer("B2", name="李雷", birthday="1985-11-11")
    added = shop.customer("B3", name="韩梅梅")
    csv = "code,name,birthday\nB1,王芳,1985-09-30\nB2,李雷,1985-11-11\nB3,韩梅梅,2001-01-15\n".encode()
    with kehu_app.session() as s:
        import_customers(kehu_app, s, io.BytesIO(csv))
    assert months(shop) == {moved: 9, kept: 11, added: 1}


def test_forgetting_a_customer_clears_the_month(shop, kehu_cli):
    code = shop.customer(birthday="1990-05-20")
    assert kehu_cli("customer", "forget", code, "--yes").exit_code == 0
    assert months(shop)[code] is None


def test_migration_fills_the_month_for_existing_members(shop, kehu_app):
    """loyalty0003 on a database enrolled before it: the months come from the customers."""

    code = shop.customer(birthday="1990-12-24")
    plain = shop.customer()
    with kehu_app.session() as s:
        connection = s.connection()
        schemas = kehu_app.schemas()
        cfg = schema.alembic_config(connection, schemas)

        with schema._alembic_rows(connection, cfg):
            command.downgrade(cfg, "loyalty0002")
        assert "birthday_month" not in [c["name"] for c in _columns(connection)]
        schema.upgrade(connection, schemas, ["loyalty"])
    assert months(shop) == {code: 12, plain: None}


def _columns(connection):
    return inspect(connection).get_columns("loyalty_accounts")


def test_the_check_refuses_a_month_out_of_range(shop, kehu_app):
    code = shop.customer()
    with pytest.raises(IntegrityError), kehu_app.session() as s:
        s.execute(text("UPDATE loyalty_accounts SET birthday_month = 13"))
    assert months(shop)[code] is None
