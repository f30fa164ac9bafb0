"""Chinese substring search over customer name, contact names and every phone number.

SQLite: an FTS5 trigram table answers 3+ characters; a second FTS5 table holds the
character bigrams of the same text (generated here) and answers 2 characters.
PostgreSQL: a pg_trgm GIN index on `Customer.search_text` answers 3+ characters; a GIN index
on the array of its single characters and adjacent pairs (`kehu_search_grams`, customers
migration 0014) answers 1 and 2, except for the characters and pairs most customers hold, whose
newest matches are found by walking the newest customers. `search_candidates` hides the
difference and caps the candidates so that common terms stay fast.
"""

from django.db import connection
from django.db.models import Q, Subquery
from django.db.models.expressions import RawSQL

from kehu.customers.models import Contact, ContactPoint, Customer, Medium
from kehu.customers.normalise import normalise_phone

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
    """Name and phones of the customer and its contacts; each phone is followed by its
    normalised key (0512-6666 8888 → 51266668888) as a word, which duplicate detection looks up.
    A contact's numbers are its mobile and office phone, then the other numbers it has
    (`phone_numbers`, when the caller read them: every number of `Contact.points`)."""
    parts = [customer.name, customer.phone]
    phones = [customer.phone]
    for contact in contacts:
        numbers = [contact.mobile, contact.office_phone]
        numbers += [n for n in getattr(contact, "phone_numbers", ()) if n not in numbers]
        parts += [contact.name, *numbers]
        phones += numbers
    words = " ".join(p for p in parts if p).lower().split()
    keys = sorted({k for p in phones if (k := normalise_phone(p)) and k not in words})
    return " ".join(words + keys)


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
    numbers: dict[int, list[str]] = {}
    for contact_id, number in (
        ContactPoint.objects.filter(
            contact__customer_id__in=customer_ids, contact__deleted_at__isnull=True, medium=Medium.PHONE
        )
        .order_by("contact_id", "position", "id")
        .values_list("contact_id", "value")
    ):
        numbers.setdefault(contact_id, []).append(number)
    # In id order, so the text is the same on every database (and as the demo generator writes it).
    for contact in (
        Contact.objects.filter(customer_id__in=customer_ids, deleted_at__isnull=True)
        .order_by("pk")
        .only("customer_id", "name", "mobile", "office_phone")
    ):
        contact.phone_numbers = numbers.get(contact.pk, [])
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


# The expression of the PostgreSQL index, written exactly so (the planner matches it as text).
GRAMS_SQL = (
    "SELECT id FROM customers_customer WHERE kehu_search_grams(search_text) @> ARRAY[%s]::text[] AND deleted_at IS NULL"
)


# A character or pair held by more than this share of the live customers is looked up by walking the
# newest customers (below): 2,000 matches of a 3.5% term lie within the newest ~57,000.
COMMON_SHARE = 0.035
COMMON_SQL = "SELECT id FROM customers_customer WHERE search_text LIKE %s AND deleted_at IS NULL"


def gram_share(term: str) -> float:
    """PostgreSQL: the share of live customers whose text holds this character or pair, as ANALYZE
    counted it for the grams index (0 when it is not among the most common ones; under a ms)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.f FROM pg_stats s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) "
            "AS u(e, f) WHERE s.tablename = 'customer_search_grams' AND s.attname = 'kehu_search_grams' "
            "AND u.e = %s",
            [term],
        )
        row = cursor.fetchone()
    return row[0] if row else 0.0


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _index_sql(term: str) -> tuple[str, list, str] | None:
    """SQL selecting the ids of all customers matching `term` through an index, if one can
    answer, with the name of its id column."""
    if connection.vendor == "postgresql":
        # 3+ characters: pg_trgm answers the plain LIKE (below).
        return (GRAMS_SQL, [term], "id") if len(term) <= 2 and not any(c.isspace() for c in term) else None
    if len(term) >= 3:
        table = TRIGRAM_TABLE
    elif len(term) == 2 and term.isalnum():
        table = BIGRAM_TABLE
    else:
        return None
    return f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [_phrase(term)], "rowid"


MAX_WORDS = 5
# Up to this many matches travel as a list of ids; more stay an SQL subquery (long parameter lists cost).
FEW = 200


def search_candidates(query: str, cap: int = CANDIDATE_CAP) -> tuple[Q, bool, Q]:
    """Customers matching every word of `query`: (a filter for the candidates, whether the
    candidates are all the matches, a filter for all matches).

    The candidates (up to `cap` per word, the newest first) answer fast; when a word
    has more matches than that, the caller may need the full filter (slower) to find matches
    that are older but in the user's scope. Both filters stay in SQL: no id list travels
    through Python.
    """
    candidates, complete, every = Q(), True, Q()
    for word in query.lower().split()[:MAX_WORDS]:
        word_candidates, found, word_every = _word_candidates(word, cap)
        candidates &= word_candidates
        complete = complete and found < cap
        every &= word_every
    return candidates, complete, every


def _word_candidates(term: str, cap: int) -> tuple[Q, int, Q]:
    index = _index_sql(term)
    if index is not None:
        sql, params, key = index
        newest_sql, newest_params = sql, params
        if sql == GRAMS_SQL and gram_share(term) > COMMON_SHARE:
            # The index hands out every match (科技: 114,470 at a million customers, 73 ms to read and
            # sort); walking the primary key backwards finds the newest 2,000 in 7 ms.
            newest_sql, newest_params = COMMON_SQL, [_like(term)]
        with connection.cursor() as cursor:
            cursor.execute(f"{newest_sql} ORDER BY {key} DESC LIMIT %s", [*newest_params, cap])
            ids = [row[0] for row in cursor.fetchall()]
        every = Q(pk__in=RawSQL(sql, params))  # noqa: S611 - constant table name, bound parameters
        if len(ids) <= FEW or connection.vendor == "postgresql":
            # Few matches: the ids themselves, so the page's queries need not ask the index again.
            # On PostgreSQL always: with a subquery of 2,000 ids the planner hash-joined it against a
            # scan of the whole scope (it charges the scope's account-team subplan to every primary-key
            # probe) and each of the page's queries ran the lookup again: 1.4 s per query for a common
            # term at 1M customers (bench/README.md). With the ids each query probes the primary key.
            return Q(pk__in=ids), len(ids), every
        newest = RawSQL(f"{sql} ORDER BY {key} DESC LIMIT {int(cap)}", params)  # noqa: S611
        return Q(pk__in=newest), len(ids), every
    # PostgreSQL 3+ characters (pg_trgm GIN index on search_text); on SQLite 1 character. The newest
    # first, as the indexes above give them: the list searches these before all matches.
    every = Q(search_text__contains=term)
    matching = Customer.objects.filter(every, deleted_at__isnull=True).order_by("-pk")
    if connection.vendor == "postgresql":  # the ids, as above
        ids = list(matching.values_list("pk", flat=True)[:cap])
        return Q(pk__in=ids), len(ids), every
    return Q(pk__in=Subquery(matching.values("pk")[:cap])), matching[:cap].count(), every
