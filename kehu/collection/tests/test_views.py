"""The pages do what their buttons say: file from a customer, approve and link, return with a reason."""

import pytest

from kehu.collection.models import InfoForm, InfoFormStatus

pytestmark = pytest.mark.django_db
S = InfoFormStatus


def test_rep_files_a_form_about_their_customer_from_a_prefilled_page(client, team, customer_of):
    customer = customer_of(team.rep1, region="江苏", city="苏州")
    client.force_login(team.rep1)
    page = client.get(f"/collection/new/?customer={customer.pk}").content.decode()
    assert customer.name in page and 'value="江苏"' in page
    data = {
        "customer_id": customer.pk,
        "name": customer.name,
        "region": "江苏",
        "source": "trade_show",
        "collected_on": "2026-01-05",
        "file": "1",
    }
    response = client.post("/collection/new/", data)
    form = InfoForm.objects.get()
    assert response.status_code == 302 and form.status == S.FILED and form.customer == customer


def test_another_reps_customer_cannot_be_named(client, team, customer_of):
    customer = customer_of(team.rep3)
    client.force_login(team.rep1)
    assert client.get(f"/collection/new/?customer={customer.pk}").status_code == 404
    data = {
        "customer_id": customer.pk,
        "name": "x",
        "region": "江苏",
        "source": "internet",
        "collected_on": "2026-01-05",
    }
    assert client.post("/collection/new/", data).status_code == 404
    assert not InfoForm.objects.exists()


def test_manager_sees_duplicates_and_approves_by_linking_one(client, team, info_of, customer_of):
    existing = customer_of(team.rep2, name="无锡新光电子科技有限公司")
    form = info_of(team.rep1)
    client.force_login(team.manager1)
    page = client.get(f"/collection/{form.pk}/").content.decode()
    assert "无锡新光电子科技有限公司" in page and f'name="link_customer" value="{existing.pk}"' in page
    client.post(f"/collection/{form.pk}/approve/", {"link_customer": existing.pk})
    form.refresh_from_db()
    assert form.status == S.APPROVED and form.customer == existing


def test_approving_without_a_choice_when_duplicates_exist_changes_nothing(client, team, info_of, customer_of):
    customer_of(team.rep2, name="无锡新光电子科技有限公司")
    form = info_of(team.rep1)
    client.force_login(team.manager1)
    response = client.post(f"/collection/{form.pk}/approve/", follow=True)
    form.refresh_from_db()
    assert form.status == S.FILED and "Likely the same customer" in response.content.decode()


def test_return_without_reason_shows_the_error_and_changes_nothing(client, team, info_of):
    form = info_of(team.rep1)
    client.force_login(team.manager1)
    response = client.post(f"/collection/{form.pk}/return/", {"reason": ""})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    form.refresh_from_db()
    assert form.status == S.FILED


def test_rep_corrects_a_returned_form_and_files_it_again(client, team, info_of):
    from kehu.collection.services import infoform_transition

    form = infoform_transition(form=info_of(team.rep1), actor=team.manager1, to=S.RETURNED, reason="缺电话")
    client.force_login(team.rep1)
    assert "缺电话" in client.get(f"/collection/{form.pk}/edit/").content.decode()
    data = {
        "name": form.name,
        "region": "江苏",
        "source": "trade_show",
        "collected_on": form.collected_on.isoformat(),
        "phone": "0510-88886666",
        "version": form.version,
        "file": "1",
    }
    assert client.post(f"/collection/{form.pk}/edit/", data).status_code == 302
    form.refresh_from_db()
    assert (form.status, form.phone) == (S.FILED, "0510-88886666")
