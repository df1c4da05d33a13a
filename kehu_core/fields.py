"""The fields of customers and interactions: names, parsers, and which are required.

One table per record kind drives the CLI options' checks, CSV imports and the Python API
alike, so a value is judged the same way wherever it comes from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

from attrs import frozen

from kehu_core import validation as v
from kehu_core.analysis import check_attributes
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.vocab import (
    CUSTOMER_KIND,
    CUSTOMER_SOURCE,
    INTERACTION_STATUS,
    MAX_CODE,
    MAX_NAME,
    MAX_NOTE,
    MAX_SHORT,
    interaction_kinds,
)

_ = messages("kehu_core").gettext


@frozen
class FieldSpec:
    """A field: its name, how a raw value is parsed, whether it is required, and its help."""

    name: str
    parse: Callable[[Any], Any]
    help: str
    required: bool = False


def _short(value: Any) -> str:
    return v.text(value, MAX_SHORT)


def _special_dates(value: Any) -> dict[str, str]:
    """``name=2024-05-01;name2=...`` or a mapping; dates are checked."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = []
        for part in str(value).replace("；", ";").split(";"):
            if part.strip():
                if "=" not in part:
                    raise v.FieldError(_("expected name=date pairs separated by ;"))
                label, _sep, when = part.partition("=")
                pairs.append((label, when))
    return {v.text(label, MAX_SHORT): v.day(when).isoformat() for label, when in pairs}


#: How deep ``attributes`` may nest (objects and arrays), and how long it may be as JSON.
MAX_ATTRIBUTE_DEPTH = 32
MAX_ATTRIBUTES_LENGTH = 65_536
#: Numbers in ``attributes``: integers fit 64 bits (as SQLite's JSON functions read them), and a
#: number is written in at most this many characters.
MAX_ATTRIBUTE_NUMBER = 2**63 - 1
MAX_NUMBER_TEXT = 32


def _json_constant(name: str) -> Any:
    raise v.FieldError(_("{name} is not allowed: numbers must be finite").format(name=name))


def _json_int(raw: str) -> int:
    if len(raw.lstrip("-")) > MAX_NUMBER_TEXT:
        raise v.FieldError(_("a number has more than {most} digits").format(most=MAX_NUMBER_TEXT))
    return int(raw)


def _json_float(raw: str) -> float:
    if len(raw) > MAX_NUMBER_TEXT:
        raise v.FieldError(_("a number is longer than {most} characters").format(most=MAX_NUMBER_TEXT))
    number = float(raw)
    if not math.isfinite(number):
        raise v.FieldError(_("a number is too large (not finite as a double)"))
    return number


