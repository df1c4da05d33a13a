"""Customer services: add, edit, look up, list and archive (forget and export: :mod:`kehu_core.privacy`).

Every function takes the app and an open session and returns attrs values; none prints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from attrs import define, evolve, field, frozen
from sqlalchemy import Select, String, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from kehu_core import audit, validation
from kehu_core import db as kehu_db
from kehu_core.access import Forbidden, acting, can_see_customer, customer_condition, require
from kehu_core.app import Kehu
from kehu_core.errors import KehuError, NotFound, Problem, ValidationError
from kehu_core.fields import CUSTOMER_FIELDS, REFUSED, parse_record, require_valid
from kehu_core.hooktypes import CustomerChange, ListColumn
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, CustomerTag
from kehu_core.types import utcnow
from kehu_core.vocab import CUSTOMER_KIND, CUSTOMER_SOURCE, MAX_CODE

_ = messages("kehu_core").gettext

#: Columns of ``customer list`` that come from the core, in display order.
CORE_LIST_COLUMNS = (
    "code",
    "name",
    "kind",
    "region",
    "industry",
    "size",
    "scale",
    "credit_limit",
    "owner",
    "source",
    "active",
)
DEFAULT_LIST_COLUMNS = ("code", "name", "region", "industry", "size", "owner")
#: ``customers.id`` as the SQL expression plugins' list columns are built on.
CUSTOMER_ID: ColumnElement[int] = Customer.id.expression
TEXT_COLUMNS = {"code", "name", "kind", "region", "industry", "size", "scale", "owner", "source"}


@frozen
class CustomerRecord:
    """A customer as the API returns it (plain values, ready for JSON)."""

    id: int
    code: str
    name: str
    kind: str
    region: str | None
    industry: str | None
    size: str | None
    scale: str | None
    credit_limit: Decimal | None
    owner: str | None
    source: str | None
    phone: str | None
    email: str | None
    birthday: date | None
    special_dates: dict[str, str]
    marketing_consent: bool
    tags: tuple[str, ...]
    attributes: dict[str, Any]
    active: bool
    forgotten: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerRecord:
        """Build from the ORM row."""
        return cls(
            id=customer.id,
            code=customer.code,
            name=customer.name,
            kind=customer.kind,
            region=customer.region,
            industry=customer.industry,
            size=customer.size,
            scale=customer.scale,
            credit_limit=customer.credit_limit,
            owner=customer.owner,
            source=customer.source,
            phone=customer.phone,
            email=customer.email,
            birthday=customer.birthday,
            special_dates=dict(customer.special_dates or {}),
            marketing_consent=customer.marketing_consent,
            tags=tuple(t.tag for t in customer.tags),
            attributes=dict(customer.attributes or {}),
            active=customer.active,
            forgotten=customer.forgotten_at is not None,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
        )


def get_customer(session: Session, code: str) -> Customer:
    """The customer with ``code`` (normalised as codes are stored: a pasted BOM or zero-width
    space does not hide it), or :class:`NotFound`, also when the acting user's record rules
    do not let them see it (its existence is not given away)."""
    require(session, "customer.read", N_("see customers"))
    try:
        wanted = validation.code(code, MAX_CODE)
    except validation.FieldError:
        wanted = code  # not a storable code, so no customer has it
    stmt = select(Customer).where(Customer.code == wanted)
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    customer = session.scalar(stmt)
    if customer is None:
        raise NotFound(_("no customer with code {code!r}").format(code=code))
    return customer


class Forgotten(KehuError):
    """The customer was forgotten: their personal data is erased and no new data is accepted."""


def require_not_forgotten(customer: Customer, refused: str = N_("it accepts no new personal data")) -> None:
    """Refuse with :class:`Forgotten` when ``customer`` was forgotten (``kehu customer forget``).

    Plugins call it before writing free text (notes, reasons) for a customer: erasure is
    final, and a forgotten customer accepts no new personal data. ``refused`` says what was
    refused, for the message (``_("it accepts no new personal data (the note)")``), in the
    current language (the core's own are marked ``N_`` and translated here).
    """
    if customer.forgotten_at is not None:
        raise Forgotten(
            _(
                "customer {code!r} was forgotten (personal data erased): {refused}; nothing was changed"
            ).format(code=customer.code, refused=_(refused))
        )


def _defaults(clean: dict[str, Any]) -> dict[str, Any]:
    clean.setdefault("kind", "company")
    clean["kind"] = clean["kind"] or "company"
    for key in ("special_dates", "attributes"):
        if clean.get(key) is None:
            clean[key] = {}
    if clean.get("marketing_consent") is None:
        clean["marketing_consent"] = False
    return clean


def _still_visible(session: Session, customer: Customer, doing: str) -> None:
    """Refuse a change after which the acting user could no longer see the customer (a
    salesperson giving a customer to someone outside their record rules); ``doing`` is
    ``add`` or ``move``."""
    if not can_see_customer(session, customer.id):
        message = (
            _(
                "{login} may not add customer {code!r} for another owner ({owner}): they would no "
                "longer see it; a manager can; nothing was saved"
            )
            if doing == "add"
            else _(
                "{login} may not move customer {code!r} for another owner ({owner}): they would no "
                "longer see it; a manager can; nothing was saved"
            )
        )
        raise Forbidden(
            message.format(login=acting(session).login, code=customer.code, owner=customer.owner or _("none"))
        )


def add_customer(app: Kehu, session: Session, values: Mapping[str, Any]) -> CustomerRecord:
    """Create a customer from field values (strings or typed); refuses a duplicate code.

    Needs permission ``customer.write``. A user whose record rules limit what they see owns
    the customers they add unless another owner is named (one they still see)."""
    actor = require(session, "customer.write", N_("add customers"))
    clean, problems = parse_record(CUSTOMER_FIELDS, values)
    require_valid(problems, "customer")
    clean = _defaults(clean)
    if clean.get("owner") is None and customer_condition(session) is not None:
        clean["owner"] = actor.login
    if session.scalar(select(Customer.id).where(Customer.code == clean["code"])) is not None:
        raise ValidationError(
            [Problem("code", _("already used by another customer"), value=clean["code"])],
            headline=_(REFUSED["customer"]),
        )
    tag_list = clean.pop("tags", None) or []
    now = utcnow()
    customer = Customer(**clean, active=True, created_at=now, updated_at=now)
    customer.tags = [CustomerTag(tag=t) for t in tag_list]
    session.add(customer)
    session.flush()
    _still_visible(session, customer, "add")
    audit.record(
        session,
        "customer",
        customer.code,
        "created",
        audit.changes_of({}, {k: v for k, v in clean.items() if v not in (None, {}, [])}),
        customer_id=customer.id,
    )
    app.hook.kehu_customers_changed(
        session=session, changes=[CustomerChange(customer.id, customer.code, "created", tuple(clean))]
    )
    return CustomerRecord.of(customer)


def edit_customer(app: Kehu, session: Session, code: str, values: Mapping[str, Any]) -> CustomerRecord:
    """Change the given fields of a customer; a blank value clears an optional field.

    Needs permission ``customer.write`` and a customer the acting user sees."""
    require(session, "customer.write", N_("edit customers"))
    customer = get_customer(session, code)
    require_not_forgotten(customer, N_("it cannot be edited"))
    clean, problems = parse_record(CUSTOMER_FIELDS, values, partial=True)
    require_valid(problems, "change")
    if "kind" in clean and clean["kind"] is None:
        clean["kind"] = "company"
    for key in ("special_dates", "attributes"):
        if key in clean and clean[key] is None:
            clean[key] = {}
    if "marketing_consent" in clean and clean["marketing_consent"] is None:
        clean["marketing_consent"] = False
    new_code = clean.get("code")
    if (
        new_code
        and new_code != customer.code
        and session.scalar(select(Customer.id).where(Customer.code == new_code)) is not None
    ):
        raise ValidationError(
            [Problem("code", _("already used by another customer"), value=new_code)],
            headline=_(REFUSED["change"]),
        )
    changed = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if "tags" in clean:
        wanted = clean.pop("tags") or []
        held = [t.tag for t in customer.tags]
        if wanted != held:
            customer.tags = [CustomerTag(tag=t) for t in wanted]
            changed.append("tags")
            before["tags"], after["tags"] = held, wanted
    for key, value in clean.items():
        if getattr(customer, key) != value:
            before[key], after[key] = getattr(customer, key), value
            setattr(customer, key, value)
            changed.append(key)
    if changed:
        customer.updated_at = utcnow()
        session.flush()
        _still_visible(session, customer, "move")
        audit.record(
            session,
            "customer",
            customer.code,
            "edited",
            audit.changes_of(before, after),
            customer_id=customer.id,
        )
        app.hook.kehu_customers_changed(
            session=session, changes=[CustomerChange(customer.id, customer.code, "updated", tuple(changed))]
        )
    return CustomerRecord.of(customer)


def archive_customer(app: Kehu, session: Session, code: str, *, restore: bool = False) -> CustomerRecord:
    """Archive a customer (hidden from lists by default, history kept), or restore one."""
    require(session, "customer.write", N_("archive customers") if not restore else N_("restore customers"))
    customer = get_customer(session, code)
    if restore:
        require_not_forgotten(customer, N_("it cannot be restored (erasure is final)"))
    if customer.active != restore:
        customer.active = restore
        customer.updated_at = utcnow()
        session.flush()
        action = "restored" if restore else "archived"
        audit.record(session, "customer", customer.code, action, customer_id=customer.id)
        app.hook.kehu_customers_changed(
            session=session, changes=[CustomerChange(customer.id, customer.code, action, ("active",))]
        )
    return CustomerRecord.of(customer)


@define
class CustomerQuery:
    """Filters and ordering for :func:`list_customers`."""

    region: str | None = None
    industry: str | None = None
    size: str | None = None
    owner: str | None = None
    #: ``person`` or ``company`` by any name (个人, 企业); an unknown one is a ``FieldError``.
    kind: str | None = None
    #: A source by any name (朋友介绍 → ``referral``); an unknown one is a ``FieldError``.
    source: str | None = None
    tag: str | None = None
    text: str | None = None
    include_archived: bool = False
    sort: str = "code"
    descending: bool = False
    limit: int | None = None
    offset: int = 0
    columns: Sequence[str] | None = None
    extra_filters: dict[str, str] = field(factory=dict)


@frozen
class CustomerList:
    """The result of :func:`list_customers`: column names and one mapping per customer."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    total: int


def list_columns(app: Kehu, session: Session) -> dict[str, ListColumn]:
    """Columns contributed by installed plugins to ``customer list``, for ``session``'s user."""
    return {c.name: c for cols in app.hook.kehu_customer_list_columns(session=session) for c in cols}


def _customer_select(
    app: Kehu, session: Session, query: CustomerQuery
) -> tuple[tuple[str, ...], Select[Any]]:
    """The columns and the one SQL statement of ``query``: plugin columns and filters, the
    acting user's record rules, the order, the limit."""
    require(session, "customer.read", N_("see customers"))
    extra_cols = list_columns(app, session)
    extra_filters = {f.name: f for fs in app.hook.kehu_customer_list_filters() for f in fs}
    if query.columns:
        unknown = [
            c for c in query.columns if c not in CORE_LIST_COLUMNS and c not in extra_cols and c != "tags"
        ]
        if unknown:
            available = ", ".join([*CORE_LIST_COLUMNS, "tags", *extra_cols])
            raise KehuError(
                _("unknown column(s): {unknown}; available: {available}").format(
                    unknown=", ".join(unknown), available=available
                )
            )
        columns = tuple(query.columns)
    else:
        columns = (*DEFAULT_LIST_COLUMNS, *(n for n, c in extra_cols.items() if c.default))
    sort = query.sort
    if sort not in CORE_LIST_COLUMNS and sort not in extra_cols and sort not in ("created_at", "updated_at"):
        choices = ", ".join([*CORE_LIST_COLUMNS, "created_at", "updated_at", *extra_cols])
        raise KehuError(
            _("cannot sort by {sort!r}; choose one of: {choices}").format(sort=sort, choices=choices)
        )

    selected = [getattr(Customer, c).label(c) for c in columns if c in CORE_LIST_COLUMNS]
    selected += [extra_cols[c].expression(CUSTOMER_ID).label(c) for c in columns if c in extra_cols]
    stmt = select(Customer.id.label("id"), *selected)
    conditions: list[ColumnElement[bool]] = []
    rule = customer_condition(session)
    if rule is not None:
        conditions.append(rule)
    if not query.include_archived:
        conditions.append(Customer.active.is_(True))
    for name in ("region", "industry", "size", "owner"):
        wanted = getattr(query, name)
        if wanted:
            conditions.append(getattr(Customer, name) == wanted)
    if query.kind:
        conditions.append(Customer.kind == CUSTOMER_KIND.parse(query.kind))
    if query.source:
        conditions.append(Customer.source == CUSTOMER_SOURCE.parse(query.source))
    if query.tag:
        conditions.append(
            Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag == query.tag))
        )
    if query.text:
        pattern = "%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                *(
                    c.like(pattern, escape="\\")
                    for c in (Customer.code, Customer.name, Customer.phone, Customer.email)
                )
            )
        )
    stmt = stmt.where(*conditions)
    for name, value in query.extra_filters.items():
        if name not in extra_filters:
            if not extra_filters:
                raise KehuError(
                    _(
                        "unknown filter {name!r}: no plugin loaded here adds a filter "
                        "(see `kehu plugins list`)"
                    ).format(name=name)
                )
            raise KehuError(
                _("unknown filter {name!r}; use one of: {filters}").format(
                    name=name, filters=", ".join(extra_filters)
                )
            )
        stmt = extra_filters[name].apply(stmt, value)

    if sort in extra_cols:
        key: Any = extra_cols[sort].expression(CUSTOMER_ID)
        if isinstance(getattr(key, "type", None), String):
            key = kehu_db.sortable(key, app.dialect)
    else:
        key = getattr(Customer, sort)
        if sort in TEXT_COLUMNS:
            key = kehu_db.sortable(key, app.dialect)
    key = key.desc() if query.descending else key.asc()
    # NULLs last either way, then code as the tie-breaker, so the order is total and stable.
    stmt = stmt.order_by(key.nulls_last(), Customer.code)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return columns, stmt


