"""The domain events company plugins receive: opened, before_move (which may refuse), moved,
closed, sla_breached and escalated; each fires inside the transaction of its change. Dates
printed for people are local (Asia/Shanghai), never UTC."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import func, select

from kehu_complaints import api, jobs
from kehu_complaints.models import COMPLAINTS, HISTORY
from kehu_complaints.teams import save_team
from kehu_core import customers, hookimpl, interactions
from kehu_core.errors import KehuError


def utc(h, text):
    return h.at(text).astimezone(UTC)


class Listener:
    """A company plugin that records every complaint event, and refuses moves into ``refuse``."""

    def __init__(self, refuse=None):
        self.refuse = refuse
        self.calls = []

    @hookimpl
    def kehu_complaint_opened(self, app, session, complaint):
        # inside the transaction: the complaint is already written and visible on this session
        stored = session.scalar(
            select(func.count()).select_from(COMPLAINTS).where(COMPLAINTS.c.id == complaint.id)
        )
        self.calls.append(("opened", complaint.id, complaint.status, stored))

    @hookimpl
    def kehu_complaint_before_move(self, complaint, to_stage):
        self.calls.append(("before_move", complaint.id, complaint.status, to_stage))
        if to_stage == self.refuse:
            raise KehuError(f"质检未完成: complaint #{complaint.id} cannot go to {to_stage} yet")

    @hookimpl
    def kehu_complaint_moved(self, complaint, from_stage, to_stage):
        self.calls.append(("moved", complaint.id, from_stage, to_stage, complaint.status))

    @hookimpl
    def kehu_complaint_closed(self, complaint):
        self.calls.append(("closed", complaint.id, complaint.status, complaint.close_reason))

    @hookimpl
    def kehu_complaint_sla_breached(self, complaints):
        self.calls.append(("sla_breached", sorted(c.id for c in complaints)))

    @hookimpl
    def kehu_complaint_escalated(self, complaints):
        self.calls.append(("escalated", sorted((c.id, c.escalated_to) for c in complaints)))

    def of(self, name):
        return [call[1:] for call in self.calls if call[0] == name]


@pytest.fixture
def listener(app, kehu_register_plugin):
    plugin = Listener(refuse="solution_proposed")
    kehu_register_plugin(plugin, "complaints_test_listener")
    return plugin


def _history(app, complaint_id):
    with app.session() as s:
        return s.scalar(
            select(func.count()).select_from(HISTORY).where(HISTORY.c.complaint_id == complaint_id)
        )


def test_opened_fires_for_every_way_a_complaint_opens(app, h, listener):
    c = h.open_one(app, "2025-03-03 09:00")
    assert listener.of("opened") == [(c.id, "received", 1)]
    with app.session() as s:
        cid = customers.get_customer(s, "C2").id
        rows = [
            dict(
                customer_id=cid,
                kind="complaint",
                occurred_at=utc(h, "2025-03-03 10:00"),
                external_ref=f"crm-{n}",
            )
            for n in range(3)
        ]
        interactions.write_interactions(app, s, rows, source="import")
    opened = listener.of("opened")
    assert len(opened) == 4 and all(status == "received" and stored == 1 for _, status, stored in opened)
    # the complaint's own interaction did not open a second one
    assert len({complaint_id for complaint_id, _, _ in opened}) == 4


def test_before_move_may_refuse_and_nothing_is_written(app, h, listener, kehu_cli):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, c.id, "investigating", "2025-03-03 11:00")
    before = (h.get(app, c.id).complaint, _history(app, c.id))
    with pytest.raises(KehuError, match="质检未完成"):
        h.move(app, c.id, "solution_proposed", "2025-03-03 12:00", changes={"solution": "补发"})
    assert (h.get(app, c.id).complaint, _history(app, c.id)) == before
    refused = kehu_cli("complaint", "move", str(c.id), "solution_proposed", "--solution", "补发")
    assert refused.exit_code == 1 and "质检未完成" in refused.output and "Traceback" not in refused.output
    assert (h.get(app, c.id).complaint, _history(app, c.id)) == before
    assert listener.of("before_move")[:2] == [
        (c.id, "received", "acknowledged"),
        (c.id, "acknowledged", "investigating"),
    ]
    assert listener.of("moved") == [
        (c.id, "received", "acknowledged", "acknowledged"),
        (c.id, "acknowledged", "investigating", "investigating"),
    ]
    # a refused guard stops the move before the event: the listener is not asked
    asked = len(listener.of("before_move"))
    with pytest.raises(KehuError, match="reason_stated"):
        h.move(app, c.id, "rejected", "2025-03-03 12:00")
    assert len(listener.of("before_move")) == asked


def test_moved_and_closed_by_hand_and_by_the_auto_close_job(app, h, kehu_register_plugin):
    listener = Listener()
    kehu_register_plugin(listener, "complaints_test_listener")
    by_hand = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, by_hand.id, "2025-03-03 10:00")
    with app.session() as s:
        api.close(app, s, by_hand.id, "王芳", reason="客户已满意，无需回访", now=utc(h, "2025-03-03 11:00"))
    assert listener.of("moved")[-1] == (by_hand.id, "resolved", "closed", "closed")
    assert listener.of("closed") == [(by_hand.id, "closed", "客户已满意，无需回访")]

    left = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, left.id, "2025-03-03 10:00")
    with app.session() as s:
        assert jobs.auto_close(app, s, utc(h, "2025-03-12 10:00")).startswith("1 resolved complaint(s)")
    assert listener.of("moved")[-1] == (left.id, "resolved", "closed", "closed")
    assert listener.of("closed")[-1][:2] == (left.id, "closed")

    with app.session() as s, pytest.raises(KehuError, match="does not close"):
        api.close(app, s, left.id, "王芳", stage="reopened", reason="x")


def test_a_failing_listener_rolls_the_move_back(app, h, kehu_register_plugin):
    class Broken:
        @hookimpl
        def kehu_complaint_moved(self, complaint):
            raise RuntimeError("the message queue is down")

    kehu_register_plugin(Broken(), "complaints_test_broken")
    c = h.open_one(app, "2025-03-03 09:00")
    with pytest.raises(KehuError, match="complaints_test_broken.*the message queue is down"):
        h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    assert h.get(app, c.id).complaint.status == "received" and _history(app, c.id) == 1


def test_breaches_and_escalations_fire_once_per_run(app, h, listener):
    with app.session() as s:
        save_team(s, "客服一组", lead="李娜", assignment="round_robin", members=["王芳"])
    in_team = h.open_one(app, "2025-03-03 09:00", team="客服一组")
    alone = h.open_one(app, "2025-03-03 09:00")
    answered = h.open_one(app, "2025-03-03 09:00")
    h.move(app, answered.id, "acknowledged", "2025-03-03 10:00")
    with app.session() as s:
        jobs.escalate(app, s, utc(h, "2025-03-04 09:00"))
    assert listener.of("sla_breached") == [(sorted([in_team.id, alone.id]),)]
    assert listener.of("escalated") == [(sorted([(in_team.id, "李娜"), (alone.id, None)]),)]
    with app.session() as s:
        jobs.escalate(app, s, utc(h, "2025-03-04 10:00"))  # nothing new: no event
    assert len(listener.of("sla_breached")) == 1
    with app.session() as s:
        jobs.escalate(app, s, utc(h, "2025-03-10 09:00"))  # the answered one's resolution is late now
    assert listener.of("sla_breached")[-1] == (sorted([in_team.id, alone.id, answered.id]),)
    assert listener.of("escalated")[-1] == ([(answered.id, None)],)


def test_dates_printed_for_people_are_local(app, h, kehu_cli):
    c = h.open_one(app, "2025-03-03 09:00")  # 01:00 UTC
    shown = kehu_cli("complaint", "show", str(c.id)).output
    assert "2025-03-03 09:00" in shown and "2025-03-03 18:00" in shown  # opened, first response due
    assert "01:00" not in shown and "+00:00" not in shown
    listed = kehu_cli("complaint", "list").output
    assert "2025-03-03 18:00" in listed and "2025-03-07 18:00" in listed
    with app.session() as s:
        api.save_sla_policy(app, s, "default", {"resolution_minutes": 3000}, now=utc(h, "2025-03-03 10:00"))
    note = h.get(app, c.id).timeline[-1].note
    assert note == (
        "SLA policy default changed: policy default, first response due 2025-03-03 18:00, "
        "resolution due 2025-03-11 11:00"  # 50 business hours from 3 Mar 09:00
    )
