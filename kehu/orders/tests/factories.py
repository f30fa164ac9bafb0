"""Orders for the orders' tests (through the services) and a real answer to the credit check."""

from decimal import Decimal

from kehu.core import lookups


def make_order(customer, actor, lines=(), **header):
    from kehu.orders import services

    return services.order_create(customer=customer, actor=actor, lines=list(lines) or None, **header)


def confirm(order, actor):
    from kehu.orders import services
    from kehu.orders.models import OrderState

    order = services.order_transition(order=order, to=OrderState.CONFIRMED, actor=actor)
    order.refresh_from_db()
    return order


class CreditAnswer:
    """A credit check answering from a fixed limit: held when exposure + amount is beyond it."""

    def __init__(self, limit=Decimal("1000000")):
        self.limit = Decimal(limit)
        self.exposure = Decimal("0")
        self.calls = []

    def __call__(self, customer_id, amount, stage):
        self.calls.append((customer_id, Decimal(amount), stage))
        held = self.exposure + Decimal(amount) > self.limit
        reasons = ("超出信用额度 over the credit limit",) if held else ()
        return lookups.CreditVerdict(
            held=held, limit=self.limit, exposure=self.exposure, overdue=Decimal("0"), reasons=reasons
        )

    def install(self):
        """Answer the credit check instead of whoever answers it (the receivables app), until uninstalled."""
        self.saved = list(lookups._answers.get(lookups.CREDIT_CHECK.name, []))
        lookups._answers[lookups.CREDIT_CHECK.name] = [self]

    def uninstall(self):
        lookups._answers[lookups.CREDIT_CHECK.name] = self.saved
