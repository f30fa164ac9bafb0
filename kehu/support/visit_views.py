"""Pages of dispatch and on-site visits (SRV-1): assign from the ranking (and plan the visit), the
engineer's visits on a phone, the visit form (sent as JSON by static/kehu/visit.js, which keeps it on
the phone while offline), the customer's confirmation page (no login, a signed link), and the
engineers' profiles (a settings page of the service manager)."""

import json
from datetime import datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.catalog.models import Category, Product
from kehu.core.pagination import page_of
from kehu.core.params import page_param, text_param
from kehu.support import selectors, visit_selectors, visit_services
from kehu.support.dispatch import engineers_qs
from kehu.support.models import VisitState
from kehu.support.visit_services import LinkError, PartLine, SkillLine, VisitReport

PAGE_SIZE = 30
MAX_BODY = 30 * 1024 * 1024


# Forms --------------------------------------------------------------------------------------------


class DispatchForm(forms.Form):
    engineer = forms.ModelChoiceField(label=gettext_lazy("Engineer"), queryset=None)
    planned_for = forms.DateTimeField(
        label=gettext_lazy("Visit on"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = engineers_qs()


class ProfileForm(forms.Form):
    on_leave = forms.BooleanField(label=gettext_lazy("On leave"), required=False)
    leave_until = forms.DateField(
        label=gettext_lazy("On leave until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    hourly_rate = forms.DecimalField(
        label=gettext_lazy("Labour rate per hour (CNY)"), min_value=0, max_value=100000, decimal_places=2
    )
    regions = forms.CharField(
        label=gettext_lazy("Service regions"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line: a province (浙江) or a province and a city (浙江 宁波)."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)


class SkillForm(forms.Form):
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"), queryset=Product.objects.filter(deleted_at__isnull=True), required=False
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("or a product category"), queryset=Category.objects.all(), required=False
    )
    level = forms.TypedChoiceField(
        label=gettext_lazy("Level"), coerce=int, choices=[(i, str(i)) for i in range(1, 6)], initial=1
    )
    certificate_number = forms.CharField(label=gettext_lazy("Certificate number"), required=False, max_length=60)
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ConfirmForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you?"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# Dispatch from the ticket page --------------------------------------------------------------------


@require_POST
def dispatch_assign(request, pk):
    user = request.user
    ticket = selectors.ticket_get(user, pk)
    if not user.has_perm("support.dispatch_ticket"):
        raise PermissionDenied
    form = DispatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("support:ticket-detail", pk=ticket.pk)
    data = form.cleaned_data
    try:
        visit = visit_services.visit_plan(
            ticket=ticket,
            engineer=data["engineer"],
            actor=user,
            planned_for=data["planned_for"],
            expected_version=data["version"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is sent; the visit is planned.") % {"name": visit.engineer.display_name})
    return redirect("support:ticket-detail", pk=ticket.pk)


# The engineer's visits ----------------------------------------------------------------------------


def _require_visits(user):
    if not user.has_perm("support.view_servicevisit"):
        raise PermissionDenied


def visit_list(request):
    user = request.user
    _require_visits(user)
    sees_all = visit_selectors.sees_all_visits(user)
    mine = not sees_all or request.GET.get("all") != "1"
    when = "done" if request.GET.get("when") == "done" else "upcoming"
    now = timezone.now()
    page = page_param(request)
    result = page_of(
        visit_selectors.visit_list(user, mine=mine, when=when, now=now),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    for visit in result.rows:
        visit.day = visit_selectors.day_of(visit, now)
    return render(
        request,
        "support/field/visit_list.html",
        {"result": result, "visits": result.rows, "page": page, "mine": mine, "when": when, "sees_all": sees_all},
    )


def _map_href(customer) -> str:
    from urllib.parse import quote

    place = " ".join(p for p in (customer.region, customer.city, customer.address) if p)
    if customer.latitude is not None and customer.longitude is not None:
        return f"geo:{customer.latitude},{customer.longitude}?q={quote(place)}"
    return f"geo:0,0?q={quote(place)}" if place else ""


def visit_detail(request, pk):
    user = request.user
    visit = visit_selectors.visit_get(user, pk)
    may_work = visit_services.may_work_on(user, visit)
    customer = visit.ticket.customer
    contact = visit.ticket.contact
    context = {
        "visit": visit,
        "ticket": visit.ticket,
        "customer": customer,
        "contact": contact,
        "phone": (contact.mobile or contact.office_phone) if contact else "",
        "map_href": _map_href(customer),
        "may_work": may_work,
        "editable": may_work and visit.state in (VisitState.PLANNED, VisitState.ON_SITE),
        "parts": list(visit.parts.select_related("specification")),
        "photos": list(visit.photos.all()),
        "contact_email": contact.email if contact else "",
    }
    return render(request, "support/field/visit_detail.html", context)


def _number(value):
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None


def report_from(data: dict) -> VisitReport:
    """The visit form's JSON (the page's and the API's) as a VisitReport; shape errors as ValidationError."""
    if not isinstance(data, dict):
        raise ValidationError(_("The form could not be read."))
    parts = []
    for raw in data.get("parts") or []:
        if not isinstance(raw, dict):
            raise ValidationError({"parts": [_("A part is not in the catalog.")]})
        try:
            spec_id = int(raw.get("specification_id"))
            quantity = Decimal(str(raw.get("quantity", "1")))
        except (TypeError, ValueError, ArithmeticError):
            raise ValidationError({"parts": [_("A part is not in the catalog.")]}) from None
        parts.append(PartLine(specification_id=spec_id, quantity=quantity, charged=bool(raw.get("charged"))))
    photos = data.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
        raise ValidationError({"photos": [_("A photo is not an image.")]})
    satisfaction = data.get("satisfaction")
    try:
        satisfaction = int(satisfaction) if satisfaction not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationError({"satisfaction": [_("The rating is from 1 to 5.")]}) from None
    checked_in_at = data.get("checked_in_at")
    moment = parse_datetime(checked_in_at) if isinstance(checked_in_at, str) else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return VisitReport(
        client_token=str(data.get("client_token") or ""),
        work_done=str(data.get("work_done") or "")[:10000],
        fixed=data.get("fixed") in (True, "yes", "true", "1", 1),
        minutes_spent=_number(data.get("minutes_spent")) or 0,
        travel_km=_number(data.get("travel_km")) or 0,
        travel_cost=_number(data.get("travel_cost")) or 0,
        parts=parts,
        photos=photos,
        signature=data.get("signature") if isinstance(data.get("signature"), str) else "",
        confirmed_by=str(data.get("confirmed_by") or "")[:100],
        satisfaction=satisfaction,
        resolve=data.get("resolve") in (True, "on", "true", "1", 1),
        latitude=_number(data.get("latitude")),
        longitude=_number(data.get("longitude")),
        accuracy=_number(data.get("accuracy")),
        checked_in_at=moment,
    )


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errs for m in e.messages] for name, errs in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


@require_POST
def visit_submit(request, pk):
    """The visit form as JSON; answers JSON: 200 with the visit (also for a retry of a report already
    taken: replay true), 400 with the errors per field, 403 for someone else's visit."""
    visit = visit_selectors.visit_get(request.user, pk)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"errors": {"__all__": [_("The form is too large.")]}}, status=400)
    try:
        data = json.loads(request.body or b"{}")
        report = report_from(data)
        visit, replay = visit_services.visit_submit(visit=visit, actor=request.user, report=report)
    except json.JSONDecodeError:
        return JsonResponse({"errors": {"__all__": [_("The form could not be read.")]}}, status=400)
    except ValidationError as exc:
        return JsonResponse({"errors": _errors(exc)}, status=400)
    return JsonResponse(
        {"visit_id": visit.pk, "state": visit.state, "fixed": visit.fixed, "replay": replay, "url": request.path[:-7]}
    )


@require_POST
def visit_check_in(request, pk):
    visit = visit_selectors.visit_get(request.user, pk)
    try:
        visit = visit_services.visit_check_in(
            visit=visit,
            actor=request.user,
            latitude=request.POST.get("latitude") or None,
            longitude=request.POST.get("longitude") or None,
            accuracy=request.POST.get("accuracy") or None,
        )
    except ValidationError as exc:
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"errors": _errors(exc)}, status=400)
        messages.error(request, " ".join(exc.messages))
        return redirect("support:visit-detail", pk=visit.pk)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"visit_id": visit.pk, "state": visit.state, "with_position": visit.latitude is not None})
    messages.success(request, _("Checked in."))
    return redirect("support:visit-detail", pk=visit.pk)


