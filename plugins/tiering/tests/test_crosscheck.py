"""ABC, the pyramid and RFM computed independently with pandas must give exactly the same classes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select
from tiering_helpers import AS_OF, generated, run
from tiering_reference import classify

from kehu_core.models import Customer, Interaction
from kehu_tiering.api import customer_stats
from kehu_tiering.engine import delete_history
from kehu_tiering.models import assignments as a
from kehu_tiering.models import snapshots as snap
from kehu_tiering.settings import make_settings

OPTIONS = (
    {},
    {"window": "all"},
    {"window": 6, "measure": "margin"},
    {"abc_cuts": "70,90", "pyramid_cuts": "2,10,40"},
    # As of a day after every purchase: the as-of month's buckets are used whole (no raw read).
    {"as_of": date(2026, 7, 31)},
    {"as_of": date(2026, 7, 31), "window": 3},
)


def _frames(app: Any) -> tuple[Any, Any]:
    with app.session() as session:
        customers = pd.DataFrame(
            session.execute(select(Customer.id.label("customer_id")).where(Customer.active.is_(True)))
            .mappings()
            .all()
        )
        purchases = pd.DataFrame(
            session.execute(
                select(
                    Interaction.customer_id,
                    Interaction.occurred_at,
                    Interaction.amount,
                    Interaction.cost,
                ).where(Interaction.kind == "purchase", Interaction.status == "done")
            )
            .mappings()
            .all()
        )
    return customers, purchases


def _current(app: Any) -> tuple[dict[tuple[int, str], str], dict[int, tuple[int, int, int]]]:
    with app.session() as session:
        rows = session.execute(
            select(a.c.customer_id, a.c.method, a.c.tier).where(a.c.valid_to.is_(None))
        ).all()
        # The RFM scores of the run that set each current RFM row (its typed snapshot).
        scores = {
            cid: (r, f, m)
            for cid, r, f, m in session.execute(
                select(a.c.customer_id, snap.c.r_score, snap.c.f_score, snap.c.m_score)
                .join(snap, (snap.c.run_id == a.c.run_id) & (snap.c.customer_id == a.c.customer_id))
                .where(a.c.valid_to.is_(None), a.c.method == "rfm")
            )
        }
    got = {(cid, method): tier for cid, method, tier in rows}
    return got, scores


def test_same_classes_as_pandas(tiering_app: Any) -> None:
    """Every option set, on data with many ties, refunds, costs missing and purchases after the as-of date."""
    generated(tiering_app, 160, seed=3)
    customers, purchases = _frames(tiering_app)

    for options in OPTIONS:
        with tiering_app.session() as session:
            delete_history(session)  # a first run each time: every snapshot is fresh
        run(tiering_app, **options)
        window = options.get("window", 12)
        expected = classify(
            customers,
            purchases,
            options.get("as_of", AS_OF),
            window=None if window == "all" else int(window),
            measure=options.get("measure", "revenue"),
            abc_cuts=tuple(float(x) for x in options.get("abc_cuts", "80,95").split(",")),
            pyramid_cuts=tuple(float(x) for x in options.get("pyramid_cuts", "1,5,50").split(",")),
        )
        got, scores = _current(tiering_app)
        assert len(expected) == 160
        for cid, row in expected.iterrows():
            assert got[(cid, "abc")] == row.abc, (options, cid)
            assert got[(cid, "pyramid")] == row.pyramid, (options, cid)
            assert got[(cid, "rfm")] == row.rfm, (options, cid)
            expected_scores = tuple(
                None if pd.isna(v) else int(v) for v in (row.r_score, row.f_score, row.m_score)
            )
            assert scores[cid] == expected_scores, (options, cid)
        # The data has ties (a few distinct amounts), and every class occurs.
        assert expected["abc"].nunique() == 3 and expected["pyramid"].nunique() >= 3, options


def test_one_customer_stats_agree_with_the_run(tiering_app: Any) -> None:
    """``kehu tier stats`` ranks in one query (subqueries); the run in temporary tables: same answers."""

    ids = generated(tiering_app, 60, seed=5)
    run(tiering_app)
    got, scores = _current(tiering_app)
    codes = {cid: code for code, cid in ids.items()}
    with tiering_app.session() as session:
        active = {cid for (cid,) in session.query(Customer.id).filter(Customer.active.is_(True))}
        for cid in sorted(active)[::4]:
            row = customer_stats(tiering_app, session, codes[cid], make_settings(as_of=AS_OF))
            assert (row["abc"], row["pyramid"], row["rfm"]) == (
                got[(cid, "abc")],
                got[(cid, "pyramid")],
                got[(cid, "rfm")],
            )
            assert (row["r_score"], row["f_score"], row["m_score"]) == scores[cid]
