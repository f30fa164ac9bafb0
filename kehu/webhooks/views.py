"""Administrators manage webhook subscriptions and read the delivery log (INT-4)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.params import id_param
from kehu.webhooks import services
from kehu.webhooks.forms import SubscriptionForm
from kehu.webhooks.models import WebhookDelivery, WebhookSubscription

PERM = "webhooks.manage_webhooks"
LOG_SIZE = 100


@permission_required(PERM, raise_exception=True)
def subscription_list(request):
    form = SubscriptionForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_subscription_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Subscription added."))
            return redirect("webhooks:subscription-list")
    return render(
        request,
        "webhooks/subscription_list.html",
        {"form": form, "subscriptions": WebhookSubscription.objects.order_by("-created_at")},
    )


@permission_required(PERM, raise_exception=True)
def subscription_edit(request, pk):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    form = SubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        fresh = WebhookSubscription.objects.get(pk=pk)
        try:
            services.webhook_subscription_update(subscription=fresh, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Subscription saved."))
            return redirect("webhooks:subscription-list")
    return render(
        request,
        "webhooks/subscription_form.html",
        {"form": form, "subscription": subscription},
    )


@require_POST
@permission_required(PERM, raise_exception=True)
def subscription_rotate(request, pk):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    services.webhook_subscription_rotate_secret(subscription=subscription, actor=request.user)
    messages.success(request, _("A new signing secret was made; update the receiver."))
    return redirect("webhooks:subscription-edit", pk=pk)


@require_POST
@permission_required(PERM, raise_exception=True)
def subscription_delete(request, pk):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    services.webhook_subscription_delete(subscription=subscription, actor=request.user)
    messages.success(request, _("Subscription deleted."))
    return redirect("webhooks:subscription-list")


@require_POST
@permission_required(PERM, raise_exception=True)
def delivery_retry(request, pk):
    """Send a failed or given-up delivery again now."""
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription"), pk=pk)
    try:
        services.webhook_delivery_retry(delivery=delivery, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The delivery is being sent again; its result shows in the log."))
    target = reverse("webhooks:delivery-list")
    raw = request.POST.get("subscription", "")
    if raw.isdigit() and len(raw) < 16:
        target += f"?subscription={raw}"
    return redirect(target)


@permission_required(PERM, raise_exception=True)
def delivery_list(request):
    deliveries = WebhookDelivery.objects.select_related("subscription").order_by("-created_at", "-id")
    subscription = id_param(request, "subscription")
    if subscription is not None:
        deliveries = deliveries.filter(subscription_id=subscription)
    rows = list(deliveries[:LOG_SIZE])
    for delivery in rows:
        delivery.may_retry = services.may_retry(delivery) and delivery.subscription.is_active
    return render(
        request,
        "webhooks/delivery_list.html",
        {"deliveries": rows, "subscription_filter": subscription or ""},
    )
