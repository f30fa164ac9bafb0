"""Questions a lower app asks about customers, answered by the apps above it.

The pool must know whether a customer has a deal in progress, but `sales` sits above `pool` and
may not be imported by it. So the question is declared here, the pool asks it, and `sales`
registers its answer when it loads (`AppConfig.ready`). A question nobody answers yet (signed
contracts before the contracts app exists) answers empty. Several apps may answer one question:
their answers are merged (sets joined, the latest moment kept).

Every answer takes a batch of customer ids and answers with one or a few queries, so a job
walking a million customers asks once per batch, not once per customer.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Question:
    name: str
    doc: str
    # "ids": the subset of the asked ids for which the answer is yes;
    # "latest": a moment per customer id (only the ids that have one);
    # "rows": records of one customer's products (see `ask_rows`);
    # "items": for each asked id a list of records (see `ask_items`);
    # "amounts": a Decimal per customer id, summed over the answers (see `ask_amounts`);
    # "call": one answer computes something for one customer (see `ask_call`).
    shape: str


OPEN_DEAL = Question("open_deal", "Customers with a deal in progress.", "ids")
SIGNED_CONTRACT = Question("signed_contract", "Customers with a signed contract in force.", "ids")
LAST_WON = Question("last_won", "When each customer last won a deal or placed an order.", "latest")
# Declared now so the pool, alerts and the 360° page can ask; the support and receivables apps answer.
OPEN_TICKET = Question("open_ticket", "Customers with a service ticket not yet closed.", "ids")
# What a customer still has open with after-sales service (tickets, complaints), for every sales view of
# it (the opportunity, the quote): `function(ids)` returns {customer id: [ServiceItem, ...]}.
OPEN_SERVICE = Question("open_service", "Open service tickets and complaints of each customer.", "items")
OVERDUE_RECEIVABLE = Question("overdue_receivable", "Customers with a payment past its due date.", "ids")
# Customers with a complaint (投诉) not yet closed: a promotional send to them is refused (support answers).
OPEN_COMPLAINT = Question("open_complaint", "Customers with a complaint not yet closed.", "ids")
# The prices a customer paid for products outside quotes (the orders app answers; the quote's price
# history asks). Shape "rows": `function(customer_id, product_ids, per_product)` returns `PriceRow`s,
# newest first, at most `per_product` of each product, in a fixed number of queries.
CUSTOMER_PRODUCT_PRICES = Question(
    "customer_product_prices", "Earlier prices of products for one customer (orders).", "rows"
)


# Revenue per customer in a calendar year from orders (the ABC ranking asks; the orders app answers).
# `function(ids, year=...)` returns {customer id: Decimal} for the ids that have any.
CUSTOMER_REVENUE = Question("customer_revenue", "Revenue of each customer in a year (orders).", "amounts")
# Customers whose exposure is beyond their credit limit (the receivables app answers).
OVER_CREDIT_LIMIT = Question("over_credit_limit", "Customers over their credit limit.", "ids")
# What a customer still has open in money: contracts in force, orders not completed, what it owes.
# `function(ids)` returns {customer id: [MoneyItem, ...]} (handover brief, 360° page).
OPEN_MONEY = Question("open_money", "Open contracts, orders and receivables of each customer.", "items")
# The credit check (CLS-4): `function(customer_id, amount, stage)` returns a `CreditVerdict`, or None
# when credit control is off at that stage. Orders ask it at the order and delivery stages,
# invoices at the invoice stage; the receivables app answers.
CREDIT_CHECK = Question("credit_check", "Whether a new amount takes a customer beyond its credit.", "call")
# Payments received (回款 actuals of the collection targets, SAL-11): `function(owner_ids, first, last)`
# with owner_ids None for everyone returns {(owner id, first day of month): Decimal}.
COLLECTED = Question("collected", "Payments received per rep and month.", "call")


@dataclass(frozen=True)
class MoneyItem:
    """One open record in a customer's money chain, as the app that keeps it reports it."""

    kind: str  # "contract", "order", "receivable": what it is, for grouping
    reference: str  # "HT2026-0012"
    label: str  # what it is and its state, in the active language
    amount: Decimal  # the amount still open (owed, undelivered, unperformed)
    link: str = ""
    is_overdue: bool = False


