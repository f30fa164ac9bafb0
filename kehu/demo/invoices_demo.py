"""Invoices in the demo (发票): invoice titles (抬头) for the reps' customers, invoices issued for the
demo's booked orders (approved by the requester's supervisor, issued by finance or the administrator),
one of them reversed by a red-letter invoice, one request waiting for approval and a draft. Without
orders (the orders demo did not run) a few service-fee invoices are made instead. Written through
the services, so timelines, approvals, rollups and notifications are real."""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.approvals.models import ApprovalRequest, ApproverTask, TaskState
from kehu.approvals.services import request_act
from kehu.customers.models import Customer
from kehu.customers.services import CREDIT_CHARS, CREDIT_WEIGHTS, credit_code_is_valid
from kehu.invoices import services
from kehu.invoices.models import Invoice, InvoiceState, InvoiceTitle
from kehu.orders.models import BOOKED_STATES, Order
from kehu.users.models import User
from kehu.users.roles import Role

BANKS = ["中国工商银行", "中国建设银行", "中国农业银行", "招商银行", "交通银行"]
TITLES_PER_REP = 6
INVOICED_ORDERS = 12


def credit_code(rng: random.Random) -> str:
    """A unified social credit code with its check character (GB 32100-2015)."""
    body = (
        "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    )
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    code = body + CREDIT_CHARS[(31 - total % 31) % 31]
    assert credit_code_is_valid(code)
    return code


def _title(customer: Customer, actor: User, rng: random.Random) -> InvoiceTitle | None:
    existing = InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        return services.invoice_title_create(
            customer=customer,
            actor=actor,
            kind="company",
            name=customer.name,
            tax_number=customer.credit_code if credit_code_is_valid(customer.credit_code or "") else credit_code(rng),
            bank_name=f"{rng.choice(BANKS)}{(customer.city or '苏州')}分行",
            bank_account="".join(rng.choice("0123456789") for _ in range(19)),
            address=customer.address or f"{customer.city or '苏州'}市工业园区",
            phone=customer.phone or "0512-68880000",
        )
    except ValidationError:
        return None


def _approve(invoice: Invoice) -> Invoice:
    """Decide the invoice's open requests as their first approver would (credit exception, then its own)."""
    for _round in range(4):
        invoice.refresh_from_db()
        if invoice.state != InvoiceState.PENDING:
            break
        request = ApprovalRequest.objects.filter(
            document_type__in=["invoice", "invoice.credit"], object_id=invoice.pk, state="pending"
        ).first()
        task = request and ApproverTask.objects.filter(request=request, state=TaskState.PENDING).first()
        if task is None:
            break
        request_act(request=request, actor=User.objects.get(pk=task.approver_id), action="approve")
    invoice.refresh_from_db()
    return invoice


def seed(users: dict, *, seed: int = 0) -> dict:
    rng = random.Random(seed)
    issuer = User.objects.filter(role=Role.FINANCE, is_active=True).first() or users.get("admin")
    reps = [u for name, u in users.items() if name.startswith("rep")]
    counts = {"titles": 0, "issued": 0, "reversed": 0}
    for rep in reps:
        for customer in Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("pk")[:TITLES_PER_REP]:
            counts["titles"] += bool(_title(customer, rep, rng))
    orders = list(
        Order.objects.filter(state__in=BOOKED_STATES, deleted_at__isnull=True, owner__in=reps)
        .select_related("customer", "owner")
        .order_by("pk")[:INVOICED_ORDERS]
    )
    today = timezone.localdate()
    made: list[Invoice] = []
    for index, order in enumerate(orders):
        title = _title(order.customer, order.owner, rng)
        if title is None:
            continue
        try:
            invoice = services.invoice_request(
                customer=order.customer,
                actor=order.owner,
                order=order,
                invoice_type="special" if index % 3 else "ordinary",
            )
        except ValidationError:
            continue
        made.append(invoice)
    if not orders:
        for rep in reps:
            customer = Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("pk").first()
            if customer is None or _title(customer, rep, rng) is None:
                continue
            line = {
                "name": "技术服务费",
                "unit": "项",
                "quantity": 1,
                "unit_price": rng.choice([2120, 5300]),
                "tax_rate": 6,
            }
            made.append(services.invoice_request(customer=customer, actor=rep, lines=[line]))
    for index, invoice in enumerate(made):
        stage = "draft" if index == len(made) - 1 else ("pending" if index == len(made) - 2 else "issued")
        if stage == "draft":
            continue
        try:
            services.invoice_submit(invoice=invoice, actor=invoice.owner)
        except ValidationError:
            continue
        if stage == "pending":
            continue
        if _approve(invoice).state != InvoiceState.APPROVED or issuer is None:
            continue
        services.invoice_issue(
            invoice=invoice,
            actor=issuer,
            invoice_number=f"{24000000 + invoice.pk:08d}",
            issued_on=today - timedelta(days=rng.randrange(3, 40)),
            logistics_number=f"SF{rng.randrange(10**11, 10**12)}",
        )
        counts["issued"] += 1
    issued = Invoice.objects.filter(state=InvoiceState.ISSUED, is_red=False).order_by("pk").first()
    if issued is not None and issuer is not None:
        services.invoice_reverse(invoice=issued, actor=issuer, reason="客户名称开错，红冲后重开", issued_on=today)
        counts["reversed"] += 1
    counts["amount"] = str(sum((i.amount for i in Invoice.objects.filter(state=InvoiceState.ISSUED)), Decimal("0")))
    return counts
