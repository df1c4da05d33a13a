"""``has_attribute``: the salesperson's key-account flag, on the edge of each value that means "not set".

Each customer differs from the next by one value of ``attributes["key_account_flags"]``: the
values the rule reads as unset (absent, null, empty text, an empty list, ``false``, ``0``) and
the smallest ones it reads as set (a one-element list, ``true``, ``1``, a word). Expected by hand:
only the last four are key accounts by ``key_account.salesperson_flag``, whatever they bought.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tiering_helpers import add_customers, run

from kehu_tiering.models import assignments

NOT_SET: dict[str, dict[str, Any]] = {
    "ABSENT": {},
    "OTHER_KEY": {"key_account": ["strategic"]},  # a different key
    "NULL": {"key_account_flags": None},
    "EMPTY": {"key_account_flags": ""},
    "EMPTY_LIST": {"key_account_flags": []},
    "FALSE": {"key_account_flags": False},
    "ZERO": {"key_account_flags": 0},
}
SET: dict[str, dict[str, Any]] = {
    "ONE": {"key_account_flags": ["strategic"]},
    "TRUE": {"key_account_flags": True},
    "ONE_NUMBER": {"key_account_flags": 1},
    "WORD": {"key_account_flags": "market"},
}


def test_salesperson_flag_on_the_edges(tiering_app: Any) -> None:
    ids: dict[str, int] = {}
    for code, attributes in {**NOT_SET, **SET}.items():
        ids |= add_customers(tiering_app, [code], attributes=attributes)
    run(tiering_app)
    a = assignments.c
    with tiering_app.session() as session:
        flagged = dict(
            session.execute(
                select(a.customer_id, a.decided_by).where(
                    a.method == "flag:key_account", a.valid_to.is_(None)
                )
            ).all()
        )
    by_code = {code: flagged.get(cid) for code, cid in ids.items()}
    assert by_code == {
        **{code: None for code in NOT_SET},
        **{code: "key_account.salesperson_flag" for code in SET},
    }
