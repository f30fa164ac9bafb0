"""Every form a rep, a manager and an administrator are shown, sent with hostile text in each of its
text fields (kehu/core/tests/payloads.py): no server error, and the answer, the page it leads to and
the page the form was on show the text as text — no element, handler, script or `javascript:` address
made of it, no template expression evaluated.

One company (the whole-site demo) serves the three people; each form is sent once, by the first of
them who is shown it, inside a transaction rolled back afterwards (one form's delete does not spoil
the next). A form the server refuses for one field (a phone, a code) is sent again with that field as
the page had it, so the other fields' text is stored and shown."""

import time

import pytest
from django.db import transaction
from django.test import Client

from kehu.core.tests.forms_found import reach, read_forms, route_of
from kehu.core.tests.payloads import PAYLOADS, markers_shown, markup_problems
from kehu.core.tests.test_payloads_in_filters import hostile_filters
from kehu.core.tests.tracebacks import own_frames
from kehu.core.tests.whole_site import Company

PEOPLE = ["rep1", "manager1", "admin"]
# A route read for one person is not read again for the next (the same views and templates; its SQL is
# met once): each person's own pages cost the suite a minute more (93 forms instead of 51).
SHARED_WALK = True


class Sender:
    def __init__(self, client, server_errors):
        self.client, self.server_errors = client, server_errors
        self.problems: list[str] = []
        self.pages = 0

    def read(self, path: str, why: str) -> str:
        response = self.client.get(path, follow=True)
        return self.look(response, f"GET {path} ({why})")

    def look(self, response, what: str) -> str:
        if response.status_code >= 500:
            cause = own_frames(self.server_errors[-1], last=3) if self.server_errors else ""
            self.problems.append(f"{response.status_code} {what}\n{cause}")
            return ""
        if not response.get("Content-Type", "").startswith("text/html"):
            return ""
        self.pages += 1
        html = response.content.decode()
        self.problems += [f"{what}: {p}" for p in markup_problems(html)]
        return html

    def send(self, form, shown_on: str, first_payload: int) -> set[str]:
        """The form with payloads, once more with the fields it refused as they were; the markers the
        pages afterwards show."""
        keep: frozenset[str] = frozenset()
        shown: set[str] = set()
        for _attempt in range(2):
            with transaction.atomic():
                response = self.client.post(form.action, form.data(payload_from=first_payload, keep=keep))
                what = f"POST {form.action} (form on {shown_on})"
                html = self.look(response, what)
                invalid = read_forms(html, form.action)[1] if response.status_code == 200 else set()
                if response.status_code in (301, 302, 303):
                    shown |= markers_shown(self.read(response["Location"], f"after {what}"))
                if response.status_code < 400 and not invalid and response.get("Location") != shown_on:
                    shown |= markers_shown(self.read(shown_on, f"after {what}"))
                transaction.set_rollback(True)
            if not invalid or invalid <= keep:
                return shown
            keep = frozenset(invalid)
        return shown


@pytest.mark.django_db
def test_hostile_text_in_every_form_and_filter_stays_text(settings, server_tracebacks):
    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 10_000
    company = Company()
    started = time.monotonic()
    done_routes: set[str] = set()
    fetched: set[str] = set()
    timings = []
    sent = fields = stored = 0
    problems = []
    pages = 0
    for username in PEOPLE:
        client = Client(raise_request_exception=False)
        client.force_login(company.users[username])
        sender = Sender(client, server_tracebacks)
        t = time.monotonic()
        found = reach(client, fetched=fetched if SHARED_WALK else set())
        timings.append(f"{username}: {len(found)} forms found in {time.monotonic() - t:.1f}s")
        t = time.monotonic()
        for action, (form, shown_on) in found.items():
            route = route_of(action)
            if route in done_routes or not form.text_fields:
                continue
            done_routes.add(route)
            shown = sender.send(form, shown_on, first_payload=sent * 3)
            sent += 1
            fields += len(form.text_fields)
            stored += bool(shown)
        timings.append(f"sent in {time.monotonic() - t:.1f}s")
        problems += sender.problems
        pages += sender.pages

    print(f"\n{sent} forms, {fields} text fields, {pages} pages read, {stored} showed their payloads afterwards,"
          f" {len(PAYLOADS)} payloads, {time.monotonic() - started:.1f}s", timings)  # fmt: skip
    # The filters of every list page, on the same company.
    problems += hostile_filters(company, server_tracebacks)
    assert not problems, "\n\n".join(problems)
    # The walk reached the forms that matter and their text was stored and shown again.
    assert sent >= 40, done_routes
    assert {"customers:customer-create", "customers:contact-create", "leads:lead-create"} <= done_routes
    assert stored >= 20
