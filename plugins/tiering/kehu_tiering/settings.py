"""The parameters of a tiering run, with their defaults and sources, validated in one place.

Cut points are percentages. Defaults:

* ABC (二八法则, Pareto): A while the customers ahead hold less than 80% of the measure, B
  below 95%, C the rest. Source: the course material, 大客户管理:
  "企业80%的销售收入和利润来自仅占20%的重要客户".
* Pyramid (客户金字塔): VIP = top 1% of customers by rank, major (主要客户) = down to 5%,
  ordinary (普通客户) = down to 50%, small (小客户) = the bottom 50%. Source: the course material,
  客户分级管理 "小客户 ... 剩下的后50%的客户"; the top cuts 1% and 5% follow the textbook
  pyramid 1% / 4% / 15% / 80% (use ``--pyramid-cuts 1,5,20`` for that one).
* Window: 12 calendar months ending with the as-of month; measure: revenue.
* RFM "new" (新客户): first purchase at most 90 days before the as-of date (``new_days``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import evolve, frozen

from kehu_core import calendar
from kehu_core.choices import Vocabulary
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.validation import FieldError
from kehu_tiering.vocab import MEASURE, METHOD, TIER_METHOD

_ = messages("kehu_tiering").gettext

METHODS = ("abc", "pyramid", "rfm", "flags")
TIER_METHODS = ("abc", "pyramid", "rfm")
MEASURES = ("revenue", "margin")
ABC_TIERS = ("A", "B", "C")
PYRAMID_TIERS = ("VIP", "主要客户", "普通客户", "小客户")
PYRAMID_ALIASES = {"vip": "VIP", "major": "主要客户", "ordinary": "普通客户", "small": "小客户"}
DEFAULT_ABC_CUTS = (Decimal(80), Decimal(95))
DEFAULT_PYRAMID_CUTS = (Decimal(1), Decimal(5), Decimal(50))
TEXTBOOK_PYRAMID_CUTS = (Decimal(1), Decimal(5), Decimal(20))
DEFAULT_WINDOW = 12
#: RFM's "new" (新客户): a first purchase at most this many days before the as-of date.
DEFAULT_NEW_DAYS = 90
#: The method whose class is the customer's tier; the other methods give segments.
DEFAULT_TIER_METHOD = "pyramid"


@frozen
class TierSettings:
    """What a run computes: as of which date, over which window, by which measure and cuts.

    ``window`` is a number of calendar months ending with the as-of month, or ``None`` for
    all history. ``tier_method`` is the method whose class is *the* tier of a customer (what
    ``kehu_customer_tiers`` answers and ``customer list`` shows).
    """

    as_of: date
    window: int | None = DEFAULT_WINDOW
    measure: str = "revenue"
    abc_cuts: tuple[Decimal, ...] = DEFAULT_ABC_CUTS
    pyramid_cuts: tuple[Decimal, ...] = DEFAULT_PYRAMID_CUTS
    tier_method: str = DEFAULT_TIER_METHOD
    methods: tuple[str, ...] = METHODS
    rules_files: tuple[str, ...] = ()
    new_days: int = DEFAULT_NEW_DAYS

    def to_json(self) -> dict[str, Any]:
        """Plain values for ``tiering_runs.settings``."""
        return {
            "as_of": self.as_of.isoformat(),
            "window": self.window,
            "measure": self.measure,
            "abc_cuts": [str(c) for c in self.abc_cuts],
            "pyramid_cuts": [str(c) for c in self.pyramid_cuts],
            "tier_method": self.tier_method,
            "methods": list(self.methods),
            "rules_files": list(self.rules_files),
            "new_days": self.new_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], **overrides: Any) -> TierSettings:
        """The settings stored with a run (``overrides`` replace some, e.g. ``as_of``)."""
        values = {**data, **overrides}
        if "primary" in values:  # what runs recorded before the setting was named tier_method
            values.setdefault("tier_method", values.pop("primary"))
        return make_settings(
            **{
                k: values[k]
                for k in (
                    "as_of",
                    "window",
                    "measure",
                    "abc_cuts",
                    "pyramid_cuts",
                    "tier_method",
                    "methods",
                    "rules_files",
                    "new_days",
                )
                if k in values
            }
        )

    def with_as_of(self, as_of: date) -> TierSettings:
        """The same settings on another date."""
        return evolve(self, as_of=as_of)


@frozen
class RuleContext:
    """What a run passes to ``kehu_tier_rules``: its date, its window and its settings.

    Attributes:
        as_of: the local day the run classifies as of; it sees everything up to the end of it.
        window_start: the first local day of the window (the first day of its first calendar
            month), or ``None`` when the window is all history.
        window_end: the last local day of the window: the as-of day.
        settings: every setting of the run (``window`` in months, ``measure``, cuts ...).

    Dates are Python ``date`` values: compare them with statistics through
    :func:`kehu_tiering.functions.days_between`, e.g.
    ``days_between(STATS.c.last_purchase_at, context.as_of) <= 30``.
    """

    as_of: date
    window_start: date | None
    window_end: date
    settings: TierSettings


def rule_context(settings: TierSettings) -> RuleContext:
    """The :class:`RuleContext` of a run with ``settings``."""
    months = settings.window
    start = None
    if months is not None:
        start = calendar.shift(settings.as_of.replace(day=1), 1 - months, "month")
    return RuleContext(as_of=settings.as_of, window_start=start, window_end=settings.as_of, settings=settings)


def _cuts(value: Any, count: int, field: str, problems: list[Problem]) -> tuple[Decimal, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    try:
        cuts = tuple(Decimal(str(v).strip().rstrip("%")) for v in items)
    except (InvalidOperation, ValueError):
        problems.append(
            Problem(field, _("cut points are percentages separated by commas, e.g. 80,95"), value=str(value))
        )
        return ()
    if len(cuts) != count:
        problems.append(
            Problem(field, _("needs exactly {count} cut points").format(count=count), value=str(value))
        )
    elif any(not c.is_finite() or not (Decimal(0) < c <= Decimal(100)) for c in cuts):
        problems.append(Problem(field, _("each cut point must be above 0 and at most 100"), value=str(value)))
    elif any(a >= b for a, b in zip(cuts, cuts[1:])):
        problems.append(Problem(field, _("cut points must increase strictly"), value=str(value)))
    elif any(c != c.quantize(Decimal("0.01")) for c in cuts):
        problems.append(Problem(field, _("cut points have at most two decimals"), value=str(value)))
    return cuts


def parse_window(value: Any) -> int | None:
    """``12`` -> 12, ``all`` -> None; raises ValidationError otherwise."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    try:
        months = int(str(value).strip())
    except ValueError:
        months = 0
    if not 1 <= months <= 1200:
        raise ValidationError(
            [Problem("window", _("a number of months from 1 to 1200, or 'all'"), value=str(value))],
            headline=_("bad tiering settings:"),
        )
    return months


