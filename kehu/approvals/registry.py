"""Document types: the apps owning records declare here what of them can be approved.

An app above approvals (classification, customers, later quotes and orders) registers its types
in `AppConfig.ready`; approvals never imports it. A type names the typed fields its flows may put
conditions on, how to read them from a record (`facts`), and what happens on the decision.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

DECIMAL, CHOICE, DEPARTMENT = "decimal", "choice", "department"


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # DECIMAL, CHOICE or DEPARTMENT
    label: Any
    choices: tuple = ()  # ((value, label), ...) for CHOICE

    def choice_label(self, value) -> str:
        return str(dict(self.choices).get(value, value))


def decimal_field(label) -> FieldSpec:
    return FieldSpec(DECIMAL, label)


def choice_field(label, choices) -> FieldSpec:
    return FieldSpec(CHOICE, label, tuple((str(v), lab) for v, lab in choices))


# Every type may route by the requester's department (the fact is the department's path).
DEPARTMENT_FIELD = FieldSpec(DEPARTMENT, _("requester's department"))


@dataclass(frozen=True)
class DocumentType:
    code: str  # "customer.credit"
    label: Any
    model: Any
    fields: dict = field(default_factory=dict)  # name -> FieldSpec
    facts: Callable = lambda record: {}  # record -> {name: value} (Decimal amounts as str or Decimal)
    customer_id: Callable = lambda record: None
    title: Callable = str  # record -> the request's title
    link: Callable = lambda record: ""  # record -> a path into Kehu
    apply: Callable | None = None  # (record, request) on final approval
    restore: Callable | None = None  # (record, snapshot) on rejection of an edit
    rejected: Callable | None = None  # (record, request, actor) after a rejection or a withdrawal
    locked_fields: tuple = ()
    default_steps: tuple = ()  # the flow used until an administrator edits it
    optional: bool = False  # the flow starts switched off: the company decides (new customers)
    describe: Callable | None = None  # (request) -> [(label, value)] of the proposal, for people
    # (record, request, user) -> a refusal message, or None: who may approve beyond the routing (a
    # quote below its floor price only by the roles the administrators name); checked on every approval.
    may_approve: Callable | None = None

    def all_fields(self) -> dict:
        return {**self.fields, "department": DEPARTMENT_FIELD}


_types: dict[str, DocumentType] = {}


def register(document_type: DocumentType) -> DocumentType:
    _types[document_type.code] = document_type
    return document_type


def get(code: str) -> DocumentType | None:
    return _types.get(code)


def all_types() -> list[DocumentType]:
    return sorted(_types.values(), key=lambda t: t.code)


def label(code: str) -> str:
    known = _types.get(code)
    return str(known.label) if known else code
