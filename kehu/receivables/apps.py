import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The order, invoice and contract event kinds that move a customer's exposure or not-invoiced sums,
# or fix the date a plan "N days after signing / delivery / the invoice" falls due. Codes, so the
# contracts app (not merged yet) needs no import: an event of a kind never registered never comes.
BALANCE_KINDS = frozenset(
    {
        "order_confirmed",
        "order_changed",
        "order_credit_approved",
        "order_cancelled",
        "order_completed",
        "order_delivered",
        "order_deleted",
        "order_restored",
        "invoice_issued",
        "invoice_reversed",
        "contract_signed",
        "customer_merged",  # the sources' plans and payments now belong to the target: its balance again
    }
)


def balances_sink(events) -> None:
    """In the recording transaction: fill the due dates the events fix, then refresh the balances of
    their customers (one refresh for the batch)."""
    from kehu.receivables.services import plans_fill_due

    order_ids, contract_ids, customer_ids = set(), set(), set()
    for event in events:
        subject = event.subject
        if event.kind.code not in BALANCE_KINDS or subject is None:
            continue
        customer_ids.add(event.customer_id or getattr(subject, "customer_id", None))
        label = subject._meta.label_lower
        if label == "orders.order":
            order_ids.add(subject.pk)
            if subject.contract_id:
                contract_ids.add(subject.contract_id)
        elif label == "contracts.contract":
            contract_ids.add(subject.pk)
        elif label == "invoices.invoice":
            order_ids.add(subject.order_id)
            contract_ids.add(subject.contract_id)
    customer_ids.discard(None)
    if customer_ids:
        plans_fill_due(order_ids=order_ids - {None}, contract_ids=contract_ids - {None}, customer_ids=customer_ids)


class ReceivablesConfig(AppConfig):
    name = "kehu.receivables"
    label = "receivables"
    verbose_name = _("Receivables")

    def ready(self):
        from kehu.core import events
        from kehu.receivables import approval, imports, lookups
        from kehu.receivables import events as _kinds  # noqa: F401 (registers the kinds)

        events.sink(balances_sink, after_commit=False)
        lookups.register()
        approval.register()
        imports.register()
        from kehu.receivables.export_kinds import register_kinds

        register_kinds()
        # An ageing export whose worker died is written again from the start, as a customer export
        # is (both are ExportJob rows; kehu.core.lost_tasks).
        from kehu.core import lost_tasks
        from kehu.integrations.exports import export_job_lost, export_job_requeue
        from kehu.receivables.report_tasks import ageing_export_run

        lost_tasks.register(ageing_export_run, resume=True, requeue=export_job_requeue, on_failed=export_job_lost)
        # Credit control (CREDIT_CHECK, OVER_CREDIT_LIMIT) is answered by the reports' own module.
        if importlib.util.find_spec("kehu.receivables.credit") is not None:
            from kehu.receivables import credit

            credit.register()
