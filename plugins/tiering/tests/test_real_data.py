"""Tiering on data shaped like a real retail log, and the edges of the rules that read it:
change-heavy re-runs, RFM over buyers, the key-account rule, upgrade potential, the
key-account / poor-quality conflict, and what ``tier explain`` shows after a second run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tiering_helpers import AS_OF, add_customers, current, purchase, record, run


def _history(app: Any) -> list[Any]:
    from sqlalchemy import select

    from kehu_tiering.models import assignments as a

    with app.session() as session:
        return session.execute(select(a).order_by(a.c.id)).all()


def test_change_heavy_rerun_closes_every_moved_row_once(tiering_app: Any) -> None:
    """Every customer moves: each old row is closed by the second run, one current row each."""
    codes = [f"M{i:03d}" for i in range(40)]
    ids = add_customers(tiering_app, codes)
    when = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[c], when, 100 * (i + 1)) for i, c in enumerate(codes)])
    run(tiering_app)
    first = current(tiering_app, "pyramid")
    # The order turns over: the smallest buy the most in June.
    later = datetime(2026, 6, 20, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[c], later, 100_000 * (40 - i)) for i, c in enumerate(codes)])
    result = run(tiering_app, as_of=date(2026, 6, 30))
    second = current(tiering_app, "pyramid")
    moved = [cid for cid in first if first[cid] != second[cid]]
    assert len(moved) >= 20
    rows = [r for r in _history(tiering_app) if r.method == "pyramid"]
    for cid in moved:
        mine = [(r.tier, r.valid_to, r.ended_run_id) for r in rows if r.customer_id == cid]
        assert mine == [(first[cid], date(2026, 6, 30), result.run_id), (second[cid], None, None)]
    assert sum(1 for r in rows if r.valid_to is None) == 40


def test_explain_shows_the_latest_runs_numbers_and_window(tiering_app: Any, kehu_cli: Any) -> None:
    """The tier stays the same across two runs; explain shows the second run's date, window, numbers."""
    ids = add_customers(tiering_app, ["E1", "E2"])
    record(
        tiering_app,
        [
            purchase(ids["E1"], datetime(2026, 5, 1, 10, tzinfo=UTC), 9000),
            purchase(ids["E2"], datetime(2026, 5, 1, 10, tzinfo=UTC), 100),
        ],
    )
    run(tiering_app)  # as of 2026-06-15, window 12
    record(tiering_app, [purchase(ids["E1"], datetime(2026, 6, 20, 10, tzinfo=UTC), 1000)])
    run(tiering_app, as_of=date(2026, 6, 30), window=6)
    explained = kehu_cli("tier", "explain", "E1", "--json").json["explanations"]
    pyramid = next(e for e in explained if e["method"] == "pyramid")
    assert pyramid["tier"] == "VIP"
    assert pyramid["valid_from"] == AS_OF.isoformat()  # first given by the first run
    assert pyramid["run_as_of"] == "2026-06-30"
    assert pyramid["cut_points"]["window_months"] == 6
    assert float(pyramid["metrics"]["revenue_window"]) == 10000.0  # 9000 + 1000, not 9000
    text = kehu_cli("tier", "explain", "E1").output
    assert "10000" in text and "numbers of the run as of" in text and "2026-06-30" in text
