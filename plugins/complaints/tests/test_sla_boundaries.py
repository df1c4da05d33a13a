"""The SLA rules one comparison at a time, at the edge and a step either side, with expected
values written by hand: which policy matches (empty conditions, a missing tier, the order),
due times with a pause, a breach mark kept while the new due time is not after now, the
bounds of a policy's fields (priority 0, minutes 1 and 10,000,000, names of 100 characters),
the default policy's protections, and which tier changes move due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from kehu_complaints import sla
from kehu_complaints.calendar import BusinessCalendar
from kehu_complaints.models import COMPLAINTS, HISTORY
from kehu_complaints.settings import calendar_of
from kehu_core import hookimpl
from kehu_core.errors import KehuError, ValidationError
from kehu_core.hooktypes import TierChange

SH = ZoneInfo("Asia/Shanghai")
STAGES = ("received", "acknowledged", "awaiting_customer")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def policy(name="p", severities=(), tiers=(), kinds=(), first=60, resolution=120, priority=10) -> sla.Policy:
    return sla.Policy(name, priority, severities, tiers, kinds, first, resolution, ("awaiting_customer",))


# -- matching -----------------------------------------------------------------------------------


def test_empty_conditions_match_everything_and_each_condition_narrows():
    assert policy().matches("low", None, "grievance")
    assert policy(severities=("high",)).matches("high", None, "complaint")
    assert not policy(severities=("high",)).matches("critical", None, "complaint")
    assert policy(tiers=("VIP",)).matches("low", "VIP", "complaint")
    assert not policy(tiers=("VIP",)).matches("low", "A", "complaint")
    assert not policy(tiers=("VIP",)).matches("low", None, "complaint")  # no tier: no tier policy
    assert policy(kinds=("grievance",)).matches("low", None, "grievance")
    assert not policy(kinds=("grievance",)).matches("low", None, "complaint")
    both = policy(severities=("high",), kinds=("complaint",))
    assert both.matches("high", None, "complaint")
    assert not both.matches("high", None, "grievance") and not both.matches("low", None, "complaint")


def test_the_first_matching_policy_wins_and_the_fallback_when_none_does():
    high, vip, anything = policy("high", severities=("high",)), policy("vip", tiers=("VIP",)), policy("any")
    assert sla.match_policy([high, vip, anything], "high", "VIP", "complaint").name == "high"
    assert sla.match_policy([vip, high, anything], "high", "VIP", "complaint").name == "vip"
    assert sla.match_policy([high, vip], "low", None, "complaint") is sla.FALLBACK
    assert sla.match_policy([], "low", None, "complaint") is sla.FALLBACK
    assert (sla.FALLBACK.first_response_minutes, sla.FALLBACK.resolution_minutes) == (480, 2400)


def test_due_times_add_the_pause_to_both_targets_in_business_time():
    cal = BusinessCalendar()
    p = policy(first=60, resolution=120)
    opened, started = at("2025-03-03 09:00"), at("2025-03-03 10:00")
    assert sla.due_times(cal, p, opened, started, 0) == (
        at("2025-03-03 10:00").astimezone(UTC),
        at("2025-03-03 12:00").astimezone(UTC),
    )
    # 1 s of pause moves both by 1 s; 3600 s pushes the resolution over lunch.
    assert sla.due_times(cal, p, opened, started, 1) == (
        at("2025-03-03 10:00:01").astimezone(UTC),
        at("2025-03-03 12:00:01").astimezone(UTC) + timedelta(hours=1),
    )
    assert sla.due_times(cal, p, opened, started, 3600) == (
        at("2025-03-03 11:00").astimezone(UTC),
        at("2025-03-03 14:00").astimezone(UTC),
    )


def test_only_the_followed_method_moves_due_times():
    tier = TierChange(1, "pyramid", "B", "A", is_tier=True)
    segment = TierChange(1, "rfm", "new", "loyal", is_tier=False)
    assert sla.follows(tier, None) and not sla.follows(segment, None)
    assert sla.follows(segment, "rfm") and not sla.follows(tier, "rfm")
    later = TierChange(1, "value", "B", "A", is_tier=False)  # a method named after "rfm" in order
    assert not sla.follows(later, "rfm") and not sla.follows(segment, "value")


def test_tiers_of_no_customer_asks_no_plugin(app):
    with app.session() as s:
        assert sla.tiers_of(app, s, []) == {}
        assert sla.tiers_of(app, s, [1]) == {}  # nobody classifies customers


# -- policy fields ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("priority", "-1", False),
        ("priority", "0", True),
        ("priority", "10000000", True),
        ("priority", "10000001", False),
        ("first_response_minutes", "0", False),
        ("first_response_minutes", "1", True),
        ("resolution_minutes", "0", False),
        ("resolution_minutes", "1", True),
        ("resolution_minutes", "10000000", True),
        ("resolution_minutes", "10000001", False),
        ("resolution_minutes", "ten", False),
        ("resolution_minutes", None, False),
    ],
)
def test_number_bounds(key, value, ok):
    clean, problems = sla.clean_policy({key: value}, STAGES)
    assert (not problems) is ok, problems
    if ok:
        assert clean == {key: int(value)}
    else:
        low = 0 if key == "priority" else 1
        reason = problems[0].reason
        assert reason in (f"must be between {low} and 10000000", "not a whole number")


def test_lists_are_checked_against_their_vocabulary():
    clean, problems = sla.clean_policy(
        {
            "severities": "high， critical",
            "kinds": ["grievance"],
            "tiers": "VIP,A",
            "paused_stages": "received",
        },
        STAGES,
    )
    assert problems == []
    assert clean == {
        "severities": ["high", "critical"],
        "kinds": ["grievance"],
        "tiers": ["VIP", "A"],
        "paused_stages": ["received"],
    }
    _, problems = sla.clean_policy(
        {"severities": "high,urgent", "paused_stages": "lunch", "colour": "red"}, STAGES
    )
    assert [(p.field, p.value) for p in problems] == [
        ("severities", "urgent"),
        ("paused_stages", "lunch"),
        ("colour", None),
    ]
    assert sla.clean_policy({"tiers": None}, STAGES) == ({"tiers": []}, [])
    # An unknown field is refused and the fields after it are still read.
    clean, problems = sla.clean_policy({"colour": "red", "priority": "5"}, STAGES)
    assert (clean, [p.field for p in problems]) == ({"priority": 5}, ["colour"])
    clean, problems = sla.clean_policy({"priority": "x", "resolution_minutes": "5"}, STAGES)
    assert (clean, [p.field for p in problems]) == ({"resolution_minutes": 5}, ["priority"])


@pytest.mark.parametrize(
    ("raw", "active"),
    [
        ("yes", True),
        ("ON", True),
        (" 1 ", True),
        ("true", True),
        ("no", False),
        ("0", False),
        (True, True),
        (0, False),
    ],
)
def test_active_parses_words_and_booleans(raw, active):
    assert sla.clean_policy({"active": raw}, STAGES) == ({"active": active}, [])


def test_a_policy_name_of_100_characters_is_accepted_and_101_refused(app):
    with app.session() as s:
        assert sla.save_policy(s, "长" * 100, {"first_response_minutes": 1, "resolution_minutes": 1}, STAGES)
        with pytest.raises(ValidationError, match="1 to 100 characters"):
            sla.save_policy(s, "长" * 101, {"first_response_minutes": 1, "resolution_minutes": 1}, STAGES)
        with pytest.raises(ValidationError, match="1 to 100 characters"):
            sla.save_policy(s, "  ", {"first_response_minutes": 1, "resolution_minutes": 1}, STAGES)


def test_a_new_policy_needs_both_targets_and_gets_the_defaults(app):
    with app.session() as s:
        with pytest.raises(ValidationError, match="required for a new policy"):
            sla.save_policy(s, "vip", {"first_response_minutes": 30}, STAGES)
        made = sla.save_policy(s, "vip", {"first_response_minutes": 30, "resolution_minutes": 240}, STAGES)
    assert made == sla.Policy("vip", 100, (), (), (), 30, 240, ("awaiting_customer",), True)
    with app.session() as s:  # an existing policy changes one field
        changed = sla.save_policy(s, "vip", {"priority": 5}, STAGES)
    assert (changed.priority, changed.first_response_minutes, changed.resolution_minutes) == (5, 30, 240)


def test_the_default_policy_matches_everything_and_stays(app):
    with app.session() as s:
        for values in ({"severities": "high"}, {"tiers": "VIP"}, {"kinds": "complaint"}, {"active": "no"}):
            with pytest.raises(ValidationError):
                sla.save_policy(s, sla.DEFAULT_POLICY, values, STAGES)
        assert sla.save_policy(s, sla.DEFAULT_POLICY, {"severities": "", "active": "yes"}, STAGES).active
        with pytest.raises(KehuError, match="cannot be deleted"):
            sla.delete_policy(s, sla.DEFAULT_POLICY)
        with pytest.raises(KehuError, match="no SLA policy named 'nope'"):
            sla.delete_policy(s, "nope")
        sla.delete_policy(s, "high")
        assert [p.name for p in sla.load_policies(s)] == ["critical", "key-account", "default"]


def test_the_default_policies_in_their_order(app):
    with app.session() as s:
        shown = [
            (p.name, p.priority, p.first_response_minutes, p.resolution_minutes) for p in sla.load_policies(s)
        ]
    assert shown == [
        ("critical", 10, 60, 480),
        ("key-account", 20, 120, 960),
        ("high", 30, 240, 1440),
        ("default", 1000, 480, 2400),
    ]


def test_the_default_policy_is_known_by_its_name_as_typed(app):
    typed = "".join(["de", "fault"])  # a name read from input, not the constant itself
    with app.session() as s, pytest.raises(ValidationError, match="give it no conditions"):
        sla.save_policy(s, typed, {"severities": "high"}, STAGES)
    with app.session() as s, pytest.raises(KehuError, match="cannot be deleted"):
        sla.delete_policy(s, typed)


def test_inactive_policies_are_not_tried_and_the_order_is_priority_then_name(app):
    with app.session() as s:
        sla.save_policy(
            s, "b", {"first_response_minutes": 1, "resolution_minutes": 1, "priority": 30}, STAGES
        )
        sla.save_policy(
            s, "a", {"first_response_minutes": 1, "resolution_minutes": 1, "priority": 30}, STAGES
        )
        sla.save_policy(s, "high", {"active": "no"}, STAGES)
        assert [p.name for p in sla.load_policies(s)] == ["critical", "key-account", "a", "b", "default"]


# -- recomputing --------------------------------------------------------------------------------


def test_a_breach_mark_stays_while_the_new_due_time_is_not_after_now(app, h):
    """Opened 09:00, due 18:00 (480 minutes); marked late at 18:00:01. The policy then gives 479
    minutes: due 17:59. Recomputed at 17:59 exactly the mark stays; at 17:58:59 it is cleared."""
    c = h.open_one(app, "2025-03-03 09:00")
    late = at("2025-03-03 18:00:01").astimezone(UTC)
    with app.session() as s:
        s.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == c.id)
            .values(first_response_breached_at=late, resolution_breached_at=late)
        )
        sla.save_policy(s, sla.DEFAULT_POLICY, {"first_response_minutes": 479}, STAGES)
    due = at("2025-03-03 17:59").astimezone(UTC)
    for now, kept in ((due + timedelta(seconds=1), True), (due, True), (due - timedelta(seconds=1), False)):
        with app.session() as s:
            s.execute(
                update(COMPLAINTS).where(COMPLAINTS.c.id == c.id).values(first_response_breached_at=late)
            )
            sla.recompute_open(app, s, calendar_of(s), now)
            mark = s.scalar(select(COMPLAINTS.c.first_response_breached_at).where(COMPLAINTS.c.id == c.id))
        assert (mark == late) is kept, now
    # The resolution (due Friday 18:00) lies after both: its mark is cleared.
    assert h.get(app, c.id).complaint.resolution_breached_at is None


def test_a_resolution_mark_stays_when_the_due_time_is_exactly_now(app, h):
    c = h.open_one(app, "2025-03-03 09:00")  # resolution due Friday 2025-03-07 18:00
    due = at("2025-03-07 18:00").astimezone(UTC)
    for now, kept in ((due + timedelta(seconds=1), True), (due, True), (due - timedelta(seconds=1), False)):
        with app.session() as s:
            s.execute(update(COMPLAINTS).where(COMPLAINTS.c.id == c.id).values(resolution_breached_at=due))
            sla.recompute_open(app, s, calendar_of(s), now)
            mark = s.scalar(select(COMPLAINTS.c.resolution_breached_at).where(COMPLAINTS.c.id == c.id))
        assert (mark is not None) is kept, now


def test_an_answered_complaint_keeps_its_first_response_mark(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-04 09:00")  # answered late
    late = at("2025-03-03 18:00:01").astimezone(UTC)
    with app.session() as s:
        s.execute(update(COMPLAINTS).where(COMPLAINTS.c.id == c.id).values(first_response_breached_at=late))
        sla.save_policy(s, sla.DEFAULT_POLICY, {"first_response_minutes": 4800}, STAGES)
        sla.recompute_open(app, s, calendar_of(s), at("2025-03-04 10:00").astimezone(UTC))
    assert h.get(app, c.id).complaint.first_response_breached_at == late


def test_recompute_counts_and_notes_only_what_changed_and_only_open_complaints(app, h):
    a = h.open_one(app, "2025-03-03 09:00")
    b = h.open_one(app, "2025-03-03 09:00", customer_code="C2")
    done = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, done.id, "2025-03-03 10:00")
    now = at("2025-03-03 12:00").astimezone(UTC)
    with app.session() as s:
        assert sla.recompute_open(app, s, calendar_of(s), now) == 0  # nothing changed
        sla.save_policy(s, sla.DEFAULT_POLICY, {"first_response_minutes": 470}, STAGES)
        c2 = s.scalar(select(COMPLAINTS.c.customer_id).where(COMPLAINTS.c.id == b.id))
        assert sla.recompute_open(app, s, calendar_of(s), now, customer_ids=[c2], reason="why") == 1
        assert sla.recompute_open(app, s, calendar_of(s), now, complaint_ids=[a.id]) == 1
        assert sla.recompute_open(app, s, calendar_of(s), now) == 0  # both done: the resolved one never
        notes = s.scalars(
            select(HISTORY.c.note).where(HISTORY.c.action == "sla").order_by(HISTORY.c.id)
        ).all()
    due = "policy default, first response due 2025-03-03 17:50, resolution due 2025-03-07 18:00"
    assert notes == [f"why: {due}", f"SLA policy changed: {due}"]
    assert h.get(app, done.id).complaint.first_response_due_at == at("2025-03-03 18:00").astimezone(UTC)


class Tiers:
    def __init__(self, tiers):
        self.tiers = tiers

    @hookimpl
    def kehu_customer_tiers(self, session, customer_ids, method):
        return {cid: t for cid, t in self.tiers.items() if cid in customer_ids}


def test_tier_changes_of_the_followed_method_only_and_a_lost_tier_drops_the_tier_policy(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    with app.session() as s:
        cid = s.scalar(select(COMPLAINTS.c.customer_id).where(COMPLAINTS.c.id == c.id))
        segment = TierChange(cid, "rfm", None, "VIP", is_tier=False)
        assert sla.recompute_for_tier_changes(app, s, [segment]) == 0
        assert sla.recompute_for_tier_changes(app, s, []) == 0
        up = TierChange(cid, "pyramid", None, "VIP", is_tier=True)
        assert sla.recompute_for_tier_changes(app, s, [up]) == 1
    assert (h.get(app, c.id).complaint.sla_policy, h.get(app, c.id).complaint.tier) == ("key-account", "VIP")
    with app.session() as s:
        down = TierChange(cid, "pyramid", "VIP", None, is_tier=True)
        assert sla.recompute_for_tier_changes(app, s, [down]) == 1
    assert (h.get(app, c.id).complaint.sla_policy, h.get(app, c.id).complaint.tier) == ("default", None)


def test_policy_names_in_use_count_open_complaints(app, h):
    h.open_one(app, "2025-03-03 09:00")
    h.open_one(app, "2025-03-03 09:00", severity="high")
    h.open_one(app, "2025-03-03 09:00", severity="high")
    done = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, done.id, "2025-03-03 10:00")
    with app.session() as s:
        assert sla.policy_names_in_use(s) == {"default": 1, "high": 2}


def test_recompute_starts_a_pause_the_new_policy_asks_for_and_keeps_a_running_one(app, h):
    answered = h.open_one(app, "2025-03-03 09:00")
    h.move(app, answered.id, "acknowledged", "2025-03-03 10:00")
    waiting = h.open_one(app, "2025-03-03 09:00")
    h.move(app, waiting.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, waiting.id, "awaiting_customer", "2025-03-03 11:00")  # paused since 11:00
    now = at("2025-03-03 15:00").astimezone(UTC)
    with app.session() as s:
        sla.save_policy(s, sla.DEFAULT_POLICY, {"paused_stages": "acknowledged,awaiting_customer"}, STAGES)
        sla.recompute_open(app, s, calendar_of(s), now)
    with app.session() as s:
        since = dict(s.execute(select(COMPLAINTS.c.id, COMPLAINTS.c.paused_since)).all())
    assert since[answered.id] == now  # starts pausing now
    assert since[waiting.id] == at("2025-03-03 11:00").astimezone(UTC)  # kept


def test_recompute_of_no_open_complaint_changes_none(app, h):
    with app.session() as s:
        assert sla.recompute_open(app, s, calendar_of(s), at("2025-03-03 15:00").astimezone(UTC)) == 0
        assert sla.recompute_open(app, s, calendar_of(s), at("2025-03-03 15:00"), complaint_ids=[999]) == 0
