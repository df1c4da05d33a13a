"""ACME's own complaint stage, labelled in English and translated in ACME's own catalog."""

from __future__ import annotations

import pytest

from kehu_acme_rules.stages import QUALITY_CHECK
from kehu_complaints.api import Stage
from kehu_complaints.workflow import default_workflow
from kehu_core import customers
from kehu_core.errors import KehuError
from kehu_core.i18n import using
from kehu_core.untranslated import english_words

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}


def _workflow():
    workflow = default_workflow()
    workflow.add_stage(QUALITY_CHECK)
    return workflow


def test_a_stage_takes_its_label_from_the_domain_it_names():
    assert Stage("x", "x").domain == "kehu_complaints"
    assert QUALITY_CHECK.domain == "kehu_acme_rules"
    workflow = _workflow()
    with using("en"):
        assert workflow.label("quality_check") == "quality check"
        assert workflow.named("quality_check") == "quality_check"
    with using("zh_CN"):
        assert workflow.label("quality_check") == "质检复核"
        assert workflow.named("quality_check") == "质检复核 [quality_check]"
        # the complaints plugin's own stages still come from its catalog
        assert workflow.label("approved") == "主管批准"


def test_a_label_in_another_domain_is_not_looked_up_in_the_complaints_catalog():
    """``approved`` named in ACME's domain has no translation there: shown as written."""
    workflow = default_workflow()
    workflow.add_stage(Stage("acme_approved", "approved", domain="kehu_acme_rules"))
    with using("zh_CN"):
        assert workflow.label("acme_approved") == "approved"
        assert workflow.label("approved") == "主管批准"


NAMES = ["quality_check", "quality check", "质检复核", "质检", "复检", "Quality-Check"]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("name", NAMES)
def test_the_stage_is_accepted_by_any_of_its_names_in_either_language(lang, name):
    with using(lang):
        assert _workflow().parse_stage(name) == "quality_check"


def test_an_unknown_stage_lists_acme_stage_in_the_users_language():
    workflow = _workflow()
    with (
        using("zh_CN"),
        pytest.raises(KehuError, match=r"reopened \(重新处理\), quality_check \(质检复核\)$"),
    ):
        workflow.parse_stage("质检中心")
    with using("en"), pytest.raises(KehuError, match=r"reopened, quality_check$"):
        workflow.parse_stage("lab")


@pytest.fixture
def complaint(kehu_app, kehu_install, kehu_cli):
    kehu_install("acme_rules")
    with kehu_app.session() as session:
        customers.add_customer(kehu_app, session, {"code": "C1", "name": "安徽建材商行"})
    opened = kehu_cli(
        "complaint", "open", "--customer", "C1", "--description", "打印机卡纸", "--handler", "王芳", "--json"
    )
    assert opened.exit_code == 0, opened.output
    cid = str(opened.json["id"])
    for stage in ("acknowledged", "investigating"):
        assert kehu_cli("complaint", "move", cid, stage).exit_code == 0
    return cid


def test_moving_into_the_stage_by_its_chinese_name(complaint, kehu_cli):
    moved = kehu_cli("complaint", "move", complaint, "质检复核", env=ZH)
    assert moved.exit_code == 0, moved.output
    assert "质检复核" in moved.output and not english_words(moved.output)
    assert kehu_cli("complaint", "show", complaint, "--json").json["status"] == "quality_check"
    # and on: a proposal from the quality check
    assert kehu_cli("complaint", "move", complaint, "solution_proposed", "--solution", "换新").exit_code == 0


def test_the_stage_is_shown_in_the_users_language_and_json_keeps_the_code(complaint, kehu_cli):
    assert kehu_cli("complaint", "move", complaint, "quality_check").exit_code == 0
    zh = kehu_cli("complaint", "show", complaint, env=ZH)
    en = kehu_cli("complaint", "show", complaint, env=EN)
    assert zh.exit_code == en.exit_code == 0
    assert "质检复核" in zh.output and "quality check" not in zh.output
    assert "quality check" in en.output and "质检复核" not in en.output
    listed = kehu_cli("complaint", "list", env=ZH)
    assert "质检复核" in listed.output
    assert (
        kehu_cli("complaint", "show", complaint, "--json", env=ZH).json
        == kehu_cli("complaint", "show", complaint, "--json", env=EN).json
    )
    workflow_zh = kehu_cli("complaint", "workflow", env=ZH).output
    assert "质检复核" in workflow_zh and "quality check" not in workflow_zh
    assert "\nquality_check -> investigating, solution_proposed, withdrawn\n" in (
        kehu_cli("complaint", "workflow", env=EN).output
    )
    stages = kehu_cli("complaint", "workflow", "--json", env=ZH).json["stages"]
    [stage] = [s for s in stages if s["key"] == "quality_check"]
    assert (stage["label"], stage["next"]) == (
        "quality check",
        ["investigating", "solution_proposed", "withdrawn"],
    )
