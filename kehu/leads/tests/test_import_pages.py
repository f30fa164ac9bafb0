"""The lead import in the wizard pages and in /api/v1/transfer, and who may use it:
anonymous / a rep without the permission / marketing and managers who have it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from kehu.integrations.models import ImportJob, ImportStatus
from kehu.integrations.tests.conftest import csv_bytes, upload
from kehu.leads.models import Lead

pytestmark = pytest.mark.django_db

BASE = "/api/v1/transfer"
DATA = csv_bytes(
    [
        ["公司名称", "联系人", "手机", "规模"],
        ["杭州华星精密机械有限公司", "王建国", "13857112345", "大型"],
        ["苏州锦程电子", "刘芳", "", ""],  # neither phone nor email
    ],
    "gbk",
)


@pytest.fixture(autouse=True)
def _transfer_dir(settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"


def test_the_leads_list_links_to_the_lead_import_for_those_who_may(client, team):
    for user, shown in ((team.marketing1, True), (team.manager1, True), (team.rep1, False)):
        client.force_login(user)
        page = client.get(reverse("leads:lead-list"))
        assert page.status_code == 200
        assert (f"{reverse('integrations:home')}?target=leads" in page.text) is shown, user


def test_the_upload_page_offers_only_what_the_user_may_import(client, team):
    client.force_login(team.marketing1)
    page = client.get(reverse("integrations:home") + "?target=leads")
    assert page.status_code == 200
    assert 'value="leads" checked' in page.text and 'value="customers"' not in page.text
    assert reverse("integrations:home") in client.get(reverse("workspace:home")).text  # in the menu
    client.force_login(team.manager1)
    page = client.get(reverse("integrations:home") + "?target=leads")
    assert 'value="customers"' in page.text and 'value="leads" checked' in page.text
    client.force_login(team.rep1)
    page = client.get(reverse("integrations:home"))
    assert 'value="customers" checked' in page.text and 'value="leads"' not in page.text


def test_the_lead_wizard_from_upload_to_report(client, team):
    client.force_login(team.marketing1)
    response = client.post(
        reverse("integrations:import-upload"), {"target": "leads", "file": upload("展会名片.csv", DATA)}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.target == "leads"

    mapping = client.get(response.url)
    assert mapping.status_code == 200 and "Map the columns" in mapping.text and "GBK" in mapping.text
    assert '<option value="company_name" selected>' in mapping.text and 'value="contact_mobile"' not in mapping.text
    assert "assigned by the lead rules" in mapping.text
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("integrations:import-mapping", args=[job.pk]),
            {"col_0": "company_name", "col_1": "contact_name", "col_2": "phone", "col_3": "size_band"},
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEW

    preview = client.get(reverse("integrations:import-detail", args=[job.pk]))
    assert "Review the rows" in preview.text and "<th>Lead</th>" in preview.text
    assert "Give a phone number or an email address." in preview.text

    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("integrations:import-run", args=[job.pk]))
    report = client.get(reverse("integrations:import-detail", args=[job.pk]))
    assert "Created 1, updated 0, skipped 1" in report.text
    assert f'href="{reverse("leads:lead-list")}"' in report.text and "Go to the leads" in report.text
    assert "苏州锦程电子" in report.text  # the row with errors
    assert Lead.objects.get().company_name == "杭州华星精密机械有限公司"
    assert "Leads" in client.get(reverse("integrations:home")).text  # the job list says what it imported


def test_the_wizard_shows_duplicate_leads_with_a_link(client, team, lead_of):
    mine = lead_of(team.manager1, "杭州华星精密机械有限公司", phone="13857112345")
    client.force_login(team.manager1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = ImportJob.objects.get(
            pk=client.post(reverse("integrations:import-upload"), {"target": "leads", "file": upload("a.csv", DATA)})
            .url.rstrip("/")
            .split("/")[-1]
        )
        client.post(reverse("integrations:import-mapping", args=[job.pk]), {"col_0": "company_name", "col_2": "phone"})
    page = client.get(reverse("integrations:import-detail", args=[job.pk]) + "?show=duplicates")
    assert reverse("leads:lead-detail", args=[mine.pk]) in page.text
    assert '<option value="update">' in page.text  # the match is the manager's: update is offered


@pytest.mark.parametrize("who", ["anonymous", "rep", "service"])
def test_those_without_the_permission_cannot_import_leads(client, team, who):
    user = {"anonymous": None, "rep": team.rep1, "service": team.service1}[who]
    if user is not None:
        client.force_login(user)
    response = client.post(reverse("integrations:import-upload"), {"target": "leads", "file": upload("a.csv", DATA)})
    if user is None:
        assert response.status_code == 302 and "/accounts/login/" in response.url
    else:
        assert response.status_code == 403
    assert not ImportJob.objects.exists() and not Lead.objects.exists()


def test_a_lead_job_is_refused_to_its_creator_once_the_permission_is_gone(client, team):
    from kehu.leads.tests.test_import import preview

    job = preview(team.manager1, DATA)
    team.manager1.role = "sales_rep"
    team.manager1.save()
    client.force_login(team.manager1)
    assert client.get(reverse("integrations:import-detail", args=[job.pk])).status_code == 403
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse("integrations:import-run", args=[job.pk])).status_code == 403
    assert not Lead.objects.exists()


# ---- API ---------------------------------------------------------------------------------------


def _upload(client, user, data, **form):
    from kehu.users.services import api_token_create

    headers = {}
    if user is not None:
        _token, raw = api_token_create(user=user, name="upload")
        headers = {"Authorization": f"Bearer {raw}"}
    return client.post(f"{BASE}/imports", {"file": SimpleUploadedFile("a.csv", data), **form}, headers=headers)


def test_the_lead_import_through_the_api(client, api_client, team):
    api = api_client(team.marketing1)
    assert api.get(f"{BASE}/targets").json() == [{"name": "leads", "label": "Leads"}]
    manager_targets = {f["name"] for f in api_client(team.manager1).get(f"{BASE}/targets").json()}
    assert manager_targets == {"customers", "leads", "orders", "sell_through", "payments"}
    fields = {f["name"] for f in api.get(f"{BASE}/fields?target=leads").json()}
    assert "company_name" in fields and "owner" not in fields  # marketing does not assign leads
    assert "owner" in {f["name"] for f in api_client(team.manager1).get(f"{BASE}/fields?target=leads").json()}

    response = _upload(client, team.marketing1, DATA, target="leads")
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["target"] == "leads" and job["mapping"] == {
        "0": "company_name",
        "1": "contact_name",
        "2": "phone",
        "3": "size_band",
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.put(
            f"{BASE}/imports/{job['id']}/mapping",
            data={"mapping": job["mapping"]},
            content_type="application/json",
            headers=api.headers,
        )
    assert response.status_code == 202, response.text
    rows = api.get(f"{BASE}/imports/{job['id']}/rows?show=errors").json()["items"]
    assert [r["number"] for r in rows] == [3] and list(rows[0]["errors"]) == ["phone"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api.post(f"{BASE}/imports/{job['id']}/run").status_code == 202
    done = api.get(f"{BASE}/imports/{job['id']}").json()
    assert done["status"] == "done" and done["report"]["created"] == 1
    assert Lead.objects.get().source == "import"


def test_the_api_answers_4xx_for_lead_imports_it_refuses(client, api_client, team):
    assert _upload(client, None, DATA, target="leads").status_code == 401
    assert _upload(client, team.rep1, DATA, target="leads").status_code == 403
    assert api_client(team.rep1).get(f"{BASE}/fields?target=leads").status_code == 403
    assert api_client(team.marketing1).get(f"{BASE}/fields").status_code == 403  # customers: not theirs
    assert _upload(client, team.marketing1, DATA).status_code == 403  # customers unless told
    bad = _upload(client, team.manager1, DATA, target="nonsense")
    assert bad.status_code == 422 and "target" in bad.text
    unknown = api_client(team.manager1).get(f"{BASE}/fields?target=nonsense")
    assert unknown.status_code == 422 and "target" in unknown.text
    job = _upload(client, team.marketing1, DATA, target="leads").json()
    response = client.put(
        f"{BASE}/imports/{job['id']}/mapping",
        data={"mapping": {"0": "name"}},  # a customer field
        content_type="application/json",
        headers=api_client(team.marketing1).headers,
    )
    assert response.status_code == 400 and response.json()["errors"]["mapping"]
    assert not Lead.objects.exists() and ImportJob.objects.count() == 1
