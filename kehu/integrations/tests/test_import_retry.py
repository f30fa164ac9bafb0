"""An import whose run failed (its worker stopped) runs again from its page or the API — for the
person who started it only; a job that cannot (not failed, or never checked) is refused and unchanged."""

import pytest

from kehu.core import lost_tasks
from kehu.customers.models import Customer
from kehu.integrations.models import ImportJob, ImportStatus
from kehu.integrations.services import import_job_lost
from kehu.integrations.tests.conftest import csv_bytes, preview_import

REASON = "The worker stopped while running this task (it was killed or the machine went down)."


@pytest.fixture
def failed_job(team, django_capture_on_commit_callbacks):
    rows = [["客户名称"], ["重试测试甲公司"], ["重试测试乙公司"]]
    job = preview_import(team.rep1, "retry.csv", csv_bytes(rows))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, step="write")
    with django_capture_on_commit_callbacks(execute=True):
        import_job_lost(job.pk, reason=lost_tasks.REASON)
    return ImportJob.objects.get(pk=job.pk)


def test_a_lost_run_is_failed_with_the_reason_and_its_owner_is_told(failed_job, team):
    from kehu.notifications.models import Notification

    assert failed_job.status == ImportStatus.FAILED
    assert failed_job.error == f"{REASON} Nothing was saved; run the import again."
    assert Notification.objects.filter(recipient=team.rep1, kind="import_failed").count() == 1


def test_the_lost_reason_is_in_the_importers_language(team):
    team.rep1.language = "zh-hans"
    team.rep1.save(update_fields=["language"])
    job = preview_import(team.rep1, "retry.csv", csv_bytes([["客户名称"], ["重试测试丙公司"]]))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    import_job_lost(job.pk, reason=lost_tasks.REASON)
    assert ImportJob.objects.get(pk=job.pk).error == (
        "执行此任务的后台进程中途停止（被终止或服务器宕机）。没有保存任何数据；请重新执行导入。"
    )


@pytest.mark.parametrize(
    "who, expected",
    [("anonymous", 302), ("rep2", 404), ("manager1", 404), ("rep1", 302)],
)
def test_who_may_run_a_failed_import_again(client, team, failed_job, who, expected, django_capture_on_commit_callbacks):
    if who != "anonymous":
        client.force_login(getattr(team, who))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/transfer/imports/{failed_job.pk}/retry/")
    assert response.status_code == expected
    failed_job.refresh_from_db()
    if who == "rep1":
        assert response["Location"] == f"/transfer/imports/{failed_job.pk}/"
        assert (failed_job.status, failed_job.error) == (ImportStatus.DONE, "")
        assert Customer.objects.filter(name__startswith="重试测试").count() == 2
    else:
        if who == "anonymous":
            assert response["Location"].startswith("/accounts/login/") or "login" in response["Location"]
        assert failed_job.status == ImportStatus.FAILED
        assert Customer.objects.filter(name__startswith="重试测试").count() == 0


def test_the_page_offers_the_retry_only_when_the_rows_are_still_there(client, team, failed_job):
    client.force_login(team.rep1)
    assert 'id="import-retry"' in client.get(f"/transfer/imports/{failed_job.pk}/").content.decode()
    failed_job.rows.all().delete()
    page = client.get(f"/transfer/imports/{failed_job.pk}/").content.decode()
    assert 'id="import-retry"' not in page
    assert "Nothing was saved; run the import again." in page
    response = client.post(f"/transfer/imports/{failed_job.pk}/retry/", follow=True)
    assert "This import cannot run again as it was" in response.content.decode()
    assert ImportJob.objects.get(pk=failed_job.pk).status == ImportStatus.FAILED


def test_the_api_runs_a_failed_import_again_and_refuses_others(
    api_client, team, failed_job, django_capture_on_commit_callbacks
):
    base = "/api/v1/transfer/imports"
    assert api_client(team.rep2).post(f"{base}/{failed_job.pk}/retry").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(team.rep1).post(f"{base}/{failed_job.pk}/retry")
    assert response.status_code == 202, response.content
    assert ImportJob.objects.get(pk=failed_job.pk).status == ImportStatus.DONE  # the tests' tasks run at once
    again = api_client(team.rep1).post(f"{base}/{failed_job.pk}/retry")
    assert again.status_code == 409
    assert again.json() == {"detail": "The import's state is “Done”: that step is not possible now.", "errors": {}}
