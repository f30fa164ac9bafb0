"""Writes of dispatch and on-site visits (SRV-1): plan a visit when assigning an engineer, check in
on site, submit the visit's report once (idempotent on the visit's client token: a phone that sends
the same form again after a poor connection gets the first answer), the customer's confirmation by
a signed link, and the engineers' profiles (skills, certificates, regions, leave)."""

import base64
import binascii
import hashlib
import io
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.models import Category, Product, Specification
from kehu.core import events
from kehu.core.mail import queue_email
from kehu.support import services
from kehu.support.field_events import FieldEvent
from kehu.support.models import (
    ConfirmationMethod,
    EngineerProfile,
    EngineerRegion,
    EngineerSkill,
    ServiceVisit,
    Ticket,
    TicketState,
    VisitPart,
    VisitPhoto,
    VisitState,
)

CONFIRM_SALT = "kehu.support.visit-confirm"
CONFIRM_DAYS = 7
MAX_PHOTOS = 6
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_PHOTO_SIDE = 1600
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CENT = Decimal("0.01")


def may_work_on(user, visit: ServiceVisit) -> bool:
    """The engineer of the visit, or whoever dispatches (the service manager)."""
    if not user.is_authenticated or not user.has_perm("support.change_servicevisit"):
        return False
    return visit.engineer_id == user.pk or user.has_perm("support.dispatch_ticket")


def check_may_work_on(user, visit: ServiceVisit) -> None:
    if not may_work_on(user, visit):
        raise PermissionDenied


# Planning ------------------------------------------------------------------------------------


@transaction.atomic
def visit_plan(
    *,
    ticket: Ticket,
    engineer,
    actor,
    planned_for: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ServiceVisit:
    """Send the engineer (through `services.ticket_assign`: rights and the version checked) and plan
    their visit; an engineer with a planned visit to the ticket already keeps that one (re-planned)."""
    now = now or timezone.now()
    if not actor.has_perm("support.dispatch_ticket"):
        raise PermissionDenied
    if planned_for is not None and planned_for < now - timedelta(days=1):
        raise ValidationError({"planned_for": [_("A visit cannot be planned in the past.")]})
    ticket = services.ticket_assign(
        ticket=ticket, actor=actor, engineer=engineer, expected_version=expected_version, now=now
    )
    visit = (
        ServiceVisit.objects.select_for_update()
        .filter(ticket=ticket, engineer=engineer, state=VisitState.PLANNED)
        .first()
    )
    if visit is None:
        visit = ServiceVisit.objects.create(
            ticket=ticket, engineer=engineer, planned_for=planned_for, created_at=now, updated_at=now
        )
    else:
        visit.planned_for = planned_for
        visit.updated_at = now
        visit.save(update_fields=["planned_for", "updated_at"])
    events.record(
        FieldEvent.VISIT_PLANNED,
        actor=actor,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number} {engineer} {timezone.localtime(planned_for):%Y-%m-%d %H:%M}"
        if planned_for
        else f"{ticket.number} {engineer}",
        payload={"visit_id": visit.pk, "engineer_id": engineer.pk},
        notify=[engineer.pk] if engineer.pk != actor.pk else [],
        link=reverse("support:visit-detail", args=[visit.pk]),
    )
    return visit


# Check-in and the report -----------------------------------------------------------------------


def _position(latitude, longitude, accuracy) -> tuple[Decimal | None, Decimal | None, int | None]:
    if latitude in (None, "") or longitude in (None, ""):
        return None, None, None
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lon = Decimal(str(longitude)).quantize(Decimal("0.000001"))
        acc = None if accuracy in (None, "") else max(0, min(int(float(accuracy)), 1_000_000))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"position": [_("The position is not a valid one.")]}) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError({"position": [_("The position is not a valid one.")]})
    return lat, lon, acc


