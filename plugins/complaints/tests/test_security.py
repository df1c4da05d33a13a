"""Who may do what with complaints, and who sees which: permissions, the approval rules, the
exemption to close without follow-up, the service team rule and the sales owner rule, through
the Python API and the CLI; refusals are one line and change nothing; changes are audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_complaints import api
from kehu_complaints.history import proposer_of
from kehu_complaints.models import COMPLAINTS, HISTORY, TEAMS
from kehu_complaints.profile import profile_section
from kehu_complaints.teams import save_team
from kehu_complaints.workflow import TransitionRefused
from kehu_core import audit, customers, users
from kehu_core.access import Forbidden
from kehu_core.errors import NotFound, ValidationError
from kehu_core.models import AuditEntry

WHEN = "2025-03-03 10:00"


@pytest.fixture
def secured(app: Any) -> Any:
    """Users: an admin, two managers, two salespeople (one customer each), two service clerks
    in two teams, each team with a complaint; and one user with no role."""
    with app.session() as s:
        users.add_user(app, s, "boss", roles=["admin"])
        users.add_user(app, s, "mgr", roles=["manager"])
        users.add_user(app, s, "mgr2", roles=["manager"])
        users.add_user(app, s, "li", roles=["sales"], team="east")
        users.add_user(app, s, "zhang", roles=["sales"], team="west")
        users.add_user(app, s, "wang", roles=["service"], team="一组")
        users.add_user(app, s, "liu", roles=["service"], team="二组")
        users.add_user(app, s, "guest")
        save_team(s, "一组", lead="mgr")
        save_team(s, "二组", lead="mgr")
        customers.add_customer(app, s, {"code": "S1", "name": "李的客户", "owner": "li"})
        customers.add_customer(app, s, {"code": "S2", "name": "张的客户", "owner": "zhang"})
    return app


def _open(app: Any, who: str, code: str, **values: Any) -> Any:
    with app.session(as_user=who) as s:
        return api.open_complaint(app, s, {"customer_code": code, "description": "卡纸", **values})


def _move(app: Any, who: str, cid: int, stage: str, h: Any, **kw: Any) -> Any:
    with app.session(as_user=who) as s:
        return api.move(app, s, cid, stage, now=h.at(WHEN), **kw)


def _state(app: Any, cid: int) -> tuple[Any, ...]:
    with app.session() as s:
        row = s.execute(select(COMPLAINTS).where(COMPLAINTS.c.id == cid)).one()
        entries = s.scalar(select(func.count()).select_from(HISTORY).where(HISTORY.c.complaint_id == cid))
        trail = s.scalar(select(func.count()).select_from(AuditEntry))
    return row.status, row.version, row.approved_by, row.handler, entries, trail


def _refused(result: Any, *words: str) -> None:
    """One line, exit code 1, no traceback, naming ``words``."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


def _proposed(app: Any, h: Any, handler: str, proposer: str, amount: str = "2000") -> int:
    """A complaint on C1 handled by ``handler``, its solution (a refund of ``amount``)
    proposed by ``proposer``."""
    c = _open(app, "mgr", "C1", handler=handler, team="一组")
    for stage in ("acknowledged", "investigating"):
        _move(app, handler, c.id, stage, h)
    refund = {"solution": "退款", "compensation_amount": amount, "compensation_type": "refund"}
    _move(app, proposer, c.id, "solution_proposed", h, changes=refund)
    return c.id


# -- complaints.approve -----------------------------------------------------------------------


def test_the_approver_is_neither_the_handler_nor_the_proposer(secured, h, kehu_cli):
    app = secured
    cid = _proposed(app, h, handler="wang", proposer="mgr")
    before = _state(app, cid)
    with pytest.raises(Forbidden, match="proposed its solution") as info:
        _move(app, "mgr", cid, "approved", h)
    assert "nothing was done" in str(info.value) and "\n" not in str(info.value)
    assert _state(app, cid) == before
    _refused(kehu_cli("--as", "mgr", "complaint", "move", str(cid), "approved"), "proposed its solution")
    assert _state(app, cid) == before

    # the handler may not approve either, though they hold complaints.approve
    mine = _proposed(app, h, handler="mgr2", proposer="wang")
    before = _state(app, mine)
    with pytest.raises(TransitionRefused, match="approver_not_handler"):
        _move(app, "mgr2", mine, "approved", h)
    _refused(kehu_cli("--as", "mgr2", "complaint", "move", str(mine), "approved"), "mgr2")
    assert _state(app, mine) == before

    # another manager approves
    done = kehu_cli("--as", "mgr2", "complaint", "move", str(cid), "approved", "--json")
    assert done.exit_code == 0, done.output
    assert (done.json["status"], done.json["approved_by"]) == ("approved", "mgr2")
    assert _move(app, "mgr", mine, "approved", h).approved_by == "mgr"


