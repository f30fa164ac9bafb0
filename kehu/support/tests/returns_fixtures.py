"""Fixtures of the returns, quality and economics tests (imported by those modules): an after-sales
specialist and a quality specialist, rep1's customer with a delivered order."""

from decimal import Decimal

import pytest


def _user(username, role, department):
    from kehu.users.models import User

    user = User(username=username, email=f"{username}@example.com", role=role, department=department)
    user.set_password("kehu-test-pw")
    user.save()
    return user


@pytest.fixture
def aftersales(team):
    from kehu.users.roles import Role

    return _user("aftersales1", Role.AFTER_SALES, team.service_dept)


@pytest.fixture
def quality(team):
    from kehu.users.roles import Role

    return _user("quality1", Role.SERVICE_QUALITY, team.service_dept)


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="苏州华星精密机械有限公司")


def delivered_order(book, customer, rep, lines, delivered=None):
    """A confirmed order of `customer` by `rep` with [(specification, quantity)], delivered in full
    (or `delivered` [(index, quantity)])."""
    from kehu.orders.services import delivery_record
    from kehu.orders.tests.factories import confirm, make_order

    order = confirm(make_order(customer, rep, [(spec.pk, qty) for spec, qty in lines]), rep)
    order_lines = list(order.lines.order_by("position"))
    wanted = delivered if delivered is not None else list(enumerate(qty for _s, qty in lines))
    if wanted:
        delivery_record(order=order, actor=rep, lines=[(order_lines[i].pk, Decimal(str(q))) for i, q in wanted])
    order.refresh_from_db()
    return order


@pytest.fixture
def order(book, customer, team, company_gives_credit):
    """rep1's order: 10 × CK6140-A lathes (113.00 each with tax) delivered 8; 2 barrels of oil, delivered."""
    return delivered_order(book, customer, team.rep1, [(book.lathe_a, 10), (book.oil_46, 2)], [(0, 8), (1, 2)])


@pytest.fixture
def lathe_line(order):
    return order.lines.get(code="CK6140-A")


def site_records(users: dict, customer) -> dict:
    """For the whole-site and API fuzzing tests: an RMA received back (with its stock note) on a
    delivered line of `customer`, an inspection, an improvement action and a daily report.
    `users` names at least "service1" (the service manager) and "rep1" (the customer's rep)."""
    from datetime import timedelta

    from django.utils import timezone

    from kehu.approvals.services import open_request, request_act
    from kehu.catalog.models import Product, Specification
    from kehu.orders.models import Order, OrderState
    from kehu.orders.services import order_create
    from kehu.support import quality_report, quality_services, rma_services
    from kehu.support.models import DefectType

    product = Product.objects.filter(code="RT-UNIT").first() or Product.objects.create(
        code="RT-UNIT", name="退货测试机", unit="台", tax_rate=13
    )
    spec = Specification.objects.get_or_create(product=product, code="RT-UNIT-A", defaults={"name": "A"})[0]
    from datetime import date

    from kehu.catalog.models import PriceItem, PriceList, PriceListKind

    price_list = PriceList.objects.filter(kind=PriceListKind.LIST).order_by("pk").first()
    if price_list is None:
        price_list = PriceList.objects.create(name="目录价", kind=PriceListKind.LIST, valid_from=date(2020, 1, 1))
    if not PriceItem.objects.filter(price_list=price_list, product=product).exists():
        PriceItem.objects.create(price_list=price_list, product=product, price=Decimal("100"))
    order = order_create(customer=customer, actor=users["rep1"], lines=[(spec.pk, 5)])
    Order.objects.filter(pk=order.pk).update(state=OrderState.CONFIRMED)
    order.lines.update(delivered_quantity=5, is_booked=True)
    line = order.lines.get()
    manager = users["service1"]
    rma = rma_services.rma_create(actor=manager, order_line=line, quantity=2, reason="主轴异响", remedy="repair")
    rma_services.rma_submit(rma=rma, actor=manager)
    request = open_request("support.rma", rma.pk)
    if request is not None:
        for task in request.tasks.filter(state="pending"):
            request_act(request=request, actor=task.approver, action="approve")
    rma.refresh_from_db()
    if rma.state == "approved":
        rma_services.rma_receive(rma=rma, actor=manager, received_quantity=2)
    draft = rma_services.rma_create(actor=manager, order_line=line, quantity=1, reason="包装破损", remedy="repackage")
    defect = DefectType.objects.get_or_create(name="划伤")[0]
    today = timezone.localdate()
    inspection = quality_services.inspection_record(
        actor=manager, inspected_on=today, product=product, inspected_quantity=100, defects=[(defect, 3)], batch="B-1"
    )
    action = quality_services.action_create(
        actor=manager, description="加强包装检验", owner=manager, due_on=today + timedelta(days=7), source="rma"
    )
    report = quality_report.report_generate(day=today - timedelta(days=1), mail=False)
    note = rma.notes.order_by("pk").first()
    return {
        "rma": draft.pk,
        "received_rma": rma.pk,
        "stock_note": note.pk if note else None,
        "inspection": inspection.pk,
        "improvement_action": action.pk,
        "quality_report": report.pk,
        "returnable_line": line.pk,
    }
