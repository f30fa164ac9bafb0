"""Every phone number, e-mail address and messaging handle of a contact (ContactPoint).

A contact keeps all of them, each with its kind and the person's own label. The contact's
`mobile`, `office_phone`, `email` and `wechat` columns hold the first of each kind (the first
mobile, the first work number, the first address, the first WeChat), so that lists, masking,
exports and older API clients read one column. The contact services write both together through
this module; bulk writers (the import, the demo) build rows with `point_rows`.

Pure helpers work on `Point` values; `points_of` and `points_write` touch the database.
"""

import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from kehu.core.text import refused_character
from kehu.customers.models import POINT_KINDS, Contact, ContactPoint, EmailKind, ImService, Medium, PhoneKind
from kehu.customers.normalise import normalise_phone

MAX_PER_MEDIUM = 30
MEDIA = list(Medium.values)
MAX_LENGTH = {Medium.PHONE: 40, Medium.EMAIL: 254, Medium.IM: 60}
LABEL_LENGTH = 50
# The list each medium travels in (forms, API, audit).
LIST_NAMES = {Medium.PHONE: "phones", Medium.EMAIL: "emails", Medium.IM: "handles"}
# Contact column → (medium, kind of the point it mirrors; None: the first point of any kind).
PRIMARY = {
    "mobile": (Medium.PHONE, PhoneKind.MOBILE),
    "office_phone": (Medium.PHONE, PhoneKind.WORK),
    "email": (Medium.EMAIL, None),
    "wechat": (Medium.IM, ImService.WECHAT),
}
# The kind a primary column's value gets when it becomes a new point.
PRIMARY_NEW_KIND = {
    "mobile": PhoneKind.MOBILE,
    "office_phone": PhoneKind.WORK,
    "email": EmailKind.WORK,
    "wechat": ImService.WECHAT,
}


@dataclass(frozen=True)
class Point:
    medium: str
    kind: str
    value: str
    label: str = ""

    @property
    def key(self) -> str:
        return point_key(self.medium, self.value)

    def as_text(self) -> str:
        """ "mobile: 138 1234 5678 (秘书)" for the audit trail."""
        return f"{self.kind}: {self.value}" + (f" ({self.label})" if self.label else "")


def point_key(medium: str, value: str) -> str:
    """The comparison key: a phone's digits without +86 and trunk 0 ("" when too short to compare),
    an address or handle width-folded and lower-cased."""
    if medium == Medium.PHONE:
        return normalise_phone(value)
    return unicodedata.normalize("NFKC", value or "").strip().lower()[:254]


def points_from_columns(*, mobile="", office_phone="", email="", wechat="") -> list[Point]:
    """The points a contact with only the four columns has (older data, spreadsheets, leads)."""
    points = []
    for column, value in (("mobile", mobile), ("office_phone", office_phone), ("email", email), ("wechat", wechat)):
        if value := (value or "").strip():
            points.append(Point(PRIMARY[column][0], PRIMARY_NEW_KIND[column], value))
    return points


def primary_columns(points: list[Point]) -> dict[str, str]:
    """{column: value} of the four columns the points decide."""
    columns = {}
    for column, (medium, kind) in PRIMARY.items():
        columns[column] = next((p.value for p in points if p.medium == medium and (kind is None or p.kind == kind)), "")
    return columns


def with_primary(points: list[Point], column: str, value: str) -> list[Point]:
    """`points` after a change of one primary column: the value becomes the first point of its
    kind (replacing the old first one, whose label stays), and an empty value removes it."""
    medium, kind = PRIMARY[column]
    value = (value or "").strip()
    points = list(points)
    index = next((i for i, p in enumerate(points) if p.medium == medium and (kind is None or p.kind == kind)), None)
    if index is not None:
        if value:
            points[index] = Point(medium, points[index].kind, value, points[index].label)
        else:
            del points[index]
    elif value:
        # After the others of its medium: it is the first of its kind all the same.
        after = max((i + 1 for i, p in enumerate(points) if p.medium == medium), default=len(points))
        points.insert(after, Point(medium, PRIMARY_NEW_KIND[column], value))
    return points


