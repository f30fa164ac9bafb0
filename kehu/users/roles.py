"""Roles of ACC-2, their data scopes and permission sets.

Permissions are Django-style strings (`app.verb_noun`) answered by
`RoleBackend`, so `user.has_perm(...)` and `{{ perms.app.verb_noun }}` work.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataScope(models.TextChoices):
    OWN = "own", _("own records")
    OWN_SUBORDINATES = "own_subordinates", _("own and subordinates' records")
    DEPARTMENT = "department", _("own department")
    DEPARTMENT_TREE = "department_tree", _("own department and sub-departments")
    ALL = "all", _("all records")


class Role(models.TextChoices):
    GENERAL_MANAGER = "general_manager", _("General manager")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    ACCOUNT_MANAGER = "account_manager", _("Account manager / team leader")
    SALES_REP = "sales_rep", _("Sales rep")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    MARKETING = "marketing", _("Marketing")
    SERVICE_MANAGER = "service_manager", _("Customer service manager")
    CUSTOMER_REP = "customer_rep", _("Customer representative")
    CRM_SPECIALIST = "crm_specialist", _("CRM specialist")
    SERVICE_QUALITY = "service_quality", _("Service quality specialist")
    INFO_SPECIALIST = "info_specialist", _("Customer information specialist")
    KEY_ACCOUNT_SPECIALIST = "key_account_specialist", _("Key-account service specialist")
    AFTER_SALES = "after_sales", _("After-sales specialist")
    COMPLAINT_SPECIALIST = "complaint_specialist", _("Complaint specialist")
    SERVICE_ENGINEER = "service_engineer", _("Service engineer")
    FINANCE = "finance", _("Finance")
    ADMINISTRATOR = "administrator", _("Administrator")


# Everyone who works with customers reads the product catalog and the price book (SAL-4).
VIEW = {"customers.view_customer", "activities.view_activity", "catalog.view_product"}
WORK = VIEW | {
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
    "activities.add_activity",
    "activities.change_activity",
    "activities.delete_activity",
    "pool.claim_customer",
    "classification.evaluate_customer",
    "collection.file_form",
    "integrations.import_customers",
    "leads.view_lead",
    "leads.add_lead",
    "leads.change_lead",
    "leads.convert_lead",
    "sales.view_opportunity",
    "sales.add_opportunity",
    "sales.change_opportunity",
    "sales.delete_opportunity",
    "quotes.view_quote",
    "quotes.add_quote",
    "quotes.change_quote",
    "quotes.delete_quote",
    # After-sales service (SRV-1, CUS-6): whoever works with a customer sees its tickets and installed
    # base and may log a repair request for it.
    "support.view_ticket",
    "support.add_ticket",
    "support.view_installedunit",
    "support.view_complaint",
    # The money chain (SAL-5, SAL-6, CON): reps write their contracts and orders, ask for invoices,
    # record the payments they collect and draft their dealers' plans.
    "contracts.view_contract",
    "contracts.add_contract",
    "contracts.change_contract",
    "contracts.delete_contract",
    "orders.view_order",
    "orders.add_order",
    "orders.change_order",
    "orders.delete_order",
    "orders.deliver_order",
    "invoices.view_invoice",
    "invoices.request_invoice",
    "receivables.view_paymentplan",
    "receivables.record_payment",
    "dealerplans.view_dealerplan",
    "dealerplans.change_dealerplan",
    # Export controls (ACC-5, ADR 0007): one dealer's sales record, to agree it with the dealer.
    "dealerplans.export_salesrecord",
}
LEAD = WORK | {
    "customers.view_sensitive",
    "customers.export_customer",
    # Export controls (ACC-5, ADR 0007): managers export their scope's contacts, products and ageing.
    "customers.export_contact",
    "catalog.export_product",
    "receivables.export_ageing",
    "core.view_auditentry",
    "pool.assign_customer",
    "customers.handover_customer",
    "classification.decide_tier",
    "classification.set_credit",
    "classification.view_time_report",
    "collection.approve_form",
    "leads.assign_lead",
    "leads.import_leads",
    "sales.view_forecast",
    "sales.assign_opportunity",
    "sales.set_targets",
    "quotes.approve_quote",
    "contracts.approve_contract",
    "orders.approve_order",
    "orders.import_orders",
    "invoices.approve_invoice",
    "receivables.approve_payment",
    "receivables.import_payments",
    "receivables.view_ageing",
    "receivables.approve_credit_exception",
    "dealerplans.set_plans",
}
# Finance (财务) reads every customer's money chain, issues and reverses invoices, records, approves
# and allocates payments, and keeps the credit settings.
FINANCE = VIEW | {
    "contracts.view_contract",
    "orders.view_order",
    "invoices.view_invoice",
    "invoices.request_invoice",
    "invoices.approve_invoice",
    "invoices.issue_invoice",
    "receivables.view_paymentplan",
    "receivables.record_payment",
    "receivables.approve_payment",
    "receivables.import_payments",
    "receivables.view_ageing",
    "receivables.manage_credit",
    "receivables.approve_credit_exception",
    "classification.set_credit",
    "dealerplans.view_dealerplan",
    "dealerplans.export_salesrecord",
    "receivables.export_ageing",
}
ADMIN = frozenset(
    LEAD
    | {
        "users.manage_users",
        "users.change_settings",
        "support.change_ticket",
        "support.delete_ticket",
        "support.dispatch_ticket",
        "support.manage_service",
        "support.add_installedunit",
        "support.change_installedunit",
        "support.add_complaint",
        "support.change_complaint",
        "support.manage_complaint",
        "core.manage_mail",
        "pool.manage_pools",
        "leads.manage_rules",
        "sales.manage_pipelines",
        "webhooks.manage_webhooks",
        "notifications.manage_robots",
        "approvals.manage_flows",
        "catalog.manage_catalog",
        "contracts.manage_contract_templates",
        "invoices.issue_invoice",
        "receivables.manage_credit",
        "support.export_complaint_report",
    }
)
# The service desk (客户服务部): works tickets and keeps the installed base.
SERVICE = {
    "support.view_ticket",
    "support.add_ticket",
    "support.change_ticket",
    "support.view_installedunit",
    "support.add_installedunit",
    "support.change_installedunit",
}
# Engineers read their tickets and the units, and move the tickets they are sent to.
ENGINEER = {"support.view_ticket", "support.change_ticket", "support.view_installedunit"}
# Editors of the knowledge base (SRV-4): they write, publish and archive articles.
KNOWLEDGE = {"support.manage_knowledge"}
# On-site visits: engineers do their own, the service manager plans and sees all (SRV-1).
FIELD = {"support.view_servicevisit", "support.change_servicevisit"}
# Complaints (投诉, SRV-2): customer representatives register them; complaint specialists and the service
# manager handle every one (notice, investigation, CAPA, feedback, follow-up).
COMPLAINT_REGISTER = {"support.view_complaint", "support.add_complaint"}
COMPLAINT_HANDLE = COMPLAINT_REGISTER | {
    "support.change_complaint",
    "support.manage_complaint",
    "support.export_complaint_report",
}
# Returns (SRV-3): after-sales specialists handle them; whoever sees a customer reads its returns.
RMA_READ = {"support.view_returnrequest"}
RETURNS = RMA_READ | {"support.add_returnrequest", "support.change_returnrequest"}
# Quality (SRV-5, SRV-6): the quality specialist keeps inspections, improvement actions and the daily report.
QUALITY = {
    "support.view_inspection",
    "support.add_inspection",
    "support.change_inspection",
    "support.view_improvementaction",
    "support.add_improvementaction",
    "support.change_improvementaction",
    "support.view_dailyqualityreport",
    "support.manage_quality",
    "support.view_service_economics",
    "support.export_service_economics",
    "support.export_complaint_report",
}
# The customer-information archivist (档案员) in marketing receives approved information forms (CUS-3).
ARCHIVE = {"collection.archive_form"}

ROLE_POLICY: dict[str, tuple[str, frozenset[str]]] = {
    # The general manager (总经理) also decides how the company sells: the pipelines and their stages.
    Role.GENERAL_MANAGER: (
        DataScope.ALL,
        frozenset(
            LEAD
            | RMA_READ
            | {"support.view_service_economics", "support.view_dailyqualityreport"}
            | {"support.export_service_economics", "support.export_complaint_report"}
            | {
                "sales.manage_pipelines",
                "catalog.manage_catalog",
                "contracts.manage_contract_templates",
                "receivables.manage_credit",
            }
        ),
    ),
    Role.SALES_MANAGER: (DataScope.DEPARTMENT_TREE, frozenset(LEAD | RMA_READ)),
    Role.ACCOUNT_MANAGER: (DataScope.OWN_SUBORDINATES, frozenset(LEAD - {"core.view_auditentry"} | RMA_READ)),
    Role.SALES_REP: (DataScope.OWN, frozenset(WORK | RMA_READ)),
    Role.EXECUTIVE_SPONSOR: (DataScope.ALL, frozenset(VIEW | {"customers.view_sensitive"})),
    # Marketing (市场营销部) reads every customer, masked, and changes none: what it learns enters as
    # information forms (CUS-3), which a manager approves and it archives, and as leads (SAL-1).
    Role.MARKETING: (
        DataScope.ALL,
        frozenset(
            VIEW
            | ARCHIVE
            | {
                "collection.file_form",
                "leads.view_lead",
                "leads.add_lead",
                # Trade-show business cards and purchased lists come in through marketing (SAL-1).
                "leads.import_leads",
            }
        ),
    ),
    # The customer service manager (客户服务部经理) reads every customer, masked, changes none, and logs
    # service calls, revisits (定期回访) and what was promised on any customer's timeline.
    Role.SERVICE_MANAGER: (
        DataScope.ALL,
        frozenset(
            VIEW
            | SERVICE
            | KNOWLEDGE
            | FIELD
            | RETURNS
            | QUALITY
            | {"activities.add_activity", "support.dispatch_ticket", "support.manage_service", "support.delete_ticket"}
            | COMPLAINT_HANDLE
        ),
    ),
    Role.CUSTOMER_REP: (DataScope.OWN, frozenset(WORK | SERVICE | COMPLAINT_REGISTER | RMA_READ)),
    # The CRM specialist keeps the product catalog and the price book with the administrators.
    Role.CRM_SPECIALIST: (DataScope.ALL, frozenset(WORK | {"catalog.manage_catalog", "catalog.export_product"})),
    Role.SERVICE_QUALITY: (
        DataScope.ALL,
        frozenset(
            VIEW | QUALITY | RMA_READ | {"support.view_ticket", "support.view_installedunit", "support.view_complaint"}
        ),
    ),
    Role.INFO_SPECIALIST: (DataScope.ALL, frozenset(WORK - {"customers.delete_customer"} | ARCHIVE)),
    Role.KEY_ACCOUNT_SPECIALIST: (DataScope.OWN, frozenset(WORK | SERVICE | RMA_READ)),
    Role.AFTER_SALES: (
        DataScope.ALL,
        frozenset(VIEW | SERVICE | KNOWLEDGE | COMPLAINT_REGISTER | RETURNS | {"activities.add_activity"}),
    ),
    Role.COMPLAINT_SPECIALIST: (
        DataScope.ALL,
        frozenset(VIEW | SERVICE | COMPLAINT_HANDLE | {"activities.add_activity"}),
    ),
    Role.SERVICE_ENGINEER: (DataScope.OWN, frozenset(VIEW | ENGINEER | FIELD | {"activities.add_activity"})),
    Role.FINANCE: (DataScope.ALL, frozenset(FINANCE)),
    Role.ADMINISTRATOR: (DataScope.ALL, frozenset(ADMIN)),
}


def role_scope(role: str) -> str:
    return ROLE_POLICY.get(role, (DataScope.OWN, frozenset()))[0]


def role_permissions(role: str) -> frozenset[str]:
    return ROLE_POLICY.get(role, (DataScope.OWN, frozenset()))[1]
