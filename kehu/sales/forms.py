from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.sales.models import Opportunity, Stage, StageKind, TargetLevel, TargetMetric
from kehu.sales.settings_selectors import KIND_CHOICES, target_departments_for, target_levels_for
from kehu.users.models import Department, User
from kehu.users.selectors import scope_users_q

SORTS = [
    ("-updated", _("Recently updated")),
    ("-amount", _("Largest amount")),
    ("amount", _("Smallest amount")),
    ("close", _("Expected close date")),
    ("name", _("Name")),
]


class OpportunityForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Opportunity
        fields = ["name", "amount", "probability", "expected_close_on", "owner", "products", "competitors"]
        widgets = {
            "expected_close_on": forms.DateInput(attrs={"type": "date"}),
            "products": forms.Textarea(attrs={"rows": 2}),
            "competitors": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        owners = User.objects.filter(is_active=True)
        if user.has_perm("sales.assign_opportunity"):
            owners = owners.filter(scope_users_q(user))
        else:
            owners = owners.filter(pk=user.pk)
        self.fields["owner"].queryset = owners.order_by("username")
        self.fields["owner"].required = False
        self.fields["probability"].required = False
        self.fields["amount"].required = False
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:
            self.fields["owner"].initial = user.pk


class StageChoiceField(forms.ModelChoiceField):
    """A stage menu: names, with won or lost said where the name does not say it."""

    def label_from_instance(self, obj):
        return obj.menu_label


class PipelineStageChoiceField(forms.ModelChoiceField):
    """Stages of every pipeline in one menu: each named with its pipeline."""

    def label_from_instance(self, obj):
        return f"{obj.pipeline.name} · {obj.menu_label}"


class MoveForm(forms.Form):
    stage = StageChoiceField(queryset=Stage.objects.none(), label=_("Stage"))
    reason = forms.CharField(label=_("Won / lost reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, pipeline, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline=pipeline).order_by("order", "id")


class OpportunityFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Deal or customer name"), "type": "search"}),
    )
    pipeline = forms.IntegerField(required=False, widget=forms.HiddenInput)
    stage = PipelineStageChoiceField(
        queryset=Stage.objects.select_related("pipeline").order_by(
            "-pipeline__is_default", "pipeline__name", "order", "id"
        ),
        required=False,
        label=_("Stage"),
        empty_label=_("Any stage"),
    )
    status = forms.ChoiceField(choices=[("", _("Any status")), *StageKind.choices], required=False, label=_("Status"))
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Owner"), empty_label=_("Any owner")
    )
    overdue = forms.BooleanField(required=False, label=_("Past their close date"))
    sort = forms.ChoiceField(choices=SORTS, required=False, label=_("Sort"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(scope_users_q(user), is_active=True).order_by("username")


class TargetForm(forms.Form):
    level = forms.ChoiceField(choices=TargetLevel.choices, label=_("Level"))
    metric = forms.ChoiceField(choices=TargetMetric.choices, label=_("Metric"))
    month = forms.DateField(
        label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}), input_formats=["%Y-%m", "%Y-%m-%d"]
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("path"), required=False, label=_("Department")
    )
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Sales rep"))
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=0, max_digits=14, decimal_places=2)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what the actor manages: their own department and below, their team (SAL-11).
        levels = target_levels_for(actor)
        self.fields["level"].choices = [(value, label) for value, label in TargetLevel.choices if value in levels]
        self.fields["department"].queryset = target_departments_for(actor)
        if TargetLevel.DEPARTMENT not in levels:
            del self.fields["department"]
        self.fields["user"].queryset = User.objects.filter(scope_users_q(actor), is_active=True).order_by("username")


class PipelineCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^[a-z0-9-]{1,40}$",
        max_length=40,
        help_text=_("Lower-case letters, digits and hyphens; used by the API and webhooks, and not changed later."),
        error_messages={"invalid": _("Use up to 40 lower-case letters, digits and hyphens.")},
    )


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_default = forms.BooleanField(
        label=_("Default pipeline"), required=False, help_text=_("New opportunities open in the default pipeline.")
    )
    is_active = forms.BooleanField(
        label=_("Active pipeline"),
        required=False,
        help_text=_("An inactive pipeline keeps its deals but takes no new ones and leaves the board's menu."),
    )


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES)
    probability = forms.IntegerField(label=_("Default probability (%)"), min_value=0, max_value=100)


class StageMoveDealsForm(forms.Form):
    to_stage = StageChoiceField(queryset=Stage.objects.none(), label=_("Move all its deals to"))
    reason = forms.CharField(
        label=_("Won / lost reason (when moving to a won or lost stage)"), required=False, max_length=2000
    )

    def __init__(self, *args, stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].queryset = (
            Stage.objects.filter(pipeline_id=stage.pipeline_id, is_active=True)
            .exclude(pk=stage.pk)
            .order_by("order", "id")
        )
