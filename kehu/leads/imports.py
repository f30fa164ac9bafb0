"""Importing leads (SAL-1, INT-1): business cards from a trade show, purchased lists, a web
shop's export. The leads app's target for the shared import machinery in kehu.integrations:
rows are cleaned by the leads' own rule (`lead_clean`: a company and a phone or an email);
an open lead with the same phone or email, or an earlier row of the file, is a duplicate;
the write is set-based: the region rules' round-robin played out once for the whole file, one
first-response deadline per source, scores computed in memory, and the leads, their events
and audit entries inserted in bulk in the run's one transaction.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.models import AuditAction, AuditEntry
from kehu.customers.models import Industry
from kehu.customers.normalise import normalise_email, normalise_phone
from kehu.integrations.bulk import Inserter
from kehu.integrations.fields import CellError, ImportField, UnmatchedChoiceError, parse_cell
from kehu.integrations.models import ImportJob, ImportRow, RowAction
from kehu.integrations.owners import OwnerLookup
from kehu.integrations.targets import ImportPlan, ImportTarget, Staged
from kehu.integrations.vcard import skip_reason
from kehu.leads import scoring
from kehu.leads.events import LeadChange
from kehu.leads.models import (
    OPEN_STATUSES,
    AssignmentRule,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadSource,
    ScoringModel,
    SizeBand,
)
from kehu.leads.selectors import lead_qs_visible_to
from kehu.leads.services import AUDITED, EDITABLE, assignees_for_many, lead_clean, lead_payload
from kehu.leads.sla import sla_due
from kehu.users.models import User
from kehu.users.selectors import scope_users_q
from kehu.webhooks.models import WebhookSubscription

LEADS = "leads"
MAX_MATCHES = 5


def _f(name, label, attr, synonyms, **kw):
    return name, ImportField(name, label, Lead, attr, tuple(synonyms), **kw)


LEAD_FIELDS: dict[str, ImportField] = dict(
    [
        _f(
            "company_name",
            gettext_lazy("Company name"),
            "company_name",
            [
                "公司名称",
                "客户名称",
                "公司",
                "公司名",
                "客户",
                "单位",
                "单位名称",
                "企业名称",
                "企业",
                "company",
                "companyname",
                "customer",
                "customername",
                "organization",
                "organisation",
                "org",
                "account",
                "name",
            ],
        ),
        _f(
            "contact_name",
            gettext_lazy("Contact name"),
            "contact_name",
            ["联系人", "联系人姓名", "姓名", "名字", "contact", "contactname", "contactperson", "fullname"],
        ),
        _f(
            "phone",
            gettext_lazy("Phone"),
            "phone",
            [
                "手机",
                "手机号",
                "手机号码",
                "电话",
                "联系电话",
                "电话号码",
                "联系方式",
                "座机",
                "移动电话",
                "联系人电话",
                "联系人手机",
                "mobile",
                "mobilephone",
                "cellphone",
                "phone",
                "telephone",
                "tel",
            ],
        ),
        _f(
            "email",
            gettext_lazy("Email"),
            "email",
            ["邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail", "emailaddress"],
        ),
        _f(
            "region",
            gettext_lazy("Region"),
            "region",
            ["地区", "省份", "区域", "省", "所在地区", "所在省份", "region", "province", "territory", "state"],
        ),
        _f(
            "industry",
            gettext_lazy("Industry"),
            "industry",
            ["行业", "所属行业", "行业类别", "industry"],
            choices=Industry,
            # The short words a trade-show list uses for the industries.
            extra={
                "choice_synonyms": {
                    "机械": "machinery",
                    "设备": "machinery",
                    "电子": "electronics",
                    "化工": "chemicals",
                    "纺织": "textiles",
                    "服装": "textiles",
                    "食品": "food",
                    "建材": "building",
                    "汽车": "automotive",
                    "汽配": "automotive",
                    "医药": "pharma",
                    "能源": "energy",
                    "批发": "retail",
                    "零售": "retail",
                    "贸易": "retail",
                    "物流": "logistics",
                    "软件": "it",
                    "互联网": "it",
                    "IT": "it",
                }
            },
        ),
        _f(
            "size_band",
            gettext_lazy("Company size"),
            "size_band",
            ["规模", "公司规模", "企业规模", "人数", "员工人数", "员工数", "size", "companysize", "employees"],
            choices=SizeBand,
            extra={
                "choice_synonyms": {
                    "微型": "micro",
                    "小型": "small",
                    "中型": "medium",
                    "大型": "large",
                    "微": "micro",
                    "小": "small",
                    "中": "medium",
                    "大": "large",
                    "20人以下": "micro",
                    "20-99人": "small",
                    "100-999人": "medium",
                    "1000人以上": "large",
                }
            },
        ),
        _f(
            "source",
            gettext_lazy("Source"),
            "source",
            ["来源", "线索来源", "客户来源", "信息来源", "渠道", "source", "leadsource", "channel"],
            choices=LeadSource,
            extra={
                "choice_synonyms": {
                    "展会": "trade_show",
                    "展会名片": "trade_show",
                    "名片": "trade_show",
                    "网站": "web_inquiry",
                    "官网": "web_inquiry",
                    "询盘": "web_inquiry",
                    "网络": "web_inquiry",
                    "转介绍": "referral",
                    "推荐": "referral",
                    "导入": "import",
                    "手工": "manual",
                    "其他": "other",
                }
            },
        ),
        _f(
            "message",
            gettext_lazy("Message or notes"),
            "message",
            ["备注", "留言", "需求", "说明", "备注信息", "message", "notes", "note", "remarks", "comment", "comments"],
        ),
        _f(
            "owner",
            gettext_lazy("Owner (user name)"),
            "owner",
            ["负责人", "跟进人", "归属人", "业务员", "销售代表", "所属销售", "owner", "salesrep", "assignedto"],
        ),
    ]
)
# A vCard is read into the customer import's columns (readers.VCARD_FIELDS); these become the lead's.
VCARD_COLUMNS = {
    "name": "company_name",
    "contact_name": "contact_name",
    "contact_mobile": "phone",
    "contact_email": "email",
    "region": "region",
    "notes": "message",
}


def lead_may_import(user: User) -> bool:
    return user.has_perm("leads.import_leads") and user.has_perm("leads.add_lead")


def lead_may_map_owner(user: User) -> bool:
    """Who assigns leads may name an owner per row; everyone else's rows go by the region rules."""
    return user.has_perm("leads.assign_lead")


