"""A lead's history says what happened in the reader's language: statuses, the source and the
changed fields as labels, never the codes they are stored as."""

import importlib

import pytest
from django.urls import reverse
from django.utils import translation

from kehu.integrations.services import import_job_create, import_job_set_mapping, import_job_start
from kehu.integrations.tests.conftest import csv_bytes, upload
from kehu.leads.models import Lead, LeadEvent
from kehu.leads.services import lead_respond, lead_transition, lead_update

pytestmark = pytest.mark.django_db

CODES = ("new → contacted", "contacted → qualified", "trade_show", ">phone", "phone, region", "web_inquiry")


def history(client, user, lead, language) -> str:
    user.language = language
    user.save()
    client.force_login(user)
    page = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    return page.split('id="lead-history"')[1].split("</ul>")[0]


@pytest.fixture
def worked_lead(team, lead_of):
    lead = lead_of(team.rep1, source="trade_show")
    lead = lead_update(lead=lead, actor=team.rep1, expected_version=lead.version, phone="13900000001", region="浙江")
    lead = lead_respond(lead=lead, actor=team.rep1, note="已电话联系")
    return lead_transition(lead=Lead.objects.get(pk=lead.pk), actor=team.rep1, to_status="qualified")


def test_the_history_is_in_chinese_for_a_chinese_reader(client, team, worked_lead):
    text = history(client, team.rep1, worked_lead, "zh-hans")
    assert "线索已创建：展会" in text
    assert "线索已修改：电话、经营属地" in text
    assert "状态已变更：新建 → 已联系" in text and "状态已变更：已联系 → 合格" in text
    assert "备注：已电话联系" in text
    for code in CODES:
        assert code not in text, code


def test_the_same_history_is_in_english_for_an_english_reader(client, team, worked_lead):
    text = history(client, team.rep1, worked_lead, "en")
    assert "Lead created: Trade show" in text
    assert "Lead changed: phone, region" in text
    assert "Status changed: New → Contacted" in text and "Status changed: Contacted → Qualified" in text
    assert "展会" not in text and "new → contacted" not in text


def test_an_imported_lead_names_its_file_in_the_readers_words(client, team, settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"
    from django.test import TestCase

    from kehu.integrations.models import ImportJob

    data = csv_bytes([["公司名称", "手机"], ["温州瓯江阀门", "13900000001"]])
    job = import_job_create(actor=team.manager1, uploaded=upload("展会名单.csv", data), target="leads")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=team.manager1, mapping=job.mapping)
    job = ImportJob.objects.get(pk=job.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_start(job=job, actor=team.manager1)
    lead = Lead.objects.get(company_name="温州瓯江阀门")
    created = LeadEvent.objects.get(lead=lead, kind="created")
    assert created.data == {"source": "import", "file": "展会名单.csv"} and created.summary == ""
    assert "线索已创建：导入 · 从 展会名单.csv 导入" in history(client, team.manager1, lead, "zh-hans")
    assert "Lead created: Import · imported from 展会名单.csv" in history(client, team.manager1, lead, "en")


def test_history_written_before_the_codes_moved_is_read_back():
    migration = importlib.import_module("kehu.leads.migrations.0006_event_data")
    labels, imported = migration._labels()
    parse = migration._parse
    assert parse("status", "new → contacted", labels, imported) == {"from": "new", "to": "contacted"}
    assert parse("status", "new → 已联系", labels, imported) is None
    assert parse("changed", "phone, region", labels, imported) == {"fields": ["phone", "region"]}
    assert parse("changed", "电话", labels, imported) is None
    assert parse("created", "展会", labels, imported) == {"source": "trade_show"}
    assert parse("created", "Web inquiry", labels, imported) == {"source": "web_inquiry"}
    assert parse("created", "导入 · 从 名单.xlsx 导入", labels, imported) == {"source": "import", "file": "名单.xlsx"}
    assert parse("created", "Import · Imported from a.csv", labels, imported) == {"source": "import", "file": "a.csv"}
    assert parse("created", "随便写的", labels, imported) is None
    assert parse("note", "new → contacted", labels, imported) is None
    assert translation.get_language() == "en"  # reading the labels left the language alone
