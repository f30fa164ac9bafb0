"""Reads for what administrators and managers set up in sales: pipelines with their stages and how
much each stage is used, and the monthly targets (业绩目标, SAL-11)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind, Target, TargetLevel
from kehu.users.models import Department, User
from kehu.users.roles import DataScope
from kehu.users.scopes import is_in_team_of
from kehu.users.selectors import scope_users_q

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


# ---- whose targets a manager sets: their own department and below (SAL-11) ----


def target_departments_for(actor: User) -> QuerySet[Department]:
    """The departments whose targets `actor` sets: all of them for a company-wide scope; else the
    actor's own department and, for a department-and-below scope, the departments under it."""
    scope = actor.data_scope
    if scope == DataScope.ALL:
        return Department.objects.order_by("path")
    if actor.department_id is None or scope not in (DataScope.DEPARTMENT, DataScope.DEPARTMENT_TREE):
        return Department.objects.none()
    if scope == DataScope.DEPARTMENT_TREE:
        return Department.objects.filter(path__startswith=actor.department.path).order_by("path")
    return Department.objects.filter(pk=actor.department_id)


def target_levels_for(actor: User) -> list[str]:
    """The levels `actor` sets targets for: the company's only with a company-wide scope."""
    levels = []
    if actor.data_scope == DataScope.ALL:
        levels.append(TargetLevel.COMPANY)
    if target_departments_for(actor).exists():
        levels.append(TargetLevel.DEPARTMENT)
    return [*levels, TargetLevel.REP]


def may_manage_target(actor: User, *, level: str, department: Department | None, user: User | None) -> bool:
    """Whether `actor` may set or remove this target: the company's with a company-wide scope, a
    department's in their own department or below, a rep's in their team."""
    if not actor.has_perm("sales.set_targets"):
        return False
    if level == TargetLevel.COMPANY:
        return actor.data_scope == DataScope.ALL
    if level == TargetLevel.DEPARTMENT:
        return department is not None and target_departments_for(actor).filter(pk=department.pk).exists()
    if level == TargetLevel.REP:
        return user is not None and is_in_team_of(actor, user)
    return False


def targets_for(
    actor: User, *, year: int | None = None, month: int | None = None, level: str = "", metric: str = ""
) -> QuerySet[Target]:
    """The monthly targets `actor` manages, oldest month first; every filter optional."""
    qs = target_list(year=year, month=month, level=level, metric=metric)
    if actor.data_scope == DataScope.ALL:
        return qs
    return qs.filter(
        Q(level=TargetLevel.DEPARTMENT, department__in=target_departments_for(actor))
        | Q(level=TargetLevel.REP, user__in=User.objects.filter(scope_users_q(actor)))
    )
