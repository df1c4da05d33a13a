"""``kehu loyalty enroll|backfill|refer|balance|statement|earn|redeem|expire|rules``: members, points."""

from __future__ import annotations

from datetime import datetime

import click

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import (
    Progress,
    emit_json,
    emit_pairs,
    emit_result,
    emit_rows,
    json_option,
    list_output_options,
    row_count,
)
from kehu_core.cli.params import TIMESTAMP
from kehu_core.i18n import messages
from kehu_core.vocab import KNOWN_INTERACTION_KINDS
from kehu_loyalty import api
from kehu_loyalty.ledger import ENTRY_KIND
from kehu_loyalty.rules import BENEFICIARY, ONCE_PER_CHOICE

_, ngettext = messages("kehu_loyalty").functions()


@click.command("enroll", cls=TranslatedCommand)
@click.argument("codes", nargs=-1, required=True)
@click.option(
    "--since",
    type=TIMESTAMP,
    default=None,
    help="Earn for their interactions since this date too (backfill).",
)
@json_option
def enroll_cmd(codes: tuple[str, ...], since: datetime | None, as_json: bool) -> None:
    """Enrol customers in the points programme (members earn from now on, or from --since).

    \b
    Example:
      kehu loyalty enroll C0001 C0002 --since 2025-01-01
    """
    with transaction() as (app, session):
        result = api.enroll(app, session, list(codes), since=since)
    if as_json:
        emit_json(result)
        return
    emit_pairs(
        _("enrolment"),
        [
            (_("enrolled"), ", ".join(result.enrolled) or "-"),
            (_("already members"), ", ".join(result.already) or "-"),
            (_("earning from"), result.earn_from),
            (_("backfilled entries"), result.backfilled_entries),
            (_("backfilled points"), result.backfilled_points),
        ],
    )


@click.command("backfill", cls=TranslatedCommand)
@click.option(
    "--since",
    type=TIMESTAMP,
    default=None,
    help="Only interactions from this time on (default: each member's whole membership).",
)
@json_option
def backfill_cmd(since: datetime | None, as_json: bool) -> None:
    """Earn the points that interactions written without loyalty missed (idempotent).

    Interactions written while loyalty was not loaded (`kehu --without-plugin loyalty ...`)
    earned nothing and refunds took nothing back. This runs the earn rules over every
    member's interactions, oldest first, and writes only what has no ledger entry yet:
    running it again changes nothing. Needs permission loyalty.manage.

    \b
    Example:
      kehu --without-plugin loyalty interaction import purchases.csv
      kehu loyalty backfill --since 2025-06-01
    """
    with Progress(_("earning")) as progress, transaction() as (app, session):
        result = api.catch_up(app, session, since=since, progress=progress)
    if as_json:
        emit_json(result)
        return
    emit_pairs(
        _("backfill"),
        [
            (_("members"), result.members),
            (_("interactions read"), result.interactions),
            (_("entries written"), result.entries),
            (_("points earned"), result.points),
            (_("refunds taken back"), result.refunds),
            (_("points taken back"), result.reversed_points),
            (_("not taken back (spent or expired)"), result.shortfall),
        ],
    )


@click.command("refer", cls=TranslatedCommand)
@click.argument("referrer")
@click.argument("referred")
@json_option
def refer_cmd(referrer: str, referred: str, as_json: bool) -> None:
    """Record that customer REFERRER brought customer REFERRED (referral bonus, advocates).

    \b
    Example:
      kehu loyalty refer C0001 C0042
    """
    with transaction() as (_app, session):
        result = api.refer(session, referrer, referred)
    emit_result(
        result,
        as_json,
        _("{referred} was referred by {referrer}").format(referred=referred, referrer=referrer),
    )


@click.command("balance", cls=TranslatedCommand)
@click.argument("code")
@json_option
def balance_cmd(code: str, as_json: bool) -> None:
    """A member's points available to spend, level and points expiring soon.

    Available: the points ledger's sum less the points already expired but not yet written
    off (a redemption writes them off first).

    \b
    Example:
      kehu loyalty balance C0001 --json
    """
    with transaction() as (_app, session):
        found = api.balance(session, code)
    if as_json:
        emit_json(found)
        return
    emit_pairs(
        f"{code} {found.name}",
        [
            (_("available to spend"), found.available),
            (_("ledger (before expired points are written off)"), found.balance),
            (_("expired not yet written off"), found.expired_not_yet_written_off),
            (_("expiring soon"), found.expiring_soon),
            (_("expiring within days"), found.expiring_within_days),
            (_("level"), found.level),
            (_("enrolled at"), found.enrolled_at),
        ],
    )


