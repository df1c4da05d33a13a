"""The core's fixed vocabulary and limits: the enumerated values of customers and
interactions (code, English label, Chinese names) and the maximum lengths.

Each enumeration is a :class:`~kehu_core.choices.Vocabulary`; the tuples of codes
(:data:`CUSTOMER_SOURCES` ...) are its ``codes``. Services parse input through the
vocabulary, so ``朋友介绍``, ``referral`` and ``Referral`` all store ``referral``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_
from kehu_core.validation import CENT

__all__ = [
    "CENT",
    "CORE_INTERACTION_KINDS",
    "CUSTOMER_KIND",
    "CUSTOMER_KINDS",
    "CUSTOMER_SOURCE",
    "CUSTOMER_SOURCES",
    "INTERACTION_KIND",
    "INTERACTION_STATUS",
    "INTERACTION_STATUSES",
    "KNOWN_INTERACTION_KINDS",
    "PROFIT_KIND_CHOICES",
    "MAX_CODE",
    "MAX_NAME",
    "MAX_NOTE",
    "MAX_SHORT",
    "interaction_kinds",
]

DOMAIN = "kehu_core"


#: A customer is a person (个人) or a company (企业).
CUSTOMER_KIND = Vocabulary(
    DOMAIN,
    N_("customer kind"),
    [
        Choice("person", N_("person"), aliases=("个人", "个人客户")),
        Choice("company", N_("company"), aliases=("企业", "公司", "企业客户")),
    ],
)

#: How a customer was found (the course's 客户来源).
CUSTOMER_SOURCE = Vocabulary(
    DOMAIN,
    N_("source"),
    [
        Choice("referral", N_("referral"), aliases=("转介绍", "朋友介绍")),
        Choice("trade_magazine", N_("trade magazine"), aliases=("行业杂志", "专业杂志")),
        Choice("member_directory", N_("member directory"), aliases=("会员名录", "协会名录")),
        Choice("personal_network", N_("personal network"), aliases=("人脉", "个人关系")),
        Choice("other", N_("other"), aliases=("其他",)),
    ],
)

#: The core's interaction kinds; plugins add theirs (:func:`interaction_kinds`).
INTERACTION_KIND = Vocabulary(
    DOMAIN,
    N_("interaction kind"),
    [
        Choice("visit", N_("visit"), aliases=("拜访", "访问")),
        Choice("call", N_("call"), aliases=("电话",)),
        Choice("letter", N_("letter"), aliases=("信函",)),
        Choice("email", N_("email"), aliases=("e-mail", "电子邮件", "邮件")),
        Choice("meeting", N_("meeting"), aliases=("会议", "会面")),
        Choice("demo", N_("demo"), aliases=("演示",)),
        Choice("purchase", N_("purchase"), aliases=("购买", "订单")),
        Choice("payment", N_("payment"), aliases=("付款", "回款")),
        Choice("feedback", N_("feedback"), aliases=("反馈",)),
        Choice("complaint", N_("complaint"), aliases=("投诉",)),
        Choice("other", N_("other"), aliases=("其他",)),
    ],
)

#: Kinds the core's built-in plugin adds for the customer-profit statement (客户利润表).
PROFIT_KIND_CHOICES = (
    Choice("resale", N_("resale"), aliases=("转售", "经销")),
    Choice("support", N_("support"), aliases=("费用支持",)),
    Choice("expense", N_("expense"), aliases=("费用支出",)),
)

#: Whether an interaction is planned (the visit plan 访问计划), done or cancelled.
INTERACTION_STATUS = Vocabulary(
    DOMAIN,
    N_("status"),
    [
        Choice("planned", N_("planned"), aliases=("计划", "已计划")),
        Choice("done", N_("done"), aliases=("完成", "已完成")),
        Choice("cancelled", N_("cancelled"), aliases=("canceled", "取消", "已取消")),
    ],
)

CUSTOMER_KINDS = CUSTOMER_KIND.codes
CUSTOMER_SOURCES = CUSTOMER_SOURCE.codes
CORE_INTERACTION_KINDS = INTERACTION_KIND.codes
INTERACTION_STATUSES = INTERACTION_STATUS.codes

_KNOWN_KINDS = {c.code: c for c in (*INTERACTION_KIND.choices, *PROFIT_KIND_CHOICES)}


def interaction_kinds(kinds: Iterable[str]) -> Vocabulary:
    """The vocabulary of ``kinds`` (the core's and the installed plugins' codes): a kind the
    core knows keeps its label and Chinese names; a plugin's other kind is its own label."""
    return _kinds(tuple(dict.fromkeys(kinds)))


@lru_cache(maxsize=16)
def _kinds(kinds: tuple[str, ...]) -> Vocabulary:
    return Vocabulary(DOMAIN, INTERACTION_KIND.what, [_KNOWN_KINDS.get(k, Choice(k, k)) for k in kinds])


#: Every kind the core itself knows: its own and the customer-profit statement's.
KNOWN_INTERACTION_KINDS = interaction_kinds(_KNOWN_KINDS)


#: Maximum lengths, enforced by validation before the database sees a value.
MAX_CODE = 64
MAX_NAME = 200
MAX_SHORT = 100
MAX_NOTE = 10_000
