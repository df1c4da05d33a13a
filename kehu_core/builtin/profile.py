"""The core's sections of the profile card (the fields, the 6W1H1S summary and answers, customer
profit, the visit history), the interaction kinds of the profit statement, and the check of
imported 6W1H1S answers.

They are ``trylast`` hook implementations, so a plugin's own sections come first in the
call and can be ordered around them with ``ProfileSection.order``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import analysis, calendar
from kehu_core.app import Kehu
from kehu_core.errors import Problem, ValidationError
from kehu_core.hooktypes import CustomerChange, ProfileSection
from kehu_core.i18n import N_, messages
from kehu_core.markers import hookimpl
from kehu_core.models import Customer
from kehu_core.profile import MIN_PRICED, computed_sensitivity, summarize, visit_history
from kehu_core.profit import PROFIT_KINDS, SECTION_LABELS, label_of, profit_by_customer
from kehu_core.validation import FieldError
from kehu_core.vocab import CUSTOMER_KIND, CUSTOMER_SOURCE

_, ngettext = messages("kehu_core").functions()

#: The fields of the profile card (客户资料卡), in order, with their labels.
CARD_LABELS = (
    ("code", N_("Code")),
    ("name", N_("Name")),
    ("kind", N_("Kind")),
    ("region", N_("Region")),
    ("industry", N_("Industry")),
    ("size", N_("Size")),
    ("scale", N_("Scale")),
    ("credit_limit", N_("Credit limit")),
    ("owner", N_("Owner")),
    ("source", N_("Source")),
    ("phone", N_("Phone")),
    ("email", N_("E-mail")),
    ("birthday", N_("Birthday")),
    ("special_dates", N_("Special dates")),
    ("marketing_consent", N_("Marketing consent")),
)
#: Card fields whose value is a code, shown by its label.
_CODED = {"kind": CUSTOMER_KIND, "source": CUSTOMER_SOURCE}


def _fmt(value: Any) -> str:
    if value is None or value == "" or value == {}:
        return "-"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return calendar.format_time(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _shown(attr: str, value: Any) -> str:
    """A card field's value for people: a kind or source by its label."""
    if attr in _CODED and isinstance(value, str):
        return _CODED[attr].label(value)
    return _fmt(value)


def _answer(spec: analysis.AnalysisKey, value: str | None) -> str:
    """A recorded 6W1H1S answer for people: a level by its label."""
    if value is None:
        return "-"
    return analysis.LEVEL.label(value) if spec.parse is analysis.level else value


@hookimpl(trylast=True)
def kehu_profile_sections(app: Kehu, session: Session, customer: Customer) -> list[ProfileSection]:
    """Fields (order 0), summary (10), the recorded 6W1H1S answers with the computed
    sensitivity (11), customer profit over the last 365 local days (12), visit history (20)."""
    tags = ", ".join(t.tag for t in customer.tags)
    rows = [(_(label), _shown(attr, getattr(customer, attr))) for attr, label in CARD_LABELS]
    rows.append((_("Tags"), tags or "-"))
    rows += [(f"{key}", _fmt(value)) for key, value in (customer.attributes or {}).items()]
    status = _("forgotten") if customer.forgotten_at else (_("active") if customer.active else _("archived"))
    rows.append((_("Status"), status))
    fields = ProfileSection(
        title=_("Profile"),
        key="profile",
        order=0,
        rows=rows,
        data={attr: getattr(customer, attr) for attr, _label in CARD_LABELS}
        | {
            "tags": [t.tag for t in customer.tags],
            "attributes": dict(customer.attributes or {}),
            "active": customer.active,
            "forgotten": customer.forgotten_at is not None,
        },
    )

    s = summarize(session, customer.id)
    pairs = lambda items: ", ".join(f"{name} ({value})" for name, value in items) or "-"  # noqa: E731
    summary = ProfileSection(
        title=_("Summary 6W1H1S"),
        key="summary",
        order=10,
        rows=[
            (_("What they buy"), pairs(s.top_categories)),
            (_("Top products"), pairs(s.top_products)),
            (_("Channels"), pairs(s.channels)),
            (_("Buying months"), ", ".join(str(m) for m in s.buying_months) or "-"),
            (_("Last satisfaction"), _fmt(s.last_satisfaction)),
            (_("Revenue total"), str(s.total_revenue)),
            (_("Revenue 12 months"), str(s.revenue_12m)),
            (_("Purchases"), str(s.purchases)),
            (_("Days since last contact"), _fmt(s.days_since_last_contact)),
            (_("Next planned contact"), calendar.format_time(s.next_planned)),
        ],
        data={
            "top_categories": [[n, str(v)] for n, v in s.top_categories],
            "top_products": [[n, str(v)] for n, v in s.top_products],
            "channels": [list(c) for c in s.channels],
            "buying_months": list(s.buying_months),
            "last_satisfaction": s.last_satisfaction,
            "total_revenue": str(s.total_revenue),
            "revenue_12m": str(s.revenue_12m),
            "purchases": s.purchases,
            "last_contact": s.last_contact,
            "days_since_last_contact": s.days_since_last_contact,
            "next_planned": s.next_planned,
        },
    )

    history = visit_history(session, customer.id, customer.code)
    kinds = app.interaction_kind_vocabulary()
    visits = ProfileSection(
        title=_("Visit history"),
        key="history",
        order=20,
        rows=[
            (
                calendar.format_time(h.occurred_at),
                " ".join(
                    x
                    for x in (
                        kinds.label(h.kind),
                        h.channel or "",
                        str(h.amount) if h.amount is not None else "",
                        h.product or "",
                        h.note or "",
                    )
                    if x
                ),
            )
            for h in history
        ],
        data={
            "interactions": [
                {
                    "id": h.id,
                    "occurred_at": h.occurred_at,
                    "kind": h.kind,
                    "channel": h.channel,
                    "amount": h.amount,
                    "product": h.product,
                    "note": h.note,
                }
                for h in history
            ]
        },
    )
    return [
        fields,
        summary,
        _analysis_section(session, customer),
        _profit_section(app, session, customer),
        visits,
    ]


