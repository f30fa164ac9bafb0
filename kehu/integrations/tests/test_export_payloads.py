"""Customers named with the corpus's formula payloads (kehu/core/tests/payloads.py), created through
the API: the name is stored as sent, the CSV export quotes it with one apostrophe (OWASP's advice) and
the .xlsx export holds it as a text cell, exactly as stored."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kehu.core.tests.payloads import FORMULAS

from .test_export_hazards import _body, _rows

pytestmark = pytest.mark.django_db
EXPORT = reverse("integrations:export-customers")


@pytest.fixture
def named(team, api_client):
    rep = api_client(team.rep1)
    names = [p.text for p in FORMULAS]
    for name in names:
        response = rep.post("/api/v1/customers/", {"name": name, "allow_duplicate": True})
        assert response.status_code == 201, response.content
        assert response.json()["name"] == name
    return names


def test_formula_names_are_quoted_in_csv_and_text_in_xlsx(client, team, named):
    client.force_login(team.manager1)
    csv_names = [row["Customer name"] for row in _rows(_body(client.get(EXPORT + "?format=csv")))]
    assert sorted(csv_names) == sorted("'" + name for name in named)
    sheet = load_workbook(io.BytesIO(_body(client.get(EXPORT + "?format=xlsx")))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(named)
    assert {(c.data_type, c.number_format) for c in cells} == {("s", "@")}
