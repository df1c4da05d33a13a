"""Sales history: all of it by default, net refunds kept, archived and forgotten customers'
past kept at every level above them, the run's window stored, and whether a run is current.

Expected figures are the company fixture's (conftest.series), worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kehu_core.customers import add_customer, archive_customer
from kehu_core.interactions import write_interactions
from kehu_core.privacy import forget_customer
from kehu_forecast import hierarchy as H
from kehu_forecast.history import history_rows, load_history
from kehu_forecast.plan import load
from kehu_forecast.runs import current_coverage, history_of


def _rows(session, level: str, **kw) -> dict[str, dict]:
    _, rows = history_rows(session, level=level, as_of=date(2026, 1, 15), **kw)
    return {r["node"]: r for r in rows}


def _purchase(cid: int, when: datetime, amount: str, ref: str) -> dict:
    return dict(
        customer_id=cid,
        kind="purchase",
        status="done",
        occurred_at=when,
        amount=Decimal(amount),
        external_ref=ref,
    )


def test_default_history_is_every_period_from_the_first_purchase(fc, company, kehu_cli):
    app = company
    with app.session() as session:
        # 24 months, 2024-01 .. 2025-12.
        assert len(load_history(session, as_of=date(2026, 1, 15)).periods) == 24
        # One purchase in 2021-06 (Shanghai): 2021-06 .. 2025-12 is 7 + 48 = 55 months.
        write_interactions(
            app,
            session,
            [_purchase(app.ids["C1"], datetime(2021, 6, 10, 4, tzinfo=UTC), "10", "old")],
            source="test",
        )
        history = load_history(session, as_of=date(2026, 1, 15))
        assert len(history.periods) == 55 and history.periods[0] == date(2021, 6, 1)
        session.commit()
        # --history exactly the span, one less, one more (never zeros before the first purchase).
        assert load_history(session, as_of=date(2026, 1, 15), length=55).periods[0] == date(2021, 6, 1)
        # 54 leave the 2021-06 purchase out: the history starts at the next one, 2024-01.
        assert load_history(session, as_of=date(2026, 1, 15), length=54).periods[0] == date(2024, 1, 1)
        assert len(load_history(session, as_of=date(2026, 1, 15), length=56).periods) == 55
        # A purchase at 23:59 Shanghai on 2021-05-31 is May, local time (15:59 UTC).
        write_interactions(
            app,
            session,
            [_purchase(app.ids["C1"], datetime(2021, 5, 31, 15, 59, tzinfo=UTC), "1", "edge")],
            source="test",
        )
        assert load_history(session, as_of=date(2026, 1, 15)).periods[0] == date(2021, 5, 1)
        session.rollback()
    # A run fits on all of it by default: 55 months.
    assert kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3").exit_code == 0
    with app.session() as session:
        assert history_of(load(session).params) == 55


def test_net_refunds_stay_negative_in_history(fc, company):
    app = company
    with app.session() as session:
        c6 = add_customer(app, session, {"code": "C6", "name": "六", "region": "华北", "owner": "李娜"}).id
        c7 = add_customer(app, session, {"code": "C7", "name": "七", "region": "华北", "owner": "李娜"}).id
        at = datetime(2025, 12, 10, 4, tzinfo=UTC)
        write_interactions(
            app,
            session,
            [
                _purchase(c6, at, "100.00", "c6+"),
                _purchase(c6, at, "-100.00", "c6-"),  # refunds equal purchases: 0.00
                _purchase(c7, at, "100.00", "c7+"),
                _purchase(c7, at, "-100.01", "c7-"),  # one cent more: -0.01
            ],
            source="test",
        )
        customers = _rows(session, "customer")
        assert customers["C5"]["2025-12-01"] == Decimal("-100.00")
        assert customers["C6"]["2025-12-01"] == Decimal("0.00")
        assert customers["C7"]["2025-12-01"] == Decimal("-0.01")
        # 华北/李娜 in 2025-12: C4 2000 − 20·23 = 1540, C5 −100, C6 0, C7 −0.01.
        assert _rows(session, "salesperson")["华北/李娜"]["2025-12-01"] == Decimal("1439.99")
        history = load_history(session, as_of=date(2026, 1, 15))
        row = list(history.customers["code"]).index("C7")
        assert history.values[row, -1] == pytest.approx(-0.01)


def test_archived_and_forgotten_customers_keep_their_past_at_every_level(fc, company):
    app = company
    with app.session() as session:
        before = {level: _rows(session, level) for level in ("company", "region", "salesperson")}
        # 2025-12 by hand: C1 1000 + 50·23 + 200 = 2350, C2 730, C3 700, C4 1540, C5 −100.
        assert before["company"][H.COMPANY]["2025-12-01"] == Decimal("5220.00")
        archive_customer(app, session, "C2")
        forget_customer(app, session, "C5")
        after = {level: _rows(session, level) for level in ("company", "region", "salesperson")}
        assert after == before
        customers = _rows(session, "customer")
        assert customers["C2"]["2025-12-01"] == Decimal("730.00")  # archived: still a row
        assert "C5" not in customers  # forgotten: only in the anonymous totals above
        history = load_history(session, as_of=date(2026, 1, 15))
        assert set(history.customers["code"]) == {"C1", "C3", "C4"}  # only these are forecast
        assert set(history.departed["code"]) == {"C2", "C5"}
        assert history.total()[-1] == pytest.approx(5220.0)


def test_a_salesperson_with_only_departed_customers_counts_in_the_region_or_company(fc, company):
    app = company
    with app.session() as session:
        archive_customer(app, session, "C4")
        archive_customer(app, session, "C5")
        history = load_history(session, as_of=date(2026, 1, 15))
        h = H.build(history.customers)  # 华北 has no active customer: no node
        assert "华北" not in h.keys
        nodes = history.node_values(h)
        assert nodes[0, -1] == pytest.approx(5220.0)  # company: C4 and C5 still count
        east = h.keys.index("华东")
        assert nodes[east, -1] == pytest.approx(2350 + 730 + 700)
        # A departed customer whose salesperson has no node but whose region has one.
        archive_customer(app, session, "C3")  # 华东/王芳's only customer
        history = load_history(session, as_of=date(2026, 1, 15))
        h = H.build(history.customers)
        assert "华东/王芳" not in h.keys
        assert history.node_values(h)[h.keys.index("华东"), -1] == pytest.approx(3780.0)


def test_a_run_stores_its_history_window_for_reconcile(fc, company, kehu_cli):
    assert history_of(None) is None and history_of({}) is None
    assert history_of({"history_periods": 12}) == 12
    result = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--history", "12", "--horizon", "3")
    assert result.exit_code == 0, result.output
    assert kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3").exit_code == 0
    with company.session() as session:
        short, whole = load(session, 1), load(session, 2)
        assert history_of(short.params) == 12 and history_of(whole.params) == 24
        # The stored window loads back exactly: 2025-01 .. 2025-12, and 2024-01 .. 2025-12.
        again = load_history(session, short.freq, as_of=short.periods[0], length=history_of(short.params))
        assert again.periods[0] == date(2025, 1, 1) and again.history_end == date(2025, 12, 1)
        again = load_history(session, whole.freq, as_of=whole.periods[0], length=history_of(whole.params))
        assert again.periods[0] == date(2024, 1, 1) and len(again.periods) == 24


def test_whether_the_newest_run_covers_the_current_month(fc, company, kehu_cli):
    with company.session() as session:
        none = current_coverage(session)
        assert not none.current and none.message == "no forecast yet: kehu forecast run"
    assert kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3").exit_code == 0
    with company.session() as session:
        # The run covers 2026-01 .. 2026-03.
        assert current_coverage(session, today=date(2026, 1, 1)).current
        last_day = current_coverage(session, today=date(2026, 3, 31))
        assert last_day.current and last_day.message == ""
        assert last_day.last_period == date(2026, 3, 1)
        after = current_coverage(session, today=date(2026, 4, 1))
        assert not after.current
        assert after.message == (
            "no current forecast; last run 1 (bottomup) covers up to 2026-03: kehu forecast run"
        )
        assert "None" not in after.message
