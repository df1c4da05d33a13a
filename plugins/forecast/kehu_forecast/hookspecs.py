"""The hook specs the forecast plugin offers to other plugins: its domain events.

Implement them in your plugin's ``hooks.py`` with ``@hookimpl(optionalhook=True)`` when the
forecast plugin may be absent. Both fire inside the transaction that made the change: raising
rolls the change back, and what you write commits with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.hookspecs import hookspec
from kehu_forecast.plan import SavedRun
from kehu_forecast.targets import TargetStatusChange


@hookspec
def kehu_forecast_saved(app: Kehu, session: Session, run: SavedRun) -> None:
    """React to a forecast run just saved: bottom-up, top-down or reconciled.

    Fires inside the transaction that saved the run, after its values are written.

    Parameters:
        app: the application.
        session: the session that saved it.
        run: a :class:`~kehu_forecast.plan.SavedRun`: its id, kind, method, periods, company
            total and source (``cli``, ``job``, ``demo``, ...), and ``run.plan``, the values
            at every node and period (integer cents).

    Returns: nothing. Raising rolls the run back and names your plugin.
    """


@hookspec
def kehu_forecast_target_status_changed(
    app: Kehu, session: Session, changes: Sequence[TargetStatusChange]
) -> None:
    """React to SMART targets whose status moved (on track, behind, met, missed).

    Fires inside the transaction that records the statuses (the daily job ``forecast.targets``,
    or :func:`kehu_forecast.api.update_target_statuses`), once per call, with every change.

    Parameters:
        app: the application.
        session: the session that records them.
        changes: one :class:`~kehu_forecast.targets.TargetStatusChange` per target whose
            status differs from the one recorded before (``old_status`` is ``None`` the first
            time a target is judged).

    Returns: nothing. Raising rolls the recording back and names your plugin.
    """
