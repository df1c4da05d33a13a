"""Hostile input to the core's import path and the fields it shares with the CLI: malformed
JSON attributes, unclosed quotes, out-of-range numbers, very wide files, time zones and
invisible characters in codes; and property tests over the CSV reader and the attribute parser.

Each case asserts the exit code, the message (line and field where there is a file) and that
nothing was written, or exactly what the message says was written.
"""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kehu_core import customers
from kehu_core.csvfile import MAX_COLUMNS, CsvStream
from kehu_core.errors import KehuError
from kehu_core.fields import MAX_ATTRIBUTE_DEPTH, attributes
from kehu_core.models import Customer, Interaction
from kehu_core.validation import FieldError

DEEP = '{"a": ' + "[" * 20_000 + "]" * 20_000 + "}"
HUGE_NUMBER = '{"a": ' + "9" * 5000 + "}"
BAD_ATTRIBUTES = [
    pytest.param('{"a": NaN}', "NaN is not allowed", id="nan"),
    pytest.param('{"a": Infinity}', "Infinity is not allowed", id="infinity"),
    pytest.param('{"a": -Infinity}', "-Infinity is not allowed", id="minus-infinity"),
    pytest.param('{"a": 1e400}', "not finite", id="overflowing-float"),
    pytest.param('{"a": "x\\u0000y"}', "contains a NUL character", id="nul-escape"),
    pytest.param('{"a": "\\ud800"}', "lone surrogate", id="lone-surrogate"),
    pytest.param('{"\\udfff": 1}', "lone surrogate", id="surrogate-key"),
    pytest.param(DEEP, f"nested more than {MAX_ATTRIBUTE_DEPTH} levels deep", id="60k-deep"),
    pytest.param(
        '{"a": ' + "[" * 40 + "]" * 40 + "}", f"nested more than {MAX_ATTRIBUTE_DEPTH}", id="40-deep"
    ),
    pytest.param(HUGE_NUMBER, "more than 32 digits", id="5000-digits"),
    pytest.param('{"a": 9223372036854775808}', "out of range", id="past-64-bits"),
]


def count(app, model) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def stored_attributes(app, code: str):
    with app.session() as s:
        return s.scalar(select(Customer.attributes).where(Customer.code == code))


def codes(app) -> list[str]:
    with app.session() as s:
        return sorted(s.scalars(select(Customer.code)))


