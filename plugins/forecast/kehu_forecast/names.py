"""Parsing an enumerated value in a service: the code for a code, label or Chinese name, or a
:class:`~kehu_core.errors.ValidationError` naming the field and listing the accepted values.

The vocabularies themselves are declared next to each tuple of codes (``hierarchy.LEVEL_NAMES``,
``periods.FREQ_NAMES``, ``targets.GROUPING_NAMES`` ...).
"""

from __future__ import annotations

from typing import Any

from kehu_core import validation
from kehu_core.choices import Vocabulary
from kehu_core.errors import Problem, ValidationError
from kehu_core.validation import FieldError


def pick(field: str, value: Any, vocabulary: Vocabulary) -> str:
    """The code ``value`` names in ``vocabulary``; refused naming ``field`` and the accepted values."""
    try:
        return validation.choice(value, vocabulary)
    except FieldError as exc:
        raise ValidationError([Problem(field, str(exc), value=str(value))]) from None
