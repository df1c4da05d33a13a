"""The core's services in Chinese: Chinese names accepted wherever a code is (the Python API,
CSV imports, filters), stored as the code; unknown values refused with the accepted ones; the
profile card (客户资料卡) and the services' errors in zh_CN with no English words."""

from __future__ import annotations

import pytest

from kehu_core import customers, i18n, importing, interactions, users, vocab
from kehu_core.analysis import LEVEL
from kehu_core.calendar import UNIT_NAMES
from kehu_core.errors import KehuError, NotFound, ValidationError
from kehu_core.untranslated import english_words
from kehu_core.validation import FieldError

#: (vocabulary, what people type, the code stored).
CHINESE_NAMES = [
    (vocab.CUSTOMER_KIND, "个人", "person"),
    (vocab.CUSTOMER_KIND, "企业", "company"),
    (vocab.CUSTOMER_SOURCE, "转介绍", "referral"),
    (vocab.CUSTOMER_SOURCE, "朋友介绍", "referral"),
    (vocab.CUSTOMER_SOURCE, "行业杂志", "trade_magazine"),
    (vocab.CUSTOMER_SOURCE, "专业杂志", "trade_magazine"),
    (vocab.CUSTOMER_SOURCE, "会员名录", "member_directory"),
    (vocab.CUSTOMER_SOURCE, "协会名录", "member_directory"),
    (vocab.CUSTOMER_SOURCE, "人脉", "personal_network"),
    (vocab.CUSTOMER_SOURCE, "个人关系", "personal_network"),
    (vocab.CUSTOMER_SOURCE, "其他", "other"),
    (vocab.INTERACTION_KIND, "拜访", "visit"),
    (vocab.INTERACTION_KIND, "电话", "call"),
    (vocab.INTERACTION_KIND, "信函", "letter"),
    (vocab.INTERACTION_KIND, "电子邮件", "email"),
    (vocab.INTERACTION_KIND, "邮件", "email"),
    (vocab.INTERACTION_KIND, "e-mail", "email"),
    (vocab.INTERACTION_KIND, "会议", "meeting"),
    (vocab.INTERACTION_KIND, "会面", "meeting"),
    (vocab.INTERACTION_KIND, "演示", "demo"),
    (vocab.INTERACTION_KIND, "购买", "purchase"),
    (vocab.INTERACTION_KIND, "订单", "purchase"),
    (vocab.INTERACTION_KIND, "付款", "payment"),
    (vocab.INTERACTION_KIND, "回款", "payment"),
    (vocab.INTERACTION_KIND, "反馈", "feedback"),
    (vocab.INTERACTION_KIND, "投诉", "complaint"),
    (vocab.INTERACTION_KIND, "其他", "other"),
    (vocab.INTERACTION_STATUS, "计划", "planned"),
    (vocab.INTERACTION_STATUS, "已计划", "planned"),
    (vocab.INTERACTION_STATUS, "完成", "done"),
    (vocab.INTERACTION_STATUS, "已完成", "done"),
    (vocab.INTERACTION_STATUS, "取消", "cancelled"),
    (vocab.INTERACTION_STATUS, "已取消", "cancelled"),
    (LEVEL, "高", "high"),
    (LEVEL, "中", "medium"),
    (UNIT_NAMES, "季度", "quarter"),
]


@pytest.mark.parametrize(("vocabulary", "typed", "code"), CHINESE_NAMES)
def test_chinese_names_give_the_code(vocabulary, typed, code) -> None:
    assert vocabulary.parse(typed) == code
    assert vocabulary.parse(code) == code


def test_the_tuples_of_codes_are_the_vocabularies_codes() -> None:
    assert vocab.CUSTOMER_SOURCES == (
        "referral",
        "trade_magazine",
        "member_directory",
        "personal_network",
        "other",
    )
    assert vocab.CUSTOMER_KINDS == ("person", "company")
    assert vocab.INTERACTION_STATUSES == ("planned", "done", "cancelled")
    assert vocab.CORE_INTERACTION_KINDS[0] == "visit" and "complaint" in vocab.CORE_INTERACTION_KINDS


def test_labels_follow_the_language() -> None:
    with i18n.using("zh_CN"):
        assert vocab.CUSTOMER_SOURCE.label("referral") == "转介绍"
        assert vocab.INTERACTION_STATUS.label("done") == "已完成"
    with i18n.using("en"):
        assert vocab.CUSTOMER_SOURCE.label("trade_magazine") == "trade magazine"


