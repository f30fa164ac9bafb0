"""No value in an address makes a page or an API endpoint answer with a server error.

Every URL pattern of the site (config.urls, the API included) is requested with GET by each demo
role (on PostgreSQL one role of each data scope) and by an anonymous visitor. Path ids point at real
records of a small demo company, or at ids that do not exist; the query string carries
hypothesis-generated values — out-of-range dates (9999-12-31, 0001-01-01, 2026-02-30), pages (0, -1,
10**20, "x"), years, ids, choices, long and odd text — under every name the page's module reads
(found by scanning its source) and under common names (page, week, date, year …). The API's names
come from its OpenAPI schema; schemathesis (kehu/api/tests/test_schemathesis.py) fuzzes the API's
bodies besides. Each area of the site is its own test, so the areas spread over the test workers; the
demo company is built once per module and test worker (whole_site.whole_company), each test's
changes rolled back.
"""

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kehu.core.tests.tracebacks import own_frames
from kehu.core.tests.whole_site import (
    ON_SQLITE,
    PAGE_WORDS,
    ROLES,
    all_routes,
    clients,
    id_kind,
    post_names_read_by,
    query_names_read_by,
    real_path_values,
)

# The SQLite run explores each route deeper; the PostgreSQL run sends the sweep values the database
# itself judges and one generated example, and reads the plain page as one role of each data scope
# (everything, a department tree, one's own) and anonymously.
EXAMPLES_PER_ROUTE = 3 if ON_SQLITE else 1
PLAIN_ROLES = [None, *ROLES] if ON_SQLITE else [None, "admin", "manager1", "rep1"]
COMMON_NAMES = [
    "page", "week", "date", "day", "year", "month", "start", "end", "from", "to", "q", "sort", "order",
    "owner", "stage", "tier", "region", "status", "pipeline", "limit", "offset", "cursor", "next", "before",
    "user", "customer", "id", "kind", "format", "show", "step", "team", "target",
]  # fmt: skip
EDGES = [
    "", " ", "0", "-1", "1", "2", "00", "x", "abc", "null", "true", "on", "١٢", "1_0", "1.5", "1e309", "NaN",
    "-0", str(2**31), str(2**53), str(2**53 + 1), str(2**63), str(-(2**63)), str(10**20), "9" * 400,
    "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "2026-00-10", "1899-12-31", "1900-01-01",
    "2999-12-31", "3000-01-01", "2026-03-09", "2026-W10", "2026-03", "9999-12", "0000-00", "+2026-03-09",
    "2026-03-09T25:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00", "2026-03-09T10:00:00+08:00_1",
    "0001-01-01T00:00_1", "x_1", "_", "-name", "name", "-", "asc", "desc", "%", "\x00", "\x1f", "<script>",
    "'", '"', "..", "/", "//evil.example", "https://evil.example/", "x" * 5000, "客户", "1,2", "[1]",
]  # fmt: skip
# Sent under every name at once, once per route, before the generated examples.
SWEEP = [
    "9999-12-31", "0001-01-01", "2026-02-30", "abc", "0", "-1", str(10**20), "1e309", "\x00", "x" * 5000,
    "0001-01-01T00:00_1", "9999-12",
]  # fmt: skip
# What reaches PostgreSQL differently from SQLite (a NUL byte, a number past bigint, a year at the ends
# of the calendar, text past a column's length); the rest is parsed by the same Python on both.
DATABASE_SWEEP = ["9999-12-31", "0001-01-01", "-1", str(10**20), "\x00", "x" * 5000]
if not ON_SQLITE:
    SWEEP = DATABASE_SWEEP
HUGE_IDS = [0, 1, 2**31, 2**53, 2**53 + 1, 2**63, 10**20]


def values(real_ids: list[str]):
    return st.one_of(
        st.sampled_from(EDGES + real_ids),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(lambda d: d.isoformat()),
        st.text(max_size=30),
    )


def query_strategy(names: list[str], real_ids: list[str]):
    one = values(real_ids)
    return st.dictionaries(
        st.sampled_from(names), st.one_of(one, st.lists(one, min_size=2, max_size=3)), max_size=min(len(names), 12)
    )


def path_strategy(route, ids: dict):
    """Values for the path's parameters: mostly the records that exist, else ids that do not."""
    fields = {}
    for kind, name in route.path_parameters:
        record = id_kind(route, name)
        if record is not None and kind == "str" and not route.is_api:  # a secret token
            fields[name] = st.sampled_from([ids[record], ids[record], "x", "0" * 300])
        elif record is not None:
            real = ids[record]
            choices = st.sampled_from([real, real, real, *HUGE_IDS])
            if kind != "int":  # the API's ids are plain path segments: any text reaches the view
                choices = st.one_of(choices, st.sampled_from(["x", "-1", "1.5", "%20", "1e3"]))
            fields[name] = choices
        elif (route.name, name) in PAGE_WORDS:
            fields[name] = st.sampled_from([*PAGE_WORDS[(route.name, name)], "x", "tier"])
        elif kind == "int":
            fields[name] = st.sampled_from(HUGE_IDS)
        else:
            fields[name] = st.text(alphabet=st.characters(blacklist_characters="/?#%"), min_size=1, max_size=80)
    return st.fixed_dictionaries(fields)


