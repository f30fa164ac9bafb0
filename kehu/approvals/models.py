"""Approval flows as data, requests on any record, approver tasks, copies and delegations (ACC-6).

A flow belongs to a document type (registered by the app owning the records, see `registry`);
each edit saves a new `FlowVersion` whose `steps` hold the routing table, so a request in flight
keeps the version it started with. A request is one record asking once; its approver tasks say
who must act at which step.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApprovalFlow(models.Model):
    """The flow of one document type; `is_active` off means its records need no approval
    (for optional types such as new customers: the company's choice)."""

    document_type = models.CharField(_("document type"), max_length=50, unique=True)
    is_active = models.BooleanField(pgettext_lazy("approval flow", "in use"), default=True)
    current = models.ForeignKey(
        "FlowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("approval flow")
        verbose_name_plural = _("approval flows")
        permissions = [("manage_flows", "Can edit approval flows")]

    def __str__(self) -> str:
        return self.document_type


class FlowVersion(models.Model):
    """One saved edit of a flow: its steps (see `kehu.approvals.engine` for their shape)."""

    flow = models.ForeignKey(ApprovalFlow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    steps = models.JSONField(_("steps"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        verbose_name = _("flow version")
        verbose_name_plural = _("flow versions")
        constraints = [models.UniqueConstraint(fields=["flow", "number"], name="approval_flow_version_unique")]

    def __str__(self) -> str:
        return f"{self.flow_id} v{self.number}"


class RequestState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("approval", "In approval")
    RETURNED = "returned", pgettext_lazy("approval", "Returned to the requester")
    APPROVED = "approved", pgettext_lazy("approval", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval", "Rejected")
    REVOKED = "revoked", pgettext_lazy("approval", "Withdrawn")


OPEN_STATES = (RequestState.PENDING, RequestState.RETURNED)


class ApprovalRequest(models.Model):
    """A record asking for approval once: what it was (snapshot), its facts and the proposed change."""

    document_type = models.CharField(_("document type"), max_length=50)
    object_id = models.BigIntegerField()
    customer_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.PROTECT, related_name="+"
    )
    flow_version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="requests")
    state = models.CharField(_("state"), max_length=10, choices=RequestState.choices, default=RequestState.PENDING)
    step = models.PositiveSmallIntegerField(_("current step"), default=0)
    # The record before an edit that needs approval (a rejection restores it); {} for new records.
    snapshot = models.JSONField(default=dict, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    # What takes effect on approval when the record itself does not change before (a credit limit).
    proposal = models.JSONField(default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        indexes = [
            models.Index(fields=["document_type", "object_id", "-created_at"], name="approval_object_idx"),
            models.Index(fields=["requester", "-created_at"], name="approval_requester_idx"),
            models.Index(fields=["customer_id", "-created_at"], name="approval_customer_idx"),
        ]
        constraints = [
            # One open request per record: the lock.
            models.UniqueConstraint(
                fields=["document_type", "object_id"],
                condition=models.Q(state__in=["pending", "returned"]),
                name="approval_one_open_per_record",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class TaskState(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("approval task", "Waiting for an earlier approver")
    PENDING = "pending", pgettext_lazy("approval task", "To approve")
    APPROVED = "approved", pgettext_lazy("approval task", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval task", "Rejected")
    RETURNED = "returned", pgettext_lazy("approval task", "Returned")
    TRANSFERRED = "transferred", pgettext_lazy("approval task", "Transferred")
    ESCALATED = "escalated", pgettext_lazy("approval task", "Escalated")
    CANCELLED = "cancelled", pgettext_lazy("approval task", "No longer needed")


class ApproverTask(models.Model):
    """One approver's part in one step of a request."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks")
    step = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(default=0)  # the order within a sequential step
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=TaskState.choices, default=TaskState.PENDING)
    is_added = models.BooleanField(default=False)  # 加签: must approve whatever the step's mode
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("approver task")
        verbose_name_plural = _("approver tasks")
        indexes = [
            # The inbox and the menu's count: a user's pending tasks, newest first.
            models.Index(
                fields=["approver", "-created_at", "-id"],
                condition=models.Q(state="pending"),
                name="approval_task_inbox_idx",
            ),
            models.Index(fields=["request", "step", "position"], name="approval_task_request_idx"),
            models.Index(fields=["due_at"], condition=models.Q(state="pending"), name="approval_task_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.step}/{self.approver_id}"


class ActionKind(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("approval action", "Submitted")
    APPROVED = "approved", pgettext_lazy("approval action", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval action", "Rejected")
    RETURNED = "returned", pgettext_lazy("approval action", "Returned")
    ADDED = "added", pgettext_lazy("approval action", "Added an approver")
    TRANSFERRED = "transferred", pgettext_lazy("approval action", "Transferred")
    REVOKED = "revoked", pgettext_lazy("approval action", "Withdrawn")
    REMINDED = "reminded", pgettext_lazy("approval action", "Reminded")
    ESCALATED = "escalated", pgettext_lazy("approval action", "Escalated to the next supervisor")
    SKIPPED = "skipped", pgettext_lazy("approval action", "Step skipped")
    COPIED = "copied", pgettext_lazy("approval action", "Copied")
    RESUBMITTED = "resubmitted", pgettext_lazy("approval action", "Submitted again")


class ApprovalAction(models.Model):
    """The request's history: who did what at which step."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="actions")
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=ActionKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="approval_action_request_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class ApprovalCopy(models.Model):
    """抄送: someone told of a request, who may read it but does not act."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="copies")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "user"], name="approval_copy_unique")]
        indexes = [models.Index(fields=["user", "-created_at"], name="approval_copy_user_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.user_id}"


class Delegation(models.Model):
    """Out of office: from `starts_on` to `ends_on` (inclusive) `delegate` may act on `user`'s tasks."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("delegate"), on_delete=models.CASCADE, related_name="+"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_on"]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="approval_delegate_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.delegate_id}"
