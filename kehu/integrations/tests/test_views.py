"""The wizard pages end to end, and who may open them: anonymous / other rep / owner / manager."""

import pytest
from django.test import TestCase
from django.urls import reverse

from kehu.customers.models import Customer
from kehu.integrations.models import ImportJob, ImportRow, ImportStatus

from .conftest import csv_bytes, preview_import, upload

pytestmark = pytest.mark.django_db

DATA = csv_bytes(
    [
        ["客户名称", "联系人", "手机", "客户等级"],
        ["杭州华星精密机械有限公司", "王建国", "13857112345", "重点"],
        ["苏州锦程电子", "刘芳", "13967154321", "钻石"],
    ],
    "gbk",
)
# The second row has an error (not a date), the first a duplicate of mine in the tests that make one.
WITH_ERROR = csv_bytes(
    [
        ["客户名称", "联系人", "生日"],
        ["杭州华星精密机械有限公司", "王建国", "1978-05-03"],
        ["苏州锦程电子", "刘芳", "明年"],
    ]
)


def test_the_wizard_from_upload_to_report(client, team):
    client.force_login(team.rep1)
    page = client.get(reverse("integrations:home"))
    assert page.status_code == 200 and "Import customers and contacts" in page.text

    response = client.post(reverse("integrations:import-upload"), {"file": upload("名片.csv", DATA)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("integrations:import-detail", args=[job.pk])

    mapping = client.get(response.url)
    assert mapping.status_code == 200 and "Map the columns" in mapping.text and "GBK" in mapping.text
    assert "杭州华星精密机械有限公司" in mapping.text  # sample values under the headers
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("integrations:import-mapping", args=[job.pk]),
            {"col_0": "name", "col_1": "contact_name", "col_2": "contact_mobile", "col_3": "tier"},
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.VALUES

    # The value step: "钻石" is no tier; the person leaves it empty.
    values = client.get(reverse("integrations:import-detail", args=[job.pk]))
    assert values.status_code == 200 and "Match the values" in values.text and "钻石" in values.text
    assert 'name="tier__0"' in values.text and "— leave empty —" in values.text
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("integrations:import-values", args=[job.pk]), {"tier__0": ""})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEW and job.value_mapping == {"tier": {"钻石": ""}}

    preview = client.get(reverse("integrations:import-detail", args=[job.pk]))
    assert "Review the rows" in preview.text and "钻石" in preview.text and "Change the values" in preview.text
    warnings = client.get(reverse("integrations:import-detail", args=[job.pk]) + "?show=warnings")
    assert "苏州锦程电子" in warnings.text and "杭州华星精密机械有限公司" not in warnings.text

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("integrations:import-run", args=[job.pk]))
    assert response.status_code == 302
    report = client.get(reverse("integrations:import-detail", args=[job.pk]))
    assert "Import report" in report.text and "Created 2, updated 0, skipped 0" in report.text
    assert "1 row had a value left empty." in report.text
    assert Customer.objects.get(name="杭州华星精密机械有限公司", owner=team.rep1).tier == "key"
    assert Customer.objects.get(name="苏州锦程电子").tier == "prospect"  # the default, as for an empty cell


