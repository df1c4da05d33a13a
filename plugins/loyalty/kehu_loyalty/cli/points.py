"""``kehu loyalty``: points, rewards, levels, the ladder and the satisfaction report.

Commands parse options, call one service in one transaction and print through
``kehu_core.cli.output``; the rules live in the services. Rebates are in ``cli_rebate``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click

from kehu_core.cli import requires_plugin, transaction
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_rows,
    emit_table,
    json_option,
    list_output_options,
)

PLUGIN = "loyalty"


def parse_time(value: str | None, name: str) -> datetime | None:
    """A ``--at``-style option as aware UTC, or a clear error naming the option."""
    if value is None:
        return None
    from kehu_core.errors import Problem, ValidationError
    from kehu_core.validation import FieldError, timestamp

    try:
        return timestamp(value)
    except FieldError as exc:
        raise ValidationError([Problem(name, str(exc), value=value)], headline="option refused:") from None


def parse_day(value: str | None, name: str) -> date | None:
    """A date option, or a clear error naming the option."""
    if value is None:
        return None
    from kehu_core.errors import Problem, ValidationError
    from kehu_core.validation import FieldError, day

    try:
        return day(value)
    except FieldError as exc:
        raise ValidationError([Problem(name, str(exc), value=value)], headline="option refused:") from None


@click.group()
def loyalty() -> None:
    """Loyalty (客户忠诚): points, rewards, member levels, the loyalty ladder, rebates (返利).

    \b
    Start:
      kehu loyalty enroll C0001 C0002 --since 2025-01-01
      kehu loyalty balance C0001
      kehu loyalty ladder --since 2025-01-01
    """


@loyalty.command("enroll")
@click.argument("codes", nargs=-1, required=True)
@click.option("--since", default=None, help="Earn for their interactions since this date too (backfill).")
@json_option
@requires_plugin(PLUGIN)
def enroll_cmd(codes: tuple[str, ...], since: str | None, as_json: bool) -> None:
    """Enrol customers in the points programme (members earn from now on, or from --since).

    \b
    Example:
      kehu loyalty enroll C0001 C0002 --since 2025-01-01
    """
    from kehu_loyalty.accounts import enroll

    with transaction() as (app, session):
        result = enroll(app, session, list(codes), since=parse_time(since, "since"))
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


@loyalty.command("refer")
@click.argument("referrer")
@click.argument("referred")
@json_option
@requires_plugin(PLUGIN)
def refer_cmd(referrer: str, referred: str, as_json: bool) -> None:
    """Record that customer REFERRER brought customer REFERRED (referral bonus, advocates).

    \b
    Example:
      kehu loyalty refer C0001 C0042
    """
    from kehu_loyalty.accounts import record_referral

    with transaction() as (_app, session):
        result = record_referral(session, referrer, referred)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{referred} was referred by {referrer}")


@loyalty.command("balance")
@click.argument("code")
@json_option
@requires_plugin(PLUGIN)
def balance_cmd(code: str, as_json: bool) -> None:
    """A member's balance, level and points expiring soon.

    \b
    Example:
      kehu loyalty balance C0001 --json
    """
    from kehu_core.types import utcnow
    from kehu_loyalty.ledger import balance, expiring_between, member
    from kehu_loyalty.settings import load_settings

    now = utcnow()
    with transaction() as (_app, session):
        customer, account = member(session, code)
        days = load_settings(session).expiring_soon_days
        data = {
            "customer": code,
            "name": customer.name,
            "balance": balance(session, customer.id),
            "expired_not_yet_written_off": expiring_between(
                session, customer.id, datetime(1900, 1, 1, tzinfo=now.tzinfo), now
            ),
            "expiring_soon": expiring_between(session, customer.id, now, now + timedelta(days=days)),
            "expiring_within_days": days,
            "level": account.level,
            "enrolled_at": account.enrolled_at,
        }
    if as_json:
        emit_json(data)
    else:
        emit_pairs(
            f"{code} {data['name']}",
            [(k.replace("_", " "), v) for k, v in data.items() if k not in ("customer", "name")],
        )


@loyalty.command("statement")
@click.argument("code")
@click.option("--limit", type=int, default=None, help="Only the last N entries.")
@list_output_options
@requires_plugin(PLUGIN)
def statement_cmd(code: str, limit: int | None, as_json: bool, as_csv: bool) -> None:
    """A member's points ledger with the running balance.

    \b
    Example:
      kehu loyalty statement C0001 --limit 20
    """
    from kehu_loyalty.ledger import member, statement

    with transaction() as (_app, session):
        customer, _ = member(session, code)
        rows = statement(session, customer.id, limit)
    keys = ("occurred_at", "kind", "points", "balance", "expires_at", "reason", "shortfall")
    emit_rows(
        ("when", "kind", "points", "balance", "expires", "reason", "shortfall"),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
        extra={"customer": code} if as_json else None,
    )


@loyalty.command("earn")
@click.argument("code")
@click.argument("points", type=int)
@click.option("--reason", required=True, help="Why the points are given (kept in the ledger).")
@click.option("--key", default=None, help="Idempotency key: repeating the command with it changes nothing.")
@json_option
@requires_plugin(PLUGIN)
def earn_cmd(code: str, points: int, reason: str, key: str | None, as_json: bool) -> None:
    """Award POINTS to a member by hand (a goodwill gesture, an event).

    Purchases earn automatically; this is for everything else.

    \b
    Example:
      kehu loyalty earn C0001 500 --reason "参加新品发布会" --key event-2025-06
    """
    from kehu_loyalty.rewards import adjust

    with transaction() as (_app, session):
        result = adjust(session, code, points, reason, key=key)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{code}: +{points} point(s); balance {result['balance']}")


@loyalty.command("redeem")
@click.argument("code")
@click.argument("reward")
@click.option("--quantity", type=int, default=1, show_default=True)
@click.option(
    "--key", default=None, help="Idempotency key (a retried request is refused, not applied twice)."
)
@json_option
@requires_plugin(PLUGIN)
def redeem_cmd(code: str, reward: str, quantity: int, key: str | None, as_json: bool) -> None:
    """Spend a member's points on REWARD (oldest points first).

    Refused, changing nothing, when the balance or the stock is short.

    \b
    Example:
      kehu loyalty redeem C0001 MUG --quantity 2
    """
    from kehu_loyalty.rewards import redeem

    with transaction() as (_app, session):
        result = redeem(session, code, reward, quantity, key=key)
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"{code}: redeemed {quantity} × {reward} for {result.points} point(s); balance {result.balance}"
        )


@loyalty.command("expire")
@click.option("--as-of", default=None, help="Expire what expired by this time (default: now).")
@click.option("--dry-run", is_flag=True, help="Only count what would expire.")
@json_option
@requires_plugin(PLUGIN)
def expire_cmd(as_of: str | None, dry_run: bool, as_json: bool) -> None:
    """Write off expired points (also run daily by `kehu jobs run-due`).

    \b
    Example:
      kehu loyalty expire --dry-run
    """
    from kehu_loyalty.expiry import expire_points

    with transaction() as (_app, session):
        result = expire_points(session, parse_time(as_of, "as-of"), dry_run=dry_run)
    if as_json:
        emit_json(
            {
                **{k: getattr(result, k) for k in ("as_of", "entries", "points", "customers")},
                "dry_run": dry_run,
            }
        )
    else:
        verb = "would expire" if dry_run else "expired"
        click.echo(
            f"{verb} {result.points} point(s) in {result.entries} lot(s) of {result.customers} member(s)"
        )


@loyalty.command("ladder")
@click.option("--since", default=None, help="Start of the period (default: 90 days before --as-of).")
@click.option("--as-of", default=None, help="End of the period (default: now).")
@click.option(
    "--loyal-quarters",
    type=click.IntRange(1, 4),
    default=3,
    show_default=True,
    help="'loyal': a repeat buyer who bought in this many of the last four 91-day quarters.",
)
@json_option
@requires_plugin(PLUGIN)
def ladder_cmd(since: str | None, as_of: str | None, loyal_quarters: int, as_json: bool) -> None:
    """The loyalty ladder: customers per stage and how many moved in the period.

    prospect → first_time → repeat → loyal → member → advocate (seed 001: 合格预期顾客 →
    首次购买客户 → 重复购买客户 → 忠诚客户 → 成员 → 拥护者).

    \b
    Example:
      kehu loyalty ladder --since 2025-01-01 --json
    """
    from kehu_core.errors import KehuError
    from kehu_core.types import utcnow
    from kehu_loyalty.ladder import ladder

    end = parse_time(as_of, "as-of") or utcnow()
    start = parse_time(since, "since") or end - timedelta(days=90)
    if start >= end:
        raise KehuError("--since must be before --as-of")
    with transaction() as (_app, session):
        report = ladder(session, start, end, loyal_quarters)
    if as_json:
        emit_json(report)
        return
    emit_table(
        ("stage", f"at {start:%Y-%m-%d}", f"at {end:%Y-%m-%d}", "moved in", "moved out"),
        [(s.stage, s.start, s.end, s.moved_in, s.moved_out) for s in report.stages],
    )
    click.echo(f"\n{report.moved} customer(s) changed stage; {report.new} new customer(s).")
    if report.transitions:
        emit_table(("from", "to", "customers"), [(a or "(new)", b, n) for a, b, n in report.transitions])


@loyalty.command("satisfaction")
@click.option(
    "--window",
    "window_days",
    type=click.IntRange(1, 3650),
    default=180,
    show_default=True,
    help="A repurchase counts if it follows the feedback within this many days.",
)
@json_option
@requires_plugin(PLUGIN)
def satisfaction_cmd(window_days: int, as_json: bool) -> None:
    """Repurchase rate by satisfaction score (seed 001: a 5 rebuys 6× as often as a 4).

    \b
    Example:
      kehu loyalty satisfaction --window 365
    """
    from kehu_loyalty.reports import SEED_RATIO, satisfaction_repurchase

    with transaction() as (_app, session):
        rows = satisfaction_repurchase(session, window_days)
    if as_json:
        emit_json({"window_days": window_days, "seed_ratio_5_to_4": SEED_RATIO, "rows": rows})
        return
    emit_table(
        ("score", "feedbacks", "bought again", "rate", "× score 4"),
        [
            (
                r.score,
                r.feedbacks,
                r.repurchased,
                f"{r.rate:.1%}" if r.rate is not None else None,
                r.ratio_to_4,
            )
            for r in rows
        ],
    )
    click.echo(
        "\nSeed 001 (Xerox): 给出5分的顾客再购买的可能性比给出4分的顾客多6倍 (a 5 rebuys 6× as often as a 4)."
    )


@loyalty.command("rules")
@json_option
@requires_plugin(PLUGIN)
def rules_cmd(as_json: bool) -> None:
    """The earn rules in force: built-in ones (from settings) and those of installed plugins."""
    from kehu_loyalty.earning import earn_rules

    with transaction() as (app, session):
        _settings, rules = earn_rules(session, app)
    rows = [
        {
            "name": r.name,
            "kinds": ",".join(r.kinds),
            "points_per_yuan": r.points_per_yuan if r.is_amount_rule else None,
            "fixed_points": r.fixed_points or None,
            "once_per": r.once_per,
            "beneficiary": r.beneficiary,
            "description": r.description,
        }
        for r in rules
    ]
    emit_rows(
        ("rule", "kinds", "pt/¥", "fixed", "once per", "to", "description"),
        rows,
        ("name", "kinds", "points_per_yuan", "fixed_points", "once_per", "beneficiary", "description"),
        as_json=as_json,
        as_csv=False,
    )


@loyalty.group("rewards")
def rewards() -> None:
    """The rewards catalogue."""


@rewards.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Include rewards no longer offered.")
@list_output_options
@requires_plugin(PLUGIN)
def rewards_list(include_inactive: bool, as_json: bool, as_csv: bool) -> None:
    """Rewards, cheapest first.

    \b
    Example:
      kehu loyalty rewards list --json
    """
    from attrs import asdict

    from kehu_loyalty.rewards import list_rewards

    with transaction() as (_app, session):
        rows = [asdict(r) for r in list_rewards(session, include_inactive)]
    keys = ("code", "name", "cost_points", "stock", "valid_from", "valid_until", "active")
    emit_rows(
        ("code", "name", "cost", "stock", "from", "until", "active"),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@rewards.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--cost", "cost_points", type=int, required=True, help="Cost in points.")
@click.option("--stock", type=int, default=None, help="Units available (default: unlimited).")
@click.option("--from", "valid_from", default=None, help="Offered from (date or time).")
@click.option("--until", "valid_until", default=None, help="Offered until (exclusive).")
@json_option
@requires_plugin(PLUGIN)
def rewards_add(
    code: str,
    name: str,
    cost_points: int,
    stock: int | None,
    valid_from: str | None,
    valid_until: str | None,
    as_json: bool,
) -> None:
    """Add a reward.

    \b
    Example:
      kehu loyalty rewards add MUG 定制马克杯 --cost 800 --stock 100 --until 2026-12-31
    """
    from kehu_loyalty.rewards import add_reward

    with transaction() as (_app, session):
        reward = add_reward(
            session,
            code,
            name,
            cost_points,
            stock,
            parse_time(valid_from, "from"),
            parse_time(valid_until, "until"),
        )
    if as_json:
        emit_json(reward)
    else:
        click.echo(f"reward {code} ({name}) added: {cost_points} point(s)")


@rewards.command("restock")
@click.argument("code")
@click.option("--stock", type=int, default=None, help="New stock (omit for unlimited).")
@click.option("--active/--inactive", default=None, help="Offer or withdraw the reward.")
@json_option
@requires_plugin(PLUGIN)
def rewards_restock(code: str, stock: int | None, active: bool | None, as_json: bool) -> None:
    """Set a reward's stock, or withdraw it.

    \b
    Example:
      kehu loyalty rewards restock MUG --stock 50
    """
    from kehu_loyalty.rewards import restock

    with transaction() as (_app, session):
        reward = restock(session, code, stock, active)
    if as_json:
        emit_json(reward)
    else:
        click.echo(
            f"reward {code}: stock {reward.stock if reward.stock is not None else 'unlimited'}, active {reward.active}"
        )


@loyalty.group("settings")
def settings_group() -> None:
    """Programme settings: earn rate, bonuses, expiry, tier multipliers."""


@settings_group.command("list")
@list_output_options
@requires_plugin(PLUGIN)
def settings_list(as_json: bool, as_csv: bool) -> None:
    """Every setting with its value and meaning."""
    from kehu_loyalty.settings import list_settings

    with transaction() as (_app, session):
        rows = list_settings(session)
    emit_rows(("key", "value", "meaning"), rows, ("key", "value", "help"), as_json=as_json, as_csv=as_csv)


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
@json_option
@requires_plugin(PLUGIN)
def settings_set(key: str, value: str, as_json: bool) -> None:
    """Change a setting (``tier_multiplier.VIP 2`` adds or changes a tier multiplier).

    \b
    Example:
      kehu loyalty settings set expiry_months 24
    """
    from kehu_loyalty.settings import set_setting

    with transaction() as (_app, session):
        result = set_setting(session, key, value)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{key} = {result['value']}")


@loyalty.group("levels")
def levels_group() -> None:
    """Member levels (银卡, 金卡, 钻石卡 ...) and their review."""


@levels_group.command("list")
@list_output_options
@requires_plugin(PLUGIN)
def levels_list(as_json: bool, as_csv: bool) -> None:
    """Levels, lowest first."""
    from attrs import asdict

    from kehu_loyalty.levels import list_levels

    with transaction() as (_app, session):
        rows = [asdict(lv) for lv in list_levels(session)]
    emit_rows(
        ("level", "rank", "min points", "min spend"),
        rows,
        ("name", "rank", "min_points", "min_spend"),
        as_json=as_json,
        as_csv=as_csv,
    )


@levels_group.command("set")
@click.argument("name")
@click.option("--rank", type=int, required=True, help="Higher is better.")
@click.option(
    "--min-points", type=int, default=None, help="Points earned in the window that reach the level."
)
@click.option("--min-spend", default=None, help="Or money spent in the window.")
@json_option
@requires_plugin(PLUGIN)
def levels_set(name: str, rank: int, min_points: int | None, min_spend: str | None, as_json: bool) -> None:
    """Add or change a level.

    \b
    Example:
      kehu loyalty levels set 金卡 --rank 2 --min-points 20000 --min-spend 20000
    """
    from kehu_core.errors import Problem, ValidationError
    from kehu_core.validation import FieldError, money
    from kehu_loyalty.levels import set_level

    try:
        spend = money(min_spend) if min_spend is not None else None
    except FieldError as exc:
        raise ValidationError(
            [Problem("min_spend", str(exc), value=min_spend)], headline="level refused:"
        ) from None
    with transaction() as (_app, session):
        level = set_level(session, name, rank, min_points, spend)
    if as_json:
        emit_json(level)
    else:
        click.echo(f"level {name}: rank {rank}, min points {min_points}, min spend {spend}")


@levels_group.command("review")
@click.option("--as-of", default=None, help="Review as of this time (default: now).")
@json_option
@requires_plugin(PLUGIN)
def levels_review(as_of: str | None, as_json: bool) -> None:
    """Move members up or down (also run daily by the expiry job)."""
    from kehu_loyalty.levels import review_levels

    with transaction() as (_app, session):
        result = review_levels(session, parse_time(as_of, "as-of"))
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"{result.reviewed} member(s): {result.upgraded} up, {result.downgraded} down, {result.kept_in_grace} kept in grace"
        )


def _register_rebate() -> None:
    from kehu_loyalty.cli_rebate import rebate

    loyalty.add_command(rebate)


_register_rebate()
