"""The company plugin of docs/complaints.md ("a company plugin that reacts to a complaint closing")
works as the guide says. Its code is kept in ``example_acme_followups.py``, which must be the
guide's code block character for character, so neither can change without the other."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

from kehu_complaints import api, jobs
from kehu_complaints.models import HISTORY
from kehu_core import Manifest
from kehu_core.errors import KehuError
from kehu_core.interactions import InteractionQuery, list_interactions
from kehu_core.testing import module_from_file

EXAMPLE = Path(__file__).with_name("example_acme_followups.py")
GUIDE = Path(__file__).resolve().parents[3] / "docs" / "complaints.md"
REVIEW = {
    "responsible_party": "仓库",
    "penalty_note": "无",
    "root_cause": "出厂检验漏检",
    "corrective_action": "增加出厂抽检",
}


def _example() -> ModuleType:
    return module_from_file(EXAMPLE, "kehu_acme_followups.hooks")


@pytest.fixture
def acme(app, kehu_register_plugin):
    """The guide's plugin, registered and installed beside complaints."""
    kehu_register_plugin(
        _example(), "acme_followups", manifest=Manifest(version="1.0.0", depends=("complaints",))
    )
    return app


def _calls(app):
    with app.session() as s:
        return list_interactions(s, InteractionQuery(kind="call", status="planned", newest_first=False))


def _resolved(app, h, when="2025-03-03 10:00", **values):
    c = h.open_one(app, "2025-03-03 09:00", handler="刘洋", **values)
    h.walk(app, c.id, when, actor="刘洋", solution="免费换新")
    return c


def test_the_guide_shows_this_very_code():
    guide = GUIDE.read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```" in guide


def test_an_unhappy_close_plans_a_call_back_three_days_later(acme, h):
    unhappy = _resolved(acme, h)
    h.move(acme, unhappy.id, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "2"})
    h.move(acme, unhappy.id, "closed", "2025-03-04 11:00", changes=REVIEW)
    happy = _resolved(acme, h)
    h.move(acme, happy.id, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "5"})
    h.move(acme, happy.id, "closed", "2025-03-04 11:00", changes=REVIEW)
    [call] = _calls(acme)
    assert call.customer_code == "C1" and call.salesperson == "刘洋"
    assert call.occurred_at == h.at("2025-03-07 11:00").astimezone(UTC)
    assert call.note == f"回访: 投诉 #{unhappy.id} 已关闭，满意度 2"


def test_closing_again_after_a_reopen_plans_another_call_and_the_job_closes_too(acme, h):
    c = _resolved(acme, h, kind="grievance")
    with acme.session() as s:
        api.close(acme, s, c.id, "刘洋", reason="客户未接电话", now=h.at("2025-03-04 09:00"))
    h.move(acme, c.id, "reopened", "2025-03-05 09:00", reason="客户再次来电")
    for stage in ("investigating", "solution_proposed", "customer_agreed", "in_progress", "resolved"):
        h.move(acme, c.id, stage, "2025-03-05 10:00", changes={"solution": "免费换新"})
    with acme.session() as s:
        assert jobs.auto_close(acme, s, h.at("2025-03-20 09:00")).startswith("1 resolved complaint(s)")
    calls = _calls(acme)
    assert [call.occurred_at for call in calls] == [
        h.at("2025-03-07 09:00").astimezone(UTC),
        h.at("2025-03-23 09:00").astimezone(UTC),
    ]
    assert all("满意度 未知" in (call.note or "") for call in calls)


def test_a_critical_complaint_is_not_rejected_and_nothing_is_written(acme, h, kehu_cli):
    critical = h.open_one(acme, "2025-03-03 09:00", severity="critical")
    with acme.session() as s:
        entries = s.scalar(select(func.count()).select_from(HISTORY))
    with pytest.raises(KehuError, match="质量部"):
        h.move(acme, critical.id, "rejected", "2025-03-03 10:00", reason="不属实")
    refused = kehu_cli("complaint", "move", str(critical.id), "rejected", "--reason", "不属实")
    assert refused.exit_code == 1 and "is critical: it is not rejected" in refused.output
    assert "Traceback" not in refused.output
    assert h.get(acme, critical.id).complaint.status == "received"
    with acme.session() as s:
        assert s.scalar(select(func.count()).select_from(HISTORY)) == entries
    # a rejection is not a close with a call back, and other complaints may be rejected
    medium = h.open_one(acme, "2025-03-03 09:00")
    assert h.move(acme, medium.id, "rejected", "2025-03-03 10:00", reason="不属实").status == "rejected"
    assert _calls(acme) == [] and timedelta(days=3) == _example().CALL_BACK_AFTER
