"""A customer's account team in the REST API (KAM-1, ACC-3 sharing): read by whoever sees the
customer, changed through `kehu.customers.teams` (owner within their scope, the owner's manager,
administrators). Members are addressed by their user id."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from kehu.core.api import Day, Id, Keep
from kehu.customers import selectors, teams
from kehu.customers.models import AccountTeamMember, TeamRole
from kehu.customers.sharing import team_of
from kehu.users.models import User

router = Router(tags=["customers"])


class TeamMemberOut(Schema):
    user_id: int
    username: str
    name: str
    role: str
    role_label: str
    ends_on: date | None
    added_by_id: int | None
    created_at: datetime
    version: int


class TeamMemberIn(Schema):
    user_id: Id
    role: TeamRole
    ends_on: Day | None = None


class TeamMemberPatch(Schema):
    role: TeamRole = Keep()
    ends_on: Day | None = None
    version: int | None = None


def member_out(member: AccountTeamMember) -> dict:
    return {
        "user_id": member.user_id,
        "username": member.user.username,
        "name": member.user.display_name,
        "role": member.role,
        "role_label": member.get_role_display(),
        "ends_on": member.ends_on,
        "added_by_id": member.added_by_id,
        "created_at": member.created_at,
        "version": member.version,
    }


def _member(request, customer_id: int, user_id: int) -> AccountTeamMember:
    customer = selectors.customer_get(request.user, customer_id)
    member = AccountTeamMember.objects.select_related("user", "customer__owner").filter(
        customer=customer, user_id=user_id
    )
    found = member.first()
    if found is None:
        raise Http404
    return found


@router.get("/{customer_id}/team", response=list[TeamMemberOut])
def team_list(request, customer_id: Id):
    """The customer's account team: active members (an ended membership is not listed), team leader first."""
    customer = selectors.customer_get(request.user, customer_id)
    return [member_out(m) for m in team_of(customer)]


@router.post("/{customer_id}/team", response={201: TeamMemberOut})
def team_member_add(request, customer_id: Id, payload: TeamMemberIn):
    """Adds someone to the team: the owner within their scope, the owner's manager or an administrator anyone."""
    customer = selectors.customer_get(request.user, customer_id)
    person = User.objects.filter(pk=payload.user_id).first()
    if person is None:
        raise ValidationError({"user_id": _("There is no such user.")})
    try:
        member = teams.team_member_add(
            customer=customer, user=person, role=payload.role.value, ends_on=payload.ends_on, actor=request.user
        )
    except ValidationError as exc:
        raise _renamed(exc) from None
    return Status(201, member_out(member))


@router.patch("/{customer_id}/team/{user_id}", response=TeamMemberOut)
def team_member_update(request, customer_id: Id, user_id: Id, payload: TeamMemberPatch):
    """Changes the role or the end date (null: no end); a stale `version` answers 409."""
    member = _member(request, customer_id, user_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    if "role" in data:
        data["role"] = data["role"].value
    member = teams.team_member_update(
        member=member, actor=request.user, expected_version=member.version if version is None else version, **data
    )
    return member_out(member)


@router.delete("/{customer_id}/team/{user_id}", response={204: None})
def team_member_remove(request, customer_id: Id, user_id: Id):
    """Takes the person off the team: their access to the customer ends now."""
    teams.team_member_remove(member=_member(request, customer_id, user_id), actor=request.user)
    return Status(204, None)


def _renamed(exc: ValidationError) -> ValidationError:
    """The service names the person `user`; the API's field is `user_id`."""
    if hasattr(exc, "error_dict"):
        return ValidationError({("user_id" if k == "user" else k): v for k, v in exc.error_dict.items()})
    return exc
