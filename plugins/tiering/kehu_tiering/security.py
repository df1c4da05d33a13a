"""Tiering's permissions, and the checks a run makes before it classifies anyone.

* ``tiering.run`` (manager): ``kehu tier run`` with the remembered settings, and ``kehu tier
  rebuild``. The daily re-tier job runs as kehu itself.
* ``tiering.manage`` (manager): change what the runs compute: the window, the measure, the
  ABC and pyramid cut points, the tier method, the methods and the TOML rule files (a run
  given other values remembers them for the next runs and the daily job), or a run with
  rules given in place of the built-in, plugins' and files' rules (the Python API's
  ``rules=``). Each remembered value that changes is audited as setting ``tiering.<key>``.

A run classifies every active customer, so a user whose record rules hide some customers is
refused even if the company granted them ``tiering.run``. Reading tiers back (show, explain,
history, stats, report, the list column) needs no permission of tiering: it shows only the
customers the acting user sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from kehu_core import audit
from kehu_core.access import Forbidden, acting, customer_condition, require
from kehu_core.i18n import N_, messages
from kehu_core.security import Permission
from kehu_tiering.settings import TierSettings

_ = messages("kehu_tiering").gettext

RUN = "tiering.run"
MANAGE = "tiering.manage"

PERMISSIONS = (
    Permission(
        RUN, "run the tiering (kehu tier run, kehu tier rebuild) with the remembered settings", ("manager",)
    ),
    Permission(
        MANAGE,
        "change the tiering's window, measure, cut points, tier method, methods and rule files",
        ("manager",),
    ),
)

#: The settings a run remembers for the next runs (``as_of`` is each run's own).
REMEMBERED = ("window", "measure", "abc_cuts", "pyramid_cuts", "tier_method", "methods", "rules_files")


def require_every_customer(session: Session, doing: str) -> None:
    """Refuse a user who does not see every customer: ``doing`` writes about all of them."""
    if customer_condition(session) is None:
        return
    actor = acting(session)
    roles = ", ".join(sorted(actor.roles)) or _("no role")
    raise Forbidden(
        _(
            "{login} ({roles}) may not {doing}: it classifies every customer and "
            "{login}'s record rules hide some; ask a manager; nothing was done"
        ).format(login=actor.login, roles=roles, doing=_(doing))
    )


def setting_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{key: [old, new]}`` for each remembered setting that differs."""
    return {key: [before.get(key), after.get(key)] for key in REMEMBERED if before.get(key) != after.get(key)}


def authorize_run(
    session: Session, settings: TierSettings, previous: TierSettings, *, own_rules: bool = False
) -> dict[str, list[Any]]:
    """Check the acting user may make this run; audit the settings it changes; returns them.

    ``previous``: the remembered settings (the newest run's, or the defaults before the
    first). ``own_rules``: the caller gives the rules, replacing the configured ones.
    Raises :class:`~kehu_core.access.Forbidden` before anything is written.
    """
    require(session, RUN, _("run the tiering"))
    changes = setting_changes(previous.to_json(), settings.to_json())
    if changes:
        require(session, MANAGE, _("change the tiering settings ({keys})").format(keys=", ".join(changes)))
    if own_rules:
        require(session, MANAGE, _("run the tiering with rules of its own"))
    require_every_customer(session, N_("run the tiering"))
    for key, (old, new) in changes.items():
        audit.record(session, "setting", f"tiering.{key}", "set", {key: [old, new]})
    return changes
