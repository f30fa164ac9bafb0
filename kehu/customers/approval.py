"""New customers may need approval (a company option, ACC-6), and so may edits of what was approved.

When the company switches the "new customer" flow on (Settings → Approval flows), a customer
created by anyone is sent for approval and locked until decided: approved, it is an ordinary
customer; rejected or withdrawn, it moves to the recycle bin. An approved customer whose name,
credit code, kind or segment changes goes back to approval with the values before the edit; a
rejection puts them back.
"""

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.approvals import registry
from kehu.approvals import services as approval_services
from kehu.core import events
from kehu.core.models import AuditAction
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, CustomerKind, Segment
from kehu.customers.normalise import normalise_name
from kehu.customers.search import search_index_update

CODE = "customer.new"
LOCKED_FIELDS = ("name", "credit_code", "kind", "segment")


def _facts(customer: Customer) -> dict:
    return {"customer_kind": customer.kind, "segment": customer.segment}


def _restore(customer: Customer, snapshot: dict) -> None:
    values = {k: v for k, v in snapshot.items() if k in LOCKED_FIELDS}
    if not values:
        return
    if "name" in values:
        values["name_key"] = normalise_name(values["name"])
    Customer.objects.filter(pk=customer.pk).update(version=F("version") + 1, updated_at=timezone.now(), **values)
    if {"name"} & values.keys():
        search_index_update([customer.pk])


def _rejected(customer: Customer, request, actor) -> None:
    """A new customer that was not approved goes to the recycle bin (restorable as ever)."""
    if request.snapshot:
        return
    now = timezone.now()
    if Customer.objects.filter(pk=customer.pk, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by=actor, updated_at=now
    ):
        events.record(
            CustomerEvent.CUSTOMER_DELETED,
            actor=actor,
            subject=customer,
            customer_id=customer.pk,
            summary=customer.name,
            audit=AuditAction.DELETE,
        )


def _describe(request) -> list:
    if not request.snapshot:
        return []
    labels = {name: Customer._meta.get_field(name).verbose_name for name in LOCKED_FIELDS}
    return [
        (gettext_lazy("before the edit: %(field)s") % {"field": labels[k]}, v)
        for k, v in request.snapshot.items()
        if k in labels
    ]


NEW_CUSTOMER = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("New customer"),
    model=Customer,
    fields={
        "customer_kind": registry.choice_field(gettext_lazy("customer kind"), CustomerKind.choices),
        "segment": registry.choice_field(gettext_lazy("segment"), Segment.choices),
    },
    facts=_facts,
    customer_id=lambda customer: customer.pk,
    title=lambda customer: _("Customer: %(name)s") % {"name": customer.name},
    link=lambda customer: reverse("workspace:customer-detail", args=[customer.pk]),
    restore=_restore,
    rejected=_rejected,
    locked_fields=LOCKED_FIELDS,
    optional=True,
    describe=_describe,
)


def register() -> None:
    registry.register(NEW_CUSTOMER)


def created(customer: Customer, actor) -> None:
    """Send a new customer for approval when the company asks for it."""
    if approval_services.approval_required(CODE):
        approval_services.request_submit(document_type=CODE, record=customer, actor=actor)


def check_unlocked(customer: Customer) -> None:
    approval_services.check_unlocked(CODE, customer.pk)


def edited(customer: Customer, before: dict, changes: dict, actor) -> None:
    """An approved customer whose approved fields changed goes back to approval."""
    if approval_services.edit_needs_approval(CODE, customer.pk, changes):
        approval_services.request_submit(
            document_type=CODE,
            record=customer,
            actor=actor,
            snapshot={k: before[k] for k in LOCKED_FIELDS if k in before},
        )
