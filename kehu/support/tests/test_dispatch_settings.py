"""The engineers' settings page (the service manager's): who may open it, the list in a fixed number
of queries, editing a profile (regions, leave, rate) and adding and removing skills; bad input
shown and nothing written; the ticket page's dispatch panel only for those who dispatch."""

import pytest

from kehu.support.models import EngineerProfile, EngineerSkill
from kehu.support.tests.field_setup import Field
from kehu.support.visit_services import SkillLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(team, customer_of):
    return Field(team, customer_of)


def test_who_may_open_the_engineers_pages(client, field):
    page = f"/service/engineers/{field.engineer.pk}/"
    assert client.get("/service/engineers/").status_code == 302
    for user in (field.team.rep1, field.engineer, field.csr):
        client.force_login(user)
        assert client.get("/service/engineers/").status_code == 403
        assert client.post(page, {"action": "profile", "p-hourly_rate": "1"}).status_code == 403
    assert not EngineerProfile.objects.exists()
    client.force_login(field.team.service1)
    assert client.get("/service/engineers/").status_code == 200
    assert client.get(f"/service/engineers/{field.team.rep1.pk}/").status_code == 404  # not an engineer


def test_the_list_costs_a_fixed_number_of_queries(client, field, django_assert_max_num_queries):
    client.force_login(field.team.service1)
    field.make_engineer(
        "a",
        regions=[("浙江", "")],
        skills=[SkillLine(product_id=field.lathe.pk), SkillLine(category_id=field.machines.pk)],
    )
    with django_assert_max_num_queries(12) as few:
        client.get("/service/engineers/")
    for i in range(8):
        field.make_engineer(f"e{i}", regions=[("浙江", "宁波")], skills=[SkillLine(category_id=field.lathes.pk)])
    with django_assert_max_num_queries(12) as many:
        response = client.get("/service/engineers/")
    assert len(response.context["engineers"]) == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_editing_a_profile_and_its_skills(client, field):
    client.force_login(field.team.service1)
    page = f"/service/engineers/{field.engineer.pk}/"
    bad = client.post(page, {"action": "profile", "p-hourly_rate": "80", "p-regions": "浙江 宁波 北仑"})
    assert "Write a region as a province" in bad.content.decode() and not EngineerProfile.objects.exists()
    client.post(
        page,
        {"action": "profile", "p-hourly_rate": "80", "p-regions": "浙江 宁波\n江苏，浙江 宁波", "p-on_leave": "on"},
    )
    profile = EngineerProfile.objects.get(user=field.engineer)
    assert sorted(str(r) for r in profile.regions.all()) == ["江苏", "浙江 宁波"]
    assert profile.on_leave and profile.hourly_rate == 80
    both = client.post(
        page, {"action": "add-skill", "s-product": field.lathe.pk, "s-category": field.lathes.pk, "s-level": "1"}
    )
    assert "Name either a product or a product category." in both.content.decode()
    assert not EngineerSkill.objects.exists()
    client.post(
        page,
        {
            "action": "add-skill",
            "s-product": field.lathe.pk,
            "s-level": "3",
            "s-certificate_number": "C-9",
            "s-valid_until": "2027-01-31",
        },
    )
    skill = EngineerSkill.objects.get()
    assert (skill.product, skill.level, skill.certificate_number, str(skill.valid_until)) == (
        field.lathe,
        3,
        "C-9",
        "2027-01-31",
    )
    profile.refresh_from_db()
    assert profile.on_leave and profile.regions.count() == 2  # adding a skill keeps the rest
    html = client.get(page).content.decode()
    assert "C-9" in html
    client.post(page, {"action": "delete-skill", "skill": skill.pk})
    assert not EngineerSkill.objects.exists()


def test_the_dispatch_panel_only_for_dispatchers(client, field):
    field.make_engineer("zhang", regions=[("浙江", "")])
    client.force_login(field.team.rep1)  # sees the ticket of their customer
    html = client.get(f"/service/tickets/{field.ticket.pk}/").content.decode()
    assert 'id="ticket-detail"' in html or field.ticket.number in html
    assert 'id="candidates"' not in html
    client.force_login(field.team.service1)
    html = client.get(f"/service/tickets/{field.ticket.pk}/").content.decode()
    assert 'id="candidate-' in html and "Assign and plan the visit" in html
