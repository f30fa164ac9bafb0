"""The menu: sections (customers, sales, service, marketing, analytics) and one settings entry.

Entries name their page by URL name and say who may open it with a predicate on the user, so
this module imports no app above core. A section appears only when the user may open at least
one of its entries; the settings entry only when at least one administrative page is open to
them. Which section a page belongs to (for highlighting) is read from the URL name, so a page
needs no code of its own to light up the right part of the menu.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def perm(*names: str) -> Callable:
    """Any of these permissions."""
    return lambda user: any(user.has_perm(name) for name in names)


def sees_everything(user) -> bool:
    return getattr(user, "data_scope", "") == "all"


def works_in_sales(user) -> bool:
    return user.has_perm("leads.view_lead") or user.has_perm("sales.view_opportunity")


VIEW_ACTIVITY = perm("activities.view_activity")


def sells_and(allowed: Callable) -> Callable:
    """Activities belong to sales for people who sell ..."""
    return lambda user: works_in_sales(user) and allowed(user)


def serves_and(allowed: Callable) -> Callable:
    """... and to service for everyone else who keeps them (service staff)."""
    return lambda user: not works_in_sales(user) and allowed(user)


@dataclass(frozen=True)
class Entry:
    key: str
    url_name: str
    label: str
    allowed: Callable
    description: str = ""
    query: str = ""

    @property
    def href(self) -> str:
        return _address(self.url_name) + (f"?{self.query}" if self.query else "")


_ADDRESSES: dict[tuple[str, str], str] = {}


def _address(url_name: str) -> str:
    """The menu's addresses, reversed once per process (and site prefix): every page shows ~30."""
    key = (get_script_prefix(), url_name)
    if key not in _ADDRESSES:
        _ADDRESSES[key] = reverse(url_name)
    return _ADDRESSES[key]


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)