@pytest.fixture
def c1(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为技术", "attributes": {"ok": 1}})
    return kehu_app


def write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- 1. attributes that later commands could not read ------------------------------------------
@pytest.mark.parametrize("document, reason", BAD_ATTRIBUTES)
def test_customer_edit_refuses_unreadable_attributes(c1, kehu_cli, document, reason):
    result = kehu_cli("customer", "edit", "C1", "--attributes", document)
    assert result.exit_code == 1, result
    assert "attributes:" in result.output and reason in result.output
    assert "Traceback" not in result.output
    assert stored_attributes(c1, "C1") == {"ok": 1}


def test_nan_never_reaches_tiering_or_export(c1, kehu_cli):
    kehu_cli("customer", "edit", "C1", "--attributes", '{"a": NaN}')
    exported = kehu_cli("customer", "export", "C1", "--json")
    assert exported.exit_code == 0, exported
    json.loads(exported.output)  # strict JSON: no NaN crept in


@pytest.mark.parametrize("document, reason", BAD_ATTRIBUTES)
def test_import_refuses_unreadable_attributes_with_line_and_field(c1, kehu_cli, tmp_path, document, reason):
    cell = '"' + document.replace('"', '""') + '"'
    path = write(tmp_path / "c.csv", f"code,name,attributes\nC2,甲,{{}}\nC3,乙,{cell}\n")
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 1, result
    assert "1 of 2 row(s) refused; nothing was written" in result.output
    assert "line 3, attributes: " in result.output and reason in result.output
    assert codes(c1) == ["C1"]
    skipped = kehu_cli("customer", "import", path, "--skip-invalid", "--json")
    assert skipped.exit_code == 0, skipped
    assert (skipped.json["written"], skipped.json["invalid"]) == (1, 1)
    assert codes(c1) == ["C1", "C2"]


@pytest.mark.parametrize(
    "cell, reason",
    [("x\x00y", "contains a NUL character"), ("x" * 10_001, "too long: 10001 characters")],
    ids=["raw-nul", "too-long"],
)
def test_attr_column_cells_are_checked(c1, kehu_cli, tmp_path, cell, reason):
    path = write(tmp_path / "c.csv", f"code,name,attr:note\nC2,甲,fine\nC3,乙,{cell}\n")
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 1, result
    assert "line 3, attr:note: " + reason in result.output
    assert codes(c1) == ["C1"]
    skipped = kehu_cli("customer", "import", path, "--skip-invalid", "--json")
    assert (skipped.exit_code, skipped.json["written"], skipped.json["invalid"]) == (0, 1, 1)
    assert stored_attributes(c1, "C2") == {"note": "fine"}
    assert stored_attributes(c1, "C3") is None


def test_attr_column_name_with_a_control_character_is_refused(c1, kehu_cli, tmp_path):
    path = write(tmp_path / "c.csv", "code,name,attr:no\x00te\nC2,甲,x\n")
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 1, result
    assert "header (line 1) refused" in result.output and "NUL" in result.output
    assert codes(c1) == ["C1"]


def test_accepted_attributes_read_back_everywhere(c1, kehu_cli):
    document = '{"n": 9223372036854775807, "f": -1.5e300, "t": "😀\\u2028中", "l": [[[true, null]]]}'
    result = kehu_cli("customer", "edit", "C1", "--attributes", document)
    assert result.exit_code == 0, result
    exported = kehu_cli("customer", "export", "C1", "--json")
    assert exported.exit_code == 0, exported
    assert json.loads(exported.output)["customer"]["attributes"] == json.loads(document)


def test_python_api_attributes_are_checked_too(c1):
    with pytest.raises(KehuError, match="NaN and Infinity are not allowed"), c1.session() as s:
        customers.edit_customer(c1, s, "C1", {"attributes": {"a": float("nan")}})
    with pytest.raises(KehuError, match="a set is not a JSON value"), c1.session() as s:
        customers.edit_customer(c1, s, "C1", {"attributes": {"a": {1, 2}}})
    assert stored_attributes(c1, "C1") == {"ok": 1}


# -- 2. an unclosed quote ----------------------------------------------------------------------
def purchases(n: int, note_of=lambda i: "ok") -> str:
    lines = ["customer_code,kind,occurred_at,amount,note"]
    lines += [f"C1,purchase,2026-03-01 10:{i % 60:02d},{i}.00,{note_of(i)}" for i in range(1, n + 1)]
    return "\n".join(lines) + "\n"


def test_unclosed_quote_names_the_line_it_opened_on(c1, kehu_cli, tmp_path):
    path = write(tmp_path / "i.csv", purchases(100, lambda i: '"never closed' if i == 7 else "ok"))
    for options in ((), ("--skip-invalid",)):
        result = kehu_cli("interaction", "import", path, *options)
        assert result.exit_code == 1, result
        assert result.output.count("\n") == 1  # one line
        assert 'i.csv: line 8: a quote (") opened in this row is never closed' in result.output
        assert "the file was not imported" in result.output
        assert count(c1, Interaction) == 0


def test_quote_closed_far_below_names_both_lines(c1, kehu_cli, tmp_path):
    text = purchases(50, lambda i: {3: '"opens', 40: 'closes"here'}.get(i, "ok"))
    path = write(tmp_path / "i.csv", text)
    result = kehu_cli("interaction", "import", path)
    assert result.exit_code == 1, result
    assert "line 4: a quoted cell opened in this row is followed by more text" in result.output
    assert "on line 41" in result.output
    assert count(c1, Interaction) == 0


def test_quoted_newlines_still_import(c1, kehu_cli, tmp_path):
    path = write(tmp_path / "i.csv", purchases(3, lambda i: '"two\nlines"' if i == 2 else "ok"))
    result = kehu_cli("interaction", "import", path, "--json")
    assert result.exit_code == 0, result
    assert result.json["written"] == 3


# -- 4. numbers beyond what the database stores ------------------------------------------------
@pytest.mark.parametrize(
    "amount", ["1e30", "1e26", "10000000000000", "-10000000000000", "-1e99999999999", "9" * 5000]
)
def test_interaction_log_amount_out_of_range(c1, kehu_cli, amount):
    result = kehu_cli("interaction", "log", "C1", "purchase", "--amount", amount)
    assert result.exit_code == 1, result
    assert "amount: out of range: money must be below 10^13 (at most 9999999999999.99)" in result.output
    assert "Traceback" not in result.output
    assert count(c1, Interaction) == 0


def test_largest_amount_is_accepted(c1, kehu_cli):
    result = kehu_cli("interaction", "log", "C1", "purchase", "--amount", "9999999999999.99", "--json")
    assert result.exit_code == 0, result


def test_customer_credit_limit_out_of_range(c1, kehu_cli):
    result = kehu_cli("customer", "add", "C9", "甲", "--credit-limit", "1e26")
    assert result.exit_code == 1, result
    assert "credit_limit: out of range: money must be below 10^13" in result.output
    assert codes(c1) == ["C1"]


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("amount", "1e30", "money must be below 10^13"),
        ("cost", "1e26", "money must be below 10^13"),
        ("quantity", "1e30", "a quantity must be below 10^12"),
    ],
)
def test_import_out_of_range_is_a_row_error(c1, kehu_cli, tmp_path, column, value, reason):
    path = write(
        tmp_path / "i.csv",
        f"customer_code,kind,occurred_at,{column}\nC1,purchase,2026-03-01,5\nC1,purchase,2026-03-02,{value}\n",
    )
    result = kehu_cli("interaction", "import", path)
    assert result.exit_code == 1, result
    assert f"line 3, {column}: out of range: {reason}" in result.output
    assert count(c1, Interaction) == 0
    skipped = kehu_cli("interaction", "import", path, "--skip-invalid", "--json")
    assert (skipped.exit_code, skipped.json["written"], skipped.json["invalid"]) == (0, 1, 1)
    assert count(c1, Interaction) == 1