def test_the_latest_proposer_is_the_one_who_may_not_approve(secured, h, kehu_cli):
    """Issue 17 point 8: a ¥2,000 refund proposed by mgr is not approved by mgr; when mgr2
    proposes it again (a new solution), mgr2 may not approve and mgr may; another team's clerk
    does not see it; the handler may not approve under a manager's name."""
    app = secured
    cid = _proposed(app, h, handler="wang", proposer="mgr")
    with pytest.raises(Forbidden, match="proposed its solution"):
        _move(app, "mgr", cid, "approved", h)
    with pytest.raises(NotFound, match=f"no complaint #{cid}"):
        _move(app, "liu", cid, "approved", h)  # another team's clerk does not even see it
    with pytest.raises(Forbidden, match="may not act as"), app.session(as_user="wang") as s:
        api.move(app, s, cid, "approved", "mgr2", now=h.at(WHEN))
    _move(app, "wang", cid, "investigating", h)
    _move(app, "mgr2", cid, "solution_proposed", h, changes={"solution": "退款并致歉"})
    with app.session() as s:
        assert proposer_of(s, cid) == "mgr2"
    with pytest.raises(Forbidden, match="mgr2 may not approve .*proposed its solution"):
        _move(app, "mgr2", cid, "approved", h)
    assert _move(app, "mgr", cid, "approved", h).approved_by == "mgr"
    # approval is mandatory when the company says so, and the same rules hold
    kehu_cli("--as", "boss", "complaint", "settings", "approval_threshold", "always")
    small = _proposed(app, h, handler="wang", proposer="wang", amount="0")
    with pytest.raises(TransitionRefused, match="approval_threshold is always"):
        _move(app, "wang", small, "customer_agreed", h)
    with pytest.raises(Forbidden, match=r"wang \(service\) may not approve .*complaints\.approve"):
        _move(app, "wang", small, "approved", h)
    assert _move(app, "mgr", small, "approved", h).approved_by == "mgr"
    assert _move(app, "wang", small, "customer_agreed", h).status == "customer_agreed"


def test_a_salesperson_may_not_approve(secured, h, kehu_cli):
    app = secured
    c = _open(app, "li", "S1", handler="li")
    for stage in ("acknowledged", "investigating"):
        _move(app, "li", c.id, stage, h)
    refund = {"solution": "退款", "compensation_amount": "2000", "compensation_type": "refund"}
    _move(app, "li", c.id, "solution_proposed", h, changes=refund)
    before = _state(app, c.id)
    with pytest.raises(NotFound, match=f"no complaint #{c.id}"):
        _move(app, "zhang", c.id, "approved", h)  # zhang does not even see S1
    with pytest.raises(Forbidden, match=r"li \(sales\) may not approve .* complaints\.approve"):
        _move(app, "li", c.id, "approved", h)
    _refused(
        kehu_cli("--as", "li", "complaint", "move", str(c.id), "approved"),
        "may not approve",
        "complaints.approve",
        "nothing was done",
    )
    assert _state(app, c.id) == before
    # nor step past the approval the refund needs
    with pytest.raises(TransitionRefused, match="approval"):
        _move(app, "li", c.id, "customer_agreed", h)
    assert _move(app, "mgr", c.id, "approved", h).approved_by == "mgr"
    assert _move(app, "li", c.id, "customer_agreed", h).status == "customer_agreed"


# -- complaints.exempt ------------------------------------------------------------------------


def _resolved(app: Any, h: Any, kind: str = "complaint") -> int:
    c = _open(app, "wang", "C1", handler="wang", team="一组", kind=kind)
    for stage, kw in h.path("resolved"):
        _move(app, "wang", c.id, stage, h, **kw)
    return c.id


