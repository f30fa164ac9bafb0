"""The whole site as tests see it: every URL pattern, a small demo company with one of every record,
and signed-in clients for each demo role. Shared by the URL-parameter and the dead-link tests."""

import inspect
import re
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from kehu.core.tests.fast import fast_settings

# The fuzzing and crawling tests go deeper on SQLite; PostgreSQL gets what the database itself judges.
ON_SQLITE = django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
DEMO_PASSWORD = "kehu-demo"
# The demo roles the tests act as; None is an anonymous visitor.
ROLES = ["admin", "gm", "manager1", "rep1", "service1", "marketing1"]
INVITATION_TOKEN = "a-known-invitation-token"
SHARE_TOKEN = "a-known-share-link-token"
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "customers/<int:pk>/edit/"
    name: str  # "customers:customer-edit"
    callback: object

    @property
    def path_parameters(self) -> list[tuple[str, str]]:
        return [(m["kind"] or "str", m["name"]) for m in CONVERTER.finditer(self.template)]

    @property
    def is_api(self) -> bool:
        return self.template.startswith("api/")

    @property
    def area(self) -> str:
        """The part of the site: "customers", "accounts", "api/v1/sales", "(home)"."""
        parts = self.template.split("/")
        if self.is_api:
            return "/".join(parts[:3])
        return parts[0] or "(home)"

    def path(self, values: dict[str, object]) -> str:
        return "/" + CONVERTER.sub(lambda m: str(values[m["name"]]), self.template)


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield Route(prefix + str(p.pattern), name, p.callback)


def all_routes() -> list[Route]:
    """Every URL pattern of config.urls, API included; regex patterns (none today) are skipped."""
    return [r for r in _walk(get_resolver().url_patterns) if not r.template.startswith("^")]


def view_function(callback):
    while hasattr(callback, "__wrapped__"):
        callback = callback.__wrapped__
    return getattr(callback, "view_class", callback)


_GET_READS = re.compile(
    r"""(?:GET|data|query)\s*\.(?:get|getlist|pop)\(\s*["']([\w\-]+)["']"""
    r"""|GET\[\s*["']([\w\-]+)["']\]"""
    r"""|_param\(\s*request\s*,\s*["']([\w\-]+)["']"""
)
_POST_READS = re.compile(
    r"""POST\s*\.(?:get|getlist)\(\s*["']([\w\-]+)["']|POST\[\s*["']([\w\-]+)["']\]|["']([\w\-]+)["'] in request\.POST"""
)
_FORMS = re.compile(r"(\w+Form)\(\s*request\.GET")


def _module_source(route: Route):
    function = view_function(route.callback)
    module = inspect.getmodule(function)
    if module is None or not module.__name__.startswith("kehu."):
        return None, ""
    return module, inspect.getsource(module)


def query_names_read_by(route: Route) -> set[str]:
    """The query parameters a page's module reads: `GET.get("x")`, `getlist("x")`, `*_param(request, "x")`,
    and the fields of forms bound to `request.GET`."""
    module, source = _module_source(route)
    names = {next(g for g in m.groups() if g) for m in _GET_READS.finditer(source)}
    for form_name in _FORMS.findall(source):
        form = getattr(module, form_name, None) or _find_in_imports(module, form_name)
        if form is not None:
            names |= set(getattr(form, "base_fields", {}))
    return names


def post_names_read_by(route: Route) -> set[str]:
    """The POST fields a page's module reads outside its forms."""
    _module, source = _module_source(route)
    return {next(g for g in m.groups() if g) for m in _POST_READS.finditer(source)}


def _find_in_imports(module, name):
    for value in vars(module).values():
        if inspect.ismodule(value) and hasattr(value, name):
            return getattr(value, name)
    return None


