"""SLA policies: which one applies, the due times it gives, and recomputing them when things change.

Rules that avoid the bugs other help desks shipped:

* The pause is kept as business seconds (only working-hour overlap counts), and added once to
  the target; it is never added as wall-clock time (erpnext#49414) nor lost (frappe/helpdesk#1554).
* Changing a policy, a complaint's tier or severity recomputes the due times of open
  complaints from the clock's start **plus the pause accumulated so far** (glpi#15605), and a
  breach mark whose new due time lies in the future is cleared (osTicket's stale overdue flag).
* Reopening restarts the resolution clock from the reopen time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from kehu_complaints.calendar import BusinessCalendar
from kehu_complaints.fields import DOMAIN, KIND, SEVERITY, policy_label
from kehu_complaints.models import COMPLAINTS, HISTORY, POLICIES
from kehu_complaints.security import MANAGE, visible
from kehu_complaints.settings import calendar_of, load_settings, tier_method
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.calendar import format_time
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import KehuError, Problem, ValidationError
from kehu_core.hooktypes import TierChange
from kehu_core.i18n import N_, messages
from kehu_core.types import utcnow
from kehu_core.validation import FieldError

_ = messages(DOMAIN).gettext

SEVERITIES = SEVERITY.codes
KINDS = KIND.codes
DEFAULT_POLICY = "default"


@frozen
class Policy:
    """An SLA policy as plain values."""

    name: str
    priority: int
    severities: tuple[str, ...]
    tiers: tuple[str, ...]
    kinds: tuple[str, ...]
    first_response_minutes: int
    resolution_minutes: int
    paused_stages: tuple[str, ...]
    active: bool = True

    @classmethod
    def of(cls, row: Row[Any]) -> Policy:
        """From a row of ``complaints_sla_policies``."""
        return cls(
            row.name,
            row.priority,
            tuple(row.severities or ()),
            tuple(row.tiers or ()),
            tuple(row.kinds or ()),
            row.first_response_minutes,
            row.resolution_minutes,
            tuple(row.paused_stages or ()),
            row.active,
        )

    def matches(self, severity: str, tier: str | None, kind: str) -> bool:
        """True when every non-empty condition holds."""
        return (
            (not self.severities or severity in self.severities)
            and (not self.tiers or (tier is not None and tier in self.tiers))
            and (not self.kinds or kind in self.kinds)
        )


#: Used only if every policy was deactivated, so a complaint always gets due times.
FALLBACK = Policy("builtin", 1_000_000, (), (), (), 480, 2400, ("awaiting_customer",))

#: Default policies (business minutes; an 8-hour working day). The complaint procedure (投诉处理程序)
#: says: call back at once (立刻回电).
DEFAULT_POLICIES: tuple[dict[str, Any], ...] = (
    dict(
        name="critical",
        priority=10,
        severities=["critical"],
        tiers=[],
        kinds=[],
        first_response_minutes=60,
        resolution_minutes=480,
        paused_stages=["awaiting_customer"],
        active=True,
    ),
    dict(
        name="key-account",
        priority=20,
        severities=[],
        tiers=["VIP", "主要客户", "A", "key_account"],
        kinds=[],
        first_response_minutes=120,
        resolution_minutes=960,
        paused_stages=["awaiting_customer"],
        active=True,
    ),
    dict(
        name="high",
        priority=30,
        severities=["high"],
        tiers=[],
        kinds=[],
        first_response_minutes=240,
        resolution_minutes=1440,
        paused_stages=["awaiting_customer"],
        active=True,
    ),
    dict(
        name=DEFAULT_POLICY,
        priority=1000,
        severities=[],
        tiers=[],
        kinds=[],
        first_response_minutes=480,
        resolution_minutes=2400,
        paused_stages=["awaiting_customer"],
        active=True,
    ),
)


def load_policies(session: Session) -> list[Policy]:
    """Active policies in the order they are tried (priority, then name)."""
    p = POLICIES.c
    rows = session.execute(select(POLICIES).where(p.active.is_(True)).order_by(p.priority, p.name))
    return [Policy.of(r) for r in rows]


def match_policy(policies: Sequence[Policy], severity: str, tier: str | None, kind: str) -> Policy:
    """The first policy that matches, else the fallback."""
    for policy in policies:
        if policy.matches(severity, tier, kind):
            return policy
    return FALLBACK


def due_times(
    calendar: BusinessCalendar,
    policy: Policy,
    opened_at: datetime,
    clock_started_at: datetime,
    paused_seconds: int,
) -> tuple[datetime, datetime]:
    """First-response and resolution due times: start + target + accumulated pause, in business time."""
    first = calendar.add(opened_at, policy.first_response_minutes * 60 + paused_seconds)
    resolution = calendar.add(clock_started_at, policy.resolution_minutes * 60 + paused_seconds)
    return first, resolution


def tiers_of(
    app: Kehu, session: Session, customer_ids: Sequence[int], method: str | None = None
) -> Mapping[int, str]:
    """Customers' tiers through ``kehu_customer_tiers``: THE tier for ``method=None``, else the
    segment by that method (empty when no plugin classifies customers).

    Callers pass :func:`~kehu_complaints.settings.tier_method` of the settings, so that opening,
    recomputing and the tier-change event all mean the same tier.
    """
    if not customer_ids:
        return {}
    found = app.hook.kehu_customer_tiers(session=session, customer_ids=list(customer_ids), method=method)
    return found or {}


def recompute_open(
    app: Kehu,
    session: Session,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    customer_ids: Sequence[int] | None = None,
    complaint_ids: Sequence[int] | None = None,
    reason: str | None = None,
    actor: str = "system",
    tiers: Mapping[int, str] | None = None,
) -> int:
    """Re-match the policy and recompute due times of open complaints (optionally of some customers).

    Keeps the accumulated pause; closes or opens a pause when the new policy pauses a
    different set of stages; clears breach marks whose new due time is in the future. Writes
    one history entry per complaint whose policy or due times changed. Returns how many.
    ``tiers`` overrides the tier lookup (a tier-change event already carries the new tiers).
    """
    c = COMPLAINTS.c
    stmt = select(
        c.id,
        c.customer_id,
        c.kind,
        c.severity,
        c.status,
        c.opened_at,
        c.clock_started_at,
        c.paused_since,
        c.paused_seconds,
        c.sla_policy,
        c.tier,
        c.first_response_at,
        c.first_response_due_at,
        c.resolution_due_at,
        c.first_response_breached_at,
        c.resolution_breached_at,
    ).where(c.closed_at.is_(None), c.resolved_at.is_(None))
    if customer_ids is not None:
        stmt = stmt.where(c.customer_id.in_(list(customer_ids)))
    if complaint_ids is not None:
        stmt = stmt.where(c.id.in_(list(complaint_ids)))
    rows = session.execute(stmt).mappings().all()
    if not rows:
        return 0
    policies = load_policies(session)
    if tiers is None:
        method = tier_method(load_settings(session))
        tiers = tiers_of(app, session, sorted({r["customer_id"] for r in rows}), method)
    updates, notes = [], []
    reason = reason or _("SLA policy changed")
    template = _("{reason}: policy {policy}, first response due {first_due}, resolution due {resolution_due}")
    for r in rows:
        tier = tiers.get(r["customer_id"])
        policy = match_policy(policies, r["severity"], tier, r["kind"])
        paused_since, paused_seconds = r["paused_since"], r["paused_seconds"]
        should_pause = r["status"] in policy.paused_stages
        if paused_since is not None and not should_pause:
            paused_seconds += calendar.business_seconds(paused_since, now)
            paused_since = None
        elif paused_since is None and should_pause:
            paused_since = now
        first, resolution = due_times(calendar, policy, r["opened_at"], r["clock_started_at"], paused_seconds)
        fr_breach = r["first_response_breached_at"]
        if fr_breach is not None and r["first_response_at"] is None and first > now:
            fr_breach = None
        res_breach = r["resolution_breached_at"]
        if res_breach is not None and resolution > now:
            res_breach = None
        new = dict(
            sla_policy=policy.name,
            tier=tier,
            paused_since=paused_since,
            paused_seconds=paused_seconds,
            first_response_due_at=first,
            resolution_due_at=resolution,
            first_response_breached_at=fr_breach,
            resolution_breached_at=res_breach,
        )
        if any(new[k] != r[k] for k in new):
            updates.append({"b_id": r["id"], **{f"v_{k}": v for k, v in new.items()}})
            notes.append(
                {
                    "complaint_id": r["id"],
                    "at": now,
                    "actor": actor,
                    "action": "sla",
                    "from_status": r["status"],
                    "to_status": r["status"],
                    "note": template.format(
                        reason=reason,
                        policy=policy_label(policy.name),
                        first_due=format_time(first),
                        resolution_due=format_time(resolution),
                    ),
                }
            )
    if updates:
        session.execute(
            update(COMPLAINTS)
            .where(c.id == bindparam("b_id"))
            .values({k[2:]: bindparam(k) for k in updates[0] if k != "b_id"}),
            updates,
        )
        session.execute(HISTORY.insert(), notes)
    return len(updates)


def follows(change: TierChange, method: str | None) -> bool:
    """True when SLA policies follow ``change``: a move of THE tier (``is_tier``) when ``method``
    is ``None``, else a move by that method. Any other segment's move changes no due time."""
    return change.is_tier if method is None else change.method == method


