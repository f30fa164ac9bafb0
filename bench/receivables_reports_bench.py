"""Timing cases of the ageing report, the customer statement and the credit check (SAL-9, CLS-4),
run by `bench/money_bench.py` on the money-chain data set (see its docstring for `ctx`).

Pages are timed through the Django test client (URL resolution, middleware, the view, the
template: what a person waits for, without HTTP); the credit check is the function the orders and
invoices call (`lookups.ask_call(CREDIT_CHECK, …)`).

Where the ageing figures come from: `DueDay` (one row per responsible person and due date,
kept current in the transaction of every plan, payment and allocation change by
`kehu.receivables.balances.balances_refresh`, and rolled each night) summed into buckets by one
SQL query; `CustomerBalance` (one row per customer, kept the same way) for the not-invoiced column
and the customer pages.
"""

from decimal import Decimal


def _page(ctx, user: str, url: str):
    client = ctx.client(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)

    def run():
        return client.get(url)

    return run


def cases(ctx) -> list:
    from kehu.core import lookups
    from kehu.receivables.models import CreditStage, ReceivablesSettings

    heavy = ctx.heavy_customer.pk
    typical = ctx.typical_customer.pk
    stage = ReceivablesSettings.current().credit_stage
    stage = stage if stage != CreditStage.OFF else CreditStage.ORDER

    def credit(customer_id):
        def run():
            verdict = lookups.ask_call(lookups.CREDIT_CHECK, customer_id, Decimal("10000"), stage)
            return verdict

        return run

    if ReceivablesSettings.current().credit_stage == CreditStage.OFF:
        credit_note = " (credit control is off in this data set: the check answers None at once)"
    else:
        credit_note = ""
    ageing = "/receivables/reports/ageing/"
    return [
        (
            "ageing_company",
            "Ageing report, whole company by department (page, finance1)",
            _page(ctx, "finance1", ageing),
            200.0,
        ),
        (
            "ageing_company_reps",
            "Ageing report, whole company by rep (page, finance1)",
            _page(ctx, "finance1", ageing + "?level=rep"),
            200.0,
        ),
        (
            "ageing_manager",
            "Ageing report, manager1's scope by rep (page, manager1)",
            _page(ctx, "manager1", ageing + "?level=rep"),
            100.0,
        ),
        (
            "ageing_customers",
            "Ageing report, first page of customers, whole company (page, finance1)",
            _page(ctx, "finance1", ageing + "?level=customer"),
            None,
        ),
        (
            "ageing_manager_customers",
            "Ageing report, first page of manager1's customers (page, manager1)",
            _page(ctx, "manager1", ageing + "?level=customer"),
            None,
        ),
        (
            "statement",
            "Statement of the customer with the most plans, default period (page, finance1)",
            _page(ctx, "finance1", f"/receivables/reports/statement/{heavy}/"),
            50.0,
        ),
        (
            "statement_typical",
            "Statement of a typical customer, default period (page, finance1)",
            _page(ctx, "finance1", f"/receivables/reports/statement/{typical}/"),
            50.0,
        ),
        (
            "statement_year",
            "Statement of the customer with the most plans, a whole year (page, finance1)",
            _page(
                ctx,
                "finance1",
                f"/receivables/reports/statement/{heavy}/?first={ctx.today.year - 1}-01-01&last={ctx.today.year - 1}-12-31",
            ),
            None,
        ),
        (
            "customer_money",
            "What the customer with the most plans owes (phone page, finance1)",
            _page(ctx, "finance1", f"/receivables/reports/customer/{heavy}/"),
            None,
        ),
        (
            "credit_check",
            f"Credit check at the {stage} stage, customer with the most plans{credit_note}",
            credit(heavy),
            5.0,
        ),
        (
            "credit_check_typical",
            f"Credit check at the {stage} stage, a typical customer{credit_note}",
            credit(typical),
            5.0,
        ),
        (
            "customer_list_badges",
            "Customer list with the overdue and over-limit badges (page, manager1)",
            _page(ctx, "manager1", "/customers/"),
            None,
        ),
    ]