class Company:
    """The demo company (20 customers) plus one of each record the demo does not make."""

    def __init__(self):
        from kehu.users.models import User

        call_command("demo_data", customers=20, stdout=StringIO())
        self.users = {u.username: u for u in User.objects.all()}
        self.ids = self._records()

    def _records(self) -> dict[str, int | str]:
        from kehu.activities.calendar import calendar_token_regenerate
        from kehu.activities.models import Activity
        from kehu.activities.services import activity_log, visit_plan
        from kehu.classification.models import TierSuggestion
        from kehu.collection.models import CalendarDay, InfoForm, RegionRoute
        from kehu.core.models import OutboxMail
        from kehu.customers.models import Contact, Customer
        from kehu.customers.services import contact_create, contact_delete, customer_create, customer_delete
        from kehu.integrations import storage
        from kehu.integrations.models import ExportJob, ImportJob, ImportRow
        from kehu.leads.models import AssignmentRule, Lead
        from kehu.notifications.models import Notification, Robot, RobotPost
        from kehu.pool.models import Handover, HandoverStatus, Pool
        from kehu.sales.models import Opportunity, Pipeline, Stage, Target
        from kehu.sales.services import opportunity_create, opportunity_delete
        from kehu.users.models import ApiToken, Department, Invitation, hash_token
        from kehu.users.services import api_token_create, invitation_create
        from kehu.webhooks.models import WebhookDelivery
        from kehu.webhooks.services import webhook_subscription_create

        u = self.users
        rep1, admin = u["rep1"], u["admin"]
        customer = Customer.objects.filter(owner=rep1, deleted_at__isnull=True).order_by("pk").first()
        contact = Contact.objects.filter(customer=customer).first() or contact_create(
            customer=customer, actor=rep1, name="张伟", mobile="13912345678"
        )
        commitment = activity_log(
            customer=customer, actor=rep1, subject="寄样品", kind="commitment", due_on="2030-01-01"
        )
        visit = visit_plan(
            customer=customer, actor=rep1, planned_for=timezone.now() + timedelta(days=1), subject="拜访技术部"
        )
        gone = customer_create(actor=rep1, owner=rep1, name="已删除客户有限公司")
        gone_contact = contact_create(customer=customer, actor=rep1, name="王已删")
        contact_delete(contact=gone_contact, actor=rep1)
        customer_delete(customer=gone, actor=rep1)
        deal = Opportunity.objects.filter(owner=rep1, deleted_at__isnull=True).order_by("pk").first()
        deleted_deal = opportunity_create(customer=customer, actor=rep1, name="注塑机 3 台")
        opportunity_delete(opportunity=deleted_deal, actor=rep1)
        job = ImportJob.objects.create(
            created_by=rep1, file_name="a.csv", format="csv", status="preview", headers=["客户名称"], total_rows=1
        )
        ImportRow.objects.create(job=job, number=2, values={"customer": {"name": "新客户"}, "contact": {}, "owner": ""})
        relative, file = storage.new_path("exports", ".csv")
        file.write_bytes("\ufeff客户名称\n".encode())
        export = ExportJob.objects.create(created_by=admin, format="csv", status="done", stored_path=relative)
        subscription = webhook_subscription_create(actor=admin, url="https://example.com/hook", events=["lead.created"])
        delivery = WebhookDelivery.objects.create(subscription=subscription, event="lead.created", status="failed")
        note = Notification.objects.create(recipient=rep1, kind="unknown_kind", summary="x", link="/customers/")
        robot = Robot.objects.create(
            name="华东群",
            platform="wecom",
            department=rep1.department,
            webhook_url="http://127.0.0.1:9/wecom?key=nobody-listens",
            kinds=[],
        )
        robot_post = RobotPost.objects.create(robot=robot, title="x", text="x", status="failed", attempts=8)
        invitation = invitation_create(email="new@example.com", role="sales_rep", actor=admin, base_url="http://x/")
        Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token(INVITATION_TOKEN))
        handover = Handover.objects.create(actor=u["manager1"], to_user=rep1, status=HandoverStatus.DONE)
        _token, _raw = api_token_create(user=rep1, name="phone")
        suggestion = TierSuggestion.objects.filter(customer__owner=rep1).first() or TierSuggestion.objects.first()
        ids = {
            "customer": customer.pk,
            "deleted_customer": gone.pk,
            "contact": contact.pk,
            "deleted_contact": gone_contact.pk,
            "activity": commitment.pk,
            "visit": visit.pk,
            "opportunity": deal.pk,
            "deleted_opportunity": deleted_deal.pk,
            "target": Target.objects.order_by("pk").first().pk,
            "pipeline": Pipeline.objects.order_by("pk").first().pk,
            "stage": Stage.objects.order_by("pk").first().pk,
            "lead": Lead.objects.filter(owner=rep1).order_by("pk").first().pk,
            "pool": Pool.objects.order_by("pk").first().pk,
            "pool_customer": Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True).first().pk,
            "handover": handover.pk,
            "suggestion": suggestion.pk,
            "infoform": InfoForm.objects.order_by("pk").first().pk,
            "route": RegionRoute.objects.order_by("pk").first().pk,
            "calendar_day": CalendarDay.objects.order_by("pk").first().pk,
            "import": job.pk,
            "export": export.pk,
            "subscription": subscription.pk,
            "delivery": delivery.pk,
            "user": rep1.pk,
            "department": Department.objects.order_by("pk").first().pk,
            "api_token": ApiToken.objects.filter(user=rep1).first().pk,
            "assignment_rule": AssignmentRule.objects.values_list("pk", flat=True).first() or 1,
            "invitation": INVITATION_TOKEN,
            "calendar_token": calendar_token_regenerate(user=rep1),
            "any_activity": Activity.objects.order_by("pk").first().pk,
            "mail": OutboxMail.objects.order_by("pk").first().pk,
            "notification": note.pk,
            "robot": robot.pk,
            "robot_post": robot_post.pk,
        }
        ids.update(self._approvals(customer))
        ids.update(self._catalog())
        ids.update(self._quotes(customer))
        ids.update(self._quote_pages(customer))
        ids.update(self._share_link(ids["quote"]))
        ids.update(self._contracts(customer))
        ids.update(self._receivables(customer))
        ids.update(self._ageing_export())
        ids.update(self._orders(customer))
        ids.update(self._invoices(customer))
        ids.update(self._dealer_plans(customer))
        ids.update(self._tickets(customer))
        ids.update(self._service_setup(customer))
        ids.update(self._knowledge(ids["ticket"]))
        ids.update(self._field(ids["ticket"]))
        ids.update(self._complaints(customer))
        ids.update(self._returns(customer))
        ids.update(self._service_mail(ids["ticket"]))
        return ids

    def _knowledge(self, ticket_id: int) -> dict:
        """A published public article with a file, a request to match, a follow link of the ticket."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from kehu.support.kb_services import article_create, article_transition, attachment_add
        from kehu.support.models import PortalRequest, Ticket
        from kehu.support.portal_services import follow_link_create

        service1 = self.users["service1"]
        article = article_create(actor=service1, title_zh="液压站漏油怎么办", body_zh="检查接头。", is_public=True)
        article_transition(article=article, actor=service1, to="published")
        attachment = attachment_add(
            article=article, actor=service1, upload=SimpleUploadedFile("说明.pdf", b"%PDF-1.4 test")
        )
        request = PortalRequest.objects.create(state="unmatched", subject="主轴异响", email="x@example.com")
        link, token = follow_link_create(ticket=Ticket.objects.get(pk=ticket_id), email="x@example.com")
        return {
            "article": article.pk,
            "article_attachment": attachment.pk,
            "portal_request": request.pk,
            "follow_link": link.pk,
            "follow_token": token,
        }

    def _field(self, ticket_id) -> dict:
        """A finished visit to the ticket (a photo, a confirmation link) by a service engineer."""
        from kehu.support.tests.field_setup import whole_site_records

        return whole_site_records(self.users, ticket_id)

    def _service_mail(self, ticket_id) -> dict:
        """A received mail waiting to be matched, and a photo that came with a reply on the ticket."""
        from kehu.support.tests.mail_setup import whole_site_mail

        return whole_site_mail(ticket_id)

    def _tickets(self, customer) -> dict:
        """An open service ticket of rep1's customer, logged by the service manager."""
        from kehu.support.services import ticket_open

        ticket = ticket_open(actor=self.users["service1"], customer=customer, subject="主轴异响")
        return {"ticket": ticket.pk}

    def _complaints(self, customer) -> dict:
        """A complaint about rep1's customer with its handling notice issued, by the service manager."""
        from kehu.support.complaint_services import complaint_register, complaint_step_complete
        from kehu.users.models import Department

        complaint = complaint_register(
            actor=self.users["service1"], customer=customer, customer_words="主轴异响", category="quality"
        )
        complaint_step_complete(
            complaint=complaint,
            actor=self.users["service1"],
            kind="notice",
            data={"department": Department.objects.order_by("pk").first()},
        )
        return {"complaint": complaint.pk}

    def _contracts(self, customer) -> dict:
        """rep1's contracts: a draft with a line, a signed one with an amendment and an attachment,
        one in the recycle bin; the demo's contract template."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from kehu.contracts import services
        from kehu.contracts.models import ContractLine, ContractTemplate
        from kehu.quotes.models import QuoteLine

        rep1 = self.users["rep1"]
        draft = services.contract_create(actor=rep1, customer=customer, title="测试合同")
        spec_id = QuoteLine.objects.values_list("specification_id", flat=True).first()
        services.contract_line_add(contract=draft, actor=rep1, specification_id=spec_id, quantity=2, unit_price="10")
        signed = services.contract_create(actor=rep1, customer=customer, title="已签合同", amount="1000")
        services.contract_transition(contract=signed, to="pending", actor=rep1)
        signed.refresh_from_db()
        if signed.approved_at is None:
            from kehu.contracts.services import contract_approved

            contract_approved(contract=signed, actor=self.users["manager1"])
        services.contract_transition(contract=signed, to="signed", actor=rep1, signed_on=timezone.localdate())
        signed.refresh_from_db()
        amendment = services.amendment_create(contract=signed, actor=rep1, summary="增加金额", amount_after="1200")
        attachment = services.attachment_add(
            contract=signed, actor=rep1, upload=SimpleUploadedFile("签字版.pdf", b"%PDF-1.4\n%%EOF\n")
        )
        gone = services.contract_create(actor=rep1, customer=customer, title="已删除合同")
        services.contract_delete(contract=gone, actor=rep1)
        template = ContractTemplate.objects.order_by("pk").first() or services.template_save(
            actor=self.users["admin"], name="模板", language="zh-hans", body="{{ customer.name }}"
        )
        return {
            "contract": draft.pk,
            "contract_line": ContractLine.objects.filter(contract=draft).first().pk,
            "signed_contract": signed.pk,
            "contract_amendment": amendment.pk,
            "contract_attachment": attachment.pk,
            "deleted_contract": gone.pk,
            "contract_template": template.pk,
        }

    def _receivables(self, customer) -> dict:
        """A payment plan of rep1's customer (the demo's, else one on an order made here) and a payment."""
        from kehu.orders.models import Order, OrderState
        from kehu.receivables.models import Payment, PaymentPlan
        from kehu.receivables.services import payment_record, plans_from_terms

        rep1 = self.users["rep1"]
        plan = PaymentPlan.objects.filter(customer__owner=rep1).order_by("pk").first()
        if plan is None:
            order = Order.objects.create(
                number="WS-SO-1", customer=customer, owner=rep1, state=OrderState.CONFIRMED, total=1000
            )
            plan = plans_from_terms(actor=rep1, order=order, terms=[{"percent": "100", "due_on": "2030-01-01"}])[0]
        payment = Payment.objects.filter(customer__owner=rep1).order_by("pk").first() or payment_record(
            actor=rep1, customer=plan.customer, amount="10.00"
        )
        return {"plan": plan.pk, "payment": payment.pk}

    def _ageing_export(self) -> dict:
        """A finished ageing export of the administrator (the reports' own export pages)."""
        from kehu.integrations import storage
        from kehu.integrations.models import ExportJob

        relative, file = storage.new_path("exports", ".xlsx")
        file.write_bytes(b"PK")
        job = ExportJob.objects.create(
            created_by=self.users["admin"],
            format="xlsx",
            status="done",
            stored_path=relative,
            filters={"report": "ageing"},
        )
        return {"ageing_export": job.pk}

    def _orders(self, customer) -> dict:
        """A draft order of rep1 with one line (the quote pages' product), and one in the recycle bin."""
        from kehu.orders.services import order_create, order_delete

        rep1, spec = self.users["rep1"], "WS-QUOTE-1-A"
        from kehu.catalog.models import Specification

        order = order_create(customer=customer, actor=rep1, lines=[(Specification.objects.get(code=spec).pk, 2)])
        gone = order_create(customer=customer, actor=rep1)
        order_delete(order=gone, actor=rep1)
        return {"order": order.pk, "order_line": order.lines.get().pk, "deleted_order": gone.pk}

    def _returns(self, customer) -> dict:
        """A return received back with its stock note, a draft one, an inspection, an action, a report."""
        from kehu.support.tests.returns_fixtures import site_records

        return site_records(self.users, customer)

    def _service_setup(self, customer) -> dict:
        """The demo's ticket categories and policies; a unit of rep1's customer; rep1's draft order."""
        from kehu.support.models import InstalledUnit, SlaPolicy, TicketCategory
        from kehu.support.tests.setup_fixtures import api_records

        found = api_records(None, customer)
        unit = InstalledUnit.objects.filter(customer=customer).order_by("pk").first()
        return {
            "ticket_category": TicketCategory.objects.order_by("pk").first().pk,
            "sla_policy": SlaPolicy.objects.order_by("pk").first().pk,
            "unit": unit.pk if unit else found["unit_id"],
        }

    def _dealer_plans(self, customer) -> dict:
        from kehu.dealerplans.tests.factories import whole_site_plans

        return whole_site_plans(self.users["rep1"], customer)

    def _invoices(self, customer) -> dict:
        """rep1's invoice title and draft invoice request (typed lines), and an order of rep1's."""
        from kehu.invoices.models import InvoiceTitle
        from kehu.invoices.services import invoice_request
        from kehu.invoices.tests.factories import make_order, make_title
        from kehu.orders.models import Order
        from kehu.quotes.tests.factories import Book

        rep1 = self.users["rep1"]
        title = InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True).first()
        title = title or make_title(customer, rep1)
        line = {"name": "技术服务费", "quantity": 1, "unit_price": 100, "tax_rate": 6}
        invoice = invoice_request(customer=customer, actor=rep1, title=title, invoice_type="ordinary", lines=[line])
        order = Order.objects.filter(owner=rep1, deleted_at__isnull=True).order_by("pk").first()
        if order is None:
            book = Book()
            order = make_order(customer, rep1, [(book.lathe_a, "2", "100", "13")], number="SO-WS-1")
        return {"invoice": invoice.pk, "invoice_title": title.pk, "invoice_order": order.pk}

    def _catalog(self) -> dict:
        """The demo catalog's records, and a product in the recycle bin."""
        from kehu.catalog.models import Category, PriceItem, PriceList, Product, Specification
        from kehu.catalog.services import product_create, product_delete

        gone = product_create(actor=self.users["admin"], code="GONE-1", name="已删除产品")
        product_delete(product=gone, actor=self.users["admin"])
        product = Product.objects.filter(deleted_at__isnull=True).order_by("pk").first()
        return {
            "product": product.pk,
            "deleted_product": gone.pk,
            "specification": Specification.objects.filter(product=product).order_by("pk").first().pk,
            "category": Category.objects.order_by("pk").first().pk,
            "price_list": PriceList.objects.order_by("pk").first().pk,
            "price_item": PriceItem.objects.order_by("pk").first().pk,
        }

    def _quote_pages(self, customer) -> dict:
        """A draft quote of rep1 with one line, for the quote pages (its own product and price)."""
        from kehu.catalog.models import PriceItem, PriceList, PriceListKind, Product, Specification
        from kehu.quotes.services import quote_create, quote_lines_add

        product = Product.objects.create(code="WS-QUOTE-1", name="测试产品", unit="台")
        spec = Specification.objects.create(product=product, code="WS-QUOTE-1-A", name="A 型")
        prices = PriceList.objects.create(name="目录价 WS", kind=PriceListKind.LIST, valid_from=date(2020, 1, 1))
        PriceItem.objects.create(price_list=prices, product=product, price=100)
        quote = quote_create(customer=customer, actor=self.users["rep1"], title="测试报价")
        line = quote_lines_add(quote=quote, actor=self.users["rep1"], lines=[(spec.pk, 2)])[0]
        return {"ui_quote": quote.pk, "ui_quote_line": line.pk}

    def _share_link(self, quote_id: int) -> dict:
        """A share link of rep1's quote whose token the tests know."""
        from kehu.quotes.models import ShareLink
        from kehu.users.models import hash_token

        link = ShareLink.objects.create(
            quote_id=quote_id, token_hash=hash_token(SHARE_TOKEN), expires_at=timezone.now() + timedelta(days=14)
        )
        return {"share_link": link.pk, "share_token": SHARE_TOKEN}

    def _quotes(self, customer) -> dict:
        """A quote of rep1 with a line (the demo's, else one priced from a small price book)."""
        from kehu.catalog.models import Product
        from kehu.quotes.models import Quote, QuoteLine
        from kehu.quotes.services import quote_create, quote_lines_add

        rep1 = self.users["rep1"]
        line = QuoteLine.objects.filter(quote__owner=rep1, quote__deleted_at__isnull=True).order_by("pk").first()
        if line is None:
            quote = Quote.objects.filter(owner=rep1).first() or quote_create(customer=customer, actor=rep1)
            if not Product.objects.exists():
                from kehu.quotes.tests.factories import Book

                Book()
            spec = Product.objects.order_by("pk").first().specifications.order_by("pk").first()
            line = quote_lines_add(quote=quote, actor=rep1, lines=[(spec.pk, 2)])[0]
        return {"quote": line.quote_id, "quote_line": line.pk}

    def _approvals(self, customer) -> dict:
        """An approval request on rep1's customer (approved by manager1) and a delegation of manager1."""
        from kehu.approvals.models import ApprovalRequest
        from kehu.approvals.services import delegation_create, open_request, request_submit

        u = self.users
        request = open_request("customer.credit", customer.pk) or request_submit(
            document_type="customer.credit", record=customer, actor=u["rep1"]
        )
        delegation = delegation_create(
            user=u["manager1"], delegate=u["manager2"], starts_on=date(2031, 1, 1), ends_on=date(2031, 1, 2),
            actor=u["manager1"],
        )  # fmt: skip
        assert ApprovalRequest.objects.filter(pk=request.pk).exists()
        return {"approval": request.pk, "delegation": delegation.pk}


