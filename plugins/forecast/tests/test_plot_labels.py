"""Plot labels: in the language of the interface (names in pinyin without a CJK font); a CJK
font missing from matplotlib's cached font list is still found, without rebuilding the cache."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager

from kehu_core import plotfonts
from kehu_forecast import plot


@pytest.fixture
def fresh_lookup():
    plotfonts.cjk_font.cache_clear()
    yield
    plotfonts.cjk_font.cache_clear()


def test_without_a_cjk_font_labels_are_english_and_names_pinyin(fresh_lookup, monkeypatch):
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert plotfonts.cjk_font() is None
    assert plotfonts.drawable("华东/张伟") == "HuaDong/ZhangWei"


def test_a_cjk_font_missing_from_the_cache_is_found_without_a_rebuild(fresh_lookup, monkeypatch, tmp_path):
    # A font file named like Noto Sans CJK, installed after matplotlib cached its font list.
    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    installed = tmp_path / "NotoSansCJK-Regular.ttf"
    shutil.copy(source, installed)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(
        font_manager, "findSystemFonts", lambda *a, **k: [str(tmp_path / "other.ttf"), str(installed)]
    )
    rebuilt = []
    monkeypatch.setattr(font_manager, "_load_fontmanager", lambda *a, **k: rebuilt.append(1))
    assert plotfonts.cjk_font() == "DejaVu Sans"  # the family inside the file
    assert [f.fname for f in font_manager.fontManager.ttflist] == [str(installed)]
    plotfonts.cjk_font()  # looked up once per process
    assert rebuilt == []


def test_with_a_cjk_font_the_plot_is_drawn_in_chinese(fresh_lookup, tmp_path):
    font = plotfonts.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Noto Sans CJK, WenQuanYi, Source Han)")
    assert plotfonts.drawable("华东") == "华东"
    found = font_manager.findfont(font_manager.FontProperties(family=font), fallback_to_default=False)
    assert font_manager.FontProperties(fname=found).get_name() == font
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn
        plot.plot_bars(
            "Targets against actuals",
            ["华东 张伟"],
            {"target": [1.0], "actual": [2.0]},
            str(tmp_path / "t.png"),
        )
    assert (tmp_path / "t.png").stat().st_size > 0
