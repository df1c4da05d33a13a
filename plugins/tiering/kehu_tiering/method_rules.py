"""Each method (ABC, pyramid, RFM) and each flag of a run, with the rules that decide it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import case, literal, null

from kehu_tiering.rules import TierRule
from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS, TIER_METHODS, TierSettings
from kehu_tiering.stats import RFM_SEGMENTS

#: Every class a method itself can give (rule overrides only pick among these too).
METHOD_TIERS = {"abc": ABC_TIERS, "pyramid": PYRAMID_TIERS, "rfm": tuple(RFM_SEGMENTS)}


@frozen
class Target:
    """One assignment method of the run (``abc`` ... or ``flag:<name>``) and its deciding rules.

    In ``tiering_new`` it has two columns: ``t<k>``, the class the method itself gives (NULL
    for a flag), and ``r<k>``, the number (1-based, in application order) of the first rule
    whose condition holds, 0 when none does (NULL for a flag no rule raises).
    """

    key: int
    method: str
    rules: tuple[TierRule, ...]

    @property
    def is_flag(self) -> bool:
        """True for a flag (``flag:<name>``): raised by its rules, no class of its own."""
        return self.method.startswith("flag:")

    def tier(self, t: Any, r: Any) -> Any:
        """The assignment's tier from the ``t``/``r`` columns (NULL: no assignment)."""
        if self.is_flag:
            return case((r.is_not(None), literal(self.method[5:])), else_=null())
        if not self.rules:
            return t
        return case(*((r == n, literal(rule.tier)) for n, rule in enumerate(self.rules, 1)), else_=t)

    def decided_by(self, r: Any) -> Any:
        """The name of the rule (or method) that decided it."""
        whens = [(r == n, literal(rule.name)) for n, rule in enumerate(self.rules, 1)]
        if self.is_flag:
            return case(*whens, else_=null())
        return case(*whens, else_=literal(self.method)) if whens else literal(self.method)

    def possible_tiers(self) -> tuple[str, ...]:
        """Every tier this target can give (what the per-tier counts look for)."""
        return (self.method[5:],) if self.is_flag else METHOD_TIERS[self.method]


def targets_of(settings: TierSettings, rules: Sequence[TierRule]) -> list[Target]:
    """The run's methods, then one target per flag, each with its rules in application order."""
    targets: list[Target] = []
    for method in TIER_METHODS:
        if method in settings.methods:
            targets.append(
                Target(
                    len(targets), method, tuple(r for r in rules if r.tier is not None and r.method == method)
                )
            )
    if "flags" in settings.methods:
        flags: dict[str, list[TierRule]] = {}
        for rule in rules:
            if rule.flag is not None:
                flags.setdefault(rule.flag, []).append(rule)
        for flag, members in flags.items():
            targets.append(Target(len(targets), f"flag:{flag}", tuple(members)))
    return targets
