"""Forms of the approval pages: acting on a request, the flow editor (one form per step) and
delegations. The flow editor turns each step form into the routing table `engine` reads."""

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kehu.approvals import registry
from kehu.users.models import User
from kehu.users.roles import Role

APPROVER_SLOTS = 3
CONDITION_SLOTS = 3

MODE_CHOICES = [
    ("any", _("Any one of them (或签)")),
    ("all", _("All of them (会签)")),
    ("sequence", _("One after another")),
]
IF_NONE_CHOICES = [
    ("admin", _("Send to an administrator")),
    ("skip", _("Skip the step")),
    ("fallback", _("Send to the fallback approver")),
]
IF_REQUESTER_CHOICES = [
    ("skip", _("Skip them")),
    ("allow", _("They approve their own request")),
    ("up", _("Their supervisor approves instead")),
]
KIND_CHOICES = [
    ("", "—"),
    ("manager", _("Direct supervisor")),
    ("levels", _("Supervisors several levels up")),
    ("department_head", _("Head of the requester's department")),
    ("role", _("Everyone with a role")),
    ("person", _("A named person")),
]
ORDER_CHOICES = [("bottom_up", _("Nearest first")), ("top_down", _("Highest first"))]
OP_CHOICES = [
    ("", "—"),
    ("gt", _("greater than")),
    ("gte", _("at least")),
    ("lt", _("less than")),
    ("lte", _("at most")),
    ("eq", _("equal to")),
    ("in", _("is one of")),
    ("not_in", _("is none of")),
    ("under", _("is in department (or below)")),
    ("not_under", _("is not in department")),
]


def _users():
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


class ActForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("return", _("Return")),
            ("add", _("Add an approver")),
            ("transfer", _("Transfer")),
            ("revoke", _("Withdraw")),
            ("remind", _("Remind the approvers")),
            ("cc", _("Copy to")),
            ("resubmit", _("Submit again")),
        ]
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    user = forms.ModelChoiceField(label=pgettext_lazy("approval", "Person"), queryset=_users(), required=False)
    to_step = forms.TypedChoiceField(label=_("Return to"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _users()
        self.fields["to_step"].choices = [("", _("the requester"))] + [
            (index, _("step %(n)s: %(name)s") % {"n": index + 1, "name": name}) for index, name in steps
        ]


class StepForm(forms.Form):
    name = forms.CharField(label=_("Step name"), max_length=100, required=False)
    mode = forms.ChoiceField(label=_("Several approvers"), choices=MODE_CHOICES, initial="any")
    if_none = forms.ChoiceField(label=_("When nobody is found"), choices=IF_NONE_CHOICES, initial="admin")
    fallback = forms.ModelChoiceField(label=_("Fallback approver"), queryset=_users(), required=False)
    if_requester = forms.ChoiceField(
        label=_("When the requester is an approver"), choices=IF_REQUESTER_CHOICES, initial="up"
    )
    hours = forms.IntegerField(label=_("Time limit (hours, 0 = none)"), min_value=0, max_value=2160, initial=24)
    escalate = forms.BooleanField(label=_("Past twice the limit, to the approver's supervisor"), required=False)
    cc = forms.ModelMultipleChoiceField(label=_("Copy to"), queryset=_users(), required=False)

    def __init__(self, *args, fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = _users()
        self.fields["fallback"].queryset = users
        self.fields["cc"].queryset = users
        self.field_specs = fields or {}
        self.approver_rows, self.condition_rows = [], []
        for i in range(1, APPROVER_SLOTS + 1):
            self.fields[f"a{i}_kind"] = forms.ChoiceField(
                label=_("Approver %(n)s") % {"n": i}, choices=KIND_CHOICES, required=False
            )
            self.fields[f"a{i}_user"] = forms.ModelChoiceField(
                label=pgettext_lazy("approval", "Person"), queryset=users, required=False
            )
            self.fields[f"a{i}_levels"] = forms.IntegerField(
                label=_("Levels"), min_value=1, max_value=10, required=False
            )
            self.fields[f"a{i}_order"] = forms.ChoiceField(label=_("Order"), choices=ORDER_CHOICES, required=False)
            self.fields[f"a{i}_role"] = forms.ChoiceField(
                label=pgettext_lazy("approver", "Role"), choices=[("", "—"), *Role.choices], required=False
            )
            self.approver_rows.append([f"a{i}_{n}" for n in ("kind", "user", "levels", "order", "role")])
        field_choices = [("", "—")] + [(name, spec.label) for name, spec in self.field_specs.items()]
        for i in range(1, CONDITION_SLOTS + 1):
            self.fields[f"c{i}_field"] = forms.ChoiceField(
                label=_("Condition %(n)s") % {"n": i}, choices=field_choices, required=False
            )
            self.fields[f"c{i}_op"] = forms.ChoiceField(label=_("Comparison"), choices=OP_CHOICES, required=False)
            self.fields[f"c{i}_value"] = forms.CharField(
                label=_("Value"),
                max_length=200,
                required=False,
                help_text=_("An amount; values separated by commas; or a department's number."),
            )
            self.condition_rows.append([f"c{i}_{n}" for n in ("field", "op", "value")])

    def approver_fields(self):
        return [[self[name] for name in row] for row in self.approver_rows]

    def condition_fields(self):
        return [[self[name] for name in row] for row in self.condition_rows]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("name") and not any(data.get(f"a{i}_kind") for i in range(1, APPROVER_SLOTS + 1))

    def step(self) -> dict:
        """The routing table row this form describes."""
        data = self.cleaned_data
        approvers = []
        for i in range(1, APPROVER_SLOTS + 1):
            kind = data.get(f"a{i}_kind")
            if not kind:
                continue
            spec = {"kind": kind}
            if kind == "person":
                spec["user"] = data[f"a{i}_user"].pk if data.get(f"a{i}_user") else None
            elif kind == "levels":
                spec["levels"] = data.get(f"a{i}_levels") or 1
                spec["order"] = data.get(f"a{i}_order") or "bottom_up"
            elif kind == "role":
                spec["role"] = data.get(f"a{i}_role") or ""
            approvers.append(spec)
        conditions = []
        for i in range(1, CONDITION_SLOTS + 1):
            name = data.get(f"c{i}_field")
            if not name:
                continue
            spec = self.field_specs.get(name)
            value = (data.get(f"c{i}_value") or "").strip()
            if spec is not None and spec.kind == registry.CHOICE:
                value = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
            elif spec is not None and spec.kind == registry.DEPARTMENT:
                value = int(value) if value.isdigit() else value
            conditions.append({"field": name, "op": data.get(f"c{i}_op") or "", "value": value})
        return {
            "name": data.get("name") or "",
            "conditions": conditions,
            "approvers": approvers,
            "mode": data["mode"],
            "if_none": data["if_none"],
            "fallback": data["fallback"].pk if data.get("fallback") else None,
            "if_requester": data["if_requester"],
            "hours": data.get("hours") or 0,
            "escalate": bool(data.get("escalate")),
            "cc": [{"kind": "person", "user": u.pk} for u in data.get("cc") or []],
        }


def step_initial(step: dict) -> dict:
    """A step of a saved flow as the initial values of its form."""
    initial = {
        "name": gettext(step["name"]) if step.get("name") else "",  # a default step's name, translated
        "mode": step.get("mode", "any"),
        "if_none": step.get("if_none", "admin"),
        "fallback": step.get("fallback"),
        "if_requester": step.get("if_requester", "skip"),
        "hours": step.get("hours", 0),
        "escalate": step.get("escalate", False),
        "cc": [c.get("user") for c in step.get("cc", []) if c.get("kind") == "person"],
    }
    for i, spec in enumerate(step.get("approvers", [])[:APPROVER_SLOTS], 1):
        initial[f"a{i}_kind"] = spec.get("kind")
        initial[f"a{i}_user"] = spec.get("user")
        initial[f"a{i}_levels"] = spec.get("levels")
        initial[f"a{i}_order"] = spec.get("order")
        initial[f"a{i}_role"] = spec.get("role")
    for i, condition in enumerate(step.get("conditions", [])[:CONDITION_SLOTS], 1):
        value = condition.get("value")
        initial[f"c{i}_field"] = condition.get("field")
        initial[f"c{i}_op"] = condition.get("op")
        initial[f"c{i}_value"] = ", ".join(value) if isinstance(value, list) else value
    return initial


StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True, can_order=True, max_num=20)


class FlowActiveForm(forms.Form):
    is_active = forms.BooleanField(label=_("In use"), required=False)


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(label=_("Delegate"), queryset=_users())
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = _users()
        self.fields["delegate"].queryset = qs.exclude(pk=user.pk) if user else qs
