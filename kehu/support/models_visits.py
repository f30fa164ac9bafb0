"""An engineer's on-site visit for a ticket: check-in with position, the work done, parts used from
the catalog, time and travel spent, photos, the customer's confirmation and rating. Its figures are
what service economics counts as the cost of service."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped

__all__ = ["ConfirmationMethod", "ServiceVisit", "VisitPart", "VisitPhoto", "VisitState"]


class VisitState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ON_SITE = "on_site", _("On site")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ConfirmationMethod(models.TextChoices):
    SIGNATURE = "signature", _("Signed on the screen")
    LINK = "link", _("Confirmed by link")


class ServiceVisit(TimeStamped):
    ticket = models.ForeignKey("support.Ticket", on_delete=models.CASCADE, related_name="visits")
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("engineer"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=VisitState.choices, default=VisitState.PLANNED)
    # The phone's own id for the submission: a form sent twice after a poor connection is taken once.
    client_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    planned_for = models.DateTimeField(_("planned for"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    fixed = models.BooleanField(_("fixed on this visit"), default=False)
    minutes_spent = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    travel_km = models.DecimalField(_("travel (km)"), max_digits=8, decimal_places=1, default=0)
    travel_cost = models.DecimalField(_("travel cost"), max_digits=12, decimal_places=2, default=0)
    labour_cost = models.DecimalField(_("labour cost"), max_digits=12, decimal_places=2, default=0)
    confirmation = models.CharField(_("confirmation"), max_length=10, choices=ConfirmationMethod.choices, blank=True)
    confirmed_by = models.CharField(_("confirmed by"), max_length=100, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    signature = models.ImageField(_("signature"), upload_to="service/signatures/%Y/%m/", blank=True)
    # Only the hash of a confirmation link's token is kept.
    confirm_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    customer_comment = models.TextField(_("customer's comment"), blank=True)

    class Meta:
        verbose_name = _("service visit")
        verbose_name_plural = _("service visits")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["engineer", "state"], name="support_visit_engineer"),
            models.Index(fields=["finished_at"], name="support_visit_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.engineer_id} {self.state}"


class VisitPart(models.Model):
    visit = models.ForeignKey(ServiceVisit, on_delete=models.CASCADE, related_name="parts")
    specification = models.ForeignKey(
        "catalog.Specification", verbose_name=_("part"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    # The cost at the time (the specification's cost then): later price changes do not rewrite history.
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2, default=0)
    charged = models.BooleanField(_("charged to the customer"), default=False)

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.specification_id} × {self.quantity}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(ServiceVisit, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="service/visits/%Y/%m/")
    taken_at = models.DateTimeField(_("taken"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.image.name}"
