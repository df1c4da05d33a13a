"""Who is acting, and what they may see and do: enforced in the service layer.

Every session has an acting user (:class:`Actor`), bound by ``app.session(as_user=...)``.
Services call :func:`require` before doing something a role may not do, and filter what they
read with :func:`customer_condition` or :func:`visible_customers` (any plugin model with record
rules: :func:`condition`). The CLI, the Python API and the web client therefore see the same
rows and get the same refusals.

A database without users behaves as kehu always did: whoever runs it is its one
administrator. ``app.session()`` without ``as_user`` acts as kehu itself (:data:`SYSTEM`),
for jobs, migrations and scripts run by whoever owns the database.
"""

from __future__ import annotations

import getpass
import os
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from attrs import frozen
from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session

from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.models import AccessEntry, Customer, RoleGrant, User, UserRole
from kehu_core.security import Security, security_of
from kehu_core.types import utcnow

if TYPE_CHECKING:
    from kehu_core.app import Kehu

_ = messages("kehu_core").gettext

#: ``Session.info`` key of the acting :class:`Actor`.
_ACTOR = "kehu_actor"
#: ``Session.info`` key of the :class:`Security` in force (read once per session).
_SECURITY = "kehu_security"
#: The environment variable naming the acting user (``--as`` overrides it).
ENV_USER = "KEHU_USER"
#: Where the command line's login came from when neither ``--as`` nor ``$KEHU_USER`` gave it.
OS_LOGIN = N_("OS login")
#: How a refusal names where the login came from: a forgotten ``$KEHU_USER`` in a shell
#: profile must be recognisable as the culprit. The Python API names the user in the call.
_SOURCE_HINTS = {"--as": N_("given with --as"), ENV_USER: N_("taken from $KEHU_USER")}


class Forbidden(KehuError):
    """The acting user's roles do not hold the permission an action needs."""


class UnknownUser(KehuError):
    """The name given as the acting user is not an active user of this database."""


@frozen
class Actor:
    """The user a session acts as.

    Attributes:
        login: The user's login; what audit trails and ``owner`` columns hold.
        name: Their display name.
        roles: Their roles.
        permissions: What their roles allow (every permission when ``superuser``).
        team: Their team, for "my team's" record rules.
        region: Their region.
        user_id: Their row in ``kehu_users``; ``None`` for kehu itself or the single
            administrator of a database without users.
        superuser: Every permission and every record: the ``admin`` role, kehu itself, or
            whoever runs a database that has no users.
    """

    login: str
    name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    team: str | None = None
    region: str | None = None
    user_id: int | None = None
    superuser: bool = False

    def can(self, permission: str) -> bool:
        """True when this user may do what ``permission`` names."""
        return self.superuser or permission in self.permissions


#: kehu itself: scheduled jobs, migrations, and scripts that own the database.
SYSTEM = Actor("system", "kehu", frozenset({"admin"}), frozenset(), superuser=True)


def os_login() -> str | None:
    """The operating system's login name, or ``None`` where there is none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def has_users(session: Session) -> bool:
    """True once the database has any user: from then on, every actor must be one of them."""
    return bool(session.scalar(select(exists().where(User.id.is_not(None)))))


def resolve(app: Kehu, session: Session, login: str | None, source: str = "as_user") -> Actor:
    """The :class:`Actor` for ``login``, as named by ``source`` (``--as``, ``KEHU_USER``, the OS login).

    Without users, anyone is the database's administrator, recorded under the name given.
    With users, ``login`` must be an active user's, or :class:`UnknownUser` says how to name one.
    """
    if not has_users(session):
        name = login or "admin"
        return Actor(name, name, frozenset({"admin"}), frozenset(), superuser=True)
    if not login:
        raise UnknownUser(
            _(
                "this database has users: say who you are with `kehu --as LOGIN ...` or "
                "{variable}=LOGIN (see `kehu user list`)"
            ).format(variable=ENV_USER)
        )
    # Stored logins are NFC (users.add_user): an accented name typed decomposed is the same user.
    user = session.scalar(select(User).where(User.login == unicodedata.normalize("NFC", login)))
    if user is None or not user.active:
        if source in _SOURCE_HINTS:
            where = _(_SOURCE_HINTS[source])
        elif source == "as_user":
            where = None
        else:
            where = _("taken from the {source}").format(source=_(source))
        if user is not None and where is not None:
            message = _(
                "{login!r} ({where}) is deactivated; act as an active user with `kehu --as LOGIN ...` "
                "or {variable}=LOGIN (see `kehu user list`); nothing was done"
            )
        elif user is not None:
            message = _(
                "{login!r} is deactivated; act as an active user with `kehu --as LOGIN ...` "
                "or {variable}=LOGIN (see `kehu user list`); nothing was done"
            )
        elif where is not None:
            message = _(
                "{login!r} ({where}) is not a user of this database; act as an active user with "
                "`kehu --as LOGIN ...` or {variable}=LOGIN (see `kehu user list`); nothing was done"
            )
        else:
            message = _(
                "{login!r} is not a user of this database; act as an active user with "
                "`kehu --as LOGIN ...` or {variable}=LOGIN (see `kehu user list`); nothing was done"
            )
        raise UnknownUser(message.format(login=login, where=where, variable=ENV_USER))
    security = security_in(app, session)
    roles = security.with_implied(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
    return Actor(
        user.login,
        user.name,
        roles,
        permissions_of(session, security, roles),
        team=user.team,
        region=user.region,
        user_id=user.id,
        superuser="admin" in roles,
    )


def act_as(app: Kehu, session: Session, login: str | Actor | None, source: str = "as_user") -> Actor:
    """Resolve ``login`` (see :func:`resolve`) and make it the acting user of ``session``."""
    actor = login if isinstance(login, Actor) else resolve(app, session, login, source)
    if not actor.superuser:
        security_in(app, session)  # the record rules condition() applies
    bind(session, actor)
    return actor


def cli_login(given: str | None) -> tuple[str | None, str]:
    """The login the command line acts as, and where it came from: ``--as``, then
    ``KEHU_USER``, then the OS login."""
    if given:
        return given, "--as"
    if os.environ.get(ENV_USER):
        return os.environ[ENV_USER], ENV_USER
    return os_login(), OS_LOGIN


def role_changes(session: Session, roles: Iterable[str] | None = None) -> dict[tuple[str, str], bool]:
    """The company's grants (True) and revocations (False) by (role, permission); only those
    of ``roles`` when given."""
    stmt = select(RoleGrant.role, RoleGrant.permission, RoleGrant.granted)
    if roles is not None:
        stmt = stmt.where(RoleGrant.role.in_(list(roles)))
    return {(role, permission): granted for role, permission, granted in session.execute(stmt)}


def role_holds(security: Security, changes: dict[tuple[str, str], bool], role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission``: admin always; otherwise the company's grant or
    revocation (:func:`role_changes`), else the declared default."""
    if role == "admin":
        return True
    return changes.get((role, permission), role in security.default_holders(permission))


