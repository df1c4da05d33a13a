"""How a run was made, as people read it: the run's kind and method, and each customer's model.

A saved run keeps its method as written when it was made (``bottom-up (auto)``, ``top-down
by region (average_proportions)``, ``middle-out (average_proportions) at region``,
``mint-wls``) and the parts in its params (``method``, ``dimension``, ``allocation``,
``proportions``, ``middle_level``). ``--json``, ``--csv`` and the English tables show that
stored text; in another language the tables and summaries show a sentence composed from the
parts when shown (:func:`describe`). A run saved before the params held the parts is read from its method's
text; a method kehu does not know is shown as stored.

This module imports no model library (``kehu forecast runs`` and the profile card start
without statsforecast); the reconciliation vocabularies are declared here and
:mod:`kehu_forecast.reconcile` uses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kehu_core import i18n
from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_, messages
from kehu_forecast.hierarchy import LEVEL_NAMES
from kehu_forecast.topdown import ALLOCATION_NAMES, DIMENSION_NAMES

_ = messages("kehu_forecast").gettext

#: The reconciliation methods as people name them (由下而上, 由上而下, 由中间向外).
RECONCILE_METHOD_NAMES = Vocabulary(
    "kehu_forecast",
    N_("reconciliation method"),
    [
        Choice("bottom-up", N_("bottom-up"), aliases=("由下而上",)),
        Choice("top-down", N_("top-down"), aliases=("由上而下",)),
        Choice("middle-out", N_("middle-out"), aliases=("由中间向外", "中间层")),
        Choice("mint-ols", N_("MinT (OLS)"), aliases=("mint_ols",)),
        Choice("mint-wls", N_("MinT (WLS)"), aliases=("mint_wls", "最优调和")),
    ],
)
#: How a node's figure is split below it.
PROPORTION_NAMES = Vocabulary(
    "kehu_forecast",
    N_("proportions"),
    [
        Choice("average_proportions", N_("average of proportions"), aliases=("比例平均值", "平均比例")),
        Choice("proportion_averages", N_("proportion of averages"), aliases=("平均值比例",)),
        Choice("forecast_proportions", N_("forecast proportions"), aliases=("预测比例",)),
    ],
)
#: The levels middle-out may start from.
MIDDLE_LEVEL_NAMES = Vocabulary(
    "kehu_forecast",
    N_("middle level"),
    [
        Choice("region", N_("region"), aliases=("地区", "区域")),
        Choice("salesperson", N_("salesperson"), aliases=("业务员", "销售员", "销售代表")),
    ],
)
#: Who made a run: the command line, the daily job, the demo; a script names itself.
SOURCE_NAMES = Vocabulary(
    "kehu_forecast",
    N_("run source"),
    [
        Choice("cli", N_("command line"), aliases=("命令行",)),
        Choice("job", N_("scheduled job"), aliases=("定时任务",)),
        Choice("demo", N_("demo data"), aliases=("演示数据",)),
    ],
)
#: A customer's model, and the methods ``run --method`` and ``backtest --methods`` take. In
#: English each reads as the code people type; a translation names it (自动, 季节朴素), the
#: statistical models keeping their library names (AutoTheta, AutoETS, Croston).
MODEL_LABELS = {
    "auto": N_("auto"),
    "theta": N_("theta"),
    "ets": N_("ets"),
    "croston": N_("croston"),
    "adida": N_("adida"),
    "tsb": N_("tsb"),
    "snaive": N_("snaive"),
    "average": N_("average"),
    "bgnbd": N_("bgnbd"),
    "zero": N_("zero"),
    "sum": N_("sum"),
}

_BOTTOM_UP = re.compile(r"^bottom-up \((?P<method>[\w-]+)\)$")
_TOP_DOWN = re.compile(r"^top-down by (?P<dimension>\w+) \((?P<allocation>\w+)\)$")
_RECONCILED = re.compile(r"^(?P<method>[\w-]+)(?: \((?P<proportions>\w+)\))?(?: at (?P<middle_level>\w+))?$")


def model_label(code: str | None) -> str:
    """What people read for a model or method code (in Chinese ``theta`` → AutoTheta,
    ``snaive`` → 季节朴素); an unknown code as it is, ``-`` for none."""
    if not code:
        return "-"
    label = MODEL_LABELS.get(code)
    return _(label) if label else code


def describe(kind: str | None, method: str | None, params: Mapping[str, Any] | None = None) -> str:
    """The run's method as a sentence in the reader's language, from its ``params`` (else the
    stored ``method`` text). In English, and for a text of no form kehu writes, the stored
    text itself."""
    params = params or {}
    text = method or ""
    if i18n.language() == i18n.DEFAULT:
        return text or "-"  # the stored text is the English sentence
    if kind == "bottomup":
        found = _BOTTOM_UP.match(text)
        model = params.get("method") or (found["method"] if found else None)
        if model:
            return _("bottom-up ({model})").format(model=model_label(str(model)))
    elif kind == "topdown":
        found = _TOP_DOWN.match(text)
        dimension = params.get("dimension") or (found["dimension"] if found else None)
        allocation = params.get("allocation") or (found["allocation"] if found else None)
        if dimension and allocation:
            return _("top-down by {dimension} ({allocation})").format(
                dimension=DIMENSION_NAMES.label(str(dimension)),
                allocation=ALLOCATION_NAMES.label(str(allocation)),
            )
    elif kind == "reconciled":
        return _reconciled(text, params)
    return text or "-"


def _reconciled(text: str, params: Mapping[str, Any]) -> str:
    found = _RECONCILED.match(text)
    method = params.get("method") or (found["method"] if found else None)
    if method not in RECONCILE_METHOD_NAMES:
        return text or "-"
    proportions = params.get("proportions") or (found["proportions"] if found else None)
    middle = params.get("middle_level") or (found["middle_level"] if found else None)
    name = RECONCILE_METHOD_NAMES.label(str(method))
    if method == "middle-out" and proportions and middle:
        return _("{method} ({proportions}) at {level}").format(
            method=name,
            proportions=PROPORTION_NAMES.label(str(proportions)),
            level=LEVEL_NAMES.label(str(middle)),
        )
    if method in ("top-down", "middle-out") and proportions:
        return _("{method} ({proportions})").format(
            method=name, proportions=PROPORTION_NAMES.label(str(proportions))
        )
    return name
