"""How plausible a visit check-in (签到) is: the distance from the customer and from the planned day.

The position is compared with the customer's own coordinates when it has them; otherwise with the
centre of the city its region, city or address names (the offline table in kehu.customers.places).
A city centre says less than a pin on the map, so it gets a wider margin. The phone's own accuracy
is given to the rep: a check-in is "far" only when even the edge of its accuracy circle is
beyond the margin.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.activities.models import Activity, CheckInBasis, CheckInWarning
from kehu.customers.models import Customer
from kehu.customers.places import distance_m, geocode

FAR_FROM_CUSTOMER_M = 2_000  # from the customer's own coordinates
FAR_FROM_PLACE_M = 30_000  # from the centre of its city, when it has no coordinates
DAYS_OFF = 1  # checking in more than this many days before or after the planned day


@dataclass
class Assessment:
    distance_m: int | None = None
    basis: str = ""
    place: str = ""
    days_off: int | None = None
    warnings: list[str] = field(default_factory=list)


def reference_point(customer: Customer) -> tuple[float, float, str, str] | None:
    """(latitude, longitude, basis, place name) the check-in is compared with; None when the
    customer has no coordinates and its address names no city we know."""
    if customer.latitude is not None and customer.longitude is not None:
        return float(customer.latitude), float(customer.longitude), CheckInBasis.CUSTOMER, ""
    place = geocode(region=customer.region, city=customer.city, address=customer.address)
    if place is None:
        return None
    return place.latitude, place.longitude, CheckInBasis.PLACE, place.name


def margin_m(basis: str) -> int:
    return FAR_FROM_CUSTOMER_M if basis == CheckInBasis.CUSTOMER else FAR_FROM_PLACE_M


def assess(
    customer: Customer, *, latitude, longitude, accuracy: int | None, planned_for: datetime, checked_in_at: datetime
) -> Assessment:
    result = Assessment()
    found = set()
    if latitude is None or longitude is None:
        found.add(CheckInWarning.NO_POSITION)
    else:
        point = reference_point(customer)
        if point is not None:
            lat, lng, result.basis, result.place = point
            result.distance_m = round(distance_m(float(latitude), float(longitude), lat, lng))
            if result.distance_m - (accuracy or 0) > margin_m(result.basis):
                found.add(CheckInWarning.FAR)
    result.days_off = (timezone.localdate(checked_in_at) - timezone.localdate(planned_for)).days
    if abs(result.days_off) > DAYS_OFF:
        found.add(CheckInWarning.OFF_DAY)
    result.warnings = [code.value for code in CheckInWarning if code in found]
    return result


def format_distance(metres: int | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return _("%(n)s m") % {"n": metres}
    km = f"{metres / 1000:.1f}".removesuffix(".0")
    return _("%(n)s km") % {"n": km}


def distance_text(activity: Activity) -> str:
    """'120 m from the customer' / '35.2 km from the centre of 苏州市' / '' (no position or no place)."""
    if activity.check_in_distance_m is None:
        return ""
    distance = format_distance(activity.check_in_distance_m)
    if activity.check_in_basis == CheckInBasis.PLACE:
        return _("%(distance)s from the centre of %(place)s") % {"distance": distance, "place": activity.check_in_place}
    return _("%(distance)s from the customer") % {"distance": distance}


def warning_texts(activity: Activity) -> list[str]:
    """Each warning of a check-in in words, with its numbers."""
    texts = []
    for code in activity.check_in_warning_codes:
        if code == CheckInWarning.FAR:
            texts.append(
                _("Far from the customer: more than %(margin)s from %(basis)s")
                % {
                    "margin": format_distance(margin_m(activity.check_in_basis)),
                    "basis": CheckInBasis(activity.check_in_basis).label
                    if activity.check_in_basis
                    else _("the customer"),
                }
            )
        elif code == CheckInWarning.OFF_DAY:
            days = activity.check_in_days_off or 0
            if days > 0:
                text = ngettext(
                    "Checked in %(n)s day after the planned day", "Checked in %(n)s days after the planned day", days
                )
            else:
                text = ngettext(
                    "Checked in %(n)s day before the planned day", "Checked in %(n)s days before the planned day", -days
                )
            texts.append(text % {"n": abs(days)})
        elif code == CheckInWarning.NO_POSITION:
            texts.append(_("Checked in without a position"))
    return texts


def warning_labels(activity: Activity) -> list[tuple[str, str]]:
    """(short label, full text) of each warning: the week shows the label, with the text on hover."""
    return [
        (str(CheckInWarning(code).label), text)
        for code, text in zip(activity.check_in_warning_codes, warning_texts(activity), strict=True)
    ]
