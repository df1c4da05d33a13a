"""The hook implementations of tiering: each one calls the public API or a domain module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from attrs import asdict
from sqlalchemy.orm import Session

from kehu_core import hookimpl
from kehu_core.app import Kehu
from kehu_core.choices import Vocabulary
from kehu_core.hooktypes import InteractionBatch, Job, ListColumn, ListFilter, ProfileSection
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer
from kehu_tiering import api
from kehu_tiering.aggregates import add_batch
from kehu_tiering.stats import RFM_SEGMENTS
from kehu_tiering.tiers import only_tier, tier_column
from kehu_tiering.vocab import ABC, BY_METHOD, DOMAIN, FLAG, PYRAMID, RFM, method_label, tier_label

_ = messages("kehu_tiering").gettext

JOB_NAME = "tiering.retier"
CONFLICT_TEXT = N_(
    "key account (大客户) and poor quality (劣质客户) at once: neither wins, review the customer"
)


@hookimpl
def kehu_interactions_recorded(session: Session, batch: InteractionBatch) -> None:
    """Keep the monthly purchase aggregates up to date, in the same transaction."""
    add_batch(session, batch)


@hookimpl
def kehu_customer_tiers(
    app: Kehu, session: Session, customer_ids: Sequence[int], method: str | None
) -> dict[int, str]:
    """The customers' tier (``method=None``: by the tier method, default the pyramid), or a segment."""
    return api.current_tiers(app, session, customer_ids, method)


#: The values the tier may take (``kehu_customer_tiers`` with ``method=None``): a class of the
#: pyramid, ABC or RFM, whichever the tier method is; never a flag.
TIERS = Vocabulary(DOMAIN, N_("tier"), [*PYRAMID.choices, *ABC.choices, *RFM.choices])


@hookimpl
def kehu_tier_names(method: str | None) -> Vocabulary | None:
    """The tiers (``method=None``), a method's classes, or the flags (``flags``, ``flag:NAME``),
    by code, label and Chinese name: ``主要客户``, ``major``, ``A类``, ``冠军客户``."""
    if method is None:
        return TIERS
    if method == "flags" or method.startswith("flag:"):
        return FLAG
    return BY_METHOD.get(method)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """The card's 客户分级 section: the tier, every method's class, flags, and why."""
    tiers = api.customer_tiers(session, customer.code)
    if not tiers.tiers and not tiers.flags:
        return []
    rows: list[tuple[str, str]] = [
        (
            _("tier"),
            _("{tier} ({method})").format(
                tier=tier_label(tiers.tier), method=method_label(tiers.tier_method)
            ),
        )
    ]
    for method, a in tiers.tiers.items():
        tier = tier_label(a.tier)
        if method == "rfm":
            m = a.metrics
            if m.get("r_score") is not None:
                tier += f" (R{m.get('r_score')} F{m.get('f_score')} M{m.get('m_score')})"
        if a.decided_by == method:
            text = _("{tier} since {since}").format(tier=tier, since=a.valid_from)
        else:
            text = _("{tier} since {since}, by rule {rule}").format(
                tier=tier, since=a.valid_from, rule=a.decided_by
            )
        rows.append((method_label(method), text))
        if method == "rfm" and a.tier in RFM_SEGMENTS:
            rows.append((_("segment"), _(RFM_SEGMENTS[a.tier])))
    rows.append((_("flags"), _(", ").join(tier_label(f.tier) for f in tiers.flags) or "-"))
    conflict = bool(api.flag_conflicts(session, customer.id))
    if conflict:
        rows.append((_("conflict"), _(CONFLICT_TEXT)))
    data = {
        "tier_method": tiers.tier_method,
        "tier": tiers.tier,
        "tiers": {
            m: {"tier": a.tier, "decided_by": a.decided_by, "since": a.valid_from.isoformat()}
            for m, a in tiers.tiers.items()
        },
        "flags": [f.tier for f in tiers.flags],
        "conflict": conflict,
    }
    return [ProfileSection(title=_("客户分级 Tier"), rows=rows, data=data, key="tiering", order=150)]


@hookimpl
def kehu_customer_list_columns() -> list[ListColumn]:
    """A ``tier`` column on ``kehu customer list`` (the tier method's class; sortable SQL): the
    code in ``--csv``/``--json``, its label in the user's language in the table."""
    return [ListColumn(name="tier", header=_("tier"), expression=tier_column, default=True, label=tier_label)]


@hookimpl
def kehu_customer_list_filters() -> list[ListFilter]:
    """``--filter tier=VIP`` (or ``tier=A``, ``tier=champions``, ``tier=key_account``)."""
    return [
        ListFilter(
            name="tier",
            metavar="TIER",
            help=_(
                "current tier, segment or flag, by code or name: VIP, 主要客户, 普通客户, 小客户, "
                "A/B/C, an RFM segment (champions, 冠军客户 ...), key_account (大客户), poor_quality "
                "(劣质客户), upgrade_potential (有升级潜力), late_payer (逾期付款), or `flag:NAME`"
            ),
            apply=only_tier,
        )
    ]


@hookimpl
def kehu_scheduled_jobs() -> list[Job]:
    """Re-tier every day with the settings of the newest run."""
    return [
        Job(
            name=JOB_NAME,
            interval=timedelta(days=1),
            run=api.retier,
            plugin="tiering",
            description=N_("re-tier every customer with the settings of the last `kehu tier run`"),
        )
    ]


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> dict[str, Any] | None:
    """The customer's whole tier history."""
    rows = api.tier_history(session, customer.code)
    return {"tiering": [asdict(r) for r in rows]} if rows else None


@hookimpl
def kehu_plugin_uninstalled(app: Kehu, session: Session, name: str) -> None:
    """A plugin whose tier rules or statistics took part in the runs is gone: derive the
    flags and classes again without them, so nothing it set outlives it."""
    info = app.plugins.infos.get(name)
    if info is not None and {"kehu_tier_rules", "kehu_tier_statistics"} & set(info.hooks):
        api.rederive_without(app, session, name)
