"""Likely duplicates of a customer (CUS-5): normalised names, phones, emails and credit codes.

Normalisation is deliberately simple and the same on both sides of every comparison:

- names: NFKC (full-width → half-width), lower case, Latin legal forms dropped at the end
  ("co., ltd.", "ltd", "inc", "corp"), spaces and punctuation removed (including （）), then
  one Chinese legal-form suffix dropped (有限责任公司, 股份有限公司, 有限公司, 集团, 公司, 厂 …),
  so that 苏州华星精密机械有限公司 and 苏州 华星精密机械（有限责任公司） share one key;
- phones: digits only, an international prefix (+86, 0086) dropped, then a leading trunk 0
  (0512-6666 8888 → 51266668888); keys shorter than 7 digits are ignored (extensions, typos);
- emails: trimmed and lower-cased; credit codes: upper-cased, compared exactly.

Every number and address of a contact counts, not only the first (`ContactPoint`). The keys of
all phones are written into `Customer.search_text` by `kehu.customers.search`, so the existing
substring index finds them; e-mail addresses are looked up by `ContactPoint.key` (indexed); the
name key is `Customer.name_key` (indexed).
Visibility is decided by the caller (`selectors.customer_duplicates`): this module reads
across every scope on purpose, because a rep must learn that another rep's customer exists.
"""

from dataclasses import dataclass, field

from django.db.models.functions import Lower

from kehu.customers.models import Contact, ContactPoint, Customer, Medium
from kehu.customers.normalise import normalise_email, normalise_name, normalise_phone
from kehu.customers.search import search_candidates

CANDIDATE_LIMIT = 200


class Reason:
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    CREDIT_CODE = "credit_code"
    ORDER = ("name", "phone", "email", "credit_code")


@dataclass
class DuplicateMatch:
    customer_id: int
    name: str
    owner: str
    reasons: list[str] = field(default_factory=list)
    # Set by the selector: whether the asking user may open this customer.
    in_scope: bool = False


def _live_points(medium: str):
    """Points of live contacts of live customers."""
    return ContactPoint.objects.filter(
        medium=medium, contact__deleted_at__isnull=True, contact__customer__deleted_at__isnull=True
    )


def _phone_matches(keys: set[str], limit: int) -> set[int]:
    """Customers whose own phone or a live contact's phone has one of these keys.

    The substring index over `search_text` (which holds every phone key as a word) proposes
    candidates; a word-exact check drops numbers that merely contain the key."""
    found: set[int] = set()
    for key in keys:
        candidates, _complete, _every = search_candidates(key, CANDIDATE_LIMIT)
        rows = Customer.objects.filter(candidates, deleted_at__isnull=True).values_list("pk", "search_text")
        found |= {pk for pk, text in rows[:CANDIDATE_LIMIT] if key in text.split()}
        if len(found) >= limit:
            break
    return found


def find_duplicates(
    *, name: str, phone: str = "", email: str = "", credit_code: str = "", exclude_pk=None, limit: int = 10
) -> list[DuplicateMatch]:
    """Live customers that are likely the same as the one described, each with its reasons.

    Reads across all scopes: the caller shows details only of those the user may see."""
    reasons: dict[int, set[str]] = {}

    def add(ids, reason):
        for pk in ids:
            if pk != exclude_pk:
                reasons.setdefault(pk, set()).add(reason)

    live = Customer.objects.filter(deleted_at__isnull=True)
    if name_key := normalise_name(name):
        add(live.filter(name_key=name_key).values_list("pk", flat=True)[: limit + 1], Reason.NAME)
    phone_key = normalise_phone(phone)
    if phone_key:
        add(_phone_matches({phone_key}, limit + 1), Reason.PHONE)
    if email := normalise_email(email):
        by_customer = live.alias(email_key=Lower("email")).filter(email_key=email).values_list("pk", flat=True)
        by_contact = (
            Contact.objects.alias(email_key=Lower("email"))
            .filter(email_key=email, deleted_at__isnull=True, customer__deleted_at__isnull=True)
            .values_list("customer_id", flat=True)
        )
        by_point = _live_points(Medium.EMAIL).filter(key=email).values_list("contact__customer_id", flat=True)
        add(by_customer[: limit + 1], Reason.EMAIL)
        add(by_contact[: limit + 1], Reason.EMAIL)
        add(by_point[: limit + 1], Reason.EMAIL)
    if credit_code := (credit_code or "").strip().upper():
        add(live.filter(credit_code=credit_code).values_list("pk", flat=True)[: limit + 1], Reason.CREDIT_CODE)
    if not reasons:
        return []
    # The strongest first: more reasons, then the credit code (an identity), then the newest.
    ranked = sorted(reasons, key=lambda pk: (-len(reasons[pk]), Reason.CREDIT_CODE not in reasons[pk], -pk))
    ranked = ranked[:limit]
    rows = (
        Customer.objects.filter(pk__in=ranked)
        .select_related("owner")
        .only("pk", "name", "owner__username", "owner__first_name", "owner__last_name")
    )
    by_pk = {c.pk: c for c in rows}
    return [
        DuplicateMatch(
            customer_id=pk,
            name=by_pk[pk].name,
            owner=by_pk[pk].owner.display_name if by_pk[pk].owner else "",
            reasons=[r for r in Reason.ORDER if r in reasons[pk]],
        )
        for pk in ranked
        if pk in by_pk
    ]


BULK_CHUNK = 500


def _chunks(values, size=BULK_CHUNK):
    values = sorted(values)
    for i in range(0, len(values), size):
        yield values[i : i + size]


PHONE_SCAN_FROM = 1000


