"""Hook specs the complaints plugin offers to company plugins (declared by its manifest).

Every spec takes ``app`` first; like any argument, leave it out of an implementation that does
not use it. Implement one that may run without this plugin as ``@hookimpl(optionalhook=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kehu_complaints.records import ComplaintRecord
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


# -- domain events ------------------------------------------------------------------------------
# Each fires inside the transaction of the change it reports, after the change is written (except
# kehu_complaint_before_move, which fires before). Raising rolls the whole change back, so an
# implementation that only observes (notify, export) should not raise for a failure of its own.


@hookspec
def kehu_complaint_opened(app: Kehu, session: Session, complaint: ComplaintRecord) -> None:
    """A complaint was opened: by hand, through the API, or from an imported ``complaint`` interaction.

    Fires inside the opening transaction, once per complaint, after its SLA due times, its
    handler and its history entry are written. Raising rolls the opening back.

    Parameters:
        app: the application.
        session: the session that opened it; write your rows through it.
        complaint: the new complaint, as :class:`~kehu_complaints.api.ComplaintRecord`.
    """


@hookspec
def kehu_complaint_before_move(
    app: Kehu, session: Session, complaint: ComplaintRecord, to_stage: str
) -> None:
    """A complaint is about to move to ``to_stage``; refuse by raising.

    Fires inside the move's transaction after the workflow and its guards allowed the move and
    before anything is written. Raise :class:`kehu_core.errors.KehuError` with a message to
    refuse: the message reaches the user as it is and the move is rolled back (nothing written).
    Any other exception also rolls the move back, reported as your plugin's failure.

    Parameters:
        complaint: the complaint as it is before the move.
        to_stage: the stage it moves to.
    """


@hookspec
def kehu_complaint_moved(
    app: Kehu, session: Session, complaint: ComplaintRecord, from_stage: str, to_stage: str
) -> None:
    """A complaint moved from ``from_stage`` to ``to_stage`` (auto-close included).

    Fires inside the move's transaction, after the move and its history entry are written.
    Raising rolls the move back.

    Parameters:
        complaint: the complaint after the move.
    """


@hookspec
def kehu_complaint_closed(app: Kehu, session: Session, complaint: ComplaintRecord) -> None:
    """A complaint entered a closing stage (``closed``, ``rejected``, ``withdrawn``, a company's own),
    by a move or by the auto-close job.

    Fires inside that transaction, after ``kehu_complaint_moved``. Raising rolls the close back.

    Parameters:
        complaint: the closed complaint.
    """


@hookspec
def kehu_complaint_sla_breached(app: Kehu, session: Session, complaints: Sequence[ComplaintRecord]) -> None:
    """Complaints newly missed a due time (first response or resolution), as the escalation job marks them.

    Fires once per job run with every complaint it newly marked, inside the job's transaction,
    after the marks and history entries are written. Raising rolls the run back (the job is
    logged as failed and retried at its next run).

    Parameters:
        complaints: the complaints marked in this run (``first_response_breached_at`` or
            ``resolution_breached_at`` is the run's time).
    """


@hookspec
def kehu_complaint_escalated(app: Kehu, session: Session, complaints: Sequence[ComplaintRecord]) -> None:
    """Complaints were escalated to their team's lead (``escalated_to``; empty when the team has none).

    Fires once per escalation run with the complaints escalated for the first time, inside the
    job's transaction, after ``kehu_complaint_sla_breached``. Raising rolls the run back.
    """
