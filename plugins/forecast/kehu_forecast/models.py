"""The forecast plugin's tables: SQLAlchemy Core Tables on its own MetaData (dropped whole on uninstall)."""

from __future__ import annotations

import sqlalchemy as sa

from kehu_core.models import NAMING_CONVENTION, BigId
from kehu_core.types import Money, UTCDateTime, utcnow

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Sales pipeline (销售漏斗). Only ``status`` says won or lost; a probability of 0 or 1 does not
#: (Odoo's bug odoo#127470 was to infer the status from the probability).
opportunities = sa.Table(
    "forecast_opportunities",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("ref", sa.String(64), nullable=False, unique=True, info={"personal": False}),
    sa.Column(
        "customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("salesperson", sa.String(100), nullable=False, info={"personal": False}),
    sa.Column("amount", Money, nullable=False),
    sa.Column("stage", sa.String(100), nullable=False, info={"personal": False}),
    sa.Column("probability", sa.Numeric(5, 4), nullable=False),
    sa.Column("close_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(8), nullable=False, default="open", info={"personal": False}),
    sa.Column("note", sa.Text, info={"personal": True}),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow),
)

#: Top-down inputs: market potential per period for a region, an industry or the company,
#: with the expected market share, or a growth rate over the same period a year before.
market_inputs = sa.Table(
    "forecast_market_inputs",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("period", sa.Date, nullable=False),
    sa.Column("dimension", sa.String(16), nullable=False),
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("potential", Money),
    sa.Column("share", sa.Numeric(7, 6)),
    sa.Column("growth", sa.Numeric(9, 6)),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow),
    sa.UniqueConstraint("period", "dimension", "key", name="uq_forecast_market_inputs_period"),
)

#: One forecast run: bottom-up, top-down or reconciled, with its settings.
runs = sa.Table(
    "forecast_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("method", sa.String(64), nullable=False),
    sa.Column("freq", sa.String(8), nullable=False),
    sa.Column("first_period", sa.Date, nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("history_end", sa.Date, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("source", sa.String(16), nullable=False, default="cli"),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

#: The values of a run at every node of the hierarchy and every period, in cents-exact money.
#: ``value`` is coherent (children sum to parent); ``base`` is the node's own forecast before
#: reconciliation; ``low``/``high`` the pessimistic/optimistic scenarios.
values = sa.Table(
    "forecast_values",
    metadata,
    sa.Column("run_id", BigId, sa.ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("level", sa.String(16), primary_key=True, info={"personal": False}),
    sa.Column("node", sa.String(250), primary_key=True, info={"personal": False}),
    sa.Column("period", sa.Date, primary_key=True),
    sa.Column("parent", sa.String(250), info={"personal": False}),
    sa.Column("customer_id", BigId, index=True),
    sa.Column("value", Money, nullable=False),
    sa.Column("base", Money),
    sa.Column("low", Money),
    sa.Column("high", Money),
    sa.Column("pipeline", Money),
    sa.Column("method", sa.String(32), info={"personal": False}),
)

#: SMART targets per salesperson and period, saved from a reconciled run.
targets = sa.Table(
    "forecast_targets",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("run_id", BigId, sa.ForeignKey("forecast_runs.id", ondelete="SET NULL")),
    sa.Column("salesperson", sa.String(100), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("baseline", Money, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    #: The status last recorded (on track, behind, met, missed) and the day it was judged on;
    #: a change fires ``kehu_forecast_target_status_changed``.
    sa.Column("status", sa.String(16)),
    sa.Column("status_as_of", sa.Date),
    sa.UniqueConstraint("salesperson", "period_start", name="uq_forecast_targets_salesperson"),
)

#: Which customers make up a target, and how much of it each.
target_lines = sa.Table(
    "forecast_target_lines",
    metadata,
    sa.Column("target_id", BigId, sa.ForeignKey("forecast_targets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("amount", Money, nullable=False),
)

#: Planning text is the sales team's own writing about the company's plan, not a customer's record.
_PLAN_TEXT = {"personal": False}

#: A sales plan (销售计划) in the five steps of the planning procedure (计划的基本作业程序):
#: the situation (掌握情势, internal and external), the targets it serves (设定目标,
#: :data:`plan_targets`), assumptions (前提假定), actions (拟定行动计划) and the budget
#: (编列预算). Attached to a forecast run, to targets, or both.
plans = sa.Table(
    "forecast_plans",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, info=_PLAN_TEXT),
    sa.Column("run_id", BigId, sa.ForeignKey("forecast_runs.id", ondelete="SET NULL")),
    sa.Column("situation_internal", sa.Text, info=_PLAN_TEXT),
    sa.Column("situation_external", sa.Text, info=_PLAN_TEXT),
    sa.Column("created_by", sa.String(100), nullable=False, info=_PLAN_TEXT),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

#: The targets a plan serves, by their natural key (salesperson, first day): a target set again
#: from a newer run replaces the row but stays the plan's.
plan_targets = sa.Table(
    "forecast_plan_targets",
    metadata,
    sa.Column("plan_id", BigId, sa.ForeignKey("forecast_plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("salesperson", sa.String(100), primary_key=True, info=_PLAN_TEXT),
    sa.Column("period_start", sa.Date, primary_key=True),
)

#: Assumptions (前提假定): the forecast of the environment the plan rests on; ``kind`` says
#: what changes it is about (the trend, competitors, customers, market demand, the company).
plan_assumptions = sa.Table(
    "forecast_plan_assumptions",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "plan_id", BigId, sa.ForeignKey("forecast_plans.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("kind", sa.String(16), nullable=False, info=_PLAN_TEXT),
    sa.Column("text", sa.Text, nullable=False, info=_PLAN_TEXT),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

#: Actions (拟定行动计划): what will be done, in which order (``priority`` 1 first; empty
#: when not given), by whom, by when, with which resources, for which target.
plan_actions = sa.Table(
    "forecast_plan_actions",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "plan_id", BigId, sa.ForeignKey("forecast_plans.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("title", sa.String(250), nullable=False, info=_PLAN_TEXT),
    sa.Column("priority", sa.Integer),
    sa.Column("owner", sa.String(100), nullable=False, info=_PLAN_TEXT),
    sa.Column("due", sa.Date, nullable=False),
    sa.Column("resources", sa.Text, info=_PLAN_TEXT),
    sa.Column("target_salesperson", sa.String(100), info=_PLAN_TEXT),
    sa.Column("target_start", sa.Date),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

#: The budget (编列预算): the resources in money (``amount``) and the result expected of them
#: (``expected``, revenue), optionally for one action.
plan_budget = sa.Table(
    "forecast_plan_budget",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "plan_id", BigId, sa.ForeignKey("forecast_plans.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("item", sa.String(250), nullable=False, info=_PLAN_TEXT),
    sa.Column("amount", Money, nullable=False),
    sa.Column("expected", Money, nullable=False),
    sa.Column("action_id", BigId, sa.ForeignKey("forecast_plan_actions.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)
