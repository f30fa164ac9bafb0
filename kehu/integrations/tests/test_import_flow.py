"""Mapping memory, preview errors and duplicate matches, the create/update/skip choices,
owners and the public pool, and all-or-nothing runs."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.models import AuditEntry
from kehu.customers.models import Contact, ContactPoint, Customer, TimelineEntry
from kehu.integrations.models import ImportMapping, ImportRow, ImportStatus, RowAction
from kehu.integrations.services import (
    import_job_choose,
    import_job_create,
    import_job_set_mapping,
    import_job_start,
)

from .conftest import csv_bytes, finish_import, preview_import, run_import, upload

pytestmark = pytest.mark.django_db

HEADERS = ["公司名称", "联系人", "手机号码", "邮箱", "客户等级", "生日"]


def _data(*rows):
    return csv_bytes([HEADERS, *rows])


def test_the_mapping_is_remembered_for_files_with_the_same_headers(team):
    data = csv_bytes([["A列", "B列", "C列"], ["杭州华星机械", "王建国", "x"]])
    job = import_job_create(actor=team.rep1, uploaded=upload("a.csv", data))
    assert job.mapping == {} and not job.mapping_remembered  # nothing to guess from
    import_job_set_mapping(job=job, actor=team.rep1, mapping={"0": "name", "1": "contact_name"})
    assert ImportMapping.objects.get(signature=job.signature).mapping == {"0": "name", "1": "contact_name"}
    # Another file of the same template (another person, other rows): the mapping comes back.
    again = import_job_create(
        actor=team.rep2, uploaded=upload("b.csv", csv_bytes([["A列", "B列", "C列"], ["宁波东港", "陈", "y"]]))
    )
    assert again.mapping == {"0": "name", "1": "contact_name"} and again.mapping_remembered
    other = import_job_create(actor=team.rep2, uploaded=upload("c.csv", csv_bytes([["A列", "B列"], ["x", "y"]])))
    assert not other.mapping_remembered


def test_a_bad_mapping_is_refused(team):
    job = import_job_create(actor=team.rep1, uploaded=upload("a.csv", _data(["杭州华星", "王", "", "", "", ""])))
    for mapping, message in [
        ({"1": "contact_mobile"}, "customer name"),
        ({"0": "name", "1": "name"}, "two columns"),
        ({"0": "name", "9": "notes"}, "Unknown column"),
        ({"0": "name", "1": "password"}, "Unknown field"),
        ({"0": "name", "1": "owner"}, "Only people who assign customers"),
    ]:
        with pytest.raises(ValidationError, match=message):
            import_job_set_mapping(job=job, actor=team.rep1, mapping=mapping)


def test_preview_shows_errors_per_row_and_never_imports_them(team):
    job = preview_import(
        team.rep1,
        "a.csv",
        _data(
            ["杭州华星精密机械有限公司", "王建国", "13857112345", "wang@example.cn", "重点", "1978-05-03"],
            ["", "", "13900000000", "", "", ""],  # no name at all
            ["苏州锦程电子", "刘芳", "", "not-an-email", "钻石", "明年"],
            ["宁波" + "东" * 200, "陈", "", "", "", ""],  # too long
        ),
    )
    assert job.status == ImportStatus.PREVIEW
    assert job.report == {"rows": 4, "errors": 3, "warnings": 1, "duplicates": 0, "not_records": {}}
    rows = {r.number: r for r in ImportRow.objects.filter(job=job)}
    assert rows[2].errors == {} and rows[2].action == RowAction.CREATE
    assert rows[2].values["customer"] == {"name": "杭州华星精密机械有限公司", "tier": "key"}
    assert rows[2].values["contact"]["birthday"] == "1978-05-03"
    assert "name" in rows[3].errors
    assert set(rows[4].errors) == {"contact_birthday", "contact_email"}
    # A tier nobody can match is no error: the field stays empty with a warning.
    assert "钻石" in rows[4].warnings["tier"][0] and "tier" not in rows[4].values["customer"]
    assert "name" in rows[5].errors
    assert all(rows[n].action == RowAction.SKIP for n in (3, 4, 5))
    job = finish_import(team.rep1, job)
    assert job.report["created"] == 1 and job.report["skipped"] == 3
    assert list(Customer.objects.values_list("name", flat=True)) == ["杭州华星精密机械有限公司"]


def test_an_invalid_credit_code_is_an_error(team):
    data = csv_bytes([["客户名称", "统一社会信用代码"], ["杭州华星", "91330110MA2H0X1Y4X"]])
    job = preview_import(team.rep1, "a.csv", data)
    [row] = ImportRow.objects.filter(job=job)
    assert "credit_code" in row.errors


def test_preview_finds_duplicates_in_the_database_and_in_the_file(team, customer_of):
    mine = customer_of(team.rep1, "杭州华星精密机械有限公司")
    theirs = customer_of(team.rep3, "广州南方物流有限公司", phone="020-88886666")
    from kehu.customers.services import contact_create

    contact_create(customer=theirs, actor=team.rep3, name="黄", email="huang@nanfang.example.cn")
    job = preview_import(
        team.rep1,
        "a.csv",
        _data(
            ["杭州华星精密机械（有限公司）", "王建国", "", "", "", ""],  # same name key as mine
            ["南方物流", "黄", "", "HUANG@nanfang.example.cn", "", ""],  # email of their contact
            ["上海申达", "", "", "", "", ""],
            ["上海申达有限公司", "", "", "", "", ""],  # same as row 4 of the file
        ),
    )
    assert job.report["duplicates"] == 3
    rows = {r.number: r for r in ImportRow.objects.filter(job=job)}
    assert rows[2].matches == [
        {"id": mine.pk, "name": mine.name, "owner": "rep1", "reasons": ["name"], "in_scope": True}
    ]
    assert rows[2].target_id == mine.pk and rows[2].action == RowAction.SKIP
    assert rows[3].matches[0]["id"] == theirs.pk and rows[3].matches[0]["reasons"] == ["email"]
    assert rows[3].matches[0]["in_scope"] is False and rows[3].target_id is None
    assert rows[4].matches == [] and rows[4].action == RowAction.CREATE
    assert rows[5].matches == [{"row": 4, "reasons": ["name"]}]


def test_duplicates_by_phone_use_the_normalised_key(team, customer_of):
    existing = customer_of(team.rep1, "无锡恒力", phone="+86 510 8234 5678")
    job = preview_import(team.rep1, "a.csv", csv_bytes([["客户名称", "电话"], ["恒力汽配", "0510-82345678"]]))
    [row] = ImportRow.objects.filter(job=job)
    assert row.matches[0]["id"] == existing.pk and row.matches[0]["reasons"] == ["phone"]


def test_choices_create_update_skip(team, customer_of):
    from kehu.customers.services import contact_create

    mine = customer_of(team.rep1, "杭州华星精密机械有限公司", region="浙江")
    wang = contact_create(customer=mine, actor=team.rep1, name="王建国", mobile="13800000000")
    other = customer_of(team.rep1, "苏州锦程电子科技有限公司")
    job = preview_import(
        team.rep1,
        "a.csv",
        _data(
            ["杭州华星精密机械有限公司", "王建国", "13857112345", "", "重点", ""],  # update mine + its contact
            ["杭州华星精密机械有限公司", "李新", "13911112222", "", "", ""],  # update: a new contact
            ["苏州锦程电子科技有限公司", "刘芳", "", "", "", ""],  # create anyway
            ["宁波东港化工", "陈志强", "", "", "", ""],  # skip
        ),
    )
    with pytest.raises(ValidationError, match="no customer of yours"):
        import_job_choose(job=job, actor=team.rep1, rows={"5": "update"})
    import_job_choose(job=job, actor=team.rep1, rows={"2": "update", "3": "update", "4": "create", "5": "skip"})
    version = mine.version
    job = finish_import(team.rep1, job)
    assert job.status == ImportStatus.DONE, job.error
    assert (job.report["created"], job.report["updated"], job.report["skipped"]) == (1, 1, 1)
    mine.refresh_from_db()
    wang.refresh_from_db()
    assert mine.tier == "key" and mine.region == "浙江" and mine.version == version + 1
    assert wang.mobile == "13857112345" and wang.version == 2
    assert set(mine.contacts.values_list("name", flat=True)) == {"王建国", "李新"}
    assert "13911112222" in mine.search_text and "13857112345" in mine.search_text
    assert Customer.objects.filter(name="苏州锦程电子科技有限公司").exclude(pk=other.pk).count() == 1
    assert not Customer.objects.filter(name="宁波东港化工").exists()
    update = AuditEntry.objects.get(target_type="customers.customer", target_id=mine.pk, action="update")
    assert update.changes["tier"] == ["prospect", "key"] and update.changes["import"] == [None, job.pk]
    assert TimelineEntry.objects.filter(customer=mine, kind="imported", payload__action="update").count() == 1


def test_every_duplicate_at_once(team, customer_of):
    customer_of(team.rep1, "杭州华星精密机械有限公司")
    job = preview_import(team.rep1, "a.csv", _data(["杭州华星精密机械", "王", "", "", "", ""]))
    import_job_choose(job=job, actor=team.rep1, duplicates="create_duplicates")
    job = finish_import(team.rep1, job)
    assert Customer.objects.filter(name_key="杭州华星精密机械").count() == 2


def test_a_rep_imports_for_themselves_a_manager_may_map_owners_or_the_pool(team):
    job = run_import(team.rep1, "a.csv", _data(["杭州华星", "", "", "", "", ""]))
    assert Customer.objects.get(name="杭州华星").owner == team.rep1

    data = csv_bytes([["客户名称", "负责人"], ["宁波东港", "rep2"], ["苏州锦程", ""], ["广州南方", "rep3"]])
    job = preview_import(team.manager1, "owners.csv", data)
    assert job.mapping == {"0": "name", "1": "owner"}
    rows = {r.number: r for r in ImportRow.objects.filter(job=job)}
    assert rows[2].errors == {} and rows[3].errors == {}
    assert "rep3" in rows[4].errors["owner"][0]  # another team's rep
    job = finish_import(team.manager1, job)
    assert Customer.objects.get(name="宁波东港").owner == team.rep2
    assert Customer.objects.get(name="苏州锦程").owner is None  # the public pool
    assert not Customer.objects.filter(name="广州南方").exists()


def test_an_import_failing_half_way_leaves_nothing_behind(team, monkeypatch):
    from kehu.integrations import services

    rows = [[f"测试客户{i:04d}有限公司", f"联系人{i}", f"1390000{i:04d}", "", "", ""] for i in range(4500)]
    job = preview_import(team.rep1, "big.csv", _data(*rows))
    before = (
        Customer.objects.count(),
        Contact.objects.count(),
        ContactPoint.objects.count(),
        TimelineEntry.objects.count(),
    )
    audits = AuditEntry.objects.count()
    real = services.Inserter.insert
    calls = []

    def failing(self, rows):
        # Customers, contacts and their numbers are written; the timeline insert then fails.
        if self.model is TimelineEntry:
            raise RuntimeError("disk full")
        calls.append(self.model)
        return real(self, rows)

    monkeypatch.setattr(services.Inserter, "insert", failing)
    job = finish_import(team.rep1, job)
    assert calls == [Customer, Contact, ContactPoint]
    assert job.status == ImportStatus.FAILED and "nothing was saved" in job.error
    assert (
        Customer.objects.count(),
        Contact.objects.count(),
        ContactPoint.objects.count(),
        TimelineEntry.objects.count(),
    ) == before
    assert AuditEntry.objects.count() == audits
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM customer_search_tri")
            assert cursor.fetchone()[0] == 0
    # Nothing is half-done: the same job cannot be run again, a new upload can.
    with pytest.raises(ValidationError):
        import_job_start(job=job, actor=team.rep1)


def test_a_row_gone_stale_between_preview_and_run_fails_the_whole_import(team, customer_of):
    from kehu.customers.services import customer_delete

    mine = customer_of(team.rep1, "杭州华星精密机械有限公司")
    job = preview_import(
        team.rep1, "a.csv", _data(["杭州华星精密机械", "王", "", "", "", ""], ["新客户甲", "", "", "", "", ""])
    )
    import_job_choose(job=job, actor=team.rep1, rows={"2": "update"})
    customer_delete(customer=mine, actor=team.rep1)
    job = finish_import(team.rep1, job)
    assert job.status == ImportStatus.FAILED and "Row 2" in job.error
    assert not Customer.objects.filter(name="新客户甲").exists()


def test_only_importers_may_import_and_only_their_own_jobs(team):
    with pytest.raises(PermissionDenied):
        import_job_create(actor=team.service1, uploaded=upload("a.csv", _data(["x", "", "", "", "", ""])))
    job = import_job_create(actor=team.rep1, uploaded=upload("a.csv", _data(["x", "", "", "", "", ""])))
    with pytest.raises(PermissionDenied):
        import_job_set_mapping(job=job, actor=team.rep2, mapping={"0": "name"})
    with pytest.raises(PermissionDenied):
        import_job_start(job=job, actor=team.manager1)


def test_cleanup_removes_old_files_and_staged_rows(team, settings):
    import os
    import time

    from kehu.integrations import storage
    from kehu.integrations.services import transfer_cleanup

    job = preview_import(team.rep1, "a.csv", _data(["杭州华星", "", "", "", "", ""]))
    path = storage.absolute(job.stored_path)
    assert path.exists() and ImportRow.objects.filter(job=job).exists()
    assert transfer_cleanup(days=7) == {"files": 0, "rows": 0}
    old = time.time() - 8 * 86400
    os.utime(path, (old, old))
    job.created_at = job.created_at.replace(year=job.created_at.year - 1)
    job.save()
    assert transfer_cleanup(days=7) == {"files": 1, "rows": 1}
    assert not path.exists()
