"""The profile page (click your name): the language setting and the API-token help."""

import pytest

from kehu.users.models import User

pytestmark = pytest.mark.django_db


def test_the_language_is_chosen_on_the_profile_and_kept_on_the_account(client, team):
    client.force_login(team.rep1)
    response = client.post("/accounts/profile/", {"action": "language", "language": "zh-hans"})
    assert (response.status_code, response.url) == (302, "/accounts/profile/")
    assert response.cookies["django_language"].value == "zh-hans"
    assert User.objects.get(pk=team.rep1.pk).language == "zh-hans"
    page = client.get("/accounts/profile/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert 'value="zh-hans" checked' in page


def test_the_profile_offers_both_languages_in_their_own_words(client, team):
    client.force_login(team.rep1)
    page = client.get("/accounts/profile/").content.decode()
    assert 'name="language" value="zh-hans"' in page and 'name="language" value="en" checked' in page
    assert ">简体中文</span>" in page and ">English</span>" in page


def test_an_unknown_language_is_refused_and_nothing_changes(client, team):
    client.force_login(team.rep1)
    response = client.post("/accounts/profile/", {"action": "language", "language": "xx"})
    assert response.status_code == 200
    assert response.context["language_form"].errors["language"]
    assert User.objects.get(pk=team.rep1.pk).language == ""


def test_choosing_a_language_creates_no_token(client, team):
    client.force_login(team.rep1)
    client.post("/accounts/profile/", {"action": "language", "language": "en"})
    assert not team.rep1.api_tokens.exists()


def test_the_token_placeholder_is_shown_not_swallowed(client, team):
    client.force_login(team.rep1)
    page = client.get("/accounts/profile/").content.decode()
    assert '<code class="text-nowrap">Authorization: Bearer &lt;token&gt;</code>' in page
    assert "<token>" not in page


def test_the_footer_switch_still_changes_the_language(client, team):
    client.force_login(team.rep1)
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/profile/"})
    assert User.objects.get(pk=team.rep1.pk).language == "zh-hans"
