"""A vCard as a customer and its contact (the customer import's side of `kehu.integrations.vcard`).

A person's card makes a customer (the company on ORG, else the person) with one contact holding
every phone, e-mail and messaging account of the card, the department (ORG's second part) and a
birthday with or without its year. A company card (Apple's "show as company", vCard 4 KIND:org,
or a card with nothing but a company) makes a customer without a contact. A group card and a
card that cannot be read are skipped, each with its reason. What was left out of a card is
listed as its warnings in the preview.

`CardCounter` counts the cards by what became of them for the report, whose numbers add up to
the file's BEGIN:VCARD lines.
"""

from collections import Counter

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.customers.models import Contact, Customer, CustomerKind, Medium, PhoneKind, point_label
from kehu.customers.points import Point, clean_points, primary_columns
from kehu.customers.services import contact_clean, customer_clean
from kehu.integrations.models import RowAction
from kehu.integrations.targets import Staged
from kehu.integrations.vcard import COMPANY, Card

CUSTOMER_FIELDS = {"name", "kind", "address", "city", "region", "website", "phone", "email", "notes"}
CONTACT_FIELDS = {
    "name",
    "position",
    "department",
    "mobile",
    "office_phone",
    "email",
    "wechat",
    "birthday",
    "birthday_month",
    "birthday_day",
    "anniversary",
    "address",
}


def card_points(card: Card) -> list[Point]:
    return (
        [Point(Medium.PHONE, p.kind, p.number, p.label) for p in card.phones]
        + [Point(Medium.EMAIL, e.kind, e.address, e.label) for e in card.emails]
        + [Point(Medium.IM, h.service, h.handle, h.label) for h in card.handles]
    )


def _home_address(card: Card) -> str:
    home = next((a for a in card.addresses if a.kind == "home"), None)
    if home is None:
        return ""
    return " ".join(p for p in (home.region, home.city, home.street) if p)


def _fit(record, values: dict, card: Card, what) -> dict:
    """Values longer than their field are left out with a warning (the name is an error instead)."""
    kept = {}
    for name, value in values.items():
        limit = getattr(record._meta.get_field(name), "max_length", None)
        if isinstance(value, str) and limit and len(value) > limit and name != "name":
            card.warn(
                _("%(field)s was longer than %(n)s characters and was left out.")
                % {"field": f"{what} · {record._meta.get_field(name).verbose_name}", "n": limit}
            )
            continue
        kept[name] = value
    return kept


def _company_notes(card: Card, points: list[Point]) -> str:
    """A company keeps one phone and one e-mail; the card's others go into its notes, typed."""
    lines = [card.note] if card.note else []
    others = [p for p in points[1:] if p.medium == Medium.PHONE]
    others += [p for p in points if p.medium == Medium.EMAIL][1:]
    others += [p for p in points if p.medium == Medium.IM]
    if others:
        lines.append(
            _("Also on the card:")
            + " "
            + "; ".join(f"{point_label(p.medium, p.kind, p.label)} {p.value}" for p in others)
        )
    return "\n".join(lines)