def _check_in(visit: ServiceVisit, actor, latitude, longitude, accuracy, now: datetime) -> None:
    visit.latitude, visit.longitude, visit.accuracy_m = _position(latitude, longitude, accuracy)
    visit.checked_in_at = now
    visit.state = VisitState.ON_SITE
    ticket = visit.ticket
    if ticket.state in (TicketState.NEW, TicketState.ASSIGNED):
        services.ticket_transition(ticket=ticket, actor=actor, to=TicketState.IN_PROGRESS, now=now)
    events.record(
        FieldEvent.VISIT_CHECKED_IN,
        actor=actor,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number} "
        + (
            _("on site, position within %(m)s m") % {"m": visit.accuracy_m if visit.accuracy_m is not None else "?"}
            if visit.latitude is not None
            else _("on site, without a position (not allowed or not available)")
        ),
        payload={"visit_id": visit.pk, "with_position": visit.latitude is not None},
        occurred_at=now,
    )


@transaction.atomic
def visit_check_in(
    *, visit: ServiceVisit, actor, latitude=None, longitude=None, accuracy=None, now: datetime | None = None
) -> ServiceVisit:
    """The engineer is on site: the moment and, if the phone gave one, the position and its accuracy
    (refused permission: checked in without a position)."""
    now = now or timezone.now()
    check_may_work_on(actor, visit)
    visit = ServiceVisit.objects.select_for_update().select_related("ticket").get(pk=visit.pk)
    if visit.state != VisitState.PLANNED:
        raise ValidationError(_("This visit is already checked in or finished."))
    _check_in(visit, actor, latitude, longitude, accuracy, now)
    visit.updated_at = now
    visit.save(update_fields=["latitude", "longitude", "accuracy_m", "checked_in_at", "state", "updated_at"])
    return visit


@dataclass
class PartLine:
    specification_id: int
    quantity: Decimal
    charged: bool = False


@dataclass
class VisitReport:
    """What the visit form sends (the page and the API the same)."""

    client_token: str
    work_done: str = ""
    fixed: bool = False
    minutes_spent: int = 0
    travel_km: Decimal = Decimal(0)
    travel_cost: Decimal = Decimal(0)
    parts: list[PartLine] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)  # data: URLs (JPEG, PNG or WebP)
    signature: str = ""  # a data: URL of the PNG drawn on the screen
    confirmed_by: str = ""
    satisfaction: int | None = None
    resolve: bool = False
    latitude: float | None = None  # a check-in made offline travels with the report
    longitude: float | None = None
    accuracy: float | None = None
    checked_in_at: datetime | None = None


def _decimal(value, name: str, *, maximum: Decimal, label: str) -> Decimal:
    try:
        number = Decimal(str(value if value not in (None, "") else 0))
    except InvalidOperation:
        raise ValidationError({name: [_("%(field)s must be a number.") % {"field": label}]}) from None
    if not number.is_finite() or number < 0 or number > maximum:
        raise ValidationError(
            {name: [_("%(field)s must be between 0 and %(max)s.") % {"field": label, "max": maximum}]}
        )
    return number


def decode_image(data_url: str, *, name: str, label: str) -> tuple[bytes, str]:
    """(bytes, extension) of an image sent as a data: URL: a JPEG, PNG or WebP Pillow can read, not
    over MAX_IMAGE_BYTES; a larger photo is scaled down to MAX_PHOTO_SIDE."""
    from PIL import Image, UnidentifiedImageError

    head, _comma, payload = data_url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head or not payload:
        raise ValidationError({name: [_("%(what)s is not an image.") % {"what": label}]})
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({name: [_("%(what)s is not an image.") % {"what": label}]}) from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise ValidationError({name: [_("%(what)s is larger than 4 MB.") % {"what": label}]})
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format
            probe.verify()
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({name: [_("%(what)s is not an image.") % {"what": label}]}) from None
    if kind not in IMAGE_FORMATS:
        raise ValidationError({name: [_("%(what)s must be a JPEG, PNG or WebP image.") % {"what": label}]})
    if max(image.size) > MAX_PHOTO_SIDE:
        image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue(), "jpg"
    return raw, IMAGE_FORMATS[kind]