def promote(points: list[Point], column: str, value: str) -> list[Point]:
    """`points` with `value` first of the kind `column` mirrors, losing nothing: an existing point
    with that value moves up (becoming of that kind), a new value is added in front."""
    medium, kind = PRIMARY[column]
    value = (value or "").strip()
    if not value:
        return list(points)
    key = point_key(medium, value) or value.lower()
    points = list(points)
    found = next((i for i, p in enumerate(points) if p.medium == medium and (p.key or p.value.lower()) == key), None)
    if found is None:
        return with_primary(points, column, value) if primary_columns(points)[column] != value else points
    moved = points.pop(found)
    if kind is not None and moved.kind != kind:
        moved = Point(medium, kind, moved.value, moved.label)
    # Just before the first of its kind (where it was, when it is the first already).
    same = (i for i, p in enumerate(points) if p.medium == medium and (kind is None or p.kind == kind))
    points.insert(min(next(same, found), found), moved)
    return points


def _has_control(text: str) -> bool:
    # The house rule for one-line text (kehu.core.text): controls, line breaks, lone surrogates.
    return refused_character(text) is not None


def clean_points(points: list[Point]) -> list[Point]:
    """Checked points: known kinds, sane lengths, valid addresses, no control characters; one point
    per medium and key (the later duplicate of a number goes). ValidationError names the list and row."""
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    counts: dict[str, int] = {}
    clean = []
    for point in points:
        field = LIST_NAMES.get(point.medium)
        if field is None:
            raise ValidationError({"points": [_("Unknown kind of contact detail.")]})
        counts[point.medium] = counts.get(point.medium, 0) + 1
        row = counts[point.medium]
        # Checked before stripping: str.strip() takes some control characters (\x1c-\x1f) for spaces.
        has_control = _has_control(point.value or "") or _has_control(point.label or "")
        value = (point.value or "").strip()
        label = (point.label or "").strip()

        def fail(message, field=field, row=row):
            errors.setdefault(field, []).append(_("Row %(row)s: %(message)s") % {"row": row, "message": message})

        if point.kind not in POINT_KINDS[point.medium].values:
            fail(_("choose one of the kinds offered."))
            continue
        if not value:
            fail(_("enter a value or remove the row."))
            continue
        if len(value) > MAX_LENGTH[point.medium]:
            fail(_("at most %(n)s characters.") % {"n": MAX_LENGTH[point.medium]})
            continue
        if len(label) > LABEL_LENGTH:
            fail(_("the label has at most %(n)s characters.") % {"n": LABEL_LENGTH})
            continue
        if has_control:
            fail(_("remove the control characters (line breaks, tabs)."))
            continue
        if point.medium == Medium.EMAIL:
            try:
                validate_email(value)
            except ValidationError:
                fail(_("“%(value)s” is not an email address.") % {"value": value})
                continue
        if point.medium == Medium.PHONE and not any(ch.isdigit() for ch in value):
            fail(_("“%(value)s” has no digits.") % {"value": value})
            continue
        identity = (point.medium, point.key or value.lower())
        if identity in seen:
            continue
        seen.add(identity)
        clean.append(Point(point.medium, point.kind, value, label))
    for medium, count in counts.items():
        if count > MAX_PER_MEDIUM:
            errors.setdefault(LIST_NAMES[medium], []).append(
                _("At most %(n)s entries of one kind.") % {"n": MAX_PER_MEDIUM}
            )
    if errors:
        raise ValidationError(errors)
    # Phones, then e-mails, then handles, each in its own order.
    return sorted(clean, key=lambda p: MEDIA.index(p.medium))


def point_rows(contact_id: int, points: list[Point]) -> list[dict]:
    """ContactPoint rows (attribute → value) for a bulk insert."""
    positions: dict[str, int] = {}
    rows = []
    for p in points:
        position = positions.get(p.medium, 0)
        positions[p.medium] = position + 1
        rows.append(
            {
                "contact_id": contact_id,
                "medium": p.medium,
                "kind": p.kind,
                "label": p.label,
                "value": p.value,
                "key": p.key,
                "position": position,
            }
        )
    return rows


def points_of(contact: Contact) -> list[Point]:
    """The contact's points in their order (prefetched ones when loaded)."""
    rows = sorted(contact.points.all(), key=lambda r: (MEDIA.index(r.medium), r.position, r.pk))
    return [Point(r.medium, r.kind, r.value, r.label) for r in rows]


def points_write(contact: Contact, points: list[Point]) -> None:
    """Replace the contact's points (inside the writing service's transaction)."""
    ContactPoint.objects.filter(contact=contact).delete()
    ContactPoint.objects.bulk_create([ContactPoint(**row) for row in point_rows(contact.pk, points)])
    # Forget what was prefetched: the contact now has these.
    getattr(contact, "_prefetched_objects_cache", {}).pop("points", None)


def points_as_text(points: list[Point]) -> list[str]:
    return [p.as_text() for p in points]
