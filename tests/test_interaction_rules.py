"""The rules of kehu_core.interactions at their edges, on the core alone (fast enough for
``make mutation MODULE=kehu_core/interactions.py``): ``since`` includes its instant and
``until`` excludes its own, a date meaning the whole local day (Asia/Shanghai); a plan is due at
its instant, not a second before; the owner of a plan without a salesperson is the customer's;
limits, order and ties; the stored form of times and money; a batch's repeated reference
written once, the first one winning; the hooks fired once per batch and once per write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kehu_core import customers, hookimpl, interactions
from kehu_core.errors import ValidationError
from kehu_core.interactions import InteractionQuery
from kehu_core.models import Customer, Interaction

SH = ZoneInfo("Asia/Shanghai")


pytestmark = pytest.mark.core_alone


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def app(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "张伟", "kind": "person", "owner": "李"})
        customers.add_customer(kehu_app, s, {"code": "C2", "name": "王芳", "kind": "person", "owner": "赵"})
    return kehu_app


def log(app, when: datetime, code: str = "C1", **values) -> int:
    with app.session() as s:
        fields = {"customer_code": code, "kind": "purchase", "occurred_at": when, "amount": "1"} | values
        return interactions.log_interaction(app, s, fields).id


def plan(app, when: datetime, code: str = "C1", **values) -> int:
    with app.session() as s:
        return interactions.plan_interaction(app, s, {"customer_code": code, "occurred_at": when} | values).id


def listed(app, **query) -> list[int]:
    with app.session() as s:
        return [r.id for r in interactions.list_interactions(s, InteractionQuery(**query))]


def due(app, as_of, owner=None) -> list[int]:
    with app.session() as s:
        return [r.id for r in interactions.due_interactions(s, as_of, owner)]


# -- since and until ----------------------------------------------------------------------------


def test_since_includes_its_instant_and_until_excludes_its_own(app):
    edge = sh("2026-03-10 12:00")
    before, on, after = (log(app, edge + timedelta(seconds=d)) for d in (-1, 0, 1))
    assert listed(app, since=edge, newest_first=False) == [on, after]
    assert listed(app, until=edge, newest_first=False) == [before]
    assert listed(app, since=edge, until=edge + timedelta(seconds=1)) == [on]


def test_a_date_means_the_whole_local_day(app):
    # 10 March in Shanghai runs from 9 March 16:00 UTC to 10 March 16:00 UTC.
    last_of_9th = log(app, sh("2026-03-09 23:59:59"))
    first_of_10th = log(app, sh("2026-03-10 00:00:00"))
    last_of_10th = log(app, sh("2026-03-10 23:59:59"))
    first_of_11th = log(app, sh("2026-03-11 00:00:00"))
    day = date(2026, 3, 10)
    assert listed(app, since=day, until=day, newest_first=False) == [first_of_10th, last_of_10th]
    assert listed(app, until=day, newest_first=False) == [last_of_9th, first_of_10th, last_of_10th]
    assert listed(app, since=day, newest_first=False) == [first_of_10th, last_of_10th, first_of_11th]


def test_order_ties_limit_and_filters(app):
    when = sh("2026-03-10 12:00")
    a, b = log(app, when), log(app, when)  # a tie: by id
    c = log(app, when + timedelta(seconds=1), kind="visit", amount=None, salesperson="赵")
    other = log(app, when, code="C2")
    assert listed(app) == [c, other, b, a]
    assert listed(app, newest_first=False) == [a, b, other, c]
    assert listed(app, limit=2) == [c, other]
    assert listed(app, limit=None, newest_first=False) == [a, b, other, c]
    assert listed(app, customer_code="C1", newest_first=False) == [a, b, c]
    assert listed(app, kind="拜访") == [c]  # a kind by its Chinese name
    assert listed(app, kind="purchase", customer_code="C2") == [other]
    assert listed(app, salesperson="赵") == [c]
    assert listed(app, status="done", customer_code="C2") == [other]


# -- plans --------------------------------------------------------------------------------------


def test_a_plan_is_due_at_its_instant_not_a_second_before(app):
    when = sh("2026-03-10 15:00")
    p = plan(app, when)
    assert due(app, when - timedelta(seconds=1)) == []
    assert due(app, when) == [p]
    assert due(app, when + timedelta(seconds=1)) == [p]


def test_a_plan_is_due_on_its_local_day_and_not_the_day_before(app):
    late = plan(app, sh("2026-03-10 23:59:59"))
    plan(app, sh("2026-03-11 00:00:00"))
    assert due(app, date(2026, 3, 9)) == []
    assert due(app, date(2026, 3, 10)) == [late]


def test_due_plans_oldest_first_only_planned_and_active_customers(app):
    second = plan(app, sh("2026-03-10 10:00"))
    first = plan(app, sh("2026-03-09 10:00"), code="C2")
    log(app, sh("2026-03-08 10:00"))  # done, not planned
    assert due(app, date(2026, 3, 31)) == [first, second]
    with app.session() as s:
        customers.archive_customer(app, s, "C2")
    assert due(app, date(2026, 3, 31)) == [second]


def test_the_owner_of_a_plan_is_its_salesperson_else_the_customers_owner(app):
    own = plan(app, sh("2026-03-10 10:00"))  # C1, owner 李, no salesperson
    named = plan(app, sh("2026-03-10 11:00"), salesperson="赵")  # C1's, but 赵's visit
    other = plan(app, sh("2026-03-10 12:00"), code="C2")  # C2, owner 赵
    day = date(2026, 3, 10)
    assert due(app, day, owner="李") == [own]
    assert due(app, day, owner="赵") == [named, other]
    assert due(app, day) == [own, named, other]


def test_plans_are_visits_by_default_and_never_purchases(app):
    with app.session() as s:
        record = interactions.plan_interaction(
            app, s, {"customer_code": "C1", "occurred_at": sh("2026-03-10 10:00")}
        )
    assert (record.kind, record.status) == ("visit", "planned")
    with app.session() as s:
        called = interactions.plan_interaction(
            app, s, {"customer_code": "C1", "occurred_at": sh("2026-03-10 10:00"), "kind": "电话"}
        )
    assert called.kind == "call"
    with app.session() as s, pytest.raises(ValidationError, match="a plan is one of visit, call"):
        interactions.plan_interaction(
            app, s, {"customer_code": "C1", "occurred_at": sh("2026-03-10 10:00"), "kind": "purchase"}
        )


def test_a_forgotten_or_unknown_customer_gets_no_interaction(app):
    with app.session() as s, pytest.raises(ValidationError, match="no customer with this code"):
        interactions.log_interaction(
            app, s, {"customer_code": "C9", "kind": "visit", "occurred_at": sh("2026-03-10 10:00")}
        )
    with app.session() as s:
        s.scalar(select(Customer).where(Customer.code == "C2")).forgotten_at = datetime.now(UTC)
    with app.session() as s, pytest.raises(ValidationError, match="this customer was forgotten"):
        interactions.log_interaction(
            app, s, {"customer_code": "C2", "kind": "visit", "occurred_at": sh("2026-03-10 10:00")}
        )


# -- writing ------------------------------------------------------------------------------------


class Hooks:
    def __init__(self) -> None:
        self.recorded: list[list[str]] = []
        self.done: list[str] = []

    @hookimpl
    def kehu_interactions_recorded(self, session, batch):
        self.recorded.append([row["external_ref"] for row in batch.rows])

    @hookimpl
    def kehu_interactions_done(self, session, source):
        self.done.append(source)


def row(customer_id: int, ref: str | None, amount: str = "10", when: datetime | None = None) -> dict:
    return {
        "customer_id": customer_id,
        "kind": "purchase",
        "occurred_at": when or sh("2026-03-10 10:00"),
        "amount": Decimal(amount),
        "external_ref": ref,
    }


def c1(app) -> int:
    with app.session() as s:
        return customers.get_customer(s, "C1").id


def stored(app) -> list[tuple]:
    with app.session() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(
                    Interaction.external_ref, Interaction.amount, Interaction.status, Interaction.occurred_at
                ).order_by(Interaction.id)
            )
        ]


def test_a_batch_writes_a_repeated_reference_once_the_first_winning(app, kehu_register_plugin):
    hooks = Hooks()
    kehu_register_plugin(hooks, "hooks")
    cid = c1(app)
    with app.session() as s:
        written = interactions.write_interactions(
            app, s, [row(cid, "A", "1"), row(cid, "B"), row(cid, "A", "2")], "t"
        )
    assert [w["external_ref"] for w in written] == ["A", "B"]
    assert [r[:3] for r in stored(app)] == [("A", Decimal("1.00"), "done"), ("B", Decimal("10.00"), "done")]
    assert (hooks.recorded, hooks.done) == ([["A", "B"]], ["t"])
    with app.session() as s:  # a replay: nothing written, no recorded hook, the write still ends
        assert interactions.write_interactions(app, s, [row(cid, "A"), row(cid, "B")], "t") == []
    assert (hooks.recorded, hooks.done) == ([["A", "B"]], ["t", "t"])
    with app.session() as s:
        assert interactions.write_interactions(app, s, [], "empty") == []
    assert hooks.done == ["t", "t", "empty"]


def test_a_row_without_a_reference_gets_a_fresh_one(app):
    cid = c1(app)
    with app.session() as s:
        written = interactions.write_interactions(app, s, [row(cid, None), row(cid, None)], "t")
    refs = [w["external_ref"] for w in written]
    assert len(set(refs)) == 2 and all(r.startswith("kehu:") and len(r) == 37 for r in refs)
    with app.session() as s, pytest.raises(ValueError, match="every row needs an external_ref"):
        values = [row(cid, None).get(c) for c in interactions.WRITE_COLUMNS]
        interactions.write_interaction_values(app, s, [values], "t")


def test_a_writer_in_batches_ends_once_and_not_when_it_raises(app, kehu_register_plugin):
    hooks = Hooks()
    kehu_register_plugin(hooks, "hooks")
    cid = c1(app)
    columns = interactions.WRITE_COLUMNS

    def values(ref):
        return [row(cid, ref).get(c) for c in columns]

    with app.session() as s, interactions.interaction_writer(app, s, "import") as writer:
        assert [
            ref for _, ref in ((i, r[columns.index("external_ref")]) for i, r in writer.write([values("A")]))
        ] == ["A"]
        writer.write([values("B"), values("C")])
        assert hooks.done == []
    assert (hooks.recorded, hooks.done) == ([["A"], ["B", "C"]], ["import"])
    with (
        pytest.raises(RuntimeError),
        app.session() as s,
        interactions.interaction_writer(app, s, "import") as writer,
    ):
        writer.write([values("D")])
        raise RuntimeError("stop")
    assert hooks.done == ["import"]


def test_times_are_stored_in_utc_and_money_to_the_cent(app):
    cid = c1(app)
    with app.session() as s:
        interactions.write_interactions(
            app,
            s,
            [
                row(cid, "A", "10.004", when=sh("2026-03-10 08:00")),
                row(cid, "B", "10.006", when=datetime(2026, 3, 10, 0, 0, tzinfo=UTC)),
                row(cid, "C", "-0.996", when=datetime(2026, 3, 10, 0, 0, 0, 1, tzinfo=UTC)),
            ],
            "t",
        )
    assert stored(app) == [
        ("A", Decimal("10.00"), "done", datetime(2026, 3, 10, 0, 0, tzinfo=UTC)),
        ("B", Decimal("10.01"), "done", datetime(2026, 3, 10, 0, 0, tzinfo=UTC)),
        ("C", Decimal("-1.00"), "done", datetime(2026, 3, 10, 0, 0, 0, 1, tzinfo=UTC)),
    ]
    with app.session() as s, pytest.raises(ValueError, match="naive datetime"):
        interactions.write_interactions(app, s, [row(cid, "D", when=datetime(2026, 3, 10))], "t")


def test_existing_refs_and_in_values(app):
    cid = c1(app)
    with app.session() as s:
        interactions.write_interactions(app, s, [row(cid, "A"), row(cid, "B")], "t")
    with app.session() as s:
        assert interactions.existing_refs(s, []) == set()
        assert interactions.existing_refs(s, ["A", "Z"]) == {"A"}
        assert interactions.existing_refs(s, ["B", "A"]) == {"A", "B"}
    other = interactions.in_values(Interaction.external_ref, ["A", "B"], "mssql")
    assert str(other.compile(compile_kwargs={"literal_binds": True})).endswith("IN ('A', 'B')")


def test_a_list_shows_100_by_default(app):
    cid = c1(app)
    start = sh("2026-03-01 09:00")
    with app.session() as s:
        interactions.write_interactions(
            app, s, [row(cid, f"R{i:03}", when=start + timedelta(minutes=i)) for i in range(101)], "t"
        )
    with app.session() as s:
        shown = [r.external_ref for r in interactions.list_interactions(s, InteractionQuery())]
    assert len(shown) == 100 and shown[0] == "R100" and shown[-1] == "R001"  # R000, the oldest, left out


def test_the_status_filter_keeps_only_that_status(app):
    done = log(app, sh("2026-03-10 09:00"))
    planned = plan(app, sh("2026-03-10 10:00"))
    assert listed(app, status="planned") == [planned]
    assert listed(app, status="done") == [done]


def test_the_salesperson_filter_keeps_only_theirs(app):
    li = log(app, sh("2026-03-10 09:00"), salesperson="李")
    zhao = log(app, sh("2026-03-10 10:00"), salesperson="赵")
    assert listed(app, salesperson="赵") == [zhao]
    assert listed(app, salesperson="李") == [li]


def test_a_plan_of_an_unknown_kind_is_refused_as_not_plannable(app):
    with app.session() as s, pytest.raises(ValidationError, match="a plan is one of visit, call"):
        interactions.plan_interaction(
            app, s, {"customer_code": "C1", "occurred_at": sh("2026-03-10 10:00"), "kind": "午餐"}
        )


def test_a_plan_with_a_salesperson_is_theirs_whoever_owns_the_customer(app):
    theirs = plan(app, sh("2026-03-10 10:00"), code="C2", salesperson="李")  # C2 is 赵's customer
    day = date(2026, 3, 10)
    assert due(app, day, owner="李") == [theirs]
    assert due(app, day, owner="赵") == []


def test_a_quantity_is_stored_as_given(app):
    cid = c1(app)
    with app.session() as s:
        interactions.write_interactions(app, s, [row(cid, "Q") | {"quantity": Decimal("1.5")}], "t")
    with app.session() as s:
        assert s.scalar(select(Interaction.quantity)) == Decimal("1.5")


def test_an_interaction_goes_to_the_customer_named_not_a_neighbour_in_order(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C9", "name": "后来", "kind": "person"})
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "张伟", "kind": "person"})
    log(kehu_app, sh("2026-03-10 09:00"), code="C1")
    with kehu_app.session() as s:
        owner = s.scalar(select(Customer.code).join(Interaction, Interaction.customer_id == Customer.id))
    assert owner == "C1"


def test_a_kind_the_core_does_not_know_is_compared_as_given(app):
    log(app, sh("2026-03-10 09:00"))
    assert listed(app, kind="complaint") == []  # a plugin's kind: no error, none here
