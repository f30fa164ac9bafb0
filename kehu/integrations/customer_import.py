"""The customer import target (INT-1): customers with their primary contact, cleaned by the
customers app's own rules (`customer_clean` / `contact_clean`), duplicates found set-based by
`find_duplicates_many`, the search tables filled in bulk, and every created or changed customer
with its timeline entry (IMPORTED) and audit entry. The shared machinery is in `services`."""

from datetime import date
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.audit import snapshot
from kehu.core.models import AuditAction, AuditEntry
from kehu.customers import ownership
from kehu.customers.dedupe import find_duplicates_many
from kehu.customers.models import Contact, ContactPoint, Customer, Medium, TimelineEntry
from kehu.customers.normalise import normalise_name
from kehu.customers.points import (
    PRIMARY,
    Point,
    clean_points,
    point_rows,
    points_as_text,
    points_from_columns,
    points_of,
    primary_columns,
    with_primary,
)
from kehu.customers.search import BIGRAM_TABLE, TRIGRAM_TABLE, bigrams, search_index_update, search_text_for
from kehu.customers.selectors import customer_qs_visible_to, person_name_key
from kehu.customers.services import CONTACT_FIELDS, CUSTOMER_FIELDS, contact_clean, customer_clean
from kehu.integrations.bulk import Inserter
from kehu.integrations.events import TransferEvent
from kehu.integrations.fields import FIELDS, CellError, UnmatchedChoiceError, guess_mapping, parse_cell
from kehu.integrations.models import FileFormat, ImportJob, ImportRow, RowAction
from kehu.integrations.owners import OwnerLookup
from kehu.integrations.readers import VCARD_FIELDS
from kehu.integrations.targets import CUSTOMERS, ImportPlan, ImportTarget, Staged
from kehu.integrations.vcard_customers import CardCounter, stage_card, staged_points
from kehu.users.models import User
from kehu.users.selectors import assignable_owners

MAX_MATCHES = 5


def customer_may_import(user: User) -> bool:
    return user.has_perm("integrations.import_customers") and user.has_perm("customers.add_customer")


def customer_may_map_owner(user: User) -> bool:
    """Who assigns customers from the pool may give imported rows to others, or leave them ownerless."""
    return user.has_perm("pool.assign_customer")


class CustomerTarget(ImportTarget):
    name = CUSTOMERS
    label = gettext_lazy("Customers and contacts")
    title = gettext_lazy("Import customers and contacts")
    fields = FIELDS
    order = 10
    list_url_name = "customers:customer-list"
    list_label = gettext_lazy("Go to the customers")
    record_label = gettext_lazy("Customer")
    reads_whole_vcards = True
    required_message = gettext_lazy("Choose the column with the customer name (or the contact name).")
    no_update_message = gettext_lazy("There is no customer of yours to update for this row.")
    no_longer_message = gettext_lazy("You may no longer import customers.")
    owner_message = gettext_lazy("Only people who assign customers may import an owner column.")

    def may_import(self, user) -> bool:
        return customer_may_import(user)

    def may_map_owner(self, user) -> bool:
        return customer_may_map_owner(user)

    def owner_hint(self, with_owner):
        if with_owner:
            return _(
                "An owner column takes user names, names as shown in Kehu (张伟) or e-mail addresses; "
                "rows without an owner go to the public pool."
            )
        return _("The imported customers will be yours.")

    def guess_mapping(self, headers):
        return guess_mapping(headers)

    def vcard_mapping(self):
        return {str(i): f for i, f in enumerate(VCARD_FIELDS)}

    def mapping_errors(self, used):
        return [] if {"name", "contact_name"} & used else [str(self.required_message)]

    def stager(self, job, actor):
        return CustomerStager(job, actor)

    def match(self, rows, actor):
        return _match(rows, actor)

    def row_view(self, row: ImportRow) -> dict:
        customer = row.values.get("customer", {})
        contact = row.values.get("contact", {})
        matches = [
            {**m, "url": reverse("workspace:customer-detail", args=[m["id"]]) if m.get("in_scope") else ""}
            for m in row.matches
        ]
        card = row.values.get("card", {})
        return {
            "name": customer.get("name", ""),
            "contact": contact.get("name", ""),
            "phone": contact.get("mobile") or customer.get("phone", ""),
            "owner": row.values.get("owner_name") or row.values.get("owner", ""),
            "matches": matches,
            # vCards: what the card holds besides, and what was left out of it.
            "more_points": max(0, len(row.values.get("points", [])) - 1),
            "card_line": card.get("line"),
            "company_card": card.get("kind") == "company",
            "card_skip": card.get("skip", ""),
        }

    def plan(self, job, actor):
        return CustomerPlan(job, actor)