MAIL_DESK = ("support.add_ticket", "support.change_ticket")  # the service desk reads the received mail
SECTIONS: tuple[Section, ...] = (
    Section(
        "customers",
        pgettext_lazy("menu section", "Customers"),
        (
            Entry("customer-list", "customers:customer-list", _("Customer list"), perm("customers.view_customer")),
            Entry("customer-map", "customers:customer-map", _("Map"), perm("customers.view_customer")),
            Entry("pool", "pool:pool-list", _("Public pool"), perm("pool.claim_customer", "pool.assign_customer")),
            Entry(
                "classification",
                "classification:suggestion-list",
                _("Classification"),
                perm("classification.decide_tier"),
            ),
            Entry(
                "infoforms",
                "collection:infoform-list",
                _("Information forms"),
                perm("collection.file_form", "collection.approve_form", "collection.archive_form"),
            ),
            Entry(
                "transfer",
                "integrations:home",
                _("Import / export"),
                perm("integrations.import_customers", "leads.import_leads", "customers.export_customer"),
            ),
            # Only who may delete (or owns) customers ever finds something to restore there.
            Entry("recycle-bin", "customers:recycle-bin", _("Recycle bin"), perm("customers.delete_customer")),
        ),
    ),
    Section(
        "sales",
        pgettext_lazy("menu section", "Sales"),
        (
            Entry("leads", "leads:lead-list", _("Leads"), perm("leads.view_lead")),
            Entry("board", "sales:board", _("Opportunity board"), perm("sales.view_opportunity")),
            Entry("opportunities", "sales:opportunity-list", _("Opportunity list"), perm("sales.view_opportunity")),
            Entry("quotes", "quotes:quote-list", _("Quotes"), perm("quotes.view_quote")),
            Entry("forecast", "sales:forecast", _("Forecast"), perm("sales.view_forecast")),
            Entry("targets", "sales:targets", _("Targets"), perm("sales.set_targets")),
            Entry("activities", "activities:activity-list", _("Activities"), sells_and(VIEW_ACTIVITY)),
            Entry("week", "activities:week", _("Week plan"), sells_and(VIEW_ACTIVITY)),
            Entry("tasks", "activities:task-list", _("Tasks"), sells_and(VIEW_ACTIVITY)),
            # Managers review their team's check-ins (far away, far from the planned day).
            Entry(
                "check-ins",
                "activities:check-in-review",
                _("Check-ins"),
                sells_and(perm("sales.assign_opportunity")),
            ),
        ),
    ),
    # The product catalog and the price book (SAL-4): everyone who works with customers reads them.
    Section(
        "products",
        pgettext_lazy("menu section", "Products"),
        (
            Entry("products", "catalog:product-list", _("Product list"), perm("catalog.view_product")),
            Entry("price-lists", "catalog:pricelist-list", _("Price lists"), perm("catalog.view_product")),
            Entry("price-check", "catalog:price-check", _("Price check"), perm("catalog.view_product")),
            Entry("categories", "catalog:category-list", _("Product categories"), perm("catalog.view_product")),
        ),
    ),
    # The money chain (SAL-5, SAL-9, CON): orders, contracts, invoices, payments, ageing, dealer plans.
    Section(
        "money",
        pgettext_lazy("menu section", "Orders"),
        (
            Entry("orders", "orders:list", _("Orders"), perm("orders.view_order")),
            Entry("invoices", "invoices:list", _("Invoices"), perm("invoices.view_invoice")),
            Entry(
                "sales-records-import",
                "integrations:home",
                _("Sales records import"),
                perm("orders.import_orders"),
                query="target=orders",
            ),
            Entry("payment-plans", "receivables:list", _("Payment plans"), perm("receivables.view_paymentplan")),
            Entry("payments", "receivables:payment-list", _("Payments received"), perm("receivables.view_paymentplan")),
            Entry(
                "payments-import",
                "integrations:home",
                _("Payments import"),
                perm("receivables.import_payments"),
                query="target=payments",
            ),
            Entry("ageing", "receivables_reports:ageing", _("Ageing report"), perm("receivables.view_ageing")),
            Entry(
                "collection-ranking",
                "receivables_reports:ranking",
                _("Collection ranking"),
                perm("receivables.view_ageing", "sales.view_forecast"),
            ),
            Entry("dealer-plans", "dealerplans:list", _("Dealer plans"), perm("dealerplans.view_dealerplan")),
            Entry("plan-progress", "dealerplans:progress", _("Plan progress"), perm("dealerplans.view_dealerplan")),
        ),
    ),
    # Service: tickets and the installed base; service staff also find their visits, calls and promises here.
    Section(
        "service",
        pgettext_lazy("menu section", "Service"),
        (
            Entry("tickets", "support:ticket-list", _("Tickets"), perm("support.view_ticket")),
            Entry("complaints", "support:complaint-list", _("Complaints"), perm("support.view_complaint")),
            Entry("knowledge", "support:kb-list", _("Knowledge base"), serves_and(perm("support.view_ticket"))),
            Entry("service-mail", "support:mail-list", _("Received mail"), lambda u: u.has_perms(MAIL_DESK)),
            Entry("activities", "activities:activity-list", _("Activities"), serves_and(VIEW_ACTIVITY)),
            Entry("week", "activities:week", _("Week plan"), serves_and(VIEW_ACTIVITY)),
            Entry("tasks", "activities:task-list", _("Tasks"), serves_and(VIEW_ACTIVITY)),
            # The service desk's own (sellers reach a customer's units from the customer's page).
            Entry("units", "support:unit-list", _("Installed base"), serves_and(perm("support.add_installedunit"))),
            Entry("visits", "support:visit-list", _("Visits"), perm("support.view_servicevisit")),
            Entry("returns", "support:rma-list", _("Returns"), serves_and(perm("support.view_returnrequest"))),
            Entry(
                "quality",
                "support:quality",
                _("Quality"),
                perm("support.view_inspection", "support.view_service_economics"),
            ),
        ),
    ),
    Section(
        "marketing",
        pgettext_lazy("menu section", "Marketing"),
        (
            Entry(
                "lead-import",
                "integrations:home",
                _("Import leads"),
                perm("leads.import_leads"),
                query="target=leads",
            ),
            Entry("inquiry-form", "leads:inquiry", _("Web inquiry form"), perm("leads.import_leads")),
        ),
    ),
    Section(
        "analytics",
        pgettext_lazy("menu section", "Analytics"),
        (
            Entry("forecast", "sales:forecast", _("Forecast"), perm("sales.view_forecast")),
            Entry(
                "time-report",
                "classification:time-report",
                _("Sales-time report"),
                perm("classification.view_time_report"),
            ),
        ),
    ),
)


def _may_change_classification(user) -> bool:
    return user.has_perm("users.change_settings") or (
        user.has_perm("classification.decide_tier") and sees_everything(user)
    )


