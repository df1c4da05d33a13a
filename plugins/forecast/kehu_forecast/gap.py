"""The gap report: top-down against bottom-up at every level (the course material's first classic mistake
is not balancing 由上而下 against 由下而上). Gaps at or above the threshold are flagged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from attrs import asdict, frozen
from sqlalchemy.orm import Session

from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_forecast import hierarchy as H
from kehu_forecast.money import cents_to_decimal as D
from kehu_forecast.names import pick
from kehu_forecast.plan import Plan, load, visible_plan
from kehu_forecast.visibility import require_levels

_ = messages("kehu_forecast").gettext

DEFAULT_THRESHOLD = 10.0
#: The levels a gap report shows by default.
LEVELS = ("company", "region", "salesperson")


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


@frozen
class GapReport:
    """The two runs compared, the months they share, and one row per node."""

    bottom_up: Plan
    top_down: Plan
    periods: list[date]
    threshold: float
    rows: list[GapRow]

    @property
    def flagged(self) -> int:
        """How many nodes are flagged."""
        return sum(1 for r in self.rows if r.flagged)


def _months(plan: Plan) -> str:
    first, last = plan.periods[0], plan.periods[-1]
    unit = "%Y-%m" if plan.freq == "month" else "%Y-%m-%d"
    return f"{first:{unit}}" if first == last else f"{first:{unit}} .. {last:{unit}}"


def gap_report(
    session: Session,
    *,
    bu_run: int | None = None,
    td_run: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    levels: tuple[str, ...] = LEVELS,
) -> GapReport:
    """Load both runs (newest by default) and compare them over the periods both cover.

    Two runs without a period in common cannot be compared: that is refused, naming both
    runs' periods, rather than reported as a gap of zero. Only the customers the acting user
    sees count (salespeople are summed from them); the region and company levels need
    permission ``forecast.company``.
    """
    levels = tuple(pick("level", level, H.LEVEL_NAMES) for level in levels)
    require_levels(session, levels)
    bu = visible_plan(session, load(session, bu_run, kind="bottomup"))
    td = visible_plan(session, load(session, td_run, kind="topdown"))
    common = [p for p in bu.periods if p in td.periods]
    if not common:
        raise KehuError(
            _(
                "bottom-up run {bu} ({bu_months}) and top-down run {td} ({td_months}) "
                "have no period in common: nothing to compare. Choose runs over the same months with "
                "--bottomup ID and --topdown ID (see `kehu forecast runs`)."
            ).format(bu=bu.run_id, bu_months=_months(bu), td=td.run_id, td_months=_months(td))
        )
    rows = gap_rows(bu, td, threshold=threshold, levels=levels)
    return GapReport(bottom_up=bu, top_down=td, periods=common, threshold=threshold, rows=rows)


def as_dict(row: GapRow) -> dict[str, Any]:
    """A gap row as a plain mapping."""
    return asdict(row)