def add(app, **values):
    with app.session() as s:
        return customers.add_customer(app, s, values)


def log(app, **values):
    with app.session() as s:
        return interactions.log_interaction(app, s, values)


def test_the_api_stores_the_code_of_a_chinese_name(kehu_app) -> None:
    by_name = add(kehu_app, code="C1", name="张三", kind="个人", source="朋友介绍")
    by_code = add(kehu_app, code="C2", name="李四", kind="person", source="referral")
    assert (by_name.kind, by_name.source) == (by_code.kind, by_code.source) == ("person", "referral")
    visit = log(kehu_app, customer_code="C1", kind="拜访", status="已完成", occurred_at="2026-03-01")
    planned = log(kehu_app, customer_code="C1", kind="电话", status="计划", occurred_at="2026-03-02")
    assert (visit.kind, visit.status) == ("visit", "done")
    assert (planned.kind, planned.status) == ("call", "planned")
    with kehu_app.session() as s:
        plan = interactions.plan_interaction(
            kehu_app, s, {"customer_code": "C2", "kind": "会议", "occurred_at": "2026-04-01"}
        )
    assert (plan.kind, plan.status) == ("meeting", "planned")


def test_filters_take_chinese_names_and_refuse_unknown_ones(kehu_app) -> None:
    add(kehu_app, code="C1", name="张三", kind="个人", source="朋友介绍")
    add(kehu_app, code="C2", name="李四", source="行业杂志")
    log(kehu_app, customer_code="C1", kind="拜访", occurred_at="2026-03-01")
    log(kehu_app, customer_code="C2", kind="call", status="planned", occurred_at="2026-03-02")
    with kehu_app.session() as s:

        def codes(**query):
            listed = customers.list_customers(kehu_app, s, customers.CustomerQuery(**query))
            return [r["code"] for r in listed.rows]

        assert codes(source="转介绍") == codes(source="referral") == ["C1"]
        assert codes(kind="企业") == codes(kind="company") == ["C2"]

        def kinds(**query):
            found = interactions.list_interactions(s, interactions.InteractionQuery(**query))
            return [(r.customer_code, r.kind) for r in found]

        assert kinds(kind="拜访") == kinds(kind="visit") == [("C1", "visit")]
        assert kinds(status="已计划") == kinds(status="planned") == [("C2", "call")]
        with i18n.using("en"), pytest.raises(FieldError, match="use one of: referral, trade_magazine"):
            codes(source="杂志")
        with i18n.using("en"), pytest.raises(FieldError, match="use one of: planned, done, cancelled"):
            kinds(status="finished")


@pytest.mark.parametrize(
    ("values", "field", "accepted"),
    [
        ({"source": "报纸"}, "source", "referral, trade_magazine, member_directory, personal_network, other"),
        ({"kind": "机器人"}, "kind", "person, company"),
    ],
)
def test_an_unknown_value_is_refused_listing_the_accepted_ones(kehu_app, values, field, accepted) -> None:
    with i18n.using("en"), pytest.raises(ValidationError) as caught:
        add(kehu_app, code="C9", name="王五", **values)
    assert f"{field}: must be one of {accepted}" in str(caught.value)
    with i18n.using("zh_CN"), pytest.raises(ValidationError) as caught:
        add(kehu_app, code="C9", name="王五", **values)
    shown = str(caught.value)
    assert "必须是以下之一" in shown and ("转介绍" in shown if field == "source" else "个人" in shown)
    # The only English words are the codes one may type.
    assert english_words(shown) <= set(accepted.replace(",", " ").split()), shown


def test_csv_import_takes_chinese_names_and_stores_the_codes(kehu_app, tmp_path) -> None:
    people = tmp_path / "customers.csv"
    people.write_text(
        "code,name,kind,source\nC1,张三,个人,朋友介绍\nC2,李四,person,referral\nC3,华为,企业,会员名录\n",
        encoding="utf-8",
    )
    contacts = tmp_path / "interactions.csv"
    contacts.write_text(
        "customer_code,kind,status,occurred_at,amount\n"
        "C1,拜访,已完成,2026-03-01,\n"
        "C2,visit,done,2026-03-01,\n"
        "C3,订单,,2026-03-02,1200\n"
        "C3,电话,计划,2026-04-01,\n",
        encoding="utf-8",
    )
    with kehu_app.session() as s:
        importing.import_customers(kehu_app, s, str(people))
        importing.import_interactions(kehu_app, s, str(contacts))
    with kehu_app.session() as s:
        stored = {
            c.code: (c.kind, c.source)
            for c in (customers.get_customer(s, code) for code in ("C1", "C2", "C3"))
        }
        found = interactions.list_interactions(
            s, interactions.InteractionQuery(limit=None, newest_first=False)
        )
    assert stored == {
        "C1": ("person", "referral"),
        "C2": ("person", "referral"),
        "C3": ("company", "member_directory"),
    }
    assert [(r.customer_code, r.kind, r.status) for r in found] == [
        ("C1", "visit", "done"),
        ("C2", "visit", "done"),
        ("C3", "purchase", "done"),
        ("C3", "call", "planned"),
    ]


