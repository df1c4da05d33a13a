"""Users, their roles, passwords and API tokens (``kehu user``).

Passwords are hashed with Argon2 (argon2-cffi, the algorithm OWASP recommends for
passwords) and never shown. An API token is 256 random bits shown once at creation; only
its SHA-256 digest is kept. A slow password hash adds nothing to a secret that long, and a
fast digest lets every API request be checked without spending 50 ms on it.

The first user must be an administrator and the last active administrator cannot be
deactivated or lose the role, so a database never locks everyone out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from attrs import frozen
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_core import audit
from kehu_core.access import Actor, acting, has_users, require, resolve, security_in
from kehu_core.errors import KehuError, NotFound
from kehu_core.i18n import N_, messages
from kehu_core.models import MAX_NAME, MAX_SHORT, ApiToken, User, UserRole
from kehu_core.types import utcnow

if TYPE_CHECKING:
    from kehu_core.app import Kehu

_ = messages("kehu_core").gettext

#: A login is what customers' ``owner`` holds, often a person's name (王芳): any letters,
#: digits and . _ @ -, no spaces, at most 100 characters.
_LOGIN = re.compile(r"^[^\W_][\w.@-]{0,99}\Z")
#: ``kehu_<prefix>_<secret>``: the prefix names the token in lists; the secret is 256 bits.
_TOKEN = re.compile(r"^kehu_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()


@frozen
class UserRecord:
    """A user as services return it: never the password hash."""

    login: str
    name: str
    active: bool
    roles: tuple[str, ...]
    team: str | None
    region: str | None
    has_password: bool
    created_at: datetime


@frozen
class TokenRecord:
    """An API token as listed: its prefix and name, never the secret."""

    prefix: str
    login: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(session: Session, user: User) -> UserRecord:
    roles = tuple(sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))))
    return UserRecord(
        user.login,
        user.name,
        user.active,
        roles,
        user.team,
        user.region,
        user.password_hash is not None,
        user.created_at,
    )


#: Refusal to leave the database without an active administrator.
LAST_ADMIN = N_("{login} is the last active administrator; make another user admin first; nothing was saved")


def _user(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFound(_("no user {login!r}; see `kehu user list`").format(login=login))
    return user


def _check_login(login: str) -> str:
    login = unicodedata.normalize("NFC", login.strip())
    if not _LOGIN.match(login):
        raise KehuError(
            _(
                "login {login!r} must be 1 to 100 letters (any script), digits and . _ @ -, "
                "starting with a letter or digit; nothing was saved"
            ).format(login=login)
        )
    return login


def _short(value: str | None, field: str, limit: int = MAX_SHORT) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise KehuError(
            _("{field} is longer than {limit} characters; nothing was saved").format(
                field=_(field), limit=limit
            )
        )
    return value or None


def _check_roles(app: Kehu, session: Session, roles: Iterable[str]) -> tuple[str, ...]:
    known = security_in(app, session).roles
    roles = tuple(dict.fromkeys(r.strip() for r in roles if r.strip()))
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise KehuError(
            _(
                "unknown role(s) {unknown}; roles: {known} (`kehu roles add NAME` adds one); "
                "nothing was saved"
            ).format(unknown=", ".join(unknown), known=", ".join(sorted(known)))
        )
    return roles


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "admin", User.active.is_(True))
        )
        or 0
    )


def _require_manage(session: Session, doing: str) -> Actor:
    """``users.manage``, or :class:`~kehu_core.access.Forbidden` (``doing`` is marked ``N_``)."""
    return require(session, "users.manage", doing)


def add_user(
    app: Kehu,
    session: Session,
    login: str,
    name: str | None = None,
    *,
    roles: Iterable[str] = (),
    team: str | None = None,
    region: str | None = None,
    password: str | None = None,
) -> UserRecord:
    """Add a user. The first user of a database must hold ``admin``: from then on every
    command acts as a known user."""
    _require_manage(session, N_("add users"))
    login = _check_login(login)
    roles = _check_roles(app, session, roles)
    if not has_users(session) and "admin" not in roles:
        raise KehuError(
            _(
                "the first user must be an administrator, or nobody could manage users after it: "
                "`kehu user add {login} --role admin`; nothing was saved"
            ).format(login=login)
        )
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise KehuError(
            _("user {login!r} exists already; change it with `kehu user edit`; nothing was saved").format(
                login=login
            )
        )
    user = User(
        login=login,
        name=_short(name, N_("name"), MAX_NAME) or login,
        active=True,
        team=_short(team, N_("team")),
        region=_short(region, N_("region")),
        password_hash=_hash(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role=r) for r in roles)
    audit.record(
        session,
        "user",
        login,
        "created",
        {"roles": list(roles), "team": user.team, "region": user.region, "password": password is not None},
    )
    session.flush()
    return _record(session, user)


def edit_user(
    session: Session,
    login: str,
    *,
    name: str | None = None,
    team: str | None = None,
    region: str | None = None,
) -> UserRecord:
    """Change a user's name, team or region (``""`` clears team and region)."""
    _require_manage(session, N_("edit users"))
    user = _user(session, login)
    before = {"name": user.name, "team": user.team, "region": user.region}
    if name is not None:
        user.name = _short(name, N_("name"), MAX_NAME) or user.login
    if team is not None:
        user.team = _short(team, N_("team"))
    if region is not None:
        user.region = _short(region, N_("region"))
    changes = audit.changes_of(before, {"name": user.name, "team": user.team, "region": user.region}, ())
    if changes:
        user.updated_at = utcnow()
        audit.record(session, "user", login, "edited", changes)
    session.flush()
    return _record(session, user)