def _parts(lines: list[PartLine]) -> list[VisitPart]:
    if len(lines) > 50:
        raise ValidationError({"parts": [_("At most 50 parts per visit.")]})
    specs = Specification.objects.select_related("product").in_bulk([line.specification_id for line in lines])
    made = []
    for line in lines:
        spec = specs.get(line.specification_id)
        if spec is None or not spec.is_active:
            raise ValidationError({"parts": [_("A part is not in the catalog.")]})
        quantity = _decimal(line.quantity, "parts", maximum=Decimal(100000), label=_("Quantity"))
        if quantity <= 0:
            raise ValidationError({"parts": [_("The quantity of %(part)s must be above zero.") % {"part": spec.code}]})
        cost = (spec.product.cost or Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        made.append(VisitPart(specification=spec, quantity=quantity, unit_cost=cost, charged=bool(line.charged)))
    return made


@transaction.atomic
def visit_submit(
    *, visit: ServiceVisit, actor, report: VisitReport, now: datetime | None = None
) -> tuple[ServiceVisit, bool]:
    """Finish the visit with its report; returns (visit, replay). The report names the visit's
    client token: the same report sent again (a phone's retry) changes nothing and answers as the
    first did (replay True). Fixed with `resolve` resolves the ticket."""
    now = now or timezone.now()
    check_may_work_on(actor, visit)
    visit = ServiceVisit.objects.select_for_update().select_related("ticket").get(pk=visit.pk)
    try:
        token = uuid.UUID(str(report.client_token))
    except ValueError:
        token = None
    if token != visit.client_token:
        raise ValidationError({"client_token": [_("This form belongs to another visit; reload the page.")]})
    if visit.state == VisitState.DONE:
        return visit, True
    if visit.state == VisitState.CANCELLED:
        raise ValidationError(_("This visit was cancelled."))
    errors: dict[str, list[str]] = {}
    work_done = (report.work_done or "").strip()
    if not work_done:
        errors["work_done"] = [_("Say what was done.")]
    try:
        minutes = int(report.minutes_spent or 0)
    except (TypeError, ValueError):
        minutes = -1
    if not 0 <= minutes <= 24 * 60:
        errors["minutes_spent"] = [_("The time spent must be between 0 and 1440 minutes.")]
    if report.satisfaction is not None and report.satisfaction not in range(1, 6):
        errors["satisfaction"] = [_("The rating is from 1 to 5.")]
    if len(report.photos) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(n)d photos.") % {"n": MAX_PHOTOS}]
    if errors:
        raise ValidationError(errors)
    travel_km = _decimal(report.travel_km, "travel_km", maximum=Decimal(100000), label=_("Travel (km)"))
    travel_cost = _decimal(report.travel_cost, "travel_cost", maximum=Decimal(10**9), label=_("Travel cost"))
    parts = _parts(report.parts)
    photos = [decode_image(p, name="photos", label=_("A photo")) for p in report.photos]
    signature = decode_image(report.signature, name="signature", label=_("The signature")) if report.signature else None

    if visit.state == VisitState.PLANNED:
        when = report.checked_in_at if report.checked_in_at and report.checked_in_at <= now else now
        _check_in(visit, actor, report.latitude, report.longitude, report.accuracy, when)
    profile = EngineerProfile.objects.filter(user_id=visit.engineer_id).first()
    rate = profile.hourly_rate if profile else Decimal(0)
    visit.work_done = work_done[:10000]
    visit.fixed = bool(report.fixed)
    visit.minutes_spent = minutes
    visit.travel_km = travel_km.quantize(Decimal("0.1"), ROUND_HALF_UP)
    visit.travel_cost = travel_cost.quantize(CENT, ROUND_HALF_UP)
    visit.labour_cost = (rate * minutes / 60).quantize(CENT, ROUND_HALF_UP)
    visit.satisfaction = report.satisfaction
    visit.finished_at = now
    visit.state = VisitState.DONE
    visit.updated_at = now
    if signature is not None:
        visit.confirmation = ConfirmationMethod.SIGNATURE
        visit.confirmed_by = (report.confirmed_by or "").strip()[:100]
        visit.confirmed_at = now
        visit.signature.save(f"visit-{visit.pk}.png", ContentFile(signature[0]), save=False)
    visit.save()
    for part in parts:
        part.visit = visit
    VisitPart.objects.bulk_create(parts)
    for index, (raw, ext) in enumerate(photos, start=1):
        photo = VisitPhoto(visit=visit)
        photo.image.save(f"visit-{visit.pk}-{index}.{ext}", ContentFile(raw), save=False)
        photo.save()
    ticket = visit.ticket
    events.record(
        FieldEvent.VISIT_DONE,
        actor=actor,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number} "
        + (_("fixed on site") if visit.fixed else _("visited, not fixed yet"))
        + f": {visit.work_done[:150]}",
        payload={"visit_id": visit.pk, "fixed": visit.fixed, "minutes": minutes},
        webhook={"visit_id": visit.pk, "ticket_id": ticket.pk, "fixed": visit.fixed},
        notify=[ticket.owner_id] if ticket.owner_id and ticket.owner_id != actor.pk else [],
        link=reverse("support:visit-detail", args=[visit.pk]),
        occurred_at=now,
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    if report.resolve and visit.fixed and TicketState.RESOLVED in services.TRANSITIONS.get(ticket.state, set()):
        services.ticket_transition(
            ticket=ticket, actor=actor, to=TicketState.RESOLVED, note=visit.work_done[:500], now=now
        )
    return visit, False


# The customer's confirmation by link ------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def confirmation_link_create(
    *, visit: ServiceVisit, actor, base_url: str, email: str = "", language: str = ""
) -> tuple[str, str]:
    """A new signed link for the customer to confirm the finished visit (valid CONFIRM_DAYS days; only
    its hash is kept, a new link replaces the old); mailed through the outbox when `email` is given.
    Returns (token, url)."""
    check_may_work_on(actor, visit)
    visit = ServiceVisit.objects.select_for_update().select_related("ticket__customer").get(pk=visit.pk)
    if visit.state != VisitState.DONE:
        raise ValidationError(_("Finish the visit first; then the customer can confirm it."))
    if visit.confirmed_at is not None:
        raise ValidationError(_("The customer has already confirmed this visit."))
    email = (email or "").strip()
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from None
    token = signing.dumps({"v": visit.pk, "n": secrets.token_urlsafe(12)}, salt=CONFIRM_SALT, compress=True)
    visit.confirm_token_hash = _hash(token)
    visit.save(update_fields=["confirm_token_hash"])
    url = base_url.rstrip("/") + reverse("support:visit-confirm", args=[token])
    if email:
        queue_email(
            "support/field/email/confirm",
            {"visit": visit, "ticket": visit.ticket, "url": url, "days": CONFIRM_DAYS},
            [email],
            language or None,
        )
    return token, url


