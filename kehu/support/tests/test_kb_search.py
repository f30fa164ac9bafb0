"""The knowledge base's search: Chinese substrings of 1, 2 and 4 characters, English words in any case,
several words, title matches first; what a visitor, a reader and an editor find. The same tests run on
SQLite and on PostgreSQL (scripts/with-postgres.sh)."""

import pytest

from kehu.support import kb_selectors, kb_services
from kehu.support.tests.kb_setup import Library, article

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(team):
    return Library(team.service1)


def public_titles(q):
    return [str(a) for a in kb_selectors.article_search(kb_selectors.public_articles(), q)]


def test_chinese_substrings_of_one_two_and_four_characters(library):
    assert public_titles("漏") == ["液压站漏油怎么办"]
    assert public_titles("漏油") == ["液压站漏油怎么办"]
    assert public_titles("主轴") == ["主轴异响"]
    assert public_titles("站漏油怎") == ["液压站漏油怎么办"]
    assert public_titles("轴承") == ["主轴异响"]  # a keyword
    assert public_titles("密封圈") == ["液压站漏油怎么办"]  # in the text
    assert public_titles("油罐") == []


def test_english_words_in_any_case_and_full_width_letters(library):
    assert public_titles("servo") == ["Servo alarm 401 after power-on"]
    assert public_titles("SERVO Encoder") == ["Servo alarm 401 after power-on"]
    assert public_titles("ＬＥＡＫ") == ["液压站漏油怎么办"]  # full-width, NFKC
    assert public_titles("hoses") == []
    assert public_titles("hose") == ["液压站漏油怎么办"]
    assert public_titles("hydraulics") == ["液压站漏油怎么办"]  # the category's English name


def test_every_word_must_occur(library):
    assert public_titles("漏油 密封") == ["液压站漏油怎么办"]
    assert public_titles("漏油 servo") == []


def test_title_matches_come_before_text_matches(team, library):
    also = article(team.service1, title_zh="润滑系统保养", body_zh="保养时顺便听主轴有无异响。")
    found = list(kb_selectors.article_search(kb_selectors.public_articles(), "主轴"))
    assert found == [library.spindle, also]


def test_a_visitor_finds_only_published_public_articles(library):
    assert public_titles("主轴维修") == []
    assert public_titles("冷却液") == []
    assert sorted(public_titles("")) == sorted(["液压站漏油怎么办", "主轴异响", "Servo alarm 401 after power-on"])


def test_readers_find_internal_published_articles_and_editors_drafts_too(team, library):
    from kehu.support.tests.tickets_setup import Desk

    desk = Desk(team, lambda owner, name: _customer(team, owner, name))
    reader = desk.engineer
    assert [str(a) for a in kb_selectors.article_search(kb_selectors.article_qs_visible_to(reader), "主轴")] == [
        "内部：主轴维修工时标准",  # both titles match: the newer first
        "主轴异响",
    ]
    assert list(kb_selectors.article_search(kb_selectors.article_qs_visible_to(reader), "冷却液")) == []
    editor_found = kb_selectors.article_search(kb_selectors.article_qs_visible_to(team.service1), "冷却液")
    assert list(editor_found) == [library.draft]
    # Someone without the service permissions reads nothing.
    assert not kb_selectors.article_qs_visible_to(team.marketing1).exists()


def _customer(team, owner, name):
    from kehu.customers.services import customer_create

    return customer_create(actor=owner, owner=owner, name=name)


def test_the_search_text_follows_edits(team, library):
    kb_services.article_update(article=library.spindle, actor=team.service1, body_zh="检查主轴皮带张紧。")
    assert public_titles("皮带") == ["主轴异响"]
    assert public_titles("润滑") == []


def test_suggestions_for_a_phrase_without_spaces(library):
    found = kb_selectors.suggestions(kb_selectors.public_articles(), "我们的液压站一直漏油")
    assert found[0] == library.leak
    assert kb_selectors.suggestions(kb_selectors.public_articles(), "主轴有异响") == [library.spindle]
    assert kb_selectors.suggestions(kb_selectors.public_articles(), "x") == []


def test_a_search_is_one_query(library, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(kb_selectors.article_search(kb_selectors.public_articles(), "漏油"))
