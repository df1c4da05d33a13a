"""The core's fixed vocabulary and limits, free of heavy imports (the CLI builds its help from it)."""

from __future__ import annotations

from decimal import Decimal

CUSTOMER_KINDS = ("person", "company")
CUSTOMER_SOURCES = ("referral", "trade_magazine", "member_directory", "personal_network", "other")
CORE_INTERACTION_KINDS = (
    "visit",
    "call",
    "letter",
    "email",
    "meeting",
    "demo",
    "purchase",
    "payment",
    "feedback",
    "complaint",
    "other",
)
INTERACTION_STATUSES = ("planned", "done", "cancelled")

#: Maximum lengths, enforced by validation before the database sees a value.
MAX_CODE = 64
MAX_NAME = 200
MAX_SHORT = 100
MAX_NOTE = 10_000

#: Money is kept to the cent.
CENT = Decimal("0.01")
