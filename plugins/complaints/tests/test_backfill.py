"""Catching up after writing without complaints (issue 16, point 7): ``kehu complaint backfill``.

``complaint`` interactions imported with ``kehu --without-plugin complaints`` open no
complaint; ``kehu complaint backfill`` opens one each, at the interaction's time, as the hook
would have; running it again opens nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kehu_complaints.models import COMPLAINTS
from kehu_core import users
from kehu_core.plugins import discover

HEADER = "external_ref,customer_code,kind,occurred_at,category,note"
ROWS = [
    "R1,C1,complaint,2025-03-03 09:00,quality,打印机卡纸",
    "R2,C2,complaint,2025-03-04 10:00,delivery,送货晚了三天",
    "R3,C1,purchase,2025-03-05 11:00,,",
    "R4,C2,complaint,2025-03-10 15:00,nonsense,态度差",
]


def complaints(app: Any) -> list[tuple[str, str, str | None]]:
    with app.session() as s:
        rows = s.execute(
            select(COMPLAINTS.c.category, COMPLAINTS.c.description, COMPLAINTS.c.status).order_by(
                COMPLAINTS.c.opened_at
            )
        ).all()
    return [tuple(r) for r in rows]


def count(app: Any) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(COMPLAINTS))


def write_without(app: Any, kehu_cli: Any, tmp_path: Any, monkeypatch: Any, rows: list[str]) -> None:
    path = tmp_path / "interactions.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    monkeypatch.setenv("KEHU_PLUGINS", "")
    app.plugins = discover(strict=False)
    app.forget_installed_cache()
    refused = kehu_cli("interaction", "import", str(path))
    assert refused.exit_code == 1 and "kehu complaint backfill" in refused.stderr, refused
    assert kehu_cli("--without-plugin", "complaints", "interaction", "import", str(path)).exit_code == 0
    monkeypatch.delenv("KEHU_PLUGINS")
    app.plugins = discover(strict=True, allow={"complaints"})
    app.forget_installed_cache()


def test_backfill_opens_the_missed_complaints_once(app, kehu_cli, tmp_path, monkeypatch):
    write_without(app, kehu_cli, tmp_path, monkeypatch, ROWS)
    assert count(app) == 0
    result = kehu_cli("complaint", "backfill", "--json")
    assert result.exit_code == 0, result
    assert result.json == {"interactions": 3, "opened": 3}
    assert complaints(app) == [
        ("quality", "打印机卡纸", "received"),
        ("delivery", "送货晚了三天", "received"),
        ("other", "态度差", "received"),
    ]
    again = kehu_cli("complaint", "backfill", "--json")
    assert again.exit_code == 0 and again.json == {"interactions": 0, "opened": 0}, again
    assert count(app) == 3


def test_backfill_matches_the_hook(app, kehu_cli, tmp_path):
    """The same file imported with the plugin loaded opens the same complaints."""
    path = tmp_path / "loaded.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert kehu_cli("interaction", "import", str(path)).exit_code == 0
    loaded = complaints(app)
    assert len(loaded) == 3
    result = kehu_cli("complaint", "backfill", "--json")
    assert result.json == {"interactions": 0, "opened": 0}  # the hook opened them already
    assert complaints(app) == loaded


def test_backfill_since(app, kehu_cli, tmp_path, monkeypatch):
    write_without(app, kehu_cli, tmp_path, monkeypatch, ROWS)
    result = kehu_cli("complaint", "backfill", "--since", "2025-03-04", "--json")
    assert result.json == {"interactions": 2, "opened": 2}, result
    assert kehu_cli("complaint", "backfill").stdout.startswith("opened 1 complaint(s)")
    assert count(app) == 3


def test_backfill_skips_forgotten_customers(app, kehu_cli, tmp_path, monkeypatch):
    write_without(app, kehu_cli, tmp_path, monkeypatch, ROWS)
    assert kehu_cli("customer", "forget", "C2", "--yes").exit_code == 0
    result = kehu_cli("complaint", "backfill", "--json")
    assert result.json == {"interactions": 1, "opened": 1}, result


def test_backfill_needs_complaints_manage(app, kehu_cli, tmp_path, monkeypatch):
    write_without(app, kehu_cli, tmp_path, monkeypatch, ROWS)
    with app.session() as s:
        users.add_user(app, s, "boss", roles=["admin"])
        users.add_user(app, s, "svc", roles=["service"])
    refused = kehu_cli("--as", "svc", "complaint", "backfill")
    assert refused.exit_code == 1 and "complaints.manage" in refused.stderr, refused
    assert count(app) == 0
    assert kehu_cli("--as", "boss", "complaint", "backfill").exit_code == 0
    assert count(app) == 3
