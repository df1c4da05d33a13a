"""Opening complaints: by hand (``kehu complaint open``) or from ``complaint`` interactions.

A complaint opened here is also recorded as a ``complaint`` interaction, whose ``external_ref``
starts with ``complaint:`` so the plugin's own interaction hook does not open it a second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from kehu_complaints import events, history, sla
from kehu_complaints.fields import CATEGORY, DOMAIN, KIND, OPEN_FIELDS, SEVERITY, policy_label
from kehu_complaints.handling import assign_opened
from kehu_complaints.models import COMPLAINTS
from kehu_complaints.records import ComplaintRecord, get_complaint, load_record
from kehu_complaints.security import HANDLE, MANAGE, actor_name
from kehu_complaints.settings import calendar_of, load_settings, tier_method
from kehu_complaints.teams import team_named
from kehu_core import audit
from kehu_core.access import Forbidden, customer_condition, require
from kehu_core.app import Kehu
from kehu_core.calendar import format_time
from kehu_core.errors import Problem, ValidationError
from kehu_core.fields import parse_record, require_valid
from kehu_core.i18n import N_, messages
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer, Interaction
from kehu_core.types import utcnow
from kehu_core.validation import FieldError

_ = messages(DOMAIN).gettext

#: The prefix of the external reference of the interaction a complaint records.
INTERACTION_REF = "complaint:"
REFUSED = N_("complaint refused; nothing was changed:")


def open_complaint(
    app: Kehu,
    session: Session,
    values: Mapping[str, Any],
    actor: str | None = None,
    now: datetime | None = None,
) -> ComplaintRecord:
    """Record a new grievance or complaint, compute its due times, assign it, and log the interaction.

    Needs permission ``complaints.handle``; a customer the acting user may not see is "no
    customer with this code". ``actor``: ``None`` for the session's user."""
    now = now or utcnow()
    require(session, HANDLE, _("open complaints"))
    actor = actor_name(session, actor)
    clean, problems = parse_record(OPEN_FIELDS, values)
    require_valid(problems, "complaint")
    lookup = select(Customer).where(Customer.code == clean["customer_code"])
    rule = customer_condition(session)
    if rule is not None:
        lookup = lookup.where(rule)
    customer = session.scalar(lookup)
    if customer is None or customer.forgotten_at is not None:
        reason = _("no customer with this code") if customer is None else _("this customer was forgotten")
        raise ValidationError(
            [Problem("customer_code", reason, value=clean["customer_code"])], headline=_(REFUSED)
        )
    opened_at = clean.get("opened_at") or now
    if opened_at > now:
        raise ValidationError(
            [Problem("opened_at", _("is in the future"), value=format_time(opened_at))], headline=_(REFUSED)
        )
    team = team_named(session, clean.get("team"))
    base = dict(
        customer_id=customer.id,
        kind=clean.get("kind") or "complaint",
        channel=clean.get("channel"),
        category=clean.get("category") or "other",
        severity=clean.get("severity") or "medium",
        description=clean["description"],
        wants=clean.get("wants") or [],
        handler=clean.get("handler"),
        team_id=team.id if team else None,
        responsible_party=clean.get("responsible_party"),
        responsible_department=clean.get("responsible_department"),
        opened_at=opened_at,
    )
    ids = insert_complaints(app, session, [base], actor=actor, now=now, note=_("opened"))
    complaint = get_complaint(session, ids[0], everything=True)
    if complaint.handler is None and team is not None and team.assignment != "manual":
        assign_opened(app, session, complaint.id, actor, team.name, now)
        complaint = get_complaint(session, complaint.id, everything=True)
    interaction_id = record_interaction(
        app,
        session,
        dict(
            customer_id=customer.id,
            kind="complaint",
            occurred_at=opened_at,
            channel=complaint.channel,
            salesperson=complaint.handler,
            note=complaint.description,
            external_ref=f"{INTERACTION_REF}{complaint.id}",
        ),
    )
    session.execute(
        update(COMPLAINTS).where(COMPLAINTS.c.id == complaint.id).values(interaction_id=interaction_id)
    )
    events.opened(app, session, [complaint.id])
    return load_record(session, complaint.id)


def record_interaction(app: Kehu, session: Session, row: dict[str, Any]) -> int:
    """Record the ``complaint`` interaction of a complaint opened here; returns its id."""
    written = write_interactions(app, session, [row], source="complaints")
    return int(written[0]["id"])


def open_from_interactions(
    app: Kehu, session: Session, rows: Sequence[Mapping[str, Any]], source: str
) -> list[int]:
    """Open one complaint per ``complaint`` interaction (once: the interaction id is unique).

    Interactions this plugin recorded itself (``external_ref`` ``complaint:...``) and planned
    ones are skipped. Returns the ids of the complaints opened.
    """
    rows = [
        r
        for r in rows
        if r.get("status", "done") == "done"
        and not str(r.get("external_ref") or "").startswith(INTERACTION_REF)
    ]
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    already = set(
        session.scalars(
            select(COMPLAINTS.c.source_interaction_id).where(COMPLAINTS.c.source_interaction_id.in_(ids))
        )
    )
    new = []
    for r in rows:
        if r["id"] in already:
            continue
        try:
            category = CATEGORY.parse(r.get("category") or "other")
        except FieldError:
            category = "other"
        new.append(
            dict(
                customer_id=r["customer_id"],
                kind="complaint",
                channel=r.get("channel"),
                category=category,
                severity="medium",
                description=r.get("note"),
                handler=r.get("salesperson"),
                opened_at=r["occurred_at"],
                source_interaction_id=r["id"],
                interaction_id=r["id"],
            )
        )
    opened = insert_complaints(
        app,
        session,
        new,
        actor=history.SYSTEM,
        now=utcnow(),
        note=_("opened from a complaint interaction ({source})").format(source=source),
    )
    events.opened(app, session, opened)
    return opened


