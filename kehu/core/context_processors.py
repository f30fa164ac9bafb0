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
    if user.has_perm("integrations.import_customers") or user.has_perm("customers.export_customer"):
        items.append(("transfer", reverse("integrations:home"), _("Import / export")))
    items.append(("recycle", reverse("customers:recycle-bin"), _("Recycle bin")))
    if user.has_perm("core.view_auditentry") and user.data_scope == "all":
        items.append(("audit", reverse("users:audit-log"), _("Audit log")))
    if user.has_perm("users.manage_users"):
        items.append(("users", reverse("users:user-list"), _("Users")))
    return {"nav": items}