def lead_owners(actor: User) -> OwnerLookup:
    """The users an importer may give leads to, by user name, display name or e-mail address."""
    return OwnerLookup(User.objects.filter(scope_users_q(actor), is_active=True).select_related("department"))


class LeadTarget(ImportTarget):
    name = LEADS
    label = gettext_lazy("Leads")
    title = gettext_lazy("Import leads")
    fields = LEAD_FIELDS
    order = 20
    list_url_name = "leads:lead-list"
    list_label = gettext_lazy("Go to the leads")
    record_label = gettext_lazy("Lead")
    required_message = gettext_lazy("Choose the column with the company name (or the contact name).")
    no_update_message = gettext_lazy("There is no open lead of yours to update for this row.")
    no_longer_message = gettext_lazy("You may no longer import leads.")
    owner_message = gettext_lazy("Only people who assign leads may import an owner column.")

    def may_import(self, user) -> bool:
        return lead_may_import(user)

    def may_map_owner(self, user) -> bool:
        return lead_may_map_owner(user)

    def owner_hint(self, with_owner):
        if with_owner:
            return _(
                "An owner column takes user names, names as shown in Kehu (张伟) or e-mail addresses; "
                "rows without an owner are assigned by the lead rules."
            )
        return _("The imported leads are assigned by the lead rules (region, then round-robin).")

    def vcard_mapping(self):
        from kehu.integrations.readers import VCARD_FIELDS

        return {str(i): VCARD_COLUMNS[f] for i, f in enumerate(VCARD_FIELDS) if f in VCARD_COLUMNS}

    def mapping_errors(self, used):
        return [] if {"company_name", "contact_name"} & used else [str(self.required_message)]

    def stager(self, job, actor):
        return LeadStager(job, actor)

    def match(self, rows, actor):
        return _match(rows, actor)

    def row_view(self, row: ImportRow) -> dict:
        lead = row.values.get("lead", {})
        matches = [
            {**m, "url": reverse("leads:lead-detail", args=[m["id"]]) if m.get("in_scope") else ""} for m in row.matches
        ]
        return {
            "name": lead.get("company_name", ""),
            "contact": lead.get("contact_name", ""),
            "phone": lead.get("phone") or lead.get("email", ""),
            "owner": row.values.get("owner_name") or row.values.get("owner", ""),
            "matches": matches,
        }

    def plan(self, job, actor):
        return LeadPlan(job, actor)