def set_active(session: Session, login: str, active: bool) -> UserRecord:
    """Deactivate a user (they can no longer act; their history stays), or reactivate one."""
    _require_manage(session, N_("deactivate users") if not active else N_("reactivate users"))
    user = _user(session, login)
    if user.active == active:
        return _record(session, user)
    if not active and _is_last_admin(session, user):
        raise KehuError(_(LAST_ADMIN).format(login=login))
    user.active = active
    user.updated_at = utcnow()
    if not active:
        for token in session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ):
            token.revoked_at = utcnow()
    audit.record(session, "user", login, "activated" if active else "deactivated")
    session.flush()
    return _record(session, user)


def _is_last_admin(session: Session, user: User) -> bool:
    is_admin = session.scalar(
        select(UserRole.role).where(UserRole.user_id == user.id, UserRole.role == "admin")
    )
    return bool(is_admin) and user.active and _active_admins(session) <= 1


def change_roles(
    app: Kehu, session: Session, login: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> UserRecord:
    """Give ``login`` the roles ``add`` and take ``remove`` away."""
    _require_manage(session, N_("change users' roles"))
    user = _user(session, login)
    add, remove = _check_roles(app, session, add), tuple(r.strip() for r in remove)
    held = set(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
    if "admin" in remove and "admin" in held and _is_last_admin(session, user):
        raise KehuError(_(LAST_ADMIN).format(login=login))
    for role in add:
        if role not in held:
            session.add(UserRole(user_id=user.id, role=role))
    for role in remove:
        if role in held:
            session.delete(session.get(UserRole, (user.id, role)))
    after = (held | set(add)) - set(remove)
    if after != held:
        audit.record(session, "user", login, "roles", {"roles": [sorted(held), sorted(after)]})
    session.flush()
    return _record(session, user)


def list_users(session: Session, *, include_inactive: bool = False) -> list[UserRecord]:
    """The users, by login."""
    require(session, "users.manage", N_("list users"))
    stmt = select(User).order_by(User.login)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    return [_record(session, u) for u in session.scalars(stmt)]


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise KehuError(
            _("a password needs at least {least} characters; nothing was saved").format(least=MIN_PASSWORD)
        )
    return _hasher.hash(password)


def set_password(session: Session, login: str, password: str | None) -> None:
    """Set a user's password (``None`` removes password login). Users may set their own;
    setting another's needs ``users.manage``."""
    if acting(session).login != login:
        _require_manage(session, N_("set another user's password"))
    user = _user(session, login)
    user.password_hash = _hash(password) if password is not None else None
    user.updated_at = utcnow()
    audit.record(session, "user", login, "password set" if password is not None else "password removed")
    session.flush()


def check_password(app: Kehu, session: Session, login: str, password: str) -> Actor | None:
    """The :class:`~kehu_core.access.Actor` for ``login`` when ``password`` is theirs and they
    are active; ``None`` otherwise (which of the two is not said)."""
    user = session.scalar(select(User).where(User.login == login))
    if user is None or not user.active or user.password_hash is None:
        _hasher.hash("spend the same time as a real check")
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return resolve(app, session, login)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, login: str, name: str) -> tuple[TokenRecord, str]:
    """A new API token for ``login``: its record, and the token itself, shown only now."""
    if acting(session).login != login:
        _require_manage(session, N_("create a token for another user"))
    user = _user(session, login)
    if not user.active:
        raise KehuError(_("{login} is deactivated; nothing was saved").format(login=login))
    name = _short(name, N_("token name")) or "token"
    prefix = secrets.token_hex(6)
    token = f"kehu_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user_id=user.id, name=name, prefix=prefix, digest=_digest(token), created_at=utcnow())
    session.add(row)
    audit.record(session, "user", login, "token created", {"token": prefix, "name": name})
    session.flush()
    return TokenRecord(prefix, login, name, row.created_at, None, None), token


def _token_row(session: Session, prefix: str) -> tuple[ApiToken, User]:
    found = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.prefix == prefix)
    ).first()
    if found is None:
        raise NotFound(_("no token {prefix!r}; see `kehu user token list`").format(prefix=prefix))
    return found[0], found[1]


def revoke_token(session: Session, prefix: str) -> TokenRecord:
    """Revoke the token whose prefix is ``prefix``: it stops working at once."""
    token, user = _token_row(session, prefix)
    if acting(session).login != user.login and not acting(session).can("users.manage"):
        # Answer as for a token that does not exist: whose tokens exist is not given away.
        raise NotFound(_("no token {prefix!r}; see `kehu user token list`").format(prefix=prefix))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, "user", user.login, "token revoked", {"token": prefix})
        session.flush()
    return TokenRecord(
        token.prefix, user.login, token.name, token.created_at, token.last_used_at, token.revoked_at
    )


def list_tokens(session: Session, login: str | None = None) -> list[TokenRecord]:
    """The tokens of ``login`` (default: the acting user's); others' need ``users.manage``."""
    login = login or acting(session).login
    if acting(session).login != login:
        _require_manage(session, N_("list another user's tokens"))
    rows = session.execute(
        select(ApiToken, User.login)
        .join(User, User.id == ApiToken.user_id)
        .where(User.login == login)
        .order_by(ApiToken.created_at, ApiToken.id)
    )
    return [
        TokenRecord(t.prefix, owner, t.name, t.created_at, t.last_used_at, t.revoked_at) for t, owner in rows
    ]


def authenticate_token(app: Kehu, session: Session, token: str) -> Actor | None:
    """The active user whose live token ``token`` is, or ``None``. Notes when it was used."""
    if not _TOKEN.match(token):
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.digest == _digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).first()
    if found is None:
        return None
    found[0].last_used_at = utcnow()
    return resolve(app, session, found[1].login)