def test_import_credit_limit_out_of_range(c1, kehu_cli, tmp_path):
    path = write(tmp_path / "c.csv", "code,name,credit_limit\nC2,甲,100\nC3,乙,1e26\n")
    result = kehu_cli("customer", "import", path, "--skip-invalid", "--json")
    assert result.exit_code == 0, result
    assert (result.json["written"], result.json["invalid"]) == (1, 1)
    assert codes(c1) == ["C1", "C2"]


# -- 9. very wide files ------------------------------------------------------------------------
def test_header_with_20000_trailing_commas(c1, kehu_cli, tmp_path):
    header = "code,name" + "," * 20_000
    path = write(tmp_path / "c.csv", header + "\n" + "".join(f"C{i},甲\n" for i in range(2, 14_000)))
    tracemalloc.start()
    try:
        result = kehu_cli("customer", "import", path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1, result
    assert f"line 1: the header has 20002 columns, at most {MAX_COLUMNS} are allowed" in result.output
    assert result.output.count("\n") == 1
    assert peak < 50_000_000
    assert codes(c1) == ["C1"]


def test_row_with_thousands_of_cells(c1, kehu_cli, tmp_path):
    path = write(tmp_path / "c.csv", "code,name\nC2,甲\nC3,乙" + "," * 5000 + "\n")
    result = kehu_cli("customer", "import", path, "--skip-invalid")
    assert result.exit_code == 1, result
    assert f"line 3: 5002 cells, at most {MAX_COLUMNS} are allowed" in result.output
    assert codes(c1) == ["C1"]


def test_header_at_the_column_limit_is_fine(c1, kehu_cli, tmp_path):
    header = "code,name" + "," * (MAX_COLUMNS - 2)
    path = write(tmp_path / "c.csv", f"{header}\nC2,甲\n")
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 0, result
    assert codes(c1) == ["C1", "C2"]


def test_chunks_end_after_a_bounded_number_of_bytes(monkeypatch, tmp_path):
    monkeypatch.setattr("kehu_core.csvfile.CHUNK_BYTES", 64 * 1024)
    path = write(tmp_path / "c.csv", "code,note\n" + "".join(f"C{i},{'x' * 1000}\n" for i in range(1000)))
    with CsvStream(path) as stream:
        sizes = [len(chunk) for chunk in stream.chunks(10_000)]
    assert sum(sizes) == 1000 and max(sizes) < 200


# -- 12. time zones and look-alike codes -------------------------------------------------------
@pytest.mark.parametrize("first, second", [("Asia/Shanghai", "Europe/Berlin"), ("America/New_York", "UTC")])
def test_reimport_under_another_zone_changes_nothing(c1, kehu_cli, tmp_path, company_zone, first, second):
    path = write(
        tmp_path / "i.csv",
        "customer_code,kind,occurred_at,due_at,amount\n"
        "C1,purchase,2026-03-01 10:00,,5\nC1,payment,2026-03-02,2026-04-01 12:00,5\n"
        "C1,call,2026-03-03T09:00+08:00,,\n",
    )
    company_zone(first)
    assert kehu_cli("interaction", "import", path, "--json").json["written"] == 3
    company_zone(second)
    again = kehu_cli("interaction", "import", path, "--json")
    assert again.exit_code == 0, again
    assert (again.json["written"], again.json["unchanged"]) == (0, 3)
    assert count(c1, Interaction) == 3


INVISIBLE = ["\ufeff", "\u200b", "\u200c", "\u200d", "\u2060"]


@pytest.mark.parametrize("mark", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_import_codes_are_normalised(c1, kehu_cli, tmp_path, mark):
    path = write(tmp_path / "c.csv", f"code,name\nC12,甲\n{mark}C12,乙\nC{mark}13,丙\n")
    result = kehu_cli("customer", "import", path)
    assert result.exit_code == 1, result
    assert "line 3, code: appears more than once in the file (first on line 2)" in result.output
    assert codes(c1) == ["C1"]
    skipped = kehu_cli("customer", "import", path, "--skip-invalid", "--json")
    assert (skipped.json["written"], skipped.json["invalid"]) == (2, 1)
    assert codes(c1) == ["C1", "C12", "C13"]


def test_customer_add_normalises_codes(c1, kehu_cli):
    refused = kehu_cli("customer", "add", "\ufeffC1", "甲")
    assert refused.exit_code == 1, refused
    assert "code: already used by another customer" in refused.output
    added = kehu_cli("customer", "add", "Cafe\u0301\u200b", "乙")
    assert added.exit_code == 0, added
    assert codes(c1) == ["C1", "Café"]
    assert kehu_cli("customer", "add", "Café", "丙").exit_code == 1
    control = kehu_cli("customer", "add", "C\u202e9", "丁")
    assert control.exit_code == 1 and "code: contains a control or invisible character" in control.output
    assert codes(c1) == ["C1", "Café"]


def test_interaction_customer_codes_are_normalised(c1, kehu_cli, tmp_path):
    path = write(tmp_path / "i.csv", "customer_code,kind,occurred_at\n\ufeffC1,call,2026-03-01\n")
    result = kehu_cli("interaction", "import", path, "--json")
    assert result.exit_code == 0, result
    assert result.json["written"] == 1


# -- property tests ----------------------------------------------------------------------------
CSV_TEXT = st.text(alphabet=st.sampled_from(list('ab,"\n\r\x00\ufeff\u200b 中\\;')), max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=300), CSV_TEXT.map(lambda t: t.encode("utf-8"))))
def test_csv_reader_raises_only_its_own_errors(data):
    try:
        with CsvStream(io.BytesIO(data)) as stream:
            for chunk in stream.chunks(7):
                for line, cells in chunk:
                    assert line >= 2 and 0 < len(cells) <= MAX_COLUMNS
    except KehuError as exc:
        assert str(exc) and "\n" not in str(exc).strip()


