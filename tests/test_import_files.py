"""CSV files as imports meet them: columns in --help, UTF-8 with and without BOM, GBK, bad bytes,
bad headers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kehu_core.fields import CUSTOMER_COLUMNS, INTERACTION_COLUMNS
from kehu_core.models import Customer, Interaction


def count(app, model) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def names(app) -> dict[str, str]:
    with app.session() as s:
        return dict(s.execute(select(Customer.code, Customer.name)).all())


@pytest.mark.parametrize(
    "group, columns, required",
    [
        ("customer", CUSTOMER_COLUMNS, "Required: code, name."),
        ("interaction", INTERACTION_COLUMNS, "Required: customer_code, kind, occurred_at."),
    ],
)
def test_help_lists_every_column(kehu_cli, group, columns, required):
    result = kehu_cli(group, "import", "--help")
    assert result.exit_code == 0, result
    listed = " ".join(result.output.split())
    assert ", ".join(columns) in listed
    assert required in listed
    for option in ("--encoding", "--dry-run", "--skip-invalid", "--errors", "--json"):
        assert option in result.output


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_utf8_with_or_without_bom(kehu_app, kehu_cli, tmp_path, bom):
    path = tmp_path / "c.csv"
    path.write_bytes(
        (b"\xef\xbb\xbf" if bom else b"") + "code,name,region\nC1,华为技术,华南\nC2,小米 😀,华北\n".encode()
    )
    result = kehu_cli("customer", "import", str(path))
    assert result.exit_code == 0, result
    assert names(kehu_app) == {"C1": "华为技术", "C2": "小米 😀"}


def test_gbk_file_with_encoding_option(kehu_app, kehu_cli, tmp_path):
    path = tmp_path / "gbk.csv"
    text = (
        "code,name,region,owner\nC1,ABC Trading,East,Li\n"
        "C2,上海贸易有限公司,华东,王芳\nC3,北京科技,华北,张伟\n"
    )
    path.write_bytes(text.encode("gbk"))
    refused = kehu_cli("customer", "import", str(path))
    assert refused.exit_code == 1
    assert "line 3" in refused.output and "--encoding gbk" in refused.output
    assert "Traceback" not in refused.output
    assert count(kehu_app, Customer) == 0
    result = kehu_cli("customer", "import", str(path), "--encoding", "gbk")
    assert result.exit_code == 0, result
    assert names(kehu_app) == {"C1": "ABC Trading", "C2": "上海贸易有限公司", "C3": "北京科技"}


def test_bad_byte_deep_in_file_names_its_line(kehu_app, kehu_cli, tmp_path):
    lines = ["code,name"] + [f"C{i},客户{i}" for i in range(1, 1500)]
    data = ("\n".join(lines) + "\n").encode()
    bad_line = 1200  # well past the first 8 KB the text layer decodes at once
    rows = data.split(b"\n")
    rows[bad_line - 1] = rows[bad_line - 1] + b"\xff\xfe"
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\n".join(rows))
    result = kehu_cli("customer", "import", str(path))
    assert result.exit_code == 1
    assert f"line {bad_line}," in result.output and "--encoding" in result.output
    assert count(kehu_app, Customer) == 0


@pytest.mark.parametrize(
    "group, header, message",
    [
        ("customer", "name,region", "missing required column(s): code"),
        ("customer", "code,name,colour", "unknown column 'colour'"),
        ("customer", "code,name,name", "column 'name' appears twice"),
        (
            "interaction",
            "customer_code,kind,when",
            "unknown column 'when'; missing required column(s): occurred_at",
        ),
    ],
)
def test_bad_header_is_refused_with_the_allowed_columns(kehu_app, kehu_cli, tmp_path, group, header, message):
    path = tmp_path / "h.csv"
    path.write_text(header + "\nC1,visit,华东\n", encoding="utf-8")
    result = kehu_cli(group, "import", str(path))
    assert result.exit_code == 1
    assert "header (line 1) refused: " + message in result.output
    assert (
        "Allowed columns: " + ("code, name, kind" if group == "customer" else "external_ref, customer_code")
        in result.output
    )
    assert count(kehu_app, Customer) == 0 and count(kehu_app, Interaction) == 0


def test_header_names_ignore_case_and_blank_excel_columns(kehu_app, kehu_cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(" Code ,NAME,,\nC1,甲,,\n", encoding="utf-8")
    result = kehu_cli("customer", "import", str(path))
    assert result.exit_code == 0, result
    assert names(kehu_app) == {"C1": "甲"}


def test_empty_file(kehu_cli, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("", encoding="utf-8")
    result = kehu_cli("customer", "import", str(path))
    assert result.exit_code == 1
    assert "the file is empty" in result.output


def test_stray_quote_swallowing_the_file_is_a_clear_error(kehu_app, kehu_cli, tmp_path):
    rows = ["code,name", 'C1,"Acme'] + [f"C{i},客户{i}" for i in range(2, 20000)]
    path = tmp_path / "q.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = kehu_cli("customer", "import", str(path))
    assert result.exit_code == 1
    assert "line 2: a cell is longer than 131072 characters (an unclosed quote?)" in result.output
    assert count(kehu_app, Customer) == 0


def test_unknown_encoding(kehu_cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("code,name\nC1,甲\n", encoding="utf-8")
    result = kehu_cli("customer", "import", str(path), "--encoding", "klingon")
    assert result.exit_code == 1
    assert "unknown encoding 'klingon'" in result.output
