"""The complaint's vocabulary and field parsers (Chinese and English values alike)."""

from __future__ import annotations

from typing import Any

from kehu_core import validation as v
from kehu_core.choices import Choice, Vocabulary
from kehu_core.fields import FieldSpec
from kehu_core.i18n import N_, messages
from kehu_core.vocab import MAX_CODE, MAX_NOTE, MAX_SHORT

DOMAIN = "kehu_complaints"


def _choice(code: str, label: str, *aliases: str) -> Choice:
    """A :class:`~kehu_core.choices.Choice` with the other names it is known by."""
    names: Any = aliases
    return Choice(code, label, aliases=names)


#: A grievance (抱怨: mostly emotional, informal) or a complaint (投诉: mostly rational, formal).
KIND = Vocabulary(
    DOMAIN,
    N_("kind"),
    [
        _choice("grievance", N_("grievance"), "抱怨", "客户抱怨"),
        _choice("complaint", N_("complaint"), "投诉", "客户投诉", "正式投诉"),
    ],
)
CATEGORY = Vocabulary(
    DOMAIN,
    N_("category"),
    [
        _choice("quality", N_("product quality"), "产品质量", "质量"),
        _choice("delivery", N_("delivery"), "交货配送", "交货", "配送", "送货"),
        _choice("service", N_("service attitude"), "服务态度", "服务"),
        _choice("billing", N_("billing"), "账务收费", "账务", "收费"),
        _choice("other", N_("other"), "其他"),
    ],
)
SEVERITY = Vocabulary(
    DOMAIN,
    N_("severity"),
    [
        _choice("low", N_("low"), "低"),
        _choice("medium", N_("medium"), "中", "一般"),
        _choice("high", N_("high"), "高"),
        _choice("critical", N_("critical"), "紧急", "严重"),
    ],
)
#: What a complaining customer wants (the course material's 客户投诉的真实需求).
WANT = Vocabulary(
    DOMAIN,
    N_("want"),
    [
        _choice("fast_solution", N_("a fast solution"), "快速简洁地解决问题", "快速解决", "快速简洁"),
        _choice("respect", N_("understanding and respect"), "得到理解和尊重", "理解和尊重", "尊重"),
        _choice(
            "explanation", N_("an explanation"), "给一个说法，界定责任", "给一个说法", "说法", "界定责任"
        ),
        _choice("compensation", N_("compensation"), "赔偿或补偿", "赔偿", "补偿"),
        _choice(
            "no_recurrence", N_("no recurrence"), "解决问题，不让它再次发生", "不让它再次发生", "不再发生"
        ),
    ],
)
COMPENSATION_TYPE = Vocabulary(
    DOMAIN,
    N_("compensation type"),
    [
        _choice("none", N_("none"), "无", "不赔偿"),
        _choice("refund", N_("refund"), "退款"),
        _choice("replacement", N_("replacement"), "换货", "换新"),
        _choice("repair", N_("repair"), "维修"),
        _choice("voucher", N_("voucher"), "代金券"),
        _choice("discount", N_("discount"), "折扣"),
        _choice("cash", N_("cash"), "现金赔偿", "现金"),
        _choice("gift", N_("gift"), "礼品"),
        _choice("other", N_("other"), "其他"),
    ],
)

#: How a team assigns new complaints.
ASSIGNMENT = Vocabulary(
    DOMAIN,
    N_("assignment rule"),
    [
        _choice("manual", N_("manual"), "手动", "手工分配"),
        _choice("round_robin", N_("round robin"), "轮流", "轮流分配"),
        _choice("balanced", N_("balanced"), "均衡", "均衡分配"),
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
