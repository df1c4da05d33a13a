"""Users, passwords, API tokens and who is acting, through the CLI and the Python API.

No plugin is loaded: these are the core's rules. The OS login is patched to nobody and
``KEHU_USER`` is unset, so each test names who acts (or patches them in itself).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select, text

from kehu_core import access, users
from kehu_core.access import UnknownUser
from kehu_core.app import Kehu
from kehu_core.errors import KehuError, NotFound
from kehu_core.models import ApiToken, AuditEntry, Customer, User
from kehu_core.plugins import Plugins, discover
from kehu_core.testing import CliResult

#: No $KEHU_USER, no OS login: every command names who acts.
pytestmark = pytest.mark.usefixtures("kehu_nobody")

PASSWORD = "correct-horse"  # 13 characters


@pytest.fixture
def kehu_plugins() -> Plugins:
    """The core alone: users and their rules do not depend on any plugin."""
    return discover(strict=False, allow=set())


@pytest.fixture
def staff(kehu_app: Kehu) -> Kehu:
    """boss (admin), li and wang (sales, team 华东)."""
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", "张总", roles=["admin"])
        users.add_user(kehu_app, s, "li", "李明", roles=["sales"], team="华东")
        users.add_user(kehu_app, s, "wang", "王芳", roles=["sales"], team="华东")
    return kehu_app


def _logins(app: Kehu) -> list[str]:
    with app.session() as s:
        return list(s.scalars(select(User.login).order_by(User.login)))


def _user(app: Kehu, login: str) -> User:
    with app.session() as s:
        user = s.scalar(select(User).where(User.login == login))
        assert user is not None
        s.expunge(user)
        return user


# -- add -------------------------------------------------------------------------------------


def test_the_first_user_must_be_an_admin(kehu_app: Kehu, kehu_cli: Any) -> None:
    refused = kehu_cli("user", "add", "li", "--role", "sales")
    _error_line(refused, "the first user must be an administrator", "nothing was saved")
    assert _logins(kehu_app) == []
    with kehu_app.session() as s, pytest.raises(KehuError, match="first user must be an administrator"):
        users.add_user(kehu_app, s, "li", roles=[])
    assert _logins(kehu_app) == []
    added = kehu_cli("user", "add", "boss", "--name", "张总", "--role", "admin")
    assert added.exit_code == 0, added
    assert added.stdout == "added user boss (张总): admin\n"
    # From now on the second user may be anything, added by an admin.
    second = kehu_cli("--as", "boss", "user", "add", "li", "--role", "sales", "--team", "华东")
    assert second.exit_code == 0, second
    assert second.stdout == "added user li (li): sales, team 华东\n"
    assert _logins(kehu_app) == ["boss", "li"]


def test_a_duplicate_login_and_an_unknown_role_are_refused(staff: Kehu, kehu_cli: Any) -> None:
    duplicate = kehu_cli("--as", "boss", "user", "add", "li", "--role", "manager")
    _error_line(duplicate, "user 'li' exists already", "nothing was saved")
    unknown = kehu_cli("--as", "boss", "user", "add", "zhao", "--role", "salesman")
    _error_line(unknown, "unknown role(s) salesman", "admin, manager, sales, service")
    assert _logins(staff) == ["boss", "li", "wang"]
    with staff.session(as_user="boss") as s:
        with pytest.raises(KehuError, match="exists already"):
            users.add_user(staff, s, "li")
        with pytest.raises(KehuError, match="unknown role"):
            users.add_user(staff, s, "zhao", roles=["sales", "nope"])
    assert _logins(staff) == ["boss", "li", "wang"]


def test_a_login_is_1_to_100_letters_digits_and_dot_underscore_at_dash(staff: Kehu, kehu_cli: Any) -> None:
    longest = "a" * 100
    assert kehu_cli("--as", "boss", "user", "add", longest).exit_code == 0
    too_long = kehu_cli("--as", "boss", "user", "add", "b" * 101)
    _error_line(too_long, "must be 1 to 100 letters (any script), digits and . _ @ -", "nothing was saved")
    for bad in ("li wang", "-li", ".li", "_li", "li;drop", "l\ni", "li\u200b"):
        with staff.session(as_user="boss") as s, pytest.raises(KehuError, match="1 to 100 letters"):
            users.add_user(staff, s, bad)
    with staff.session(as_user="boss") as s:
        assert users.add_user(staff, s, "li.wang_2@east-1").login == "li.wang_2@east-1"
        assert users.add_user(staff, s, "  7eleven  ").login == "7eleven"  # surrounding blanks dropped
        assert users.add_user(staff, s, "王芳").login == "王芳"  # a person's name, as owners hold it
        assert (
            users.add_user(staff, s, "Jose\u0301", roles=["sales"]).login == "Jos\u00e9"
        )  # stored composed (NFC)
    assert _logins(staff) == sorted(
        ["7eleven", "a" * 100, "boss", "li", "li.wang_2@east-1", "wang", "王芳", "Jos\u00e9"]
    )
    # Typed decomposed, the name is the same user.
    assert kehu_cli("--as", "Jose\u0301", "customer", "list").exit_code == 0


# -- list, edit ------------------------------------------------------------------------------


def test_list_json_never_holds_a_password_hash(staff: Kehu, kehu_cli: Any) -> None:
    with staff.session(as_user="boss") as s:
        users.set_password(s, "li", PASSWORD)
    listed = kehu_cli("--as", "boss", "user", "list", "--json")
    assert listed.exit_code == 0, listed
    assert "argon2" not in listed.stdout and "hash" not in listed.stdout
    assert listed.json == [
        {
            "login": "boss",
            "name": "张总",
            "roles": "admin",
            "team": None,
            "region": None,
            "active": True,
            "password": False,
        },
        {
            "login": "li",
            "name": "李明",
            "roles": "sales",
            "team": "华东",
            "region": None,
            "active": True,
            "password": True,
        },
        {
            "login": "wang",
            "name": "王芳",
            "roles": "sales",
            "team": "华东",
            "region": None,
            "active": True,
            "password": False,
        },
    ]
    csv = kehu_cli("--as", "boss", "user", "list", "--csv")
    assert csv.exit_code == 0 and "argon2" not in csv.stdout
    refused = kehu_cli("--as", "li", "user", "list")
    _error_line(refused, "li (sales) may not list users: it needs permission users.manage")


def test_edit_changes_name_team_and_region_and_blank_clears(staff: Kehu, kehu_cli: Any) -> None:
    edited = kehu_cli(
        "--as", "boss", "user", "edit", "li", "--name", "李小明", "--team", "华南", "--region", "广东"
    )
    assert edited.exit_code == 0, edited
    assert edited.stdout == "changed user li (李小明): sales, team 华南\n"
    li = _user(staff, "li")
    assert (li.name, li.team, li.region) == ("李小明", "华南", "广东")
    cleared = kehu_cli("--as", "boss", "user", "edit", "li", "--team", "", "--region", "")
    assert cleared.exit_code == 0, cleared
    li = _user(staff, "li")
    assert (li.name, li.team, li.region) == ("李小明", None, None)
    _error_line(
        kehu_cli("--as", "li", "user", "edit", "wang", "--team", "华南"),
        "li (sales) may not edit users: it needs permission users.manage",
    )
    assert _user(staff, "wang").team == "华东"
    _error_line(kehu_cli("--as", "boss", "user", "edit", "ghost", "--team", "x"), "no user 'ghost'")


# -- deactivate, activate ----------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_deactivated(staff: Kehu, kehu_cli: Any) -> None:
    refused = kehu_cli("--as", "boss", "user", "deactivate", "boss")
    _error_line(refused, "boss is the last active administrator", "nothing was saved")
    assert _user(staff, "boss").active
    assert kehu_cli("--as", "boss", "user", "add", "boss2", "--role", "admin").exit_code == 0
    done = kehu_cli("--as", "boss", "user", "deactivate", "boss")
    assert done.exit_code == 0, done
    assert done.stdout == "deactivated boss (张总): admin (deactivated)\n"
    assert not _user(staff, "boss").active
    # boss2 is now the last one: refused again, through the API too.
    with staff.session(as_user="boss2") as s, pytest.raises(KehuError, match="last active administrator"):
        users.set_active(s, "boss2", False)
    assert _user(staff, "boss2").active


def test_a_deactivated_user_can_no_longer_act_and_their_tokens_stop(staff: Kehu, kehu_cli: Any) -> None:
    with staff.session(as_user="li") as s:
        _record, token = users.create_token(s, "li", "nightly")
    with staff.session() as s:
        assert users.authenticate_token(staff, s, token) is not None
    assert kehu_cli("--as", "li", "customer", "list").exit_code == 0
    assert kehu_cli("--as", "li", "user", "deactivate", "wang").exit_code == 1  # not li's to do
    assert kehu_cli("--as", "boss", "user", "deactivate", "li").exit_code == 0
    refused = kehu_cli("--as", "li", "customer", "list")
    _error_line(refused, "'li' (given with --as) is deactivated", "nothing was done")
    with pytest.raises(UnknownUser, match="'li' is deactivated"), staff.session(as_user="li"):
        pass
    with staff.session() as s:
        assert users.authenticate_token(staff, s, token) is None
        row = s.scalar(select(ApiToken))
        assert row is not None and row.revoked_at is not None
    # Listing shows li only with --all.
    assert [u["login"] for u in kehu_cli("--as", "boss", "user", "list", "--json").json] == ["boss", "wang"]
    everyone = kehu_cli("--as", "boss", "user", "list", "--all", "--json").json
    assert [(u["login"], u["active"]) for u in everyone] == [("boss", True), ("li", False), ("wang", True)]
    # Reactivated, li acts again; the old token stays revoked.
    activated = kehu_cli("--as", "boss", "user", "activate", "li")
    assert activated.exit_code == 0 and activated.stdout == "reactivated li (李明): sales, team 华东\n"
    assert kehu_cli("--as", "li", "customer", "list").exit_code == 0
    with staff.session() as s:
        assert users.authenticate_token(staff, s, token) is None


# -- roles -----------------------------------------------------------------------------------


def test_roles_add_and_remove_and_the_last_admin_keeps_admin(staff: Kehu, kehu_cli: Any) -> None:
    added = kehu_cli("--as", "boss", "user", "roles", "li", "--add", "manager")
    assert added.exit_code == 0 and added.stdout == "li (李明): manager, sales, team 华东\n"
    removed = kehu_cli("--as", "boss", "user", "roles", "li", "--remove", "sales", "--json")
    assert removed.exit_code == 0 and removed.json["roles"] == ["manager"]
    shown = kehu_cli("--as", "boss", "user", "roles", "li")
    assert shown.stdout == "li (李明): manager, team 华东\n"
    _error_line(kehu_cli("--as", "boss", "user", "roles", "li", "--add", "boss"), "unknown role(s) boss")
    last = kehu_cli("--as", "boss", "user", "roles", "boss", "--remove", "admin")
    _error_line(last, "boss is the last active administrator", "nothing was saved")
    _error_line(
        kehu_cli("--as", "li", "user", "roles", "li", "--add", "admin"),
        "li (manager) may not change users' roles: it needs permission users.manage",
    )
    with staff.session(as_user="boss") as s:
        assert users.change_roles(staff, s, "wang", add=["admin"]).roles == ("admin", "sales")
    # With a second admin, boss may give up the role.
    assert kehu_cli("--as", "boss", "user", "roles", "boss", "--remove", "admin").exit_code == 0
    with staff.session(as_user="wang") as s:
        assert [(u.login, u.roles) for u in users.list_users(s)] == [
            ("boss", ()),
            ("li", ("manager",)),
            ("wang", ("admin", "sales")),
        ]


# -- passwords -------------------------------------------------------------------------------


def test_passwords_are_argon2_hashed_never_shown_and_at_least_10_characters(
    staff: Kehu, kehu_cli: Any
) -> None:
    nine = "123456789"
    short = kehu_cli("--as", "boss", "user", "password", "li", input=f"{nine}\n{nine}\n")
    assert short.exit_code == 1 and "a password needs at least 10 characters" in short.stderr
    assert nine not in short.stdout and nine not in short.stderr
    assert _user(staff, "li").password_hash is None
    ten = "1234567890"
    done = kehu_cli("--as", "boss", "user", "password", "li", input=f"{ten}\n{ten}\n")
    assert done.exit_code == 0, done
    assert done.stdout.splitlines()[-1] == "password of li set"
    assert ten not in done.stdout and ten not in done.stderr
    stored = _user(staff, "li").password_hash
    assert stored is not None and stored.startswith("$argon2id$") and ten not in stored
    with staff.session() as s:
        assert users.check_password(staff, s, "li", ten) is not None
        actor = users.check_password(staff, s, "li", ten)
        assert actor is not None and (actor.login, actor.roles) == ("li", frozenset({"sales"}))
        assert users.check_password(staff, s, "li", "1234567891") is None
        assert users.check_password(staff, s, "li", "") is None
        assert users.check_password(staff, s, "wang", ten) is None  # wang has no password
        assert users.check_password(staff, s, "ghost", ten) is None
    # Nothing in the audit trail holds the password or its hash.
    with staff.engine.connect() as conn:
        dumped = " ".join(str(row) for row in conn.execute(text("SELECT * FROM kehu_audit")))
    assert ten not in dumped and "argon2" not in dumped
    # Own password: allowed; someone else's: users.manage.
    own = kehu_cli("--as", "li", "user", "password", "li", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert own.exit_code == 0, own
    other = kehu_cli("--as", "li", "user", "password", "wang", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert other.exit_code == 1
    assert "li (sales) may not set another user's password: it needs permission users.manage" in other.stderr
    assert _user(staff, "wang").password_hash is None
    with staff.session() as s:
        assert users.check_password(staff, s, "li", PASSWORD) is not None
        assert users.check_password(staff, s, "li", ten) is None
    # A deactivated user's right password no longer lets them in.
    assert kehu_cli("--as", "boss", "user", "deactivate", "li").exit_code == 0
    with staff.session() as s:
        assert users.check_password(staff, s, "li", PASSWORD) is None
    removed = kehu_cli("--as", "boss", "user", "password", "wang", "--remove")
    assert removed.exit_code == 0 and removed.stdout == "password of wang removed\n"


def test_the_api_refuses_a_9_character_password_and_takes_10(staff: Kehu) -> None:
    with staff.session(as_user="boss") as s, pytest.raises(KehuError, match="at least 10 characters"):
        users.set_password(s, "wang", "x" * 9)
    assert _user(staff, "wang").password_hash is None
    with staff.session(as_user="boss") as s, pytest.raises(KehuError, match="at least 10 characters"):
        users.add_user(staff, s, "zhao", roles=["sales"], password="x" * 9)
    assert "zhao" not in _logins(staff)
    with staff.session(as_user="boss") as s:
        assert users.add_user(staff, s, "zhao", roles=["sales"], password="x" * 10).has_password
    with staff.session() as s:
        assert users.check_password(staff, s, "zhao", "x" * 10) is not None
        assert users.check_password(staff, s, "zhao", "x" * 9) is None


# -- tokens ----------------------------------------------------------------------------------


def test_a_token_is_printed_once_and_only_its_digest_is_stored(staff: Kehu, kehu_cli: Any) -> None:
    created = kehu_cli("--as", "li", "user", "token", "create", "li", "--name", "nightly-export")
    assert created.exit_code == 0, created
    head, token = created.stdout.splitlines()
    with staff.session() as s:
        row = s.scalar(select(ApiToken))
        assert row is not None
        prefix, digest, used = row.prefix, row.digest, row.last_used_at
    assert head == f"token {prefix} for li (nightly-export); copy it now, it is not shown again:"
    assert token.startswith(f"kehu_{prefix}_") and len(token) == len(f"kehu_{prefix}_") + 43
    assert digest == hashlib.sha256(token.encode()).hexdigest() and used is None
    with staff.engine.connect() as conn:
        for table in ("kehu_api_tokens", "kehu_audit", "kehu_users"):
            assert token not in " ".join(str(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
    listed = kehu_cli("--as", "li", "user", "token", "list", "--json")
    assert listed.exit_code == 0 and token not in listed.stdout
    assert [(t["prefix"], t["name"], t["revoked_at"]) for t in listed.json] == [
        (prefix, "nightly-export", None)
    ]
    with staff.session() as s:
        actor = users.authenticate_token(staff, s, token)
        assert actor is not None and (actor.login, actor.team) == ("li", "华东")
    with staff.session() as s:
        row = s.scalar(select(ApiToken))
        assert row is not None and row.last_used_at is not None
    as_json = kehu_cli("--as", "li", "user", "token", "create", "li", "--json")
    assert as_json.exit_code == 0 and as_json.json["token"].startswith("kehu_")
    assert as_json.json["login"] == "li" and as_json.json["name"] == "token"


def test_a_revoked_token_stops_working(staff: Kehu, kehu_cli: Any) -> None:
    with staff.session(as_user="li") as s:
        record, token = users.create_token(s, "li", "script")
    revoked = kehu_cli("--as", "li", "user", "token", "revoke", record.prefix)
    assert revoked.exit_code == 0 and revoked.stdout == f"revoked token {record.prefix} of li\n"
    with staff.session() as s:
        assert users.authenticate_token(staff, s, token) is None
    again = kehu_cli("--as", "li", "user", "token", "revoke", record.prefix)  # harmless
    assert again.exit_code == 0
    _error_line(kehu_cli("--as", "li", "user", "token", "revoke", "000000000000"), "no token")


def test_another_users_token_needs_users_manage(staff: Kehu, kehu_cli: Any) -> None:
    _error_line(
        kehu_cli("--as", "li", "user", "token", "create", "wang"),
        "li (sales) may not create a token for another user: it needs permission users.manage",
    )
    with staff.session() as s:
        assert s.scalar(select(ApiToken)) is None
    with staff.session(as_user="wang") as s:
        record, token = users.create_token(s, "wang", "mine")
    # Another user's token answers as one that does not exist: whose tokens exist is not given away.
    _error_line(
        kehu_cli("--as", "li", "user", "token", "revoke", record.prefix),
        f"no token {record.prefix!r}",
    )
    assert (
        kehu_cli("--as", "li", "user", "token", "revoke", "000000000000").stderr.replace(
            "000000000000", record.prefix
        )
        == kehu_cli("--as", "li", "user", "token", "revoke", record.prefix).stderr
    )
    _error_line(
        kehu_cli("--as", "li", "user", "token", "list", "wang"),
        "li (sales) may not list another user's tokens",
    )
    with staff.session() as s:
        assert users.authenticate_token(staff, s, token) is not None
    with staff.session(as_user="li") as s, pytest.raises(NotFound):
        users.revoke_token(s, record.prefix)
    by_admin = kehu_cli("--as", "boss", "user", "token", "create", "wang", "--name", "for-wang")
    assert by_admin.exit_code == 0, by_admin
    assert kehu_cli("--as", "boss", "user", "token", "revoke", record.prefix).exit_code == 0
    with staff.session() as s:
        assert users.authenticate_token(staff, s, token) is None
        assert users.authenticate_token(staff, s, by_admin.stdout.splitlines()[1]) is not None


def test_a_malformed_or_unknown_token_is_none(staff: Kehu) -> None:
    with staff.session(as_user="li") as s:
        record, token = users.create_token(s, "li", "x")
    other_secret = token[:-1] + ("A" if token[-1] != "A" else "B")
    with staff.session() as s:
        for bad in (
            "",
            "kehu",
            "kehu_abc_def",
            token[:-1],  # one character short
            token + "A",  # one too many
            token.upper(),
            f"Bearer {token}",
            other_secret,  # well formed, but not a token anybody holds
            token.replace(record.prefix, "0" * 12),
        ):
            assert users.authenticate_token(staff, s, bad) is None, bad
        assert users.authenticate_token(staff, s, token) is not None


# -- who acts --------------------------------------------------------------------------------


def test_an_unknown_name_is_refused_saying_where_it_came_from(
    staff: Kehu, kehu_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = kehu_cli("--as", "ghost", "customer", "add", "C1", "客户一")
    _error_line(given, "'ghost' (given with --as) is not a user of this database", "nothing was done")
    from_env = kehu_cli("customer", "add", "C1", "客户一", env={"KEHU_USER": "ghost"})
    _error_line(from_env, "'ghost' (taken from $KEHU_USER) is not a user of this database")
    monkeypatch.setattr(access, "os_login", lambda: "ghost")
    from_os = kehu_cli("customer", "add", "C1", "客户一")
    _error_line(from_os, "'ghost' (taken from the OS login) is not a user of this database")
    monkeypatch.setattr(access, "os_login", lambda: None)
    nobody = kehu_cli("customer", "add", "C1", "客户一")
    _error_line(nobody, "this database has users: say who you are with `kehu --as LOGIN ...`")
    with staff.session() as s:
        assert s.scalar(select(Customer)) is None
    with (
        pytest.raises(UnknownUser, match="'ghost' is not a user of this database"),
        staff.session(as_user="ghost"),
    ):
        pass


def test_as_then_kehu_user_then_the_os_login_name_who_acts(
    staff: Kehu, kehu_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "os_login", lambda: "wang")
    assert kehu_cli("customer", "add", "W1", "王的客户").exit_code == 0  # the OS login
    assert kehu_cli("customer", "add", "L1", "李的客户", env={"KEHU_USER": "li"}).exit_code == 0
    assert (
        kehu_cli("--as", "boss", "customer", "add", "B1", "总的客户", env={"KEHU_USER": "li"}).exit_code == 0
    )
    with staff.session() as s:
        owners = dict(s.execute(select(Customer.code, Customer.owner)).all())
        created = select(AuditEntry.key, AuditEntry.actor).where(AuditEntry.entity == "customer")
        actors = {key: actor for key, actor in s.execute(created)}
    # A salesperson owns what they add; the admin's customer has no owner.
    assert owners == {"W1": "wang", "L1": "li", "B1": None}
    assert actors == {"W1": "wang", "L1": "li", "B1": "boss"}


def test_a_database_without_users_works_as_before(
    kehu_app: Kehu, kehu_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = [
        ("customer", "add", "C1", "华为技术", "--region", "华南", "--phone", "13800000000"),
        ("customer", "edit", "C1", "--industry", "通信"),
        ("customer", "list", "--json"),
        ("customer", "show", "C1"),
        ("customer", "export", "C1"),
        ("interaction", "log", "C1", "visit", "--note", "拜访"),
        ("interaction", "plan", "C1", "--at", "2030-01-02T10:00+08:00"),
        ("interaction", "list", "--customer", "C1", "--json"),
        ("interaction", "due", "--as-of", "2030-12-31", "--json"),
        ("settings", "set", "sales_scope", "team"),
        ("roles",),
        ("audit", "C1"),
        ("jobs", "run-due"),
        ("customer", "archive", "C1"),
    ]
    for step in steps:
        result = kehu_cli(*step)
        assert result.exit_code == 0, (step, result)
    assert kehu_cli("customer", "list", "--archived", "--json").json[0]["code"] == "C1"
    assert kehu_cli("user", "list", "--json").json == []
    # Audit records the name given: --as, then KEHU_USER, then the OS login, else "admin".
    assert kehu_cli("--as", "李明", "customer", "add", "C2", "二").exit_code == 0
    assert kehu_cli("customer", "add", "C3", "三", env={"KEHU_USER": "wang"}).exit_code == 0
    monkeypatch.setattr(access, "os_login", lambda: "zhao")
    assert kehu_cli("customer", "add", "C4", "四").exit_code == 0
    with kehu_app.session() as s:
        created = select(AuditEntry.key, AuditEntry.actor).where(
            AuditEntry.entity == "customer", AuditEntry.action == "created"
        )
        actors = {key: actor for key, actor in s.execute(created)}
        owners = dict(s.execute(select(Customer.code, Customer.owner)).all())
        # Nobody to note: the single administrator's reads are not in the access log.
        assert s.scalar(text("SELECT count(*) FROM kehu_access_log")) == 0
    assert actors == {"C1": "admin", "C2": "李明", "C3": "wang", "C4": "zhao"}
    assert owners == {"C1": None, "C2": None, "C3": None, "C4": None}
    # The Python API: any name is the administrator.
    with kehu_app.session(as_user="anyone") as s:
        actor = access.acting(s)
        assert (actor.login, actor.superuser, actor.user_id) == ("anyone", True, None)


#: The refusal's one line, holding the given words.
_error_line = CliResult.error_line