@dataclass(frozen=True)
class ServiceItem:
    """One open ticket or complaint of a customer, as the service app reports it."""

    kind: str  # "ticket", "complaint"
    reference: str  # "TK2026-000123"
    label: str  # its subject and state, in the active language
    link: str = ""
    perm: str = ""  # the permission a reader needs to follow the link
    is_late: bool = False  # past its service level or deadline


@dataclass(frozen=True)
class CreditVerdict:
    """The credit check's answer: `held` is True when the amount needs a credit-exception approval."""

    held: bool
    limit: Decimal
    exposure: Decimal  # open receivables + orders not yet invoiced, before this amount
    overdue: Decimal  # owed past its due date beyond the tolerated days
    reasons: tuple[str, ...] = ()  # why it is held, in the active language


@dataclass(frozen=True)
class PriceRow:
    """One earlier price of a product for a customer, as another app (orders) reports it."""

    product_id: int
    specification_id: int | None  # None: the row speaks for every specification of the product
    on: date
    reference: str  # what people call the record: "SO-2026-0012"
    state: str  # its state, in the active language
    unit_price: Decimal
    discount: Decimal
    who: str  # the rep, as people read the name
    quantity: Decimal | None = None
    link: str = ""  # a path into Kehu, "" when there is none
    is_accepted: bool = True  # an order is a price the customer took


_answers: dict[str, list[Callable[[list[int]], object]]] = {}


def answer(question: Question, function: Callable[[list[int]], object]) -> None:
    """Register `function(ids)` as an answer to `question` (once per function, however often the
    app loads)."""
    registered = _answers.setdefault(question.name, [])
    if function not in registered:
        registered.append(function)


def answered(question: Question) -> bool:
    return bool(_answers.get(question.name))


def ask_rows(question: Question, customer_id: int, product_ids: Iterable[int], per_product: int) -> list:
    """The joined answers of a "rows" question (see CUSTOMER_PRODUCT_PRICES); empty when nobody answers."""
    product_ids = list(product_ids)
    found: list = []
    if not product_ids:
        return found
    for function in _answers.get(question.name, ()):
        found.extend(function(customer_id, product_ids, per_product))
    return found


def ask_items(question: Question, ids: Iterable[int]) -> dict[int, list]:
    """The joined answers of an "items" question: {customer id: [record, ...]} (ids with none left out)."""
    ids = list(ids)
    found: dict[int, list] = {}
    for function in _answers.get(question.name, ()) if ids else ():
        for pk, records in function(ids).items():
            found.setdefault(pk, []).extend(records)
    return found


def ask_amounts(question: Question, ids: Iterable[int], **kwargs) -> dict[int, Decimal]:
    """The summed answers of an "amounts" question: {customer id: Decimal} (ids with none left out)."""
    ids = list(ids)
    found: dict[int, Decimal] = {}
    for function in _answers.get(question.name, ()) if ids else ():
        for pk, amount in function(ids, **kwargs).items():
            found[pk] = found.get(pk, Decimal("0")) + amount
    return found


def ask_call(question: Question, *args, **kwargs):
    """The first answer of a "call" question, or None when nobody answers it."""
    for function in _answers.get(question.name, ()):
        return function(*args, **kwargs)
    return None


def ask(question: Question, ids: Iterable[int]):
    """The merged answers for these customers: a set of ids, or a dict id → moment."""
    ids = list(ids)
    if question.shape == "ids":
        found: set[int] = set()
        for function in _answers.get(question.name, ()):
            found |= set(function(ids)) if ids else set()
        return found
    latest: dict[int, datetime] = {}
    for function in _answers.get(question.name, ()):
        for pk, moment in (function(ids) if ids else {}).items():
            if moment is not None and (pk not in latest or moment > latest[pk]):
                latest[pk] = moment
    return latest
