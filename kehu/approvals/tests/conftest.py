from decimal import Decimal

import pytest

from kehu.approvals import services
from kehu.approvals.models import ApprovalRequest
from kehu.core import events

CREDIT = "customer.credit"


def step(name="step", approvers=None, mode="any", **extra):
    return {
        "name": name,
        "conditions": extra.pop("conditions", []),
        "approvers": approvers or [{"kind": "manager"}],
        "mode": mode,
        "if_none": extra.pop("if_none", "admin"),
        "if_requester": extra.pop("if_requester", "up"),
        "hours": extra.pop("hours", 0),
        "escalate": extra.pop("escalate", False),
        "cc": extra.pop("cc", []),
        **extra,
    }


@pytest.fixture
def org(team):
    """The team with an account manager am1 (east, under manager1, who may set credit limits) and
    manager1 reporting to the general manager."""
    from kehu.users.models import User
    from kehu.users.roles import Role

    team.manager1.manager = team.gm
    team.manager1.save(update_fields=["manager"])
    team.am1 = User.objects.create_user(
        "am1", "am1@example.com", "kehu-test-pw", role=Role.ACCOUNT_MANAGER, department=team.east, manager=team.manager1
    )
    return team


@pytest.fixture
def customer(org):
    from kehu.customers.services import customer_create

    return customer_create(actor=org.am1, name="苏州华星精密机械有限公司")


@pytest.fixture
def flow(org):
    """Set the credit flow: flow(step(...), ...)."""

    def save(*steps):
        return services.flow_save(document_type=CREDIT, steps=list(steps), actor=org.admin)

    return save


@pytest.fixture
def ask(org, customer):
    """am1 asks for a credit limit (prospects' default is 0, so any limit needs approval)."""

    def submit(limit="80000", actor=None, target=None):
        from kehu.classification.services import credit_set

        result = credit_set(customer=target or customer, actor=actor or org.am1, rating="A", limit=Decimal(limit))
        assert isinstance(result, ApprovalRequest), result
        result.refresh_from_db()
        return result

    return submit


@pytest.fixture
def told():
    """Approval events delivered after commit (wrap the action in
    django_capture_on_commit_callbacks(execute=True)): [(kind code, recipients)]. What the approved
    record's own app records (the credit change itself) is left out."""
    seen = []

    def sink(batch):
        seen.extend((e.kind.code, e.recipients) for e in batch if e.kind.code.startswith("approval_"))

    events.sink(sink, after_commit=True)
    yield seen
    events._after_commit.remove(sink)