class CustomerStager:
    """Turns file rows into staged rows: parsed, cleaned by the customers app's rules, with owner and errors."""

    def __init__(self, job: ImportJob, actor: User):
        self.job = job
        self.actor = actor
        self.mapping = [(int(col), FIELDS[name]) for col, name in job.mapping.items()]
        self.owner_mapped = "owner" in job.mapping.values() and customer_may_map_owner(actor)
        self.owners = OwnerLookup(assignable_owners(actor)) if self.owner_mapped else None
        self.chosen = job.value_mapping or {}
        self.customer_fields = {f.attr for _i, f in self.mapping if f.model is Customer} | {"name", "kind"}
        self.contact_fields = {f.attr for _i, f in self.mapping if f.model is Contact} | {"name"}
        # One record of each kind, reset for every row: a model instance per row costs more than its checks.
        self.customer = Customer()
        self.contact = Contact()
        self.customer_defaults = {
            f.attname: f.get_default() for f in Customer._meta.concrete_fields if f.name in self.customer_fields
        }
        self.contact_defaults = {
            f.attname: f.get_default() for f in Contact._meta.concrete_fields if f.name in self.contact_fields
        }
        self.cards = CardCounter()

    @property
    def counts(self) -> dict:
        """Added to the preview's counts: cards with warnings (vCards)."""
        return dict(self.cards.counts)

    def stage(self, number: int, cells: list[str]) -> Staged:
        if (card := getattr(cells, "card", None)) is not None:
            staged = stage_card(number, card, self.actor)
            self.cards.staged(staged.values)
            return staged
        errors: dict[str, list[str]] = {}
        warnings: dict[str, list[str]] = {}
        customer: dict = {}
        contact: dict = {}
        owner_name = ""
        for index, fld in self.mapping:
            text = cells[index].strip() if index < len(cells) else ""
            if not text:
                continue
            if fld.name == "owner":
                owner_name = text
                continue
            try:
                value = parse_cell(fld, text, self.chosen.get(fld.name))
            except UnmatchedChoiceError as exc:
                warnings[fld.name] = [str(exc)]
                continue
            except CellError as exc:
                errors[fld.name] = [str(exc)]
                continue
            (customer if fld.model is Customer else contact)[fld.attr] = value
        if not customer.get("name") and contact.get("name"):
            customer["name"] = contact["name"]
            customer.setdefault("kind", "person")
        owner = self.actor
        if self.owner_mapped:
            owner = None
            if owner_name:
                owner, why = self.owners.find(owner_name)
                if owner is None:
                    errors["owner"] = [
                        why or _("“%(name)s” is not a user you may give customers to.") % {"name": owner_name}
                    ]
        record = self.customer
        for name, value in self.customer_defaults.items():
            setattr(record, name, value)
        for name, value in customer.items():
            setattr(record, name, value)
        record.owner = owner
        try:
            customer_clean(record, owner_required=not self.owner_mapped, fields=self.customer_fields)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        customer = {k: getattr(record, k) for k in customer}
        if contact:
            person = self.contact
            for name, value in self.contact_defaults.items():
                setattr(person, name, value)
            for name, value in contact.items():
                setattr(person, name, value)
            try:
                contact_clean(person, fields=self.contact_fields)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    errors.setdefault(f"contact_{name}", []).extend(messages)
            contact = {k: _plain(getattr(person, k)) for k in contact}
        values = {
            "customer": customer,
            "contact": contact,
            "owner": owner.username if owner else "",
            "owner_name": owner.display_name if owner else "",
            "name_key": record.name_key,
        }
        return Staged(number, values, errors, RowAction.SKIP if errors else RowAction.CREATE, warnings=warnings)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _match(rows: list[tuple[int, dict]], actor: User) -> dict[int, tuple[list, int | None]]:
    """{row number: (matches, the first match in the user's scope)} for rows that look like a
    customer in the database (any scope) or like an earlier row of the file."""
    queries = [
        {
            "name_key": values.get("name_key"),
            "name": values["customer"].get("name", ""),
            "phones": [
                values["customer"].get("phone", ""),
                values["contact"].get("mobile", ""),
                values["contact"].get("office_phone", ""),
                *(p[2] for p in values.get("points", ()) if p[0] == Medium.PHONE),
            ],
            "emails": [
                values["customer"].get("email", ""),
                values["contact"].get("email", ""),
                *(p[2] for p in values.get("points", ()) if p[0] == Medium.EMAIL),
            ],
            "credit_code": values["customer"].get("credit_code", ""),
        }
        for _number, values in rows
    ]
    found = find_duplicates_many(queries) if queries else []
    ids = sorted({pk for matches in found for pk in matches})
    visible = set()
    names = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        visible |= set(customer_qs_visible_to(actor).filter(pk__in=chunk).values_list("pk", flat=True))
        for c in (
            Customer.objects.filter(pk__in=chunk)
            .select_related("owner")
            .only("pk", "name", "owner__username", "owner__first_name", "owner__last_name")
        ):
            names[c.pk] = (c.name, c.owner.display_name if c.owner else "")
    first_rows: dict[str, int] = {}  # name key → first row of the file with it
    result = {}
    for (number, values), matches in zip(rows, found, strict=True):
        ranked = sorted(matches, key=lambda pk: (-len(matches[pk]), "credit_code" not in matches[pk], -pk))
        found_here = [
            {"id": pk, "name": names[pk][0], "owner": names[pk][1], "reasons": matches[pk], "in_scope": pk in visible}
            for pk in ranked[:MAX_MATCHES]
            if pk in names
        ]
        key = values.get("name_key") or normalise_name(values["customer"].get("name", ""))
        if key and key in first_rows:
            found_here.append({"row": first_rows[key], "reasons": ["name"]})
        elif key:
            first_rows[key] = number
        if found_here:
            target = next((m["id"] for m in found_here if m.get("in_scope")), None)
            result[number] = (found_here, target)
    return result