def _clean_json(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data, or :class:`FieldError`: str keys, finite numbers within
    range, text without NUL or lone surrogates, at most :data:`MAX_ATTRIBUTE_DEPTH` deep."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise v.FieldError(_("contains a NUL character"))
        v.check_unicode(value)
        return value
    if isinstance(value, int):
        if abs(value) > MAX_ATTRIBUTE_NUMBER:
            raise v.FieldError(_("an integer is out of range (at most 2^63-1 either way)"))
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise v.FieldError(_("NaN and Infinity are not allowed: numbers must be finite"))
        return float(value)
    if depth >= MAX_ATTRIBUTE_DEPTH:
        raise v.FieldError(_("nested more than {most} levels deep").format(most=MAX_ATTRIBUTE_DEPTH))
    if isinstance(value, Mapping):
        clean = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise v.FieldError(_("object keys must be text"))
            clean[_clean_json(key)] = _clean_json(item, depth + 1)
        return clean
    if isinstance(value, (list, tuple)):
        return [_clean_json(item, depth + 1) for item in value]
    raise v.FieldError(_("a {type} is not a JSON value").format(type=type(value).__name__))


def attributes(value: Any) -> dict[str, Any]:
    """Your own fields: a JSON object (text, or a mapping from Python) that any later command
    can read back: finite numbers (integers within 64 bits), text without NUL or lone
    surrogates, nested at most :data:`MAX_ATTRIBUTE_DEPTH` deep, at most
    :data:`MAX_ATTRIBUTES_LENGTH` characters as JSON. Keys under ``who.``, ``how.``, ``why.``
    and ``sensitivity.`` are the 6W1H1S answers of :mod:`kehu_core.analysis`, checked and
    stored in canonical form."""
    if isinstance(value, Mapping):
        parsed = value
    else:
        document = str(value)
        if len(document) > MAX_ATTRIBUTES_LENGTH:
            raise v.FieldError(
                _("too long: {length} characters, at most {max_length}").format(
                    length=len(document), max_length=MAX_ATTRIBUTES_LENGTH
                )
            )
        try:
            parsed = json.loads(
                document, parse_constant=_json_constant, parse_int=_json_int, parse_float=_json_float
            )
        except json.JSONDecodeError as exc:
            raise v.FieldError(_("not a JSON object ({reason})").format(reason=exc.msg)) from None
        except RecursionError:  # nested past Python's recursion limit; shallower is checked below
            raise v.FieldError(
                _("nested more than {most} levels deep").format(most=MAX_ATTRIBUTE_DEPTH)
            ) from None
    if not isinstance(parsed, Mapping):
        raise v.FieldError(_("must be a JSON object"))
    clean = _clean_json(parsed)
    if len(json.dumps(clean, ensure_ascii=False)) > MAX_ATTRIBUTES_LENGTH:
        raise v.FieldError(
            _("too long: more than {most} characters as JSON").format(most=MAX_ATTRIBUTES_LENGTH)
        )
    # The 6W1H1S answers (who., how., why., sensitivity.) are typed: see kehu_core.analysis.
    return check_attributes(cast(dict[str, Any], clean))


def attribute_value(value: Any) -> str:
    """One ``attr:NAME`` cell: text of at most :data:`~kehu_core.vocab.MAX_NOTE` characters,
    without NUL or lone surrogates."""
    return v.text(value, MAX_NOTE)


def attribute_name(value: Any) -> str:
    """The ``NAME`` of an ``attr:NAME`` column: printable text of at most
    :data:`~kehu_core.vocab.MAX_SHORT` characters."""
    name = v.text(value, MAX_SHORT)
    if not name.isprintable():
        raise v.FieldError(_("contains a control or invisible character"))
    return name


CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "code", lambda x: v.code(x, MAX_CODE), N_("your own unique reference, e.g. C0001"), required=True
    ),
    FieldSpec("name", lambda x: v.text(x, MAX_NAME), N_("person's or company's name"), required=True),
    FieldSpec("kind", lambda x: v.choice(x, CUSTOMER_KIND), N_("person or company (default company)")),
    FieldSpec("region", _short, N_("region, e.g. 华东 or 北京")),
    FieldSpec("industry", _short, N_("industry")),
    FieldSpec("size", _short, N_("company size, e.g. 50-200 employees")),
    FieldSpec("scale", _short, N_("business scale, e.g. 大 / 中 / 小")),
    FieldSpec("credit_limit", v.money, N_("credit limit, an amount such as 50000.00")),
    FieldSpec("owner", _short, N_("the salesperson who owns the account")),
    FieldSpec(
        "source",
        lambda x: v.choice(x, CUSTOMER_SOURCE),
        N_("how they were found: referral, trade_magazine, member_directory, personal_network, other"),
    ),
    FieldSpec("phone", _short, N_("phone number")),
    FieldSpec("email", v.email, N_("e-mail address")),
    FieldSpec("birthday", v.past_day, N_("birthday, 1980-05-01")),
    FieldSpec("tags", v.tags, N_("tags separated by , ; | or 、")),
    FieldSpec("special_dates", _special_dates, N_("other dates: name=2024-05-01;name2=...")),
    FieldSpec("marketing_consent", v.boolean, N_("consent to marketing contact: yes or no")),
    FieldSpec("attributes", attributes, N_("your own fields as a JSON object")),
)

#: A customer's fields as a column header or a field name reads (the code stays in --json and --csv).
CUSTOMER_LABELS = {
    "code": N_("code"),
    "name": N_("name"),
    "kind": N_("kind"),
    "region": N_("region"),
    "industry": N_("industry"),
    "size": N_("size"),
    "scale": N_("scale"),
    "credit_limit": N_("credit limit"),
    "owner": N_("owner"),
    "source": N_("source"),
    "phone": N_("phone"),
    "email": N_("e-mail address"),
    "birthday": N_("birthday"),
    "tags": N_("tags"),
    "special_dates": N_("special dates"),
    "marketing_consent": N_("marketing consent"),
    "attributes": N_("attributes"),
    "active": N_("active"),
}

#: Columns a customer CSV may have, in the documented order.
CUSTOMER_COLUMNS = tuple(f.name for f in CUSTOMER_FIELDS)
#: Customer fields that hold personal data, erased by ``customer forget``.
PERSONAL_FIELDS = ("name", "phone", "email", "birthday", "special_dates", "attributes")


