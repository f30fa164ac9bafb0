"""Cross-sell pairs (SAL-10), precomputed: which products are quoted together, overall and by
customers like one another.

At 500,000 quotes and 5 million lines no page may count pairs live. Once a night
`affinity_rebuild` counts, in the database, every pair of different products on one quote
(superseded revisions and the recycle bin left out) and keeps the `TOP` most frequent partners of
each product; then, over accepted quotes only, the pairs by the customers' industry, segment and
channel level that at least two customers of the group took, ranked by how many distinct
customers took both (`TOP_IN_GROUP` per product and group). The counting writes to a
temporary table of the connection, so the shared table is locked only for the short swap at the end.
The quote page reads the result with two queries (`kehu.quotes.insights.cross_sell`).
"""

from django.db import connection, transaction
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.quotes.models import AffinityScope, ProductAffinity, Quote, QuoteLine, QuoteState

TOP = 20
# A group's pairs: fewer partners, and only pairs that at least two customers of the group took
# (one customer is no pattern; at 500,000 quotes this keeps the table small).
TOP_IN_GROUP = 5
MIN_CUSTOMERS_IN_GROUP = 2
STAGING = "kehu_affinity_staging"
# The customer's column that defines "customers like this one", per scope.
SCOPE_COLUMNS = {
    AffinityScope.INDUSTRY: "industry",
    AffinityScope.SEGMENT: "segment",
    AffinityScope.CHANNEL: "channel_level",
}


def _pairs_sql(*, scope: str, column: str | None, states: list[str], top: int, at_least: int = 1) -> tuple[str, list]:
    """One INSERT into the staging table: the top pairs of every product (per value of `column`)."""
    line, quote, customer = QuoteLine._meta.db_table, Quote._meta.db_table, Customer._meta.db_table
    value = f"c.{column}" if column else "''"
    join_customer = f"JOIN {customer} c ON c.id = q.customer_id" if column else ""
    not_blank = f"AND c.{column} <> ''" if column else ""
    marks = ", ".join(["%s"] * len(states))
    # Overall pairs rank by quotes; a group's pairs by the distinct customers who took them.
    rank = "quotes DESC, customers DESC" if not column else "customers DESC, quotes DESC"
    sql = f"""
        INSERT INTO {STAGING} (product_id, other_id, scope, value, quotes, customers)
        WITH qp AS (
            SELECT DISTINCT l.quote_id, l.product_id, q.customer_id, {value} AS value
            FROM {line} l
            JOIN {quote} q ON q.id = l.quote_id
            {join_customer}
            WHERE q.deleted_at IS NULL AND q.state IN ({marks}) {not_blank}
        ),
        pairs AS (
            SELECT a.product_id, b.product_id AS other_id, a.value,
                   COUNT(*) AS quotes, COUNT(DISTINCT a.customer_id) AS customers
            FROM qp a JOIN qp b ON b.quote_id = a.quote_id AND b.product_id <> a.product_id
            GROUP BY a.product_id, b.product_id, a.value
            HAVING COUNT(DISTINCT a.customer_id) >= %s
        ),
        ranked AS (
            SELECT product_id, other_id, value, quotes, customers,
                   ROW_NUMBER() OVER (PARTITION BY product_id, value ORDER BY {rank}, other_id) AS place
            FROM pairs
        )
        SELECT product_id, other_id, %s, value, quotes, customers FROM ranked WHERE place <= %s
    """
    return sql, [*states, at_least, scope, top]


def affinity_rebuild(*, top: int = TOP, now=None) -> int:
    """Count the pairs again and replace the table; returns the rows kept. Idempotent."""
    now = now or timezone.now()
    counted = [s for s in QuoteState.values if s != QuoteState.SUPERSEDED]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (product_id integer, other_id integer, scope varchar(10), "
            "value varchar(20), quotes integer, customers integer)"
        )
        try:
            cursor.execute(*_pairs_sql(scope=AffinityScope.ALL, column=None, states=counted, top=top))
            for scope, column in SCOPE_COLUMNS.items():
                cursor.execute(
                    *_pairs_sql(
                        scope=scope,
                        column=column,
                        states=[QuoteState.ACCEPTED],
                        top=min(top, TOP_IN_GROUP),
                        at_least=MIN_CUSTOMERS_IN_GROUP,
                    )
                )
            table = ProductAffinity._meta.db_table
            with transaction.atomic():
                cursor.execute(f"DELETE FROM {table}")
                cursor.execute(
                    f"INSERT INTO {table} (product_id, other_id, scope, value, quotes, customers, computed_at) "
                    f"SELECT product_id, other_id, scope, value, quotes, customers, %s FROM {STAGING}",
                    [connection.ops.adapt_datetimefield_value(now)],
                )
                kept = cursor.rowcount
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    return kept


def affinity_computed_at():
    """When the pairs were last counted (None: never)."""
    return ProductAffinity.objects.order_by().values_list("computed_at", flat=True).first()
