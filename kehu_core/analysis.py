"""The recorded answers of the customer analysis 6W1H1S (对客户应有的认识): Who, How, Why, Sensitivity.

What, Where, When and Will are computed from interactions (:mod:`kehu_core.profile`). The other
answers are judgements a salesperson records. They live in the customer's ``attributes`` under
the documented keys below, each one typed and checked wherever it comes from: ``kehu customer
profile-set``, ``--attributes`` JSON, a customer import's ``attr:KEY`` columns, and the Python
API (:func:`kehu_core.profile.set_analysis`). Values are stored as text in canonical form
(levels in English, lists joined by ``", "``), so an import writes what the CLI writes.

Keeping them in ``attributes`` makes them personal data like the rest of the customer's own
fields: erased by ``kehu customer forget``, listed by ``kehu customer export``, and only their
key named in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from attrs import frozen

from kehu_core import validation as v
from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_, messages
from kehu_core.vocab import MAX_NAME, MAX_SHORT

_ = messages("kehu_core").gettext

#: Levels of a reason to buy or of a sensitivity; Chinese words are accepted on input.
LEVEL = Vocabulary(
    "kehu_core",
    N_("level"),
    [
        Choice("low", N_("low"), aliases=("l", "低")),
        Choice("medium", N_("medium"), aliases=("m", "中", "中等")),
        Choice("high", N_("high"), aliases=("h", "高")),
    ],
)
LEVELS = LEVEL.codes
#: Separators of a list value (decision makers, information sources).
_LIST_SEPARATORS = (";", "；", "、", "，", "|")


def level(value: Any) -> str:
    """One of :data:`LEVELS` (``high``, ``高``, ``H`` ...)."""
    return v.choice(value, LEVEL)


def _text(limit: int) -> Callable[[Any], str]:
    return lambda value: v.text(value, limit)


def name_list(value: Any) -> str:
    """Names separated by ``,`` ``;`` ``、`` or ``|``, stored as ``"a, b"`` (at most 20, each
    at most 100 characters)."""
    if isinstance(value, (list, tuple)):
        parts = [str(p) for p in value]
    else:
        raw = str(value)
        for sep in _LIST_SEPARATORS:
            raw = raw.replace(sep, ",")
        parts = raw.split(",")
    names = [v.text(p, MAX_SHORT) for p in parts if p.strip()]
    if not names:
        raise v.FieldError(_("must name at least one"))
    if len(names) > 20:
        raise v.FieldError(_("at most 20 names, got {count}").format(count=len(names)))
    return ", ".join(dict.fromkeys(names))


@frozen
class AnalysisKey:
    """One recorded answer: its key in ``attributes``, the question it answers, how it is parsed."""

    key: str
    question: str
    label: str
    parse: Callable[[Any], str]
    help: str


ANALYSIS_KEYS: tuple[AnalysisKey, ...] = (
    AnalysisKey(
        "who.group",
        N_("Who"),
        N_("Customer group"),
        _text(MAX_SHORT),
        N_("the customer group, e.g. 社区便利店"),
    ),
    AnalysisKey(
        "who.demographics",
        N_("Who"),
        N_("Demographics"),
        _text(MAX_NAME),
        N_("demographic and socio-economic description, personality, lifestyle"),
    ),
    AnalysisKey(
        "how.decision_makers",
        N_("How"),
        N_("Decision makers"),
        name_list,
        N_("who decides, separated by , ; or 、"),
    ),
    AnalysisKey(
        "how.decision_process",
        N_("How"),
        N_("Decision process"),
        _text(MAX_NAME),
        N_("how a purchase is decided, e.g. 店长提需求, 老板拍板"),
    ),
    AnalysisKey(
        "how.information_sources",
        N_("How"),
        N_("Information sources"),
        name_list,
        N_("where they learn about products, separated by , ; or 、"),
    ),
    AnalysisKey(
        "why.function", N_("Why"), N_("Function"), level, N_("weight of function in buying: low/medium/high")
    ),
    AnalysisKey(
        "why.service", N_("Why"), N_("Service"), level, N_("weight of service in buying: low/medium/high")
    ),
    AnalysisKey("why.image", N_("Why"), N_("Image"), level, N_("weight of image in buying: low/medium/high")),
    AnalysisKey(
        "why.brand", N_("Why"), N_("Brand"), level, N_("weight of the brand in buying: low/medium/high")
    ),
    AnalysisKey(
        "sensitivity.product",
        N_("Sensitivity"),
        N_("Product sensitivity"),
        level,
        N_("sensitivity to product changes: low/medium/high"),
    ),
    AnalysisKey(
        "sensitivity.price",
        N_("Sensitivity"),
        N_("Price sensitivity"),
        level,
        N_("to price: low/medium/high"),
    ),
    AnalysisKey(
        "sensitivity.channel",
        N_("Sensitivity"),
        N_("Channel sensitivity"),
        level,
        N_("to the channel: low/medium/high"),
    ),
    AnalysisKey(
        "sensitivity.promotion",
        N_("Sensitivity"),
        N_("Promotion sensitivity"),
        level,
        N_("to promotions: low/medium/high"),
    ),
)
KEYS: dict[str, AnalysisKey] = {k.key: k for k in ANALYSIS_KEYS}
#: The prefixes reserved for these answers in ``attributes``: a key under them must be one of :data:`KEYS`.
PREFIXES = ("who.", "how.", "why.", "sensitivity.")


def is_analysis_key(name: str) -> bool:
    """True for an ``attributes`` key under a reserved 6W1H1S prefix (known or not)."""
    return name.startswith(PREFIXES)


class AnswerError(v.FieldError):
    """An answer (or the markup rate) refused: ``key``, and the ``reason`` without it."""

    def __init__(self, key: str, reason: str):
        super().__init__(_("{key}: {reason}").format(key=key, reason=reason))
        self.key, self.reason = key, reason


def parse_answer(key: str, value: Any) -> str:
    """The canonical text of answer ``key``, or :class:`~kehu_core.validation.FieldError` (one
    line, naming the key and the reason)."""
    spec = KEYS.get(key)
    if spec is None:
        raise AnswerError(key, _("not a 6W1H1S key; keys: {keys}").format(keys=", ".join(KEYS)))
    try:
        return spec.parse(value)
    except v.FieldError as exc:
        raise AnswerError(key, str(exc)) from None


def check_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """``attributes`` with its 6W1H1S keys and :data:`MARKUP_KEY` in canonical form;
    :class:`FieldError` for the first refused one. Other keys pass unchanged."""
    clean = dict(attributes)
    if attributes.get(MARKUP_KEY) is not None:
        try:
            clean[MARKUP_KEY] = markup_text(markup_rates(attributes[MARKUP_KEY]))
        except v.FieldError as exc:
            raise AnswerError(MARKUP_KEY, str(exc)) from None
    for name in sorted(attributes):
        if is_analysis_key(name):
            value = attributes[name]
            clean[name] = None if value is None else parse_answer(name, value)
            if clean[name] is None:
                del clean[name]
    return clean


def answers(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    """The recorded 6W1H1S answers of a customer's ``attributes``, by key, in the order of
    :data:`ANALYSIS_KEYS` (a value that no longer parses is left out)."""
    found: dict[str, str] = {}
    for spec in ANALYSIS_KEYS:
        raw = (attributes or {}).get(spec.key)
        if raw is None:
            continue
        try:
            found[spec.key] = spec.parse(raw)
        except v.FieldError:
            continue
    return found


# -- the distributor's markup (加价利润), read by kehu_core.profit ------------------------------

#: The ``attributes`` key of a distributor's markup on what it buys from us.
MARKUP_KEY = "profit.markup_rate"
#: A markup is a fraction of the distributor's purchase price, at most this (1000%).
MAX_MARKUP = Decimal("10")
#: The category a markup applies to when its own category has none.
ANY_CATEGORY = "*"


def markup_rates(value: Any) -> dict[str, Decimal]:
    """A distributor's markup: one rate (``0.25``: it resells at 25% above what it pays us) or
    rates by category (``饮料=0.25; 零食=0.3; *=0.2``, ``*`` for every other category); each
    from 0 to 10 with at most four decimals."""
    raw = str(value).strip()
    pairs = []
    if "=" not in raw:
        pairs.append((ANY_CATEGORY, raw))
    else:
        for part in raw.replace("；", ";").split(";"):
            if not part.strip():
                continue
            if "=" not in part:
                raise v.FieldError(
                    _("expected CATEGORY=RATE pairs separated by ;, got {part!r}").format(part=part.strip())
                )
            category, _sep, rate = part.partition("=")
            pairs.append((v.text(category, MAX_SHORT), rate))
    rates: dict[str, Decimal] = {}
    for category, rate in pairs:
        try:
            number = Decimal(str(rate).strip().rstrip("%")) / (100 if str(rate).strip().endswith("%") else 1)
        except ArithmeticError:
            raise v.FieldError(_("rate {rate!r} is not a number").format(rate=str(rate).strip())) from None
        if not number.is_finite() or number < 0 or number > MAX_MARKUP:
            raise v.FieldError(
                _("rate {rate!r} must be from 0 to {most}").format(rate=str(rate).strip(), most=MAX_MARKUP)
            )
        if number != number.quantize(Decimal("0.0001")):
            raise v.FieldError(_("rate {rate!r} has more than four decimals").format(rate=str(rate).strip()))
        rates[category] = number.quantize(Decimal("0.0001")).normalize()
    if not rates:
        raise v.FieldError(_("no rate given"))
    return rates


def markup_text(rates: Mapping[str, Decimal]) -> str:
    """The canonical text of :func:`markup_rates`' result."""
    if list(rates) == [ANY_CATEGORY]:
        return f"{rates[ANY_CATEGORY]:f}"
    return "; ".join(f"{category}={rate:f}" for category, rate in rates.items())
