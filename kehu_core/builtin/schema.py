"""The core declares its own schema through the same hook plugins use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kehu_core.markers import hookimpl

if TYPE_CHECKING:
    from kehu_core.hooktypes import Schema

CORE_BRANCH = "core"


@hookimpl(trylast=True)
def kehu_schema() -> Schema:
    """The core's tables and revisions (branch ``core``)."""
    from kehu_core.hooktypes import Schema
    from kehu_core.models import Base  # lazy: keeps `kehu --help` free of SQLAlchemy

    versions = Path(__file__).parent.parent / "migrations" / "versions"
    return Schema(plugin=CORE_BRANCH, metadata=Base.metadata, versions=versions)
