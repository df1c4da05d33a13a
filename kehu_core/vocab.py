"""The core's fixed vocabulary and limits: the enumerated values of customers and
interactions (code, English label, Chinese names) and the maximum lengths.

Each enumeration is a :class:`~kehu_core.choices.Vocabulary`; the tuples of codes
(:data:`CUSTOMER_SOURCES` ...) are its ``codes``. Services parse input through the
vocabulary, so ``朋友介绍``, ``referral`` and ``Referral`` all store ``referral``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

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


def _choice(code: str, label: str, *aliases: str) -> Choice:
    """A :class:`~kehu_core.choices.Choice` with the other names it is known by."""
    names: Any = aliases  # Choice converts them to a tuple; attrs' typing of that is too loose
    return Choice(code, label, aliases=names)


#: A customer is a person (个人) or a company (企业).
CUSTOMER_KIND = Vocabulary(
    DOMAIN,
    N_("customer kind"),
    [
        _choice("person", N_("person"), "个人", "个人客户"),
        _choice("company", N_("company"), "企业", "公司", "企业客户"),
    ],
)

#: How a customer was found (the course's 客户来源).
CUSTOMER_SOURCE = Vocabulary(
    DOMAIN,
    N_("source"),
    [
        _choice("referral", N_("referral"), "转介绍", "朋友介绍"),
        _choice("trade_magazine", N_("trade magazine"), "行业杂志", "专业杂志"),
        _choice("member_directory", N_("member directory"), "会员名录", "协会名录"),
        _choice("personal_network", N_("personal network"), "人脉", "个人关系"),
        _choice("other", N_("other"), "其他"),
    ],
)

#: The core's interaction kinds; plugins add theirs (:func:`interaction_kinds`).
INTERACTION_KIND = Vocabulary(
    DOMAIN,
    N_("interaction kind"),
    [
        _choice("visit", N_("visit"), "拜访", "访问"),
        _choice("call", N_("call"), "电话"),
        _choice("letter", N_("letter"), "信函"),
        _choice("email", N_("email"), "e-mail", "电子邮件", "邮件"),
        _choice("meeting", N_("meeting"), "会议", "会面"),
        _choice("demo", N_("demo"), "演示"),
        _choice("purchase", N_("purchase"), "购买", "订单"),
        _choice("payment", N_("payment"), "付款", "回款"),
        _choice("feedback", N_("feedback"), "反馈"),
        _choice("complaint", N_("complaint"), "投诉"),
        _choice("other", N_("other"), "其他"),
    ],
)

#: Kinds the core's built-in plugin adds for the customer-profit statement (客户利润表).
PROFIT_KIND_CHOICES = (
    _choice("resale", N_("resale"), "转售", "经销"),
    _choice("support", N_("support"), "费用支持"),
    _choice("expense", N_("expense"), "费用支出"),
)

#: Whether an interaction is planned (the visit plan 访问计划), done or cancelled.
INTERACTION_STATUS = Vocabulary(
    DOMAIN,
    N_("status"),
    [
        _choice("planned", N_("planned"), "计划", "已计划"),
        _choice("done", N_("done"), "完成", "已完成"),
        _choice("cancelled", N_("cancelled"), "canceled", "取消", "已取消"),
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