class CustomerPlan(ImportPlan):
    """New and changed customers and contacts, prepared batch by batch, written by `write`."""

    def __init__(self, job: ImportJob, actor: User):
        self.job = job
        self.actor = actor
        self.owners = {u.username.lower(): u for u in assignable_owners(actor)}
        self.may_pool = customer_may_map_owner(actor) and "owner" in job.mapping.values()
        self.may_change = actor.has_perm("customers.change_customer")
        self.now = timezone.now()
        self.new_customers: list[dict] = []
        self.new_contacts: list[tuple[dict, object]] = []  # (contact row, its customer: row dict or Customer)
        self.changed_customers: dict[int, Customer] = {}
        self.changed_contacts: list[Contact] = []
        self.customer_changes: dict[int, dict] = {}
        self.contact_changes: dict[int, dict] = {}
        # Contacts whose phones, e-mails or handles an update changes: contact id → all of them.
        self.contact_points: dict[int, list[Point]] = {}
        self.skipped = 0
        self.cards = CardCounter()

    def add(self, batch: list[tuple]) -> None:
        _prepare_batch(self.actor, self, batch, self.owners, self.may_pool, self.may_change, self.now)

    def write(self) -> dict:
        report = _write(self.job, self.actor, self)
        if self.job.format == FileFormat.VCARD:
            # What became of every card; the numbers add up to the file's BEGIN:VCARD lines.
            cards = self.cards.report(self.job.report.get("cards", 0))
            report["vcard"] = {**cards, "contacts_created": report["contacts_created"]}
        return report