@hookimpl(trylast=True)
def kehu_interaction_kinds() -> Sequence[str]:
    """``resale``, ``support`` and ``expense``: the recorded lines of the customer-profit statement."""
    return PROFIT_KINDS


@hookimpl(trylast=True)
def kehu_customers_changed(session: Session, changes: Sequence[CustomerChange]) -> None:
    """Refuse 6W1H1S answers and markup rates that do not parse, however they were written (an
    import's ``attr:KEY`` columns bypass the field parser): one line naming customer and key."""
    ids = [c.customer_id for c in changes if "attributes" in c.changed_fields and c.action != "forgotten"]
    if not ids:
        return
    for code, attributes in session.execute(
        select(Customer.code, Customer.attributes).where(Customer.id.in_(ids)).order_by(Customer.code)
    ):
        try:
            analysis.check_attributes(attributes or {})
        except FieldError as exc:
            key, reason = (exc.key, exc.reason) if isinstance(exc, analysis.AnswerError) else ("", str(exc))
            where = _("customer {code}: attr:{key}").format(code=code, key=key)
            raise ValidationError([Problem(where, reason)]) from None


def _analysis_section(session: Session, customer: Customer) -> ProfileSection:
    answers = analysis.answers(customer.attributes)
    computed = computed_sensitivity(session, customer.id)
    rows = [
        (
            _("{question}: {label}").format(question=_(spec.question), label=_(spec.label)),
            _answer(spec, answers.get(spec.key)),
        )
        for spec in analysis.ANALYSIS_KEYS
    ]
    priced = computed.priced_purchases
    promotion = (
        ngettext(
            "{level} ({share} of quantity at a discount, {priced} priced purchase)",
            "{level} ({share} of quantity at a discount, {priced} priced purchases)",
            priced,
        ).format(
            level=analysis.LEVEL.label(computed.promotion),
            share=f"{computed.discount_share:.0%}",
            priced=priced,
        )
        if computed.promotion
        else ngettext(
            "- ({priced} priced purchase, {needed} needed)",
            "- ({priced} priced purchases, {needed} needed)",
            priced,
        ).format(priced=priced, needed=MIN_PRICED)
    )
    price = (
        ngettext(
            "{level} (bought less after {less} of {rises} price rise)",
            "{level} (bought less after {less} of {rises} price rises)",
            computed.price_rises,
        ).format(
            level=analysis.LEVEL.label(computed.price),
            less=computed.bought_less_after,
            rises=computed.price_rises,
        )
        if computed.price
        else _("- (no price rise between purchases of a product)")
    )
    rows += [(_("Computed: promotion sensitivity"), promotion), (_("Computed: price sensitivity"), price)]
    return ProfileSection(
        title=_("6W1H1S: who, how, why, sensitivity"),
        key="analysis",
        order=11,
        rows=rows,
        data={
            "recorded": answers,
            "computed": {
                "priced_purchases": computed.priced_purchases,
                "discount_share": None if computed.discount_share is None else str(computed.discount_share),
                "promotion": computed.promotion,
                "price_rises": computed.price_rises,
                "bought_less_after": computed.bought_less_after,
                "price": computed.price,
            },
        },
    )


def _profit_section(app: Kehu, session: Session, customer: Customer) -> ProfileSection:
    until = calendar.today()
    since = until - timedelta(days=364)
    found = profit_by_customer(app, session, since, until, customer_ids=[customer.id]).get(customer.id)
    rows: list[tuple[str, str]] = []
    data: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
    if found is not None:
        rows = [
            (_("Revenue"), str(found.revenue)),
            (
                _("Gross profit"),
                ngettext(
                    "{amount} ({count} purchase without cost)",
                    "{amount} ({count} purchases without cost)",
                    found.uncosted_purchases,
                ).format(amount=found.gross_profit, count=found.uncosted_purchases),
            ),
            (_("Given (rebates, rewards, support)"), str(found.given)),
            (_("Contribution"), str(found.contribution)),
        ]
        if found.lines:
            rows += [
                (
                    _("{section}: {item}").format(
                        section=_(SECTION_LABELS[line.section]), item=label_of(line.section, line.item)
                    ),
                    str(line.amount),
                )
                for line in found.lines
            ]
            rows.append((_("Customer profit"), str(found.customer_profit)))
        data |= {
            "revenue": str(found.revenue),
            "gross_profit": str(found.gross_profit),
            "given": str(found.given),
            "contribution": str(found.contribution),
            "customer_profit": str(found.customer_profit),
        }
    return ProfileSection(
        title=_("Customer profit, {since} to {until}").format(since=since, until=until),
        key="profit",
        order=12,
        rows=rows or [("-", _("no purchase or profit record in the period"))],
        data=data,
    )
