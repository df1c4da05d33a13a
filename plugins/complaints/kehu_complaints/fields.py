"""The complaint's vocabulary and field parsers (Chinese and English values alike)."""

from __future__ import annotations

from typing import Any

from kehu_core import validation as v
from kehu_core.choices import Choice, Vocabulary
from kehu_core.fields import FieldSpec
from kehu_core.i18n import N_, messages
from kehu_core.vocab import MAX_CODE, MAX_NOTE, MAX_SHORT

DOMAIN = "kehu_complaints"


#: A grievance (抱怨: mostly emotional, informal) or a complaint (投诉: mostly rational, formal).
KIND = Vocabulary(
    DOMAIN,
    N_("kind"),
    [
        Choice("grievance", N_("grievance"), aliases=("抱怨", "客户抱怨")),
        Choice("complaint", N_("complaint"), aliases=("投诉", "客户投诉", "正式投诉")),
    ],
)
CATEGORY = Vocabulary(
    DOMAIN,
    N_("category"),
    [
        Choice("quality", N_("product quality"), aliases=("产品质量", "质量")),
        Choice("delivery", N_("delivery"), aliases=("交货配送", "交货", "配送", "送货")),
        Choice("service", N_("service attitude"), aliases=("服务态度", "服务")),
        Choice("billing", N_("billing"), aliases=("账务收费", "账务", "收费")),
        Choice("other", N_("other"), aliases=("其他",)),
    ],
)
SEVERITY = Vocabulary(
    DOMAIN,
    N_("severity"),
    [
        Choice("low", N_("low"), aliases=("低",)),
        Choice("medium", N_("medium"), aliases=("中", "一般")),
        Choice("high", N_("high"), aliases=("高",)),
        Choice("critical", N_("critical"), aliases=("紧急", "严重")),
    ],
)
#: What a complaining customer wants (the course material's 客户投诉的真实需求).
WANT = Vocabulary(
    DOMAIN,
    N_("want"),
    [
        Choice(
            "fast_solution", N_("a fast solution"), aliases=("快速简洁地解决问题", "快速解决", "快速简洁")
        ),
        Choice("respect", N_("understanding and respect"), aliases=("得到理解和尊重", "理解和尊重", "尊重")),
        Choice(
            "explanation",
            N_("an explanation"),
            aliases=("给一个说法，界定责任", "给一个说法", "说法", "界定责任"),
        ),
        Choice("compensation", N_("compensation"), aliases=("赔偿或补偿", "赔偿", "补偿")),
        Choice(
            "no_recurrence",
            N_("no recurrence"),
            aliases=("解决问题，不让它再次发生", "不让它再次发生", "不再发生"),
        ),
    ],
)
COMPENSATION_TYPE = Vocabulary(
    DOMAIN,
    N_("compensation type"),
    [
        Choice("none", N_("none"), aliases=("无", "不赔偿")),
        Choice("refund", N_("refund"), aliases=("退款",)),
        Choice("replacement", N_("replacement"), aliases=("换货", "换新")),
        Choice("repair", N_("repair"), aliases=("维修",)),
        Choice("voucher", N_("voucher"), aliases=("代金券",)),
        Choice("discount", N_("discount"), aliases=("折扣",)),
        Choice("cash", N_("cash"), aliases=("现金赔偿", "现金")),
        Choice("gift", N_("gift"), aliases=("礼品",)),
        Choice("other", N_("other"), aliases=("其他",)),
    ],
)

#: How a team assigns new complaints.
ASSIGNMENT = Vocabulary(
    DOMAIN,
    N_("assignment rule"),
    [
        Choice("manual", N_("manual"), aliases=("手动", "手工分配")),
        Choice("round_robin", N_("round robin"), aliases=("轮流", "轮流分配")),
        Choice("balanced", N_("balanced"), aliases=("均衡", "均衡分配")),
    ],
)

