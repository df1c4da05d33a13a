"""``kehu demo`` with a tiering plugin: the demo's complaints carry their customers' tiers, so
key accounts' complaints run on the key-account SLA and ``sla recompute`` has nothing to change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kehu_complaints.models import COMPLAINTS
from kehu_core.models import Customer
from kehu_core.plugins import Plugins, discover

pytest.importorskip("kehu_tiering")


@pytest.fixture
def kehu_plugins() -> Plugins:
    """Complaints and tiering only: by name alone complaints' demo would come first, so only the
    manifest's ``after=("tiering",)`` puts tiering's demo before it."""
    return discover(strict=True, allow={"complaints", "tiering"})


def test_demo_complaints_carry_their_customers_tiers(kehu_app, kehu_install, kehu_cli):
    kehu_install("complaints", "tiering")
    demo = kehu_cli("demo", "--customers", "60", "--seed", "5")
    assert demo.exit_code == 0, demo.output
    assert "of key accounts" in demo.output
    with kehu_app.session() as s:
        rows = s.execute(
            select(Customer.id, COMPLAINTS.c.tier, COMPLAINTS.c.severity, COMPLAINTS.c.sla_policy).join(
                Customer, Customer.id == COMPLAINTS.c.customer_id
            )
        ).all()
        tiers = kehu_app.hook.kehu_customer_tiers(
            session=s, customer_ids=sorted({r.id for r in rows}), method=None
        )
    assert all(r.tier == tiers.get(r.id) for r in rows)  # closed complaints too
    key = [r for r in rows if r.tier in ("VIP", "主要客户") and r.severity != "critical"]
    assert len(key) >= 10 and {r.sla_policy for r in key} == {"key-account"}
    recomputed = kehu_cli("complaint", "sla", "recompute", "--json")
    assert recomputed.exit_code == 0 and recomputed.json == {"recomputed": 0}
