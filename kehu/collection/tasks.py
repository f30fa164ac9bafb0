"""Daily reminders of overdue information-form steps (CUS-3, WRN-6), by mail to who must act."""

from collections import defaultdict
from datetime import timedelta

from django.tasks import task
from django.urls import reverse
from django.utils.translation import ngettext

from kehu.collection.events import InfoFormEvent
from kehu.collection.selectors import overdue_for
from kehu.core import events
from kehu.core.mail import queue_email
from kehu.core.schedule import periodic
from kehu.users.language import in_language_of
from kehu.users.models import User
from kehu.users.roles import ROLE_POLICY

WORKFLOW_PERMS = ("collection.file_form", "collection.approve_form", "collection.archive_form")


@periodic(every=timedelta(days=1))
@task
def collection_overdue_reminders() -> int:
    """One mail per person with overdue forms to enter, approve or archive. Idempotent per day
    in effect: it runs once a day and only reads."""
    roles = [role for role, (_scope, perms) in ROLE_POLICY.items() if set(WORKFLOW_PERMS) & perms]
    sent = 0
    # By role: superusers may do everything, but are not the ones the workflow waits for.
    people = User.objects.filter(role__in=roles, is_active=True, is_superuser=False).exclude(email="")
    for user in people.select_related("department"):
        overdue = overdue_for(user, limit=50)
        if not overdue:
            continue
        lines = defaultdict(list)
        for step in ("filing", "approval", "archiving"):
            for form in getattr(overdue, step):
                lines[step].append(form)
        queue_email(
            "collection/email/overdue",
            {"user": user, "filing": lines["filing"], "approval": lines["approval"], "archiving": lines["archiving"]},
            [user.email],
            user.language or None,
        )
        count = sum(len(forms) for forms in lines.values())
        with in_language_of(user):
            summary = ngettext("%(count)d form past its deadline", "%(count)d forms past their deadline", count)
        events.record(
            InfoFormEvent.INFO_FORM_OVERDUE,
            summary=summary % {"count": count},
            notify=[user],
            link=reverse("collection:infoform-list"),
        )
        sent += 1
    return sent
