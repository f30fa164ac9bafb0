"""The REST API under /api/v1/ (INT-4): each app's router, one error format, never a 500."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from kehu.activities.api import router as activities_router
from kehu.api.docs import LocalSwagger
from kehu.api.schema import KehuAPI
from kehu.approvals.api import router as approvals_router
from kehu.catalog.api import router as catalog_router
from kehu.classification.api import router as classification_router
from kehu.collection.api import router as collection_router
from kehu.contracts.api import router as contracts_router
from kehu.core.exceptions import ConcurrentEditError
from kehu.customers.api import contacts_router, customers_router
from kehu.customers.team_api import router as team_router
from kehu.dealerplans.api import router as dealerplans_router
from kehu.integrations.api import router as integrations_router
from kehu.invoices.api import router as invoices_router
from kehu.leads.api import router as leads_router
from kehu.notifications.api import router as notifications_router
from kehu.orders.api import router as orders_router
from kehu.pool.api import router as pool_router
from kehu.quotes.api import router as quotes_router
from kehu.quotes.api_document import router as quote_documents_router
from kehu.quotes.api_insights import router as quote_insights_router
from kehu.receivables.api import router as receivables_router
from kehu.receivables.api_reports import router as receivables_reports_router
from kehu.sales.api import router as sales_router
from kehu.support.api import router as support_router
from kehu.users.api import BearerAuth
from kehu.users.api import router as auth_router
from kehu.webhooks.api import router as webhooks_router

log = logging.getLogger(__name__)

api = KehuAPI(
    title="Kehu API",
    version="1",
    description="Customers, contacts and activities of Kehu CRM. Authenticate with "
    "`POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`.",
    auth=BearerAuth(),
    urls_namespace="api",
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/auth", auth_router)
api.add_router("/customers", customers_router)
api.add_router("/customers", team_router)  # /customers/{id}/team (KAM-1)
api.add_router("/contacts", contacts_router)
api.add_router("/activities", activities_router)
api.add_router("/pool", pool_router)
api.add_router("/classification", classification_router)
api.add_router("/collection", collection_router)
api.add_router("/transfer", integrations_router)
api.add_router("/leads", leads_router)
api.add_router("/sales", sales_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/notifications", notifications_router)
api.add_router("/approvals", approvals_router)
api.add_router("/catalog", catalog_router)
api.add_router("/quotes", quotes_router)
api.add_router("/quotes", quote_insights_router)  # /quotes/{id}/insights
api.add_router("/quotes", quote_documents_router)  # /quotes/{id}/pdf, share-links, email (SAL-3)
api.add_router("/contracts", contracts_router)
api.add_router("/orders", orders_router)
api.add_router("/invoices", invoices_router)
api.add_router("/receivables", receivables_router)
api.add_router("/receivables", receivables_reports_router)  # ageing, statements, credit (SAL-9, CLS-4)
api.add_router("/dealer-plans", dealerplans_router)
api.add_router("/service", support_router)


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


@api.exception_handler(ConcurrentEditError)
def concurrent_edit(request, exc):
    return api.create_response(request, {"detail": str(exc.messages[0]), "errors": {}}, status=409)


# The services' refusals for a record's state, not for the input: "an order that is confirmed cannot
# become a draft" (code "transition"), "this category still holds products" (code "in_use").
STATE_CODES = {"transition", "in_use"}


def _refused_by_state(exc: ValidationError) -> bool:
    """Whether a service refused for the record's state: a 409, as the schema describes it."""
    return not hasattr(exc, "error_dict") and all(error.code in STATE_CODES for error in exc.error_list)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    if _refused_by_state(exc):
        return api.create_response(request, {"detail": " ".join(exc.messages), "errors": {}}, status=409)
    return api.create_response(request, {"detail": _("Invalid input."), "errors": _field_errors(exc)}, status=400)


@api.exception_handler(NinjaValidationError)
def schema_error(request, exc):
    return api.create_response(request, {"detail": _("Invalid input."), "errors": exc.errors}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(request, {"detail": _("You may not do this.")}, status=403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, {"detail": _("Authentication required: send a valid bearer token.")}, status=401
    )


# django-ninja's own (English) message for a body that is no JSON, or no JSON object (kehu.api.schema).
UNREADABLE_BODY = "Cannot parse request body"


@api.exception_handler(HttpError)
def http_error(request, exc):
    detail = str(exc)
    if detail.startswith(UNREADABLE_BODY):
        detail = _("Send the body as a JSON object.")
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(DataError)
@api.exception_handler(IntegrityError)
def data_error(request, exc):
    # A safety net: validation should catch bad values first; the database must never cause a 500.
    log.warning("API input reached the database and was refused: %s", exc)
    return api.create_response(request, {"detail": _("The database refused this value.")}, status=400)
