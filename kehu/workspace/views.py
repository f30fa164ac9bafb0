"""The dashboard and the customer 360° page (CUS-6), composed from several domains."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.activities import selectors as activity_selectors
from kehu.activities import services as activity_services
from kehu.activities.events import ActivityEvent
from kehu.activities.forms import ActivityForm
from kehu.activities.models import ActivityKind
from kehu.classification.selectors import classification_panel
from kehu.collection.selectors import overdue_for as collection_overdue_for
from kehu.core import events
from kehu.core.audit import audit_entries_for
from kehu.core.audit_display import describe_entries
from kehu.core.forms import apply_errors
from kehu.core.mail import mail_states
from kehu.core.params import MAX_ID, parse_moment
from kehu.customers import selectors
from kehu.customers.team_views import team_panel
from kehu.pool import selectors as pool_selectors
from kehu.receivables.credit import money_header
from kehu.sales import selectors as sales_selectors
from kehu.support.selectors import customer_ticket_card
from kehu.workspace.timeline_html import timeline_rows

TIMELINE_PAGE = 30


def home(request):
    user = request.user
    commitments = (
        activity_selectors.activity_qs_visible_to(user)
        .filter(owner=user, kind=ActivityKind.COMMITMENT, is_done=False)
        .select_related("customer")
        .order_by("due_on")[:10]
    )
    recent = activity_selectors.newest_activities(user, limit=10)
    # The customer list's own first page (its fast path for scopes with shared customers, its cached count).
    customers = selectors.customer_page(
        user, selectors.CustomerFilters(), offset=0, limit=8, columns=("id", "name", "tier", "updated_at", "owner")
    )
    return render(
        request,
        "workspace/home.html",
        {
            "commitments": commitments,
            "recent": recent,
            "customer_total": customers.count,
            "customer_capped": customers.count_is_capped,
            "recent_customers": customers.rows,
            "today": timezone.localdate(),
            # Overdue steps of the information-collection workflow (CUS-3) this user answers for.
            "collection_overdue": collection_overdue_for(user),
            # Public pool: customers a rule will soon return to the pool (kehu.pool).
            "pool_due": pool_selectors.customers_due_soon(user),
            # Care reminders (关怀提醒): contacts' birthdays and anniversaries in the next 14 days (kehu.activities).
            "reminders": activity_selectors.care_reminders(user, limit=10),
        },
    )


def _parse_before(raw: str):
    """The keyset cursor of the timeline: "<iso time>_<id>"."""
    stamp, _sep, pk = raw.rpartition("_")
    moment = parse_moment(stamp)
    if moment is None or not (pk.isascii() and pk.isdigit() and len(pk) < 20) or not 1 <= int(pk) <= MAX_ID:
        return None
    return moment, int(pk)


COMMITMENTS_SHOWN = 20


def _commitments(customer) -> dict:
    """The soonest open commitments, and how many more there are."""
    open_ones = activity_selectors.open_commitments_of(customer)
    shown = list(open_ones[: COMMITMENTS_SHOWN + 1])
    more = open_ones.count() - COMMITMENTS_SHOWN if len(shown) > COMMITMENTS_SHOWN else 0
    return {"commitments": shown[:COMMITMENTS_SHOWN], "more_commitments": more}


def _context(request, customer, form=None):
    user = request.user
    sensitive = selectors.can_see_sensitive(user, customer)
    before = _parse_before(request.GET.get("before", "")) if request.method == "GET" else None
    timeline = selectors.timeline_page(customer, before=before, size=TIMELINE_PAGE + 1)
    older = None
    if len(timeline) > TIMELINE_PAGE:
        timeline = timeline[:TIMELINE_PAGE]
        last = timeline[-1]
        older = f"{last.occurred_at.isoformat()}_{last.pk}"
    # Worked out once for the page, not per entry in the template: a lazy label is a translation each
    # time it is read, and each perms lookup asks the backend again.
    labels = events.labels()
    changes_any = user.has_perm("activities.change_activity")
    mail_ids = [e.payload["mail"] for e in timeline if isinstance(e.payload.get("mail"), int)]
    mails = mail_states(mail_ids)
    for entry in timeline:
        entry.kind_label = labels.get(entry.kind, entry.kind)
        entry.mail_status = mails.get(entry.payload.get("mail"))
        entry.may_edit = (
            entry.subject_type == "activities.activity"
            and entry.kind != ActivityEvent.COMMITMENT_DONE
            and (changes_any or entry.actor_id == user.pk)
        )
    can_log = user.has_perm("activities.add_activity")
    contacts = list(selectors.contacts_of(customer))
    return {
        "customer": customer,
        "sensitive": sensitive,
        "contacts": contacts,
        "contact_duplicates": (
            selectors.duplicate_contacts(customer, contacts) if user.has_perm("customers.change_customer") else []
        ),
        "facts": list(selectors.facts_of(customer, sensitive=sensitive)[:20]),
        **_commitments(customer),
        "timeline": timeline,
        "timeline_html": timeline_rows(timeline),
        "older": older,
        "form": form if form is not None else (ActivityForm(customer=customer, contacts=contacts) if can_log else None),
        # The trail holds before/after values, phones included: only for those who may see them.
        "audit": (
            describe_entries(audit_entries_for(customer, 20))
            if sensitive and user.has_perm("core.view_auditentry")
            else None
        ),
        "merges": selectors.merges_of(customer),
        # Public pool: due date, exemption, release / hand over (kehu.pool) — for the scope, not for
        # members of the account team, who neither edit, delete, merge nor hand over the record.
        "in_scope": (in_scope := selectors.customer_in_scope(user, customer)),
        "pool_block": pool_selectors.customer_pool_block(user, customer) if in_scope else {"show": False},
        "cls": (cls := classification_panel(customer)),
        # The account team (kehu.customers.team_views).
        "team": team_panel(user, customer),
        # Open opportunities (kehu.sales).
        "sales_panel": sales_selectors.customer_sales_panel(user, customer),
        # Owed, overdue and the credit limit in the header (kehu.receivables).
        "money": money_header(user, customer, credit=cls.credit),
        # Open service tickets at the top (kehu.support, CUS-6).
        "ticket_card": customer_ticket_card(user, customer),
        "today": timezone.localdate(),
    }


def _customer_gone(request, pk):
    """Where an old link to a merged or deleted customer leads: the customer it was merged into, or a
    page that says when it was deleted and by whom (410), with the recycle bin for those who restore."""
    gone = selectors.customer_gone(request.user, pk)
    if gone is None:
        raise Http404
    survivor = gone.merged_into
    if survivor is not None and selectors.customer_qs_visible_to(request.user).filter(pk=survivor.pk).exists():
        messages.info(
            request, _("%(name)s was merged into %(survivor)s.") % {"name": gone.name, "survivor": survivor.name}
        )
        return redirect("workspace:customer-detail", pk=survivor.pk)
    may_restore = selectors.deleted_customers_for(request.user).filter(pk=gone.pk).exists()
    return render(
        request,
        "workspace/customer_gone.html",
        {"customer": gone, "may_restore": may_restore},
        status=410,
    )


def customer_detail(request, pk):
    try:
        customer = selectors.customer_get(request.user, pk)
    except Http404:
        return _customer_gone(request, pk)
    context = _context(request, customer)
    if request.htmx and request.GET.get("before"):
        return render(request, "workspace/customer_detail.html#timeline-rows", context)
    return render(request, "workspace/customer_detail.html", context)


@require_POST
def activity_log(request, pk):
    """Log an activity from the 360° page: htmx swaps the form and timeline; without JS, a redirect."""
    customer = selectors.customer_get(request.user, pk)
    if not request.user.has_perm("activities.add_activity"):
        raise PermissionDenied
    form = ActivityForm(request.POST, customer=customer)
    if form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            activity_services.activity_log(customer=customer, actor=request.user, **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not request.htmx:
                return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#timeline")
            return render(request, "workspace/customer_detail.html#log-and-timeline", _context(request, customer))
    template = "workspace/customer_detail.html" + ("#log-and-timeline" if request.htmx else "")
    return render(request, template, _context(request, customer, form=form))
