"""kehu forecast plugin (销售预测): bottom-up and top-down sales forecasts, reconciled into SMART targets.

The module stays light: numpy, pandas, statsforecast and hierarchicalforecast are imported
inside the functions that need them, so ``kehu --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kehu_core import Manifest, hookimpl

MANIFEST = Manifest(
    name="forecast",
    version="0.1.0",
    summary="Sales forecasts bottom-up and top-down, gap report, reconciliation, SMART targets (销售预测)",
    min_core_version="0.1.0",
)


@hookimpl
def kehu_schema() -> Any:
    """The plugin's tables and migrations."""
    from kehu_core import Schema
    from kehu_forecast.tables import metadata

    return Schema(plugin="forecast", metadata=metadata, versions=Path(__file__).parent / "migrations")


@hookimpl
def kehu_register_commands(cli: Any) -> None:
    """``kehu forecast ...``."""
    from kehu_forecast.cli import forecast

    cli.add_command(forecast)


@hookimpl
def kehu_profile_sections(session: Any, customer: Any) -> Any:
    """Expected purchases over the next quarter, from the newest forecast run."""
    from kehu_forecast.hooks import profile_sections

    return profile_sections(session, customer)


@hookimpl
def kehu_scheduled_jobs() -> Any:
    """A daily job that refreshes the bottom-up forecast once a new period of history is complete."""
    from kehu_forecast.hooks import jobs

    return jobs()


@hookimpl
def kehu_demo_data(session: Any, context: Any) -> None:
    """Opportunities and market potential with a visible top-down / bottom-up gap."""
    from kehu_forecast.demo import load_demo

    load_demo(session, context)


@hookimpl
def kehu_erase_customer(session: Any, customer_ids: Any) -> None:
    """Forgotten customers: their opportunities keep amounts and dates, lose their free-text notes."""
    from kehu_forecast.hooks import erase_customers

    erase_customers(session, customer_ids)


@hookimpl
def kehu_export_customer(session: Any, customer: Any) -> Any:
    """The customer's opportunities."""
    from kehu_forecast.hooks import export_customer

    return export_customer(session, customer)