@require_GET
def part_options(request):
    """The visit form's part typeahead: up to 10 catalog specifications (JSON)."""
    if not request.user.has_perm("support.change_servicevisit"):
        raise PermissionDenied
    found = visit_selectors.part_search(text_param(request, "q", 50))
    return JsonResponse(
        {
            "parts": [
                {
                    "id": s.pk,
                    "code": s.code,
                    "name": f"{s.product.name} {s.name}",
                    "unit": s.product.unit,
                    "cost": str((s.product.cost or Decimal(0)).quantize(Decimal("0.01"))),
                }
                for s in found
            ]
        }
    )


def visit_image(request, pk, kind, index=0):
    """A visit's photo or signature, to those who see the visit."""
    visit = visit_selectors.visit_get(request.user, pk)
    if kind == "signature":
        image = visit.signature
    else:
        photo = visit.photos.filter(pk=index).first()
        image = photo.image if photo else None
    if not image:
        raise Http404
    try:
        handle = image.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=_content_type(image.name))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_type(name: str) -> str:
    return {"png": "image/png", "webp": "image/webp"}.get(name.rsplit(".", 1)[-1].lower(), "image/jpeg")


def _qr_svg(url: str) -> str:
    import segno  # loaded on the first QR code, not with the URLs

    return segno.make(url, error="m").svg_inline(scale=4, dark="#182433", omitsize=False)