def test_closing_a_formal_complaint_without_follow_up_needs_the_exemption_and_a_reason(secured, h, kehu_cli):
    app = secured
    cid = _resolved(app, h)
    before = _state(app, cid)
    exempt = r"wang \(service\) may not close .*complaints\.exempt"
    with pytest.raises(Forbidden, match=exempt), app.session(as_user="wang") as s:
        api.close(app, s, cid, reason="客户失联", now=h.at(WHEN))
    _refused(
        kehu_cli("--as", "wang", "complaint", "close", str(cid), "--reason", "客户失联"),
        "complaints.exempt",
        "nothing was done",
    )
    assert _state(app, cid) == before
    # the exemption without a reason
    with pytest.raises(TransitionRefused, match="follow_up_or_reason"), app.session(as_user="mgr") as s:
        api.close(app, s, cid, now=h.at(WHEN))
    _refused(kehu_cli("--as", "mgr", "complaint", "close", str(cid)), "follow_up_or_reason")
    assert _state(app, cid) == before
    # both, and the review every formal complaint closes with
    review = (
        "--responsible",
        "仓库",
        "--penalty",
        "无",
        "--root-cause",
        "漏检",
        "--corrective-action",
        "复检",
    )
    closed = kehu_cli(
        "--as", "mgr", "complaint", "close", str(cid), "--reason", "客户失联", *review, "--json"
    )
    assert closed.exit_code == 0, closed.output
    assert (closed.json["status"], closed.json["close_reason"]) == ("closed", "客户失联")
    with app.session() as s:
        entry = audit.trail(s, entity="complaint", key=str(cid))[-1]
    assert (entry.actor, entry.action, entry.changes["status"]) == ("mgr", "closed", ["resolved", "closed"])
    assert "exempt" in entry.changes

    # a grievance (抱怨) needs only the reason; a followed-up complaint no exemption
    grievance = _resolved(app, h, kind="grievance")
    with app.session(as_user="wang") as s:
        assert api.close(app, s, grievance, reason="客户满意", now=h.at(WHEN)).status == "closed"
    followed = _resolved(app, h)
    _move(app, "wang", followed, "followed_up", h, changes={"satisfaction": "5"})
    review = {
        "responsible_party": "仓库",
        "penalty_note": "无",
        "root_cause": "质检漏检",
        "corrective_action": "加强出厂检验",
    }
    assert _move(app, "wang", followed, "closed", h, changes=review).status == "closed"


# -- complaints.handle, complaints.manage, settings.manage --------------------------------------


def test_handling_needs_complaints_handle(secured, h, kehu_cli):
    app = secured
    with app.session() as s:
        count = s.scalar(select(func.count()).select_from(COMPLAINTS))
    with pytest.raises(Forbidden, match=r"guest \(no role\) may not open complaints"):
        _open(app, "guest", "C1")
    _refused(
        kehu_cli("--as", "guest", "complaint", "open", "--customer", "C1", "--description", "x"),
        "complaints.handle",
    )
    c = _open(app, "li", "S1")
    assert c.customer_code == "S1"
    before = _state(app, c.id)
    with pytest.raises(Forbidden, match="complaints.handle"), app.session(as_user="guest") as s:
        api.add_note(app, s, c.id, None, "看看")
    for args in (
        ("move", str(c.id), "acknowledged"),
        ("assign", str(c.id), "--to", "guest"),
        ("severity", str(c.id), "high"),
        ("note", str(c.id), "看看"),
    ):
        _refused(kehu_cli("--as", "guest", "complaint", *args), "complaints.handle", "nothing was done")
    assert _state(app, c.id) == before
    with app.session() as s:
        assert s.scalar(select(func.count()).select_from(COMPLAINTS)) == count + 1
    # the salesperson handles their customer's complaint through the CLI
    for args in (
        ("move", str(c.id), "acknowledged"),
        ("assign", str(c.id), "--to", "li"),
        ("severity", str(c.id), "high"),
        ("note", str(c.id), "客户来电"),
    ):
        assert kehu_cli("--as", "li", "complaint", *args).exit_code == 0, args
    timeline = h.get(app, c.id).timeline
    assert {e.actor for e in timeline} == {"li"}