def _api_query_names() -> dict[str, list[str]]:
    """OpenAPI path ("/api/v1/customers/{customer_id}") → the names of its GET query parameters."""
    from kehu.api.urls import api

    schema = api.get_openapi_schema()
    return {
        path: [p["name"] for p in ops["get"].get("parameters", []) if p.get("in") == "query"]
        for path, ops in schema["paths"].items()
        if "get" in ops
    }


def _openapi_path(route) -> str:
    import re

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.template)


class Recorder:
    """Sends requests as the roles, remembers each distinct server error (with the shortest request
    that caused it) and the statuses each route answered."""

    def __init__(self, by_role, server_errors):
        self.by_role, self.server_errors = by_role, server_errors
        self.failures: dict[tuple[str, str], str] = {}
        self.statuses: dict[str, set[int]] = {}

    def send(self, route, method: str, url: str, data: dict, who) -> None:
        seen = len(self.server_errors)
        response = getattr(self.by_role[who], method)(url, data)
        self.statuses.setdefault(route.template, set()).add(response.status_code)
        if response.status_code >= 500:
            cause = own_frames(self.server_errors[seen], last=4) if len(self.server_errors) > seen else "(no traceback)"
            key = (route.template, cause.splitlines()[-1])
            request = f"{method.upper()} {url} {_short(data)} as {who}"
            if key not in self.failures or len(request) < len(self.failures[key].splitlines()[0]):
                self.failures[key] = f"{request}\n{cause}"

    def report(self, area: str) -> str:
        return f"{len(self.failures)} distinct server error(s) in {area}:\n\n" + "\n\n".join(
            f"{template}\n{detail}" for (template, _e), detail in self.failures.items()
        )


def _short(data: dict) -> str:
    values = set(map(repr, data.values()))
    if len(data) > 3 and len(values) == 1:  # the sweep: one value under every name
        return f"{{every name: {values.pop()[:60]}}}"
    return repr({k: (v[:60] if isinstance(v, str) else v) for k, v in data.items()})


def get_sweep(route, names: list[str], ids: dict, real_ids: list[str], recorder: Recorder) -> None:
    """The plain page as each role (PLAIN_ROLES); every sweep value under every name; then generated
    examples."""
    real_path = route.path(real_path_values(route, ids))
    for who in PLAIN_ROLES:
        recorder.send(route, "get", real_path, dict(PLAIN_QUERY.get(route.template, {})), who)
    if route.template in NO_PARAMETERS:
        return
    for i, value in enumerate(SWEEP):
        recorder.send(route, "get", real_path, dict.fromkeys(names, value), ROLES[i % len(ROLES)])

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(path=path_strategy(route, ids), query=query_strategy(names, real_ids), who=st.sampled_from([None, *ROLES]))
    def check(path, query, who):
        recorder.send(route, "get", route.path(path), query, who)

    check()


def post_sweep(route, ids: dict, recorder: Recorder) -> None:
    """Every sweep value under every name the page's module reads from a POST outside its forms."""
    names = sorted(post_names_read_by(route) | {"next", "version", "ids", "id", "delete", "confirm"})
    real_path = route.path(real_path_values(route, ids))
    for i, value in enumerate(SWEEP):
        recorder.send(route, "post", real_path, dict.fromkeys(names, value), ROLES[i % len(ROLES)])


# What a page needs in its address to answer at all.
PLAIN_QUERY = {"api/v1/sales/forecast": {"year": "2026"}, "api/v1/catalog/specifications": {"q": "CK"}}
# The API's own description reads no parameters (and takes a while to build).
NO_PARAMETERS = {"api/v1/openapi.json", "api/v1/docs"}
# The API's root has no page of its own.
NEVER_REACHED = {"api/v1/"}
ROUTES = all_routes()
AREAS = sorted({r.area for r in ROUTES})


def test_every_route_with_an_id_knows_which_record_it_names():
    missing = [
        (r.template, name)
        for r in ROUTES
        for kind, name in r.path_parameters
        if id_kind(r, name) is None
        and (r.name, name) not in PAGE_WORDS
        and not r.name.startswith(("password_reset", "users:invitation"))
    ]
    assert not missing, missing
    assert len(AREAS) > 20, AREAS  # the pages' areas and the API's


@pytest.mark.django_db
@pytest.mark.parametrize("area", AREAS)
def test_no_address_makes_a_server_error(area, server_tracebacks, whole_company):
    company = whole_company
    real_ids = [str(v) for v in company.ids.values()]
    routes = [r for r in ROUTES if r.area == area]
    api_names = _api_query_names()
    recorder = Recorder(clients(company, api=area.startswith("api/")), server_tracebacks)
    for route in routes:
        if route.is_api:
            names = sorted(set(api_names.get(_openapi_path(route), [])) | {"limit", "offset", "q", "year", "date"})
        else:
            names = sorted(query_names_read_by(route) | set(COMMON_NAMES))
        get_sweep(route, names, company.ids, real_ids, recorder)
    # Posts last: they may delete the records the pages above show.
    for route in routes:
        if not route.is_api:
            post_sweep(route, company.ids, recorder)

    assert not recorder.failures, recorder.report(area)
    # Every page that answers GET was reached by some role, not only refused (405: POST only).
    unreached = {t: sorted(c) for t, c in recorder.statuses.items() if not any(x < 400 or x == 405 for x in c)}
    assert not unreached.keys() - NEVER_REACHED, unreached
