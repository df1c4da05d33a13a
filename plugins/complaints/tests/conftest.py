"""Fixtures for the complaints plugin's tests: an app with the plugin installed, customers, times."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kehu_complaints import api
from kehu_core import customers
from kehu_core.plugins import Plugins, discover

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Shanghai wall-clock time, e.g. ``at("2025-09-30 16:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def kehu_plugins() -> Plugins:
    """Only this plugin, strictly: other plugins cannot disturb these tests, and a load error fails."""
    return discover(strict=True, allow={"complaints"})


@pytest.fixture
def app(kehu_app: Any, kehu_install: Any) -> Any:
    """The test app with the complaints plugin installed and two customers."""
    kehu_install("complaints")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "上海华盛贸易有限公司", "owner": "王芳"})
        customers.add_customer(kehu_app, s, {"code": "C2", "name": "张伟", "kind": "person"})
    return kehu_app


def open_one(app: Any, when: str = "2025-03-03 09:00", actor: str = "王芳", **values: Any) -> Any:
    """Open a complaint for C1 at Shanghai time ``when``."""
    fields = {"customer_code": "C1", "description": "打印机卡纸", **values}
    with app.session() as s:
        return api.open_complaint(app, s, fields, actor, now=at(when))


def move(app: Any, complaint_id: int, target: str, when: str, actor: str = "王芳", **kw: Any) -> Any:
    """Move a complaint at Shanghai time ``when``."""
    with app.session() as s:
        return api.move(app, s, complaint_id, target, actor, now=at(when), **kw)


def path(until: str = "resolved", solution: str = "补发") -> list[tuple[str, dict[str, Any]]]:
    """The moves of the happy path from ``new`` up to ``until``: (stage, keyword arguments)."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("acknowledged", {}),
        ("investigating", {}),
        ("solution_proposed", {"changes": {"solution": solution}}),
        ("customer_agreed", {}),
        ("in_progress", {}),
        ("resolved", {}),
    ]
    return steps[: [stage for stage, _ in steps].index(until) + 1]


def walk(
    app: Any,
    complaint_id: int,
    when: str,
    until: str = "resolved",
    actor: str = "王芳",
    solution: str = "补发",
) -> None:
    """Move a complaint along the happy path up to ``until``, every move at Shanghai time ``when``."""
    for stage, kw in path(until, solution):
        move(app, complaint_id, stage, when, actor, **kw)


def get(app: Any, complaint_id: int) -> Any:
    """The complaint's current record."""
    with app.session() as s:
        return api.get_complaint(app, s, complaint_id)


@pytest.fixture
def h() -> Any:
    """The helpers above, for test modules (importlib mode cannot import conftest)."""
    return SimpleNamespace(at=at, open_one=open_one, move=move, path=path, walk=walk, get=get)
