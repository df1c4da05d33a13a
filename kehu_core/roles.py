"""The company's roles and grants (``kehu roles``): which role may do what, and who declared it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen
from sqlalchemy import delete
from sqlalchemy.orm import Session

from kehu_core import audit
from kehu_core.access import require, role_changes, role_holds, security_in
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.models import MAX_NAME, Role, RoleGrant
from kehu_core.security import RoleDeclaration
from kehu_core.types import utcnow

if TYPE_CHECKING:
    from kehu_core.app import Kehu

_ = messages("kehu_core").gettext


@frozen
class RoleSummary:
    """A role, who declared it, the roles it implies, and the permissions it holds now
    (its own: an implied role's come with that role)."""

    name: str
    description: str
    plugin: str
    permissions: tuple[str, ...]
    implies: tuple[str, ...] = ()


@frozen
class PermissionSummary:
    """A permission, who declared it, and the roles holding it now (``how``: default or granted)."""

    name: str
    description: str
    plugin: str
    roles: tuple[str, ...]


@frozen
class RoleTable:
    """Everything ``kehu roles`` shows."""

    roles: tuple[RoleSummary, ...]
    permissions: tuple[PermissionSummary, ...]


def role_table(app: Kehu, session: Session) -> RoleTable:
    """Every role and permission, with the plugin that declared it and who holds what now."""
    security = security_in(app, session)
    changes = role_changes(session)
    holders = {
        name: [role for role in security.roles if role_holds(security, changes, role, name)]
        for name in security.permissions
    }
    summaries = tuple(
        RoleSummary(
            name,
            app.declared_text(d.plugin, d.item.description),
            d.plugin,
            tuple(p for p, held in holders.items() if name in held),
            tuple(d.item.implies),
        )
        for name, d in security.roles.items()
    )
    permissions = tuple(
        PermissionSummary(
            name, app.declared_text(d.plugin, d.item.description), d.plugin, tuple(holders[name])
        )
        for name, d in sorted(security.permissions.items())
    )
    return RoleTable(summaries, permissions)


def add_role(app: Kehu, session: Session, name: str, description: str = "") -> RoleSummary:
    """Add a company role; give it permissions with :func:`grant`."""
    require(session, "users.manage", N_("add roles"))
    try:
        declared = RoleDeclaration(name.strip(), description.strip())
    except ValueError as exc:
        raise KehuError(_("{reason}; nothing was saved").format(reason=exc)) from None
    if len(declared.description) > MAX_NAME:
        raise KehuError(
            _("the description is longer than {most} characters; nothing was saved").format(most=MAX_NAME)
        )
    if declared.name in security_in(app, session).roles:
        raise KehuError(_("role {role!r} exists already; nothing was saved").format(role=declared.name))
    session.add(Role(name=declared.name, description=declared.description, created_at=utcnow()))
    audit.record(session, "role", declared.name, "created", {"description": declared.description})
    session.flush()
    session.info.pop("kehu_security", None)  # read again with the new role
    return RoleSummary(declared.name, declared.description, "company", ())


def _check(app: Kehu, session: Session, role: str, permission: str) -> bool:
    security = security_in(app, session)
    if role not in security.roles:
        raise KehuError(_("no role {role!r}; see `kehu roles`; nothing was saved").format(role=role))
    if permission not in security.permissions:
        raise KehuError(
            _("no permission {permission!r}; see `kehu roles`; nothing was saved").format(
                permission=permission
            )
        )
    if role == "admin":
        raise KehuError(_("admin holds every permission; nothing was saved"))
    return role in security.default_holders(permission)


def _set(app: Kehu, session: Session, role: str, permission: str, granted: bool) -> None:
    require(session, "users.manage", N_("grant or revoke permissions"))
    default = _check(app, session, role, permission)
    session.execute(delete(RoleGrant).where(RoleGrant.role == role, RoleGrant.permission == permission))
    if granted != default:
        session.add(RoleGrant(role=role, permission=permission, granted=granted, changed_at=utcnow()))
    audit.record(session, "role", role, "granted" if granted else "revoked", {"permission": permission})
    session.flush()


def grant(app: Kehu, session: Session, role: str, permission: str) -> None:
    """Let ``role`` do what ``permission`` names (back to the default if it held it by default)."""
    _set(app, session, role, permission, True)


def revoke(app: Kehu, session: Session, role: str, permission: str) -> None:
    """Take ``permission`` from ``role``, even when the role holds it by default."""
    _set(app, session, role, permission, False)
