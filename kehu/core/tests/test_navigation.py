"""The menu: sections by role, only links the user may open, the current section highlighted,
and one settings entry leading to a page of the administrative areas the user may open."""

import re

import pytest

from kehu.core.navigation import SECTIONS, SETTINGS, menu_for, section_of, settings_for

pytestmark = pytest.mark.django_db

ROLES = ["admin", "gm", "manager1", "rep1", "service1", "marketing1"]

# Everyone who sees service tickets (sellers log them for their customers) has the service section.
SECTIONS_OF = {
    "admin": ["customers", "sales", "products", "money", "service", "marketing", "analytics"],
    "gm": ["customers", "sales", "products", "money", "service", "marketing", "analytics"],
    "manager1": ["customers", "sales", "products", "money", "service", "marketing", "analytics"],
    "rep1": ["customers", "sales", "products", "money", "service"],
    "service1": ["customers", "products", "service"],
    "marketing1": ["customers", "sales", "products", "marketing"],
}
SETTINGS_OF = {
    "admin": [e.key for e in SETTINGS],
    "gm": ["pipelines", "classification-settings", "routes", "pricing", "credit", "contract-settings", "audit"],
    "manager1": ["routes"],
    "rep1": [],
    "service1": ["service-levels", "engineers", "service-mailbox"],
    "marketing1": [],
}


def _sections(html: str) -> list[str]:
    return re.findall(r'data-section="([a-z]+)"', html)


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_its_sections(client, team, username):
    client.force_login(getattr(team, username))
    html = client.get("/").content.decode()
    expected = SECTIONS_OF[username] + (["settings"] if SETTINGS_OF[username] else [])
    assert _sections(html) == expected


@pytest.mark.parametrize("username", ROLES)
def test_each_role_gets_its_settings_areas(team, username):
    assert [a["key"] for a in settings_for(getattr(team, username))] == SETTINGS_OF[username]


def test_activities_sit_under_sales_for_sellers_and_under_service_for_service_staff(team):
    def links(user, key):
        section = next((s for s in menu_for(user)["sections"] if s["key"] == key), None)
        return [link["key"] for link in section["links"]] if section else None

    assert links(team.service1, "service") == [
        "tickets",
        "complaints",
        "knowledge",
        "service-mail",
        "activities",
        "week",
        "tasks",
        "units",
        "visits",
        "returns",
        "quality",
    ]
    assert links(team.rep1, "service") == ["tickets", "complaints"]
    assert links(team.rep1, "sales")[-3:] == ["activities", "week", "tasks"]


def test_a_service_user_on_an_activity_page_sees_the_service_section_lit(client, team):
    client.force_login(team.service1)
    response = client.get("/activities/week/")
    assert response.context["menu"]["active"] == "service"
    assert re.search(r'<li class="nav-item dropdown active" data-section="service"', response.content.decode())


def test_a_section_without_entries_for_the_user_is_not_shown(team):
    from kehu.users.models import User

    nobody = User(username="x", role="no_such_role")
    assert menu_for(nobody)["sections"] == [] and menu_for(nobody)["settings"] is False
    assert {s.key for s in SECTIONS} == {"customers", "sales", "products", "money", "service", "marketing", "analytics"}


@pytest.mark.parametrize("username", ROLES)
def test_every_link_in_the_menu_and_on_the_settings_page_opens(client, team, username):
    """No link a role cannot open is rendered."""
    user = getattr(team, username)
    client.force_login(user)
    menu = menu_for(user)
    hrefs = [link["href"] for section in menu["sections"] for link in section["links"]]
    if menu["settings"]:
        hrefs.append(menu["settings_href"])
        hrefs += [area["href"] for area in settings_for(user)]
    assert hrefs
    for href in hrefs:
        assert client.get(href).status_code == 200, href


@pytest.mark.parametrize("username", ["rep1", "marketing1"])
def test_the_settings_page_is_refused_to_whom_has_no_area(client, team, username):
    client.force_login(getattr(team, username))
    assert client.get("/settings/").status_code == 403


def test_the_settings_page_needs_a_login(client, team):
    response = client.get("/settings/")
    assert (response.status_code, response.url.split("?")[0]) == (302, "/accounts/login/")


