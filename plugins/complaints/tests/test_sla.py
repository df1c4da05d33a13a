"""SLA due times on real complaints: policies by priority, tiers through the core hook, a paused
clock, policy changes that keep the pause (glpi#15605), stale breach marks cleared (osTicket),
reopening, and holidays."""

from __future__ import annotations

from datetime import UTC

from kehu_complaints import api, jobs, sla
from kehu_complaints.settings import calendar_of
from kehu_core import hookimpl
from kehu_core.customers import get_customer
from kehu_core.hooktypes import TierChange


def utc(h, text):
    return h.at(text).astimezone(UTC)


def test_policies_and_due_times(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    assert (c.sla_policy, c.tier) == ("default", None)  # 480 / 2400 business minutes; no tiering installed
    assert c.first_response_due_at == utc(h, "2025-03-03 18:00")
    assert c.resolution_due_at == utc(h, "2025-03-07 18:00")
    # the first matching policy by priority
    assert h.open_one(app, severity="high").sla_policy == "high"
    assert h.open_one(app, severity="low").sla_policy == "default"
    # Friday 26 Sept 2025, 17:00: Saturday off, Sunday 28 Sept a swapped working day (调休上班)
    c = h.open_one(app, "2025-09-26 17:00")
    assert c.first_response_due_at == utc(h, "2025-09-28 17:00")  # 1h Fri + 7h Sun
    # critical (60 / 480 minutes) opened the afternoon before the National Day week
    c = h.open_one(app, "2025-09-30 16:00", severity="critical")
    assert c.sla_policy == "critical"
    assert c.first_response_due_at == utc(h, "2025-09-30 17:00")
    assert c.resolution_due_at == utc(h, "2025-10-09 16:00")  # 2h on 30 Sept, 6h after the holidays


class Tiers:
    """A stand-in tiering plugin: THE tier (``method=None``, the pyramid) and segments by method."""

    def __init__(self, tiers, segments=None):
        self.by_method = {None: tiers, **(segments or {})}
        self.asked = []

    @hookimpl
    def kehu_customer_tiers(self, session, customer_ids, method):
        self.asked.append(method)
        codes = self.by_method.get(method, {})
        return {cid: t for cid, t in codes.items() if cid in customer_ids}


def _cid(app, code):
    with app.session() as s:
        return get_customer(s, code).id


def test_tier_from_the_core_hook_selects_the_policy(app, h, kehu_register_plugin):
    kehu_register_plugin(Tiers({_cid(app, "C1"): "VIP"}), "faketiers")
    c = h.open_one(app, "2025-03-03 09:00")
    assert (c.tier, c.sla_policy) == ("VIP", "key-account")
    assert c.first_response_due_at == utc(h, "2025-03-03 11:00")


def _change_default(app, h, when, **values):
    with app.session() as s:
        sla.save_policy(s, "default", values, ["awaiting_customer", "investigating"])
        return sla.recompute_open(app, s, calendar_of(s), utc(h, when))


def test_pause_counts_business_time_and_a_policy_change_keeps_it(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    paused = h.move(app, c.id, "awaiting_customer", "2025-03-04 10:00")
    assert paused.paused
    back = h.move(app, c.id, "investigating", "2025-03-06 10:00")
    # paused 4 Mar 10:00 - 6 Mar 10:00 = 7h + 8h + 1h = 16 business hours, not 48 wall-clock hours
    assert (back.paused, back.paused_seconds) == (False, 16 * 3600)
    assert back.resolution_due_at == utc(h, "2025-03-11 18:00")
    assert _change_default(app, h, "2025-03-06 11:00", resolution_minutes=3000) == 1
    after = h.get(app, c.id).complaint
    # 50h target + 16h kept pause from 3 Mar 09:00 = 66h -> 13 Mar 11:00
    assert after.paused_seconds == 16 * 3600
    assert after.resolution_due_at == utc(h, "2025-03-13 11:00")
    timeline = [e.action for e in h.get(app, c.id).timeline]
    assert timeline[-1] == "sla"


def test_policy_change_that_stops_pausing_closes_the_pause(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, c.id, "awaiting_customer", "2025-03-03 14:00")
    _change_default(app, h, "2025-03-04 10:00", paused_stages="")
    after = h.get(app, c.id).complaint
    assert not after.paused and after.paused_seconds == (4 + 1) * 3600  # 14-18 on 3 Mar, 9-10 on 4 Mar
    assert after.resolution_due_at == utc(h, "2025-03-10 15:00")  # 40h + 5h from 3 Mar 09:00


def test_paused_complaints_do_not_breach_and_recompute_clears_stale_marks(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    with app.session() as s:
        assert "1 complaint(s) newly breached" in jobs.escalate(app, s, utc(h, "2025-03-10 09:00"))
    assert h.get(app, c.id).complaint.resolution_breached_at is not None
    _change_default(app, h, "2025-03-10 10:00", resolution_minutes=10 * 480)  # ten days: due 14 Mar
    assert h.get(app, c.id).complaint.resolution_breached_at is None
    h.move(app, c.id, "awaiting_customer", "2025-03-10 11:00")
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-04-30 09:00")) == "no new SLA breach"


def test_reopen_restarts_the_resolution_clock(app, h):
    c = h.open_one(app, "2025-03-03 09:00", severity="low")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, c.id, "investigating", "2025-03-03 11:00")
    h.move(app, c.id, "solution_proposed", "2025-03-03 14:00", changes={"solution": "换新"})
    h.move(app, c.id, "customer_agreed", "2025-03-03 15:00")
    h.move(app, c.id, "in_progress", "2025-03-03 16:00")
    h.move(app, c.id, "resolved", "2025-03-04 10:00")
    again = h.move(app, c.id, "reopened", "2025-03-17 09:00", reason="又卡纸了")
    assert again.reopen_count == 1 and again.resolved_at is None
    assert again.resolution_due_at == utc(h, "2025-03-21 18:00")  # 40h from the reopen
    assert again.first_response_at == utc(h, "2025-03-03 10:00")  # the first response stays met


def test_tier_change_event_recomputes_open_complaints(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    with app.session() as s:
        app.hook.kehu_tier_changed(
            session=s, changes=[TierChange(_cid(app, "C1"), "pyramid", "B", "A", is_tier=True)]
        )
    after = h.get(app, c.id).complaint
    assert (after.tier, after.sla_policy) == ("A", "key-account")
    assert after.first_response_due_at == utc(h, "2025-03-03 11:00")  # 120 business minutes
    assert after.resolution_due_at == utc(h, "2025-03-04 18:00")  # 960 minutes: two working days


def _retier(app, *changes):
    with app.session() as s:
        app.hook.kehu_tier_changed(session=s, changes=list(changes))


def test_a_segment_change_never_moves_an_open_complaint(app, h, kehu_register_plugin):
    """The known bug: a re-tier in which only a VIP's RFM segment moved took the VIP's complaint
    from the key-account SLA to ``default / champions``."""
    cid = _cid(app, "C1")
    tiers = Tiers({cid: "VIP"}, {"rfm": {cid: "loyal"}})
    kehu_register_plugin(tiers, "faketiers")
    c = h.open_one(app, "2025-03-03 09:00")
    assert (c.tier, c.sla_policy) == ("VIP", "key-account")
    assert tiers.asked == [None]  # THE tier, not a segment
    before = h.get(app, c.id)

    _retier(app, TierChange(cid, "rfm", "loyal", "champions"))
    after = h.get(app, c.id)
    assert (after.complaint.tier, after.complaint.sla_policy) == ("VIP", "key-account")
    assert after.complaint.first_response_due_at == utc(h, "2025-03-03 11:00")
    assert after.complaint.resolution_due_at == utc(h, "2025-03-04 18:00")
    assert after == before  # not even a history entry

    # The same run also moved THE tier: only that counts, whatever the order of the changes.
    _retier(
        app,
        TierChange(cid, "pyramid", "VIP", "B", is_tier=True),
        TierChange(cid, "rfm", "champions", "at_risk"),
    )
    moved = h.get(app, c.id).complaint
    assert (moved.tier, moved.sla_policy) == ("B", "default")
    assert moved.first_response_due_at == utc(h, "2025-03-03 18:00")  # 480 business minutes
    assert moved.resolution_due_at == utc(h, "2025-03-07 18:00")  # 2400 minutes: five working days


def test_policies_may_follow_a_named_method_instead(app, h, kehu_register_plugin, kehu_cli):
    cid = _cid(app, "C1")
    tiers = Tiers({cid: "VIP"}, {"rfm": {cid: "champions"}})
    kehu_register_plugin(tiers, "faketiers")
    assert kehu_cli("complaint", "settings", "tier_method", "RFM").exit_code == 0
    with app.session() as s:
        sla.save_policy(
            s,
            "champions",
            {"priority": 5, "tiers": "champions", "first_response_minutes": 30, "resolution_minutes": 240},
            ["awaiting_customer"],
        )
    c = h.open_one(app, "2025-03-03 09:00")
    assert (c.tier, c.sla_policy) == ("champions", "champions")
    assert tiers.asked[-1] == "rfm"
    assert c.first_response_due_at == utc(h, "2025-03-03 09:30")
    assert c.resolution_due_at == utc(h, "2025-03-03 14:00")  # 4h over the lunch break

    _retier(app, TierChange(cid, "pyramid", "VIP", "B", is_tier=True))  # not the method followed
    assert h.get(app, c.id).complaint.sla_policy == "champions"
    _retier(app, TierChange(cid, "rfm", "champions", "at_risk"))
    after = h.get(app, c.id).complaint
    assert (after.tier, after.sla_policy) == ("at_risk", "default")
    assert after.resolution_due_at == utc(h, "2025-03-07 18:00")
    bad = kehu_cli("complaint", "settings", "tier_method", "r f m")
    assert bad.exit_code == 1 and "tier_method: a tiering method's name" in bad.output


def test_regrading_severity_changes_the_policy_and_keeps_the_pause(app, h, kehu_cli):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, c.id, "awaiting_customer", "2025-03-03 11:00")
    h.move(app, c.id, "investigating", "2025-03-03 13:00")  # one business hour paused (lunch excluded)
    with app.session() as s:
        after = api.regrade(
            app, s, c.id, "critical", "李娜", reason="客户威胁曝光", now=utc(h, "2025-03-03 14:00")
        )
    assert (after.severity, after.sla_policy, after.paused_seconds) == ("critical", "critical", 3600)
    assert after.resolution_due_at == utc(h, "2025-03-04 10:00")  # 8h + 1h paused from 3 Mar 09:00
    assert [e.action for e in h.get(app, c.id).timeline][-2:] == ["severity", "sla"]
    bad = kehu_cli("complaint", "severity", str(c.id), "apocalyptic")
    assert bad.exit_code == 2 and "unknown severity 'apocalyptic'; use one of: low" in bad.output