def _owner_of(number, owner_name, owners, may_pool):
    if owner_name:
        owner = owners.get(owner_name.lower())
        if owner is None:
            raise ValidationError(
                _("Row %(row)s: “%(name)s” may no longer receive customers from you.")
                % {"row": number, "name": owner_name}
            )
        return owner
    if may_pool:
        return None
    raise ValidationError(_("Row %(row)s has no owner.") % {"row": number})


def _prepare_batch(actor, plan, batch, owners, may_pool, may_change, now) -> None:
    wanted = {t for _n, _v, e, a, t in batch if a == RowAction.UPDATE and not e and t}
    targets, contacts = {}, {}
    if wanted:
        if not may_change:
            raise PermissionDenied
        targets = {c.pk: c for c in customer_qs_visible_to(actor).filter(pk__in=wanted).select_related("owner")}
        for contact in (
            Contact.objects.filter(customer_id__in=list(targets), deleted_at__isnull=True)
            .order_by("pk")
            .prefetch_related("points")
        ):
            contacts.setdefault(contact.customer_id, []).append(contact)
    for number, values, errors, action, target_id in batch:
        plan.cards.chosen(values, errors, action)
        if errors or action == RowAction.SKIP:
            plan.skipped += 1
            continue
        customer_values = values.get("customer", {})
        contact_values = values.get("contact", {})
        owner = _owner_of(number, values.get("owner", ""), owners, may_pool)
        if action == RowAction.CREATE:
            customer = {
                **customer_values,
                "owner_id": owner.pk if owner else None,
                "created_by_id": actor.pk,
                "created_at": now,
                "updated_at": now,
                "name_key": values.get("name_key") or normalise_name(customer_values["name"]),
            }
            people = []
            if contact_values:
                contact = {**contact_values, "is_primary": True, "created_at": now, "updated_at": now}
                _contact_dates(contact)
                contact["points"] = staged_points(values)
                plan.new_contacts.append((contact, customer))
                people = [
                    SimpleNamespace(
                        **{"mobile": "", "office_phone": "", **contact, "phone_numbers": _phone_numbers(contact)}
                    )
                ]
            customer["search_text"] = search_text_for(
                SimpleNamespace(name=customer["name"], phone=customer.get("phone", "")), people
            )
            customer["search_bigrams"] = bigrams(customer["search_text"])  # not a column: for the FTS table
            plan.new_customers.append(customer)
            continue
        customer = plan.changed_customers.get(target_id) or targets.get(target_id)
        if customer is None:
            raise ValidationError(
                _("Row %(row)s: the customer to update is gone or no longer yours.") % {"row": number}
            )
        before = snapshot(customer, CUSTOMER_FIELDS)
        for name, value in customer_values.items():
            if name == "notes" and "card" in values and customer.notes and value not in customer.notes:
                value = f"{customer.notes}\n{value}"  # a card adds to the notes, never replaces them
            if name != "kind":
                setattr(customer, name, value)
        if values.get("owner") and owner is not None and customer.owner_id != owner.pk:
            customer.owner = owner
        changes = {k: [before[k], v] for k, v in snapshot(customer, CUSTOMER_FIELDS).items() if before[k] != v}
        if changes:
            customer.name_key = normalise_name(customer.name)
            plan.customer_changes.setdefault(customer.pk, {}).update(changes)
        plan.changed_customers[customer.pk] = customer
        if contact_values.get("name"):
            _plan_contact(plan, customer, contact_values, contacts, now, staged_points(values))


