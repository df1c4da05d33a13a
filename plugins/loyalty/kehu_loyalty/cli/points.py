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
from kehu_loyalty import api


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
        "enrolment",
        [
            ("enrolled", ", ".join(result.enrolled) or "-"),
            ("already members", ", ".join(result.already) or "-"),
            ("earning from", result.earn_from),
            ("backfilled entries", result.backfilled_entries),
            ("backfilled points", result.backfilled_points),
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
    with Progress("earning") as progress, transaction() as (app, session):
        result = api.catch_up(app, session, since=since, progress=progress)
    if as_json:
        emit_json(result)
        return
    emit_pairs(
        "backfill",
        [
            ("members", result.members),
            ("interactions read", result.interactions),
            ("entries written", result.entries),
            ("points earned", result.points),
            ("refunds taken back", result.refunds),
            ("points taken back", result.reversed_points),
            ("not taken back (spent or expired)", result.shortfall),
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
    emit_result(result, as_json, f"{referred} was referred by {referrer}")


@click.command("balance", cls=TranslatedCommand)
@click.argument("code")
@json_option
def balance_cmd(code: str, as_json: bool) -> None:
    """A member's balance, level and points expiring soon.

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
            ("balance", found.balance),
            ("expired not yet written off", found.expired_not_yet_written_off),
            ("expiring soon", found.expiring_soon),
            ("expiring within days", found.expiring_within_days),
            ("level", found.level),
            ("enrolled at", found.enrolled_at),
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
    emit_rows(
        ("when", "kind", "points", "balance", "expires", "reason", "shortfall"),
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
    emit_result(result, as_json, f"{code}: +{points} point(s); balance {result['balance']}")


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
        f"{code}: redeemed {quantity} × {reward} for {result.points} point(s); balance {result.balance}",
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
    verb = "would expire" if dry_run else "expired"
    emit_result(
        {**{k: getattr(result, k) for k in ("as_of", "entries", "points", "customers")}, "dry_run": dry_run},
        as_json,
        f"{verb} {result.points} point(s) in {result.entries} lot(s) of {result.customers} member(s)",
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
    rows = [
        {
            "name": r.name,
            "kinds": ",".join(r.kinds),
            "points_per_yuan": r.points_per_yuan if r.is_amount_rule else None,
            "fixed_points": r.fixed_points or None,
            "multiplier": r.multiplier,
            "every_year": r.every_year,
            "once_per": r.once_per,
            "beneficiary": r.beneficiary,
            "description": r.description,
        }
        for r in rules
    ]
    emit_rows(
        ("rule", "kinds", "pt/¥", "fixed", "×", "every year", "once per", "to", "description"),
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
