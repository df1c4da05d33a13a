"""Plot fonts: a CJK font is used for the figure only, and a machine without one is told how to get one."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib import font_manager

from kehu_core import i18n, plotfonts


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch):
    plotfonts.cjk_font.cache_clear()
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    yield
    plotfonts.cjk_font.cache_clear()


def test_without_a_cjk_font_names_are_pinyin_and_the_advice_names_a_package(no_cjk_font) -> None:
    assert plotfonts.cjk_font() is None
    assert plotfonts.drawable("华东/张伟") == "HuaDong/ZhangWei"
    assert plotfonts.drawable("East") == "East"
    with i18n.using("en"):
        advice = plotfonts.missing_font_advice()
    assert advice is not None and "fonts-noto-cjk" in advice


def test_the_style_is_the_figures_alone() -> None:
    before = list(matplotlib.rcParams["font.sans-serif"]), matplotlib.rcParams["axes.unicode_minus"]
    with plotfonts.figure_style():
        assert matplotlib.rcParams["axes.unicode_minus"] is False
        assert matplotlib.rcParams["font.sans-serif"][-1] == "DejaVu Sans"
    assert (list(matplotlib.rcParams["font.sans-serif"]), matplotlib.rcParams["axes.unicode_minus"]) == before


def test_with_a_cjk_font_there_is_no_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    plotfonts.cjk_font.cache_clear()
    monkeypatch.setattr(plotfonts, "cjk_font", lambda: "WenQuanYi Zen Hei")
    assert plotfonts.missing_font_advice() is None
    assert plotfonts.drawable("华东") == "华东"