def interaction_fields(kinds: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    """The interaction fields, with ``kind`` accepting ``kinds`` (the core's and plugins') by
    their codes, labels and Chinese names."""
    vocabulary = interaction_kinds(kinds)
    return (
        FieldSpec(
            "external_ref",
            lambda x: v.text(x, MAX_NAME),
            N_("your unique reference; makes re-imports change nothing"),
        ),
        FieldSpec("customer_code", lambda x: v.code(x, MAX_CODE), N_("the customer's code"), required=True),
        FieldSpec(
            "kind",
            lambda x: v.choice(x, vocabulary),
            N_("the kind: visit, call, letter, email, meeting, demo, purchase, payment, ... or a plugin's"),
            required=True,
        ),
        FieldSpec(
            "status", lambda x: v.choice(x, INTERACTION_STATUS), N_("planned, done (default) or cancelled")
        ),
        FieldSpec(
            "occurred_at", v.timestamp, N_("when: 2024-03-01 or 2024-03-01T09:30:00+08:00"), required=True
        ),
        FieldSpec("channel", _short, N_("channel, e.g. 门店, online, distributor")),
        FieldSpec(
            "amount",
            lambda x: v.money(x, allow_negative=True),
            N_("amount; only a purchase may be negative (a refund)"),
        ),
        FieldSpec("cost", v.money, N_("cost of what was sold, for margins")),
        FieldSpec("quantity", v.quantity, N_("quantity")),
        FieldSpec("product", lambda x: v.text(x, MAX_NAME), N_("product")),
        FieldSpec("category", _short, N_("product category")),
        FieldSpec("salesperson", _short, N_("salesperson")),
        FieldSpec("satisfaction", lambda x: v.integer(x, 1, 5), N_("satisfaction score 1-5")),
        FieldSpec("note", lambda x: v.text(x, MAX_NOTE), N_("free text")),
        FieldSpec("due_at", v.timestamp, N_("payments only: when payment is due")),
        FieldSpec("paid_at", v.timestamp, N_("payments only: when it was paid")),
    )


INTERACTION_COLUMNS = tuple(f.name for f in interaction_fields(("other",)))


def parse_record(
    specs: tuple[FieldSpec, ...], raw: Mapping[str, Any], *, row: int | None = None, partial: bool = False
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse ``raw`` with ``specs``: the clean values, and a problem per refused field.

    Blank values become ``None`` (they clear a field). With ``partial`` (an edit), missing
    required fields are not a problem. Unknown keys are problems: a typo must not pass silently.
    """
    known = {spec.name: spec for spec in specs}
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    for key in raw:
        if key not in known:
            problems.append(Problem(field=key, reason=_("unknown field"), row=row))
    for spec in specs:
        if spec.name not in raw:
            if spec.required and not partial:
                problems.append(Problem(field=spec.name, reason=_("required"), row=row))
            continue
        value = raw[spec.name]
        if v.blank(value):
            if spec.required:
                problems.append(Problem(field=spec.name, reason=_("required, must not be empty"), row=row))
            else:
                clean[spec.name] = None
            continue
        try:
            clean[spec.name] = spec.parse(value)
        except v.FieldError as exc:
            problems.append(Problem(field=spec.name, reason=str(exc), row=row, value=_shown(value)))
    return clean, problems


def check_interaction_rules(clean: Mapping[str, Any], row: int | None = None) -> list[Problem]:
    """Rules across fields of one interaction (negative amounts, payment-only dates)."""
    problems = []
    kind = clean.get("kind")
    amount = clean.get("amount")
    if amount is not None and amount < 0 and kind != "purchase":
        problems.append(
            Problem("amount", _("must not be negative (only a purchase may be: a refund)"), row, str(amount))
        )
    for name in ("due_at", "paid_at"):
        if clean.get(name) is not None and kind != "payment":
            problems.append(Problem(name, _("only payments carry due and paid dates"), row))
    return problems


#: The headline of a :class:`ValidationError` per thing refused (``require_valid``'s ``what``).
REFUSED = {
    "customer": N_("customer refused; nothing was changed:"),
    "change": N_("change refused; nothing was changed:"),
    "interaction": N_("interaction refused; nothing was changed:"),
    "plan": N_("plan refused; nothing was changed:"),
}


def require_valid(problems: list[Problem], what: str, *, headline: str | None = None) -> None:
    """Raise :class:`ValidationError` if there are problems: ``what`` was refused (a key of
    :data:`REFUSED`, else a word shown as is), or the caller's ``headline``, translated by the
    caller (a plugin's own message: ``headline=_("move refused; nothing was changed:")``)."""
    if problems:
        if headline is None:
            headline = (
                _(REFUSED[what])
                if what in REFUSED
                else _("{what} refused; nothing was changed:").format(what=what)
            )
        raise ValidationError(problems, headline=headline)


def _shown(value: Any) -> str:
    shown = str(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
