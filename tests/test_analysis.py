"""6W1H1S whole: Who, How, Why and Sensitivity recorded (CLI, import, API), typed and checked;
promotion and price sensitivity computed from purchases, at their edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kehu_core import customers, interactions
from kehu_core.errors import KehuError, ValidationError
from kehu_core.importing import import_customers
from kehu_core.profile import computed_sensitivity, set_analysis, share_level

T0 = datetime(2026, 2, 1, 4, tzinfo=UTC)


def test_profile_set_records_typed_answers(kehu_app, kehu_cli):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "成都丰泰"})
    out = kehu_cli(
        "customer",
        "profile-set",
        "C1",
        "who.group=社区便利店",
        "how.decision_makers=王店长；李老板、王店长",
        "why.brand=高",
        "sensitivity.price=High",
    )
    assert out.exit_code == 0, out.output
    card = kehu_cli("customer", "show", "C1", "--json").json
    assert card["analysis"]["recorded"] == {
        "who.group": "社区便利店",
        "how.decision_makers": "王店长, 李老板",
        "why.brand": "high",
        "sensitivity.price": "high",
    }
    # A typo in a key or a level: one line naming the key and the reason; nothing saved.
    bad = kehu_cli("customer", "profile-set", "C1", "sensitivity.price=cheap", "who.group=x")
    assert bad.exit_code != 0
    assert "sensitivity.price: must be one of low, medium, high" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    bad = kehu_cli("customer", "profile-set", "C1", "why.colour=red")
    assert "why.colour: not a 6W1H1S key" in bad.output
    # An empty value removes the answer.
    assert kehu_cli("customer", "profile-set", "C1", "why.brand=").exit_code == 0
    card = kehu_cli("customer", "show", "C1", "--json").json
    assert "why.brand" not in card["analysis"]["recorded"]


def test_api_and_attributes_json_are_checked_alike(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "x"})
        record = set_analysis(kehu_app, s, "C1", {"how.information_sources": ["展会", "同行"]})
        assert record.attributes["how.information_sources"] == "展会, 同行"
        with pytest.raises(ValidationError, match="sensitivity.channel"):
            customers.edit_customer(kehu_app, s, "C1", {"attributes": '{"sensitivity.channel": "x"}'})
        with pytest.raises(ValidationError, match="profit.markup_rate"):
            customers.edit_customer(kehu_app, s, "C1", {"attributes": {"profit.markup_rate": "10.0001"}})
        ok = customers.edit_customer(kehu_app, s, "C1", {"attributes": {"profit.markup_rate": "10"}})
        assert ok.attributes["profit.markup_rate"] == "10"


def test_import_attr_columns_are_checked(kehu_app, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("code,name,attr:sensitivity.promotion,attr:who.group\nC1,x,中,学生\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,attr:sensitivity.promotion\nC2,y,sometimes\n", encoding="utf-8")
    with kehu_app.session() as s:
        import_customers(kehu_app, s, good)
    with kehu_app.session() as s:
        stored = customers.get_customer(s, "C1").attributes
    # Stored as given, read in canonical form (中 is medium).
    assert stored == {"sensitivity.promotion": "中", "who.group": "学生"}
    refused = r"customer C2: attr:sensitivity.promotion: must be one of"
    with pytest.raises(KehuError, match=refused), kehu_app.session() as s:
        import_customers(kehu_app, s, bad)
    with kehu_app.session() as s, pytest.raises(KehuError):
        customers.get_customer(s, "C2")


@pytest.mark.parametrize(
    ("share", "level"),
    [
        (None, None),
        (Decimal("0.1999"), "low"),
        (Decimal("0.2"), "medium"),
        (Decimal("0.4999"), "medium"),
        (Decimal("0.5"), "high"),
    ],
)
def test_share_levels_at_their_edges(share, level):
    assert share_level(share) == level


def _buy(app, s, code, when, product, amount, quantity):
    interactions.log_interaction(
        app,
        s,
        {
            "customer_code": code,
            "kind": "purchase",
            "occurred_at": when,
            "product": product,
            "amount": amount,
            "quantity": quantity,
        },
    )


def test_computed_promotion_and_price_sensitivity(kehu_app):
    with kehu_app.session() as s:
        for code in ("C1", "LIST"):
            customers.add_customer(kehu_app, s, {"code": code, "name": code})
        _buy(kehu_app, s, "LIST", T0, "P", "10.00", "1")  # the list price of P: 10.00
        # 9.50 is exactly 5% below: a discount; 9.51 is not.
        _buy(kehu_app, s, "C1", T0 + timedelta(days=1), "P", "9.50", "1")
        _buy(kehu_app, s, "C1", T0 + timedelta(days=2), "P", "9.51", "1")
        first = computed_sensitivity(s, customers.get_customer(s, "C1").id)
        assert (first.priced_purchases, first.discount_share, first.promotion) == (2, None, None)
        _buy(kehu_app, s, "C1", T0 + timedelta(days=3), "P", "10.00", "1")
        c = computed_sensitivity(s, customers.get_customer(s, "C1").id)
    # 1 of 3 units at a discount: 0.3333, medium.
    assert (c.priced_purchases, c.discount_share, c.promotion) == (3, Decimal("0.3333"), "medium")
    # 9.50 -> 9.51 is no rise (0.1%); 9.51 -> 10.00 is 5.15%: a rise, same quantity: not less.
    assert (c.price_rises, c.bought_less_after, c.price) == (1, 0, "low")


def test_price_rise_exactly_five_percent_then_less(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "x"})
        _buy(kehu_app, s, "C1", T0, "P", "100.00", "10")  # 10.00 a unit
        _buy(kehu_app, s, "C1", T0 + timedelta(days=1), "P", "52.50", "5")  # 10.50: +5% exactly
        _buy(kehu_app, s, "C1", T0, "Q", "100.00", "10")
        _buy(kehu_app, s, "C1", T0 + timedelta(days=1), "Q", "52.45", "5")  # 10.49: +4.9%
        c = computed_sensitivity(s, customers.get_customer(s, "C1").id)
    assert (c.price_rises, c.bought_less_after, c.price) == (1, 1, "high")
