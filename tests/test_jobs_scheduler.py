"""``kehu jobs list`` and ``kehu jobs run-due``: due jobs run once, every run is logged, failures isolated."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kehu_core import Job, hookimpl, jobs
from kehu_core.errors import NotFound
from kehu_core.models import Customer, JobRun
from kehu_core.plugins import discover
from kehu_core.types import utcnow


class Scheduler:
    """A plugin object with three jobs: two that work and one that fails after writing."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _count(self, app, session, now):
        self.calls.append("count")
        return f"{session.scalar(select(func.count()).select_from(Customer))} customers"

    def _stamp(self, app, session, now):
        self.calls.append("stamp")
        session.add(Customer(code=f"JOB{len(self.calls)}", name="定时任务", kind="company"))
        return None

    def _broken(self, app, session, now):
        self.calls.append("broken")
        session.add(Customer(code="BROKEN", name="不应保存", kind="company"))
        session.flush()
        raise RuntimeError("upstream API down 接口不可用")

    @hookimpl
    def kehu_scheduled_jobs(self):
        return [
            Job(
                name="sched.count",
                interval=timedelta(hours=1),
                run=self._count,
                plugin="sched",
                description="Count customers",
            ),
            Job(name="sched.broken", interval=timedelta(minutes=5), run=self._broken, plugin="sched"),
            Job(name="sched.stamp", interval=timedelta(days=1), run=self._stamp, plugin="sched"),
        ]


@pytest.fixture
def kehu_plugins():
    """No pip-installed plugin: only the scheduler registered by each test."""
    return discover(strict=False, allow=set())


@pytest.fixture
def scheduler(kehu_register_plugin):
    plugin = Scheduler()
    kehu_register_plugin(plugin, "sched")
    return plugin


def runs(app) -> list[tuple[str, str]]:
    with app.session() as s:
        return [tuple(r) for r in s.execute(select(JobRun.job, JobRun.status).order_by(JobRun.id))]


def codes(app) -> list[str]:
    with app.session() as s:
        return list(s.scalars(select(Customer.code).order_by(Customer.code)))


def test_list_shows_every_job_due_before_its_first_run(kehu_cli, scheduler):
    result = kehu_cli("jobs", "list", "--json")
    assert result.exit_code == 0, result
    assert [
        (j["name"], j["plugin"], j["interval_seconds"], j["due"], j["last_run"]) for j in result.json
    ] == [
        ("sched.broken", "sched", 300, True, None),
        ("sched.count", "sched", 3600, True, None),
        ("sched.stamp", "sched", 86400, True, None),
    ]
    table = kehu_cli("jobs", "list").output
    assert "sched.count" in table and "1h" in table and "1d" in table and "5m" in table


def test_run_due_survives_a_failing_job_logs_everything_and_is_idempotent(kehu_app, kehu_cli, scheduler):
    first = kehu_cli("jobs", "run-due", "--json")
    assert first.exit_code == 1  # a job failed: cron sees it
    outcomes = {o["name"]: o for o in first.json}
    assert {n: o["status"] for n, o in outcomes.items()} == {
        "sched.broken": "failed",
        "sched.count": "ok",
        "sched.stamp": "ok",
    }
    assert "RuntimeError: upstream API down 接口不可用" in outcomes["sched.broken"]["message"]
    assert outcomes["sched.count"]["message"] == "0 customers"
    assert sorted(scheduler.calls) == ["broken", "count", "stamp"]
    assert codes(kehu_app) == ["JOB3"]  # the failing job's write was rolled back, the others' kept
    assert sorted(runs(kehu_app)) == [
        ("sched.broken", "failed"),
        ("sched.count", "ok"),
        ("sched.stamp", "ok"),
    ]

    # Again at once: the jobs that succeeded are not due; only the failed one is retried.
    second = kehu_cli("jobs", "run-due", "--json")
    assert [(o["name"], o["status"]) for o in second.json] == [("sched.broken", "failed")]
    assert codes(kehu_app) == ["JOB3"] and len(runs(kehu_app)) == 4

    listed = {j["name"]: j for j in kehu_cli("jobs", "list", "--json").json}
    assert listed["sched.count"]["due"] is False and listed["sched.count"]["last_status"] == "ok"
    assert listed["sched.broken"]["due"] is True and listed["sched.broken"]["last_status"] == "failed"