def recompute_for_tier_changes(app: Kehu, session: Session, changes: Sequence[TierChange]) -> int:
    """Recompute the open complaints of customers whose tier moved (the new tiers are the event's).

    A tiering run reports every method that moved, the tier and the segments alike; only the
    changes of the method the policies follow (:func:`follows`) count, so a customer whose RFM
    segment moved keeps their key-account SLA.
    """
    method = tier_method(load_settings(session))
    tiers = {c.customer_id: c.new_tier for c in changes if follows(c, method)}
    if not tiers:
        return 0
    return recompute_open(
        app,
        session,
        calendar_of(session),
        utcnow(),
        customer_ids=list(tiers),
        reason=_("customer tier changed"),
        tiers={k: v for k, v in tiers.items() if v},
    )


POLICY_FIELDS = (
    "priority",
    "severities",
    "tiers",
    "kinds",
    "first_response_minutes",
    "resolution_minutes",
    "paused_stages",
    "active",
)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    return [str(v) for v in value]


def _stage_vocabulary(stages: Sequence[str] | Vocabulary) -> Vocabulary:
    if isinstance(stages, Vocabulary):
        return stages
    return Vocabulary(DOMAIN, N_("stage"), [Choice(s, s) for s in stages])


def clean_policy(
    values: Mapping[str, Any], stages: Sequence[str] | Vocabulary
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse policy fields; a problem per bad field (unknown severity, kind, stage; bad minutes).

    Severities, kinds and stages are read by code or name (``紧急``, ``投诉``, ``等待客户``):
    ``stages`` is the workflow's vocabulary (:meth:`~kehu_complaints.workflow.Workflow.vocabulary`)
    or its codes. Tiers are the tiering plugin's codes, kept as given."""
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    vocabularies = {"severities": SEVERITY, "kinds": KIND, "paused_stages": _stage_vocabulary(stages)}
    for key, value in values.items():
        if key not in POLICY_FIELDS:
            problems.append(Problem(key, _("unknown policy field")))
            continue
        if key in ("severities", "tiers", "kinds", "paused_stages"):
            items = _list(value)
            vocabulary = vocabularies.get(key)
            if vocabulary is not None:
                parsed = []
                for item in items:
                    try:
                        parsed.append(vocabulary.parse(item))
                    except FieldError as exc:
                        problems.append(Problem(key, str(exc), value=item))
                items = list(dict.fromkeys(parsed))
            clean[key] = items
        elif key in ("priority", "first_response_minutes", "resolution_minutes"):
            try:
                number = int(value)
            except (TypeError, ValueError):
                problems.append(Problem(key, _("not a whole number"), value=str(value)))
                continue
            low = 0 if key == "priority" else 1
            if not low <= number <= 10_000_000:
                problems.append(
                    Problem(key, _("must be between {low} and 10000000").format(low=low), value=str(value))
                )
            clean[key] = number
        else:
            clean[key] = (
                bool(value)
                if not isinstance(value, str)
                else value.strip().lower() in {"1", "true", "yes", "on"}
            )
    return clean, problems


def save_policy(
    session: Session, name: str, values: Mapping[str, Any], stages: Sequence[str] | Vocabulary
) -> Policy:
    """Create or change a policy (the caller then recomputes open complaints).

    Needs permission ``complaints.manage``."""
    require(session, MANAGE, _("change SLA policies"))
    clean, problems = clean_policy(values, stages)
    if not name.strip() or len(name) > 100:
        problems.append(Problem("name", _("1 to 100 characters"), value=name))
    row = session.execute(select(POLICIES).where(POLICIES.c.name == name)).one_or_none()
    if row is None:
        for key in ("first_response_minutes", "resolution_minutes"):
            if key not in clean:
                problems.append(Problem(key, _("required for a new policy")))
    if row is not None and name == DEFAULT_POLICY:
        for key in ("severities", "tiers", "kinds"):
            if clean.get(key):
                problems.append(
                    Problem(key, _("the default policy matches every complaint; give it no conditions"))
                )
        if clean.get("active") is False:
            problems.append(Problem("active", _("the default policy cannot be deactivated")))
    if problems:
        raise ValidationError(
            problems, headline=_("policy '{name}' refused; nothing was changed:").format(name=name)
        )
    if row is None:
        new: dict[str, Any] = {
            "priority": 100,
            "severities": [],
            "tiers": [],
            "kinds": [],
            "paused_stages": ["awaiting_customer"],
            "active": True,
        }
        session.execute(insert(POLICIES).values(name=name, **(new | clean)))
    elif clean:
        session.execute(update(POLICIES).where(POLICIES.c.name == name).values(**clean))
    return Policy.of(session.execute(select(POLICIES).where(POLICIES.c.name == name)).one())


def delete_policy(session: Session, name: str) -> None:
    """Remove a policy; the default one stays. Needs permission ``complaints.manage``."""
    require(session, MANAGE, _("delete SLA policies"))
    if name == DEFAULT_POLICY:
        raise KehuError(_("the default policy cannot be deleted (change its targets instead)"))
    found = session.execute(delete(POLICIES).where(POLICIES.c.name == name).returning(POLICIES.c.id)).first()
    if found is None:
        raise KehuError(_("no SLA policy named '{name}'").format(name=name))


def policy_names_in_use(session: Session) -> dict[str, int]:
    """How many open complaints each policy governs, of those the acting user may see."""
    c = COMPLAINTS.c
    rows = session.execute(
        select(c.sla_policy, func.count())
        .where(c.closed_at.is_(None), c.resolved_at.is_(None), *visible(session))
        .group_by(c.sla_policy)
    )
    return {name or "-": count for name, count in rows}