# ---- preview ---------------------------------------------------------------------------------


class LeadStager:
    """File row → staged lead: parsed cells, the source "import" unless the file says another,
    then `lead_clean` on one reused Lead (a model instance per row costs more than its checks)."""

    def __init__(self, job: ImportJob, actor: User):
        self.mapping = [(int(col), LEAD_FIELDS[name]) for col, name in job.mapping.items() if name in LEAD_FIELDS]
        self.owner_mapped = "owner" in job.mapping.values() and lead_may_map_owner(actor)
        self.owners = lead_owners(actor) if self.owner_mapped else None
        self.chosen = job.value_mapping or {}
        self.lead = Lead()
        self.defaults = {
            f.attname: f.get_default() for f in Lead._meta.concrete_fields if not f.primary_key and not f.is_relation
        }

    def stage(self, number: int, cells: list[str] | None) -> Staged:
        if (reason := skip_reason(cells)) is not None:
            return Staged(number, {}, {"__all__": [reason]}, RowAction.SKIP)
        errors: dict[str, list[str]] = {}
        warnings: dict[str, list[str]] = {}
        values: dict = {}
        owner_name = ""
        for index, fld in self.mapping:
            text = cells[index].strip() if index < len(cells) else ""
            if not text:
                continue
            if fld.name == "owner":
                owner_name = text
                continue
            try:
                values[fld.attr] = parse_cell(fld, text, self.chosen.get(fld.name))
            except UnmatchedChoiceError as exc:
                warnings[fld.name] = [str(exc)]
            except CellError as exc:
                errors[fld.name] = [str(exc)]
        if not values.get("company_name") and values.get("contact_name"):
            values["company_name"] = values["contact_name"]  # a card without a company: the person
        values.setdefault("source", LeadSource.IMPORT)
        owner = owner_display = ""
        if owner_name:
            user, why = self.owners.find(owner_name)
            if user is None:
                errors["owner"] = [why or _("“%(name)s” is not a user you may give leads to.") % {"name": owner_name}]
            else:
                owner, owner_display = user.username, user.display_name
        lead = self.lead
        for name, value in self.defaults.items():
            setattr(lead, name, value)
        for name, value in values.items():
            setattr(lead, name, value)
        try:
            lead_clean(lead)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        values = {k: getattr(lead, k) for k in values}
        return Staged(
            number,
            {"lead": values, "owner": owner, "owner_name": owner_display},
            errors,
            RowAction.SKIP if errors else RowAction.CREATE,
            warnings=warnings,
        )


def _keys(values: dict) -> dict[str, str]:
    lead = values.get("lead", {})
    return {"phone": normalise_phone(lead.get("phone", "")), "email": normalise_email(lead.get("email", ""))}


def _match(rows: list[tuple[int, dict]], actor: User) -> dict[int, tuple[list, int | None]]:
    """Open leads (any owner) with the same phone or email, and earlier rows of the file.
    Phones are kept as typed, so the open leads' phones and emails are read once and compared
    by their keys in memory: one pass, whatever the file's size."""
    keys = [(number, _keys(values)) for number, values in rows]
    phones = {k["phone"] for _n, k in keys if k["phone"]}
    emails = {k["email"] for _n, k in keys if k["email"]}
    by_key: dict[tuple[str, str], list[int]] = {}
    if phones or emails:
        existing = (
            Lead.objects.filter(deleted_at__isnull=True, status__in=OPEN_STATUSES)
            .exclude(phone="", email="")
            .values_list("pk", "phone", "email")
        )
        for pk, phone, email in existing.iterator(chunk_size=5000):
            if (key := normalise_phone(phone)) in phones:
                by_key.setdefault(("phone", key), []).append(pk)
            if (key := normalise_email(email)) in emails:
                by_key.setdefault(("email", key), []).append(pk)
    ids = sorted({pk for pks in by_key.values() for pk in pks})
    names: dict[int, tuple[str, str]] = {}
    visible: set[int] = set()
    may_change = actor.has_perm("leads.change_lead")
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        if may_change:
            visible |= set(lead_qs_visible_to(actor).filter(pk__in=chunk).values_list("pk", flat=True))
        for lead in Lead.objects.filter(pk__in=chunk).select_related("owner"):
            names[lead.pk] = (lead.company_name, lead.owner.display_name if lead.owner else "")
    first_rows: dict[tuple[str, str], int] = {}  # (kind, key) → the first row of the file with it
    result = {}
    for number, row_keys in keys:
        reasons: dict[int, list[str]] = {}
        earlier: dict[int, list[str]] = {}
        for kind, key in row_keys.items():
            if not key:
                continue
            for pk in by_key.get((kind, key), []):
                reasons.setdefault(pk, []).append(kind)
            if (kind, key) in first_rows:
                earlier.setdefault(first_rows[(kind, key)], []).append(kind)
            else:
                first_rows[(kind, key)] = number
        ranked = sorted(reasons, key=lambda pk: (-len(reasons[pk]), -pk))[:MAX_MATCHES]
        found = [
            {"id": pk, "name": names[pk][0], "owner": names[pk][1], "reasons": reasons[pk], "in_scope": pk in visible}
            for pk in ranked
            if pk in names
        ]
        found += [{"row": row, "reasons": kinds} for row, kinds in sorted(earlier.items())]
        if found:
            target = next((m["id"] for m in found if m.get("in_scope")), None)
            result[number] = (found, target)
    return result