def test_a_user_acts_in_their_own_name(secured, h, kehu_cli):
    app = secured
    c = _open(app, "li", "S1")
    before = _state(app, c.id)
    with pytest.raises(Forbidden, match="li may not act as 'mgr'"), app.session(as_user="li") as s:
        api.move(app, s, c.id, "acknowledged", "mgr")
    assert _state(app, c.id) == before
    with app.session(as_user="li") as s:
        assert api.move(app, s, c.id, "acknowledged", "li").status == "acknowledged"
    assert "--by" not in kehu_cli("complaint", "move", "--help").output
    assert h.get(app, c.id).timeline[-1].actor == "li"


def test_teams_policies_and_calendar_need_complaints_manage(secured, kehu_cli):
    app = secured
    with app.session() as s:
        teams = s.scalar(select(func.count()).select_from(TEAMS))
    refused = r"wang \(service\) may not manage complaint teams"
    with pytest.raises(Forbidden, match=refused), app.session(as_user="wang") as s:
        save_team(s, "三组")
    for args in (
        ("team", "add", "三组"),
        ("team", "remove-member", "一组", "wang"),
        ("sla", "set", "vip", "--first-response", "30", "--resolution", "240"),
        ("sla", "recompute"),
        ("calendar", "set", "2025-10-11", "--day-off"),
    ):
        _refused(kehu_cli("--as", "wang", "complaint", *args), "complaints.manage", "nothing was done")
    with app.session() as s:
        assert s.scalar(select(func.count()).select_from(TEAMS)) == teams
    assert kehu_cli("--as", "mgr", "complaint", "team", "add", "三组", "--member", "wang").exit_code == 0
    assert kehu_cli("--as", "mgr", "complaint", "calendar", "set", "2025-10-11", "--day-off").exit_code == 0
    assert kehu_cli("--as", "mgr", "complaint", "sla", "recompute").exit_code == 0


def test_settings_need_settings_manage_and_are_audited(secured, kehu_cli):
    app = secured
    _refused(
        kehu_cli("--as", "mgr", "complaint", "settings", "approval_threshold", "1000"),
        "settings.manage",
        "nothing was done",
    )
    assert kehu_cli("--as", "mgr", "complaint", "settings", "--json").json["approval_threshold"] == "500.00"
    done = kehu_cli("--as", "boss", "complaint", "settings", "approval_threshold", "1000", "--json")
    assert done.exit_code == 0 and done.json["approval_threshold"] == "1000.00"
    with app.session() as s:
        entries = audit.trail(s, entity="setting", key="complaints.approval_threshold")
    assert [(e.actor, e.action, e.changes) for e in entries] == [
        ("boss", "set", {"approval_threshold": ["500.00", "1000.00"]})
    ]


# -- record rules -------------------------------------------------------------------------------


def test_a_service_user_sees_their_teams_complaints(secured, h, kehu_cli):
    app = secured
    ours = _open(app, "mgr", "C1", team="一组")
    theirs = _open(app, "mgr", "C2", team="二组")
    handled = _open(app, "mgr", "C2", team="二组", handler="wang")  # wang handles it: theirs too
    with app.session(as_user="wang") as s:
        assert {r.id for r in api.list_complaints(app, s)} == {ours.id, handled.id}
        assert api.get_complaint(app, s, ours.id).complaint.id == ours.id
        with pytest.raises(NotFound, match=f"no complaint #{theirs.id}"):
            api.get_complaint(app, s, theirs.id)
        with pytest.raises(NotFound, match=f"no complaint #{theirs.id}"):
            api.move(app, s, theirs.id, "acknowledged")
        assert api.report(app, s).total == 2
    with app.session(as_user="liu") as s:
        assert {r.id for r in api.list_complaints(app, s)} == {theirs.id, handled.id}
        assert api.report(app, s).total == 2
    with app.session(as_user="mgr") as s:
        assert api.report(app, s).total == 3

    listed = kehu_cli("--as", "wang", "complaint", "list", "--json")
    assert {r["id"] for r in listed.json} == {ours.id, handled.id}
    _refused(kehu_cli("--as", "wang", "complaint", "show", str(theirs.id)), f"no complaint #{theirs.id}")
    _refused(
        kehu_cli("--as", "wang", "complaint", "note", str(theirs.id), "看看"), f"no complaint #{theirs.id}"
    )
    assert kehu_cli("--as", "wang", "complaint", "report", "--json").json["total"] == 2
    sla = kehu_cli("--as", "wang", "complaint", "sla", "list", "--json").json
    assert sum(p["open"] for p in sla) == 2
    with app.session(as_user="wang") as s:
        section = profile_section(s, customers.get_customer(s, "C2"))
    assert [r["id"] for r in section.data["open_complaints"]] == [handled.id]
    assert section.data["total"] == 1
    # The list's column counts the complaints the clerk sees: C2 has two open, wang sees one.
    counted = kehu_cli("--as", "wang", "customer", "list", "--columns", "code,complaints_open", "--json")
    assert {r["code"]: r["complaints_open"] for r in counted.json}["C2"] == 1
    counted = kehu_cli("--as", "mgr", "customer", "list", "--columns", "code,complaints_open", "--json")
    assert {r["code"]: r["complaints_open"] for r in counted.json}["C2"] == 2
    assert h.get(app, theirs.id).complaint.status == "received"