#: Code -> the course material's Chinese name (kept for the report's ``label`` and older callers).
KINDS = {"grievance": "抱怨", "complaint": "投诉"}
CATEGORIES = {
    "quality": "产品质量",
    "delivery": "交货配送",
    "service": "服务态度",
    "billing": "账务收费",
    "other": "其他",
}
SEVERITIES = {"low": "低", "medium": "中", "high": "高", "critical": "紧急"}
WANTS = {
    "fast_solution": "快速简洁地解决问题",
    "respect": "得到理解和尊重",
    "explanation": "给一个说法，界定责任",
    "compensation": "赔偿或补偿",
    "no_recurrence": "解决问题，不让它再次发生",
}
COMPENSATION_TYPES = {
    "none": "无",
    "refund": "退款",
    "replacement": "换货",
    "repair": "维修",
    "voucher": "代金券",
    "discount": "折扣",
    "cash": "现金赔偿",
    "gift": "礼品",
    "other": "其他",
}


def vocab(vocabulary: Vocabulary) -> Any:
    """A field parser: the code ``vocabulary`` names (code, English label or Chinese name);
    :class:`~kehu_core.validation.FieldError` listing the accepted values otherwise."""
    return vocabulary.parse


def wants(value: Any) -> list[str]:
    """The customer's wants, as a list of keys (any separator ``v.tags`` accepts)."""
    result = []
    for item in v.tags(value):
        key = WANT.parse(item)
        if key not in result:
            result.append(key)
    return result


def _short(value: Any) -> str:
    return v.text(value, MAX_SHORT)


def _note(value: Any) -> str:
    return v.text(value, MAX_NOTE)


OPEN_FIELDS = (
    FieldSpec("customer_code", lambda x: v.text(x, MAX_CODE), N_("the customer's code"), required=True),
    FieldSpec("kind", vocab(KIND), N_("grievance (抱怨, informal) or complaint (投诉, formal)")),
    FieldSpec("channel", _short, N_("how it came in: 电话, 门店, e-mail ...")),
    FieldSpec("category", vocab(CATEGORY), N_("quality, delivery, service, billing or other")),
    FieldSpec("severity", vocab(SEVERITY), N_("low, medium, high or critical")),
    FieldSpec("description", _note, N_("what the customer says"), required=True),
    FieldSpec(
        "wants",
        wants,
        N_("what the customer wants: fast_solution, respect, explanation, compensation, no_recurrence"),
    ),
    FieldSpec("handler", _short, N_("who handles it")),
    FieldSpec("team", _short, N_("the team that handles it")),
    FieldSpec("responsible_party", _short, N_("who is responsible")),
    FieldSpec("responsible_department", _short, N_("the responsible department")),
    FieldSpec("opened_at", v.timestamp, N_("when it was received (default: now)")),
)

#: Fields a move may set along the way (the record fills in as the handling goes on).
MOVE_FIELDS = (
    FieldSpec("solution", _note, N_("the proposed solution")),
    FieldSpec("compensation_amount", v.money, N_("compensation in yuan")),
    FieldSpec("compensation_type", vocab(COMPENSATION_TYPE), N_("refund, replacement, repair, voucher, ...")),
    FieldSpec("responsible_party", _short, N_("who is responsible")),
    FieldSpec("responsible_department", _short, N_("the responsible department")),
    FieldSpec("root_cause", _note, N_("root cause (反省检讨)")),
    FieldSpec("corrective_action", _note, N_("what changes so it does not happen again")),
    FieldSpec("penalty_note", _note, N_("penalty for the responsible party (处罚责任者)")),
    FieldSpec("satisfaction", lambda x: v.integer(x, 1, 5), N_("the customer's satisfaction 1-5")),
)

#: A field's name for people (history notes, ``complaint show``), marked here and translated where shown.
FIELD_LABELS = {
    "solution": N_("solution"),
    "compensation_amount": N_("compensation"),
    "compensation_type": N_("compensation type"),
    "responsible_party": N_("responsible party"),
    "responsible_department": N_("responsible department"),
    "root_cause": N_("root cause"),
    "corrective_action": N_("corrective action"),
    "penalty_note": N_("penalty"),
    "satisfaction": N_("satisfaction"),
}

#: The SLA policies kehu installs, by name, as people read them (a company's own policies
#: show as named).
POLICY_LABELS = {
    "critical": N_("critical"),
    "key-account": N_("key account"),
    "high": N_("high"),
    "default": N_("default"),
}


def policy_label(name: str | None) -> str:
    """An SLA policy's name for people: an installed policy's name in the user's language
    (``默认`` for ``default``), any other as written; ``-`` for none."""
    if not name:
        return "-"
    label = POLICY_LABELS.get(name)
    if label is None:
        return name
    translated = messages(DOMAIN).gettext(label)
    return name if translated == label else translated