def _contact_dates(contact: dict) -> None:
    for name in ("birthday", "anniversary"):
        if contact.get(name):
            contact[name] = date.fromisoformat(contact[name])


def _phone_numbers(contact: dict) -> list[str]:
    return [p.value for p in contact.get("points") or [] if p.medium == Medium.PHONE]


def _plan_contact(plan, customer, contact_values, contacts, now, card_points=None) -> None:
    """A row's contact at a customer being updated: a new contact, or the one of the same name
    updated. A vCard's numbers join those the contact has (the card's first); a spreadsheet's
    mobile, office phone, email or WeChat column replaces the first of its kind."""
    key = person_name_key(contact_values["name"])
    existing = next((c for c in contacts.get(customer.pk, []) if person_name_key(c.name) == key), None)
    if existing is None:
        contact = {**contact_values, "created_at": now, "updated_at": now, "points": card_points}
        _contact_dates(contact)
        contacts.setdefault(customer.pk, []).append(Contact(name=contact["name"]))
        plan.new_contacts.append((contact, customer))
        return
    before = snapshot(existing, CONTACT_FIELDS)
    current = plan.contact_points.get(existing.pk)
    if current is None:
        current = points_of(existing) if existing.pk else []
    points = current
    for name, value in contact_values.items():
        if name in PRIMARY:
            if card_points is None and (value or "") != (before[name] or ""):
                points = with_primary(points, name, value)
            continue
        setattr(existing, name, date.fromisoformat(value) if name in ("birthday", "anniversary") and value else value)
    if card_points is not None:
        keys = {(p.medium, p.key or p.value.lower()) for p in card_points}
        points = card_points + [p for p in points if (p.medium, p.key or p.value.lower()) not in keys]
    points = clean_points(points)
    for name, value in primary_columns(points).items():
        setattr(existing, name, value)
    change = {k: [before[k], v] for k, v in snapshot(existing, CONTACT_FIELDS).items() if before[k] != v}
    if points != current:
        change["points"] = [points_as_text(current), points_as_text(points)]
        plan.contact_points[existing.pk] = points
    if change:
        plan.contact_changes.setdefault(existing.pk, {}).update(change)
        if existing not in plan.changed_contacts:
            plan.changed_contacts.append(existing)


def _customer_id(customer) -> int:
    return customer["id"] if isinstance(customer, dict) else customer.pk


