"""Error pages: the site's layout, the reader's language, a way back; JSON for the API; the 500 page
without the database."""

import pytest
from django.test import Client

NAVBAR = '<header class="navbar'


def page(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_404_in_the_layout_with_the_menu_and_a_way_to_the_dashboard(client, team):
    client.force_login(team.rep1)
    response = client.get("/customers/999999/")
    assert response.status_code == 404
    html = page(response)
    assert NAVBAR in html and "Page not found" in html
    assert response.templates[0].name == "core/error.html"
    assert '<a class="btn btn-primary" href="/">Go to the dashboard</a>' in html
    assert "Back to the previous page" not in html


@pytest.mark.django_db
def test_the_way_back_is_the_previous_page_of_this_site_only(client, team):
    client.force_login(team.rep1)
    came_from = "http://testserver/customers/?q=%E5%8D%8E%E6%98%9F"
    html = page(client.get("/no-such-page/", headers={"referer": came_from}))
    assert f'href="{came_from}">Back to the previous page' in html
    html = page(client.get("/no-such-page/", headers={"referer": "https://evil.example/x"}))
    assert "Back to the previous page" not in html and "evil.example" not in html


@pytest.mark.django_db
def test_404_in_chinese_for_a_chinese_user(client, team):
    team.rep1.language = "zh-hans"
    team.rep1.save(update_fields=["language"])
    client.force_login(team.rep1)
    html = page(client.get("/no-such-page/"))
    assert '<html lang="zh-hans">' in html
    assert "找不到页面" in html and "返回工作台" in html


@pytest.mark.django_db
def test_404_for_a_visitor_offers_to_sign_in_and_come_back(client, team):
    response = client.get("/leads/inquiry/nothing/", headers={"accept-language": "en"})
    assert response.status_code == 404
    html = page(response)
    assert NAVBAR not in html
    assert 'href="/accounts/login/?next=/leads/inquiry/nothing/">Sign in</a>' in html


@pytest.mark.django_db
def test_403_says_whose_role_lacks_the_page(client, team):
    client.force_login(team.rep1)
    response = client.get("/accounts/users/")
    assert response.status_code == 403
    html = page(response)
    assert NAVBAR in html and "This page is not part of your role" in html
    assert "You are signed in as rep1 (Sales rep)." in html


@pytest.mark.django_db
def test_400_for_a_bad_host_uses_the_layout(client, team):
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "Kehu could not understand this request" in page(response)


@pytest.mark.django_db
def test_a_refused_form_explains_itself_and_leads_back(team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(team.rep1)
    client.get("/customers/")  # the browser has the CSRF cookie, the form below lacks the token
    response = client.post(
        "/customers/new/", {"name": "苏州华星"}, headers={"referer": "http://testserver/customers/new/"}
    )
    assert response.status_code == 403
    html = page(response)
    assert NAVBAR in html and "The form has expired" in html and "reload the page" in html
    assert 'href="http://testserver/customers/new/">Back to the previous page' in html
    assert "You are signed in as" not in html


@pytest.mark.django_db
def test_a_form_without_the_cookie_asks_to_allow_cookies(team):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "rep1", "password": "x"})
    assert response.status_code == 403
    assert "Allow cookies for this site" in page(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("get", "/api/v1/no-such-thing", 404, "Not found."),
        ("get", "/api/v2/customers/", 404, "Not found."),
    ],
)
def test_the_api_answers_errors_as_json(client, method, path, status, detail):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}


def test_the_500_page_renders_without_the_database(client):
    """No database here (pytest-django refuses every query, as a database that is down would): the
    signed-in visitor's session cannot be read, the middleware fails, and the 500 page still renders."""
    client.raise_request_exception = False
    client.cookies["sessionid"] = "a-session-the-database-would-know"
    response = client.get("/", headers={"accept-language": "zh-CN", "referer": "http://testserver/customers/"})
    assert response.status_code == 500
    html = page(response)
    assert '<html lang="zh-hans">' in html
    assert "出错了" in html and "返回工作台" in html
    assert 'href="http://testserver/customers/"' in html
    assert NAVBAR not in html


def test_the_500_page_of_the_api_is_json(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/customers/", headers={"authorization": "Bearer kehu_x"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on the server; it has been logged."}