SETTINGS: tuple[Entry, ...] = (
    Entry(
        "users",
        "users:user-list",
        _("Users and departments"),
        perm("users.manage_users"),
        _("Accounts, roles, departments and who reports to whom; approve self-registrations."),
    ),
    Entry(
        "invitations",
        "users:invitation-list",
        _("Invitations"),
        perm("users.manage_users"),
        _("Invite colleagues by mail; copy, resend or withdraw pending invitation links."),
    ),
    Entry(
        "company",
        "users:company-settings",
        _("Company settings"),
        perm("users.change_settings"),
        _("The company's name, whether people may register themselves, and who must use two-factor sign-in."),
    ),
    Entry(
        "pools",
        "pool:pool-settings",
        _("Public pools"),
        perm("pool.manage_pools"),
        _("When customers nobody follows up return to the public pool, and claim limits."),
    ),
    Entry(
        "pipelines",
        "sales:pipeline-settings",
        _("Pipelines and stages"),
        perm("sales.manage_pipelines"),
        _("The sales pipelines, their stages and probabilities."),
    ),
    Entry(
        "lead-rules",
        "leads:lead-rules",
        _("Lead rules"),
        perm("leads.manage_rules"),
        _("Assignment by region, first-response times and working hours."),
    ),
    Entry(
        "classification-settings",
        "classification:settings",
        _("Classification rules"),
        _may_change_classification,
        _("Thresholds of the ABC ranking and how often tiers are reviewed."),
    ),
    Entry(
        "routes",
        "collection:route-list",
        _("Information form routing"),
        perm("collection.approve_form", "users.manage_users"),
        _("Which manager reviews the information forms of each region."),
    ),
    Entry(
        "working-days",
        "collection:calendar",
        _("Working days"),
        perm("users.change_settings"),
        _("Holidays and make-up working days that deadlines are counted in."),
    ),
    Entry(
        "service-levels",
        "support:setup",
        _("Service levels"),
        perm("support.manage_service"),
        _("Ticket categories, first response and resolution targets, and service hours."),
    ),
    Entry(
        "engineers",
        "support:engineer-list",
        _("Engineers"),
        perm("support.manage_service"),
        _("Service engineers' skills, certificates, regions and leave, which dispatch ranks them by."),
    ),
    Entry(
        "service-mailbox",
        "support:mailbox",
        _("Service mailbox"),
        perm("support.manage_service"),
        _("The IMAP mailbox whose mail becomes tickets; replies by e-mail."),
    ),
    Entry(
        "webhooks",
        "webhooks:subscription-list",
        _("Webhooks"),
        perm("webhooks.manage_webhooks"),
        _("Tell other systems about new leads and won or lost deals."),
    ),
    Entry(
        "robots",
        "notifications:robot-list",
        _("Work-chat robots"),
        perm("notifications.manage_robots"),
        _("Post teams' events to WeCom, DingTalk or Feishu groups; see what each robot sent."),
    ),
    Entry(
        "approval-flows",
        "approvals:flow-list",
        _("Approval flows"),
        perm("approvals.manage_flows"),
        _("Who approves what: steps, conditions and approvers per document type; new customers' approval."),
    ),
    Entry(
        "pricing",
        "catalog:pricing-settings",
        _("Discount limits and floor prices"),
        perm("catalog.manage_catalog"),
        _("The largest discount each role may give without approval; who may approve prices below the floor."),
    ),
    Entry(
        "quote-documents",
        "quote_documents:templates",
        _("Quote documents"),
        perm("users.change_settings"),
        _("Letterhead, logo, terms and signature block of the quote PDF, in Chinese and English."),
    ),
    Entry(
        "credit",
        "receivables_reports:credit-settings",
        _("Credit control and receivables"),
        perm("receivables.manage_credit"),
        _("At which stage orders over the credit limit or with overdue receivables are held; payment approval."),
    ),
    Entry(
        "contract-settings",
        "contracts:settings",
        _("Contracts"),
        perm("contracts.manage_contract_templates"),
        _("Contract templates with merge fields, when contracts need approval, expiry reminders."),
    ),
    Entry(
        "audit",
        "users:audit-log",
        _("Audit log"),
        lambda user: user.has_perm("core.view_auditentry") and sees_everything(user),
        _("Who created, changed, exported or deleted what, and when."),
    ),
    Entry(
        "sign-in-log",
        "users:sign-in-log",
        _("Sign-in log"),
        perm("users.manage_users"),
        _("Sign-ins, failed attempts, lockouts, two-factor steps and sign-outs, with address and browser."),
    ),
    Entry(
        "outbox",
        "core:outbox",
        _("Mail outbox"),
        perm("core.manage_mail"),
        _("Every mail Kehu sends: queued, sent or failed with the reason; retry failed ones."),
    ),
)

