"""Hostile text in the filters and searches of every list page: no server error, no header made of
it, the value shown back in the filter only as text (`hostile_filters`, run by the forms test on its
company), and a search treats it as text — `' OR 1=1--` finds nothing rather than
everything, `%`, `_` and `\\` find only what holds that very character."""

import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from kehu.core.tests.forms_found import FILE_ROUTES
from kehu.core.tests.payloads import PAYLOADS, markup_problems
from kehu.core.tests.tracebacks import own_frames
from kehu.core.tests.whole_site import all_routes, query_names_read_by

# Pages without a record in their address: the lists, reports and boards with their filters.
LIST_ROUTES = [
    r
    for r in all_routes()
    if not r.is_api and not r.path_parameters and not any(word in r.name for word in FILE_ROUTES)
]


def hostile_filters(company, server_tracebacks) -> list[str]:
    """Every list page with a payload under each name it reads, as the administrator and (every other
    page) as a rep: what went wrong. Run on the forms test's company (test_payloads_in_forms.py),
    which saves building a second one."""
    started = time.monotonic()
    admin, rep = Client(raise_request_exception=False), Client(raise_request_exception=False)
    admin.force_login(company.users["admin"])
    rep.force_login(company.users["rep1"])
    problems, slots, pages = [], 0, 0
    for index, route in enumerate(LIST_ROUTES):
        names = sorted(query_names_read_by(route) | {"q"})
        # Each name its own payload; the next page starts one further, so every payload meets every kind of filter.
        query = {name: PAYLOADS[(index + i) % len(PAYLOADS)].text for i, name in enumerate(names)}
        for who, client in (("admin", admin), ("rep1", rep)) if index % 2 else (("admin", admin),):
            seen = len(server_tracebacks)
            response = client.get(route.path({}), query)
            slots += len(names)
            # Header injection: no header or cookie of ours (kxp20=1, X-Kxp20) made it into the answer.
            if any("kxp" in name.lower() for name in response.headers) or any("kxp" in c for c in response.cookies):
                problems.append(f"GET /{route.template} as {who}: headers {dict(response.headers)}")
            if response.status_code >= 500:
                cause = own_frames(server_tracebacks[seen], last=3) if len(server_tracebacks) > seen else ""
                problems.append(f"{response.status_code} GET /{route.template} as {who}\n{cause}")
            elif response.get("Content-Type", "").startswith("text/html"):
                pages += 1
                problems += [f"GET /{route.template} as {who}: {p}" for p in markup_problems(response.content.decode())]
    print(
        f"\n{len(LIST_ROUTES)} list pages, {slots} filter values, {pages} pages read, {time.monotonic() - started:.1f}s"
    )
    assert len(LIST_ROUTES) > 100 and pages > 100
    return problems


# Names holding the characters SQL gives a meaning to, and one that holds none.
NAMES = {
    "percent": "百分%号机械",
    "underscore": "下划_线电子",
    "backslash": "反斜\\杠化工",
    "quote": "O'Brien 贸易",
    "plain": "普通五金",
}
# A search → which of the names it finds (nothing for an injection: it is text no name holds).
SEARCHES = {
    "%": {"percent"},
    "_": {"underscore"},
    "\\": {"backslash"},
    "'": {"quote"},
    "' OR 1=1--": set(),
    "' OR '1'='1": set(),
    "%' OR 1=1 OR name LIKE '%": set(),
    "x%' UNION SELECT username FROM users_user--": set(),
    "\\%": set(),
}


@pytest.fixture
def searchable(team):
    from kehu.leads.services import lead_create
    from kehu.sales.services import opportunity_create

    made = {}
    for key, name in NAMES.items():
        customer = _customer(team, name)
        lead = lead_create(actor=team.rep1, owner=team.rep1, company_name=name, phone="13800000000")
        deal = opportunity_create(customer=customer, actor=team.rep1, name=name)
        made[key] = {"customer": customer.pk, "lead": lead.pk, "deal": deal.pk}
    return made


def _customer(team, name):
    from kehu.customers.services import customer_create

    return customer_create(actor=team.rep1, owner=team.rep1, name=name)


LISTS = [
    ("/customers/", "/api/v1/customers/", "customer"),
    ("/leads/", "/api/v1/leads", "lead"),
    ("/sales/opportunities/", "/api/v1/sales/opportunities", "deal"),
]


@pytest.mark.parametrize(("list_page", "api", "kind"), LISTS, ids=[kind for _p, _a, kind in LISTS])
def test_a_search_treats_sql_and_wildcards_as_text(client, api_client, team, searchable, list_page, api, kind):
    client.force_login(team.rep1)
    rep_api = api_client(team.rep1)
    ids = {key: records[kind] for key, records in searchable.items()}
    for term, expected in SEARCHES.items():
        found_api = {item["id"] for item in rep_api.get(f"{api}?{urlencode({'q': term})}").json()["items"]}
        assert found_api == {ids[key] for key in expected}, (api, term)
        response = client.get(list_page, {"q": term})
        assert response.status_code == 200
        html = response.content.decode()
        shown = {key for key, name in NAMES.items() if _escaped(name) in html}
        assert shown == expected, (list_page, term)
        assert f'value="{_escaped(term)}"' in html  # the search box holds the term, as text
        assert not markup_problems(html)


def _escaped(text: str) -> str:
    from django.utils.html import escape

    return escape(text)
