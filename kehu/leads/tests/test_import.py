"""Importing leads through the shared import machinery: header guesses, per-row errors by the
leads' own rules, duplicates (open leads and earlier rows), the region rules' round-robin,
scores and deadlines, all-or-nothing, events, audit and webhooks."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import translation

from kehu.core.models import AuditEntry
from kehu.integrations.models import ImportRow, ImportStatus, RowAction
from kehu.integrations.services import import_job_choose, import_job_create, import_job_set_mapping, import_job_start
from kehu.integrations.tests.conftest import csv_bytes, upload, xlsx_bytes
from kehu.leads.imports import LeadTarget
from kehu.leads.models import AssignmentRule, Lead, LeadEvent, LeadStatus
from kehu.leads.services import lead_create

pytestmark = pytest.mark.django_db

HEADERS = ["公司名称", "联系人", "手机", "邮箱", "省份", "行业", "规模", "备注"]


@pytest.fixture(autouse=True)
def _transfer_dir(settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"


def _data(*rows, encoding="utf-8"):
    return csv_bytes([HEADERS, *rows], encoding)


def preview(actor, data, name="cards.csv", mapping=None, values=None):
    """Upload, mapping, the value step when the file needs it (`values`, else left unmatched), preview."""
    from kehu.integrations.models import ImportJob, ImportStatus
    from kehu.integrations.services import import_job_set_values

    job = import_job_create(actor=actor, uploaded=upload(name, data), target="leads")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=actor, mapping=mapping if mapping is not None else job.mapping)
    job = ImportJob.objects.get(pk=job.pk)
    if job.status == ImportStatus.VALUES:
        with TestCase.captureOnCommitCallbacks(execute=True):
            import_job_set_values(job=job, actor=actor, values=values or {})
        job = ImportJob.objects.get(pk=job.pk)
    return job


def finish(actor, job, rows=None, duplicates=""):
    from kehu.integrations.models import ImportJob

    if rows or duplicates:
        import_job_choose(job=job, actor=actor, rows=rows or {}, duplicates=duplicates)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_start(job=job, actor=actor)
    return ImportJob.objects.get(pk=job.pk)


def staged(job) -> dict[int, ImportRow]:
    return {r.number: r for r in ImportRow.objects.filter(job=job)}


# ---- mapping -----------------------------------------------------------------------------------


def test_lead_headers_are_guessed_in_chinese_and_english():
    target = LeadTarget()
    assert target.guess_mapping(HEADERS + ["来源", "负责人"]) == {
        "0": "company_name",
        "1": "contact_name",
        "2": "phone",
        "3": "email",
        "4": "region",
        "5": "industry",
        "6": "size_band",
        "7": "message",
        "8": "source",
        "9": "owner",
    }
    english = ["Company", "Contact Person", "Mobile", "E-mail", "Province", "Industry", "Company size", "Notes"]
    assert list(target.guess_mapping(english).values()) == [
        "company_name",
        "contact_name",
        "phone",
        "email",
        "region",
        "industry",
        "size_band",
        "message",
    ]
    assert target.guess_mapping(["客户名称*", "电话（必填）"]) == {"0": "company_name", "1": "phone"}


def test_an_upload_for_leads_guesses_lead_fields_and_remembers_them_apart_from_customers(team):
    data = csv_bytes([["A列", "B列"], ["杭州华星", "13857112345"]])
    job = import_job_create(actor=team.marketing1, uploaded=upload("a.csv", data), target="leads")
    assert job.target == "leads" and job.mapping == {}
    import_job_set_mapping(job=job, actor=team.marketing1, mapping={"0": "company_name", "1": "phone"})
    again = import_job_create(actor=team.marketing1, uploaded=upload("b.csv", data), target="leads")
    assert again.mapping == {"0": "company_name", "1": "phone"} and again.mapping_remembered
    customers = import_job_create(actor=team.manager1, uploaded=upload("c.csv", data))
    assert customers.target == "customers" and not customers.mapping_remembered


def test_a_bad_lead_mapping_is_refused(team):
    job = import_job_create(
        actor=team.marketing1, uploaded=upload("a.csv", _data(["甲", "", "1", "", "", "", "", ""])), target="leads"
    )
    for mapping, message in [
        ({"2": "phone"}, "company name"),
        ({"0": "company_name", "1": "name"}, "Unknown field"),  # a customer field
        ({"0": "company_name", "1": "owner"}, "Only people who assign leads"),
    ]:
        with pytest.raises(ValidationError, match=message):
            import_job_set_mapping(job=job, actor=team.marketing1, mapping=mapping)


# ---- preview -----------------------------------------------------------------------------------


def test_preview_errors_per_row_by_the_leads_rules(team):
    job = preview(
        team.manager1,
        csv_bytes(
            [
                [*HEADERS, "负责人"],
                ["杭州华星精密机械有限公司", "王建国", "13857112345", "", "浙江", "机械", "大型", "要报价", ""],
                ["苏州锦程电子", "刘芳", "", "", "江苏", "", "", "", ""],  # neither phone nor email
                ["宁波东港", "", "", "not-an-email", "", "", "巨型", "", ""],
                ["", "", "13900000000", "", "", "", "", "", ""],  # no company
                ["广州南方", "", "020-88886666", "", "", "", "", "", "rep3"],  # another team's rep
                ["无锡恒力", "", "0510-82345678", "", "", "", "", "", "rep2"],
            ]
        ),
    )
    assert job.status == ImportStatus.PREVIEW
    assert job.report == {"rows": 6, "errors": 4, "warnings": 1, "duplicates": 0, "not_records": {}}
    rows = staged(job)
    assert rows[2].errors == {} and rows[2].action == RowAction.CREATE
    assert rows[2].values["lead"] == {
        "company_name": "杭州华星精密机械有限公司",
        "contact_name": "王建国",
        "phone": "13857112345",
        "region": "浙江",
        "industry": "machinery",
        "size_band": "large",
        "message": "要报价",
        "source": "import",
    }
    assert list(rows[3].errors) == ["phone"] and "phone number or an email" in rows[3].errors["phone"][0]
    # A size nobody can match is no error: the field stays empty with a warning.
    assert set(rows[4].errors) == {"email"} and "巨型" in rows[4].warnings["size_band"][0]
    assert "size_band" not in rows[4].values["lead"]
    assert "company_name" in rows[5].errors
    assert "rep3" in rows[6].errors["owner"][0]
    assert rows[7].errors == {} and rows[7].values["owner"] == "rep2"
    assert all(rows[n].action == RowAction.SKIP for n in (3, 4, 5, 6))


def test_row_errors_are_in_the_importers_language(team):
    team.marketing1.language = "zh-hans"
    team.marketing1.save()
    job = preview(team.marketing1, _data(["苏州锦程电子", "刘芳", "", "", "", "", "", ""]))
    with translation.override("zh-hans"):
        expected = str(translation.gettext("Give a phone number or an email address."))
    assert expected != "Give a phone number or an email address."
    assert staged(job)[2].errors["phone"] == [expected]


def test_gbk_csv_and_xlsx_are_read(team):
    rows = [["杭州华星精密机械有限公司", "王建国", "13857112345", "", "浙江", "", "", ""]]
    gbk = preview(team.marketing1, _data(*rows, encoding="gbk"), name="名片.csv")
    assert gbk.encoding.upper() in ("GBK", "GB18030") and staged(gbk)[2].values["lead"]["contact_name"] == "王建国"
    xlsx = preview(team.marketing1, xlsx_bytes([HEADERS, [*rows[0][:2], 13857112345, *rows[0][3:]]]), name="a.xlsx")
    assert staged(xlsx)[2].values["lead"]["phone"] == "13857112345"


def test_duplicates_are_open_leads_with_the_phone_or_email_and_earlier_rows(team, lead_of):
    mine = lead_of(team.rep1, "杭州华星精密机械有限公司", phone="+86 138 5711 2345")
    theirs = lead_of(team.rep3, "广州南方物流", phone="", email="Huang@Nanfang.example.cn")
    closed = lead_of(team.rep1, "宁波东港", phone="0574-88881234")
    closed.status = LeadStatus.DISQUALIFIED
    closed.save()
    job = preview(
        team.manager1,
        _data(
            ["华星精密", "王", "13857112345", "", "", "", "", ""],  # mine, by phone
            ["南方物流", "黄", "", "huang@nanfang.example.cn", "", "", "", ""],  # rep3's, by email
            ["宁波东港", "陈", "057488881234", "", "", "", "", ""],  # only a closed lead has it
            ["宁波东港化工", "陈", "0574-88881234", "chen@example.cn", "", "", "", ""],  # row 4 again
        ),
    )
    assert job.report["duplicates"] == 3
    rows = staged(job)
    assert rows[2].matches == [
        {"id": mine.pk, "name": mine.company_name, "owner": "rep1", "reasons": ["phone"], "in_scope": True}
    ]
    assert rows[2].target_id == mine.pk and rows[2].action == RowAction.SKIP
    assert rows[3].matches[0]["id"] == theirs.pk and rows[3].matches[0]["reasons"] == ["email"]
    assert rows[3].matches[0]["in_scope"] is False and rows[3].target_id is None  # another team's
    assert rows[4].matches == [] and rows[4].action == RowAction.CREATE
    assert rows[5].matches == [{"row": 4, "reasons": ["phone"]}] and rows[5].target_id is None


# ---- run ---------------------------------------------------------------------------------------


def test_imported_leads_go_round_robin_by_region_with_scores_deadlines_events_and_audit(team):
    AssignmentRule.objects.create(region="浙江", user=team.rep1)
    AssignmentRule.objects.create(region="浙江", user=team.rep2)
    AssignmentRule.objects.create(region="", user=team.rep3)
    job = preview(
        team.marketing1,
        _data(
            ["杭州华星精密机械有限公司", "王建国", "13857112345", "", "浙江", "机械", "大型", ""],
            ["宁波东港化工", "陈", "13900000001", "", "浙江", "", "", ""],
            ["温州瓯江阀门", "", "13900000002", "", "浙江", "", "", ""],
            ["广州南方物流", "", "", "n@example.cn", "广东", "", "", ""],
        ),
    )
    job = finish(team.marketing1, job)
    assert job.status == ImportStatus.DONE, job.error
    assert (job.report["created"], job.report["updated"], job.report["skipped"]) == (4, 0, 0)
    assert job.report["assigned_by_rules"] == 4
    owners = dict(Lead.objects.values_list("company_name", "owner__username"))
    assert owners == {
        "杭州华星精密机械有限公司": "rep1",
        "宁波东港化工": "rep2",
        "温州瓯江阀门": "rep1",
        "广州南方物流": "rep3",  # no rule for the region: the catch-all
    }
    # The rotation goes on from where the import left it.
    after = lead_create(
        actor=team.marketing1, auto_assign=True, company_name="台州新光", phone="13900000009", region="浙江"
    )
    assert after.owner == team.rep2

    huaxing = Lead.objects.get(company_name="杭州华星精密机械有限公司")
    assert huaxing.source == "import" and huaxing.status == LeadStatus.NEW and huaxing.created_by == team.marketing1
    assert huaxing.sla_due_at is not None and huaxing.sla_due_at > huaxing.created_at
    assert huaxing.score >= 15 + 25 + 10 and huaxing.score_reasons[0]["code"] == "size"
    assert list(LeadEvent.objects.filter(lead=huaxing).values_list("kind", flat=True)) == ["created", "assigned"]
    audit = AuditEntry.objects.get(target_type="leads.lead", target_id=huaxing.pk)
    assert audit.action == "create" and audit.changes["import"] == [None, job.pk]
    assert audit.changes["owner"] == [None, "rep1"] and audit.actor == team.marketing1


def test_without_rules_the_importer_keeps_the_leads_an_assigner_leaves_them_unassigned(team):
    job = finish(team.marketing1, preview(team.marketing1, _data(["甲公司", "", "13900000001", "", "", "", "", ""])))
    assert Lead.objects.get(company_name="甲公司").owner == team.marketing1 and job.report["assigned_by_rules"] == 0
    finish(team.manager1, preview(team.manager1, _data(["乙公司", "", "13900000002", "", "", "", "", ""])))
    assert Lead.objects.get(company_name="乙公司").owner is None


def test_an_owner_column_gives_rows_to_the_named_users(team):
    AssignmentRule.objects.create(region="", user=team.rep3)
    data = csv_bytes([["公司名称", "手机", "负责人"], ["甲公司", "13900000001", "rep2"], ["乙公司", "13900000002", ""]])
    job = finish(team.manager1, preview(team.manager1, data))
    assert job.status == ImportStatus.DONE, job.error
    assert Lead.objects.get(company_name="甲公司").owner == team.rep2
    assert Lead.objects.get(company_name="乙公司").owner == team.rep3  # blank: by the rules


def test_duplicates_are_skipped_unless_chosen_otherwise(team, lead_of):
    mine = lead_of(team.rep1, "杭州华星精密机械有限公司", phone="13857112345")
    lead_of(team.rep3, "广州南方物流", phone="020-88886666")  # another team's
    data = _data(
        ["杭州华星精密机械有限公司", "王建国", "13857112345", "wang@example.cn", "浙江", "", "", "要报价"],
        ["新客户甲", "", "13900000001", "", "", "", "", ""],
        ["南方物流", "", "02088886666", "", "", "", "", ""],
    )
    job = finish(team.manager1, preview(team.manager1, data))
    assert (job.report["created"], job.report["skipped"]) == (1, 2) and Lead.objects.count() == 3

    job = preview(team.manager1, data)
    with pytest.raises(ValidationError, match="no open lead of yours"):
        import_job_choose(job=job, actor=team.manager1, rows={"4": "update"})
    import_job_choose(job=job, actor=team.manager1, rows={"2": "update", "3": "create"})
    version = mine.version
    job = finish(team.manager1, job)
    assert (job.report["created"], job.report["updated"], job.report["skipped"]) == (1, 1, 1)
    mine.refresh_from_db()
    assert (mine.email, mine.region, mine.message, mine.version) == ("wang@example.cn", "浙江", "要报价", version + 1)
    assert mine.source == "manual"  # the default source of the import does not overwrite
    assert LeadEvent.objects.filter(lead=mine, kind="changed").count() == 1
    update = AuditEntry.objects.get(target_type="leads.lead", target_id=mine.pk, action="update")
    assert update.changes["email"] == ["", "wang@example.cn"] and update.changes["import"] == [None, job.pk]
    assert Lead.objects.filter(company_name="新客户甲").count() == 2

    job = preview(team.manager1, data)
    finish(team.manager1, job, duplicates="create_duplicates")
    assert Lead.objects.filter(company_name="杭州华星精密机械有限公司").count() == 2
    assert Lead.objects.filter(company_name="南方物流").count() == 1


def test_a_failure_in_the_write_leaves_nothing_behind(team, monkeypatch):
    from kehu.integrations.bulk import Inserter

    rule = AssignmentRule.objects.create(region="", user=team.rep1)
    rows = [[f"测试公司{i:04d}", f"联系人{i}", f"1390000{i:04d}", "", "浙江", "", "", ""] for i in range(2500)]
    job = preview(team.marketing1, _data(*rows))
    audits, events = AuditEntry.objects.count(), LeadEvent.objects.count()
    real = Inserter.insert

    def failing(self, rows):
        if self.model is AuditEntry:  # leads and events are written; the audit then fails
            raise RuntimeError("disk full")
        return real(self, rows)

    monkeypatch.setattr(Inserter, "insert", failing)
    job = finish(team.marketing1, job)
    assert job.status == ImportStatus.FAILED and "nothing was saved" in job.error
    assert not Lead.objects.exists()
    assert (AuditEntry.objects.count(), LeadEvent.objects.count()) == (audits, events)
    rule.refresh_from_db()
    assert rule.last_assigned_at is None
    with pytest.raises(ValidationError):
        import_job_start(job=job, actor=team.marketing1)


def test_a_lead_closed_between_preview_and_run_fails_the_whole_import(team, lead_of):
    mine = lead_of(team.rep1, "杭州华星精密机械有限公司", phone="13857112345")
    job = preview(
        team.manager1,
        _data(["华星", "", "13857112345", "", "", "", "", ""], ["新客户甲", "", "13900000001", "", "", "", "", ""]),
    )
    import_job_choose(job=job, actor=team.manager1, rows={"2": "update"})
    Lead.objects.filter(pk=mine.pk).update(status=LeadStatus.DISQUALIFIED)
    job = finish(team.manager1, job)
    assert job.status == ImportStatus.FAILED and "Row 2" in job.error
    assert not Lead.objects.filter(company_name="新客户甲").exists()


def test_lead_created_webhooks_fire_after_the_commit_for_each_new_lead(team, committed_events):
    from kehu.webhooks.models import WebhookSubscription

    def sent():
        return [(e.kind.webhook, e.webhook) for e in committed_events if e.webhook is not None]

    data = _data(["甲公司", "", "13900000001", "", "", "", "", ""], ["乙公司", "", "13900000002", "", "", "", "", ""])
    finish(team.marketing1, preview(team.marketing1, data))
    assert sent() == []  # nobody listens: nothing is queued
    WebhookSubscription.objects.create(url="https://example.com/hook", secret="s", events=["lead.created"])
    finish(team.marketing1, preview(team.marketing1, data, name="b.csv"), duplicates="create_duplicates")
    assert [e for e, _p in sent()] == ["lead.created", "lead.created"]
    assert {p["company_name"] for _e, p in sent()} == {"甲公司", "乙公司"} and all(
        p["source"] == "import" for _e, p in sent()
    )


def test_vcards_import_as_leads(team):
    from kehu.integrations.tests.conftest import fixture_file

    job = preview(team.marketing1, fixture_file("iphone-3.0.vcf"), name="cards.vcf")
    assert set(job.mapping.values()) <= {"company_name", "contact_name", "phone", "email", "region", "message"}
    job = finish(team.marketing1, job)
    assert job.status == ImportStatus.DONE and job.report["created"] >= 1


# ---- who may ------------------------------------------------------------------------------------


def test_only_roles_with_the_permission_import_leads(team):
    data = _data(["甲公司", "", "13900000001", "", "", "", "", ""])
    for user in (team.rep1, team.service1):
        with pytest.raises(PermissionDenied):
            import_job_create(actor=user, uploaded=upload("a.csv", data), target="leads")
    for user in (team.marketing1, team.manager1, team.gm):
        assert import_job_create(actor=user, uploaded=upload("a.csv", data), target="leads").target == "leads"
    with pytest.raises(ValidationError, match="what to import"):
        import_job_create(actor=team.manager1, uploaded=upload("a.csv", data), target="nonsense")
    job = preview(team.marketing1, data)
    with pytest.raises(PermissionDenied):
        import_job_start(job=job, actor=team.manager1)  # not their job
