"""What tiering adds to the rest of kehu: profile section, list column and filter, job, export, demo."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kehu_core.app import Kehu
    from kehu_core.hooktypes import DemoContext, Job, ListColumn, ListFilter, ProfileSection
    from kehu_core.models import Customer

JOB_NAME = "tiering.retier"


def app_for_session(session: Session) -> Kehu:
    """An app on the session's engine, for hooks that get a session only (jobs, demo data)."""
    from kehu_core.app import Kehu
    from kehu_core.plugins import discover

    app = Kehu(engine=session.get_bind(), plugins=discover(strict=False))
    app.installed(session)  # read on this connection: SQLite's write lock is ours
    return app


def profile_section(session: Session, customer: Customer) -> ProfileSection | None:
    """客户分级 on the profile card: the primary tier, every method's, flags, and why."""
    from kehu_core.hooktypes import ProfileSection
    from kehu_tiering.queries import show

    tiers = show(session, customer.code)
    if not tiers.tiers and not tiers.flags:
        return None
    rows: list[tuple[str, str]] = [("tier", f"{tiers.tier or '-'} ({tiers.primary})")]
    for method, a in tiers.tiers.items():
        extra = ""
        if method == "rfm":
            m = a.metrics
            extra = f" (R{m.get('r_score')} F{m.get('f_score')} M{m.get('m_score')})"
        reason = "" if a.decided_by == method else f", by rule {a.decided_by}"
        rows.append((method, f"{a.tier}{extra} since {a.valid_from}{reason}"))
    rows.append(("flags", ", ".join(f.tier for f in tiers.flags) or "-"))
    data = {
        "primary": tiers.primary,
        "tier": tiers.tier,
        "tiers": {
            m: {"tier": a.tier, "decided_by": a.decided_by, "since": a.valid_from.isoformat()}
            for m, a in tiers.tiers.items()
        },
        "flags": [f.tier for f in tiers.flags],
    }
    return ProfileSection(title="客户分级 Tier", rows=rows, data=data, key="tiering", order=150)


def list_columns() -> list[ListColumn]:
    """``tier``: the primary tier (by the newest run's primary method)."""
    from kehu_core.hooktypes import ListColumn

    def expression(customer_id: Any) -> Any:
        from sqlalchemy import func, select

        from kehu_tiering.models import assignments, runs
        from kehu_tiering.queries import DEFAULT_PRIMARY

        primary = func.coalesce(
            select(runs.c.settings["primary"].as_string())
            .order_by(runs.c.id.desc())
            .limit(1)
            .scalar_subquery(),
            DEFAULT_PRIMARY,
        )
        a = assignments.c
        return (
            select(a.tier)
            .where(a.customer_id == customer_id, a.valid_to.is_(None), a.method == primary)
            .limit(1)
            .scalar_subquery()
        )

    return [ListColumn(name="tier", header="tier", expression=expression, default=True)]


def list_filters() -> list[ListFilter]:
    """``tier=VALUE``: customers whose current tier by any method, or flag, is VALUE."""
    from kehu_core.hooktypes import ListFilter

    def apply(stmt: Any, value: str) -> Any:
        from sqlalchemy import select

        from kehu_core.models import Customer
        from kehu_tiering.models import assignments
        from kehu_tiering.settings import PYRAMID_ALIASES

        wanted = PYRAMID_ALIASES.get(value.strip().lower(), value.strip())
        a = assignments.c
        return stmt.where(
            Customer.id.in_(select(a.customer_id).where(a.valid_to.is_(None), a.tier == wanted))
        )

    return [
        ListFilter(
            name="tier",
            metavar="TIER",
            help="current tier or flag: VIP, 主要客户 (major), 普通客户 (ordinary), 小客户 (small), "
            "A/B/C, an RFM segment, or key_account / poor_quality / upgrade_potential",
            apply=apply,
        )
    ]


def retier(session: Session, now: datetime) -> str:
    """The scheduled job: run again with the newest run's settings, as of today."""
    from kehu_tiering.engine import run
    from kehu_tiering.queries import last_settings
    from kehu_tiering.settings import make_settings

    settings = last_settings(session)
    settings = settings.with_as_of(now.date()) if settings else make_settings(as_of=now.date())
    result = run(app_for_session(session), session, settings, source="job")
    return f"tiered {result.customers} customers as of {result.as_of}: {result.written} changed, {result.moved} tier moves"


def jobs() -> list[Job]:
    """Re-tier once a day."""
    from kehu_core.hooktypes import Job

    return [
        Job(
            name=JOB_NAME,
            interval=timedelta(days=1),
            run=retier,
            plugin="tiering",
            description="re-tier every customer with the settings of the last `kehu tier run`",
        )
    ]


def export(session: Session, customer: Customer) -> dict[str, Any] | None:
    """The customer's whole tier history."""
    from attrs import asdict

    from kehu_tiering.queries import history

    rows = history(session, customer.code)
    return {"tiering": [asdict(r) for r in rows]} if rows else None


#: Demo customers a salesperson flagged as key accounts (by rank of their code, deterministic).
DEMO_FLAGS = (("strategic",), ("influence", "market"), ("technology",))


def demo(session: Session, context: DemoContext) -> None:
    """Flag a few small customers as key accounts by judgement, tier everyone, summarise."""
    from sqlalchemy import select

    from kehu_core.models import Customer
    from kehu_tiering.engine import run
    from kehu_tiering.report import build_report
    from kehu_tiering.settings import make_settings

    customers = list(
        session.scalars(select(Customer).where(Customer.active.is_(True)).order_by(Customer.code))
    )
    picks = context.rng.sample(
        customers[len(customers) // 2 :], k=min(len(DEMO_FLAGS), max(0, len(customers) // 2))
    )
    for customer, flags in zip(picks, DEMO_FLAGS):
        customer.attributes = {**(customer.attributes or {}), "key_account_flags": list(flags)}
    session.flush()
    app = app_for_session(session)
    settings = make_settings(as_of=context.today.date())
    result = run(app, session, settings, source="demo")
    report = build_report(session, app.dialect)
    pyramid = result.counts.get("pyramid", {})
    flags = {m.split(":", 1)[1]: sum(v.values()) for m, v in result.counts.items() if m.startswith("flag:")}
    context.summary.append(
        "tiers (pyramid): "
        + ", ".join(f"{t} {pyramid.get(t, 0)}" for t in ("VIP", "主要客户", "普通客户", "小客户"))
    )
    context.summary.append(
        "flags: " + ", ".join(f"{k} {v}" for k, v in sorted(flags.items())) + "  (kehu tier report)"
    )
    if report.pareto:
        context.summary.append(
            f"tiering 80/20 check: top 20% of customers bring {report.pareto.top20_share_pct}% of revenue"
        )