def _phone_matches_scan(keys: set[str]) -> dict[str, set[int]]:
    """{phone key: customers}: one pass over every live customer's search text. Many keys (a
    large import) make this cheaper than index lookups, whose digit trigrams are all common."""
    found: dict[str, set[int]] = {}
    rows = Customer.objects.filter(deleted_at__isnull=True).values_list("pk", "search_text")
    for pk, text in rows.iterator(chunk_size=5000):
        for word in text.split():
            if word in keys:
                found.setdefault(word, set()).add(pk)
    return found


def _phone_matches_many(keys: set[str]) -> dict[str, set[int]]:
    """{phone key: customers having it as a word of their search text}, asked per chunk of keys
    (one index query for many keys on SQLite's trigram table; ORed pg_trgm lookups on PostgreSQL),
    or by one scan when there are many keys."""
    if len(keys) >= PHONE_SCAN_FROM:
        return _phone_matches_scan(keys)
    from functools import reduce
    from operator import or_

    from django.db import connection
    from django.db.models import Q

    from kehu.customers.search import TRIGRAM_TABLE

    found: dict[str, set[int]] = {}
    for chunk in _chunks(keys, 200):
        if connection.vendor == "sqlite":
            match = " OR ".join('"' + k + '"' for k in chunk)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT rowid FROM {TRIGRAM_TABLE} WHERE {TRIGRAM_TABLE} MATCH %s", [match])
                ids = [row[0] for row in cursor.fetchall()]
            rows = []
            for part in _chunks(ids):
                rows += Customer.objects.filter(pk__in=part, deleted_at__isnull=True).values_list("pk", "search_text")
        else:
            condition = reduce(or_, (Q(search_text__contains=k) for k in chunk))
            rows = Customer.objects.filter(condition, deleted_at__isnull=True).values_list("pk", "search_text")
        wanted = set(chunk)
        for pk, text in rows:
            for word in set(text.split()) & wanted:
                found.setdefault(word, set()).add(pk)
    return found


def find_duplicates_many(queries: list[dict]) -> list[dict[int, list[str]]]:
    """Set-based `find_duplicates` for bulk imports: for each query (name, phone, email,
    credit_code) the live customers it matches and the reasons, {customer id: [reasons]}.

    A few queries per 500 distinct keys instead of several per row; reads across all scopes."""
    row_name_keys = [
        q["name_key"] if q.get("name_key") is not None else normalise_name(q.get("name", "")) for q in queries
    ]
    name_keys = {k for k in row_name_keys if k}
    row_phones = [
        {k for p in q.get("phones", [q.get("phone", "")]) if p and (k := normalise_phone(p))} for q in queries
    ]
    row_emails = [
        {k for e in q.get("emails", [q.get("email", "")]) if e and (k := normalise_email(e))} for q in queries
    ]
    phones = set().union(*row_phones)
    emails = set().union(*row_emails)
    codes = {c for q in queries if (c := (q.get("credit_code") or "").strip().upper())}
    live = Customer.objects.filter(deleted_at__isnull=True)
    # The email and credit code indexes are partial (non-empty values): say so, or they are not used.
    with_email = live.exclude(email="")
    by_name: dict[str, set[int]] = {}
    for chunk in _chunks(name_keys):
        for pk, key in live.filter(name_key__in=chunk).values_list("pk", "name_key"):
            by_name.setdefault(key, set()).add(pk)
    by_email: dict[str, set[int]] = {}
    for chunk in _chunks(emails):
        for pk, key in with_email.alias(k=Lower("email")).filter(k__in=chunk).values_list("pk", Lower("email")):
            by_email.setdefault(key, set()).add(pk)
        contacts = (
            Contact.objects.alias(k=Lower("email"))
            .filter(k__in=chunk, deleted_at__isnull=True, customer__deleted_at__isnull=True)
            .exclude(email="")
            .values_list("customer_id", Lower("email"))
        )
        for pk, key in contacts:
            by_email.setdefault(key, set()).add(pk)
        # Every address of a contact, not only the first (kept in ContactPoint, indexed by key).
        for pk, key in _live_points(Medium.EMAIL).filter(key__in=chunk).values_list("contact__customer_id", "key"):
            by_email.setdefault(key, set()).add(pk)
    by_code: dict[str, set[int]] = {}
    for chunk in _chunks(codes):
        for pk, key in live.exclude(credit_code="").filter(credit_code__in=chunk).values_list("pk", "credit_code"):
            by_code.setdefault(key, set()).add(pk)
    by_phone = _phone_matches_many(phones) if phones else {}
    results = []
    for q, name_key, phone_keys, email_keys in zip(queries, row_name_keys, row_phones, row_emails, strict=True):
        reasons: dict[int, set[str]] = {}
        for pk in by_name.get(name_key, ()):
            reasons.setdefault(pk, set()).add(Reason.NAME)
        for key in phone_keys:
            for pk in by_phone.get(key, ()):
                reasons.setdefault(pk, set()).add(Reason.PHONE)
        for key in email_keys:
            for pk in by_email.get(key, ()):
                reasons.setdefault(pk, set()).add(Reason.EMAIL)
        if code := (q.get("credit_code") or "").strip().upper():
            for pk in by_code.get(code, ()):
                reasons.setdefault(pk, set()).add(Reason.CREDIT_CODE)
        results.append({pk: [r for r in Reason.ORDER if r in rs] for pk, rs in reasons.items()} if reasons else {})
    return results


def duplicate_query(customer: Customer) -> dict:
    """The find_duplicates arguments describing an existing customer."""
    return {
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "credit_code": customer.credit_code,
        "exclude_pk": customer.pk,
    }


__all__ = [
    "DuplicateMatch",
    "Reason",
    "duplicate_query",
    "find_duplicates",
    "find_duplicates_many",
    "normalise_name",
    "normalise_phone",
]