#: Complaint interactions read per batch by :func:`catch_up`.
CATCH_UP_CHUNK = 5000


def catch_up(app: Kehu, session: Session, since: datetime | None = None) -> tuple[int, int]:
    """Open the complaints of ``complaint`` interactions that have none: those written while
    the plugin was not loaded (``kehu --without-plugin complaints ...``).

    Exactly what the ``kehu_interactions_recorded`` hook would have done, oldest first
    (:func:`open_from_interactions`: done interactions not recorded by this plugin; a complaint
    is opened at the interaction's time, so its SLA clock started then). An interaction with a
    complaint is left alone, so running it again changes nothing; forgotten customers'
    interactions are skipped. ``since``: only interactions from then on. Needs
    ``complaints.manage`` and a user who sees every customer. Returns (interactions without a
    complaint, complaints opened).
    """
    actor = require(session, MANAGE, _("open the complaints of complaint interactions"))
    if customer_condition(session) is not None:
        raise Forbidden(
            _(
                "{login} may not open the complaints of every customer's complaint interactions: "
                "{login}'s record rules hide some customers; ask a manager; nothing was done"
            ).format(login=actor.login)
        )
    i = Interaction.__table__
    c = COMPLAINTS.c
    stmt = (
        select(
            i.c.id,
            i.c.customer_id,
            i.c.kind,
            i.c.status,
            i.c.occurred_at,
            i.c.channel,
            i.c.category,
            i.c.note,
            i.c.salesperson,
            i.c.external_ref,
        )
        .join(Customer, Customer.id == i.c.customer_id)
        .where(
            i.c.kind == "complaint",
            i.c.status == "done",
            Customer.forgotten_at.is_(None),
            ~exists().where((c.source_interaction_id == i.c.id) | (c.interaction_id == i.c.id)),
        )
        .order_by(i.c.occurred_at, i.c.id)
    )
    if since is not None:
        stmt = stmt.where(i.c.occurred_at >= since)
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    opened = 0
    for start in range(0, len(rows), CATCH_UP_CHUNK):
        opened += len(open_from_interactions(app, session, rows[start : start + CATCH_UP_CHUNK], "backfill"))
    return len(rows), opened


def _insert_rows(session: Session, prepared: list[dict[str, Any]]) -> list[int]:
    """Insert complaint rows; their ids in order.

    A batch opened from interactions is one executemany, and the ids come back through the
    unique ``source_interaction_id`` (portable, unlike ordered RETURNING from executemany).
    """
    sources = [r["source_interaction_id"] for r in prepared]
    if len(prepared) == 1 or None in sources:
        return [
            session.execute(COMPLAINTS.insert().values(**r).returning(COMPLAINTS.c.id)).scalar_one()
            for r in prepared
        ]
    session.execute(COMPLAINTS.insert(), prepared)
    found: dict[int, int] = {
        source: complaint_id
        for source, complaint_id in session.execute(
            select(COMPLAINTS.c.source_interaction_id, COMPLAINTS.c.id).where(
                COMPLAINTS.c.source_interaction_id.in_(sources)
            )
        )
    }
    return [found[source] for source in sources]


def insert_complaints(
    app: Kehu, session: Session, rows: Sequence[dict[str, Any]], *, actor: str, now: datetime, note: str
) -> list[int]:
    """Insert complaints set-based with their SLA policy and due times; append an 'opened' entry each."""
    if not rows:
        return []
    settings = load_settings(session)
    calendar = calendar_of(session, settings)
    policies = sla.load_policies(session)
    tiers = sla.tiers_of(app, session, sorted({r["customer_id"] for r in rows}), tier_method(settings))
    prepared = []
    for r in rows:
        tier = tiers.get(r["customer_id"])
        policy = sla.match_policy(policies, r["severity"], tier, r["kind"])
        first, resolution = sla.due_times(calendar, policy, r["opened_at"], r["opened_at"], 0)
        prepared.append(
            {
                "channel": None,
                "description": None,
                "wants": [],
                "handler": None,
                "team_id": None,
                "responsible_party": None,
                "responsible_department": None,
                "source_interaction_id": None,
                **r,
                "status": "received",
                "clock_started_at": r["opened_at"],
                "sla_policy": policy.name,
                "tier": tier,
                "first_response_due_at": first,
                "resolution_due_at": resolution,
                "paused_seconds": 0,
                "reopen_count": 0,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    ids = _insert_rows(session, prepared)
    with_handler = _("{note}: {kind} {category}/{severity}, policy {policy}, handler {handler}")
    without_handler = _("{note}: {kind} {category}/{severity}, policy {policy}")
    for complaint_id, r in zip(ids, prepared):
        audit.record(
            session,
            "complaint",
            str(complaint_id),
            "opened",
            {
                "status": [None, "received"],
                **{k: [None, r[k]] for k in ("kind", "category", "severity", "handler") if r[k] is not None},
            },
            customer_id=r["customer_id"],
        )
    history.append(
        session,
        [
            dict(
                complaint_id=i,
                at=r["opened_at"],
                actor=actor,
                action="opened",
                from_status=None,
                to_status="received",
                note=(with_handler if r["handler"] else without_handler).format(
                    note=note,
                    kind=KIND.label(r["kind"]),
                    category=CATEGORY.label(r["category"]),
                    severity=SEVERITY.label(r["severity"]),
                    policy=policy_label(r["sla_policy"]),
                    handler=r["handler"],
                ),
            )
            for i, r in zip(ids, prepared)
        ],
    )
    return ids