def _write(job: ImportJob, actor: User, plan: CustomerPlan) -> dict:
    now = timezone.now()
    customers = Inserter(Customer, with_ids=True)
    for customer, pk in zip(plan.new_customers, customers.allocate_ids(len(plan.new_customers)), strict=True):
        customer["id"] = pk
    customers.insert(plan.new_customers)
    contacts = Inserter(Contact, with_ids=True)
    for (contact, customer), pk in zip(plan.new_contacts, contacts.allocate_ids(len(plan.new_contacts)), strict=True):
        contact["id"] = pk
        contact["customer_id"] = _customer_id(customer)
    contacts.insert(c for c, _customer in plan.new_contacts)
    # Every contact's phones, e-mails and handles: a card's own, or those of the file's columns.
    rows = []
    for contact, _customer in plan.new_contacts:
        points = contact.get("points")
        if points is None:
            points = points_from_columns(**{name: contact.get(name, "") for name in PRIMARY})
        rows += point_rows(contact["id"], points)
    changed = sorted(plan.contact_points)
    for start in range(0, len(changed), 500):
        ContactPoint.objects.filter(contact_id__in=changed[start : start + 500]).delete()
    for pk in changed:
        rows += point_rows(pk, plan.contact_points[pk])
    Inserter(ContactPoint).insert(rows)
    if connection.vendor == "sqlite" and plan.new_customers:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TRIGRAM_TABLE}(rowid, body) VALUES (%s, %s)",
                [(c["id"], c["search_text"]) for c in plan.new_customers],
            )
            cursor.executemany(
                f"INSERT INTO {BIGRAM_TABLE}(rowid, body) VALUES (%s, %s)",
                [(c["id"], c["search_bigrams"]) for c in plan.new_customers],
            )
    touched = {c.pk for _contact, c in plan.new_contacts if not isinstance(c, dict)}
    touched |= {c.customer_id for c in plan.changed_contacts}  # their numbers are in the search text
    to_update = [c for c in plan.changed_customers.values() if c.pk in plan.customer_changes or c.pk in touched]
    for customer in to_update:
        customer.version += 1
        customer.updated_at = now
    if to_update:
        Customer.objects.bulk_update(to_update, [*CUSTOMER_FIELDS, "name_key", "version", "updated_at"], batch_size=500)
    rehomed = [pk for pk, changes in plan.customer_changes.items() if "owner" in changes]
    if rehomed:
        # Open commitments and planned visits follow the new owners, as for an owner set on the form.
        ownership.customers_changed_hands(customer_ids=rehomed, actor=actor, reason=_("imported"))
    for contact in plan.changed_contacts:
        contact.version += 1
        contact.updated_at = now
    if plan.changed_contacts:
        Contact.objects.bulk_update(plan.changed_contacts, [*CONTACT_FIELDS, "version", "updated_at"], batch_size=500)
    if to_update:
        search_index_update([c.pk for c in to_update])
    summary = (_("Imported from %(file)s") % {"file": job.file_name})[:300]

    def timeline(pk, action, **extra):
        return {
            "customer_id": pk,
            "kind": TransferEvent.IMPORTED,
            "actor_id": actor.pk,
            "summary": summary,
            "subject_type": "customers.customer",
            "subject_id": pk,
            "payload": {"job": job.pk, "action": action, **extra},
            "occurred_at": now,
        }

    Inserter(TimelineEntry).insert(
        [timeline(c["id"], "create") for c in plan.new_customers]
        + [timeline(c.pk, "update", fields=sorted(plan.customer_changes.get(c.pk, {}))) for c in to_update]
    )

    def audit(action, target_type, pk, name, changes):
        return {
            "actor_id": actor.pk,
            "action": action,
            "target_type": target_type,
            "target_id": pk,
            "target_repr": name[:200],
            "changes": {**changes, "import": [None, job.pk]},
            "at": now,
        }

    created_fields = [f for f in CUSTOMER_FIELDS if f != "owner"]
    owner_names = {u.pk: str(u) for u in User.objects.filter(pk__in={c["owner_id"] for c in plan.new_customers})}
    rows = [
        audit(
            AuditAction.CREATE,
            "customers.customer",
            c["id"],
            c["name"],
            {
                **{k: [None, c[k]] for k in created_fields if c.get(k) not in ("", None)},
                **({"owner": [None, owner_names[c["owner_id"]]]} if c["owner_id"] else {}),
            },
        )
        for c in plan.new_customers
    ]
    rows += [
        audit(AuditAction.CREATE, "customers.contact", c["id"], c["name"], {"name": [None, c["name"]]})
        for c, _customer in plan.new_contacts
    ]
    rows += [
        audit(AuditAction.UPDATE, "customers.customer", pk, plan.changed_customers[pk].name, changes)
        for pk, changes in plan.customer_changes.items()
    ]
    rows += [
        audit(AuditAction.UPDATE, "customers.contact", c.pk, c.name, plan.contact_changes[c.pk])
        for c in plan.changed_contacts
    ]
    Inserter(AuditEntry).insert(rows)
    return {
        "created": len(plan.new_customers),
        "updated": len(plan.changed_customers),
        "skipped": plan.skipped,
        "contacts_created": len(plan.new_contacts),
        "contacts_updated": len(plan.changed_contacts),
    }
