"""The gap report: top-down against bottom-up at every level (the seed's first classic mistake
is not balancing 由上而下 against 由下而上). Gaps at or above the threshold are flagged."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from attrs import frozen

from kehu_forecast.money import cents_to_decimal as D

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kehu_forecast.plan import Plan

DEFAULT_THRESHOLD = 10.0


@frozen
class GapRow:
    """One node: bottom-up, top-down, the gap (top-down − bottom-up) and its percent of bottom-up."""

    level: str
    node: str
    parent: str | None
    bottom_up: Decimal
    top_down: Decimal
    gap: Decimal
    percent: float | None
    flagged: bool


def gap_rows(
    bu: Plan,
    td: Plan,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    levels: tuple[str, ...] = ("company", "region", "salesperson"),
) -> list[GapRow]:
    """The gap at every node of ``levels`` over the periods both plans cover."""
    common = [p for p in bu.periods if p in td.periods]
    bcols = [bu.periods.index(p) for p in common]
    tcols = [td.periods.index(p) for p in common]
    tindex = td.hierarchy.index()
    h = bu.hierarchy
    rows = []
    seen = set()
    for level in levels:
        for i in h.levels[level]:
            key = h.keys[i]
            seen.add((level, key))
            b = int(bu.value[i, bcols].sum())
            k = tindex.get((level, key))
            t = int(td.value[k, tcols].sum()) if k is not None else 0
            rows.append(_row(level, key, h.parent_key(int(i)), b, t, threshold))
        th = td.hierarchy
        for k in th.levels[level]:
            if (level, th.keys[k]) not in seen:
                rows.append(
                    _row(
                        level, th.keys[k], th.parent_key(int(k)), 0, int(td.value[k, tcols].sum()), threshold
                    )
                )
    return rows


def _row(level: str, key: str, parent: str | None, b: int, t: int, threshold: float) -> GapRow:
    pct = None if b == 0 else (t - b) / abs(b) * 100
    flagged = (t != b) if pct is None else abs(pct) >= threshold
    return GapRow(
        level=level,
        node=key,
        parent=parent,
        bottom_up=D(b),
        top_down=D(t),
        gap=D(t - b),
        percent=None if pct is None else round(pct, 2),
        flagged=flagged,
    )


def gap_report(
    session: Session,
    *,
    bu_run: int | None = None,
    td_run: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    levels: tuple[str, ...] = ("company", "region", "salesperson"),
) -> tuple[Plan, Plan, list[GapRow]]:
    """Load both runs (newest by default) and compare them."""
    from kehu_forecast.plan import load

    bu = load(session, bu_run, kind="bottomup")
    td = load(session, td_run, kind="topdown")
    return bu, td, gap_rows(bu, td, threshold=threshold, levels=levels)


def as_dict(row: GapRow) -> dict[str, Any]:
    """A gap row as a plain mapping."""
    from attrs import asdict

    return asdict(row)