def _with_tags(session: Session, rows: list[dict[str, Any]]) -> None:
    """Fill each row's ``tags`` (comma-separated, sorted) with one query for the batch."""
    by_id: dict[int, list[str]] = {}
    for cid, tag in session.execute(
        select(CustomerTag.customer_id, CustomerTag.tag).where(
            CustomerTag.customer_id.in_([r["id"] for r in rows])
        )
    ):
        by_id.setdefault(cid, []).append(tag)
    for r in rows:
        r["tags"] = ",".join(sorted(by_id.get(r["id"], [])))


def iter_customers(
    app: Kehu, session: Session, query: CustomerQuery, batch: int = 2000
) -> tuple[tuple[str, ...], Iterator[dict[str, Any]]]:
    """The columns, and the customers matching ``query`` as they are read, ``batch`` at a time:
    for long lists (an export of every customer) memory stays that of one batch.

    The rows are read from ``session`` while the iterator is consumed: consume it inside the
    session's block. Same filters, rules and order as :func:`list_customers`."""
    columns, stmt = _customer_select(app, session, query)

    def rows() -> Iterator[dict[str, Any]]:
        result = session.execute(stmt, execution_options={"yield_per": batch}).mappings()
        for part in result.partitions():
            chunk = [dict(r) for r in part]
            if "tags" in columns and chunk:
                _with_tags(session, chunk)
            for r in chunk:
                yield {c: r.get(c) for c in columns}

    return columns, rows()


def count_customers(app: Kehu, session: Session, query: CustomerQuery) -> int:
    """How many customers match ``query``'s filters and the acting user's rules, ignoring its
    limit and offset."""
    unbounded = evolve(query, limit=None, offset=0)
    _columns, stmt = _customer_select(app, session, unbounded)
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def list_customers(app: Kehu, session: Session, query: CustomerQuery) -> CustomerList:
    """Customers matching ``query``, as one SQL query with plugin columns and filters; only
    those the acting user's record rules let them see; ``total`` ignores the limit."""
    columns, rows = iter_customers(app, session, query)
    listed = tuple(rows)
    total = count_customers(app, session, query) if (query.limit is not None or query.offset) else len(listed)
    return CustomerList(columns=columns, rows=listed, total=total)