# ---- run -------------------------------------------------------------------------------------


class LeadPlan(ImportPlan):
    """New leads and changes to open leads, prepared per batch; `write` does the rest at once."""

    def __init__(self, job: ImportJob, actor: User):
        self.job = job
        self.actor = actor
        self.owners = lead_owners(actor) if lead_may_map_owner(actor) else None
        self.may_change = actor.has_perm("leads.change_lead")
        self.new: list[tuple[dict, User | None]] = []  # (cleaned fields, owner named in the file)
        self.changed: dict[int, Lead] = {}
        self.changes: dict[int, dict] = {}
        self.reassigned: dict[int, User] = {}
        self.skipped = 0

    def _owner(self, number: int, name: str) -> User | None:
        if not name:
            return None
        owner = self.owners.get(name) if self.owners is not None else None
        if owner is None:
            raise ValidationError(
                _("Row %(row)s: “%(name)s” may no longer receive leads from you.") % {"row": number, "name": name}
            )
        return owner

    def add(self, batch: list[tuple]) -> None:
        wanted = {t for _n, _v, e, a, t in batch if a == RowAction.UPDATE and not e and t}
        targets = {}
        if wanted:
            if not self.may_change:
                raise PermissionDenied
            targets = {
                lead.pk: lead
                for lead in lead_qs_visible_to(self.actor)
                .filter(pk__in=wanted, status__in=OPEN_STATUSES)
                .select_related("owner")
            }
        for number, values, errors, action, target_id in batch:
            if errors or action == RowAction.SKIP:
                self.skipped += 1
                continue
            fields = values.get("lead", {})
            owner = self._owner(number, values.get("owner", ""))
            if action == RowAction.CREATE:
                self.new.append((fields, owner))
                continue
            lead = self.changed.get(target_id) or targets.get(target_id)
            if lead is None:
                raise ValidationError(
                    _("Row %(row)s: the lead to update is gone, closed or no longer yours.") % {"row": number}
                )
            before = snapshot(lead, EDITABLE)
            for name, value in fields.items():
                if name != "source" or "source" in self.job.mapping.values():  # the default does not overwrite
                    setattr(lead, name, value)
            changes = diff(before, snapshot(lead, EDITABLE))
            if changes:
                self.changes.setdefault(lead.pk, {}).update(changes)
            if owner is not None and lead.owner_id != owner.pk:
                self.changes.setdefault(lead.pk, {})["owner"] = [str(lead.owner or ""), str(owner)]
                lead.owner = owner
                self.reassigned[lead.pk] = owner
            self.changed[lead.pk] = lead

    def write(self) -> dict:
        now = timezone.now()
        actor = self.actor
        leads = [
            Lead(**fields, owner=owner, created_by=actor, created_at=now, updated_at=now) for fields, owner in self.new
        ]
        # Rows without an owner: the region rules' round-robin, as for a web inquiry.
        unowned = [lead for lead in leads if lead.owner is None]
        by_rules = assignees_for_many([lead.region for lead in unowned])
        # No rule for the region: the importer keeps the lead, unless they see unassigned leads anyway.
        fallback = None if actor.has_perm("leads.assign_lead") else actor
        assigned_by_rules = 0
        for lead, owner in zip(unowned, by_rules, strict=True):
            lead.owner = owner or fallback
            assigned_by_rules += owner is not None
        covered = set(AssignmentRule.objects.exclude(region="").values_list("region", flat=True))
        model = ScoringModel.objects.first()
        due = {source: sla_due(source, now) for source in {lead.source for lead in leads}}
        for lead in leads:
            lead.sla_due_at = due[lead.source]
            lead.score, lead.score_reasons = scoring.score_lead(
                lead, covered_regions=covered, engagement=0, model=model
            )
        inserter = Inserter(Lead, with_ids=True)
        for lead, pk in zip(leads, inserter.allocate_ids(len(leads)), strict=True):
            lead.pk = pk
        columns = [f.attname for f in Lead._meta.concrete_fields]
        inserter.insert({name: getattr(lead, name) for name in columns} for lead in leads)
        updated = self._write_updates(now, covered, model)

        events = []
        file_name = self.job.file_name[:200]
        for lead in leads:
            data = {"source": lead.source, "file": file_name}
            events.append(self._event(lead.pk, LeadEventKind.CREATED, "", now, data))
            if lead.owner_id:
                events.append(self._event(lead.pk, LeadEventKind.ASSIGNED, str(lead.owner), now))
        for lead in updated:
            if lead.pk in self.changes:
                data = {"fields": list(self.changes[lead.pk])}
                events.append(self._event(lead.pk, LeadEventKind.CHANGED, "", now, data))
            if lead.pk in self.reassigned:
                events.append(self._event(lead.pk, LeadEventKind.ASSIGNED, str(self.reassigned[lead.pk]), now))
        Inserter(LeadEvent).insert(events)

        audits = [
            self._audit(
                AuditAction.CREATE,
                lead,
                {
                    **{
                        k: [None, getattr(lead, k)]
                        for k in AUDITED
                        if k != "owner" and getattr(lead, k) not in ("", None)
                    },
                    **({"owner": [None, str(lead.owner)]} if lead.owner_id else {}),
                },
                now,
            )
            for lead in leads
        ]
        audits += [self._audit(AuditAction.UPDATE, lead, self.changes[lead.pk], now) for lead in updated]
        Inserter(AuditEntry).insert(audits)
        self._emit_created(leads)
        return {
            "created": len(leads),
            "updated": len(updated),
            "skipped": self.skipped,
            "assigned_by_rules": assigned_by_rules,
        }

    def _write_updates(self, now, covered, model) -> list[Lead]:
        """The changed open leads: one bulk update, new deadlines where the source changed before a
        first response (as `lead_update` does), and scores with their conversations counted."""
        updated = [lead for lead in self.changed.values() if lead.pk in self.changes]
        if not updated:
            return []
        engagement = dict(
            LeadEvent.objects.filter(
                lead_id__in=[lead.pk for lead in updated], kind__in=[LeadEventKind.RESPONDED, LeadEventKind.NOTE]
            )
            .values_list("lead_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for lead in updated:
            if "source" in self.changes[lead.pk] and lead.first_responded_at is None:
                lead.sla_due_at = sla_due(lead.source, lead.created_at)
            lead.score, lead.score_reasons = scoring.score_lead(
                lead, covered_regions=covered, engagement=engagement.get(lead.pk, 0), model=model
            )
            lead.version += 1
            lead.updated_at = now
        Lead.objects.bulk_update(
            updated,
            [*EDITABLE, "owner", "sla_due_at", "score", "score_reasons", "version", "updated_at"],
            batch_size=500,
        )
        return updated

    def _event(self, lead_id: int, kind: str, summary: str, now, data: dict | None = None) -> dict:
        return {
            "lead_id": lead_id,
            "kind": kind,
            "actor_id": self.actor.pk,
            "summary": summary[:300],
            "data": data or {},
            "at": now,
        }

    def _audit(self, action: str, lead: Lead, changes: dict, now) -> dict:
        return {
            "actor_id": self.actor.pk,
            "action": action,
            "target_type": Lead._meta.label_lower,
            "target_id": lead.pk,
            "target_repr": lead.company_name[:200],
            "changes": {**changes, "import": [None, self.job.pk]},
            "at": now,
        }

    def _emit_created(self, leads: list[Lead]) -> None:
        """lead.created for every new lead, after the commit, as `lead_create` does. Asked once
        whether anyone listens, so an import nobody subscribed to queues nothing per lead."""
        listening = any("lead.created" in (s.events or []) for s in WebhookSubscription.objects.filter(is_active=True))
        if not listening:
            return
        events.record_many(
            [events.build(LeadChange.LEAD_CREATED, subject=lead, webhook=lead_payload(lead)) for lead in leads]
        )
