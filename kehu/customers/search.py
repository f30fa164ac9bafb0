"""Chinese substring search over customer name, contact names and phones.

SQLite: an FTS5 trigram table answers 3+ characters; a second FTS5 table holds the
character bigrams of the same text (generated here) and answers 2 characters.
PostgreSQL: a pg_trgm GIN index on `Customer.search_text`. Both cap the candidates
(the newest first) so common terms stay fast; `customer_search_ids` hides the difference.
"""

from django.db import connection

from kehu.customers.models import Contact, Customer

CANDIDATE_CAP = 2000
TRIGRAM_TABLE = "customer_search_tri"
BIGRAM_TABLE = "customer_search_bi"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TRIGRAM_TABLE} USING fts5(body, tokenize='trigram')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {BIGRAM_TABLE} USING fts5(body, tokenize='unicode61', detail='none')",
]
SQLITE_DROP = [f"DROP TABLE IF EXISTS {TRIGRAM_TABLE}", f"DROP TABLE IF EXISTS {BIGRAM_TABLE}"]
POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_search_trgm ON customers_customer USING gin (search_text gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS customer_search_trgm"]


def search_text_for(customer: Customer, contacts) -> str:
    parts = [customer.name, customer.phone]
    for contact in contacts:
        parts += [contact.name, contact.mobile, contact.office_phone]
    return " ".join(p for p in parts if p).lower()


def bigrams(text: str) -> str:
    """Space-separated pairs of adjacent letters/digits: "华星光" → "华星 星光"."""
    pairs = {text[i : i + 2] for i in range(len(text) - 1) if text[i].isalnum() and text[i + 1].isalnum()}
    return " ".join(sorted(pairs))


def sqlite_rows(pk: int, text: str) -> tuple[tuple[int, str], tuple[int, str]]:
    return (pk, text), (pk, bigrams(text))


def search_index_update(customer_ids) -> None:
    """Recompute the search text of these customers (call inside the writing transaction)."""
    customer_ids = list(customer_ids)
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids, deleted_at__isnull=True).only(
        "customer_id", "name", "mobile", "office_phone"
    ):
        contacts.setdefault(contact.customer_id, []).append(contact)
    rows = []
    for customer in Customer.objects.filter(pk__in=customer_ids).only("pk", "name", "phone"):
        text = search_text_for(customer, contacts.get(customer.pk, []))
        Customer.objects.filter(pk=customer.pk).update(search_text=text)
        rows.append((customer.pk, text))
    if connection.vendor == "sqlite" and rows:
        with connection.cursor() as cursor:
            ids = [(pk,) for pk, _text in rows]
            cursor.executemany(f"DELETE FROM {TRIGRAM_TABLE} WHERE rowid = %s", ids)
            cursor.executemany(f"DELETE FROM {BIGRAM_TABLE} WHERE rowid = %s", ids)
            cursor.executemany(f"INSERT INTO {TRIGRAM_TABLE}(rowid, body) VALUES (%s, %s)", rows)
            cursor.executemany(
                f"INSERT INTO {BIGRAM_TABLE}(rowid, body) VALUES (%s, %s)",
                [(pk, bigrams(text)) for pk, text in rows],
            )


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def customer_search_ids(query: str, cap: int = CANDIDATE_CAP) -> list[int] | None:
    """Ids of up to `cap` newest customers whose text contains `query`.

    None means "no index can answer this": the caller falls back to a capped LIKE.
    """
    term = " ".join(query.lower().split())
    if not term:
        return None
    if connection.vendor == "sqlite":
        if len(term) >= 3:
            sql = f"SELECT rowid FROM {TRIGRAM_TABLE} WHERE {TRIGRAM_TABLE} MATCH %s ORDER BY rowid DESC LIMIT %s"
        elif len(term) == 2 and term.isalnum():
            sql = f"SELECT rowid FROM {BIGRAM_TABLE} WHERE {BIGRAM_TABLE} MATCH %s ORDER BY rowid DESC LIMIT %s"
        else:
            return None
        with connection.cursor() as cursor:
            cursor.execute(sql, [_phrase(term), cap])
            return [row[0] for row in cursor.fetchall()]
    if connection.vendor == "postgresql" and len(term) >= 3:
        return list(
            Customer.objects.filter(search_text__contains=term).order_by("-id").values_list("id", flat=True)[:cap]
        )
    return None