class LinkError(Exception):
    """Why a confirmation link cannot be used (message in the reader's language)."""


def visit_for_link(token: str, *, for_update: bool = False) -> ServiceVisit:
    """The visit a confirmation link is for, or LinkError (tampered, expired, replaced, used)."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=CONFIRM_DAYS))
    except signing.SignatureExpired:
        raise LinkError(_("This confirmation link has expired. Ask the engineer for a new one.")) from None
    except signing.BadSignature:
        raise LinkError(_("This confirmation link is not valid.")) from None
    qs = ServiceVisit.objects.select_related("ticket__customer", "engineer")
    if for_update:
        qs = qs.select_for_update()
    visit = qs.filter(pk=data.get("v") if isinstance(data, dict) else None, confirm_token_hash=_hash(token)).first()
    if visit is None:
        raise LinkError(_("This confirmation link is not valid."))
    return visit


@transaction.atomic
def visit_confirm(
    *, token: str, name: str, satisfaction: int, comment: str = "", now: datetime | None = None
) -> ServiceVisit:
    """The customer confirms the visit through the link and rates it 1–5 (once)."""
    now = now or timezone.now()
    visit = visit_for_link(token, for_update=True)
    if visit.confirmed_at is not None:
        raise LinkError(_("This visit has already been confirmed. Thank you."))
    errors = {}
    if not name.strip():
        errors["name"] = [_("Please give your name.")]
    if satisfaction not in range(1, 6):
        errors["satisfaction"] = [_("The rating is from 1 to 5.")]
    if errors:
        raise ValidationError(errors)
    visit.confirmation = ConfirmationMethod.LINK
    visit.confirmed_by = name.strip()[:100]
    visit.confirmed_at = now
    visit.satisfaction = satisfaction
    visit.customer_comment = comment.strip()[:2000]
    visit.updated_at = now
    visit.save(
        update_fields=["confirmation", "confirmed_by", "confirmed_at", "satisfaction", "customer_comment", "updated_at"]
    )
    ticket = visit.ticket
    events.record(
        FieldEvent.VISIT_CONFIRMED,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number} {visit.confirmed_by} ★{satisfaction}",
        payload={"visit_id": visit.pk, "satisfaction": satisfaction},
        notify=[visit.engineer_id, ticket.owner_id],
        link=reverse("support:visit-detail", args=[visit.pk]),
        occurred_at=now,
    )
    return visit


# Engineer profiles --------------------------------------------------------------------------------


@dataclass
class SkillLine:
    product_id: int | None = None
    category_id: int | None = None
    level: int = 1
    certificate_number: str = ""
    valid_until: date | None = None


def parse_regions(text: str) -> list[tuple[str, str]]:
    """ "浙江 宁波" / "浙江" lines (or comma separated) into (province, city) pairs, deduplicated."""
    found: list[tuple[str, str]] = []
    for chunk in text.replace("，", ",").replace("\n", ",").split(","):
        words = chunk.split()
        if not words:
            continue
        if len(words) > 2 or any(len(w) > 50 for w in words):
            raise ValidationError(
                {
                    "regions": [
                        _("Write a region as a province, or a province and a city: %(bad)s") % {"bad": chunk.strip()}
                    ]
                }
            )
        pair = (words[0], words[1] if len(words) == 2 else "")
        if pair not in found:
            found.append(pair)
    return found


@transaction.atomic
def engineer_profile_save(
    *,
    engineer,
    actor,
    on_leave: bool = False,
    leave_until: date | None = None,
    hourly_rate: Decimal = Decimal(0),
    note: str = "",
    regions: list[tuple[str, str]] | None = None,
    skills: list[SkillLine] | None = None,
) -> EngineerProfile:
    """Create or replace an engineer's profile (regions and skills replaced when given)."""
    if not actor.has_perm("support.manage_service"):
        raise PermissionDenied
    if not (engineer.is_active and engineer.has_perm("support.change_ticket")):
        raise ValidationError({"engineer": [_("%(name)s cannot work on tickets.") % {"name": engineer}]})
    profile, _created = EngineerProfile.objects.select_for_update().get_or_create(user=engineer)
    profile.on_leave = bool(on_leave)
    profile.leave_until = leave_until if on_leave else None
    profile.hourly_rate = _decimal(hourly_rate, "hourly_rate", maximum=Decimal(100000), label=_("Labour rate"))
    profile.note = (note or "").strip()[:200]
    profile.full_clean()
    profile.save()
    if regions is not None:
        profile.regions.all().delete()
        EngineerRegion.objects.bulk_create(EngineerRegion(profile=profile, province=p, city=c) for p, c in regions)
    if skills is not None:
        products = Product.objects.in_bulk([s.product_id for s in skills if s.product_id])
        categories = Category.objects.in_bulk([s.category_id for s in skills if s.category_id])
        rows = []
        for line in skills:
            if (line.product_id is None) == (line.category_id is None):
                raise ValidationError({"skills": [_("Name either a product or a product category.")]})
            if (line.product_id and line.product_id not in products) or (
                line.category_id and line.category_id not in categories
            ):
                raise ValidationError({"skills": [_("A product or category of a skill does not exist.")]})
            if line.level not in range(1, 6):
                raise ValidationError({"skills": [_("A skill's level is from 1 to 5.")]})
            rows.append(
                EngineerSkill(
                    profile=profile,
                    product_id=line.product_id,
                    category_id=line.category_id,
                    level=line.level,
                    certificate_number=(line.certificate_number or "").strip()[:60],
                    valid_until=line.valid_until,
                )
            )
        profile.skills.all().delete()
        EngineerSkill.objects.bulk_create(rows)
    events.record(
        FieldEvent.ENGINEER_PROFILE_CHANGED,
        actor=actor,
        subject=profile,
        summary=str(engineer),
        payload={"engineer_id": engineer.pk, "on_leave": profile.on_leave},
    )
    return profile
