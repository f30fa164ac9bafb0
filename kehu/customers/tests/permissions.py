"""Helpers for the permission-matrix tests of the HTML views (customers, activities, workspace, users).

`World` is one customer of rep1 with a contact, a level-3 fact, a visit and an open commitment.
`db_state` captures every row a view of the matrix could touch, so a denied write can be
checked for "nothing changed".
"""

from dataclasses import dataclass
from datetime import date

import pytest

LOGIN = "login"  # expected "status": a redirect to the sign-in page
OK_GET, OK_POST = 200, 302
OWNER_PHONE = "13812345678"


@dataclass
class World:
    team: object
    customer: object
    contact: object
    fact: object
    visit: object
    commitment: object


def build_world(team) -> World:
    from kehu.activities.services import activity_log
    from kehu.customers.services import contact_create, customer_create, fact_create

    rep1 = team.rep1
    customer = customer_create(actor=rep1, owner=rep1, name="苏州华星精密机械有限公司", phone=OWNER_PHONE)
    contact = contact_create(customer=customer, actor=rep1, name="张伟", mobile="13900001111", hobbies="钓鱼和围棋")
    fact = fact_create(customer=customer, actor=rep1, level=3, title="明年扩产预算", content="预算约两千万")
    visit = activity_log(customer=customer, actor=rep1, kind="visit", subject="拜访采购部")
    commitment = activity_log(
        customer=customer, actor=rep1, kind="commitment", subject="周五前报价", due_on=date(2030, 1, 10)
    )
    customer.refresh_from_db()
    contact.refresh_from_db()
    return World(team, customer, contact, fact, visit, commitment)


def act_as(client, team, actor: str) -> None:
    """Sign the test client in as `actor` (a Team attribute name), or leave it anonymous."""
    if actor != "anonymous":
        client.force_login(getattr(team, actor))


def db_state() -> dict:
    """Every row of every table a customer/contact/fact/activity view writes to."""
    from kehu.activities.models import Activity
    from kehu.core.models import AuditEntry
    from kehu.customers.models import Contact, Customer, CustomerFact, TimelineEntry
    from kehu.users.models import ApiToken, CompanySettings, Department, Invitation, User

    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {
        "customers": rows(Customer),
        "contacts": rows(Contact),
        "facts": rows(CustomerFact),
        "activities": rows(Activity),
        "timeline": TimelineEntry.objects.count(),
        "audit": AuditEntry.objects.count(),
        "users": rows(User),
        "departments": rows(Department),
        "invitations": Invitation.objects.count(),
        "tokens": rows(ApiToken),
        "company": rows(CompanySettings),
    }


def assert_status(response, expected) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    else:
        assert response.status_code == expected, response.content.decode()[:2000]
        if expected == 302:
            assert not response.url.startswith("/accounts/login/")


def matrix(views: dict) -> list:
    """Flatten {view: {actor: expected}} into pytest params with readable ids."""
    return [
        pytest.param(view, actor, expected, id=f"{view}-{actor}")
        for view, table in views.items()
        for actor, expected in table.items()
    ]


def writes(views_expected: dict, views: dict) -> tuple[list, list]:
    """The POST views of a matrix, split into denied (view, actor, expected) and allowed (view, actor) params."""
    posts = [(v, a, e) for v, table in views_expected.items() if views[v][0] == "post" for a, e in table.items()]
    denied = [pytest.param(v, a, e, id=f"{v}-{a}") for v, a, e in posts if e != 302]
    allowed = [pytest.param(v, a, id=f"{v}-{a}") for v, a, e in posts if e == 302]
    return denied, allowed
