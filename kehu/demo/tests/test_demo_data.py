from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory, TestCase, override_settings

from kehu.activities.models import Activity
from kehu.core.tests.fast import fast_settings
from kehu.customers.models import Contact, Customer, TimelineEntry
from kehu.customers.search import search_candidates, search_text_for
from kehu.customers.services import credit_code_is_valid
from kehu.users.models import CompanySettings, User
from kehu.users.roles import Role


def load(**options) -> str:
    out = StringIO()
    call_command("demo_data", customers=60, seed=7, stdout=out, **options)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (User, Customer, Contact, Activity, TimelineEntry))


# The load runs before the tests' own fixtures: the settings the conftest gives them, given here.
@override_settings(**fast_settings())
class TestTheLoadedDemo(TestCase):
    """What one load of the demo gives; each test runs in its own savepoint over the same load (loading
    is seconds, the checks milliseconds)."""

    @classmethod
    def setUpTestData(cls):
        load()

    def test_creates_the_staff_with_roles_departments_and_managers(self):
        users = {u.username: u for u in User.objects.select_related("department", "manager")}
        expected = {
            "admin": (Role.ADMINISTRATOR, "总公司", None),
            "gm": (Role.GENERAL_MANAGER, "总公司", None),
            "manager1": (Role.SALES_MANAGER, "华东销售部", "gm"),
            "rep1": (Role.SALES_REP, "华东销售部", "manager1"),
            "rep2": (Role.SALES_REP, "华东销售部", "manager1"),
            "manager2": (Role.SALES_MANAGER, "华南销售部", "gm"),
            "rep3": (Role.SALES_REP, "华南销售部", "manager2"),
            "service1": (Role.SERVICE_MANAGER, "客户服务部", "gm"),
            "service2": (Role.CUSTOMER_REP, "客户服务部", "service1"),
            "aftersales1": (Role.AFTER_SALES, "客户服务部", "service1"),  # returns (kehu.demo.returns_demo)
            "quality1": (Role.SERVICE_QUALITY, "客户服务部", "service1"),
            "complaint1": (
                Role.COMPLAINT_SPECIALIST,
                "客户服务部",
                "service1",
            ),  # complaints (kehu.demo.complaints_demo)
            "marketing1": (Role.MARKETING, "市场部", "gm"),
            "finance1": (Role.FINANCE, "财务部", "gm"),
            **{f"engineer{i}": (Role.SERVICE_ENGINEER, "客户服务部", "service1") for i in (1, 2, 3)},
        }
        assert set(users) == set(expected)
        for login, (role, department, manager) in expected.items():
            user = users[login]
            assert (user.role, user.department.name, user.manager.username if user.manager else None) == (
                role,
                department,
                manager,
            ), login
            assert user.email == f"{login}@example.com"
            assert user.last_name and user.first_name
        assert users["admin"].is_superuser and users["admin"].is_staff
        assert not users["rep1"].is_superuser
        # The sales departments hang under 销售中心 so "department and sub-departments" is a prefix.
        assert users["rep1"].department.path.startswith(users["manager1"].department.parent.path)
        company = CompanySettings.objects.get(pk=1)
        assert company.is_set_up and company.company_name

    def test_every_login_works_with_the_demo_password(self):
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username="rep1", password="kehu-demo") == User.objects.get(username="rep1")
        assert authenticate(request, username="rep1", password="wrong") is None

    def test_each_rep_owns_customers(self):
        for login in ("rep1", "rep2", "rep3"):
            rep = User.objects.get(username=login)
            assert Customer.objects.filter(owner=rep).exists(), login

    def test_rows_are_consistent(self):
        assert Customer.objects.count() == 60
        assert Contact.objects.count() > 0 and Activity.objects.count() > 0
        for customer in Customer.objects.all():
            assert customer.search_text == search_text_for(customer, customer.contacts.order_by("pk"))
            assert customer.credit_code == "" or credit_code_is_valid(customer.credit_code), customer.credit_code
            assert customer.version == 1 and customer.deleted_at is None
            assert customer.created_at <= customer.updated_at
        assert TimelineEntry.objects.filter(kind="customer_created").count() == 60
        # Visit plans land on the timeline only once logged; every other activity has its line.
        for activity in Activity.objects.exclude(planned_for__isnull=False, is_done=False).order_by("pk")[:50]:
            entry = TimelineEntry.objects.get(
                subject_type="activities.activity", subject_id=activity.pk, kind=activity.kind
            )
            assert (entry.customer_id, entry.occurred_at, entry.actor_id, entry.summary) == (
                activity.customer_id,
                activity.occurred_at,
                activity.owner_id,
                activity.subject,
            )
            assert entry.payload["content"] == activity.content[:500]

    def test_search_finds_a_customer_by_chinese_substrings_of_its_name(self):
        customer = Customer.objects.filter(kind="company").order_by("pk").first()
        # "苏州华星精密机械有限公司": skip the city, take the trade name.
        city = len(customer.city)
        for term in (customer.name[city : city + 2], customer.name[city : city + 3]):
            assert Customer.objects.filter(search_candidates(term)[0], pk=customer.pk).exists(), term
        contact = customer.contacts.first()
        assert Customer.objects.filter(search_candidates(contact.name)[0], pk=customer.pk).exists()

    def test_if_empty_leaves_loaded_data_alone(self):
        before = counts()
        out = load(if_empty=True)
        assert "no demo data loaded" in out
        assert counts() == before

    def test_refuses_to_load_twice_without_if_empty(self):
        before = counts()
        with pytest.raises(CommandError):
            load()
        assert counts() == before

    def test_rows_created_after_the_load_get_fresh_ids(self):
        last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
        assert Customer.objects.create(name="后来的客户").pk > last
        assert TimelineEntry.objects.create(customer_id=last, kind="note").pk > TimelineEntry.objects.count() - 1


@pytest.mark.django_db
def test_heavy_timeline_customer_gets_the_extra_entries():
    out = load(heavy_timeline=200)
    heavy_id = int(out.split("heavy timeline customer: ")[1].split()[0])
    heavy = Customer.objects.get(pk=heavy_id)
    assert heavy.owner.username == "rep1"
    assert TimelineEntry.objects.filter(customer=heavy).count() > 200


@pytest.mark.django_db
def test_never_loads_next_to_a_real_company(team):
    """An installation that was set up by hand (any user exists) gets no demo data, even with --if-empty."""
    before = counts()
    load(if_empty=True)
    assert counts() == before
    with pytest.raises(CommandError):
        load()
