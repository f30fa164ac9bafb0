from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    """Only what the user's role may use appears in the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = [("home", reverse("workspace:home"), _("Dashboard"))]
    if user.has_perm("customers.view_customer"):
        items.append(("customers", reverse("customers:customer-list"), _("Customers")))
    if user.has_perm("activities.view_activity"):
        items.append(("activities", reverse("activities:activity-list"), _("Activities")))
    if (
        user.has_perm("collection.file_form")
        or user.has_perm("collection.approve_form")
        or user.has_perm("collection.archive_form")
    ):
        items.append(("collection", reverse("collection:infoform-list"), _("Information forms")))
    if user.has_perm("sales.view_opportunity"):
        items.append(("sales", reverse("sales:board"), _("Opportunities")))
    if user.has_perm("customers.view_customer"):
        items.append(("map", reverse("customers:customer-map"), _("Map")))
    if user.has_perm("leads.view_lead"):
        items.append(("leads", reverse("leads:lead-list"), _("Leads")))
    if user.has_perm("pool.claim_customer") or user.has_perm("pool.assign_customer"):
        items.append(("pool", reverse("pool:pool-list"), _("Public pool")))
    if user.has_perm("classification.decide_tier"):
        items.append(("classification", reverse("classification:suggestion-list"), _("Classification")))
    if (
        user.has_perm("integrations.import_customers")
        or user.has_perm("leads.import_leads")
        or user.has_perm("customers.export_customer")
    ):
        items.append(("transfer", reverse("integrations:home"), _("Import / export")))
    items.append(("recycle", reverse("customers:recycle-bin"), _("Recycle bin")))
    if user.has_perm("core.view_auditentry") and user.data_scope == "all":
        items.append(("audit", reverse("users:audit-log"), _("Audit log")))
    if user.has_perm("users.manage_users"):
        items.append(("users", reverse("users:user-list"), _("Users")))
    if user.has_perm("webhooks.manage_webhooks"):
        items.append(("webhooks", reverse("webhooks:subscription-list"), _("Webhooks")))
    return {"nav": items}
