"""ACME's own rules: the key-account judgement a salesperson records for a customer.

The course material (大客户专项管理) counts a customer as a key account (大客户) if it has
large orders and a long contract, *or* a strategic project, *or* important influence on the
company's business or image, *or* strong technical absorption and innovation, *or* strong
market development. The last four are judgements, not figures: this plugin stores them in
its own table, ``acme_rules_customer_flags``, shows them on the profile card, adds a column
and filters to ``kehu customer list``, and offers key-account and late-payer rules to the
tiering plugin. It routes key accounts' complaints to a named manager, plans a follow-up call
a week after a complaint closes, reviews the week every week, and where loyalty is installed
gives double points on 11-11.

This package holds only the manifest; kehu imports the modules it names when needed.
"""

from __future__ import annotations

from kehu_core import Manifest
from kehu_core.i18n import N_

MANIFEST = Manifest(
    summary=N_("ACME: key-account judgement flags (strategic project, influence, technology, market)"),
    min_core_version="0.1.0",
    # It imports kehu_tiering.api (tier rules) and kehu_complaints.api (routing, follow-ups).
    depends=("tiering", "complaints"),
    # Not needed; where loyalty is installed, ACME adds double points on 11-11 after its rules.
    after=("loyalty",),
    hooks="kehu_acme_rules.hooks",
    commands={
        "acme": ("kehu_acme_rules.cli:acme", "ACME's own rules: key-account judgement flags (大客户判定).")
    },
    demo="kehu_acme_rules.demo:load_demo",
    models="kehu_acme_rules.models:metadata",
    # Its own role, permissions and record rule (see the README's "Security").
    security="kehu_acme_rules.security",
)
