"""Catching up after writing without loyalty (issue 16, point 7): ``kehu loyalty backfill``.

Purchases, a refund and feedback imported with ``kehu --without-plugin loyalty`` earn
nothing; ``kehu loyalty backfill`` then earns exactly what they would have earned with loyalty
loaded throughout (hand-checked numbers, and the ledger of twin customers whose identical
interactions were imported with loyalty loaded), and running it again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_core import users
from kehu_core.plugins import discover
from kehu_loyalty import api
from kehu_loyalty.models import LEDGER

HEADER = "external_ref,customer_code,kind,occurred_at,amount,satisfaction"


#: One "now" for every file of a test: the loaded and the written-without files must hold the
#: same times (a busy machine can take more than a second between writing the two).
NOW = datetime.now(UTC).replace(microsecond=0)


def moment(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def interactions(prefix: str, first: str, second: str) -> str:
    """Customer ``first``: ¥100, ¥250.50, a refund of ¥100; ``second``: ¥80 and feedback."""
    rows = [
        f"{prefix}1,{first},purchase,{moment(60)},100,",
        f"{prefix}2,{second},purchase,{moment(55)},80,",
        f"{prefix}3,{second},feedback,{moment(54)},,5",
        f"{prefix}4,{first},purchase,{moment(50)},250.50,",
        f"{prefix}5,{first},purchase,{moment(40)},-100,",
    ]
    return "\n".join([HEADER, *rows]) + "\n"


#: Hand-checked under the default settings (1 point per yuan, first purchase bonus 100,
#: feedback bonus 20, no birthdays, no tiers): 100 + 100 + 250 - 100; 80 + 100 + 20.
FIRST_BALANCE, SECOND_BALANCE = 350, 200


def ledger_shape(shop: Any, code: str) -> list[tuple[str, int, str | None, int]]:
    return [(e["kind"], e["points"], e["expires_at"], e["shortfall"]) for e in shop.ledger(code)]


def entries(app: Any) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(LEDGER))


@pytest.fixture
def written_without(shop, kehu_cli, tmp_path, monkeypatch):
    """Members L1, L2 imported with loyalty loaded; their twins W1, W2 without it."""
    for code in ("L1", "L2", "W1", "W2"):
        shop.customer(code, since="2020-01-01")
    loaded = tmp_path / "loaded.csv"
    loaded.write_text(interactions("L", "L1", "L2"), encoding="utf-8")
    assert kehu_cli("interaction", "import", str(loaded)).exit_code == 0
    monkeypatch.setenv("KEHU_PLUGINS", "tiering,complaints")
    shop.app.plugins = discover(strict=False)
    shop.app.forget_installed_cache()
    without = tmp_path / "without.csv"
    without.write_text(interactions("W", "W1", "W2"), encoding="utf-8")
    refused = kehu_cli("interaction", "import", str(without))
    assert refused.exit_code == 1 and "kehu loyalty backfill" in refused.stderr, refused
    done = kehu_cli("--without-plugin", "loyalty", "interaction", "import", str(without))
    assert done.exit_code == 0, done
    monkeypatch.delenv("KEHU_PLUGINS")
    shop.app.plugins = discover(strict=False)
    shop.app.forget_installed_cache()
    assert "loyalty" in shop.app.plugins.loaded
    return shop


def test_writing_without_loyalty_earns_nothing(written_without):
    shop = written_without
    assert (shop.balance("L1"), shop.balance("L2")) == (FIRST_BALANCE, SECOND_BALANCE)
    assert (shop.balance("W1"), shop.balance("W2")) == (0, 0)
    assert shop.ledger("W1") == []


def test_backfill_earns_what_loyalty_loaded_throughout_earns(written_without, kehu_cli):
    shop = written_without
    result = kehu_cli("loyalty", "backfill", "--json")
    assert result.exit_code == 0, result
    report = result.json
    assert report["members"] == 4
    assert report["interactions"] == 10  # the twins' too: they earned already, and earn nothing again
    # W1: earn 100, bonus 100, earn 250; W2: earn 80, bonus 100, feedback bonus 20; W1's refund.
    assert (report["entries"], report["points"]) == (6, 650)
    assert (report["refunds"], report["reversed_points"], report["shortfall"]) == (1, 100, 0)
    assert (shop.balance("W1"), shop.balance("W2")) == (FIRST_BALANCE, SECOND_BALANCE)
    assert ledger_shape(shop, "W1") == ledger_shape(shop, "L1")
    assert ledger_shape(shop, "W2") == ledger_shape(shop, "L2")
    assert [e["kind"] for e in shop.ledger("W1")] == ["earn", "bonus", "earn", "refund"]


def test_backfill_again_changes_nothing(written_without, kehu_cli):
    shop = written_without
    assert kehu_cli("loyalty", "backfill").exit_code == 0
    before = entries(shop.app), shop.ledger("W1"), shop.ledger("W2")
    again = kehu_cli("loyalty", "backfill", "--json")
    assert again.exit_code == 0, again
    assert {k: again.json[k] for k in ("entries", "points", "refunds", "reversed_points", "shortfall")} == {
        "entries": 0,
        "points": 0,
        "refunds": 0,
        "reversed_points": 0,
        "shortfall": 0,
    }
    assert (entries(shop.app), shop.ledger("W1"), shop.ledger("W2")) == before


def test_backfill_since_leaves_earlier_interactions_alone(written_without, kehu_cli):
    shop = written_without
    since = (datetime.now(UTC) - timedelta(days=52)).date().isoformat()
    result = kehu_cli("loyalty", "backfill", "--since", since, "--json")
    assert result.exit_code == 0, result
    # Only W1's ¥250.50 (its first purchase seen: + the bonus) and its refund of ¥100 are that recent.
    assert (result.json["entries"], result.json["points"], result.json["reversed_points"]) == (2, 350, 100)
    assert shop.balance("W1") == 250 and shop.balance("W2") == 0
    assert kehu_cli("loyalty", "backfill").exit_code == 0  # the rest, later
    assert (shop.balance("W1"), shop.balance("W2")) == (FIRST_BALANCE, SECOND_BALANCE)


def test_backfill_table_output(written_without, kehu_cli):
    result = kehu_cli("loyalty", "backfill")
    assert result.exit_code == 0, result
    assert "points earned" in result.stdout and "650" in result.stdout


def test_backfill_without_members_does_nothing(shop, kehu_cli):
    result = kehu_cli("loyalty", "backfill", "--json")
    assert result.exit_code == 0, result
    assert result.json["members"] == 0 and result.json["entries"] == 0


def test_backfill_needs_loyalty_manage(written_without, kehu_cli):
    shop = written_without
    with shop.app.session() as s:
        users.add_user(shop.app, s, "boss", roles=["admin"])
        users.add_user(shop.app, s, "mgr", roles=["manager"])
        users.add_user(shop.app, s, "li", roles=["sales"], team="east")
    refused = kehu_cli("--as", "li", "loyalty", "backfill")
    assert refused.exit_code == 1, refused
    assert "loyalty.manage" in refused.stderr and "\n" not in refused.stderr.strip()
    assert shop.balance("W1") == 0
    assert kehu_cli("--as", "mgr", "loyalty", "backfill").exit_code == 0
    assert shop.balance("W1") == FIRST_BALANCE


def test_the_api(written_without):
    shop = written_without
    seen: list[tuple[int, int | None]] = []
    with shop.app.session() as s:
        result = api.catch_up(shop.app, s, progress=lambda done, total: seen.append((done, total)))
    assert (result.entries, result.points) == (6, 650)
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
