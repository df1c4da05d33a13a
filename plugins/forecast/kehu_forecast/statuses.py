"""A SMART target's status as people read it: on track (进度正常), behind, met or missed.

Stored and given to scripts (``--json``, events) as the English code; shown in the reader's
language by the commands and the daily job's message.
"""

from __future__ import annotations

from kehu_core.i18n import N_, messages

_ = messages("kehu_forecast").gettext

#: Each status code and its label.
STATUS_LABELS = {"on track": N_("on track"), "behind": N_("behind"), "met": N_("met"), "missed": N_("missed")}


def status_label(status: str) -> str:
    """``status`` in the reader's language (a code kehu does not know: as it is)."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status