def test_a_salesperson_sees_only_their_customers_complaints(secured, h, kehu_cli):
    app = secured
    mine = _open(app, "li", "S1")
    other = _open(app, "zhang", "S2")
    with pytest.raises(ValidationError, match="no customer with this code"):
        _open(app, "li", "S2")
    with app.session(as_user="li") as s:
        assert [r.id for r in api.list_complaints(app, s)] == [mine.id]
        assert api.list_complaints(app, s, api.ComplaintQuery(customer_code="S2")) == []
        with pytest.raises(NotFound):
            api.get_complaint(app, s, other.id)
        with pytest.raises(NotFound):
            api.assign(app, s, other.id, handler="li")
        assert api.report(app, s).total == 1
    for args in (("list", "--json"), ("list", "--customer", "S2", "--json"), ("report", "--json")):
        result = kehu_cli("--as", "li", "complaint", *args)
        assert result.exit_code == 0 and "S2" not in result.output and "张的客户" not in result.output
    _refused(kehu_cli("--as", "li", "complaint", "show", str(other.id)), f"no complaint #{other.id}")
    listed = kehu_cli("--as", "mgr", "complaint", "list", "--json").json
    assert {mine.id, other.id} <= {r["id"] for r in listed}


def test_every_change_is_audited_without_free_text(secured, h):
    app = secured
    c = _open(app, "li", "S1", severity="low")
    _move(app, "li", c.id, "acknowledged", h)
    _move(app, "li", c.id, "investigating", h)
    refund = {"solution": "退款并致歉", "compensation_amount": "800", "compensation_type": "refund"}
    _move(app, "li", c.id, "solution_proposed", h, changes=refund)
    with app.session(as_user="li") as s:
        api.regrade(app, s, c.id, "high")
        api.assign(app, s, c.id, handler="li")
    with app.session() as s:
        entries = audit.trail(s, entity="complaint", key=str(c.id))
        customer_id = s.scalar(select(AuditEntry.customer_id).where(AuditEntry.key == str(c.id)))
    assert [(e.actor, e.action) for e in entries] == [
        ("li", "opened"),
        ("li", "moved"),
        ("li", "moved"),
        ("li", "moved"),
        ("li", "regraded"),
        ("li", "assigned"),
    ]
    proposed = entries[3].changes
    assert proposed["status"] == ["investigating", "solution_proposed"]
    assert proposed["compensation_amount"] == [None, "800.00"]
    assert proposed["solution"] == "changed"
    assert "退款" not in str([e.changes for e in entries])
    assert entries[4].changes == {"severity": ["low", "high"]}
    assert entries[5].changes == {"handler": [None, "li"]}
    with app.session() as s:
        assert customer_id == customers.get_customer(s, "S1").id


def test_the_demo_approves_by_someone_else_in_a_database_with_users(kehu_app, kehu_install, kehu_cli):
    kehu_install("complaints")
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", roles=["admin"])
    demo = kehu_cli("--as", "boss", "demo", "--customers", "30", "--seed", "3")
    assert demo.exit_code == 0, demo.output
    with kehu_app.session() as s:
        approved = s.execute(
            select(COMPLAINTS.c.id, COMPLAINTS.c.handler, COMPLAINTS.c.approved_by).where(
                COMPLAINTS.c.approved_by.is_not(None)
            )
        ).all()
        assert approved
        for cid, handler, approver in approved:
            assert approver not in (handler, proposer_of(s, cid))