@require_POST
def confirm_link(request, pk):
    """A new confirmation link for the finished visit: shown as a QR code and mailed if asked."""
    visit = visit_selectors.visit_get(request.user, pk)
    email = text_param(request, "email", 254) if request.method == "GET" else request.POST.get("email", "")[:254]
    try:
        _token, url = visit_services.confirmation_link_create(
            visit=visit,
            actor=request.user,
            base_url=request.build_absolute_uri("/"),
            email=email,
            language=getattr(request, "LANGUAGE_CODE", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("support:visit-detail", pk=visit.pk)
    return render(
        request,
        "support/field/confirm_link.html",
        {"visit": visit, "ticket": visit.ticket, "url": url, "qr": _qr_svg(url), "email": email.strip()},
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def visit_confirm(request, token):
    """The customer's page: the visit's summary, confirm and rate (no login; the link is the key)."""
    try:
        visit = visit_services.visit_for_link(token)
    except LinkError as exc:
        return render(request, "support/field/confirm_public.html", {"problem": str(exc)}, status=410)
    form = ConfirmForm(request.POST or None, initial={"name": visit.confirmed_by})
    done = visit.confirmed_at is not None
    if request.method == "POST" and not done and form.is_valid():
        try:
            visit = visit_services.visit_confirm(token=token, **form.cleaned_data)
        except LinkError as exc:
            return render(request, "support/field/confirm_public.html", {"problem": str(exc)}, status=410)
        except ValidationError as exc:
            from kehu.core.forms import apply_errors

            apply_errors(form, exc)
        else:
            done = True
    return render(
        request,
        "support/field/confirm_public.html",
        {
            "visit": visit,
            "ticket": visit.ticket,
            "parts": list(visit.parts.select_related("specification")),
            "form": form,
            "done": done,
        },
    )


# Engineers' profiles (settings) -------------------------------------------------------------------


def _require_manage(user):
    if not user.has_perm("support.manage_service"):
        raise PermissionDenied


def engineer_list(request):
    _require_manage(request.user)
    engineers = list(visit_selectors.engineer_list())
    return render(request, "support/field/engineer_list.html", {"engineers": engineers, "today": timezone.localdate()})


def _skill_lines(profile) -> list[SkillLine]:
    if profile is None:
        return []
    return [
        SkillLine(
            product_id=s.product_id,
            category_id=s.category_id,
            level=s.level,
            certificate_number=s.certificate_number,
            valid_until=s.valid_until,
        )
        for s in profile.skills.all().order_by("pk")
    ]


def engineer_edit(request, pk):
    user = request.user
    _require_manage(user)
    engineer = visit_selectors.engineer_get(pk)
    profile = visit_selectors.profile_of(engineer)
    initial = {"hourly_rate": Decimal(0)}
    if profile is not None:
        initial = {
            "on_leave": profile.on_leave,
            "leave_until": profile.leave_until,
            "hourly_rate": profile.hourly_rate,
            "note": profile.note,
            "regions": "\n".join(str(r) for r in profile.regions.all()),
        }
    form = ProfileForm(request.POST or None, initial=initial, prefix="p")
    skill_form = SkillForm(prefix="s")
    if request.method == "POST":
        action = request.POST.get("action", "profile")
        try:
            if action == "profile" and form.is_valid():
                data = form.cleaned_data
                visit_services.engineer_profile_save(
                    engineer=engineer,
                    actor=user,
                    on_leave=data["on_leave"],
                    leave_until=data["leave_until"],
                    hourly_rate=data["hourly_rate"],
                    note=data["note"],
                    regions=visit_services.parse_regions(data["regions"]),
                )
                messages.success(request, _("Saved."))
                return redirect("support:engineer-edit", pk=engineer.pk)
            if action == "add-skill":
                form = ProfileForm(initial=initial, prefix="p")
                skill_form = SkillForm(request.POST, prefix="s")
                if skill_form.is_valid():
                    data = skill_form.cleaned_data
                    line = SkillLine(
                        product_id=data["product"].pk if data["product"] else None,
                        category_id=data["category"].pk if data["category"] else None,
                        level=data["level"],
                        certificate_number=data["certificate_number"],
                        valid_until=data["valid_until"],
                    )
                    _save_skills(engineer, user, profile, [*_skill_lines(profile), line])
                    messages.success(request, _("Skill added."))
                    return redirect("support:engineer-edit", pk=engineer.pk)
            if action == "delete-skill" and profile is not None:
                keep = [s for s in profile.skills.all().order_by("pk") if str(s.pk) != request.POST.get("skill")]
                _save_skills(engineer, user, profile, [_line(s) for s in keep])
                messages.success(request, _("Skill removed."))
                return redirect("support:engineer-edit", pk=engineer.pk)
        except ValidationError as exc:
            from kehu.core.forms import apply_errors

            apply_errors(skill_form if action == "add-skill" else form, exc)
    return render(
        request,
        "support/field/engineer_form.html",
        {
            "engineer": engineer,
            "profile": profile,
            "skills": list(profile.skills.select_related("product", "category").order_by("pk")) if profile else [],
            "form": form,
            "skill_form": skill_form,
            "today": timezone.localdate(),
        },
    )


def _line(skill) -> SkillLine:
    return SkillLine(
        product_id=skill.product_id,
        category_id=skill.category_id,
        level=skill.level,
        certificate_number=skill.certificate_number,
        valid_until=skill.valid_until,
    )


def _save_skills(engineer, actor, profile, lines):
    visit_services.engineer_profile_save(
        engineer=engineer,
        actor=actor,
        on_leave=profile.on_leave if profile else False,
        leave_until=profile.leave_until if profile else None,
        hourly_rate=profile.hourly_rate if profile else Decimal(0),
        note=profile.note if profile else "",
        skills=lines,
    )


def planned_default(now: datetime | None = None) -> str:
    """The dispatch form's default visit moment: the next working morning at 09:00 (today if before 8)."""
    from datetime import timedelta

    local = timezone.localtime(now or timezone.now())
    day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
    return f"{day.isoformat()}T09:00"
