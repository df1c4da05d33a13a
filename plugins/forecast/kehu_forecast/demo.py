"""Demo data."""
from __future__ import annotations


def load_demo(session, context):
    return None
