"""Targets at their edges, with the expected values written by hand: purchases at local
midnight on the first day and the second before, the day after the last; a target of 0 and of
one cent; the stretch at exactly 30% growth; expected-to-date and on track to the cent; a target
that starts on the day it is tracked and the day before; the note's three largest lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import false, insert, select, update

from kehu_core import audit, calendar
from kehu_core.customers import add_customer
from kehu_core.errors import Conflict, ValidationError
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_forecast import api
from kehu_forecast import hierarchy as H
from kehu_forecast import targets as targeting
from kehu_forecast.history import NO_SALESPERSON, customer_frame
from kehu_forecast.models import target_lines, targets
from kehu_forecast.plan import Plan, store
from kehu_forecast.targets import salesperson_actuals, smart_note, windows

#: code, owner, planned cents a month.
CUSTOMERS = [
    ("D1", "赵六", 100_000),
    ("D2", "赵六", 50_000),
    ("D3", "赵六", 50_000),
    ("D4", "赵六", 20_000),
    ("D5", "赵六", 0),
    ("E1", "孙七", 0),
    ("F1", "周八", 1),
    ("G1", None, 10_000),
    ("G2", "", 5_000),
    ("H1", "&Co", 0),  # an owner whose name sorts before the unassigned label's
]


def _at(day: date, seconds: int = 0) -> datetime:
    """``seconds`` after local midnight of ``day`` (negative: before it)."""
    return calendar.day_start(day) + timedelta(seconds=seconds)


@pytest.fixture
def shop(kehu_app, kehu_install):
    kehu_install("forecast")
    with kehu_app.session() as session:
        kehu_app.ids = {
            code: add_customer(
                kehu_app, session, {"code": code, "name": code, "region": "华东", "owner": owner}
            ).id
            for code, owner, _ in CUSTOMERS
        }
    return kehu_app


def _buy(app, *rows: tuple) -> None:
    """Purchases ``(code, when, amount[, status[, kind]])``, written at once."""
    with app.session() as session:
        write_interactions(
            app,
            session,
            [
                dict(
                    customer_id=app.ids[code],
                    kind=rest[1] if len(rest) > 1 else "purchase",
                    status=rest[0] if rest else "done",
                    occurred_at=when.astimezone(UTC),
                    amount=Decimal(amount),
                    external_ref=f"b:{code}:{when.isoformat()}:{amount}",
                )
                for code, when, amount, *rest in rows
            ],
            source="test",
        )


def _store(
    app,
    first: date = date(2026, 1, 1),
    horizon: int = 1,
    only: str | None = None,
    kind: str = "reconciled",
    freq: str = "month",
    times: int = 1,
) -> int:
    """A plan by hand over the customers there are now: :data:`CUSTOMERS`' cents a month
    (``only`` that salesperson's customers; ``times`` as much), of ``kind`` and ``freq``."""
    planned = {code: cents * times if only in (None, owner) else 0 for code, owner, cents in CUSTOMERS}
    with app.session() as session:
        h = H.build(customer_frame(session))
        bottom = np.array([[planned[c]] * horizon for c in h.customers["code"]], dtype=np.int64)
        plan = Plan.from_bottom(
            h,
            bottom,
            kind=kind,
            method="by hand",
            freq=freq,
            periods=[calendar.shift(first, k, freq) for k in range(horizon)],
            history_end=calendar.shift(first, -1, freq),
        )
        return store(app, session, plan)


def _set(app, run_id: int, grouping: str = "month") -> dict:
    with app.session() as session:
        saved = api.set_targets(app, session, run_id=run_id, grouping=grouping)
    return {(t.salesperson, t.period_start): t for t in saved}


def _plan(app, first: date = date(2026, 1, 1), horizon: int = 1, grouping: str = "month") -> dict:
    return _set(app, _store(app, first, horizon), grouping)


def test_month_windows_by_hand():
    periods = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert windows(periods, "month") == [
        (date(2026, 1, 1), date(2026, 1, 31), [0], []),
        (date(2026, 2, 1), date(2026, 2, 28), [1], []),
        (date(2026, 3, 1), date(2026, 3, 31), [2], []),
    ]
    # A plan of two months inside one quarter sets no quarter target; three set one.
    assert windows(periods[:2], "quarter") == []
    assert windows(periods, "quarter") == [(date(2026, 1, 1), date(2026, 3, 31), [0, 1, 2], [])]


def test_actuals_run_from_local_midnight_of_the_first_day_to_before_the_end(shop):
    first, end = date(2026, 1, 1), date(2026, 2, 1)
    _buy(
        shop,
        ("D1", _at(first, -1), "1.00"),  # 31 December, 23:59:59: before
        ("D1", _at(first), "10.00"),  # the first second: in
        ("D2", _at(end, -1), "100.00"),  # the last second: in
        ("D2", _at(end), "1000.00"),  # the next period: out
        ("D3", _at(first, 3600), "5000.00", "planned"),  # not done: out
        ("G1", _at(first, 3600), "7.00"),  # no owner: the unassigned label's
        ("G2", _at(first, 7200), "3.00"),  # a blank owner: the same
        ("H1", _at(first, 7200), "2.00"),
    )
    with shop.session() as session:
        assert salesperson_actuals(session, "赵六", first, end) == {
            shop.ids["D1"]: Decimal("10.00"),
            shop.ids["D2"]: Decimal("100.00"),
        }
        assert salesperson_actuals(session, NO_SALESPERSON, first, end) == {
            shop.ids["G1"]: Decimal("7.00"),
            shop.ids["G2"]: Decimal("3.00"),
        }
        assert salesperson_actuals(session, "孙七", first, end) == {}
        assert salesperson_actuals(session, "&Co", first, end) == {shop.ids["H1"]: Decimal("2.00")}


def test_targets_of_zero_are_not_set_one_cent_is_and_lines_and_baseline_by_hand(shop):
    # The same month a year earlier: local 2025-01-01 00:00:00 to 2025-01-31 23:59:59.
    _buy(
        shop,
        ("D1", _at(date(2025, 1, 1), -1), "7.00"),
        ("D1", _at(date(2025, 1, 1)), "1000.00"),
        ("D2", _at(date(2025, 2, 1), -1), "692.31"),
        ("D2", _at(date(2025, 2, 1)), "9.00"),
        ("G1", _at(date(2025, 1, 10)), "60.00"),
        ("G2", _at(date(2025, 1, 10)), "40.00"),
    )
    saved = _plan(shop)
    jan = date(2026, 1, 1)
    assert sorted(sp for sp, _ in saved) == sorted(["赵六", "周八", NO_SALESPERSON])  # not 孙七 (0)
    zhao = saved[("赵六", jan)]
    assert (zhao.amount, zhao.baseline, zhao.period_end) == (
        Decimal("2200.00"),
        Decimal("1692.31"),
        date(2026, 1, 31),
    )
    # Largest first, equal amounts by code; the customer planned at 0 is not a line.
    assert [(ln["code"], ln["amount"]) for ln in zhao.customers] == [
        ("D1", Decimal("1000.00")),
        ("D2", Decimal("500.00")),
        ("D3", Decimal("500.00")),
        ("D4", Decimal("200.00")),
    ]
    # 2200 / 1692.31 - 1 = 29.9998%: growth, not a stretch.
    assert zhao.note == (
        "S: 赵六, 4 customer(s), top: D1 ¥1,000.00、D2 ¥500.00、D3 ¥500.00; M: ¥2,200.00 net purchases; "
        "A: +30% vs same period last year (¥1,692.31); R: revenue; T: by 2026-01-31"
    )
    cent = saved[("周八", jan)]
    assert (cent.amount, cent.baseline) == (Decimal("0.01"), Decimal("0.00"))
    assert "A: no sales in the same period last year: new business" in cent.note
    unassigned = saved[(NO_SALESPERSON, jan)]
    assert (unassigned.amount, unassigned.baseline) == (Decimal("150.00"), Decimal("100.00"))
    with shop.session() as session:
        listed = {r["salesperson"]: r for r in api.list_targets(session)}
    assert listed["赵六"]["note"] == zhao.note and listed["赵六"]["customers"] == 4


@pytest.mark.parametrize(
    ("amount", "case"),
    [("129.99", "growth"), ("130.00", "growth"), ("130.01", "stretch")],
)
def test_a_stretch_is_more_than_30_percent_over_the_baseline(amount, case):
    note = smart_note(
        "赵六", 1, [("D1", Decimal(amount))], Decimal(amount), Decimal("100.00"), date(2026, 1, 31)
    )
    shown = {"129.99": "+30%", "130.00": "+30%", "130.01": "+30%"}[amount]
    assert f"A: {shown} vs same period last year (¥100.00);" in note
    assert ("; stretch;" in note) == (case == "stretch")


@pytest.mark.parametrize(("baseline", "new"), [("0.00", True), ("0.01", False), ("-5.00", True)])
def test_new_business_when_last_year_sold_nothing(baseline, new):
    note = smart_note("赵六", 1, [], Decimal("10.00"), Decimal(baseline), date(2026, 1, 31))
    assert ("new business" in note) == new


def test_growth_is_shown_as_a_whole_percent_with_its_sign():
    note = smart_note("赵六", 2, [], Decimal("50.00"), Decimal("100.00"), date(2026, 3, 31))
    assert note == (
        "S: 赵六, 2 customer(s), top: ; M: ¥50.00 net purchases; A: -50% vs same period last year "
        "(¥100.00); R: revenue; T: by 2026-03-31"
    )


@pytest.mark.parametrize(
    ("mid", "as_of", "expected"),
    [
        # (actual, expected to date, achieved %, elapsed %, status); None: not started.
        ("64.52", date(2025, 12, 31), None),
        ("64.52", date(2026, 1, 1), ("1000.00", "70.97", 45.5, 3.2, "on track")),
        # 2200 × 15/31 = 1064.516: 1064.52 expected, 1000 + 64.52 is exactly that.
        ("64.52", date(2026, 1, 15), ("1064.52", "1064.52", 48.4, 48.4, "on track")),
        ("64.51", date(2026, 1, 15), ("1064.51", "1064.52", 48.4, 48.4, "behind")),
        ("64.52", date(2026, 1, 30), ("1164.52", "2129.03", 52.9, 96.8, "behind")),
        ("64.52", date(2026, 1, 31), ("2200.00", "2200.00", 100.0, 100.0, "met")),
        ("64.51", date(2026, 1, 31), ("2199.99", "2200.00", 100.0, 100.0, "missed")),
        ("64.52", date(2026, 2, 1), ("2200.00", "2200.00", 100.0, 100.0, "met")),
    ],
)
def test_tracking_by_hand_at_the_days_edges(shop, mid, as_of, expected):
    _plan(shop)  # 赵六: 2,200.00 in January 2026
    _buy(
        shop,
        ("D1", _at(date(2026, 1, 1), -1), "5.00"),  # December
        ("D1", _at(date(2026, 1, 1)), "1000.00"),
        ("D1", _at(date(2026, 1, 16), -1), mid),  # the last second of 15 January
        ("D1", _at(date(2026, 1, 16)), "100.00"),
        ("D2", _at(date(2026, 2, 1), -1), "1035.48"),  # the last second of January
        ("D2", _at(date(2026, 2, 1)), "50.00"),  # February
    )
    with shop.session() as session:
        rows = api.track(session, as_of=as_of, salesperson="赵六")
    if expected is None:
        assert rows == []
        return
    (row,) = rows
    actual, to_date, achieved, elapsed, status = expected
    assert (row.actual, row.expected_to_date, row.achieved_pct, row.elapsed_pct, row.status) == (
        Decimal(actual),
        Decimal(to_date),
        achieved,
        elapsed,
        status,
    )
    assert (row.amount, row.period_start, row.period_end) == (
        Decimal("2200.00"),
        date(2026, 1, 1),
        date(2026, 1, 31),
    )


def test_a_target_judged_on_its_first_day_twice_changes_once(shop):
    _plan(shop, horizon=2)  # January and February targets
    _buy(
        shop,
        ("D1", _at(date(2026, 1, 1), 60), "2200.00"),
    )
    first_day = _at(date(2026, 1, 1), 3600)
    with shop.session() as session:
        changes = api.update_target_statuses(shop, session, first_day)
    # Only January's targets have started; 赵六 bought his month's amount in its first hour.
    assert sorted((c.salesperson, c.old_status, c.new_status, c.period_start) for c in changes) == sorted(
        [
            ("赵六", None, "on track", date(2026, 1, 1)),
            ("周八", None, "on track", date(2026, 1, 1)),  # 0.01 × 1/31: 0.00 expected
            (NO_SALESPERSON, None, "behind", date(2026, 1, 1)),
        ]
    )
    with shop.session() as session:
        assert api.update_target_statuses(shop, session, first_day) == []
    # February's start: its targets are judged for the first time, January's are not again.
    with shop.session() as session:
        february = api.update_target_statuses(shop, session, _at(date(2026, 2, 1)))
        again = api.update_target_statuses(shop, session, _at(date(2026, 2, 1)))
    assert {(c.period_start, c.old_status) for c in february} == {
        (date(2026, 2, 1), None),
        (date(2026, 1, 1), "on track"),
        (date(2026, 1, 1), "behind"),
    }
    assert again == []


def test_a_quarter_from_february_counts_january_at_its_sales_new_customers_too(shop):
    run_id = _store(shop, date(2026, 2, 1), horizon=5)  # February to June: Q1 and Q2
    with shop.session() as session:  # a customer of 赵六's that the plan does not know
        shop.ids["A9"] = add_customer(
            shop, session, {"code": "A9", "name": "A9", "region": "华东", "owner": "赵六"}
        ).id
    _buy(
        shop,
        ("D1", _at(date(2026, 1, 1), -1), "5.00"),  # December: not in the quarter
        ("D1", _at(date(2026, 1, 1)), "10.00"),
        ("D1", _at(date(2026, 2, 1), -1), "20.00"),
        ("D1", _at(date(2026, 2, 1)), "30.00"),  # February: planned, not recorded
        ("A9", _at(date(2026, 1, 20)), "123.45"),
        ("E1", _at(date(2026, 1, 20)), "-50.00"),  # 孙七's January: a net refund
    )
    saved = _set(shop, run_id, grouping="quarter")
    q1 = saved[("赵六", date(2026, 1, 1))]
    # 孙七 plans nothing and refunded 50 in January: a target below zero is not set.
    assert ("孙七", date(2026, 1, 1)) not in saved
    # January at its sales (10 + 20 + 123.45), February and March as planned (2 × 2,200).
    # Lines largest first: A9 (a customer the plan does not know) last, though its code is first.
    assert (q1.amount, q1.period_end) == (Decimal("4553.45"), date(2026, 3, 31))
    assert [(ln["code"], ln["amount"]) for ln in q1.customers] == [
        ("D1", Decimal("2030.00")),
        ("D2", Decimal("1000.00")),
        ("D3", Decimal("1000.00")),
        ("D4", Decimal("400.00")),
        ("A9", Decimal("123.45")),
    ]
    assert saved[("赵六", date(2026, 4, 1))].amount == Decimal("6600.00")


def test_tracking_and_listing_one_salesperson_shows_theirs_only(shop):
    _plan(shop)
    with shop.session() as session:
        for salesperson in ("周八", "赵六", NO_SALESPERSON):
            tracked = api.track(session, as_of=date(2026, 1, 15), salesperson=salesperson)
            listed = api.list_targets(session, salesperson=salesperson)
            assert [r.salesperson for r in tracked] == [salesperson]
            assert [r["salesperson"] for r in listed] == [salesperson]


def test_replacing_one_salespersons_target_leaves_the_others_lines(shop):
    first = _plan(shop)  # targets of (未分配), 周八 and 赵六, in that order
    again = _set(shop, _store(shop, only="赵六"))  # 赵六's replaced, the others kept
    assert list(again) == [("赵六", date(2026, 1, 1))]
    with shop.session() as session:
        listed = {r["salesperson"]: r["customers"] for r in api.list_targets(session)}
    assert listed == {NO_SALESPERSON: 2, "周八": 1, "赵六": 4}
    assert first[("周八", date(2026, 1, 1))].id < again[("赵六", date(2026, 1, 1))].id


def test_every_one_of_501_targets_is_listed_with_its_top_lines(shop):
    # Past one batch of 500 targets: the 501st's note still names its largest line.
    with shop.session() as session:
        ids = (
            session.execute(
                targets.insert().returning(targets.c.id),
                [
                    dict(
                        salesperson=f"S{k:03d}",
                        period_start=date(2026, 1, 1),
                        period_end=date(2026, 1, 31),
                        amount=Decimal("1.00"),
                        baseline=Decimal("0.00"),
                        note="",
                    )
                    for k in range(501)
                ],
            )
            .scalars()
            .all()
        )
        session.execute(
            target_lines.insert(),
            [{"target_id": tid, "customer_id": shop.ids["D1"], "amount": Decimal("1.00")} for tid in ids],
        )
        listed = api.list_targets(session)
    assert len(listed) == 501
    assert all("top: D1 ¥1.00;" in r["note"] for r in listed)


def test_tracking_counts_only_the_customers_the_user_sees(shop, monkeypatch):
    # A record rule (as a plugin may declare on customers) hides A9, a customer of 赵六's the
    # plan does not know: his target stays visible (its lines are D1 … D4), A9's purchase
    # does not count in what the user is shown.
    _plan(shop)
    with shop.session() as session:
        shop.ids["A9"] = add_customer(
            shop, session, {"code": "A9", "name": "A9", "region": "华东", "owner": "赵六"}
        ).id
    _buy(shop, ("A9", _at(date(2026, 1, 5)), "700.00"), ("D1", _at(date(2026, 1, 5)), "300.00"))
    with shop.session() as session:
        assert api.track(session, as_of=date(2026, 1, 15), salesperson="赵六")[0].actual == Decimal("1000.00")
    rule = Customer.code != "A9"
    monkeypatch.setattr(targeting, "customer_condition", lambda session: rule)
    monkeypatch.setattr(
        targeting, "visible_customers", lambda session, column: column.in_(select(Customer.id).where(rule))
    )
    with shop.session() as session:
        (row,) = api.track(session, as_of=date(2026, 1, 15), salesperson="赵六")
    assert row.actual == Decimal("300.00")
    # Hiding D2, one of the target's lines, hides the target: its note names D2.
    hidden = Customer.code != "D2"
    monkeypatch.setattr(targeting, "customer_condition", lambda session: hidden)
    monkeypatch.setattr(
        targeting, "visible_customers", lambda session, column: column.in_(select(Customer.id).where(hidden))
    )
    with shop.session() as session:
        assert api.track(session, as_of=date(2026, 1, 15), salesperson="赵六") == []
        assert [r["salesperson"] for r in api.list_targets(session, salesperson="赵六")] == []
        assert [r["salesperson"] for r in api.list_targets(session, salesperson="周八")] == ["周八"]


def test_a_target_counts_every_customer_whoever_sets_it(shop, monkeypatch):
    # Saving targets under a record rule that hides A9: January's recorded sales still count
    # all of 赵六's customers (the target is the salesperson's, not the reader's).
    run_id = _store(shop, date(2026, 2, 1), horizon=2)  # February and March: Q1 from 1 January
    with shop.session() as session:
        shop.ids["A9"] = add_customer(
            shop, session, {"code": "A9", "name": "A9", "region": "华东", "owner": "赵六"}
        ).id
    _buy(shop, ("A9", _at(date(2026, 1, 20)), "123.45"))
    rule = Customer.code != "A9"
    monkeypatch.setattr(targeting, "customer_condition", lambda session: rule)
    monkeypatch.setattr(
        targeting, "visible_customers", lambda session, column: column.in_(select(Customer.id).where(rule))
    )
    saved = _set(shop, run_id, grouping="quarter")
    assert saved[("赵六", date(2026, 1, 1))].amount == Decimal("4523.45")  # 2 × 2,200 + 123.45


def test_a_target_replaces_only_its_own_salespersons(shop):
    _set(shop, _store(shop, only="赵六"))  # 赵六's target first (the lowest id)
    _plan(shop)  # then everyone's: (未分配) and 周八 new, 赵六's replaced
    with shop.session() as session:
        actions = {(e.key, e.action) for e in audit.trail(session, entity="forecast.target")}
    assert actions == {
        ("赵六/2026-01-01", "set"),
        (f"{NO_SALESPERSON}/2026-01-01", "set"),
        ("周八/2026-01-01", "set"),
        ("赵六/2026-01-01", "replaced"),
    }


def test_actuals_count_done_purchases_only(shop):
    """A payment and a resale (kinds sorting either side of purchase), a cancelled purchase: none counts."""
    first, end = date(2026, 1, 1), date(2026, 2, 1)
    _buy(
        shop,
        ("D1", _at(first, 60), "10.00"),
        ("D1", _at(first, 120), "200.00", "done", "payment"),
        ("D1", _at(first, 180), "300.00", "done", "resale"),
        ("D1", _at(first, 240), "400.00", "cancelled"),
    )
    with shop.session() as session:
        assert salesperson_actuals(session, "赵六", first, end) == {shop.ids["D1"]: Decimal("10.00")}


def test_an_owner_stored_as_the_empty_text_is_unassigned(shop):
    """A customer whose owner is the empty text (as SQL may write it) counts under the unassigned label."""
    first, end = date(2026, 1, 1), date(2026, 2, 1)
    with shop.session() as session:
        session.execute(update(Customer).where(Customer.code == "D4").values(owner=""))
    _buy(shop, ("D4", _at(first, 60), "4.00"), ("G1", _at(first, 60), "7.00"))
    with shop.session() as session:
        assert salesperson_actuals(session, NO_SALESPERSON, first, end) == {
            shop.ids["D4"]: Decimal("4.00"),
            shop.ids["G1"]: Decimal("7.00"),
        }
        assert salesperson_actuals(session, "赵六", first, end) == {}


def test_codes_are_read_for_each_of_501_customers(shop):
    """Customers' codes are read in batches of 500: the 500th, the 501st and the first are all found."""
    with shop.session() as session:
        session.execute(insert(Customer), [{"code": f"N{k:03d}", "name": f"N{k:03d}"} for k in range(501)])
        new = select(Customer.id).where(Customer.code.like("N%")).order_by(Customer.code)
        ids = session.scalars(new).all()
        assert targeting._codes(session, list(ids)) == {cid: f"N{k:03d}" for k, cid in enumerate(ids)}


def test_targets_come_from_the_newest_reconciled_run_not_a_newer_run_of_another_kind(shop):
    """Without a run named, targets come from the newest reconciled run, not a newer bottom-up one."""
    _store(shop)  # reconciled: 赵六 2,200.00 in January
    _store(shop, kind="bottomup", times=2)  # newer, twice as much
    with shop.session() as session:
        saved = api.set_targets(shop, session, grouping="month")
    assert sorted((t.salesperson, t.amount) for t in saved) == sorted(
        [("赵六", Decimal("2200.00")), ("周八", Decimal("0.01")), (NO_SALESPERSON, Decimal("150.00"))]
    )


def test_a_weekly_plan_sets_no_targets(shop):
    """Targets are set from a monthly plan only: a weekly one is refused and nothing is written."""
    run_id = _store(shop, date(2026, 1, 5), horizon=4, freq="week")  # four weeks from a Monday
    with shop.session() as session, pytest.raises(ValidationError) as err:
        api.set_targets(shop, session, run_id=run_id, grouping="month")
    problems = [(p.field, p.reason) for p in err.value.problems]
    assert problems == [("run", "targets are set from a monthly plan")]
    with shop.session() as session:
        assert api.list_targets(session) == []


def test_a_net_refund_before_the_plan_is_a_line_below_zero(shop):
    """A customer's net refund in the quarter's months before the plan is a line of its own, below zero."""
    run_id = _store(shop, date(2026, 2, 1), horizon=2)  # February and March: Q1 from 1 January
    _buy(shop, ("D5", _at(date(2026, 1, 10)), "-50.00"), ("D1", _at(date(2026, 1, 10)), "10.00"))
    q1 = _set(shop, run_id, grouping="quarter")[("赵六", date(2026, 1, 1))]
    # 2 × 2,200 + 10 - 50; D5 is planned at 0.
    assert q1.amount == Decimal("4360.00")
    assert [(ln["code"], ln["amount"]) for ln in q1.customers] == [
        ("D1", Decimal("2010.00")),
        ("D2", Decimal("1000.00")),
        ("D3", Decimal("1000.00")),
        ("D4", Decimal("400.00")),
        ("D5", Decimal("-50.00")),
    ]


def test_the_note_names_three_customers_of_four():
    """The note names the three largest lines it is given, not a fourth."""
    top = [("D1", Decimal("4.00")), ("D2", Decimal("3.00")), ("D3", Decimal("2.00")), ("D4", Decimal("1.00"))]
    note = smart_note("赵六", 4, top, Decimal("10.00"), Decimal("0.00"), date(2026, 1, 31))
    assert note == (
        "S: 赵六, 4 customer(s), top: D1 ¥4.00、D2 ¥3.00、D3 ¥2.00; M: ¥10.00 net purchases; "
        "A: no sales in the same period last year: new business; R: revenue; T: by 2026-01-31"
    )


def test_a_target_another_command_saved_meanwhile_is_a_conflict(shop, monkeypatch):
    """A target saved by another command after this one looked is a conflict, and nothing is written."""
    _set(shop, _store(shop, only="赵六"))  # 赵六's January target: 2,200.00
    run_id = _store(shop, times=2)
    real = targeting.select

    def blind(*columns):  # this command's look for an old target finds none, as in a race
        stmt = real(*columns)
        return stmt.where(false()) if columns[0] is targets.c.id else stmt

    monkeypatch.setattr(targeting, "select", blind)
    with pytest.raises(Conflict) as err:
        _set(shop, run_id)
    assert str(err.value) == (
        "another command saved a target for 赵六 from 2026-01-01 at the same time; "
        "nothing was written, try again"
    )
    monkeypatch.undo()
    with shop.session() as session:
        assert [(r["salesperson"], r["amount"]) for r in api.list_targets(session)] == [
            ("赵六", Decimal("2200.00"))
        ]


def test_hiding_one_line_hides_its_target_only(shop, monkeypatch):
    """Hiding 周八's only customer hides his target, not the targets saved before or after it."""
    _plan(shop)  # targets of (未分配), 周八 and 赵六, ids in that order
    hidden = Customer.code != "F1"
    monkeypatch.setattr(targeting, "customer_condition", lambda session: hidden)
    monkeypatch.setattr(
        targeting, "visible_customers", lambda session, column: column.in_(select(Customer.id).where(hidden))
    )
    with shop.session() as session:
        assert [r["salesperson"] for r in api.list_targets(session)] == [NO_SALESPERSON, "赵六"]
        tracked = api.track(session, as_of=date(2026, 1, 15))
        assert [p.salesperson for p in tracked] == [NO_SALESPERSON, "赵六"]


def test_a_change_after_an_unchanged_target_is_recorded(shop):
    """A status that moves is recorded even when a target judged before it did not move."""
    _plan(shop)
    with shop.session() as session:
        first = api.update_target_statuses(shop, session, _at(date(2026, 1, 1), 3600))
    # 1 January: 150.00 × 1/31 = 4.84 and 2,200.00 × 1/31 = 70.97 expected, nothing bought;
    # 0.01 × 1/31 = 0.00 expected of 周八.
    assert [(c.salesperson, c.new_status) for c in first] == [
        (NO_SALESPERSON, "behind"),
        ("周八", "on track"),
        ("赵六", "behind"),
    ]
    _buy(shop, ("D1", _at(date(2026, 1, 2), 60), "2200.00"))
    with shop.session() as session:
        second = api.update_target_statuses(shop, session, _at(date(2026, 1, 2), 3600))
    assert [(c.salesperson, c.old_status, c.new_status) for c in second] == [("赵六", "behind", "on track")]


def test_replacing_a_target_with_a_lower_id_leaves_the_later_ones(shop):
    """Replacing 周八's target (saved second) deletes his only, not 赵六's saved after it."""
    _plan(shop)  # targets of (未分配), 周八 and 赵六, ids in that order
    again = _set(shop, _store(shop, only="周八", times=2))
    assert list(again) == [("周八", date(2026, 1, 1))]
    with shop.session() as session:
        listed = {r["salesperson"]: (r["customers"], r["amount"]) for r in api.list_targets(session)}
    assert listed == {
        NO_SALESPERSON: (2, Decimal("150.00")),
        "周八": (1, Decimal("0.02")),
        "赵六": (4, Decimal("2200.00")),
    }


def test_a_target_replaces_the_one_of_its_own_start_not_a_later_one(shop):
    """With February's target saved, a plan from January sets January's and replaces February's."""
    _set(shop, _store(shop, date(2026, 2, 1), only="赵六"))  # 赵六's February target
    _set(shop, _store(shop, date(2026, 1, 1), horizon=2, only="赵六", times=2))
    with shop.session() as session:
        actions = sorted((e.key, e.action) for e in audit.trail(session, entity="forecast.target"))
        listed = [(r["period_start"], r["amount"]) for r in api.list_targets(session)]
    assert actions == [
        ("赵六/2026-01-01", "set"),
        ("赵六/2026-02-01", "replaced"),
        ("赵六/2026-02-01", "set"),
    ]
    assert listed == [(date(2026, 1, 1), Decimal("4400.00")), (date(2026, 2, 1), Decimal("4400.00"))]
