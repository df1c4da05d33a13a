"""``customer forget`` against every personal-data column of the core and of every plugin,
listed from the models (issue 21), not by hand: a new column cannot be missed.

Every text column (String, Text, JSON) of every table of the core and the installed plugins
is classified: personal (``forget`` must erase it) or not. Each column says so itself with
``info={"personal": True}`` (or ``False``) in its model, the core's (``kehu_core.models.PERSONAL``)
as a plugin's; a marked column of another type (a birthday, a birthday month) is personal too,
and must be empty after ``forget``. A table with no link to a customer (a plugin's with no
``customer_id`` and no foreign key leading to one, or one of the core's configuration tables
in :data:`NO_CUSTOMER_DATA`) holds no customer's data. An unmarked text column anywhere else
fails :func:`test_every_text_column_is_classified`, so a new column cannot be missed.

The erasure test then writes a marked value into every personal column of every row of the
customer to forget (and of a second customer, who must keep them), runs ``forget``, and reads
every column of every table back: no marked value of the forgotten customer may remain.
A personal column of a table in which the customer has no row fails the test too, so the
setup must grow with the schema.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON, String, Table, Text, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from kehu_core.fields import PERSONAL_FIELDS
from kehu_core.models import Base
from kehu_core.privacy import FORGOTTEN_NAME

PLUGINS = ("tiering", "loyalty", "complaints", "forecast")

#: Personal in the rows the clause selects only (the others are written by kehu itself).
PARTLY_PERSONAL = {
    ("loyalty_ledger", "reason"): "kind = 'adjust'",  # a manual entry's reason is typed by staff
}

#: The core's tables that hold no customer's data: configuration, staff, runs, the audit trail
#: (which keeps only "changed" for personal fields: tests/test_audit.py). A plugin's table
#: holds none when nothing links it to a customer (:func:`owner_clause`).
NO_CUSTOMER_DATA = {
    "kehu_audit", "kehu_data_records", "kehu_job_runs", "kehu_plugins", "kehu_role_grants", "kehu_roles",
    "kehu_settings", "kehu_users", "kehu_api_tokens", "kehu_user_roles",
}  # fmt: skip

TEXT_TYPES = (String, Text, JSON)
#: The core's tables (the plugins' come with their own metadata).
CORE_TABLES = frozenset(Base.metadata.tables)


def all_tables(app) -> list[Table]:
    """Every table of the core and the installed plugins, from their models."""
    tables = {t.name: t for s in app.schemas(app.installed()) for t in s.metadata.tables.values()}
    return [tables[name] for name in sorted(tables)]


def classification(table: Table, column, tables: dict[str, Table]) -> bool | str | None:
    """True (personal), a reason (not personal) or None (unclassified)."""
    marker = column.info.get("personal")
    if marker is not None:
        return True if marker else "marked not personal in the model"
    if table.name in NO_CUSTOMER_DATA:
        return "a table without customers' data"
    if table.name not in CORE_TABLES and owner_clause(table, 0, tables) is None:
        return "a plugin's table with no link to a customer"
    return None


def not_text(table: Table, column) -> bool:
    """A personal column that is not text: its value is cleared, not searched for a mark."""
    return column.info.get("personal") is True and not isinstance(column.type, TEXT_TYPES)


def personal_columns(app) -> list[tuple[Table, Any]]:
    every = all_tables(app)
    tables = {t.name: t for t in every}
    found = []
    for table in every:
        for column in table.columns:
            if classification(table, column, tables) is True or not_text(table, column):
                found.append((table, column))
    return found


def owner_clause(table: Table, customer_id: int, tables: dict[str, Table]):
    """The rows of ``table`` that belong to the customer: a customer id column, or a foreign
    key to a table whose rows belong to the customer."""
    if table.name == "customers":
        return table.c.id == customer_id
    for column in table.columns:
        for fk in column.foreign_keys:
            if fk.target_fullname == "customers.id":
                return column == customer_id
    if "customer_id" in table.c:
        return table.c.customer_id == customer_id
    for column in table.columns:
        for fk in column.foreign_keys:
            parent_name, _, parent_column = fk.target_fullname.partition(".")
            parent = tables.get(parent_name)
            if parent is not None:
                inner = owner_clause(parent, customer_id, tables)
                if inner is not None:
                    return column.in_(select(parent.c[parent_column]).where(inner))
    return None


@pytest.fixture
def shop(kehu_app, kehu_install, kehu_cli):
    """Two customers with data in every plugin: C1 is forgotten, C2 keeps everything."""
    kehu_install(*PLUGINS)
    for code in ("C1", "C2"):
        added = kehu_cli(
            "customer", "add", code, f"王{code}", "--kind", "person", "--phone", "13800000000",
            "--owner", "李", "--email", f"{code}@example.com", "--birthday", "1980-05-01", "--tags", "vip",
            "--special-dates", "wedding=2010-10-01", "--attributes", '{"wechat": "w"}',
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        for args in (
            ("interaction", "log", code, "purchase", "--amount", "1000", "--note", "note"),
            ("loyalty", "enroll", code),
            ("loyalty", "earn", code, "50", "--reason", "event"),
            ("interaction", "log", code, "complaint", "--note", "送货延迟"),
            (
                "forecast",
                "opportunity",
                "add",
                code,
                "5000",
                "--close",
                "2030-01-31",
                "--stage",
                "线索",
                "--note",
                "note",
            ),
        ):
            result = kehu_cli(*args)
            assert result.exit_code == 0, (args, result.output)
    assert kehu_cli("loyalty", "refer", "C2", "C1").exit_code == 0
    assert kehu_cli("tier", "run").exit_code == 0
    return kehu_app


def marked(table: Table, column, code: str) -> str:
    return f"MARK-{code}-{table.name}.{column.name}"


def write_marks(session, table: Table, column, code: str, clause) -> None:
    """Put a marked value into ``column`` of the customer's rows; an append-only table (its
    triggers refuse updates) gets a copy of one of the customer's rows with the value."""
    mark = marked(table, column, code)
    value: Any = mark if not isinstance(column.type, JSON) else {"text": mark}
    if column.name == "special_dates":
        value = {mark: "2010-10-01"}
    where = [clause]
    if (table.name, column.name) in PARTLY_PERSONAL:
        where.append(literal_sql(PARTLY_PERSONAL[table.name, column.name]))
    try:
        with session.begin_nested():
            session.execute(update(table).where(*where).values({column.name: value}))
    except DBAPIError:
        row = session.execute(select(table).where(*where).limit(1)).mappings().first()
        assert row is not None
        copy = {k: v for k, v in row.items() if not table.c[k].primary_key}
        copy[column.name] = value
        session.execute(table.insert().values(copy))