def test_progress_page_polls_and_works_without_javascript(client, team):
    client.force_login(team.rep1)
    job = ImportJob.objects.create(
        created_by=team.rep1, file_name="a.csv", format="csv", status=ImportStatus.RUNNING, total_rows=200, progress=50
    )
    page = client.get(reverse("integrations:import-detail", args=[job.pk]))
    assert 'http-equiv="refresh"' in page.text and 'hx-trigger="every 1s"' in page.text
    assert "width: 25%" in page.text
    partial = client.get(reverse("integrations:import-progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and "50 of 200 rows" in partial.text
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    done = client.get(reverse("integrations:import-progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert done.headers["HX-Redirect"] == reverse("integrations:import-detail", args=[job.pk])


def test_row_choices_from_the_preview_page(client, team, customer_of):
    mine = customer_of(team.rep1, "杭州华星精密机械有限公司")
    job = preview_import(team.rep1, "a.csv", WITH_ERROR)
    client.force_login(team.rep1)
    response = client.post(
        reverse("integrations:import-choose", args=[job.pk]), {"row_2": "update", "return_query": "show=duplicates"}
    )
    assert response.status_code == 302 and response.url.endswith("?show=duplicates")
    row = ImportRow.objects.get(job=job, number=2)
    assert (row.action, row.target_id) == ("update", mine.pk)
    client.post(reverse("integrations:import-choose", args=[job.pk]), {"row_3": "create"})  # has errors: refused
    assert ImportRow.objects.get(job=job, number=3).action == "skip"


def test_an_upload_error_is_shown_on_the_form(client, team):
    client.force_login(team.rep1)
    response = client.post(
        reverse("integrations:import-upload"), {"file": upload("x.xls", b"\xd0\xcf\x11\xe0" + b"0" * 20)}
    )
    assert response.status_code == 400 and "damaged or not an Excel" in response.text
    assert not ImportJob.objects.exists()


# --- permissions ---------------------------------------------------------------------------


def _job_urls(job):
    return [
        ("get", reverse("integrations:import-detail", args=[job.pk]), {}),
        ("get", reverse("integrations:import-progress", args=[job.pk]), {}),
        ("post", reverse("integrations:import-layout", args=[job.pk]), {"header_row": "2"}),
        ("post", reverse("integrations:import-mapping", args=[job.pk]), {"col_0": "name"}),
        ("post", reverse("integrations:import-values", args=[job.pk]), {"tier__0": "key"}),
        ("post", reverse("integrations:import-choose", args=[job.pk]), {"row_2": "create"}),
        ("post", reverse("integrations:import-run", args=[job.pk]), {}),
        ("post", reverse("integrations:import-delete", args=[job.pk]), {}),
    ]


@pytest.mark.parametrize("who", ["anonymous", "other_rep", "manager", "service"])
def test_others_cannot_see_or_touch_a_job(client, team, who):
    job = preview_import(team.rep1, "a.csv", DATA)
    rows_before = list(ImportRow.objects.filter(job=job).values_list("number", "action"))
    user = {"anonymous": None, "other_rep": team.rep2, "manager": team.manager1, "service": team.service1}[who]
    if user is not None:
        client.force_login(user)
    for method, url, data in _job_urls(job):
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = getattr(client, method)(url, data)
        if user is None:
            assert response.status_code == 302 and "/accounts/login/" in response.url, url
        else:
            assert response.status_code == 404, url
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEW and job.mapping == {
        "0": "name",
        "1": "contact_name",
        "2": "contact_mobile",
        "3": "tier",
    }
    assert list(ImportRow.objects.filter(job=job).values_list("number", "action")) == rows_before
    assert not Customer.objects.exists()


def test_the_owner_of_the_job_may_use_every_step(client, team):
    job = preview_import(team.rep1, "a.csv", DATA)
    client.force_login(team.rep1)
    assert client.get(reverse("integrations:import-detail", args=[job.pk])).status_code == 200
    assert client.get(reverse("integrations:import-progress", args=[job.pk])).status_code == 200
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse("integrations:import-run", args=[job.pk])).status_code == 302
    assert Customer.objects.count() == 2
    assert client.post(reverse("integrations:import-delete", args=[job.pk])).status_code == 302
    assert not ImportJob.objects.exists()


def test_people_who_may_not_import_are_refused(client, team):
    client.force_login(team.service1)
    assert client.get(reverse("integrations:home")).status_code == 403
    response = client.post(reverse("integrations:import-upload"), {"file": upload("a.csv", DATA)})
    assert response.status_code == 403 and not ImportJob.objects.exists()
    # Marketing may add customers but not import them.
    client.force_login(team.marketing1)
    assert client.post(reverse("integrations:import-upload"), {"file": upload("a.csv", DATA)}).status_code == 403


def test_navigation_shows_import_export_only_to_those_who_may(client, team):
    client.force_login(team.rep1)
    assert reverse("integrations:home") in client.get(reverse("workspace:home")).text
    client.force_login(team.service1)
    assert reverse("integrations:home") not in client.get(reverse("workspace:home")).text


def test_the_mapping_page_shows_the_top_of_the_sheet_and_takes_another_header(client, team):
    from . import corpus

    client.force_login(team.rep1)
    response = client.post(reverse("integrations:import-upload"), {"file": upload("名录.xlsx", corpus.template_xlsx())})
    job = ImportJob.objects.get()
    page = client.get(response.url)
    assert "Where the records are" in page.text and corpus.TITLE in page.text
    assert "rows 4 and 5" in page.text and "旧数据 (hidden)" in page.text and "Sheet3 (empty)" in page.text
    assert 'name="header_row"' in page.text and 'value="5"' in page.text
    response = client.post(reverse("integrations:import-layout", args=[job.pk]), {"sheet": "旧数据", "header_row": "1"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.sheet, job.headers) == ("旧数据", ["客户名称", "联系人", "电话"])
    bad = client.post(reverse("integrations:import-layout", args=[job.pk]), {"sheet": "Sheet3", "header_row": "1"})
    assert bad.status_code == 400 and "is empty" in bad.text
    job.refresh_from_db()
    assert job.sheet == "旧数据"