def parse_date(value: Any, field: str = "as_of") -> date:
    """A date from ``YYYY-MM-DD`` (or a date); raises ValidationError naming ``field``."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(
            [Problem(field, _("not a date; use YYYY-MM-DD"), value=str(value))],
            headline=_("bad tiering settings:"),
        ) from None


def _parsed(vocab: Vocabulary, value: Any, name: str, problems: list[Problem]) -> str:
    """``value`` as the code ``vocab`` knows it by; a problem when it names none."""
    try:
        return vocab.parse(str(value))
    except FieldError as exc:
        problems.append(Problem(name, str(exc), value=str(value)))
        return str(value)


def make_settings(
    as_of: Any,
    window: Any = DEFAULT_WINDOW,
    measure: str = "revenue",
    abc_cuts: Any = DEFAULT_ABC_CUTS,
    pyramid_cuts: Any = DEFAULT_PYRAMID_CUTS,
    tier_method: str = DEFAULT_TIER_METHOD,
    methods: Sequence[str] | str = METHODS,
    rules_files: Sequence[str] = (),
    new_days: Any = DEFAULT_NEW_DAYS,
) -> TierSettings:
    """Validate raw values (strings from the CLI or JSON) into :class:`TierSettings`.

    Raises :class:`~kehu_core.errors.ValidationError` listing every bad value.
    """
    problems: list[Problem] = []
    day = parse_date(as_of)
    months = parse_window(window)
    measure = _parsed(MEASURE, measure, "measure", problems)
    abc = _cuts(abc_cuts, 2, "abc_cuts", problems)
    pyramid = _cuts(pyramid_cuts, 3, "pyramid_cuts", problems)
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.replace("，", ",").split(",") if m.strip()]
    methods = [_parsed(METHOD, m, "method", problems) for m in methods]
    if not methods:
        problems.append(Problem("method", _("give at least one method"), value=_("(none)")))
    tier_method = _parsed(TIER_METHOD, tier_method, "tier_method", problems)
    try:
        days = int(str(new_days).strip())
    except ValueError:
        days = -1
    if not 1 <= days <= 3650:
        problems.append(Problem("new_days", _("a number of days from 1 to 3650"), value=str(new_days)))
    if problems:
        raise ValidationError(problems, headline=_("bad tiering settings:"))
    ordered = tuple(m for m in METHODS if m in methods)
    return TierSettings(
        as_of=day,
        window=months,
        measure=measure,
        abc_cuts=abc,
        pyramid_cuts=pyramid,
        tier_method=tier_method,
        methods=ordered,
        rules_files=tuple(rules_files),
        new_days=days,
    )