@click.command("statement", cls=TranslatedCommand)
@click.argument("code")
@click.option("--limit", type=row_count(0), default=None, help="Only the last N entries (0: all).")
@list_output_options
def statement_cmd(code: str, limit: int | None, as_json: bool, as_csv: bool) -> None:
    """A member's points ledger with the running balance.

    \b
    Example:
      kehu loyalty statement C0001 --limit 20
    """
    with transaction() as (_app, session):
        rows = api.statement(session, code, limit)
    keys = ("occurred_at", "kind", "points", "balance", "expires_at", "reason", "shortfall")
    if not (as_json or as_csv):
        rows = [{**r, "kind": ENTRY_KIND.label(r["kind"])} for r in rows]
    emit_rows(
        (_("when"), _("entry kind"), _("points"), _("balance"), _("expires"), _("reason"), _("shortfall")),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
        extra={"customer": code} if as_json else None,
    )


@click.command("earn", cls=TranslatedCommand)
@click.argument("code")
@click.argument("points", type=int)
@click.option("--reason", required=True, help="Why the points are given (kept in the ledger).")
@click.option("--key", default=None, help="Idempotency key: repeating the command with it changes nothing.")
@json_option
def earn_cmd(code: str, points: int, reason: str, key: str | None, as_json: bool) -> None:
    """Award POINTS to a member by hand (a goodwill gesture, an event).

    Purchases earn automatically; this is for everything else.

    \b
    Example:
      kehu loyalty earn C0001 500 --reason "参加新品发布会" --key event-2025-06
    """
    with transaction() as (app, session):
        result = api.earn_points(app, session, code, points, reason, key=key)
    emit_result(
        result,
        as_json,
        ngettext(
            "{code}: +{n} point; {available} available to spend",
            "{code}: +{n} points; {available} available to spend",
            points,
        ).format(code=code, n=points, available=result["available"]),
    )


@click.command("redeem", cls=TranslatedCommand)
@click.argument("code")
@click.argument("reward")
@click.option("--quantity", type=int, default=1, show_default=True)
@click.option(
    "--key", default=None, help="Idempotency key (a retried request is refused, not applied twice)."
)
@json_option
def redeem_cmd(code: str, reward: str, quantity: int, key: str | None, as_json: bool) -> None:
    """Spend a member's points on REWARD (oldest points first).

    Refused, changing nothing, when the balance or the stock is short.

    \b
    Example:
      kehu loyalty redeem C0001 MUG --quantity 2
    """
    with transaction() as (app, session):
        result = api.redeem(app, session, code, reward, quantity, key=key)
    emit_result(
        result,
        as_json,
        ngettext(
            "{code}: redeemed {quantity} x {reward} for {n} point; {available} available to spend",
            "{code}: redeemed {quantity} x {reward} for {n} points; {available} available to spend",
            result.points,
        ).format(code=code, quantity=quantity, reward=reward, n=result.points, available=result.balance),
    )


@click.command("expire", cls=TranslatedCommand)
@click.option(
    "--as-of", type=TIMESTAMP, default=None, help="Expire what expired by this time (default: now)."
)
@click.option("--dry-run", is_flag=True, help="Only count what would expire.")
@json_option
def expire_cmd(as_of: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Write off expired points (also run daily by `kehu jobs run-due`).

    \b
    Example:
      kehu loyalty expire --dry-run
    """
    with transaction() as (app, session):
        result = api.expire(app, session, as_of, dry_run=dry_run)
    message = (
        _("would expire {points} point(s) in {lots} lot(s) of {members} member(s)")
        if dry_run
        else _("expired {points} point(s) in {lots} lot(s) of {members} member(s)")
    )
    emit_result(
        {**{k: getattr(result, k) for k in ("as_of", "entries", "points", "customers")}, "dry_run": dry_run},
        as_json,
        message.format(points=result.points, lots=result.entries, members=result.customers),
    )


@click.command("rules", cls=TranslatedCommand)
@json_option
def rules_cmd(as_json: bool) -> None:
    """The earn rules in force: built-in ones (from settings) and those of installed plugins.

    \b
    Example:
      kehu loyalty rules --json
    """
    with transaction() as (app, session):
        _settings, rules = api.earn_rules(app, session)
    kinds = KNOWN_INTERACTION_KINDS if not as_json else None
    rows = [
        {
            "name": r.name,
            "kinds": ",".join(kinds.label(k) for k in r.kinds) if kinds else ",".join(r.kinds),
            "points_per_yuan": r.points_per_yuan if r.is_amount_rule else None,
            "fixed_points": r.fixed_points or None,
            "multiplier": r.multiplier,
            "every_year": r.every_year,
            "once_per": r.once_per if as_json or not r.once_per else ONCE_PER_CHOICE.label(r.once_per),
            "beneficiary": r.beneficiary if as_json else BENEFICIARY.label(r.beneficiary),
            "description": r.description,
        }
        for r in rules
    ]
    emit_rows(
        (
            _("rule"),
            _("interaction kinds"),
            _("points per yuan"),
            _("fixed points"),
            _("multiplier"),
            _("every year"),
            _("how often"),
            _("beneficiary"),
            _("description"),
        ),
        rows,
        (
            "name",
            "kinds",
            "points_per_yuan",
            "fixed_points",
            "multiplier",
            "every_year",
            "once_per",
            "beneficiary",
            "description",
        ),
        as_json=as_json,
        as_csv=False,
    )
