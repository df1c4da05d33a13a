"""Default categories: (code, label). Version 2 changes the labels and adds one."""

from __future__ import annotations

from kehu_notes.models import categories

from kehu_core import DefaultRecord

CATEGORIES = (("general", "General 一般"), ("followup", "Follow-up 跟进"))


def default_records() -> list[DefaultRecord]:
    """The default categories."""
    return [
        DefaultRecord(table=categories, key={"code": code}, values={"label": label})
        for code, label in CATEGORIES
    ]
