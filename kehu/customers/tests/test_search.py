"""Chinese substring search over customer name, contact names and phones (CUS-1)."""

import pytest
from django.db import connection

from kehu.customers.models import Customer
from kehu.customers.search import search_candidates
from kehu.customers.selectors import CustomerFilters, customer_page
from kehu.customers.services import contact_create, contact_delete, contact_update, customer_delete, customer_update


@pytest.fixture
def customers(team, customer_of):
    huaxing = customer_of(team.rep1, name="苏州华星精密机械有限公司", phone="13812345678")
    mingyuan = customer_of(team.rep1, name="杭州明远纺织有限公司", phone="0571-88001234")
    contact_create(customer=mingyuan, actor=team.rep1, name="王建国", mobile="13966667777")
    contact_create(customer=mingyuan, actor=team.rep1, name="张伟")
    return huaxing, mingyuan


def found(user, q) -> set[str]:
    return {c.name for c in customer_page(user, CustomerFilters(q=q), offset=0, limit=100).rows}


def customer_search_ids(q):
    return sorted(Customer.objects.filter(search_candidates(q)[0]).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("华星", {"苏州华星精密机械有限公司"}),  # 2 Chinese characters
        ("精密机械", {"苏州华星精密机械有限公司"}),  # 3+ Chinese characters
        ("有限公司", {"苏州华星精密机械有限公司", "杭州明远纺织有限公司"}),
        ("12345678", {"苏州华星精密机械有限公司"}),  # customer phone fragment
        ("6666", {"杭州明远纺织有限公司"}),  # contact mobile fragment
        ("王建国", {"杭州明远纺织有限公司"}),  # contact name, 3 characters
        ("张伟", {"杭州明远纺织有限公司"}),  # contact name, 2 characters
        ("深圳", set()),
        ("星", {"苏州华星精密机械有限公司"}),  # 1 Chinese character
        ("杭", {"杭州明远纺织有限公司"}),
        ("司", {"苏州华星精密机械有限公司", "杭州明远纺织有限公司"}),
        ("7", {"苏州华星精密机械有限公司", "杭州明远纺织有限公司"}),
        ("78", {"苏州华星精密机械有限公司"}),  # 2 digits
        ("圳", set()),
    ],
)
def test_search_finds_by_substring(team, customers, q, expected):
    assert found(team.rep1, q) == expected


def test_search_ignores_surrounding_spaces(team, customers):
    assert found(team.rep1, "  华星精密  ") == {"苏州华星精密机械有限公司"}


def test_search_is_limited_to_the_users_scope(team, customers):
    assert found(team.rep3, "华星") == set()


def test_search_skips_deleted_customers(team, customers):
    customer_delete(customer=customers[0], actor=team.rep1)
    assert found(team.rep1, "华星") == set()


def test_renamed_customer_is_found_by_its_new_name(team, customers):
    huaxing = customers[0]
    customer_update(customer=huaxing, actor=team.rep1, expected_version=huaxing.version, name="苏州瑞丰精工有限公司")
    assert customer_search_ids("瑞丰精工") == [huaxing.pk]
    assert customer_search_ids("华星精密") == []


def test_new_contact_is_searchable(team, customers):
    huaxing = customers[0]
    contact_create(customer=huaxing, actor=team.rep1, name="欧阳明月")
    assert customer_search_ids("欧阳明月") == [huaxing.pk]


def test_renamed_contact_is_found_by_new_name_only(team, customers):
    mingyuan = customers[1]
    contact = mingyuan.contacts.get(name="王建国")
    contact_update(contact=contact, actor=team.rep1, expected_version=contact.version, name="王建华")
    assert customer_search_ids("王建华") == [mingyuan.pk]
    assert customer_search_ids("王建国") == []


def test_changed_contact_mobile_is_searchable(team, customers):
    mingyuan = customers[1]
    contact = mingyuan.contacts.get(name="王建国")
    contact_update(contact=contact, actor=team.rep1, expected_version=contact.version, mobile="13711112222")
    assert customer_search_ids("11112222") == [mingyuan.pk]
    assert customer_search_ids("66667777") == []


def test_deleted_contact_is_no_longer_searchable(team, customers):
    mingyuan = customers[1]
    contact_delete(contact=mingyuan.contacts.get(name="王建国"), actor=team.rep1)
    assert customer_search_ids("王建国") == []


def test_search_box_on_the_list_page_finds_by_contact_name(client, team, customers):
    client.force_login(team.rep1)
    response = client.get("/customers/", {"q": "张伟"})
    assert [c.name for c in response.context["customers"]] == ["杭州明远纺织有限公司"]


def test_an_older_match_in_scope_is_found_when_newer_matches_fill_the_candidate_cap(team, customer_of, monkeypatch):
    from kehu.customers import selectors

    monkeypatch.setattr(selectors, "CANDIDATE_CAP", 3)
    own = customer_of(team.rep1, name="宁波华星五金有限公司")
    for i in range(4):
        customer_of(team.rep3, name=f"广州华星电器{i}号有限公司")
    page = customer_page(team.rep1, CustomerFilters(q="华星"), offset=0, limit=25)
    assert [c.pk for c in page.rows] == [own.pk]
    assert (page.count, page.count_is_capped) == (1, False)


