"""Sales plans (销售计划): the five steps of the planning procedure and the check of the
mistakes the course material names, each at its boundary; the budget to the cent; who sees what.

Runs and targets are written directly (their own tests cover how they are computed): a plan
only reads a run's kind and parameters and a target's key, amount and customers.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, update

from kehu_core import audit
from kehu_core.access import Forbidden
from kehu_core.errors import NotFound, ValidationError
from kehu_core.models import Customer
from kehu_core.users import add_user
from kehu_forecast import planning
from kehu_forecast.models import runs, target_lines, targets

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
#: A reconciled run balanced against a top-down run, the one plan runs are measured against.
BALANCED = {"method": "mint-wls", "bottomup_run": 1, "topdown_run": 2}


def add_run(app: Any, kind: str = "reconciled", **params: Any) -> int:
    with app.session() as s:
        return int(
            s.scalar(
                runs.insert()
                .values(
                    kind=kind,
                    method=params.get("method", kind),
                    freq="month",
                    first_period=JAN,
                    horizon=3,
                    history_end=date(2025, 12, 31),
                    params=params,
                )
                .returning(runs.c.id)
            )
        )


def add_target(
    app: Any, salesperson: str, start: date, lines: dict[str, str], run_id: int | None = None
) -> int:
    """A saved target of ``salesperson`` from ``start`` (one month) over customers (code: amount)."""
    with app.session() as s:
        amount = sum((Decimal(a) for a in lines.values()), Decimal("0"))
        tid = s.scalar(
            targets.insert()
            .values(
                run_id=run_id,
                salesperson=salesperson,
                period_start=start,
                period_end=date(start.year, start.month, 28),
                amount=amount,
                baseline=Decimal("0"),
            )
            .returning(targets.c.id)
        )
        for code, a in lines.items():
            cid = s.scalar(select(Customer.id).where(Customer.code == code))
            s.execute(target_lines.insert().values(target_id=tid, customer_id=cid, amount=Decimal(a)))
        return int(tid)


def codes(flags: list[planning.Flag]) -> list[tuple[str, str]]:
    return sorted((f.code, f.subject) for f in flags)


def check(app: Any, plan_id: int) -> list[tuple[str, str]]:
    with app.session() as s:
        return codes(planning.check_plan(s, plan_id))


@pytest.fixture
def base(company):
    """A balanced reconciled run, two targets of 张伟 (C1, C2) and one of 李娜 (C4)."""
    run = add_run(company, **BALANCED)
    company.run = run
    add_target(company, "张伟", JAN, {"C1": "1000.00", "C2": "500.50"}, run)
    add_target(company, "张伟", FEB, {"C1": "1100.00"}, run)
    add_target(company, "李娜", JAN, {"C4": "2000.00"}, run)
    return company


def complete_plan(app: Any, **extra: Any) -> int:
    """A plan with every step and none of the mistakes: the check raises nothing."""
    with app.session() as s:
        view = planning.create_plan(
            s,
            "2026-01 张伟",
            run_id=extra.get("run_id", app.run),
            target_keys=["张伟/2026-01-01"],
            situation_internal="two new reps",
            situation_external=extra.get("external", "competitor A cut prices 5%"),
        )
        planning.add_assumption(s, view.id, "competitor", "A keeps its prices 5% lower")
        action = planning.add_action(
            s, view.id, "visit C1", owner="张伟", due=date(2026, 1, 20), priority=1, target="张伟/2026-01-01"
        )
        planning.add_budget(s, view.id, "visits", "1200.00", expected="15000.00", action_id=action["id"])
        return view.id


# -- the five steps -------------------------------------------------------------------------------


def test_a_complete_plan_raises_no_flag(base):
    plan_id = complete_plan(base)
    assert check(base, plan_id) == []
    with base.session() as s:
        view = planning.show_plan(s, plan_id)
    assert view.targets_total == Decimal("1500.50")
    assert (view.budget_total, view.expected_total) == (Decimal("1200.00"), Decimal("15000.00"))
    assert view.run_kind == "reconciled"


def test_an_empty_plan_misses_every_step(base):
    with base.session() as s:
        plan_id = planning.create_plan(s, "empty").id
    assert check(base, plan_id) == [
        ("missing_step", f"plan {plan_id}"),
        ("missing_step", f"plan {plan_id}"),
        ("missing_step", f"plan {plan_id}"),
        ("missing_step", f"plan {plan_id}"),
        ("no_scenario", f"plan {plan_id}"),
        ("not_reconciled", f"plan {plan_id}"),
        ("numbers_without_plan", f"plan {plan_id}"),
    ]
    with base.session() as s:
        steps = sorted(f.step for f in planning.check_plan(s, plan_id) if f.code == "missing_step")
    assert steps == sorted(["掌握情势", "设定目标", "前提假定", "编列预算"])


@pytest.mark.parametrize(
    "internal, external, flagged",
    [(None, None, True), ("  ", "", True), ("x", None, False), (None, "y", False)],
)
def test_situation_notes_boundary(base, internal, external, flagged):
    with base.session() as s:
        plan_id = planning.create_plan(s, "p", situation_internal=internal, situation_external=external).id
        steps = [f.step for f in planning.check_plan(s, plan_id) if f.code == "missing_step"]
    assert ("掌握情势" in steps) is flagged


# -- targets without actions ----------------------------------------------------------------------


def test_targets_without_actions_zero_one_and_an_action_for_no_target(base):
    with base.session() as s:
        plan_id = planning.create_plan(
            s, "two targets", run_id=base.run, target_keys=["张伟/2026-01-01", "张伟/2026-02-01"]
        ).id
    zero = [f for f in check(base, plan_id) if f[0] == "target_without_actions"]
    assert zero == [
        ("target_without_actions", "target 张伟/2026-01-01"),
        ("target_without_actions", "target 张伟/2026-02-01"),
    ]
    with base.session() as s:
        # An action that names no target serves none of them.
        planning.add_action(s, plan_id, "general", owner="张伟", due=FEB, priority=3)
    assert len([f for f in check(base, plan_id) if f[0] == "target_without_actions"]) == 2
    with base.session() as s:
        planning.add_action(s, plan_id, "jan", owner="张伟", due=JAN, priority=1, target="张伟/2026-01-01")
    assert [f for f in check(base, plan_id) if f[0] == "target_without_actions"] == [
        ("target_without_actions", "target 张伟/2026-02-01")
    ]
    with base.session() as s:
        planning.add_action(s, plan_id, "feb", owner="张伟", due=FEB, priority=2, target="张伟/2026-02-01")
    assert [f for f in check(base, plan_id) if f[0] == "target_without_actions"] == []


def test_a_target_set_again_stays_linked_and_a_vanished_one_is_flagged(base):
    plan_id = complete_plan(base)
    with base.session() as s:
        s.execute(targets.delete().where(targets.c.salesperson == "张伟", targets.c.period_start == JAN))
    assert ("target_without_actions", "target 张伟/2026-01-01") in check(base, plan_id)
    add_target(base, "张伟", JAN, {"C1": "900.00"}, base.run)  # set again: a new id, the same key
    assert check(base, plan_id) == []


def test_an_action_for_a_target_the_plan_does_not_serve_is_refused(base):
    plan_id = complete_plan(base)
    with base.session() as s, pytest.raises(ValidationError, match="target: not a target of plan"):
        planning.add_action(s, plan_id, "x", owner="a", due=JAN, target="张伟/2026-02-01")


# -- numbers without a plan -----------------------------------------------------------------------


def test_numbers_without_a_plan_zero_and_exactly_one_action(base):
    with base.session() as s:
        plan_id = planning.create_plan(s, "p", run_id=base.run, target_keys=["李娜/2026-01-01"]).id
    assert ("numbers_without_plan", f"plan {plan_id}") in check(base, plan_id)
    with base.session() as s:
        planning.add_action(s, plan_id, "one", owner="李娜", due=JAN, priority=1)
    assert ("numbers_without_plan", f"plan {plan_id}") not in check(base, plan_id)


def test_targets_no_plan_serves_are_numbers_without_a_plan(base):
    with base.session() as s:
        before = codes(planning.check_all(s))
    assert before == [
        ("numbers_without_plan", "target 张伟/2026-01-01"),
        ("numbers_without_plan", "target 张伟/2026-02-01"),
        ("numbers_without_plan", "target 李娜/2026-01-01"),
    ]
    complete_plan(base)  # serves 张伟/2026-01-01 only
    with base.session() as s:
        after = codes(planning.check_all(s))
    assert after == [
        ("numbers_without_plan", "target 张伟/2026-02-01"),
        ("numbers_without_plan", "target 李娜/2026-01-01"),
    ]


# -- priorities -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "priorities, flagged",
    [
        ([None], [0]),
        ([1], []),
        ([1, 1], [0, 1]),
        ([1, 2], []),
        ([2, 1, None], [2]),
        ([1, 2, 2], [1, 2]),
    ],
)
def test_actions_without_priority(base, priorities, flagged):
    with base.session() as s:
        plan_id = planning.create_plan(s, "p").id
        ids = [
            planning.add_action(s, plan_id, f"a{k}", owner="张伟", due=JAN, priority=p)["id"]
            for k, p in enumerate(priorities)
        ]
    found = [f[1] for f in check(base, plan_id) if f[0] == "action_without_priority"]
    assert sorted(found) == sorted(f"action {ids[k]}" for k in flagged)


def test_priority_must_be_a_whole_number_from_one(base):
    plan_id = complete_plan(base)
    with base.session() as s:
        for bad in (0, -1, True, 1.5):
            with pytest.raises(ValidationError, match="priority: must be a whole number from 1"):
                planning.add_action(s, plan_id, "x", owner="a", due=JAN, priority=bad)  # type: ignore[arg-type]


def test_actions_are_shown_in_priority_order(base):
    plan_id = complete_plan(base)
    with base.session() as s:
        planning.add_action(s, plan_id, "later", owner="a", due=JAN, priority=3)
        planning.add_action(s, plan_id, "undecided", owner="a", due=JAN)
        planning.add_action(s, plan_id, "second", owner="a", due=JAN, priority=2)
        titles = [a["title"] for a in planning.show_plan(s, plan_id).actions]
    assert titles == ["visit C1", "second", "later", "undecided"]


# -- scenarios beyond the trend -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kinds, flagged",
    [
        ((), True),
        (("trend",), True),
        (("trend", "internal"), True),
        (("competitor",), False),
        (("customer",), False),
        (("market",), False),
        (("trend", "market"), False),
    ],
)
def test_no_scenario_beyond_the_trend(base, kinds, flagged):
    with base.session() as s:
        plan_id = planning.create_plan(s, "p").id
        for kind in kinds:
            planning.add_assumption(s, plan_id, kind, f"about {kind}")
    assert (("no_scenario", f"plan {plan_id}") in check(base, plan_id)) is flagged


def test_an_unknown_assumption_kind_is_refused(base):
    with base.session() as s:
        plan_id = planning.create_plan(s, "p").id
        with pytest.raises(ValidationError, match="kind: must be one of trend, competitor"):
            planning.add_assumption(s, plan_id, "weather", "rain")


# -- bottom-up and top-down reconciled ------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, params, flagged",
    [
        ("bottomup", {}, "is bottomup, not reconciled"),
        ("topdown", {}, "is topdown, not reconciled"),
        (
            "reconciled",
            {"method": "mint-wls", "bottomup_run": 1, "topdown_run": None},
            "without a top-down run",
        ),
        ("reconciled", {"method": "bottom-up", "bottomup_run": 1, "topdown_run": 2}, "reconciled bottom-up"),
        ("reconciled", {"method": "top-down", "bottomup_run": 1, "topdown_run": 2}, None),
        ("reconciled", BALANCED, None),
    ],
)
def test_not_reconciled_by_the_plans_run(base, kind, params, flagged):
    run = add_run(base, kind, **params)
    plan_id = complete_plan(base, run_id=run)
    with base.session() as s:
        found = [f.message for f in planning.check_plan(s, plan_id) if f.code == "not_reconciled"]
    if flagged is None:
        assert found == []
    else:
        assert len(found) == 1 and flagged in found[0], found


def test_a_plan_without_a_run_is_judged_by_its_targets_runs(base):
    with base.session() as s:
        plan_id = planning.create_plan(s, "by targets", target_keys=["张伟/2026-01-01"]).id
        planning.add_action(s, plan_id, "a", owner="张伟", due=JAN, priority=1, target="张伟/2026-01-01")
    assert ("not_reconciled", f"plan {plan_id}") not in check(base, plan_id)  # the target's run is balanced
    bottom = add_run(base, "bottomup")
    add_target(base, "张伟", date(2026, 3, 1), {"C2": "10.00"}, bottom)
    with base.session() as s:
        planning.add_target(s, plan_id, "张伟/2026-03-01")
        messages = [f.message for f in planning.check_plan(s, plan_id) if f.code == "not_reconciled"]
    assert messages == [f"run {bottom} is bottomup, not reconciled: balance it with kehu forecast reconcile"]


# -- the budget -----------------------------------------------------------------------------------


def test_the_budget_adds_up_to_the_cent(base):
    plan_id = complete_plan(base)  # 1200.00 for 15000.00
    rng = random.Random(20)
    # Shaped like real budgets: many small items, a few large ones, odd cents, and 0.10 + 0.20.
    cents = [10, 20] + [
        rng.choice([rng.randint(1, 999), rng.randint(1, 10**6), rng.randint(10**8, 10**10)])
        for _ in range(200)
    ]
    expected_cents = [rng.randint(0, 10**9) for _ in cents]
    with base.session() as s:
        for k, (c, e) in enumerate(zip(cents, expected_cents, strict=True)):
            planning.add_budget(
                s, plan_id, f"item {k}", f"{c // 100}.{c % 100:02d}", expected=f"{e // 100}.{e % 100:02d}"
            )
        view = planning.show_plan(s, plan_id)
    frame = pd.DataFrame({"amount": [120000, *cents], "expected": [1500000, *expected_cents]}, dtype="int64")
    assert view.budget_total == Decimal(int(frame["amount"].sum())) / 100
    assert view.expected_total == Decimal(int(frame["expected"].sum())) / 100
    assert view.budget_total == sum((b["amount"] for b in view.budget), Decimal("0"))
    assert str(view.budget_total).endswith(f"{int(frame['amount'].sum()) % 100:02d}")


def test_the_first_budget_lines_boundary(base):
    with base.session() as s:
        plan_id = planning.create_plan(s, "p").id
        assert planning.show_plan(s, plan_id).budget_total == Decimal("0.00")
    assert any(f[0] == "missing_step" for f in check(base, plan_id))
    with base.session() as s:
        planning.add_budget(s, plan_id, "zero", "0")  # a line of ¥0.00 is a budget line
        steps = [f.step for f in planning.check_plan(s, plan_id) if f.code == "missing_step"]
        assert "编列预算" not in steps
        planning.add_budget(s, plan_id, "a", "0.10")
        planning.add_budget(s, plan_id, "b", "0.20", expected="0.01")
        view = planning.show_plan(s, plan_id)
    assert (view.budget_total, view.expected_total) == (Decimal("0.30"), Decimal("0.01"))


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-0.01", "amount: must not be negative"),
        ("0.001", "amount: more than two decimals"),
        ("abc", "amount:"),
    ],
)
def test_budget_amounts_are_money(base, amount, message):
    plan_id = complete_plan(base)
    with base.session() as s, pytest.raises(ValidationError, match=message):
        planning.add_budget(s, plan_id, "x", amount)


def test_a_budget_line_pays_only_for_its_own_plans_action(base):
    first = complete_plan(base)
    other = complete_plan(base)
    with base.session() as s:
        action = planning.show_plan(s, first).actions[0]["id"]
        with pytest.raises(ValidationError, match=f"action: not an action of plan {other}"):
            planning.add_budget(s, other, "x", "1", action_id=action)


# -- the command line -----------------------------------------------------------------------------


def test_the_commands_step_by_step(base, kehu_cli):
    made = kehu_cli(
        "forecast", "plan", "create", "2026 Q1 华东", "--run", str(base.run),
        "--target", "张伟/2026-01-01", "--external", "competitor A cut prices", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    plan_id = str(made.json["id"])
    assert made.json["targets"][0]["target"] == "张伟/2026-01-01"
    assert made.json["targets_total"] == "1500.50"
    tid = str(made.json["targets"][0]["target_id"])
    for args in (
        ("add-assumption", plan_id, "market", "demand grows 8%"),
        ("add-action", plan_id, "visit", "--owner", "张伟", "--due", "2026-01-20", "--priority", "1",
         "--resources", "2 days a week", "--target", tid),
        ("add-budget", plan_id, "visits", "1,200.10", "--expected", "15000", "--action", "1"),
        ("add-target", plan_id, "张伟/2026-02-01"),
    ):  # fmt: skip
        result = kehu_cli("forecast", "plan", *args, "--json")
        assert result.exit_code == 0, result.output
    shown = kehu_cli("forecast", "plan", "show", plan_id, "--json").json
    assert shown["budget_total"] == "1200.10" and shown["expected_total"] == "15000.00"
    assert shown["actions"][0]["resources"] == "2 days a week"
    assert shown["actions"][0]["target"] == "张伟/2026-01-01"
    table = kehu_cli("forecast", "plan", "show", plan_id)
    assert "拟定行动计划" in table.output and "编列预算" in table.output
    flags = kehu_cli("forecast", "plan", "check", plan_id, "--json").json
    assert [(f["code"], f["subject"]) for f in flags] == [
        ("target_without_actions", "target 张伟/2026-02-01")
    ]
    listed = kehu_cli("forecast", "plan", "list", "--json").json
    assert [(r["id"], r["flags"], r["budget_total"]) for r in listed] == [(int(plan_id), 1, "1200.10")]
    assert kehu_cli("forecast", "plan", "list", "--csv").output.startswith("id,name,")
    everything = kehu_cli("forecast", "plan", "check", "--csv").output
    assert "target 李娜/2026-01-01" in everything


@pytest.mark.parametrize(
    "args, message",
    [
        (("show", "999"), "no sales plan 999"),
        (("create", "x", "--run", "999"), "no forecast run 999"),
        (("create", "x", "--target", "nobody/2026-01-01"), "no target nobody/2026-01-01"),
        (("create", "x", "--target", "张伟/2026-13-01"), "target: not a date"),
        (("create", "x", "--target", "Q1"), "target: give a target id or SALESPERSON/FIRST-DAY"),
        (("create", " "), "name: must not be empty"),
    ],
)
def test_errors_are_one_line(base, kehu_cli, args, message):
    complete_plan(base)
    result = kehu_cli("forecast", "plan", *args)
    assert result.exit_code == 1, result.output
    text = result.output.strip()
    assert message in text, text
    assert len(text.splitlines()) == 1, text


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("add-assumption", "1", "weather", "rain"),
            "Invalid value for '[trend|competitor|customer|market|internal]'",
        ),
        (("add-action", "1", "x", "--owner", "a", "--due", "2026-02-30"), "Invalid value for '--due'"),
        (("add-action", "1", "x", "--owner", "a", "--due", "2026-01-01", "--priority", "0"), "'--priority'"),
        (("add-action", "1", "x", "--due", "2026-01-01"), "Missing option '--owner'"),
        (("add-budget", "1", "x", "--", "-5"), "must not be negative"),
        (("add-budget", "1", "x", "1.001"), "'AMOUNT': '1.001': more than two decimals"),
        (("show", "0"), "Invalid value for 'PLAN_ID'"),
    ],
)
def test_usage_errors_name_the_parameter_in_one_error_line(base, kehu_cli, args, message):
    complete_plan(base)
    result = kehu_cli("forecast", "plan", *args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.output


def test_help_shows_the_steps_and_examples(base, kehu_cli):
    text = kehu_cli("forecast", "plan", "--help").output
    for word in (
        "掌握情势",
        "设定目标",
        "前提假定",
        "拟定行动计划",
        "编列预算",
        "kehu forecast plan add-action",
    ):
        assert word in text
    assert (
        "kehu forecast plan add-assumption 1 market"
        in kehu_cli("forecast", "plan", "add-assumption", "--help").output
    )


def test_writes_are_audited(base):
    plan_id = complete_plan(base)
    with base.session() as s:
        trail = audit.trail(s, entity="forecast.plan", key=str(plan_id))
    assert [e.action for e in trail] == ["created", "assumption added", "action added", "budget added"]
    assert trail[0].changes["targets"] == ["张伟/2026-01-01"]


# -- who sees what --------------------------------------------------------------------------------


@pytest.fixture
def people(base):
    """zhangwei owns C1, C2 (the targets of 张伟); lina owns C4 (李娜's); mgr is a manager."""
    with base.session() as s:
        add_user(base, s, "boss", roles=["admin"])
        add_user(base, s, "mgr", roles=["manager"])
        add_user(base, s, "zhangwei", roles=["sales"])
        add_user(base, s, "lina", roles=["sales"])
        s.execute(update(Customer).where(Customer.code.in_(["C1", "C2"])).values(owner="zhangwei"))
        s.execute(update(Customer).where(Customer.code.in_(["C4", "C5"])).values(owner="lina"))
    with base.session(as_user="mgr") as s:
        base.mine = planning.create_plan(s, "zhangwei's", target_keys=["张伟/2026-01-01"]).id
        base.theirs = planning.create_plan(s, "lina's", target_keys=["李娜/2026-01-01"]).id
        base.both = planning.create_plan(s, "both", target_keys=["张伟/2026-02-01", "李娜/2026-01-01"]).id
        base.company_plan = planning.create_plan(s, "company", run_id=base.run).id
    return base


def test_a_salesperson_sees_the_plans_of_their_own_targets_only(people, kehu_cli):
    listed = kehu_cli("--as", "zhangwei", "forecast", "plan", "list", "--json").json
    assert [r["id"] for r in listed] == [people.mine]
    assert [r["id"] for r in kehu_cli("--as", "lina", "forecast", "plan", "list", "--json").json] == [
        people.theirs
    ]
    all_ids = [r["id"] for r in kehu_cli("--as", "mgr", "forecast", "plan", "list", "--json").json]
    assert all_ids == [people.company_plan, people.both, people.theirs, people.mine]
    for hidden in (people.theirs, people.both, people.company_plan):
        for command in ("show", "check"):
            result = kehu_cli("--as", "zhangwei", "forecast", "plan", command, str(hidden))
            assert result.exit_code == 1 and result.output.strip() == f"Error: no sales plan {hidden}", (
                result.output
            )
    flags = kehu_cli("--as", "zhangwei", "forecast", "plan", "check", "--json").json
    subjects = {f["subject"] for f in flags}
    assert f"plan {people.mine}" in subjects
    assert "target 李娜/2026-01-01" not in subjects and not any("李娜" in f["message"] for f in flags)
    assert {s for s in subjects if s.startswith("target")} <= {
        "target 张伟/2026-01-01",
        "target 张伟/2026-02-01",
    }


def test_only_forecast_plan_writes_plans(people, kehu_cli):
    result = kehu_cli("--as", "zhangwei", "forecast", "plan", "create", "mine")
    assert result.exit_code == 1
    assert "zhangwei (sales) may not write sales plans: it needs permission forecast.plan" in result.output
    with people.session(as_user="zhangwei") as s:
        for call in (
            lambda: planning.add_assumption(s, people.mine, "market", "x"),
            lambda: planning.add_action(s, people.mine, "x", owner="a", due=JAN),
            lambda: planning.add_budget(s, people.mine, "x", "1"),
            lambda: planning.add_target(s, people.mine, "张伟/2026-02-01"),
        ):
            with pytest.raises(Forbidden, match="forecast.plan"):
                call()


def test_with_forecast_plan_granted_a_salesperson_writes_only_within_their_targets(people, kehu_cli):
    granted = kehu_cli("--as", "boss", "roles", "grant", "sales", "forecast.plan")
    assert granted.exit_code == 0, granted.output
    with people.session(as_user="zhangwei") as s:
        planning.add_action(s, people.mine, "visit C1", owner="zhangwei", due=JAN, priority=1)
        with pytest.raises(NotFound, match="no target 李娜/2026-01-01"):
            planning.add_target(s, people.mine, "李娜/2026-01-01")
        with pytest.raises(NotFound, match=f"no sales plan {people.theirs}"):
            planning.add_action(s, people.theirs, "x", owner="zhangwei", due=JAN)
        with pytest.raises(NotFound, match="no target"):
            planning.create_plan(s, "steal", target_keys=["李娜/2026-01-01"])
