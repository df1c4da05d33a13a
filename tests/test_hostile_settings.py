"""Hostile settings and options (issue 16, point 11): one line, nothing saved.

- every plugin setting is checked by type and range when set (loyalty, complaints, ACME):
  ``points_per_yuan 1e999``, NaN, Infinity, negative, too many decimals; ``chinese_holidays
  maybe``; each refusal is one line naming the setting, and the stored value is unchanged;
- a database URL kehu does not run on (``mysql://``, another driver, garbage) is one line;
- ``--limit``, ids and counts of the plugins' commands refuse a huge value in one line;
- the CSV reader refuses a codec that is not a text encoding (base64, rot13, zlib, hex) for
  API callers too, with the message the CLI gives.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kehu_acme_rules.settings import key_account_manager, set_key_account_manager
from kehu_complaints.settings import set_setting
from kehu_core import customers
from kehu_core.cli import create_cli
from kehu_core.csvfile import CsvStream, check_encoding
from kehu_core.db import create_db_engine
from kehu_core.errors import KehuError, ValidationError
from kehu_core.importing import import_customers, import_interactions
from kehu_core.models import Customer
from kehu_loyalty import api
from kehu_loyalty.models import SETTINGS
from kehu_loyalty.settings import TIER_PREFIX, load_settings

HUGE = "99999999999999999999"


def one_line(result) -> str:
    assert result.exit_code == 1, result
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in result.output, result
    return line


# -- loyalty's settings ------------------------------------------------------------------------


@pytest.fixture
def loyalty(kehu_app, kehu_install):
    kehu_install("loyalty")
    return kehu_app


def loyalty_value(kehu_cli, key: str) -> str:
    rows = kehu_cli("loyalty", "settings", "list", "--json").json
    return next(r["value"] for r in rows if r["key"] == key)


LOYALTY_REFUSED = [
    ("points_per_yuan", "1e999", "must be a number from 0 to 1000 with at most 4 decimals"),
    ("points_per_yuan", "NaN", "must be a number from 0 to 1000"),
    ("points_per_yuan", "Infinity", "must be a number from 0 to 1000"),
    ("points_per_yuan", "-inf", "must be a number from 0 to 1000"),
    ("points_per_yuan", "-0.5", "must be a number from 0 to 1000"),
    ("points_per_yuan", "1000.0001", "must be a number from 0 to 1000"),
    ("points_per_yuan", "1.00001", "with at most 4 decimals"),
    ("points_per_yuan", "1e-999", "must be a number from 0 to 1000"),
    ("points_per_yuan", "1_0", "must be a number"),
    ("points_per_yuan", "", "must be a number"),
    ("birthday_multiplier", "0.9999", "must be a number from 1 to 100"),
    ("birthday_multiplier", "100.0001", "must be a number from 1 to 100"),
    ("birthday_multiplier", "nan", "must be a number from 1 to 100"),
    ("tier_multiplier.VIP", "0", "must be a number above 0 and up to 100"),
    ("tier_multiplier.VIP", "100.5", "must be a number above 0 and up to 100"),
    ("tier_multiplier.VIP", "-1", "must be a number above 0 and up to 100"),
    ("tier_multiplier.V I P", "2", "a tier's name is at most 40 printable characters"),
    ("tier_multiplier." + "T" * 41, "2", "a tier's name is at most 40 printable characters"),
    ("expiry_months", "0", "must be a whole number from 1 to 120"),
    ("expiry_months", "121", "must be a whole number from 1 to 120"),
    ("expiry_months", "12.0", "must be a whole number from 1 to 120"),
    ("expiry_months", "٣", "must be a whole number from 1 to 120"),  # an Arabic-Indic 3
    ("expiry_months", "9" * 5000, "must be a whole number from 1 to 120"),
    ("first_purchase_bonus", "-1", "must be a whole number from 0 to 1000000"),
    ("first_purchase_bonus", "1000001", "must be a whole number from 0 to 1000000"),
    ("referral_bonus", "1000001", "must be a whole number from 0 to 1000000"),
    ("feedback_bonus", "1e3", "must be a whole number from 0 to 1000000"),
    ("tier_upgrade_bonus", "-5", "must be a whole number from 0 to 1000000"),
    ("level_window_months", "0", "must be a whole number from 1 to 60"),
    ("level_window_months", "61", "must be a whole number from 1 to 60"),
    ("level_grace_months", "61", "must be a whole number from 0 to 60"),
    ("level_grace_months", "-1", "must be a whole number from 0 to 60"),
    ("expiring_soon_days", "0", "must be a whole number from 1 to 366"),
    ("expiring_soon_days", "367", "must be a whole number from 1 to 366"),
    ("bogus", "1", "unknown setting"),
]


@pytest.mark.parametrize(("key", "value", "reason"), LOYALTY_REFUSED)
def test_loyalty_setting_refused_in_one_line(loyalty, kehu_cli, key, value, reason):
    before = kehu_cli("loyalty", "settings", "list", "--json").json
    line = one_line(kehu_cli("loyalty", "settings", "set", "--", key, value))
    assert line.startswith(f"Error: {key}: ") and reason in line, line
    assert line.endswith("setting refused, nothing was changed"), line
    assert kehu_cli("loyalty", "settings", "list", "--json").json == before


LOYALTY_ACCEPTED = [
    ("points_per_yuan", "0", Decimal(0)),  # only bonus rules earn
    ("points_per_yuan", "1000", Decimal(1000)),
    ("points_per_yuan", "0.0001", Decimal("0.0001")),
    ("points_per_yuan", " 2.5 ", Decimal("2.5")),
    ("birthday_multiplier", "1", Decimal(1)),
    ("birthday_multiplier", "100", Decimal(100)),
    ("tier_multiplier.VIP", "0.0001", Decimal("0.0001")),
    ("tier_multiplier.VIP", "100", Decimal(100)),
    ("tier_multiplier.钻石", "3", Decimal(3)),
    ("expiry_months", "1", 1),
    ("expiry_months", "120", 120),
    ("first_purchase_bonus", "0", 0),
    ("first_purchase_bonus", "1000000", 1000000),
    ("level_grace_months", "0", 0),
    ("level_window_months", "60", 60),
    ("expiring_soon_days", "366", 366),
]


@pytest.mark.parametrize(("key", "value", "parsed"), LOYALTY_ACCEPTED)
def test_loyalty_setting_boundaries_accepted(loyalty, kehu_cli, key, value, parsed):
    done = kehu_cli("loyalty", "settings", "set", key, value)
    assert done.exit_code == 0, done
    with loyalty.session() as s:
        settings = load_settings(s)
    if key.startswith(TIER_PREFIX):
        assert settings.tier_multipliers[key[len(TIER_PREFIX) :]] == parsed
    else:
        assert getattr(settings, key) == parsed


def test_loyalty_api_refuses_with_a_validation_error(loyalty):
    with pytest.raises(ValidationError) as refused, loyalty.session() as s:
        api.set_setting(s, "points_per_yuan", "1e999")
    assert [(p.field, p.value) for p in refused.value.problems] == [("points_per_yuan", "1e999")]
    assert "\n" not in str(refused.value)


def test_a_bad_value_stored_earlier_is_named_with_the_fix(loyalty, kehu_cli):
    """A value stored before the checks (``1e999``) no longer blocks purchases with a traceback:
    one line names the setting and the command that fixes it."""

    with loyalty.session() as s:
        customers.add_customer(loyalty, s, {"code": "C1", "name": "华为"})
        s.execute(SETTINGS.update().where(SETTINGS.c.key == "points_per_yuan").values(value="1e999"))
    assert kehu_cli("loyalty", "enroll", "C1").exit_code == 0
    line = one_line(kehu_cli("interaction", "log", "C1", "purchase", "--amount", "100"))
    assert "loyalty setting points_per_yuan holds '1e999'" in line, line
    assert "kehu loyalty settings set points_per_yuan VALUE" in line
    assert kehu_cli("loyalty", "settings", "set", "points_per_yuan", "1").exit_code == 0
    assert kehu_cli("interaction", "log", "C1", "purchase", "--amount", "100").exit_code == 0
    assert kehu_cli("loyalty", "balance", "C1", "--json").json["balance"] == 100 + 100  # + first purchase


# -- complaints' settings ----------------------------------------------------------------------


@pytest.fixture
def complaints(kehu_app, kehu_install):
    kehu_install("complaints")
    return kehu_app


COMPLAINTS_REFUSED = [
    ("chinese_holidays", "maybe", "must be true or false"),
    ("chinese_holidays", "", "must be true or false"),
    ("chinese_holidays", "2", "must be true or false"),
    ("chinese_holidays", "nein", "must be true or false"),
    ("timezone", "Mars/Olympus", "an IANA time zone name"),
    ("timezone", "../../etc/passwd", "an IANA time zone name"),
    ("timezone", "", "an IANA time zone name"),
    ("business_hours", "18:00-09:00", "a working window must start before it ends"),
    ("business_hours", "09:00-12:00,11:00-13:00", "working windows overlap"),
    ("business_hours", "9-12", "working windows are HH:MM-HH:MM"),
    ("business_hours", "09:00+08:00-12:00", "working windows are HH:MM-HH:MM"),
    ("business_hours", "24:00-25:00", "working windows are HH:MM-HH:MM"),
    ("business_hours", ",", "working windows are HH:MM-HH:MM"),
    ("business_hours", ",".join(f"{h:02d}:00-{h:02d}:30" for h in range(13)), "at most 12 working windows"),
    ("approval_threshold", "-5", "must be a non-negative amount"),
    ("approval_threshold", "1e999", "must be a non-negative amount"),
    ("approval_threshold", "NaN", "must be a non-negative amount"),
    ("approval_threshold", "Infinity", "must be a non-negative amount"),
    ("approval_threshold", "10000000000000", "must be a non-negative amount"),
    ("approval_threshold", "1.005", "must be a non-negative amount"),
    ("auto_close_days", "-1", "a whole number of days from 0 (never) to 3650"),
    ("auto_close_days", "3651", "a whole number of days from 0 (never) to 3650"),
    ("auto_close_days", "1.5", "a whole number of days from 0 (never) to 3650"),
    ("auto_close_days", HUGE, "a whole number of days from 0 (never) to 3650"),
    ("tier_method", "RFM; DROP TABLE", "a tiering method's name"),
    ("colour", "red", "unknown setting"),
]


@pytest.mark.parametrize(("key", "value", "reason"), COMPLAINTS_REFUSED)
def test_complaints_setting_refused_in_one_line(complaints, kehu_cli, key, value, reason):
    before = kehu_cli("complaint", "settings", "--json").json
    line = one_line(kehu_cli("complaint", "settings", "--", key, value))
    assert line.startswith(f"Error: {key}: ") and reason in line, line
    assert line.endswith("setting refused, nothing was changed"), line
    assert kehu_cli("complaint", "settings", "--json").json == before


COMPLAINTS_ACCEPTED = [
    *((word, True) for word in ("true", "TRUE", "yes", "1", "on", " On ")),
    *((word, False) for word in ("false", "no", "0", "off", "OFF")),
]


@pytest.mark.parametrize(("word", "flag"), COMPLAINTS_ACCEPTED)
def test_chinese_holidays_accepts_the_usual_words_only(complaints, kehu_cli, word, flag):
    done = kehu_cli("complaint", "settings", "chinese_holidays", word, "--json")
    assert done.exit_code == 0, done
    assert done.json["chinese_holidays"] is flag


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("approval_threshold", "0", "0.00"),
        ("approval_threshold", "9999999999999.99", "9999999999999.99"),
        ("auto_close_days", "0", 0),
        ("auto_close_days", "3650", 3650),
        ("business_hours", "00:00-23:59", [["00:00", "23:59"]]),
        ("timezone", "UTC", "UTC"),
        ("tier_method", "rfm", "rfm"),
    ],
)
def test_complaints_setting_boundaries_accepted(complaints, kehu_cli, key, value, stored):
    done = kehu_cli("complaint", "settings", key, value, "--json")
    assert done.exit_code == 0, done
    assert done.json[key] == stored


def test_complaints_api_refuses_a_bool_for_a_number(complaints):
    with pytest.raises(ValidationError, match="auto_close_days: a whole number"), complaints.session() as s:
        set_setting(s, "auto_close_days", True)


# -- ACME's setting ----------------------------------------------------------------------------


def test_acme_key_account_manager_refuses_control_characters(kehu_app, kehu_install):
    kehu_install("acme_rules")
    for bad in ("", "   ", "x" * 101, "王\x00芳", "王\n芳"):
        with pytest.raises(ValidationError) as refused, kehu_app.session() as s:
            set_key_account_manager(kehu_app, s, bad)
        assert str(refused.value).startswith("key_account_manager: must be 1 to 100 ")
        assert "\n" not in str(refused.value)
    with kehu_app.session() as s:
        assert key_account_manager(s) is None
        assert set_key_account_manager(kehu_app, s, "王" * 100) == "王" * 100


# -- tiering's run settings --------------------------------------------------------------------


@pytest.mark.parametrize("cuts", ["NaN,95", "sNaN,95", "80,Infinity", "1e999,95"])
def test_tiering_cuts_refuse_nan_and_infinity(kehu_app, kehu_install, kehu_cli, cuts):
    kehu_install("tiering")
    result = kehu_cli("tier", "run", "--abc-cuts", cuts)
    assert result.exit_code == 1, result
    assert "abc_cuts: each cut point must be above 0 and at most 100" in result.stderr
    assert "Traceback" not in result.output


# -- database URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "mysql://x",
        "mysql+pymysql://u:secret@host/db",
        "mssql+pyodbc://host/db",
        "oracle://host",
        "http://example.com",
        "postgresql+psycopg2://u:secret@host/db",
        "postgresql+asyncpg://host/db",
        "sqlite+pysqlcipher:///x.db",
    ],
)
def test_unsupported_database_is_one_line(url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    expected = "kehu runs on SQLite and PostgreSQL"
    with pytest.raises(KehuError, match=f"^unsupported database .*: {expected}") as refused:
        create_db_engine(url)
    assert "secret" not in str(refused.value)
    runner = CliRunner()
    for args, env in (
        (["--db", url, "customer", "list"], {}),
        (["customer", "list"], {"KEHU_DATABASE_URL": url}),
        (["init"], {"KEHU_DATABASE_URL": url}),
    ):
        result = runner.invoke(create_cli(), args, env=env)
        assert result.exit_code == 1, (args, result.output)
        line = result.stderr.strip()
        assert line.startswith("Error: unsupported database ") and expected in line, line
        assert "\n" not in line and "secret" not in line
    assert list(tmp_path.iterdir()) == []  # no kehu.db created


@pytest.mark.parametrize("url", ["://x", "://u:secret@x", "mysql://x:notaport"])
def test_garbage_database_url_is_one_line(url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(create_cli(), ["--db", url, "customer", "list"])
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert line.startswith("Error: unsupported database"), line
    assert "kehu runs on SQLite and PostgreSQL" in line and "\n" not in line and "secret" not in line


# -- huge counts and ids in the plugins' commands ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("loyalty", "statement", "C1", "--limit", HUGE), "--limit"),
        (("loyalty", "statement", "C1", "--limit", "-1"), "--limit"),
        (("complaint", "list", "--limit", HUGE), "--limit"),
        (("complaint", "list", "--limit", "0"), "--limit"),
        (("complaint", "show", HUGE), "COMPLAINT_ID"),
        (("complaint", "move", HUGE, "acknowledged"), "COMPLAINT_ID"),
        (("complaint", "move", "1", "acknowledged", "--expect-version", HUGE), "--expect-version"),
        (("forecast", "show", HUGE), "[RUN_ID]"),
        (("forecast", "history", "--periods", HUGE), "--periods"),
        (("forecast", "run", "--history", HUGE), "--history"),
        (("forecast", "run", "--horizon", HUGE), "--horizon"),
        (("forecast", "run", "--jobs", HUGE), "--jobs"),
        (("forecast", "backtest", "--folds", HUGE), "--folds"),
        (("forecast", "backtest", "--horizon", HUGE), "--horizon"),
        (("forecast", "gap", "--bottomup", HUGE), "--bottomup"),
        (("forecast", "reconcile", "--topdown", HUGE), "--topdown"),
        (("forecast", "targets", "--run", HUGE), "--run"),
        (("forecast", "topdown", "--window", HUGE), "--window"),
        (
            ("forecast", "market", "set", "2026-01", "region", "华东", "--potential", "1", "--months", HUGE),
            "--months",
        ),
    ],
)
def test_huge_counts_and_ids_are_one_line(kehu_app, kehu_install, kehu_cli, args, option):
    kehu_install("loyalty", "complaints", "forecast")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    result = kehu_cli(*args)
    assert result.exit_code == 2, result
    assert f"Invalid value for '{option}'" in result.stderr, result
    assert "Traceback" not in result.output


# -- non-text codecs through the API -----------------------------------------------------------


@pytest.mark.parametrize("codec", ["base64", "rot13", "zlib", "hex", "bz2", "uu", "quopri"])
def test_non_text_codecs_are_refused_by_the_api(kehu_app, codec, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("code,name\nC1,华为\n", encoding="utf-8")
    message = f"{codec!r} is not a text encoding; use one of utf-8, utf-8-sig, gbk"
    with pytest.raises(KehuError, match=f"^{message}"):
        check_encoding(codec)
    with pytest.raises(KehuError, match=f"^{message}"):
        CsvStream(io.BytesIO(b"code,name\n"), codec)
    for service in (import_customers, import_interactions):
        with pytest.raises(KehuError, match=f"^{message}"), kehu_app.session() as s:
            service(kehu_app, s, str(path), encoding=codec)
    with kehu_app.session() as s:
        assert s.scalars(select(Customer)).all() == []


def test_the_cli_and_the_api_give_the_same_message(kehu_app, kehu_cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("code,name\nC1,华为\n", encoding="utf-8")
    cli = kehu_cli("customer", "import", str(path), "--encoding", "base64")
    assert cli.exit_code == 1, cli
    with pytest.raises(KehuError) as api, kehu_app.session() as s:
        import_customers(kehu_app, s, str(path), encoding="base64")
    assert cli.stderr.strip() == f"Error: {api.value}"
    for unknown in ("no-such-codec", "utf\x00-8"):
        with pytest.raises(KehuError, match="^unknown encoding"):
            check_encoding(unknown)


@pytest.mark.parametrize("codec", ["utf-8", "UTF8", "gbk", "gb18030", "latin-1", "utf-16"])
def test_text_codecs_still_work(codec):
    assert check_encoding(codec)