@settings(max_examples=300, deadline=None)
@given(data=CSV_TEXT, encoding=st.sampled_from(["utf-8", "gbk", "utf-16", "latin-1"]))
def test_csv_reader_in_other_encodings(data, encoding):
    raw = data.encode("utf-8", "surrogatepass")
    try:
        with CsvStream(io.BytesIO(raw), encoding) as stream:
            list(stream.rows())
    except KehuError:
        pass


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=8),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


def check_round_trip(value: dict) -> None:
    document = json.dumps(value, allow_nan=False, ensure_ascii=False)
    document.encode("utf-8")
    assert json.loads(document) == value
    assert attributes(document) == value


@settings(max_examples=400, deadline=None)
@given(document=st.one_of(st.text(max_size=120), JSON_VALUES.map(lambda v: json.dumps({"k": v}))))
def test_attribute_text_accepted_round_trips(document):
    try:
        value = attributes(document)
    except FieldError as exc:
        assert str(exc)
        return
    check_round_trip(value)


@settings(max_examples=400, deadline=None)
@given(mapping=st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=5))
def test_attribute_mapping_accepted_round_trips(mapping):
    try:
        value = attributes(mapping)
    except FieldError as exc:
        assert str(exc)
        return
    check_round_trip(value)


@settings(max_examples=200, deadline=None)
@given(depth=st.integers(min_value=0, max_value=3000), opener=st.sampled_from(["[", '{"a":']))
def test_attribute_nesting_never_crashes(depth, opener):
    closer = "]" if opener == "[" else "}"
    inner = opener * depth + "1" + closer * depth
    document = '{"x": ' + inner + "}"
    try:
        value = attributes(document)
    except FieldError as exc:
        assert "nested more than" in str(exc)
        assert depth >= MAX_ATTRIBUTE_DEPTH
        return
    assert depth < MAX_ATTRIBUTE_DEPTH
    check_round_trip(value)


def test_a_pasted_bom_or_zero_width_space_does_not_hide_a_customer(kehu_app, kehu_cli):
    assert kehu_cli("customer", "add", "C12", "华为").exit_code == 0
    for pasted in ("\ufeffC12", "C\u200b12"):
        shown = kehu_cli("customer", "show", pasted, "--json")
        assert shown.exit_code == 0, shown.output
        assert shown.json["profile"]["code"] == "C12"
    assert kehu_cli("customer", "show", "C13").exit_code == 1