def test_when_the_newest_matches_fill_the_page_the_count_says_at_least(team, customer_of, monkeypatch):
    from kehu.customers import selectors

    monkeypatch.setattr(selectors, "CANDIDATE_CAP", 3)
    for i in range(4):
        customer_of(team.rep3, name=f"广州华星电器{i}号有限公司")
    page = customer_page(team.manager2, CustomerFilters(q="华星"), offset=0, limit=2)
    assert len(page.rows) == 2 and page.has_next
    assert (page.count, page.count_is_capped) == (3, True)


@pytest.mark.parametrize("term", ["华", "华星", "华星电器"])
def test_the_candidates_are_the_newest_matches_however_long_the_term(team, customer_of, term):
    """1, 2 and 3+ characters go through different indexes (and differ between SQLite and PostgreSQL);
    past the cap each gives the newest matches, which the list then searches first."""
    made = [customer_of(team.rep3, name=f"广州华星电器{i}号有限公司") for i in range(5)]
    candidates, complete, _every = search_candidates(term, cap=3)
    assert complete is False
    newest = sorted(c.pk for c in made)[-3:]
    assert sorted(Customer.objects.filter(candidates).values_list("pk", flat=True)) == newest


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics of the grams index")
def test_postgresql_walks_the_newest_customers_for_a_pair_most_customers_hold(team, customer_of):
    """A pair in more than COMMON_SHARE of the live customers (by ANALYZE's count) is looked up by
    walking the newest customers; a rarer one through the index. Both give the newest matches."""
    from django.test.utils import CaptureQueriesContext

    from kehu.customers import search

    made = [customer_of(team.rep3, name=f"广州华星电器{i}号%有限公司") for i in range(40)]
    rare = customer_of(team.rep3, name="卓益贸易公司")  # the newest, without 华星 or %
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    assert search.gram_share("华星") > 0.9 and search.gram_share("卓益") < search.COMMON_SHARE
    with CaptureQueriesContext(connection) as common:
        candidates, complete, _every = search_candidates("华星", cap=3)
    assert complete is False
    assert sorted(Customer.objects.filter(candidates).values_list("pk", flat=True)) == sorted(c.pk for c in made)[-3:]
    with CaptureQueriesContext(connection) as few:
        candidates, complete, _every = search_candidates("卓益", cap=3)
    assert complete is True and list(Customer.objects.filter(candidates).values_list("pk", flat=True)) == [rare.pk]
    # The share of the pair, then its lookup.
    assert ["LIKE" in q["sql"] for q in common.captured_queries] == [False, True]
    assert ["FROM customers_customer WHERE kehu_search_grams" in q["sql"] for q in few.captured_queries] == [
        False,
        True,
    ]
    candidates, _complete, _every = search_candidates("%", cap=3)  # common too: a percent sign, not "anything"
    assert sorted(Customer.objects.filter(candidates).values_list("pk", flat=True)) == sorted(c.pk for c in made)[-3:]


def test_a_percent_sign_or_underscore_is_searched_as_itself(team, customer_of):
    customer_of(team.rep1, name="常州百分机械有限公司")  # neither sign: found by neither
    percent = customer_of(team.rep1, name="常州%机械有限公司")
    underscore = customer_of(team.rep1, name="常州_机械有限公司")
    assert customer_search_ids("%") == [percent.pk] and customer_search_ids("_") == [underscore.pk]
    assert customer_search_ids("%机") == [percent.pk] and customer_search_ids("_机") == [underscore.pk]


def test_several_words_must_all_match(customers, team):
    assert found(team.rep1, "杭州 纺织") == {"杭州明远纺织有限公司"}
    assert found(team.rep1, "苏州 纺织") == set()
    assert found(team.rep1, "有限公司 王建国") == {"杭州明远纺织有限公司"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index of characters and pairs")
def test_postgresql_answers_one_and_two_characters_from_an_index_exactly_as_a_substring_scan(team, customer_of):
    from kehu.customers.search import GRAMS_SQL

    names = ["苏州华星精密机械有限公司", "华 星五金", "星华贸易", "Acme 华星 Ltd", "上海华星", "星"]
    made = [customer_of(team.rep1, name=name) for name in names]
    customer_delete(customer=made[-2], actor=team.rep1)
    live = Customer.objects.filter(deleted_at__isnull=True)
    for term in ["华星", "星", "星华", "ac", "e ", "司", "x", "华星精"]:
        expected = sorted(live.filter(search_text__contains=term).values_list("pk", flat=True))
        assert customer_search_ids(term) == expected, term
    with connection.cursor() as cursor:
        # The table is tiny, so the planner would rightly read it whole; without that choice the
        # index must be able to answer (a plan without it would scan a million rows).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + GRAMS_SQL, ["华星"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_search_grams" in plan, plan
