"""Demo data: a team and complaints in every stage of the workflow, some overdue, some closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_complaints import sla
from kehu_complaints.handling import move
from kehu_complaints.jobs import escalate
from kehu_complaints.opening import open_complaint
from kehu_complaints.records import ComplaintQuery, list_complaints
from kehu_complaints.settings import load_settings, tier_method
from kehu_complaints.teams import save_team
from kehu_complaints.workflow import default_workflow
from kehu_core.access import SYSTEM, acting, bind
from kehu_core.app import Kehu
from kehu_core.hooktypes import DemoContext
from kehu_core.i18n import messages
from kehu_core.models import Customer

_ = messages("kehu_complaints").gettext

LEAD = "李娜"
MEMBERS = ("王芳", "刘洋", "陈静")
DESCRIPTIONS = {
    "quality": ("打印机频繁卡纸", "显示器有坏点", "硒鼓漏粉"),
    "delivery": ("送货晚了三天", "货物包装破损", "少发了两箱A4纸"),
    "service": ("客服电话没人接", "安装师傅态度差", "承诺回电却没有回电"),
    "billing": ("发票金额开错", "重复扣款", "折扣没有兑现"),
    "other": ("希望增加夜间服务", "对新政策有意见", "投诉处理太慢"),
}
#: The path to each stage, from received; the demo sends complaints along these.
HAPPY = (
    "acknowledged",
    "investigating",
    "solution_proposed",
    "approved",
    "customer_agreed",
    "in_progress",
    "resolved",
    "followed_up",
    "closed",
)
PATHS: dict[str, tuple[str, ...]] = {
    "received": (),
    **{stage: HAPPY[: i + 1] for i, stage in enumerate(HAPPY)},
    "awaiting_customer": ("acknowledged", "awaiting_customer"),
    "rejected": ("rejected",),
    "withdrawn": ("acknowledged", "withdrawn"),
    "reopened": (*HAPPY, "reopened"),
}


def _changes(stage: str, rng: Any, category: str) -> tuple[dict[str, Any], str | None]:
    if stage == "investigating":
        return {
            "responsible_party": rng.choice(("仓库", "物流商", "安装组", "财务部")),
            "responsible_department": rng.choice(("物流部", "售后部", "财务部")),
        }, None
    if stage == "solution_proposed":
        amount = rng.choice(("0.00", "200.00", "800.00", "1500.00"))
        kind = "replacement" if category == "quality" else rng.choice(("refund", "voucher", "repair"))
        return {
            "solution": rng.choice(("免费换新", "退还差价并致歉", "上门维修", "补发货物")),
            "compensation_amount": amount,
            "compensation_type": kind,
        }, None
    if stage == "followed_up":
        return {"satisfaction": rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 6, 6))[0]}, None
    if stage == "closed":
        return {
            "root_cause": "流程漏洞",
            "corrective_action": "修订作业规范并培训",
            "penalty_note": "责任人通报批评",
        }, None
    if stage in ("rejected", "withdrawn", "reopened"):
        return {}, {"rejected": "不属于本公司责任", "withdrawn": "客户自行解决", "reopened": "问题再次出现"}[
            stage
        ]
    return {}, None


def load_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Open complaints spread over the past months and move each along a path to a stage.

    Every fifth is a key account's (a customer whose tier a tier policy matches), when a tiering
    plugin has tiered the customers already (the manifest runs this after tiering's demo).

    The demo's people (the handlers, the lead who approves) are names, not users: it acts as
    kehu itself, which may record any name, so approvals are by someone other than the
    handler and the proposer whoever loads the demo (loading it needs ``plugins.manage``).
    """
    user = acting(session)
    bind(session, SYSTEM)
    try:
        _load(app, session, context)
    finally:
        bind(session, user)


def _load(app: Kehu, session: Session, context: DemoContext) -> None:
    rng, today = context.rng, context.today
    save_team(session, "客服一组", lead=LEAD, assignment="balanced", members=list(MEMBERS))
    ordered = select(Customer.id, Customer.code).order_by(Customer.id)
    rows = [(cid, code) for cid, code in session.execute(ordered)]
    if not rows:
        return
    customers = [code for _, code in rows]
    key_accounts = _key_accounts(app, session, rows)
    # The paths above walk the default workflow; a company's changes to it would break them.
    workflow = default_workflow()
    stages = list(PATHS)
    count = max(len(stages) * 2, min(400, context.customers // 3))
    for n in range(count):
        target = stages[n % len(stages)]
        category = rng.choice(tuple(DESCRIPTIONS))
        # Finished cases spread over months; running ones are recent, so only some are overdue.
        finished = target in ("resolved", "followed_up", "closed", "rejected", "withdrawn")
        opened = today - timedelta(
            days=rng.randint(0, 200) if finished else rng.randint(0, 4), hours=rng.randint(0, 8)
        )
        record = open_complaint(
            app,
            session,
            {
                # every fifth complaint is a key account's, when tiering has named some
                "customer_code": rng.choice(key_accounts if key_accounts and n % 5 == 0 else customers),
                "kind": rng.choice(("complaint", "complaint", "grievance")),
                "channel": rng.choice(("电话", "门店", "微信", "邮件")),
                "category": category,
                "severity": rng.choices(("low", "medium", "high", "critical"), weights=(2, 5, 2, 1))[0],
                "description": rng.choice(DESCRIPTIONS[category]),
                "wants": rng.sample(
                    ("fast_solution", "respect", "explanation", "compensation", "no_recurrence"), 2
                ),
                "team": "客服一组",
                "opened_at": opened,
            },
            actor="demo",
            now=opened,
        )
        when: datetime = opened
        for stage in PATHS[target]:
            when = min(today, when + timedelta(hours=rng.choice((1, 3, 6, 20, 30))))
            changes, reason = _changes(stage, rng, category)
            actor = LEAD if stage == "approved" else (record.handler or MEMBERS[0])
            move(
                app,
                session,
                record.id,
                stage,
                actor,
                changes=changes,
                reason=reason,
                now=when,
                workflow=workflow,
            )
    message = escalate(app, session, today)
    open_ = list_complaints(session, ComplaintQuery(open_only=True, limit=None), today)
    overdue = sum(1 for r in open_ if r.overdue(today))
    if key_accounts:
        summary = _(
            "complaints: {count} in every workflow stage ({open} open, {overdue} overdue; "
            "{key} of key accounts); {message}"
        )
    else:
        summary = _("complaints: {count} in every workflow stage ({open} open, {overdue} overdue); {message}")
    context.summary.append(
        summary.format(count=count, open=len(open_), overdue=overdue, key=(count + 4) // 5, message=message)
    )


def _key_accounts(app: Kehu, session: Session, customers: Sequence[tuple[int, str]]) -> list[str]:
    """Codes of the customers whose tier (as the SLA policies read it) a tier policy matches.

    Empty without a tiering plugin, or when it has tiered nobody yet.
    """
    tiered = {policy_tier for policy in sla.load_policies(session) for policy_tier in policy.tiers}
    tiers = sla.tiers_of(app, session, [cid for cid, _ in customers], tier_method(load_settings(session)))
    return [code for cid, code in customers if tiers.get(cid) in tiered]