# What the id in a page's path names, by URL name (and for the API by parameter name).
PAGE_IDS = {
    "receivables_reports:statement": "customer",
    "receivables_reports:customer-money": "customer",
    "receivables_reports:export": "ageing_export",
    "receivables_reports:export-download": "ageing_export",
    "workspace:customer-detail": "customer",
    "workspace:activity-log": "customer",
    "users:token-revoke": "api_token",
    "users:user-edit": "user",
    "users:user-approve": "user",
    "users:two-factor-reset": "user",
    "users:department-edit": "department",
    "customers:customer-edit": "customer",
    "customers:team-panel": "customer",
    "customers:team-member-add": "customer",
    "customers:customer-delete": "customer",
    "customers:customer-merge": "customer",
    "customers:customer-restore": "deleted_customer",
    "customers:contact-create": "customer",
    "customers:contact-merge": "customer",
    "customers:fact-create": "customer",
    "customers:contact-edit": "contact",
    "customers:contact-delete": "contact",
    "customers:contact-move": "contact",
    "customers:contact-restore": "deleted_contact",
    "activities:visit-plan": "customer",
    "activities:email-send": "customer",
    "activities:visit-log": "visit",
    "activities:visit-check-in": "visit",
    "activities:visit-detail": "visit",
    "activities:activity-edit": "activity",
    "activities:commitment-done": "activity",
    "activities:commitment-undone": "activity",
    "activities:activity-delete": "activity",
    "pool:customer-claim": "pool_customer",
    "pool:customer-assign": "pool_customer",
    "pool:customer-release": "customer",
    "pool:customer-exempt": "customer",
    "pool:pool-edit": "pool",
    "pool:handover-detail": "handover",
    "classification:suggestion-decide": "suggestion",
    "classification:customer-form": "customer",
    "collection:infoform-detail": "infoform",
    "collection:infoform-edit": "infoform",
    "collection:infoform-file": "infoform",
    "collection:infoform-approve": "infoform",
    "collection:infoform-return": "infoform",
    "collection:infoform-archive": "infoform",
    "collection:route-delete": "route",
    "collection:calendar-delete": "calendar_day",
    "integrations:import-detail": "import",
    "integrations:import-mapping": "import",
    "integrations:import-layout": "import",
    "integrations:import-values": "import",
    "integrations:import-progress": "import",
    "integrations:import-choose": "import",
    "integrations:import-run": "import",
    "integrations:import-retry": "import",
    "integrations:import-delete": "import",
    "integrations:export-detail": "export",
    "integrations:export-download": "export",
    "integrations:contact-vcard": "contact",
    "integrations:customer-vcards": "customer",
    "leads:lead-detail": "lead",
    "leads:lead-edit": "lead",
    "leads:lead-respond": "lead",
    "leads:lead-qualify": "lead",
    "leads:lead-disqualify": "lead",
    "leads:lead-assign": "lead",
    "leads:lead-convert": "lead",
    "sales:opportunity-detail": "opportunity",
    "sales:opportunity-edit": "opportunity",
    "sales:opportunity-move": "opportunity",
    "sales:opportunity-delete": "opportunity",
    "sales:opportunity-restore": "deleted_opportunity",
    "sales:opportunity-recommend": "opportunity",
    "sales:target-delete": "target",
    "sales:pipeline-edit": "pipeline",
    "sales:stage-create": "pipeline",
    "sales:stage-edit": "stage",
    "sales:stage-shift": "stage",
    "sales:stage-activate": "stage",
    "sales:stage-delete": "stage",
    "sales:stage-move-deals": "stage",
    "webhooks:subscription-edit": "subscription",
    "webhooks:subscription-rotate": "subscription",
    "webhooks:subscription-delete": "subscription",
    "webhooks:delivery-retry": "delivery",
    "core:outbox-retry": "mail",
    "notifications:notification-open": "notification",
    "notifications:notification-read": "notification",
    "notifications:robot-edit": "robot",
    "notifications:robot-test": "robot",
    "notifications:robot-delete": "robot",
    "notifications:post-retry": "robot_post",
    "approvals:request-detail": "approval",
    "approvals:request-act": "approval",
    "approvals:delegation-delete": "delegation",
    "catalog:product-detail": "product",
    "catalog:product-edit": "product",
    "catalog:product-image": "product",
    "catalog:product-delete": "product",
    "catalog:product-restore": "deleted_product",
    "catalog:spec-create": "product",
    "catalog:spec-edit": "specification",
    "catalog:spec-delete": "specification",
    "catalog:category-edit": "category",
    "catalog:category-delete": "category",
    "catalog:pricelist-detail": "price_list",
    "catalog:pricelist-edit": "price_list",
    "catalog:pricelist-delete": "price_list",
    "catalog:item-add": "price_list",
    "catalog:item-edit": "price_item",
    "catalog:item-delete": "price_item",
    **{
        f"quotes:{name}": "ui_quote"
        for name in (
            "quote-detail",
            "quote-edit",
            "quote-submit",
            "quote-withdraw",
            "quote-send",
            "quote-accept",
            "quote-reject",
            "quote-revise",
            "quote-delete",
            "quote-reprice",
            "line-add",
            "lines-paste",
            "lines-import",
        )
    },  # fmt: skip
    "quote_insights:panel": "ui_quote",
    "quote_insights:line-history": "ui_quote_line",
    "quote_documents:preview": "quote",
    "quote_documents:pdf": "quote",
    "quote_documents:share-links": "quote",
    "quote_documents:email": "quote",
    **{
        f"contracts:{name}": "contract"
        for name in ("detail", "edit", "transition", "delete", "line-add", "document-pdf", "document-docx")
    },
    **{f"contracts:{name}": "signed_contract" for name in ("amendment-new", "attachment-add")},
    "contracts:restore": "deleted_contract",
    "contracts:template-edit": "contract_template",
    **{f"receivables:{name}": "plan" for name in ("detail", "plan-edit", "plan-void")},
    **{f"receivables:payment-{name}": "payment" for name in ("detail", "allocate", "deallocate", "reverse")},
    "receivables:customer-panel": "customer",
    **{
        f"orders:{name}": "order"
        for name in ("detail", "edit", "transition", "delete", "delivery-new", "line-add", "lines-paste")
    },
    "orders:restore": "deleted_order",
    **{
        f"dealerplans:{n}": "dealer_plan"
        for n in ("detail", "edit", "line-put", "line-form", "support-add", "state", "copy", "delete", "visit-create")
    },
    "dealerplans:restore": "deleted_dealer_plan",
    "dealerplans:record": "customer",
    "dealerplans:record-export": "customer",
    **{
        f"invoices:{name}": "invoice"
        for name in ("detail", "edit", "submit", "withdraw", "cancel", "issue", "reverse", "logistics")
    },
    "invoices:for-order": "invoice_order",
    "invoices:titles": "customer",
    **{f"support:ticket-{name}": "ticket" for name in ("detail", "transition", "respond", "assign")},
    "support:category-edit": "ticket_category",
    **{f"support:{name}": "sla_policy" for name in ("policy-edit", "policy-delete")},
    "support:unit-edit": "unit",
    **{f"support:rma-{name}": "rma" for name in ("detail", "move", "costs")},
    "support:stock-note-pdf": "stock_note",
    "support:action-move": "improvement_action",
    "support:quality-report-detail": "quality_report",
    **{f"support:mail-{name}": "inbound_mail" for name in ("detail", "customers", "match", "dismiss")},
    "support:mail-file": "mail_attachment",
    "support:units-from-order": "order",
    **{f"support:kb-{name}": "article" for name in ("detail", "edit", "transition", "attachment-add")},
    **{f"portal:{name}": "article" for name in ("article", "feedback", "deflect")},
    "support:kb-send": "ticket",
    "support:portal-request-match": "portal_request",
    **{f"support:visit-{name}": "service_visit" for name in ("detail", "check-in", "submit", "confirm-link")},
    **{
        "support:visit-signature": "service_visit",
        "support:ticket-dispatch": "ticket",
        "support:engineer-edit": "engineer",
    },
    **{
        f"support:complaint-{name}": "complaint"
        for name in ("detail", "edit", "step", "move", "plan", "notice-pdf", "report-pdf")
    },
}
# Path parameters that are not numeric ids: the words that exist, or (for secret tokens) the record.
PAGE_WORDS = {
    ("classification:suggestion-decide", "action"): ["accept", "reject"],
    ("classification:customer-form", "kind"): ["key", "dealer", "credit", "revenue"],
    ("contracts:amendment-act", "action"): ["submit", "discard"],
    **{
        (name, "code"): ["customer.credit", "customer.new"] for name in ("approvals:flow-edit", "approvals:flow-active")
    },
    **{
        (name, "document_type"): ["customer.credit"]
        for name in ("api:record_history", "api:flow_read", "api:flow_update")
    },
}
PAGE_TOKENS = {
    # Routes naming two records: the customer and a member of its account team.
    ("customers:team-member-edit", "pk"): "customer",
    ("customers:team-member-edit", "user_id"): "user",
    ("customers:team-member-remove", "pk"): "customer",
    ("customers:team-member-remove", "user_id"): "user",
    ("activities:calendar-feed", "token"): "calendar_token",
    ("users:invitation-accept", "token"): "invitation",
    **{(f"portal:{name}", "token"): "follow_token" for name in ("follow", "follow-message", "follow-confirm")},
    **{
        (name, "pk"): "article"
        for name in ("support:kb-attachment", "support:kb-attachment-remove", "portal:attachment")
    },
    **{
        (name, "attachment_pk"): "article_attachment"
        for name in ("support:kb-attachment", "support:kb-attachment-remove", "portal:attachment")
    },
    ("support:follow-revoke", "pk"): "ticket",
    ("support:follow-revoke", "link_pk"): "follow_link",
    # A quote's line: the quote and the line.
    **{(f"quotes:{name}", "pk"): "ui_quote" for name in ("line-update", "line-remove")},
    **{(f"quotes:{name}", "line_pk"): "ui_quote_line" for name in ("line-update", "line-remove")},
    ("quote_documents:share-link-revoke", "pk"): "quote",
    ("quote_documents:share-link-revoke", "link_pk"): "share_link",
    ("quote_documents:shared", "token"): "share_token",
    ("quote_documents:shared-pdf", "token"): "share_token",
    ("contracts:line-remove", "pk"): "contract",
    ("contracts:line-remove", "line_pk"): "contract_line",
    ("contracts:amendment-act", "pk"): "signed_contract",
    ("contracts:amendment-act", "amendment_pk"): "contract_amendment",
    **{(f"contracts:{name}", "pk"): "signed_contract" for name in ("attachment", "attachment-remove")},
    **{(f"contracts:{name}", "attachment_pk"): "contract_attachment" for name in ("attachment", "attachment-remove")},
    **{
        (f"orders:{name}", k): v
        for name in ("line-update", "line-remove")
        for k, v in (("pk", "order"), ("line_pk", "order_line"))
    },
    **{(f"dealerplans:{n}", "pk"): "dealer_plan" for n in ("line-remove", "support-given", "support-remove")},
    ("dealerplans:line-remove", "line_pk"): "dealer_plan_line",
    **{(f"dealerplans:{n}", "support_pk"): "dealer_plan_support" for n in ("support-given", "support-remove")},
    **{(f"invoices:{name}", "pk"): "customer" for name in ("title-edit", "title-default", "title-delete")},
    **{(f"invoices:{name}", "title_pk"): "invoice_title" for name in ("title-edit", "title-default", "title-delete")},
    **{("support:visit-photo", "pk"): "service_visit", ("support:visit-photo", "index"): "visit_photo"},
    ("support:visit-confirm", "token"): "visit_confirm_token",
}
API_IDS = {
    "customer_id": "customer",
    "contact_id": "contact",
    "activity_id": "activity",
    "opportunity_id": "opportunity",
    "lead_id": "lead",
    "pipeline_id": "pipeline",
    "stage_id": "stage",
    "target_id": "target",
    "suggestion_id": "suggestion",
    "form_id": "infoform",
    "route_id": "route",
    "handover_id": "handover",
    "job_id": "import",
    "export_id": "export",
    "subscription_id": "subscription",
    "delivery_id": "delivery",
    "rule_id": "assignment_rule",
    "sla_rule_id": "assignment_rule",
    "user_id": "user",
    "notification_id": "notification",
    "request_id": "approval",
    "delegation_id": "delegation",
    "object_id": "customer",
    "product_id": "product",
    "specification_id": "specification",
    "category_id": "category",
    "price_list_id": "price_list",
    "item_id": "price_item",
    "quote_id": "quote",
    "line_id": "quote_line",
    "link_id": "share_link",
    "contract_id": "contract",
    "amendment_id": "contract_amendment",
    "plan_id": "plan",
    "payment_id": "payment",
    "order_id": "order",
    "dealer_plan_id": "dealer_plan",
    "plan_line_id": "dealer_plan_line",
    "support_id": "dealer_plan_support",
    "invoice_id": "invoice",
    "title_id": "invoice_title",
    "ticket_id": "ticket",
    "ticket_category_id": "ticket_category",
    "policy_id": "sla_policy",
    "unit_id": "unit",
    "article_id": "article",
    "visit_id": "service_visit",
    "engineer_id": "engineer",
    "complaint_id": "complaint",
    "rma_id": "rma",
    "inspection_id": "inspection",
    "action_id": "improvement_action",
    "report_id": "quality_report",
    "mail_id": "inbound_mail",
}


