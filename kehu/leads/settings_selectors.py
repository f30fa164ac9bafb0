"""Reads for the lead rules page and its API: the settings row, the rules, the learned model."""

from django.db.models import QuerySet

from kehu.leads.models import AssignmentRule, LeadSettings, ScoringModel, SlaRule


def lead_settings_get() -> LeadSettings:
    """The one settings row (defaults when none was saved yet)."""
    return LeadSettings.current()


def scoring_model_latest() -> ScoringModel | None:
    """The learned scoring model in use, if one was trained."""
    return ScoringModel.objects.order_by("-trained_at", "-id").first()


def assignment_rule_list() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("user").order_by("region", "id")


def sla_rule_list() -> QuerySet[SlaRule]:
    return SlaRule.objects.order_by("source")
