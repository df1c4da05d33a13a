"""How the judgement shows: the profile-card section, the list column and the list filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from kehu_acme_rules.criteria import FLAG, YES_NO
from kehu_acme_rules.flags import FLAGS, is_judged_key_account, judgement_of
from kehu_acme_rules.models import customer_flags
from kehu_core import ListColumn, ListFilter, ProfileSection
from kehu_core.choices import Vocabulary
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_core.validation import FieldError

_ = messages("kehu_acme_rules").gettext

#: After the core's sections (0-99) and before most plugins' (500).
SECTION_ORDER = 300


def profile_section(session: Session, customer_id: int) -> ProfileSection:
    """The "Key-account judgement" section; shows "not judged yet" until a salesperson sets it."""
    found = judgement_of(session, customer_id)
    title = _("Key-account judgement (ACME)")
    if found is None:
        return ProfileSection(
            title=title,
            key="acme_rules",
            order=SECTION_ORDER,
            rows=[(_("Judged"), _("not yet: `kehu acme set CODE --strategic-project ...`"))],
            data={"judged": False},
        )
    rows: list[tuple[str, Any]] = [(_(flag.label), found.flags[flag.name]) for flag in FLAGS]
    rows += [
        (_("Key account"), found.key_account),
        (_("Judged by"), found.judged_by or "-"),
        (_("Note"), found.note or "-"),
    ]
    return ProfileSection(
        title=title,
        key="acme_rules",
        order=SECTION_ORDER,
        rows=[(label, _yes_no(value)) for label, value in rows],
        data={"judged": True, **found.as_dict()},
    )


def _yes_no(value: Any) -> str:
    return YES_NO.label("yes" if value else "no") if isinstance(value, bool) else str(value)


def flags_text(customer_id: ColumnElement[int]) -> ColumnElement[Any]:
    """The short names of the flags set, comma-separated (``战略项目,影响力``), as SQL."""
    parts = [
        case((customer_flags.c[f.name].is_(True), literal(f.short + ",")), else_=literal("")) for f in FLAGS
    ]
    joined: ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        joined = joined.concat(part)
    trimmed = func.rtrim(joined, literal(","), type_=String)
    return (
        select(func.nullif(trimmed, literal(""), type_=String))
        .where(customer_flags.c.customer_id == customer_id)
        .scalar_subquery()
    )


def list_columns() -> list[ListColumn]:
    """The ``acme_flags`` column of ``kehu customer list``."""
    return [ListColumn(name="acme_flags", header=_("ACME flags"), expression=flags_text)]


def _parse(field: str, vocabulary: Vocabulary, value: str) -> str:
    """The code ``value`` names (``是``, ``影响力``), or the filter refused listing the accepted ones."""
    try:
        return vocabulary.parse(value)
    except FieldError:
        reason = _("must be one of {accepted}").format(accepted=vocabulary.accepted())
        raise ValidationError([Problem(field, reason, value=value)]) from None


def _key_filter(stmt: Select[Any], value: str) -> Select[Any]:
    wanted = _parse("acme_key", YES_NO, value)
    condition = is_judged_key_account(Customer.__table__.c.id)
    return stmt.where(condition if wanted == "yes" else ~condition)


def _flag_filter(stmt: Select[Any], value: str) -> Select[Any]:
    name = _parse("acme_flag", FLAG, value)
    return stmt.where(
        Customer.id.in_(select(customer_flags.c.customer_id).where(customer_flags.c[name].is_(True)))
    )


def list_filters() -> list[ListFilter]:
    """``acme_key=yes|no`` (judged a key account or not) and ``acme_flag=NAME``."""
    return [
        ListFilter(
            name="acme_key",
            help=_("yes (是): judged a key account on any ACME flag; no (否): not."),
            apply=_key_filter,
            metavar="yes|no",
        ),
        ListFilter(
            name="acme_flag",
            help=_("Only customers with this flag: {flags}.").format(flags=FLAG.accepted()),
            apply=_flag_filter,
            metavar="FLAG",
        ),
    ]