def permissions_of(session: Session, security: Security, roles: Iterable[str]) -> frozenset[str]:
    """What ``roles`` may do: any of them holding a permission is enough (a revocation applies
    to its own role; another role of the user may still hold it)."""
    roles = set(roles)
    changes = role_changes(session, roles)
    return frozenset(
        permission
        for permission in security.permissions
        if any(role_holds(security, changes, role, permission) for role in roles)
    )


def security_in(app: Kehu, session: Session) -> Security:
    """The :class:`~kehu_core.security.Security` of ``app``, read once per session."""
    found = session.info.get(_SECURITY)
    if found is None:
        found = session.info[_SECURITY] = security_of(app, session)
    assert isinstance(found, Security)
    return found


def bind(session: Session, actor: Actor) -> None:
    """Make ``actor`` the acting user of ``session``."""
    session.info[_ACTOR] = actor


def acting(session: Session) -> Actor:
    """The acting user of ``session`` (:data:`SYSTEM` unless one was bound)."""
    actor = session.info.get(_ACTOR, SYSTEM)
    assert isinstance(actor, Actor)
    return actor


def require(session: Session, permission: str, doing: str) -> Actor:
    """The acting user, when they hold ``permission``; otherwise :class:`Forbidden`, saying
    what was refused (``doing``), which permission it needs, and nothing was done.

    ``doing`` is a verb phrase in the current language: a plugin passes it translated
    (``_("see tiers")``); the core marks its own with ``N_`` and they are translated here."""
    actor = acting(session)
    if actor.can(permission):
        return actor
    values = {"login": actor.login, "roles": ", ".join(sorted(actor.roles)), "doing": _(doing)}
    if actor.roles:
        message = _(
            "{login} ({roles}) may not {doing}: it needs permission {permission}; "
            "ask an administrator (`kehu roles`); nothing was done"
        )
    else:
        message = _(
            "{login} (no role) may not {doing}: it needs permission {permission}; "
            "ask an administrator (`kehu roles`); nothing was done"
        )
    raise Forbidden(message.format(permission=permission, **values))


def condition(session: Session, model: str) -> ColumnElement[bool] | None:
    """The SQL condition on ``model``'s rows the acting user may see, or ``None`` for all.

    The union of the domains of the user's roles' rules on ``model``; ``None`` for a superuser,
    for a user none of whose roles has a rule there, or where one rule allows everything.
    """
    actor = acting(session)
    if actor.superuser:
        return None
    security: Security | None = session.info.get(_SECURITY)
    if security is None:
        return None  # a session nobody bound: kehu itself
    rules = [r for r in security.rules_for(model) if r.role in actor.roles]
    if not rules:
        return None
    domains = []
    for rule in rules:
        domain = rule.domain(session, actor)
        if domain is None:
            return None
        domains.append(domain)
    return or_(*domains) if len(domains) > 1 else domains[0]


def customer_condition(session: Session) -> ColumnElement[bool] | None:
    """The condition on ``customers`` rows the acting user may see, or ``None`` for all."""
    return condition(session, "customers")


def visible_customers(session: Session, customer_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """A condition for any query with a customer id column: true for the customers the acting
    user may see. Plugins add it to every read of their customer data."""
    rule = customer_condition(session)
    if rule is None:
        return true()
    return customer_id.in_(select(Customer.id).where(rule))


def can_see_customer(session: Session, customer_id: int) -> bool:
    """True when the acting user may see customer ``customer_id``."""
    rule = customer_condition(session)
    if rule is None:
        return True
    return session.scalar(select(Customer.id).where(Customer.id == customer_id, rule)) is not None


def record_access(session: Session, customer_id: int, what: str) -> None:
    """Note that a user opened this customer's data (``what``: card, record, export).

    Only named users are noted: kehu itself and the administrator of a database without
    users are not people whose access a customer asks about.
    """
    actor = acting(session)
    if actor.user_id is None:
        return
    session.add(AccessEntry(at=utcnow(), actor=actor.login, customer_id=customer_id, what=what))
