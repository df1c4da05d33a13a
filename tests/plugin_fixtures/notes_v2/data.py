"""Default categories in the 2.0 release: (code, label, colour); labels changed, one added, a colour each."""

from __future__ import annotations

from kehu_notes.models import categories

from kehu_core import DefaultRecord

CATEGORIES = (
    ("general", "General notes 一般备注", "grey"),
    ("followup", "Follow-up 需跟进", "orange"),
    ("urgent", "Urgent 紧急", "red"),
)


def default_records() -> list[DefaultRecord]:
    """The default categories."""
    return [
        DefaultRecord(table=categories, key={"code": code}, values={"label": label, "colour": colour})
        for code, label, colour in CATEGORIES
    ]
