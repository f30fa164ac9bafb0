from decimal import Decimal

from kehu.sales.models import Stage
from kehu.sales.services import opportunity_create, opportunity_move


def stage(name, code="direct"):
    return Stage.objects.get(pipeline__code=code, name=name)


def make_opportunity(customer, actor, name="数控机床", amount="100000", at=None, reason="", **fields):
    opp = opportunity_create(customer=customer, actor=actor, name=name, amount=Decimal(amount), **fields)
    if at is not None:
        opportunity_move(opportunity=opp, stage=stage(at), actor=actor, reason=reason or "原因")
    return opp
