"""SLA policy rules the mutation run found unpinned, each with data on the edge and expected
values written by hand: any policy but the default may be deleted, given conditions or
deactivated, whatever its name sorts against ``default``; a field named in text read from input
is the field its name spells."""

from __future__ import annotations

import pytest

from kehu_complaints import sla
from kehu_core.errors import KehuError

STAGES = ("received", "acknowledged", "awaiting_customer")


@pytest.mark.parametrize("name", ["critical", "high", "key-account", "defaulted", "defaul"])
def test_any_policy_but_the_default_may_be_deleted_whatever_its_name_sorts_against_it(app, name):
    with app.session() as s:
        if name not in {p.name for p in sla.load_policies(s)}:
            sla.save_policy(s, name, {"first_response_minutes": 1, "resolution_minutes": 1}, STAGES)
        sla.delete_policy(s, name)
        left = [p.name for p in sla.load_policies(s)]
    assert name not in left and "default" in left
    with app.session() as s, pytest.raises(KehuError, match="cannot be deleted"):
        sla.delete_policy(s, "default")


@pytest.mark.parametrize("name", ["critical", "high", "defaul", "defaulted"])
def test_any_policy_but_the_default_may_take_conditions_or_be_deactivated(app, name):
    with app.session() as s:
        if name not in {p.name for p in sla.load_policies(s)}:
            sla.save_policy(s, name, {"first_response_minutes": 1, "resolution_minutes": 1}, STAGES)
        changed = sla.save_policy(
            s, name, {"severities": "high", "kinds": "complaint", "active": "no"}, STAGES
        )
    assert (changed.severities, changed.kinds, changed.active) == (("high",), ("complaint",), False)


def built(*parts: str) -> str:
    """A string equal to ``"".join(parts)`` but not the interned literal (as text read from input)."""
    return "".join(parts)


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        (built("prio", "rity"), "0", True),
        (built("prio", "rity"), "-1", False),
        (built("first_response_", "minutes"), "0", False),
        (built("first_response_", "minutes"), "1", True),
    ],
)
def test_the_lowest_number_follows_the_field_as_typed(key, value, ok):
    clean, problems = sla.clean_policy({key: value}, STAGES)
    assert (clean, not problems) == ({key: int(value)}, ok)


def test_a_policy_read_back_keeps_every_condition_and_a_complaint_of_its_kind_gets_it(app, h):
    with app.session() as s:
        sla.save_policy(
            s,
            "grievances",
            {
                "priority": 5,
                "severities": "low,medium",
                "tiers": "B",
                "kinds": "grievance",
                "first_response_minutes": 30,
                "resolution_minutes": 90,
                "paused_stages": "awaiting_customer",
            },
            STAGES,
        )
        sla.save_policy(s, "all-grievances", {"priority": 6, "kinds": "grievance", **TARGETS}, STAGES)
        first = sla.load_policies(s)[0]
    assert first == sla.Policy(
        "grievances", 5, ("low", "medium"), ("B",), ("grievance",), 30, 90, ("awaiting_customer",), True
    )
    grievance = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    complaint = h.open_one(app, "2025-03-03 09:00", kind="complaint")
    assert h.get(app, grievance.id).complaint.sla_policy == "all-grievances"  # no tier: not "grievances"
    assert h.get(app, complaint.id).complaint.sla_policy == "default"


TARGETS = {"first_response_minutes": 60, "resolution_minutes": 120}
