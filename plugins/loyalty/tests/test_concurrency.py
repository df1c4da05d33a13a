"""Eight processes redeem from the same customer at once: no negative balance, no double spend."""

from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import func, select

from kehu_core.app import Kehu
from kehu_core.errors import KehuError
from kehu_loyalty.models import ALLOCATIONS, LEDGER, REWARDS
from kehu_loyalty.rewards import add_reward, adjust, redeem

WORKERS = 8


def _redeem(url: str, code: str, barrier: mp.Barrier, results: mp.Queue) -> None:
    app = Kehu(url)
    barrier.wait()
    try:
        with app.session() as session:
            done = redeem(app, session, code, "GIFT")
        results.put(("applied", done.points))
    except KehuError as exc:
        results.put(("refused", str(exc)))
    except Exception as exc:  # anything else is a failure of the test
        results.put(("crashed", f"{type(exc).__name__}: {exc}"))
    finally:
        app.dispose()


def test_eight_processes_redeem_from_one_customer(shop, kehu_app):
    code = shop.customer()
    shop.run_app(adjust, code, 1000, "seed", key="s1")
    shop.run_app(adjust, code, 500, "seed", key="s2")  # two lots: spends must split across them
    shop.run(add_reward, "GIFT", "礼品", 400, 10)
    url = kehu_app.engine.url.render_as_string(hide_password=False)
    # forkserver: children fork from a clean server that imported kehu once (fast, and no
    # database connection of this process is inherited).
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(
        ["kehu_core.app", "kehu_loyalty.rewards", "psycopg", "sqlalchemy.dialects.postgresql"]
    )
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_redeem, args=(url, code, barrier, results)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    applied = [o for o in outcomes if o[0] == "applied"]
    refused = [o for o in outcomes if o[0] == "refused"]
    assert not [o for o in outcomes if o[0] == "crashed"], outcomes
    assert len(applied) == 3 and len(refused) == 5, outcomes  # 1500 points buy exactly 3 × 400
    assert all("has 300 points" in msg for _, msg in refused), refused
    assert shop.balance(code) == 300
    with kehu_app.session() as s:
        assert s.scalar(select(REWARDS.c.stock).where(REWARDS.c.code == "GIFT")) == 7
        spent = s.scalar(select(func.sum(ALLOCATIONS.c.points)))
        assert spent == 1200
        over = s.execute(
            select(LEDGER.c.id)
            .where(LEDGER.c.points > 0)
            .where(
                LEDGER.c.points
                < select(func.coalesce(func.sum(ALLOCATIONS.c.points), 0))
                .where(ALLOCATIONS.c.lot_id == LEDGER.c.id)
                .scalar_subquery()
            )
        ).all()
        assert over == []  # no lot was spent beyond its points
