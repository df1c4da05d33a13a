"""Hook specs the complaints plugin offers to company plugins (declared by its manifest).

Every spec takes ``app`` first; like any argument, leave it out of an implementation that does
not use it. Implement one that may run without this plugin as ``@hookimpl(optionalhook=True)``.
"""

from __future__ import annotations

from kehu_complaints.workflow import Workflow
from kehu_core.app import Kehu
from kehu_core.hookspecs import hookspec


@hookspec
def kehu_complaint_workflow(app: Kehu, workflow: Workflow) -> None:
    """Change the complaint workflow: add or replace stages, transitions and guards.

    Parameters:
        app: the application.
        workflow: the default :class:`~kehu_complaints.workflow.Workflow`, already holding the
            stages of the complaint procedure (投诉处理程序). Call ``workflow.add_stage(Stage(...))``,
            ``workflow.add_transition(source, target)``, ``workflow.remove_transition(...)``,
            ``workflow.add_guard(Guard(name, description, check, targets=(...)))`` or
            ``workflow.remove_guard(name)``. A guard's ``check(ctx)`` returns the reason it
            refuses (shown to the user with the guard's name), or ``None``.

    Returns: nothing. Called once each time a command builds the workflow; the result is
    validated (unknown stage names are an error).
    """
