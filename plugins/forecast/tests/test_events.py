"""The plugin's domain events, seen by another plugin registered for the test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_core import hookimpl
from kehu_core.errors import HookError
from kehu_core.interactions import write_interactions
from kehu_forecast import api
from kehu_forecast.models import runs, targets

JAN_15 = datetime(2026, 1, 15, 2, tzinfo=UTC)  # 10:00 in Shanghai


class Listener:
    """Another plugin: records what it is told, and what its session sees at that moment."""

    def __init__(self) -> None:
        self.saved: list[Any] = []
        self.rows_seen: list[int] = []
        self.changes: list[list[Any]] = []

    @hookimpl
    def kehu_forecast_saved(self, app: Any, session: Any, run: Any) -> None:
        self.saved.append(run)
        self.rows_seen.append(
            session.scalar(select(func.count()).select_from(runs).where(runs.c.id == run.run_id))
        )

    @hookimpl
    def kehu_forecast_target_status_changed(self, app: Any, session: Any, changes: Any) -> None:
        self.changes.append(list(changes))


class Refusing:
    """A plugin that refuses every run it is told about."""

    @hookimpl
    def kehu_forecast_saved(self, run: Any) -> None:
        raise RuntimeError(f"run {run.run_id} refused")


def test_saving_a_run_tells_other_plugins_inside_the_transaction(fc, company, kehu_register_plugin):
    listener = Listener()
    kehu_register_plugin(listener, "listener")
    with company.session() as session:
        plan = api.run_forecast(
            company, session, api.Options(as_of=date(2026, 1, 15), horizon=3), source="script"
        )
    [run] = listener.saved
    assert (run.run_id, run.kind, run.source, run.freq) == (plan.run_id, "bottomup", "script", "month")
    assert (run.first_period, run.last_period, run.history_end) == (
        date(2026, 1, 1),
        date(2026, 3, 1),
        date(2025, 12, 1),
    )
    assert run.total == Decimal(int(plan.value[0].sum())).scaleb(-2) and run.plan is plan
    assert listener.rows_seen == [1]  # the run is written when the event fires

    kehu_register_plugin(Refusing(), "refusing")
    with pytest.raises(HookError) as error, company.session() as session:
        api.run_forecast(company, session, api.Options(as_of=date(2026, 1, 15), horizon=3))
    assert error.value.plugin == "refusing"
    with company.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 1  # the refused run rolled back


def test_target_status_changes_are_told_once_each(fc, company, kehu_register_plugin):
    with company.session() as session:
        api.run_forecast(company, session, api.Options(as_of=date(2026, 1, 15), horizon=3))
        api.reconcile(company, session, "bottom-up")
        saved = api.set_targets(company, session, grouping="month")
    january = sorted(t.salesperson for t in saved if t.period_start == date(2026, 1, 1))
    assert january == ["张伟", "李娜", "王芳"]
    listener = Listener()
    kehu_register_plugin(listener, "listener")

    # Judged for the first time on 15 January: nothing bought yet this month, so all behind.
    with company.session() as session:
        first = api.update_target_statuses(company, session, JAN_15)
    assert sorted((c.salesperson, c.old_status, c.new_status) for c in first) == [
        ("张伟", None, "behind"),
        ("李娜", None, "behind"),
        ("王芳", None, "behind"),
    ]
    assert listener.changes == [first]
    # The same day again: nothing moved, nothing told.
    with company.session() as session:
        assert api.update_target_statuses(company, session, JAN_15) == []
    assert len(listener.changes) == 1

    # A large purchase by C1 puts 张伟 on track; only that change is told.
    with company.session() as session:
        write_interactions(
            company,
            session,
            fc.month_rows(company.ids["C1"], "C1", [100000.0], start=(2026, 1)),
            source="test",
        )
    with company.session() as session:
        second = api.update_target_statuses(company, session, JAN_15)
        recorded = dict(
            session.execute(
                select(targets.c.salesperson, targets.c.status).where(
                    targets.c.period_start == date(2026, 1, 1)
                )
            ).all()
        )
    assert [(c.salesperson, c.old_status, c.new_status, c.as_of) for c in second] == [
        ("张伟", "behind", "on track", date(2026, 1, 15))
    ]
    assert listener.changes[-1] == second
    assert recorded == {"张伟": "on track", "李娜": "behind", "王芳": "behind"}
