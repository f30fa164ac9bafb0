"""Every read of opportunities, pipelines, targets and the forecast."""

from django.db.models import QuerySet
from django.http import Http404

from kehu.sales.models import Opportunity, Pipeline, Stage
from kehu.users.models import User
from kehu.users.scopes import scope_q


def may_use_sales(user: User) -> bool:
    return user.is_authenticated and user.has_perm("sales.view_opportunity")


def opportunity_qs_visible_to(user: User) -> QuerySet[Opportunity]:
    """Live opportunities whose owner is in the user's data scope; the one door for reading them."""
    if not may_use_sales(user):
        return Opportunity.objects.none()
    return Opportunity.objects.filter(scope_q(user), deleted_at__isnull=True)


def opportunity_get(user: User, pk) -> Opportunity:
    try:
        return opportunity_qs_visible_to(user).select_related("customer", "owner", "pipeline", "stage").get(pk=int(pk))
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def pipelines_all() -> list[Pipeline]:
    return list(Pipeline.objects.order_by("-is_default", "name", "id"))


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))


def stage_history(opportunity: Opportunity):
    return opportunity.stage_changes.select_related("from_stage", "to_stage", "by").order_by("-at", "-id")
