"""The complaint's vocabulary and field parsers (Chinese and English values alike)."""

from __future__ import annotations

from typing import Any

from kehu_core import validation as v
from kehu_core.fields import FieldSpec
from kehu_core.vocab import MAX_CODE, MAX_NOTE, MAX_SHORT

KINDS = {"grievance": "抱怨", "complaint": "投诉"}
CATEGORIES = {
    "quality": "产品质量",
    "delivery": "交货配送",
    "service": "服务态度",
    "billing": "账务收费",
    "other": "其他",
}
SEVERITIES = {"low": "低", "medium": "中", "high": "高", "critical": "紧急"}
#: What a complaining customer wants (the course material's 客户投诉的真实需求).
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
CHINESE_ALIASES = {
    **{zh: en for en, zh in KINDS.items()},
    **{zh: en for en, zh in CATEGORIES.items()},
    "质量": "quality",
    "交货": "delivery",
    "配送": "delivery",
    "服务": "service",
    "账务": "billing",
    "收费": "billing",
    **{zh: en for en, zh in SEVERITIES.items()},
    "严重": "critical",
    "快速解决": "fast_solution",
    "尊重": "respect",
    "说法": "explanation",
    "赔偿": "compensation",
    "补偿": "compensation",
    "不再发生": "no_recurrence",
    **{zh: en for en, zh in COMPENSATION_TYPES.items()},
}


def vocab(options: dict[str, str]) -> Any:
    """A parser accepting an English key or its Chinese name."""

    def parse(value: Any) -> str:
        raw = str(value).strip()
        raw = CHINESE_ALIASES.get(raw, raw)
        return v.choice(raw, tuple(options))

    return parse


def wants(value: Any) -> list[str]:
    """The customer's wants, as a list of keys (any separator ``v.tags`` accepts)."""
    parse = vocab(WANTS)
    result = []
    for item in v.tags(value):
        key = parse(item)
        if key not in result:
            result.append(key)
    return result


def _short(value: Any) -> str:
    return v.text(value, MAX_SHORT)


def _note(value: Any) -> str:
    return v.text(value, MAX_NOTE)


OPEN_FIELDS = (
    FieldSpec("customer_code", lambda x: v.text(x, MAX_CODE), "the customer's code", required=True),
    FieldSpec("kind", vocab(KINDS), "grievance (抱怨, informal) or complaint (投诉, formal)"),
    FieldSpec("channel", _short, "how it came in: 电话, 门店, e-mail ..."),
    FieldSpec("category", vocab(CATEGORIES), "quality, delivery, service, billing or other"),
    FieldSpec("severity", vocab(SEVERITIES), "low, medium, high or critical"),
    FieldSpec("description", _note, "what the customer says", required=True),
    FieldSpec("wants", wants, "what the customer wants: " + ", ".join(WANTS)),
    FieldSpec("handler", _short, "who handles it"),
    FieldSpec("team", _short, "the team that handles it"),
    FieldSpec("responsible_party", _short, "who is responsible"),
    FieldSpec("responsible_department", _short, "the responsible department"),
    FieldSpec("opened_at", v.timestamp, "when it was received (default: now)"),
)

#: Fields a move may set along the way (the record fills in as the handling goes on).
MOVE_FIELDS = (
    FieldSpec("solution", _note, "the proposed solution"),
    FieldSpec("compensation_amount", v.money, "compensation in yuan"),
    FieldSpec("compensation_type", vocab(COMPENSATION_TYPES), "refund, replacement, repair, voucher, ..."),
    FieldSpec("responsible_party", _short, "who is responsible"),
    FieldSpec("responsible_department", _short, "the responsible department"),
    FieldSpec("root_cause", _note, "root cause (反省检讨)"),
    FieldSpec("corrective_action", _note, "what changes so it does not happen again"),
    FieldSpec("penalty_note", _note, "penalty for the responsible party (处罚责任者)"),
    FieldSpec("satisfaction", lambda x: v.integer(x, 1, 5), "the customer's satisfaction 1-5"),
)
