"""Roles, permissions and record rules: what the core and each plugin declare.

Like an Odoo module's ``security/`` folder, a plugin's manifest names a module
(``security="kehu_complaints.security"``) holding any of:

* ``PERMISSIONS``: :class:`Permission` objects, each with the roles that hold it by default;
* ``ROLES``: :class:`RoleDeclaration` objects for roles the plugin adds;
* ``RULES``: :class:`RecordRule` objects: which rows of a model a role sees.

The company changes the defaults in the database (``kehu roles grant/revoke``, ``kehu roles
add``); :func:`security_of` puts the declarations of the core and of the installed plugins
together, and :mod:`kehu_core.access` enforces them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from attrs import field, frozen
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from kehu_core.i18n import N_
from kehu_core.manifest import load_reference
from kehu_core.models import Customer, Role, Setting, User
from kehu_core.sql import dialect_of

if TYPE_CHECKING:
    from kehu_core.access import Actor
    from kehu_core.app import Kehu

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_PERMISSION = re.compile(r"^[a-z][a-z0-9_]{0,40}\.[a-z][a-z0-9_]{0,40}$")

#: A record rule's domain: the SQL condition on the model's rows the actor sees, or ``None``
#: for all of them. It is given the session (to read settings) and the acting user.
Domain = Callable[[Session, "Actor"], "ColumnElement[bool] | None"]


def _role_name(_instance: object, _attribute: object, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"role name {value!r} must be lower-case letters, digits and _")


def _permission_name(_instance: object, _attribute: object, value: str) -> None:
    if not _PERMISSION.match(value):
        raise ValueError(f"permission {value!r} must read area.action, like complaints.approve")


def _roles(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("roles must be a list of role names, not a string")
    return tuple(value)


@frozen
class Permission:
    """Something a role may do: ``Permission("complaints.approve", "approve ...", roles=("manager",))``.

    Attributes:
        name: ``area.action``, lower case.
        description: One line for ``kehu roles``.
        roles: The roles that hold it unless the company revokes it. ``admin`` holds every
            permission and need not be named.
    """

    name: str = field(validator=_permission_name)
    description: str
    roles: tuple[str, ...] = field(default=(), converter=_roles)


@frozen
class RoleDeclaration:
    """A role a plugin adds (the core declares admin, manager, sales and service).

    ``implies``: roles a holder of this one holds as well, with their permissions and record
    rules (Odoo's implied groups): ``RoleDeclaration("key_account_manager", "...",
    implies=("sales",))`` reads and writes customers as a salesperson does, and sees what both
    roles' rules allow.
    """

    name: str = field(validator=_role_name)
    description: str
    implies: tuple[str, ...] = field(default=(), converter=_roles)


@frozen
class RecordRule:
    """Which rows of ``model`` users of ``role`` see (Odoo's ``ir.rule``).

    A user sees the union of what the rules of their roles allow. A user none of whose roles
    has a rule for a model sees all of it; a rule whose domain returns ``None`` allows all.
    Rows outside are "not found", never "forbidden", so their existence does not leak.
    """

    model: str
    role: str = field(validator=_role_name)
    description: str
    domain: Domain


@frozen
class Declared:
    """A declaration and the plugin that made it (``core`` for the core's own)."""

    item: Any
    plugin: str


@frozen
class Security:
    """Every role, permission and record rule in force for one app."""

    roles: dict[str, Declared]
    permissions: dict[str, Declared]
    rules: tuple[Declared, ...]

    def default_holders(self, permission: str) -> tuple[str, ...]:
        """The roles holding ``permission`` by default (``admin`` always)."""
        declared = self.permissions[permission].item
        return tuple(dict.fromkeys(("admin", *declared.roles)))

    def with_implied(self, roles: Iterable[str]) -> frozenset[str]:
        """``roles`` and every role they imply, however deep."""
        held: set[str] = set()
        todo = list(roles)
        while todo:
            role = todo.pop()
            if role in held:
                continue
            held.add(role)
            declared = self.roles.get(role)
            if declared is not None:
                todo.extend(declared.item.implies)
        return frozenset(held)

    def rules_for(self, model: str) -> list[RecordRule]:
        """The record rules on ``model``."""
        return [d.item for d in self.rules if d.item.model == model]


# -- the core's declarations ------------------------------------------------------------------

#: ``kehu settings set sales_scope team``: sales users see their team's customers, not only theirs.
SALES_SCOPE = "sales_scope"
SALES_SCOPES = ("own", "team")


def own_customers(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """A salesperson's customers: those they own, or their team's when ``sales_scope`` is ``team``."""
    scope = session.scalar(select(Setting.value).where(Setting.key == SALES_SCOPE)) or "own"
    if scope == "team" and actor.team:
        team = select(User.login).where(User.team == actor.team).scalar_subquery()
        owner: ColumnElement[str | None] = Customer.owner.expression
        if dialect_of(session) == "sqlite":
            # A team may own most customers. SQLite keeps no statistics to tell, and would
            # fetch them one by one through ix_customers_owner; `owner || ''` keeps it on the
            # scan the unrestricted list does, so a team's list is never slower than that.
            owner = owner.concat("")
        return owner.in_(team)
    return Customer.owner == actor.login


def everything(_session: Session, _actor: Actor) -> ColumnElement[bool] | None:
    """All rows."""
    return None


ROLES = (
    RoleDeclaration("admin", N_("administrator: every permission, every record")),
    RoleDeclaration("manager", N_("manager: sees every customer, approves, runs reports and jobs")),
    RoleDeclaration("sales", N_("salesperson: their own customers (or their team's)")),
    RoleDeclaration("service", N_("service clerk: every customer, their team's complaints")),
)

PERMISSIONS = (
    Permission(
        "customer.read", N_("see customers, their cards and interactions"), ("manager", "sales", "service")
    ),
    Permission("customer.write", N_("add, edit, tag and archive customers"), ("manager", "sales")),
    Permission("customer.import", N_("import customers and interactions from files"), ("manager",)),
    Permission("interaction.write", N_("log and plan interactions"), ("manager", "sales", "service")),
    Permission("privacy.manage", N_("export a customer's data and forget a customer"), ()),
    Permission("audit.read", N_("read the audit trail (kehu audit)"), ("manager",)),
    Permission("users.manage", N_("add and change users, roles, grants and others' tokens"), ()),
    Permission("settings.manage", N_("change settings, the core's and the plugins'"), ()),
    Permission("plugins.manage", N_("install, upgrade and uninstall plugins; load demo data"), ()),
    Permission("jobs.run", N_("run scheduled jobs"), ("manager",)),
)

RULES = (
    RecordRule(
        "customers", "sales", N_("own customers (or the team's, by setting sales_scope)"), own_customers
    ),
    RecordRule("customers", "service", N_("every customer"), everything),
    RecordRule("customers", "manager", N_("every customer"), everything),
)


def _declarations(module: Any) -> tuple[Iterable[Any], Iterable[Any], Iterable[Any]]:
    return (
        getattr(module, "ROLES", ()),
        getattr(module, "PERMISSIONS", ()),
        getattr(module, "RULES", ()),
    )


def security_of(app: Kehu, session: Session) -> Security:
    """The roles, permissions and record rules of the core and of the plugins installed in the
    database and loaded here, with the company's added roles (``kehu roles add``)."""
    from_core = (ROLES, PERMISSIONS, RULES)
    sources: list[tuple[str, tuple[Iterable[Any], Iterable[Any], Iterable[Any]]]] = [("core", from_core)]
    installed = app.installed(session)
    for name in app.plugins.dependency_order():
        info = app.plugins.loaded.get(name)
        manifest = info.manifest if info is not None else None
        if manifest is None or name not in installed or manifest.security is None:
            continue
        sources.append((name, _declarations(load_reference(manifest.security))))
    roles: dict[str, Declared] = {}
    permissions: dict[str, Declared] = {}
    rules: list[Declared] = []
    for plugin, (declared_roles, declared_permissions, declared_rules) in sources:
        for role in declared_roles:
            if role.name in roles:
                raise ValueError(
                    f"role {role.name!r} of {plugin} is declared already by {roles[role.name].plugin}"
                )
            roles[role.name] = Declared(role, plugin)
        for permission in declared_permissions:
            if permission.name in permissions:
                first = permissions[permission.name].plugin
                raise ValueError(f"permission {permission.name!r} of {plugin} is declared already by {first}")
            permissions[permission.name] = Declared(permission, plugin)
        rules.extend(Declared(rule, plugin) for rule in declared_rules)
    for name, description in session.execute(select(Role.name, Role.description)):
        roles.setdefault(name, Declared(RoleDeclaration(name, description), "company"))
    return Security(roles, permissions, tuple(rules))
