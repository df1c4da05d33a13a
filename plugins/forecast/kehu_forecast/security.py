"""The forecast plugin's permissions and the roles that hold them by default (``kehu roles``).

* ``forecast.run``: make and store forecast runs (``run``, ``topdown``, ``reconcile``) and
  record the targets' statuses: managers. Reading a run needs no permission, but shows only
  the customers the reader sees.
* ``forecast.plan``: set SMART targets from a plan and change the market figures (potential,
  share, growth): managers. Both are written to the audit trail (``kehu audit --entity
  forecast.target`` / ``forecast.market``).
* ``forecast.opportunity``: add, move and import opportunities: managers and sales. A
  salesperson's record rule still applies: only opportunities of customers they see, so a
  salesperson works the pipeline of their own customers (or their team's) and no other.
* ``forecast.company``: see the levels above the salesperson (regions, the company), the
  company totals of runs and plots, the market figures and the gap report at those levels:
  managers. Without it those are refused; customer and salesperson levels are computed over
  the customers the reader sees.
"""

from __future__ import annotations

from kehu_core.security import Permission

RUN = "forecast.run"
PLAN = "forecast.plan"
OPPORTUNITY = "forecast.opportunity"
COMPANY = "forecast.company"

PERMISSIONS = (
    Permission(
        RUN, "make and store forecast runs (run, topdown, reconcile), record target statuses", ("manager",)
    ),
    Permission(PLAN, "set SMART targets and change market figures", ("manager",)),
    Permission(
        OPPORTUNITY, "add, move and import opportunities of the customers one sees", ("manager", "sales")
    ),
    Permission(
        COMPANY, "see forecasts above the salesperson: regions, company totals, market figures", ("manager",)
    ),
)