# Pages that belong to a section other than their URL namespace says ("namespace:name" first,
# then "namespace"); entries' own pages are added below.
_ROUTE_SECTION = {
    "workspace:home": "home",
    "workspace": "customers",
    "customers": "customers",
    "pool": "customers",
    "classification": "customers",
    "collection": "customers",
    "integrations": "customers",
    "leads": "sales",
    "sales": "sales",
    "activities": "sales",
    "webhooks": "settings",
    "notifications": "account",
    "notifications:robot-edit": "settings",
    "notifications:robot-test": "settings",
    "notifications:robot-delete": "settings",
    "notifications:post-retry": "settings",
    "core": "settings",
    "users:profile": "account",
    "users:token-revoke": "account",
    "users:security": "account",
    "users:two-factor-setup": "account",
    "users:two-factor-reset": "settings",
    "users:user-invite": "settings",
    "users:user-edit": "settings",
    "users:user-approve": "settings",
    "users:department-create": "settings",
    "users:department-edit": "settings",
    "users:invitation-resend": "settings",
    "users:invitation-revoke": "settings",
    "pool:pool-create": "settings",
    "pool:pool-edit": "settings",
    "sales:pipeline-edit": "settings",
    "sales:stage-create": "settings",
    "sales:stage-edit": "settings",
    "sales:stage-shift": "settings",
    "sales:stage-activate": "settings",
    "sales:stage-delete": "settings",
    "sales:stage-move-deals": "settings",
    "collection:route-delete": "settings",
    "collection:calendar-delete": "settings",
    "receivables_reports": "money",
    "contracts:template-new": "settings",
    "contracts:template-edit": "settings",
    "sales:forecast": "analytics",
    "classification:time-report": "analytics",
    "approvals:flow-edit": "settings",
    "catalog": "products",
    "quote_documents": "sales",
    "quote_documents:template-preview": "settings",
    **{f"support:{name}": "settings" for name in ("category-add", "category-edit", "policy-new", "policy-edit")},
    **{f"support:{name}": "settings" for name in ("policy-delete", "hours")},
    **{f"support:{name}": "settings" for name in ("engineer-list", "engineer-edit")},
    **{f"support:{name}": "service" for name in ("unit-new", "unit-edit", "units-from-order")},
    **{f"support:mail-{name}": "service" for name in ("detail", "customers", "match", "dismiss", "file")},
}
for _entry in SETTINGS:
    _ROUTE_SECTION[_entry.url_name] = "settings"


@dataclass(frozen=True)
class Counter:
    """A link beside the menu with a count of things waiting for the user ("待我审批 3"), registered
    by an app in `AppConfig.ready`. The page itself runs no query for it: the badge is fetched
    from `count_url_name` once the page has loaded (htmx), so every page keeps its query count and
    the count is one cheap request."""

    key: str
    url_name: str
    label: str
    count_url_name: str
    allowed: Callable = lambda user: True


COUNTERS: dict[str, Counter] = {}


def register_counter(counter: Counter) -> None:
    COUNTERS[counter.key] = counter


def counters_for(user, view_name: str = "") -> list[dict]:
    found = []
    for counter in COUNTERS.values():
        if not counter.allowed(user):
            continue
        try:
            href, count_href = _address(counter.url_name), _address(counter.count_url_name)
        except NoReverseMatch:
            continue
        found.append(
            {
                "key": counter.key,
                "href": href,
                "count_href": count_href,
                "label": counter.label,
                "active": view_name.partition(":")[0] == counter.url_name.partition(":")[0],
            }
        )
    return found


def section_of(view_name: str) -> str:
    """The menu section a page (by its "namespace:name") belongs to; "" for none."""
    if not view_name:
        return ""
    if view_name in _ROUTE_SECTION:
        return _ROUTE_SECTION[view_name]
    return _ROUTE_SECTION.get(view_name.partition(":")[0], "")


def _link(entry: Entry, active_view: str) -> dict | None:
    try:
        href = entry.href
    except NoReverseMatch:  # an app that is not installed
        return None
    return {
        "key": entry.key,
        "href": href,
        "label": entry.label,
        "description": entry.description,
        "active": entry.url_name == active_view and not entry.query,
    }


def settings_for(user, active_view: str = "") -> list[dict]:
    """The administrative pages this user may open."""
    return [link for e in SETTINGS if e.allowed(user) and (link := _link(e, active_view))]


def menu_for(user, view_name: str = "") -> dict:
    """The sections with the entries this user may open, and which section is active."""
    active = section_of(view_name)
    sections = []
    for section in SECTIONS:
        entries = [e for e in section.entries if e.allowed(user)]
        links = [link for e in entries if (link := _link(e, view_name))]
        if links:
            namespaces = {e.url_name.partition(":")[0] for e in entries}
            sections.append({"key": section.key, "label": section.label, "links": links, "namespaces": namespaces})
    if active not in {s["key"] for s in sections} | {"home", "settings", "account"}:
        # A page whose section this user does not see (activities for service staff): the shown
        # section that holds pages of the same app.
        namespace = view_name.partition(":")[0]
        active = next((s["key"] for s in sections if namespace in s["namespaces"]), active)
    for section in sections:
        section["active"] = section["key"] == active
    has_settings = any(e.allowed(user) for e in SETTINGS)  # the menu shows one entry, not the list
    return {
        # Everything the main menu's HTML depends on besides the language and the site's prefix.
        "signature": (
            view_name,
            has_settings,
            tuple((s["key"], tuple(link["key"] for link in s["links"])) for s in sections),
        ),
        "sections": sections,
        "active": active,
        "settings": has_settings,
        "settings_href": _address("core:settings") if has_settings else "",
        "counters": counters_for(user, view_name),
    }