def test_jobs_run_again_once_their_interval_has_passed(kehu_app, scheduler):
    start = utcnow()
    jobs.run_due(kehu_app, now=start)
    assert jobs.run_due(kehu_app, now=start + timedelta(minutes=30), names=["sched.count"]) == []
    later = jobs.run_due(kehu_app, now=start + timedelta(hours=2))
    assert [(o.name, o.status) for o in later] == [("sched.broken", "failed"), ("sched.count", "ok")]
    assert jobs.run_count(kehu_app) == 5
    assert [r.job for r in jobs.job_history(kehu_app, "sched.count")] == ["sched.count", "sched.count"]


def test_force_and_unknown_names(kehu_app, kehu_cli, scheduler):
    assert kehu_cli("jobs", "run-due", "sched.count").exit_code == 0
    assert kehu_cli("jobs", "run-due", "sched.count").stdout.strip() == "nothing due"
    forced = kehu_cli("jobs", "run-due", "sched.count", "--force")
    assert forced.exit_code == 0 and forced.stdout.strip() == "sched.count: ok - 0 customers"
    unknown = kehu_cli("jobs", "run-due", "sched.nope")
    assert unknown.exit_code == 1 and "no job named sched.nope" in unknown.output
    with pytest.raises(NotFound):
        jobs.run_due(kehu_app, names=["sched.nope"])


def test_jobs_of_a_plugin_not_installed_here_are_not_run(kehu_app, kehu_cli, kehu_register_plugin):
    plugin = Scheduler()
    kehu_register_plugin(plugin, "sched", install=False)
    assert kehu_cli("jobs", "list", "--json").json == []
    assert kehu_cli("jobs", "run-due").stdout.strip() == "nothing due"
    assert plugin.calls == []


def test_a_job_running_in_another_process_is_not_run_twice(kehu_app, kehu_cli, scheduler):
    """Cron fires again while a long run of sched.stamp is still going (its row says running)."""
    with kehu_app.session() as s:
        s.add(
            JobRun(
                job="sched.stamp",
                plugin="sched",
                started_at=utcnow() - timedelta(minutes=10),
                status="running",
            )
        )
    result = kehu_cli("jobs", "run-due", "sched.stamp", "sched.count", "--json")
    assert result.exit_code == 0, result  # busy is not a failure
    assert [(o["name"], o["status"]) for o in result.json] == [("sched.stamp", "busy"), ("sched.count", "ok")]
    assert scheduler.calls == ["count"]
    listed = {j["name"]: j for j in kehu_cli("jobs", "list", "--json").json}
    assert listed["sched.stamp"]["last_status"] == "running"


def test_a_run_whose_process_died_is_marked_abandoned_and_the_job_runs(kehu_app, scheduler):
    with kehu_app.session() as s:
        s.add(
            JobRun(
                job="sched.stamp",
                plugin="sched",
                started_at=utcnow() - jobs.STALE_AFTER - timedelta(minutes=1),
                status="running",
            )
        )
    outcomes = jobs.run_due(kehu_app, names=["sched.stamp"])
    assert [(o.name, o.status) for o in outcomes] == [("sched.stamp", "ok")]
    history = jobs.job_history(kehu_app, "sched.stamp")
    assert [r.status for r in history] == ["ok", "failed"]
    assert history[1].message.startswith("abandoned: still running after")


def test_overlapping_run_due_calls_run_each_job_once(kehu_app, kehu_register_plugin):
    """Two schedulers at once (threads here, processes under cron): every job runs exactly once."""
    ran: list[str] = []

    class Slow:
        @hookimpl
        def kehu_scheduled_jobs(self):
            def work(app, session, now):
                ran.append("slow")
                time.sleep(0.3)  # long enough for the other scheduler to arrive meanwhile
                return "done"

            return [Job(name="slow.job", interval=timedelta(hours=1), run=work, plugin="slow")]

    kehu_register_plugin(Slow(), "slow")
    barrier = threading.Barrier(2)
    results: list[list] = []

    def scheduler():
        barrier.wait()
        results.append(jobs.run_due(kehu_app))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ran == ["slow"]
    statuses = sorted(o.status for outcome in results for o in outcome)
    assert statuses in (["busy", "ok"], ["ok"])
    assert [r.status for r in jobs.job_history(kehu_app, "slow.job")] == ["ok"]
