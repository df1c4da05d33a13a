"""``kehu demo``: a realistic data set with the 80/20 shape, loaded only into an empty database."""

from __future__ import annotations

from kehu_core import Kehu
from kehu_core.demo import load_demo


def test_demo_loads_and_shows_pareto(kehu_app, kehu_cli):
    result = kehu_cli("demo", "--customers", "60", "--json")
    assert result.exit_code == 0, result
    data = result.json
    assert data["customers"] == 60 and data["interactions"] > 500
    assert float(data["top20_share"]) > 60  # a Pareto spread, not a uniform one
    assert kehu_cli("customer", "show", "C0001", "--json").exit_code == 0
    again = kehu_cli("demo", "--customers", "60")
    assert again.exit_code == 1 and "already has customers" in again.output


def test_demo_is_deterministic(kehu_app, kehu_cli, tmp_path):
    first = kehu_cli("demo", "--customers", "30", "--seed", "3", "--json").json
    other = Kehu(f"sqlite:///{tmp_path / 'other.db'}", plugins=kehu_app.plugins)
    other.init()
    with other.session() as session:
        second = load_demo(other, session, customers=30, seed=3)
    other.dispose()
    assert first["interactions"] == second.interactions
    assert first["revenue"] == str(second.revenue)