def stage_card(number: int, card: Card, actor) -> Staged:
    """A read card → the staged row of the customer import (see the module docstring)."""
    info = {"line": card.line, "kind": card.kind, "name_from": card.name_from, "warnings": card.warnings}
    if card.skip_reason:
        info["skip"] = "unreadable" if card.unreadable else "group"
        who = card.where + (f" “{card.name}”" if card.name else "")
        values = {"customer": {"name": card.name}, "contact": {}, "owner": "", "card": info}
        return Staged(number, values, {"__all__": [f"{who}: {card.skip_reason}"]}, RowAction.SKIP)
    errors: dict[str, list[str]] = {}
    try:
        points = clean_points(card_points(card))
    except ValidationError as exc:
        points = []
        errors.update(exc.message_dict)
    work = next((a for a in card.addresses if a.kind != "home"), None)
    company = card.kind == COMPANY
    customer = {
        "name": card.org or card.name,
        "kind": CustomerKind.COMPANY if card.org else CustomerKind.PERSON,
        "address": work.street if work else "",
        "city": work.city if work else "",
        "region": work.region if work else "",
        "website": card.urls[0] if card.urls else "",
        "notes": card.note,  # on the customer, where the 360° page shows it
    }
    if company:
        phones = [p for p in points if p.medium == Medium.PHONE]
        phones.sort(key=lambda p: p.kind not in (PhoneKind.WORK, PhoneKind.OTHER))
        emails = [p for p in points if p.medium == Medium.EMAIL]
        customer["phone"] = phones[0].value if phones else ""
        customer["email"] = emails[0].value if emails else ""
        customer["notes"] = _company_notes(card, phones + emails + [p for p in points if p.medium == Medium.IM])
    customer = {k: v for k, v in _fit(Customer(), customer, card, _("Customer")).items() if v != ""}
    record = Customer(**customer, owner=actor)
    try:
        customer_clean(record, fields=set(customer) | {"name"})
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    customer = {k: getattr(record, k) for k in customer}
    contact: dict = {}
    if not company:
        contact = {
            "name": card.name,
            "position": card.title,
            "department": card.department,
            "address": _home_address(card),
            **primary_columns(points),
        }
        contact = {k: v for k, v in _fit(Contact(), contact, card, _("Contact")).items() if v != ""}
        person = Contact(**contact)
        person.birthday = card.birthday
        person.birthday_month, person.birthday_day = card.birthday_month, card.birthday_day
        person.anniversary = card.anniversary
        try:
            contact_clean(person, fields=CONTACT_FIELDS)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(f"contact_{name}", []).extend(messages)
        contact = {k: getattr(person, k) for k in contact}
        for name in ("birthday", "anniversary"):
            if (value := getattr(person, name)) is not None:
                contact[name] = value.isoformat()
        if person.birthday_month is not None:
            contact["birthday_month"], contact["birthday_day"] = person.birthday_month, person.birthday_day
    values = {
        "customer": customer,
        "contact": contact,
        "owner": actor.username,
        "name_key": record.name_key,
        # The contact's phones, e-mails and messaging accounts: [medium, kind, value, label].
        "points": [[p.medium, p.kind, p.value, p.label] for p in points] if not company else [],
        "card": info,
    }
    # What was left out of the card is a warning of the row, like a spreadsheet's unmatched value.
    warnings = {"card": list(card.warnings)} if card.warnings else {}
    return Staged(number, values, errors, RowAction.SKIP if errors else RowAction.CREATE, warnings=warnings)


def staged_points(values: dict) -> list[Point] | None:
    """The card's points of a staged row (None for a row from a spreadsheet)."""
    if "card" not in values:
        return None
    return [Point(*p) for p in values.get("points", [])]


class CardCounter:
    """What became of each card of a vCard file, for the report (see `report`)."""

    def __init__(self):
        self.counts: Counter = Counter()

    def staged(self, values: dict) -> None:
        card = values.get("card", {})
        if card.get("warnings"):
            self.counts["cards_with_warnings"] += 1

    def chosen(self, values: dict, errors: dict, action: str) -> None:
        """One row of a run, by what it does."""
        card = values.get("card")
        if card is None:
            return
        if card.get("skip"):
            self.counts[f"skipped_{card['skip']}"] += 1
        elif errors:
            self.counts["skipped_errors"] += 1
        elif action == RowAction.SKIP:
            self.counts["skipped_by_choice"] += 1
        elif action == RowAction.UPDATE:
            self.counts["added_to_existing"] += 1
        elif card.get("kind") == COMPANY:
            self.counts["companies_created"] += 1
        else:
            self.counts["people_created"] += 1

    def report(self, cards_in_file: int) -> dict:
        """{"in_file": BEGIN:VCARD lines, "customers_created", "contacts_created", "companies_created",
        "added_to_existing", "skipped", "skipped_groups", "skipped_unreadable", "skipped_errors",
        "skipped_by_choice"}: in_file = customers_created + added_to_existing + skipped."""
        c = self.counts
        skipped = c["skipped_group"] + c["skipped_unreadable"] + c["skipped_errors"] + c["skipped_by_choice"]
        return {
            "in_file": cards_in_file,
            "read": cards_in_file - c["skipped_unreadable"],
            "customers_created": c["people_created"] + c["companies_created"],
            "contacts_created": c["people_created"],
            "companies_created": c["companies_created"],
            "added_to_existing": c["added_to_existing"],
            "skipped": skipped,
            "skipped_groups": c["skipped_group"],
            "skipped_unreadable": c["skipped_unreadable"],
            "skipped_errors": c["skipped_errors"],
            "skipped_by_choice": c["skipped_by_choice"],
        }
