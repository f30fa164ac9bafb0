from django.urls import include, path

from kehu.core.lazy_urls import LazyURLResolver
from kehu.users.urls import app_patterns, auth_patterns

urlpatterns = [
    path("", include("kehu.core.urls")),
    path("", include("kehu.workspace.urls")),
    path("accounts/", include(auth_patterns)),
    path("accounts/", include((app_patterns, "users"))),
    path("customers/", include("kehu.customers.urls")),
    path("activities/", include("kehu.activities.urls")),
    path("pool/", include("kehu.pool.urls")),
    path("classification/", include("kehu.classification.urls")),
    path("collection/", include("kehu.collection.urls")),
    path("transfer/", include("kehu.integrations.urls")),
    path("leads/", include("kehu.leads.urls")),
    path("sales/", include("kehu.sales.urls")),
    path("webhooks/", include("kehu.webhooks.urls")),
    path("notifications/", include("kehu.notifications.urls")),
    path("approvals/", include("kehu.approvals.urls")),
    path("catalog/", include("kehu.catalog.urls")),
    path("quotes/", include("kehu.quotes.urls")),
    path("orders/", include("kehu.orders.urls")),
    path("quotes/", include("kehu.quotes.insights_urls")),
    path("", include("kehu.quotes.document_urls")),
    path("contracts/", include("kehu.contracts.urls")),
    path("invoices/", include("kehu.invoices.urls")),
    path("receivables/reports/", include("kehu.receivables.report_urls")),
    path("receivables/", include("kehu.receivables.urls")),
    path("dealer-plans/", include("kehu.dealerplans.urls")),
    path("service/", include("kehu.support.urls")),
    path("help/", include("kehu.support.portal_urls")),
    # The API loads on a worker's first /api/ request (about 30 MiB: django-ninja, pydantic, schemas).
    LazyURLResolver("api/v1/", "kehu.api.urlconf", app_name="ninja", namespace="api"),
]

handler400 = "kehu.core.errors.bad_request"
handler403 = "kehu.core.errors.permission_denied"
handler404 = "kehu.core.errors.page_not_found"
handler500 = "kehu.core.errors.server_error"
