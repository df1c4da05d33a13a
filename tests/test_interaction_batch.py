"""``InteractionBatch`` over ``RecordedRows`` (what the core hands to the hook) reads exactly
like a batch of plain mappings, and its column access builds no mapping per row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kehu_core import InteractionBatch, RecordedInteraction, RecordedRows, hookimpl
from kehu_core.customers import add_customer, get_customer
from kehu_core.interactions import WRITE_COLUMNS, interaction_writer, write_interactions

KEYS = ("id", "customer_id", "kind", "amount", "occurred_at")
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
VALUES = [
    [7, "purchase", Decimal("12.50"), WHEN],
    [8, "complaint", None, WHEN],
    [7, "purchase", Decimal("-3.00"), WHEN],
]
IDS = (101, 102, 103)
MAPPINGS = [dict(zip(KEYS, (i, *v))) for i, v in zip(IDS, VALUES)]


@pytest.fixture(params=["recorded", "mappings"])
def batch(request: pytest.FixtureRequest) -> InteractionBatch:
    rows = RecordedRows(KEYS, IDS, VALUES) if request.param == "recorded" else MAPPINGS
    return InteractionBatch(rows=rows, source="test")


def test_rows_read_as_mappings(batch: InteractionBatch) -> None:
    assert list(batch.rows) == MAPPINGS
    assert len(batch) == 3
    assert batch.rows[1] == MAPPINGS[1]
    assert batch.rows[-1] == MAPPINGS[2]
    assert batch.rows[1:] == MAPPINGS[1:]


def test_ids_and_columns(batch: InteractionBatch) -> None:
    assert list(batch.ids) == [101, 102, 103]
    assert batch.column("id") == [101, 102, 103]
    assert batch.column("amount") == [Decimal("12.50"), None, Decimal("-3.00")]
    assert batch.column("channel") == [None, None, None]  # a field the rows lack


def test_where_and_of_kind(batch: InteractionBatch) -> None:
    assert batch.of_kind("complaint") == [MAPPINGS[1]]
    assert batch.of_kind("purchase", "complaint") == MAPPINGS
    assert batch.where("amount", lambda a: a is not None and a < 0) == [MAPPINGS[2]]


def test_iterating_gives_typed_values(batch: InteractionBatch) -> None:
    first = next(iter(batch))
    assert isinstance(first, RecordedInteraction)
    assert (first.id, first.customer_id, first.amount, first.channel) == (101, 7, Decimal("12.50"), None)


def test_each_read_is_a_fresh_mapping() -> None:
    """A plugin that changes a row it was given changes nothing another plugin reads."""
    rows = RecordedRows(KEYS, IDS, VALUES)
    mine = rows[0]
    mine["amount"] = Decimal("0")  # type: ignore[index]
    assert rows[0]["amount"] == Decimal("12.50")


def test_out_of_range_and_mismatched_lengths() -> None:
    rows = RecordedRows(KEYS, IDS, VALUES)
    with pytest.raises(IndexError):
        rows[3]
    with pytest.raises(IndexError):
        rows[-4]
    with pytest.raises(ValueError, match="2 ids for 3 rows"):
        RecordedRows(KEYS, IDS[:2], VALUES)


def test_the_hook_gets_recorded_rows(kehu_app, kehu_register_plugin) -> None:
    """The core hands the hook ``RecordedRows``: ids in order, columns as written."""
    seen: list[InteractionBatch] = []

    class Watcher:
        @hookimpl
        def kehu_interactions_recorded(self, session, batch):
            seen.append(batch)

    kehu_register_plugin(Watcher(), "watcher")
    with kehu_app.session() as s:
        add_customer(kehu_app, s, {"code": "C1", "name": "张三"})
        customer = get_customer(s, "C1")
        written = write_interactions(
            kehu_app,
            s,
            [
                {
                    "customer_id": customer.id,
                    "kind": "purchase",
                    "occurred_at": WHEN,
                    "amount": Decimal("8.80"),
                    "external_ref": "r1",
                },
                {"customer_id": customer.id, "kind": "visit", "occurred_at": WHEN, "external_ref": "r2"},
            ],
            "test",
        )
    [batch] = seen
    assert isinstance(batch.rows, RecordedRows)
    assert list(batch.ids) == [w["id"] for w in written]
    assert batch.column("kind") == ["purchase", "visit"]
    assert batch.column("status") == ["done", "done"]
    assert list(batch.rows) == written


class _DoneCounter:
    def __init__(self) -> None:
        self.done: list[str] = []

    @hookimpl
    def kehu_interactions_done(self, session, source):
        self.done.append(source)


def _row(customer_id: int, ref: str) -> list[object]:
    values = {"customer_id": customer_id, "kind": "visit", "occurred_at": WHEN, "external_ref": ref}
    return [values.get(c) for c in WRITE_COLUMNS]


def test_interaction_writer_finishes_once_on_exit(kehu_app, kehu_register_plugin) -> None:
    counter = _DoneCounter()
    kehu_register_plugin(counter, "counter")
    with kehu_app.session() as s:
        add_customer(kehu_app, s, {"code": "C1", "name": "张三"})
        cid = get_customer(s, "C1").id
        with interaction_writer(kehu_app, s, "test") as writer:
            assert len(writer.write([_row(cid, "w1")])) == 1
            assert len(writer.write([_row(cid, "w2"), _row(cid, "w1")])) == 1
            assert counter.done == []
    assert counter.done == ["test"]


def test_interaction_writer_does_not_finish_when_the_block_raises(kehu_app, kehu_register_plugin) -> None:
    counter = _DoneCounter()
    kehu_register_plugin(counter, "counter")
    with pytest.raises(RuntimeError), kehu_app.session() as s:
        add_customer(kehu_app, s, {"code": "C1", "name": "张三"})
        cid = get_customer(s, "C1").id
        with interaction_writer(kehu_app, s, "test") as writer:
            writer.write([_row(cid, "w1")])
            raise RuntimeError("stop")
    assert counter.done == []