def literal_sql(clause: str):
    return text(clause)


def test_every_text_column_is_classified(kehu_app, kehu_install):
    kehu_install(*PLUGINS)
    every = all_tables(kehu_app)
    tables = {t.name: t for t in every}
    missing = []
    known = set()
    for table in every:
        for column in table.columns:
            known.add((table.name, column.name))
            if isinstance(column.type, TEXT_TYPES) and classification(table, column, tables) is None:
                missing.append(f"{table.name}.{column.name}")
    assert not missing, "text columns not marked info={'personal': True/False} in their model: " + ", ".join(
        missing
    )
    assert NO_CUSTOMER_DATA <= CORE_TABLES
    # The core's list of personal customer fields (what forget clears) and the markers agree.
    customers = next(t for t in every if t.name == "customers")
    assert {f for f in PERSONAL_FIELDS if f in customers.columns} == {
        c.name for c in customers.columns if c.info.get("personal") is True
    }


def test_the_plugins_personal_columns_come_from_their_models(kehu_app, kehu_install):
    kehu_install(*PLUGINS)
    marked_personal = {
        f"{table.name}.{column.name}"
        for table, column in personal_columns(kehu_app)
        if table.name not in CORE_TABLES
    }
    assert marked_personal == {
        "complaints_complaints.description",
        "complaints_complaints.solution",
        "complaints_complaints.root_cause",
        "complaints_complaints.corrective_action",
        "complaints_complaints.penalty_note",
        "complaints_complaints.close_reason",
        "complaints_history.note",
        "forecast_opportunities.note",
        "loyalty_ledger.reason",
        "loyalty_accounts.birthday_month",
    }


def test_forget_erases_every_personal_column_of_every_plugin(shop, kehu_cli):
    app = shop
    every = all_tables(app)
    tables = {t.name: t for t in every}
    columns = personal_columns(app)
    assert {t.name for t, _ in columns} >= {
        "customers",
        "interactions",
        "complaints_complaints",
        "loyalty_ledger",
    }
    with app.session() as session:
        customers = tables["customers"]
        ids = {
            code: session.scalar(select(customers.c.id).where(customers.c.code == code))
            for code in ("C1", "C2")
        }
        for table, column in columns:
            if not_text(table, column):
                continue
            for code, customer_id in ids.items():
                clause = owner_clause(table, customer_id, tables)
                assert clause is not None, f"{table.name} has personal columns but no link to a customer"
                write_marks(session, table, column, code, clause)
    with app.engine.connect() as conn:
        for table, column in columns:
            clause = owner_clause(table, ids["C1"], tables)
            values = conn.execute(select(column).where(clause)).scalars().all()
            assert values, (
                f"C1 has no row in {table.name}: the setup must give it one ({column.name} is personal)"
            )
            if not not_text(table, column):
                assert any(marked(table, column, "C1") in str(v) for v in values), (table.name, column.name)
            else:
                assert any(v is not None for v in values), (table.name, column.name)

    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0

    left = []
    with app.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        for table in every:
            if table.name not in names:
                continue
            text_columns = [c for c in table.columns if isinstance(c.type, TEXT_TYPES)]
            for row in conn.execute(select(*text_columns)) if text_columns else ():
                for column, value in zip(text_columns, row):
                    if value is not None and "MARK-C1-" in str(value):
                        left.append(f"{table.name}.{column.name}: {value}")
        assert not left, "forget left personal data: " + "; ".join(sorted(set(left)))
        for table, column in columns:
            c1 = conn.execute(select(column).where(owner_clause(table, ids["C1"], tables))).scalars().all()
            if not_text(table, column):
                assert all(v is None for v in c1), (table.name, column.name, c1)
            c2 = conn.execute(select(column).where(owner_clause(table, ids["C2"], tables))).scalars().all()
            if not_text(table, column):
                assert any(v is not None for v in c2), (table.name, column.name)
            else:
                assert any(marked(table, column, "C2") in str(v) for v in c2), (table.name, column.name)
        customers = tables["customers"]
        name = conn.execute(select(customers.c.name).where(customers.c.id == ids["C1"])).scalar()
        assert name == FORGOTTEN_NAME
    # Kept for the books: C1's purchase, points and complaint are still there, anonymous.
    assert kehu_cli("loyalty", "balance", "C1", "--json").exit_code == 0