@pytest.fixture(scope="module")
def whole_company(django_db_setup, django_db_blocker):
    """One Company for the tests of a module (on each test worker), built in a transaction of its own:
    each test's transaction nests in it and is rolled back to it, and it is rolled back at the end. The
    company takes seconds to build; the crawl and the URL fuzzing read it once per role or area."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(**fast_settings()):  # made before the tests' own settings apply
            made = Company()
        yield made
        transaction.set_rollback(True)


def id_kind(route: Route, parameter: str) -> str | None:
    """Which record of `Company.ids` a path parameter names (None: a word, or nothing that exists)."""
    if route.is_api:
        return API_IDS.get(parameter)
    if (route.name, parameter) in PAGE_TOKENS:
        return PAGE_TOKENS[(route.name, parameter)]
    return PAGE_IDS.get(route.name)


def real_path_values(route: Route, ids: dict) -> dict:
    """Values for a route's path parameters that name records (or words) that exist."""
    values = {}
    for _kind, name in route.path_parameters:
        record = id_kind(route, name)
        if record is not None:
            values[name] = ids[record]
        else:
            values[name] = PAGE_WORDS.get((route.name, name), ["x"])[0]
    return values


def clients(company: Company, *, api: bool = False) -> dict[str | None, Client]:
    """A test client per demo role — signed in, or for the API with a bearer token — and an anonymous
    one (key None). Server errors come back as 500 responses rather than exceptions, so a test can
    collect them all."""
    from kehu.users.services import api_token_create

    made: dict[str | None, Client] = {None: Client(raise_request_exception=False)}
    for username in ROLES:
        user = company.users[username]
        if api:
            _token, raw = api_token_create(user=user, name="tests")
            made[username] = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
        else:
            made[username] = Client(raise_request_exception=False)
            made[username].force_login(user)
    return made
