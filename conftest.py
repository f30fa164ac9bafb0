"""Fixtures shared by every app's tests: settings for speed, a company with two sales teams."""

import os
import traceback

import pytest

from kehu.core.tests.fast import fast_settings
from kehu.core.tests.processes import shared_db  # noqa: F401 (real processes on the test database, to kill)
from kehu.core.tests.smtp import smtp  # noqa: F401 (a real SMTP server on loopback, for any test)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    for name, value in fast_settings().items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _search_index_emptied_after_a_committing_test(request, django_db_blocker):
    """A test that commits (transaction=True, a live server) is undone by deleting the rows of every
    model table; SQLite's full-text tables of the customer search are not model tables, so their rows
    would stay and collide with the customers a later test creates under the same ids."""
    yield
    marker = request.node.get_closest_marker("django_db")
    commits = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not commits and not {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    from django.db import connection

    from kehu.customers.search import BIGRAM_TABLE, TRIGRAM_TABLE

    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {TRIGRAM_TABLE}")
                cursor.execute(f"DELETE FROM {BIGRAM_TABLE}")


@pytest.fixture
def server_tracebacks():
    """The traceback of every exception Django turned into a 500 while the test ran."""
    from django.core.signals import got_request_exception

    found: list[str] = []

    def record(sender, request=None, **kwargs):
        found.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    yield found
    got_request_exception.disconnect(record)


class Team:
    """总公司 → 销售中心 → 华东销售部 (manager1: rep1, rep2) and 华南销售部 (manager2: rep3)."""

    def __init__(self):
        from kehu.users.models import User
        from kehu.users.roles import Role
        from kehu.users.services import department_create

        self.hq = department_create(name="总公司", parent=None, actor=None)
        self.sales = department_create(name="销售中心", parent=self.hq, actor=None)
        self.east = department_create(name="华东销售部", parent=self.sales, actor=None)
        self.south = department_create(name="华南销售部", parent=self.sales, actor=None)
        self.service_dept = department_create(name="客户服务部", parent=self.hq, actor=None)

        def user(username, role, department=None, manager=None, **extra):
            u = User(
                username=username,
                email=f"{username}@example.com",
                role=role,
                department=department,
                manager=manager,
                **extra,
            )
            u.set_password("kehu-test-pw")
            u.save()
            return u

        self.admin = user("admin", Role.ADMINISTRATOR, self.hq, is_superuser=True, is_staff=True)
        self.gm = user("gm", Role.GENERAL_MANAGER, self.hq)
        self.manager1 = user("manager1", Role.SALES_MANAGER, self.east)
        self.rep1 = user("rep1", Role.SALES_REP, self.east, self.manager1)
        self.rep2 = user("rep2", Role.SALES_REP, self.east, self.manager1)
        self.manager2 = user("manager2", Role.SALES_MANAGER, self.south)
        self.rep3 = user("rep3", Role.SALES_REP, self.south, self.manager2)
        self.service1 = user("service1", Role.SERVICE_MANAGER, self.service_dept)
        self.marketing1 = user("marketing1", Role.MARKETING, self.hq)


@pytest.fixture
def team(db):
    return Team()


@pytest.fixture
def customer_of(team):
    """Make a customer owned by a user, through the service (so search and timeline are filled)."""
    from kehu.customers.services import customer_create

    def make(owner, name="苏州华星精密机械有限公司", **fields):
        return customer_create(actor=owner, owner=owner, name=name, **fields)

    return make


@pytest.fixture
def api_client(client):
    """A test client that sends `Authorization: Bearer <token>` for a user: api_client(user)."""
    from kehu.users.services import api_token_create

    class ApiClient:
        def __init__(self, user=None):
            self.headers = {}
            if user is not None:
                _token, raw = api_token_create(user=user, name="test")
                self.headers = {"Authorization": f"Bearer {raw}"}

        def _call(self, method, path, data=None):
            kwargs = {"headers": self.headers}
            if data is not None:
                kwargs.update(data=data, content_type="application/json")
            return getattr(client, method)(path, **kwargs)

        def get(self, path):
            return self._call("get", path)

        def post(self, path, data=None):
            return self._call("post", path, data if data is not None else {})

        def patch(self, path, data=None):
            return self._call("patch", path, data if data is not None else {})

        def put(self, path, data=None):
            return self._call("put", path, data if data is not None else {})

        def delete(self, path):
            return self._call("delete", path)

    return ApiClient


@pytest.fixture
def committed_events(monkeypatch):
    """The events the event door handed to its after-commit sinks during the test (besides them)."""
    from kehu.core import events

    seen = []
    monkeypatch.setattr(events, "_after_commit", [*events._after_commit, seen.extend])
    return seen


@pytest.fixture
def company_gives_credit(db):
    """The company's default credit limits are generous here, so the real credit check (the receivables
    app answers it) passes these tests' orders; the credit tests set their own answer or limits."""
    from decimal import Decimal

    from kehu.classification.models import ClassificationSettings

    ClassificationSettings.objects.update_or_create(
        pk=1,
        defaults={
            "credit_limit_prospect": Decimal("100000000"),
            "credit_limit_ordinary": Decimal("100000000"),
            "credit_limit_key": Decimal("100000000"),
        },
    )
