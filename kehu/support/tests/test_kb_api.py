"""The knowledge base in the API: editors write and publish, service staff and sellers read published
articles, others get 403; search; the visitors' answers and deflections."""

import pytest

from kehu.support.models import Article, ArticleFeedback, Deflection
from kehu.support.tests.kb_setup import Library

pytestmark = pytest.mark.django_db

URL = "/api/v1/service/knowledge/articles"


@pytest.fixture
def library(team):
    return Library(team.service1)


def test_an_editor_creates_edits_and_publishes(api_client, team, library):
    api = api_client(team.service1)
    created = api.post(
        URL,
        {
            "title_zh": "冷却泵不出水",
            "body_zh": "清洗过滤网。",
            "article_category_id": library.hydraulics.pk,
            "is_public": True,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["state"], body["category_id"], body["is_public"], body["version"]) == (
        "draft",
        library.hydraulics.pk,
        True,
        1,
    )
    pk = body["id"]
    patched = api.patch(f"{URL}/{pk}", {"body_en": "Clean the filter.", "title_en": "Coolant pump dry", "version": 1})
    assert (patched.status_code, patched.json()["title_en"], patched.json()["title_zh"]) == (
        200,
        "Coolant pump dry",
        "冷却泵不出水",
    )
    stale = api.patch(f"{URL}/{pk}", {"title_en": "x", "version": 1})
    assert stale.status_code == 409
    published = api.post(f"{URL}/{pk}/transition", {"to": "published"})
    assert published.json()["state"] == "published"
    assert api.post(f"{URL}/{pk}/transition", {"to": "published"}).status_code == 400


def test_bad_input_is_a_400_with_the_field(api_client, team):
    api = api_client(team.service1)
    response = api.post(URL, {"body_zh": "没有标题"})
    assert response.status_code == 400
    assert "title_zh" in str(response.json())
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("who", "read", "write"), [("rep1", 200, 403), ("marketing1", 403, 403), ("service1", 200, 201)]
)
def test_who_reads_and_writes(api_client, team, library, who, read, write):
    api = api_client(getattr(team, who))
    assert api.get(URL).status_code == read
    before = Article.objects.count()
    assert api.post(URL, {"title_zh": "新"}).status_code == write
    assert Article.objects.count() == before + (write == 201)
    if write == 403:
        assert api.patch(f"{URL}/{library.leak.pk}", {"title_zh": "改"}).status_code == 403
        library.leak.refresh_from_db()
        assert library.leak.title_zh == "液压站漏油怎么办"


def test_search_and_what_readers_see(api_client, team, library):
    rep = api_client(team.rep1)
    found = rep.get(f"{URL}?q=主轴").json()
    assert [a["title_zh"] for a in found["items"]] == ["内部：主轴维修工时标准", "主轴异响"]
    assert rep.get(f"{URL}/{library.draft.pk}").status_code == 404
    assert [a["title_en"] for a in rep.get(f"{URL}?q=SERVO").json()["items"]] == ["Servo alarm 401 after power-on"]


def test_the_stats_count_answers_and_deflections(api_client, team, library):
    ArticleFeedback.objects.create(article=library.leak, session_key="a", helpful=True)
    ArticleFeedback.objects.create(article=library.leak, session_key="b", helpful=False)
    Deflection.objects.create(article=library.spindle, session_key="a")
    stats = api_client(team.service1).get("/api/v1/service/knowledge/stats").json()
    assert (stats["helpful"], stats["unhelpful"], stats["deflections"]) == (1, 1, 1)
    assert stats["top_deflecting"][0]["id"] == library.spindle.pk
    assert stats["top_deflecting"][0]["deflection_count"] == 1