def test_csv_import_refuses_an_unknown_name_with_the_accepted_ones(kehu_app, tmp_path) -> None:
    people = tmp_path / "customers.csv"
    people.write_text("code,name,source\nC1,张三,报纸\n", encoding="utf-8")
    with i18n.using("zh_CN"), kehu_app.session() as s, pytest.raises(importing.ImportRefused) as caught:
        importing.import_customers(kehu_app, s, str(people))
    shown = str(caught.value)
    assert "第 2 行" in shown and "`source`" in shown and "转介绍" in shown and "'报纸'" in shown
    with i18n.using("en"), kehu_app.session() as s, pytest.raises(importing.ImportRefused) as caught:
        importing.import_customers(kehu_app, s, str(people))
    assert "line 2, source: must be one of referral, trade_magazine" in str(caught.value)


def test_the_profile_card_is_in_one_language_at_a_time(kehu_app, kehu_cli) -> None:
    add(
        kehu_app,
        code="C1",
        name="张三",
        kind="个人",
        source="朋友介绍",
        region="华东",
        marketing_consent="是",
    )
    log(kehu_app, customer_code="C1", kind="拜访", occurred_at="2026-03-01", note="介绍新品")
    log(
        kehu_app, customer_code="C1", kind="购买", occurred_at="2026-03-02", amount="199.00", product="打印纸"
    )
    chinese = kehu_cli("customer", "show", "C1", env={"KEHU_LANG": "zh_CN"})
    assert chinese.exit_code == 0, chinese
    text = chinese.output
    for label in (
        "客户资料",
        "地区",
        "来源",
        "转介绍",
        "个人",
        "访问履历",
        "拜访",
        "购买",
        "客户利润",
        "概要 6W1H1S",
    ):
        assert label in text, label
    assert not english_words(text), english_words(text)
    english = kehu_cli("customer", "show", "C1", env={"KEHU_LANG": "en"})
    assert "Region" in english.output and "地区" not in english.output and "referral" in english.output
    # --json keeps the codes whatever the language.
    zh_json = kehu_cli("customer", "show", "C1", "--json", env={"KEHU_LANG": "zh_CN"}).json
    en_json = kehu_cli("customer", "show", "C1", "--json", env={"KEHU_LANG": "en"}).json
    assert zh_json["profile"]["source"] == en_json["profile"]["source"] == "referral"
    assert set(zh_json) == set(en_json)


def test_service_errors_in_chinese_have_no_english_words(kehu_app) -> None:
    add(kehu_app, code="C1", name="张三")
    refusals = []
    with i18n.using("zh_CN"):
        with kehu_app.session() as s, pytest.raises(NotFound) as caught:
            customers.get_customer(s, "C404")
        refusals.append(str(caught.value))
        with pytest.raises(ValidationError) as caught:
            add(kehu_app, code="C1", name="张三", credit_limit="-5", birthday="昨天")
        refusals.append(str(caught.value))
        with pytest.raises(ValidationError) as caught:
            log(kehu_app, customer_code="C1", kind="visit", occurred_at="2026-03-01", amount="-3")
        refusals.append(str(caught.value))
        with kehu_app.session() as s, pytest.raises(KehuError) as caught:
            customers.archive_customer(kehu_app, s, "C404")
        refusals.append(str(caught.value))
        with kehu_app.session() as s, pytest.raises(KehuError) as caught:
            users.add_user(kehu_app, s, "wang", roles=["sales"])
        refusals.append(str(caught.value))
    assert "没有编号为 'C1' 的客户".replace("C1", "C404") in refusals[0]
    assert "不能为负数" in refusals[1] and "不是形如 2024-03-01 的日期" in refusals[1]
    assert "只有购买可以为负" in refusals[2]
    for shown in refusals:
        assert not english_words(shown), (shown, english_words(shown))
