"""The account team panel of the 360° page (KAM-1): add, change and remove members with htmx; every
form also works without JavaScript (the POST redirects back to the page)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ConcurrentEditError
from kehu.core.forms import apply_errors
from kehu.core.models import validate_sane_year
from kehu.core.params import parse_int
from kehu.customers import selectors, teams
from kehu.customers.models import AccountTeamMember, Customer, TeamRole
from kehu.customers.sharing import team_of
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

TEMPLATE = "customers/_team_panel.html"


def team_candidates(actor: User, customer: Customer, members: list[AccountTeamMember]):
    """People the actor may add: anyone active (owner's manager, administrator) or their own scope
    (owner), less the owner and the active members."""
    qs = User.objects.filter(is_active=True).exclude(pk__in=[customer.owner_id, *(m.user_id for m in members)])
    if not teams.team_may_share_with_anyone(actor, customer):
        qs = qs.filter(scope_users_q(actor))
    return qs.order_by("username")


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role in the team"), choices=TeamRole.choices)
    ends_on = forms.DateField(
        label=_("Member until"),
        required=False,
        validators=[validate_sane_year],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates if candidates is not None else User.objects.none()
        self.fields["user"].label_from_instance = lambda u: u.display_name


class TeamMemberEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role in the team"), choices=TeamRole.choices)
    ends_on = forms.DateField(
        label=_("Member until"),
        required=False,
        validators=[validate_sane_year],
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def team_panel(user: User, customer: Customer, *, form=None, edit_errors=None) -> dict:
    """What the panel shows: the active members; for those who may change the team, the forms."""
    may_manage = teams.team_may_manage(user, customer)
    members = team_of(customer)
    for m in members:
        m.may_change = may_manage and teams.team_may_share_with(user, customer, m.user)
        m.errors = (edit_errors or {}).get(m.user_id, [])
    only_manager = False
    candidates = []
    if may_manage:
        fresh = form is None
        if fresh:
            form = TeamMemberForm(candidates=team_candidates(user, customer, members))
        # Read once and listed by the template itself: Django's widget rendering of a long menu of
        # people cost more than the rest of the panel on every 360° page.
        candidates = list(form.fields["user"].queryset)
        # An owner whose scope holds nobody else is told whom to ask instead of an empty choice (a
        # form sent back with its errors is always shown).
        only_manager = fresh and not candidates
    return {
        "candidates": candidates,
        "members": members,
        "may_manage": may_manage,
        "form": form if may_manage and not only_manager else None,
        "ask_manager": only_manager and not teams.team_may_share_with_anyone(user, customer),
        "roles": TeamRole.choices,
        "today": timezone.localdate(),
    }


def _answer(request, customer: Customer, **panel):
    if not request.htmx:
        return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#account-team")
    return render(request, TEMPLATE, {"customer": customer, "team": team_panel(request.user, customer, **panel)})


def _customer(request, pk) -> Customer:
    customer = selectors.customer_get(request.user, pk)
    if not teams.team_may_manage(request.user, customer):
        raise PermissionDenied
    return customer


def team_panel_view(request, pk):
    """The panel alone (htmx refresh); a plain request goes to the panel on the customer page."""
    customer = selectors.customer_get(request.user, pk)
    if not request.htmx:
        return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#account-team")
    return render(request, TEMPLATE, {"customer": customer, "team": team_panel(request.user, customer)})


@require_POST
def team_member_add(request, pk):
    customer = _customer(request, pk)
    form = TeamMemberForm(request.POST, candidates=team_candidates(request.user, customer, team_of(customer)))
    if form.is_valid():
        try:
            teams.team_member_add(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _answer(request, customer)
    if not request.htmx:
        # Without JavaScript: back to the page, the reasons on top of it.
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _answer(request, customer)
    return render(request, TEMPLATE, {"customer": customer, "team": team_panel(request.user, customer, form=form)})


def _member(customer: Customer, user_id) -> AccountTeamMember:
    member = (
        AccountTeamMember.objects.select_related("user", "customer__owner")
        .filter(customer=customer, user_id=user_id)
        .first()
    )
    if member is None:
        raise Http404
    return member


@require_POST
def team_member_edit(request, pk, user_id):
    customer = _customer(request, pk)
    member = _member(customer, user_id)
    form = TeamMemberEditForm(request.POST)
    errors = {}
    if form.is_valid():
        version = parse_int(request.POST.get("version"))
        try:
            teams.team_member_update(
                member=member,
                actor=request.user,
                expected_version=member.version if version is None else version,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            errors = {member.user_id: list(exc.messages)}
    else:
        errors = {member.user_id: [e for errs in form.errors.values() for e in errs]}
    if errors and not request.htmx:
        for error in errors[member.user_id]:
            messages.error(request, error)
    return _answer(request, customer, edit_errors=errors)


@require_POST
def team_member_remove(request, pk, user_id):
    customer = _customer(request, pk)
    member = _member(customer, user_id)
    version = parse_int(request.POST.get("version"))
    try:
        teams.team_member_remove(member=member, actor=request.user, expected_version=version)
    except ConcurrentEditError as exc:
        if not request.htmx:
            messages.error(request, exc.messages[0])
        return _answer(request, customer, edit_errors={member.user_id: list(exc.messages)})
    return _answer(request, customer)
