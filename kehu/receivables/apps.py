from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The order, invoice and contract event kinds that move a customer's exposure or not-invoiced sums,
# or fix the date a plan "N days after signing / delivery / the invoice" falls due. Listed as codes:
# the apps below register them; an event of a kind not (yet) registered is simply never seen.
BALANCE_KINDS = frozenset(
    {
        "order_confirmed",
        "order_changed",
        "order_cancelled",
        "order_completed",
        "order_delivered",
        "order_deleted",
        "invoice_issued",
        "invoice_reversed",
        "contract_signed",
    }
)


def balances_sink(events) -> None:
    """In the recording transaction: fill the due dates the event fixes, then refresh the balances
    of the events' customers (one refresh per batch of events)."""
    from kehu.receivables.services import plans_fill_due

    relevant = [e for e in events if e.kind.code in BALANCE_KINDS and e.customer_id]
    if not relevant:
        return
    order_ids, contract_ids = set(), set()
    for event in relevant:
        subject = event.subject
        if subject is None:
            continue
        label = subject._meta.label_lower
        if label == "orders.order":
            order_ids.add(subject.pk)
        elif label == "contracts.contract":
            contract_ids.add(subject.pk)
        elif label == "invoices.invoice":
            if getattr(subject, "order_id", None):
                order_ids.add(subject.order_id)
            if getattr(subject, "contract_id", None):
                contract_ids.add(subject.contract_id)
    plans_fill_due(order_ids=order_ids, contract_ids=contract_ids, customer_ids={e.customer_id for e in relevant})


class ReceivablesConfig(AppConfig):
    name = "kehu.receivables"
    label = "receivables"
    verbose_name = _("Receivables")

    def ready(self):
        from kehu.core import events
        from kehu.receivables import events as _kinds  # noqa: F401 (registers the kinds)
        from kehu.receivables import lookups

        events.sink(balances_sink, after_commit=False)
        lookups.register()
