"""Shared data for the forecast tests: a small company whose numbers can be checked by hand."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_core.customers import add_customer
from kehu_core.interactions import write_interactions
from kehu_core.plugins import discover
from kehu_forecast.models import values as V

os.environ.setdefault("KEHU_TIMEZONE", "Asia/Shanghai")

AS_OF = "2026-01-15"
#: code, name, region, owner
CUSTOMERS = [
    ("C1", "上海华盛贸易", "华东", "张伟"),
    ("C2", "杭州恒泰科技", "华东", "张伟"),
    ("C3", "南京鑫达商贸", "华东", "王芳"),
    ("C4", "北京瑞丰实业", "华北", "李娜"),
    ("C5", "天津宏远医药", "华北", "李娜"),
]


def month_rows(
    cid: int, code: str, amounts: list[float], start: tuple[int, int] = (2024, 1), category: str = "耗材"
) -> list[dict[str, Any]]:
    """One purchase on the 10th of each month with a non-zero amount (noon Shanghai time)."""
    rows = []
    y, m = start
    for k, amount in enumerate(amounts):
        if amount:
            rows.append(
                dict(
                    customer_id=cid,
                    kind="purchase",
                    status="done",
                    occurred_at=datetime(y, m, 10, 4, 0, tzinfo=UTC),
                    amount=Decimal(str(amount)).quantize(Decimal("0.01")),
                    category=category,
                    external_ref=f"t:{code}:{k}:{amount}",
                )
            )
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return rows


def series() -> dict[str, list[float]]:
    """24 months (2024-01 .. 2025-12) per customer; C3 buys now and then, C5 had a refund."""
    regular = [1000 + 50 * i + (200 if i % 12 in (10, 11) else 0) for i in range(24)]
    return {
        "C1": regular,
        "C2": [500 + 10 * i for i in range(24)],
        "C3": [0, 0, 800, 0, 0, 0, 900, 0, 0, 0, 0, 700] * 2,
        "C4": [2000 - 20 * i for i in range(24)],
        "C5": [300] * 23 + [-100],
    }


@pytest.fixture
def kehu_plugins() -> Any:
    """Only this plugin, strictly: a hook or manifest error fails the test instead of being skipped."""

    return discover(strict=True, allow={"forecast"})


@pytest.fixture
def company(kehu_app: Any, kehu_install: Any) -> Any:
    """The forecast plugin installed and five customers with 24 months of purchases."""

    kehu_install("forecast")
    with kehu_app.session() as session:
        ids = {}
        for code, name, region, owner in CUSTOMERS:
            ids[code] = add_customer(
                kehu_app, session, {"code": code, "name": name, "region": region, "owner": owner}
            ).id
        rows = []
        for code, amounts in series().items():
            rows += month_rows(ids[code], code, amounts)
        write_interactions(kehu_app, session, rows, source="test")
    kehu_app.ids = ids
    return kehu_app


def check_coherent(session: Any, run_id: int) -> int:
    """Assert every parent is the sum of its children in the stored run, per period; returns rows checked."""

    child = V.alias("child")
    sums = (
        select(child.c.parent, child.c.level, child.c.period, func.sum(child.c.value).label("s"))
        .where(child.c.run_id == run_id, child.c.level != "company")
        .group_by(child.c.parent, child.c.level, child.c.period)
        .subquery()
    )
    parent_level = {"region": "company", "salesperson": "region", "customer": "salesperson"}
    checked = 0
    for parent, level, period, total in session.execute(select(sums)).all():
        value = session.scalar(
            select(V.c.value).where(
                V.c.run_id == run_id,
                V.c.node == parent,
                V.c.level == parent_level[level],
                V.c.period == period,
            )
        )
        assert abs(Decimal(value) - Decimal(total)) <= Decimal("0.01"), (parent, level, period, value, total)
        checked += 1
    assert checked
    return checked


def set_market(kehu_cli: Any, months: str = "3") -> None:
    """Market inputs from 2026-01 for ``months`` months: 华东 potential 100,000/month at 10% share,
    华北 40,000/month at 5%."""
    for region, potential, share in (("华东", "100000", "10%"), ("华北", "40000", "0.05")):
        result = kehu_cli(
            "forecast",
            "market",
            "set",
            "2026-01",
            "region",
            region,
            "--potential",
            potential,
            "--share",
            share,
            "--months",
            months,
        )
        assert result.exit_code == 0, result.output


class Helpers:
    """The helpers above, as a fixture (test modules cannot import conftest in importlib mode)."""

    AS_OF = AS_OF
    series = staticmethod(series)
    month_rows = staticmethod(month_rows)
    check_coherent = staticmethod(check_coherent)
    set_market = staticmethod(set_market)


@pytest.fixture
def fc() -> Helpers:
    """Test helpers: ``fc.AS_OF``, ``fc.series()``, ``fc.month_rows(...)``, ``fc.check_coherent(...)``,
    ``fc.set_market(kehu_cli)``."""
    return Helpers()
