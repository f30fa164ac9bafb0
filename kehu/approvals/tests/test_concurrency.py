"""Two approvers of an 或签 step decide at the same moment: one decision, the other is told.

Runs on whichever database the suite uses (SQLite by default; PostgreSQL through
scripts/with-postgres.sh), with real threads and their own connections."""

import threading

import pytest
from django.db import close_old_connections, connection

from kehu.approvals import services
from kehu.approvals.models import ActionKind, ApprovalRequest, ApproverTask, RequestState, TaskState
from kehu.approvals.tests.conftest import step
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.tests.race import production_database


def _race(request, people, action_for):
    barrier = threading.Barrier(len(people))
    outcomes = {}

    def run(person):
        try:
            barrier.wait(timeout=10)
            services.request_act(request=request, actor=person, **action_for(person))
            outcomes[person.username] = "done"
        except ConcurrentEditError as exc:
            outcomes[person.username] = str(exc.messages[0])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[person.username] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", ["approve", "reject"])
def test_two_approvers_at_once_make_one_decision(org, customer, second, tmp_path):
    services.flow_save(
        document_type="customer.credit",
        steps=[step(approvers=[{"kind": "person", "user": org.manager1.pk}, {"kind": "person", "user": org.gm.pk}])],
        actor=org.admin,
    )
    request = services.request_submit(document_type="customer.credit", record=customer, actor=org.am1)
    actions = {
        org.manager1.username: {"action": "approve"},
        org.gm.username: {"action": second, "comment": "不同意"},
    }
    with production_database(tmp_path):
        outcomes = _race(request, [org.manager1, org.gm], lambda p: actions[p.username])

    assert sorted(outcomes.values()).count("done") == 1, outcomes
    loser = next(v for v in outcomes.values() if v != "done")
    assert loser.startswith("This request was already decided by someone else")
    request = ApprovalRequest.objects.get(pk=request.pk)
    winner = next(name for name, v in outcomes.items() if v == "done")
    expected = RequestState.APPROVED if actions[winner]["action"] == "approve" else RequestState.REJECTED
    assert request.state == expected
    decided = ApproverTask.objects.filter(request=request, state__in=[TaskState.APPROVED, TaskState.REJECTED])
    assert decided.count() == 1
    assert request.actions.filter(kind__in=[ActionKind.APPROVED, ActionKind.REJECTED]).count() == 1
