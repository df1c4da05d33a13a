"""Lifecycle callbacks: each writes a row, so tests can see what ran."""

from __future__ import annotations

from kehu_notes.models import lifecycle


def _log(session, event: str, detail: str = "") -> None:
    session.execute(lifecycle.insert().values(event=event, detail=detail))


def after_install(app, session) -> None:
    _log(session, "after_install", "notes")


def after_upgrade(app, session, from_version, to_version) -> None:
    _log(session, "after_upgrade", f"{from_version}->{to_version}")