def test_the_settings_page_lists_the_areas_with_their_links(client, team):
    client.force_login(team.gm)
    html = client.get("/settings/").content.decode()
    assert re.findall(r'id="settings-([a-z-]+)"', html) == SETTINGS_OF["gm"]
    assert 'href="/sales/pipelines/"' in html and 'href="/accounts/users/"' not in html


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/", "home"),
        ("/customers/", "customers"),
        ("/customers/map/", "customers"),
        ("/pool/", "customers"),
        ("/transfer/", "customers"),
        ("/sales/", "sales"),
        ("/leads/", "sales"),
        ("/activities/week/", "sales"),
        ("/sales/forecast/", "analytics"),
        ("/classification/time/", "analytics"),
        ("/settings/", "settings"),
        ("/settings/mail/", "settings"),
        ("/accounts/users/", "settings"),
        ("/accounts/invitations/", "settings"),
        ("/pool/settings/", "settings"),
        ("/sales/pipelines/", "settings"),
        ("/leads/rules/", "settings"),
        ("/collection/calendar/", "settings"),
        ("/webhooks/", "settings"),
        ("/accounts/audit/", "settings"),
        ("/accounts/profile/", "account"),
        ("/catalog/", "products"),
        ("/catalog/price-lists/", "products"),
        ("/catalog/settings/", "settings"),
    ],
)
def test_the_current_section_is_highlighted(client, team, path, section):
    client.force_login(team.admin)
    response = client.get(path)
    assert response.status_code == 200
    assert response.context["menu"]["active"] == section
    html = response.content.decode()
    if section in ("customers", "sales", "analytics", "settings"):
        assert re.search(rf'<li class="nav-item[^"]* active"[^>]*data-section="{section}"', html), path
        assert len(re.findall(r'<li class="nav-item[^"]* active"', html)) == 1


def test_the_current_page_is_marked_in_its_dropdown(client, team):
    client.force_login(team.admin)
    html = client.get("/customers/map/").content.decode()
    assert re.search(r'class="dropdown-item active" href="/customers/map/" aria-current="page"', html)


def test_a_section_name_leads_to_its_first_page_without_javascript(client, team):
    client.force_login(team.rep1)
    html = client.get("/").content.decode()
    assert re.search(r'href="/customers/" id="menu-customers" data-bs-toggle="dropdown"', html)
    assert re.search(r'href="/leads/" id="menu-sales" data-bs-toggle="dropdown"', html)


def test_unknown_pages_belong_to_no_section():
    assert section_of("") == ""
    assert section_of("nothing:here") == ""
    assert section_of("pool:pool-edit") == "settings"
    assert section_of("workspace:customer-detail") == "customers"


def test_building_the_menu_reads_nothing_from_the_database(team, django_assert_num_queries):
    user = team.admin
    user.has_perm("customers.view_customer")  # roles are in code; nothing cached from the database either
    with django_assert_num_queries(0):
        menu_for(user, "sales:board")


def test_the_favicon_is_linked_and_served(client, team):
    client.force_login(team.rep1)
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/kehu/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert (response.status_code, response.url) == (301, "/static/kehu/favicon.ico")


def test_a_wide_page_asks_for_the_full_width(client, team):
    client.force_login(team.rep1)
    assert '<body class="layout-wide"' in client.get("/sales/").content.decode()
    assert '<body class="layout-fixed"' in client.get("/accounts/profile/").content.decode()


def test_the_menu_rendered_once_is_not_shown_to_another_role_page_or_language(client, team):
    """The menu's HTML is kept per distinct menu (kehu.core.templatetags.kehu.main_menu): one
    process serving a manager, a rep and both languages must still give each their own."""

    def menu_html(user, path, language="en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        html = client.get(path).content.decode()
        return html[html.index('id="main-menu"') : html.index("</ul>", html.index('id="main-menu"'))]

    manager = menu_html(team.manager1, "/customers/")
    assert menu_html(team.manager1, "/customers/") == manager
    assert "analytics" in _sections(manager) and 'class="dropdown-item active" href="/customers/"' in manager
    rep = menu_html(team.rep1, "/customers/")
    assert "analytics" not in _sections(rep) and "settings" not in _sections(rep)
    on_the_map = menu_html(team.manager1, "/customers/map/")
    assert 'class="dropdown-item active" href="/customers/map/"' in on_the_map
    assert 'class="dropdown-item active" href="/customers/"' not in on_the_map
    chinese = menu_html(team.manager1, "/customers/", "zh-hans")
    assert ">客户<" in chinese and ">Customers<" not in chinese
    assert ">Customers<" in manager
