"""Reads for what administrators and managers set up in sales: pipelines with their stages and how
much each stage is used, and the monthly targets (业绩目标, SAL-11)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind, Target

REQUIRED_KINDS = (StageKind.OPEN, StageKind.WON, StageKind.LOST)
# Names of the kinds on the set-up pages and in their messages (the model's labels are shared with other words).
KIND_LABELS = {StageKind.OPEN: _("open stage"), StageKind.WON: _("won stage"), StageKind.LOST: _("lost stage")}
KIND_CHOICES = list(KIND_LABELS.items())


@dataclass(frozen=True)
class StageUsage:
    """How many deals sit in a stage (live and in the recycle bin) and how many history rows name it."""

    live: int
    deleted: int
    history: int

    @property
    def in_use(self) -> bool:
        return bool(self.live or self.deleted or self.history)


def stage_usage(stage: Stage) -> StageUsage:
    counts = Opportunity.objects.filter(stage=stage).aggregate(
        live=Count("id", filter=Q(deleted_at__isnull=True)), deleted=Count("id", filter=Q(deleted_at__isnull=False))
    )
    history = StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).count()
    return StageUsage(live=counts["live"], deleted=counts["deleted"], history=history)


def pipelines_active() -> list[Pipeline]:
    """The pipelines deals may be opened in and the board offers, default first."""
    return list(Pipeline.objects.filter(is_active=True).order_by("-is_default", "name", "id"))


def pipeline_get(pk) -> Pipeline | None:
    try:
        return Pipeline.objects.filter(pk=int(pk)).first()
    except (ValueError, TypeError, OverflowError):
        return None


def stage_get(pk) -> Stage | None:
    try:
        return Stage.objects.select_related("pipeline").filter(pk=int(pk)).first()
    except (ValueError, TypeError, OverflowError):
        return None


def stages_for_moves(pipeline: Pipeline, current: Stage | None = None) -> QuerySet[Stage]:
    """The stages a deal may be moved to (active ones), plus the one it is in."""
    q = Q(is_active=True)
    if current is not None:
        q |= Q(pk=current.pk)
    return Stage.objects.filter(q, pipeline=pipeline).order_by("order", "id")


def missing_kinds(pipeline: Pipeline) -> list[str]:
    """The kinds (open, won, lost) the pipeline has no active stage of; a usable pipeline has none missing."""
    present = set(pipeline.stages.filter(is_active=True).values_list("kind", flat=True).distinct())
    return [k for k in REQUIRED_KINDS if k not in present]


@dataclass
class StageRow:
    stage: Stage
    live: int
    is_first: bool
    is_last: bool


@dataclass
class PipelineSummary:
    pipeline: Pipeline
    stages: list[StageRow]
    missing: list[str]


def pipeline_settings(pipeline: Pipeline) -> PipelineSummary:
    """A pipeline's stages in order with their live deal counts (two queries)."""
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    live = dict(
        Opportunity.objects.filter(pipeline=pipeline, deleted_at__isnull=True)
        .order_by()
        .values_list("stage_id")
        .annotate(n=Count("id"))
    )
    rows = [
        StageRow(stage=s, live=live.get(s.pk, 0), is_first=i == 0, is_last=i == len(stages) - 1)
        for i, s in enumerate(stages)
    ]
    present = {s.kind for s in stages if s.is_active}
    return PipelineSummary(pipeline=pipeline, stages=rows, missing=[k for k in REQUIRED_KINDS if k not in present])


def pipelines_with_counts() -> list[tuple[Pipeline, int, int]]:
    """Every pipeline (active first) with its number of stages and of live deals."""
    pipelines = list(
        Pipeline.objects.annotate(n_stages=Count("stages", distinct=True)).order_by(
            "-is_active", "-is_default", "name", "id"
        )
    )
    deals = dict(
        Opportunity.objects.filter(deleted_at__isnull=True)
        .order_by()
        .values_list("pipeline_id")
        .annotate(n=Count("id"))
    )
    return [(p, p.n_stages, deals.get(p.pk, 0)) for p in pipelines]


def target_list(
    *, year: int | None = None, month: int | None = None, level: str = "", metric: str = ""
) -> QuerySet[Target]:
    """Monthly targets, oldest month first; every filter optional."""
    qs = Target.objects.select_related("department", "user")
    if year:
        qs = qs.filter(month__gte=date(year, 1, 1), month__lte=date(year, 12, 31))
    if month:
        qs = qs.filter(month__month=month)
    if level:
        qs = qs.filter(level=level)
    if metric:
        qs = qs.filter(metric=metric)
    return qs.order_by("month", "level", "metric", "id")
