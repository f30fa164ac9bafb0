"""Contracts in the demo (CON-1/CON-2): for each rep, a contract drafted from the accepted demo
quote and signed (rep1's with an amendment that raises the amount and moves the end date), a
framework agreement typed by amount in a different stage per rep (a draft, one waiting for the sales
manager's approval, a completed one), and a signed service contract ending within three weeks (the
expiry reminder and the list's "ending soon" filter have something to show). Written through the
services, so timelines, approvals and events are real. A default contract template is kept.
Tolerates an empty catalog or no accepted quotes: then only the typed contracts are made."""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from kehu.contracts import document, services
from kehu.contracts.models import ContractSettings, ContractTemplate
from kehu.customers.models import Customer
from kehu.quotes.models import Quote, QuoteState
from kehu.users.models import User

FRAMEWORK = {"rep1": "draft", "rep2": "pending", "rep3": "completed"}
OTHER_TERMS = "本合同一式两份，双方各执一份，自双方签字盖章之日起生效。"


def _sign(contract, rep, signed_on) -> None:
    services.contract_transition(contract=contract, to="pending", actor=rep)
    contract.refresh_from_db()
    if contract.approved_at:
        services.contract_transition(contract=contract, to="signed", actor=rep, signed_on=signed_on)
        contract.refresh_from_db()


def seed(seed: int = 7) -> int:
    """The demo's contracts, their events' words in Chinese (the demo's language)."""
    with translation.override("zh-hans"), transaction.atomic():
        return _seed(seed)


def _seed(seed: int) -> int:
    users = {u.username: u for u in User.objects.filter(username__in=["admin", "rep1", "rep2", "rep3"])}
    if "admin" not in users:
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    ContractSettings.objects.get_or_create(
        pk=1, defaults={"approval_above": Decimal("100000"), "remind_days_before_end": 30}
    )
    if not ContractTemplate.objects.exists():
        services.template_save(
            actor=users["admin"],
            name="标准购销合同",
            language="zh-hans",
            body=document.DEFAULT_BODY["zh-hans"],
            is_default=True,
            is_active=True,
        )
    made = 0
    for username in ("rep1", "rep2", "rep3"):
        rep = users.get(username)
        if rep is None:
            continue
        customers = list(Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("-pk")[:3])
        quote = (
            Quote.objects.filter(owner=rep, state=QuoteState.ACCEPTED, deleted_at__isnull=True).order_by("pk").first()
        )
        if quote is not None:
            contract = services.contract_create(
                actor=rep,
                quote=quote,
                starts_on=today - timedelta(days=40),
                ends_on=today + timedelta(days=320),
                other_terms=OTHER_TERMS,
                our_signatory=rep.display_name,
            )
            made += 1
            try:
                _sign(contract, rep, today - timedelta(days=rng.randint(20, 40)))
                if username == "rep1" and contract.stage == "signed":
                    amendment = services.amendment_create(
                        contract=contract,
                        actor=rep,
                        summary="客户追加备件，合同金额相应增加，期限延长三个月。",
                        amount_after=(contract.amount * Decimal("1.1")).quantize(Decimal("0.01")),
                        ends_on_after=contract.ends_on + timedelta(days=91),
                    )
                    services.amendment_submit(amendment=amendment, actor=rep)
            except ValidationError:
                pass
        if not customers:
            continue
        stage = FRAMEWORK[username]
        amount = Decimal("150000") if stage == "pending" else Decimal(rng.choice(["36000", "58000", "88000"]))
        framework = services.contract_create(
            actor=rep,
            customer=customers[0],
            title="年度备件框架协议",
            amount=amount,
            payment_terms="每月 25 日前结清上月货款。",
            starts_on=today.replace(month=1, day=1),
            ends_on=today.replace(month=12, day=31),
            other_terms=OTHER_TERMS,
        )
        made += 1
        if stage == "pending":
            services.contract_transition(contract=framework, to="pending", actor=rep)
        elif stage == "completed":
            _sign(framework, rep, today - timedelta(days=200))
            services.contract_transition(contract=framework, to="completed", actor=rep, reason="货款已全部结清")
        if len(customers) > 1:
            service = services.contract_create(
                actor=rep,
                customer=customers[1],
                title="设备维保服务合同",
                amount=Decimal(rng.choice(["12000", "18000", "24000"])),
                payment_terms="签订后一次性支付。",
                starts_on=today - timedelta(days=345),
                ends_on=today + timedelta(days=rng.randint(10, 20)),
            )
            _sign(service, rep, today - timedelta(days=345))
            made += 1
    return made
