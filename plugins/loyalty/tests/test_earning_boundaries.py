"""Automatic earning at its edges, on both earning paths (issue 21): a purchase exactly at the
member's ``earn_from`` and a microsecond either side, amounts of a cent and of a yuan, the
first-purchase bonus's minimum amount, the feedback bonus at a local month's end, and refunds
at ``earn_from``.

``path``: ``sql`` is what an import uses; ``python`` forces the row-by-row path (its plan is
replaced), so both are held to the same hand-computed ledger. Defaults: 1 point per yuan, a
first-purchase bonus of 100, a feedback bonus of 20 once a local month; Shanghai's calendar.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from kehu_core.importing import import_interactions
from kehu_loyalty.settings import set_setting

SINCE = "2024-03-10T04:00:00+00:00"
S = datetime(2024, 3, 10, 4, 0, tzinfo=UTC)


def bring_in(shop, *rows):
    """Import ``(ref, code, kind, occurred_at, amount)`` rows in one file (one batch)."""
    lines = ["external_ref,customer_code,kind,occurred_at,amount,satisfaction"]
    lines += [
        f"{ref},{code},{kind},{when},{amount},{'5' if kind == 'feedback' else ''}"
        for ref, code, kind, when, amount in rows
    ]
    with shop.app.session() as s:
        import_interactions(shop.app, s, io.BytesIO(("\n".join(lines) + "\n").encode()))


def entries(shop, code):
    return [(e["kind"], e["points"], e["rule"], e["occurred_at"]) for e in shop.ledger(code)]


def test_a_purchase_exactly_at_earn_from_earns_and_a_microsecond_before_does_not(shop, path):
    code = shop.customer(since=SINCE)
    bring_in(
        shop,
        ("P0", code, "purchase", "2024-03-10T03:59:59.999999+00:00", "10"),
        ("P1", code, "purchase", SINCE, "20"),
        ("P2", code, "purchase", "2024-03-10T04:00:00.000001+00:00", "30"),
    )
    at = S.replace(microsecond=1)
    assert sorted(entries(shop, code), key=str) == sorted(
        [("earn", 20, "base", S), ("bonus", 100, "first_purchase", S), ("earn", 30, "base", at)], key=str
    )
    assert shop.balance(code) == 150


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.00", []),  # nothing: no points, and under the bonus's minimum of 0.01
        ("0.01", [("bonus", 100)]),  # the bonus's minimum exactly; floor(0.01) = 0 points
        ("0.99", [("bonus", 100)]),
        ("1.00", [("bonus", 100), ("earn", 1)]),  # one yuan exactly: one point
        ("1.99", [("bonus", 100), ("earn", 1)]),  # floor(1.99)
        ("2.00", [("bonus", 100), ("earn", 2)]),
    ],
)
def test_small_amounts(shop, path, amount, expected):
    code = shop.customer(since=SINCE)
    bring_in(shop, ("P1", code, "purchase", "2024-04-01T04:00:00+00:00", amount))
    assert sorted((kind, points) for kind, points, _rule, _at in entries(shop, code)) == expected


def test_the_first_purchase_bonus_goes_on_the_earliest_purchase_once(shop, path):
    code = shop.customer(since=SINCE)
    bring_in(
        shop,
        ("P2", code, "purchase", "2024-04-02T04:00:00+00:00", "5"),
        ("P1", code, "purchase", "2024-04-01T04:00:00+00:00", "7"),
    )
    bonus = [e for e in shop.ledger(code) if e["kind"] == "bonus"]
    assert [(b["points"], b["occurred_at"]) for b in bonus] == [(100, datetime(2024, 4, 1, 4, tzinfo=UTC))]
    bring_in(shop, ("P3", code, "purchase", "2024-04-03T04:00:00+00:00", "9"))
    assert shop.balance(code) == 100 + 5 + 7 + 9


def test_the_feedback_bonus_is_once_per_local_month(shop, path):
    code = shop.customer(since=SINCE)
    bring_in(
        shop,
        ("F1", code, "feedback", "2024-03-31T23:59:59+08:00", ""),  # last second of March (local)
        ("F2", code, "feedback", "2024-03-20T12:00:00+08:00", ""),  # March again: nothing more
        ("F3", code, "feedback", "2024-04-01T00:00:00+08:00", ""),  # first second of April (local)
    )
    got = sorted((e["points"], e["occurred_at"]) for e in shop.ledger(code))
    assert got == [
        (20, datetime(2024, 3, 20, 4, tzinfo=UTC)),  # the earliest of March
        (20, datetime(2024, 3, 31, 16, tzinfo=UTC)),
    ]


def test_non_members_and_other_kinds_earn_nothing(shop, path):
    outsider = shop.customer(member=False)
    code = shop.customer(since=SINCE)
    bring_in(
        shop,
        ("P1", outsider, "purchase", "2024-04-01T04:00:00+00:00", "100"),
        ("V1", code, "visit", "2024-04-01T04:00:00+00:00", "100"),
    )
    assert shop.ledger(code) == []


@pytest.mark.parametrize(
    ("refund_at", "taken"),
    [
        ("2024-03-10T04:00:00+00:00", [-30]),  # exactly at earn_from: reversed
        ("2024-03-10T03:59:59.999999+00:00", []),  # a microsecond before: not a member's refund
    ],
)
def test_a_refund_at_earn_from(shop, path, refund_at, taken):
    shop.run(set_setting, "first_purchase_bonus", "0")
    code = shop.customer(since=SINCE)
    bring_in(shop, ("P1", code, "purchase", SINCE, "100"))
    bring_in(shop, ("R1", code, "purchase", refund_at, "-30"))
    assert [e["points"] for e in shop.ledger(code) if e["kind"] == "refund"] == taken


def test_an_import_replayed_earns_nothing_more(shop, path):
    code = shop.customer(since=SINCE)
    rows = (
        ("P1", code, "purchase", "2024-04-01T04:00:00+00:00", "12"),
        ("F1", code, "feedback", "2024-04-02T04:00:00+00:00", ""),
        ("R1", code, "purchase", "2024-04-03T04:00:00+00:00", "-2"),
    )
    bring_in(shop, *rows)
    before = shop.ledger(code)
    assert shop.balance(code) == 12 + 100 + 20 - 2
    bring_in(shop, *rows)
    assert shop.ledger(code) == before
