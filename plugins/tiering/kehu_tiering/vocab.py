"""The enumerated values of tiering: tiers, segments, flags, methods and measures, each a
:class:`~kehu_core.choices.Vocabulary` (code, English label, Chinese names of the course
material), so every option, filter and service takes ``大客户`` as it takes ``key_account``.

The codes are what is stored and what ``--json`` prints. The pyramid's codes are the course
material's names themselves (``VIP``, ``主要客户``, ``普通客户``, ``小客户``); their English
labels (``major customer`` ...) and the old English words (``major``) are accepted too.
"""

from __future__ import annotations

from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_, messages
from kehu_core.validation import FieldError
from kehu_core.vocab import CUSTOMER_KIND

DOMAIN = "kehu_tiering"

_ = messages(DOMAIN).gettext

#: The customer pyramid (客户金字塔), top down.
PYRAMID = Vocabulary(
    DOMAIN,
    N_("pyramid tier"),
    [
        Choice("VIP", N_("VIP customer"), aliases=("vip", "VIP客户", "贵宾客户")),
        Choice("主要客户", N_("major customer"), aliases=("major",)),
        Choice("普通客户", N_("ordinary customer"), aliases=("ordinary",)),
        Choice("小客户", N_("small customer"), aliases=("small",)),
    ],
)
#: ABC by cumulative share (二八法则).
ABC = Vocabulary(
    DOMAIN,
    N_("ABC class"),
    [
        Choice("A", N_("class A"), aliases=("A类", "A类客户")),
        Choice("B", N_("class B"), aliases=("B类", "B类客户")),
        Choice("C", N_("class C"), aliases=("C类", "C类客户")),
    ],
)
#: The RFM segments, in the order they are decided (see ``stats.RFM_SEGMENTS`` for their meaning).
RFM = Vocabulary(
    DOMAIN,
    N_("RFM segment"),
    [
        Choice("prospect", N_("prospect"), aliases=("未购买", "未购买客户", "潜在客户")),
        Choice("lost", N_("lost"), aliases=("已流失客户", "已流失")),
        Choice("new", N_("new"), aliases=("新客户",)),
        Choice("champions", N_("champions"), aliases=("冠军客户",)),
        Choice("loyal", N_("loyal"), aliases=("忠诚客户",)),
        Choice("potential_loyalist", N_("potential loyalist"), aliases=("潜力客户",)),
        Choice("need_attention", N_("needs attention"), aliases=("需关注客户", "需关注")),
        Choice("about_to_sleep", N_("about to sleep"), aliases=("将休眠客户", "将休眠")),
        Choice("cannot_lose", N_("cannot lose"), aliases=("不能失去的客户",)),
        Choice("at_risk", N_("at risk"), aliases=("流失风险客户", "有流失风险")),
        Choice("hibernating", N_("hibernating"), aliases=("休眠客户", "休眠")),
    ],
)
#: The flags: the built-in ones and the course material's late payer (逾期付款, set by a
#: company's rule such as the acme example's). A rule may set any other flag: filter it as
#: ``flag:NAME``.
FLAG = Vocabulary(
    DOMAIN,
    N_("flag"),
    [
        Choice("key_account", N_("key account"), aliases=("大客户", "重点客户")),
        Choice("poor_quality", N_("poor quality"), aliases=("劣质客户", "劣质")),
        Choice(
            "upgrade_potential",
            N_("upgrade potential"),
            aliases=("有升级潜力的客户", "有升级潜力", "升级潜力", "可升级小客户"),
        ),
        Choice("late_payer", N_("late payer"), aliases=("逾期付款", "逾期付款客户")),
    ],
)
#: Every tier, segment and flag: what ``customer list --filter tier=...`` takes.
TIER = Vocabulary(DOMAIN, N_("tier"), [*PYRAMID.choices, *ABC.choices, *RFM.choices, *FLAG.choices])
#: The methods a run computes (``--method``), and those whose class may be the tier.
METHOD = Vocabulary(
    DOMAIN,
    N_("method"),
    [
        Choice("abc", N_("ABC analysis"), aliases=("ABC分类", "ABC 分类", "二八法则", "80/20")),
        Choice("pyramid", N_("customer pyramid"), aliases=("客户金字塔", "金字塔")),
        Choice("rfm", N_("RFM analysis"), aliases=("RFM分析",)),
        Choice("flags", N_("flags"), aliases=("标记", "客户标记")),
    ],
)
TIER_METHOD = Vocabulary(DOMAIN, N_("tier method"), METHOD.choices[:3])
#: What ranks customers.
MEASURE = Vocabulary(
    DOMAIN,
    N_("measure"),
    [
        Choice("revenue", N_("revenue"), aliases=("销售额", "销售收入", "收入")),
        Choice("margin", N_("margin"), aliases=("毛利", "利润")),
    ],
)
#: The vocabulary of each method's classes.
BY_METHOD = {"abc": ABC, "pyramid": PYRAMID, "rfm": RFM}


def parse_tier(value: str) -> str:
    """The tier, segment or flag ``value`` names (``大客户`` -> ``key_account``); ``flag:NAME``
    is any rule's flag, by its name. Raises :class:`~kehu_core.validation.FieldError` listing
    the accepted values."""
    text = str(value).strip()
    if text.startswith("flag:") and len(text) > 5:
        name = text[5:].strip()
        return FLAG.parse(name) if known(FLAG, name) else name
    return TIER.parse(text)


def parse_method(value: str) -> str:
    """A method (``abc``, ``pyramid``, ``rfm``) or a flag as ``flag:NAME``, by any of its names
    (``金字塔``, ``flag:大客户``)."""
    text = str(value).strip()
    if text.startswith("flag:"):
        return "flag:" + parse_tier(text)
    return TIER_METHOD.parse(text)


def known(vocab: Vocabulary, name: str) -> bool:
    try:
        vocab.parse(name)
    except FieldError:
        return False
    return True


# -- what people read: labels of codes and of the numbers' names ----------------------------

#: The names of numbers shown in ``tier stats`` and ``tier explain`` that are words (the
#: others are identifiers such as ``revenue_window``, shown as they are).
KEY_LABELS = {
    "kind": N_("kind"),
    "region": N_("region"),
    "industry": N_("industry"),
    "owner": N_("owner"),
    "measure": N_("measure"),
    "customers": N_("customers"),
    "rank": N_("rank"),
    "abc": N_("ABC class"),
    "pyramid": N_("pyramid tier"),
    "rfm": N_("RFM segment"),
    "scores": N_("scores"),
}


def method_label(method: str) -> str:
    """What people read for a method (``customer pyramid``) or a flag (``flag:key_account``)."""
    if method.startswith("flag:"):
        return _("flag {flag}").format(flag=tier_label(method[5:]))
    return METHOD.label(method)


def tier_label(code: str | None) -> str:
    """What people read for a tier, segment or flag code (the code itself when unknown)."""
    if code is None:
        return "-"
    return TIER.label(code)


def key_label(key: str) -> str:
    """What people read for the name of a number (``measure``); identifiers stay as they are."""
    return _(KEY_LABELS[key]) if key in KEY_LABELS else key


def value_label(key: str, value: object) -> object:
    """A number's value as people read it: the label of a code (a tier, the measure, a kind)."""
    if not isinstance(value, str):
        return value
    if key in BY_METHOD:
        return tier_label(value)
    if key in ("measure", "tier_measure") and value in MEASURE:
        return MEASURE.label(value)
    if key == "kind":
        return CUSTOMER_KIND.label(value) if value in CUSTOMER_KIND else value
    if value == "all":
        return _("all")
    if key == "scores":
        return _(value)
    return value
