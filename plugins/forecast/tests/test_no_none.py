"""No command prints "None": blanks are "-" in tables and pairs, empty in CSV."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("output", ["table", "--csv"])
def test_planning_commands_never_print_none(fc, company, kehu_cli, output):
    fc.set_market(kehu_cli)
    flag = () if output == "table" else ("--csv",)
    steps = [
        ("forecast", "opportunity", "add", "C1", "1000", "--probability", "0", "--close", "2026-02-20"),
        ("forecast", "opportunity", "add", "C2", "1000", "--stage", "线索", "--close", "2026-02-20"),
        ("forecast", "opportunity", "move", "OPP-00001", "--status", "lost"),
        ("forecast", "opportunity", "list", *flag),
        ("forecast", "market", "set", "2026-01", "company", "-", "--growth", "0.05"),
        ("forecast", "market", "list", *flag),
        ("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3"),
        ("forecast", "topdown", "--dimension", "region", "--as-of", fc.AS_OF, "--horizon", "3"),
        ("forecast", "gap", "--level", "customer", *flag),
        ("forecast", "reconcile", "--method", "mint-wls"),
        ("forecast", "reconcile", "--method", "middle-out", "--bottomup", "1"),
        ("forecast", "targets", "--period", "quarter", *flag),
        ("forecast", "targets", "--list", *flag),
        ("forecast", "track", "--as-of", "2026-02-01", *flag),
    ]
    for args in steps:
        result = kehu_cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert "None" not in result.output, (args, result.output)
