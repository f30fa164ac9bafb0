"""The web process killed (SIGKILL) in the middle of a merge: the related rows were moved and the
duplicate deleted, but not committed — afterwards nothing of it is there, and the server (granian
restarts its worker) answers the next request."""

import threading

import pytest

from kehu.core.tests.processes import http, session_headers, wait_until_served
from kehu.customers.models import Contact, Customer, CustomerMerge
from kehu.users.services import api_token_create


@pytest.mark.django_db(transaction=True)
def test_a_web_worker_killed_mid_merge_leaves_both_customers_as_they_were(shared_db, team, customer_of):
    kept = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    duplicate = customer_of(team.rep1, name="苏州华星精密机械")
    contact = Contact.objects.create(customer=duplicate, name="王经理")
    headers = session_headers(team.rep1)
    _token, raw = api_token_create(user=team.rep1, name="crash")
    shared_db.publish()

    web, base = shared_db.web(pause_at="merge.moved")
    answers = []
    post = threading.Thread(
        target=lambda: answers.append(
            http(
                "POST",
                f"{base}/customers/{kept.pk}/merge/",
                data={"sources": [duplicate.pk], "csrfmiddlewaretoken": headers["X-CSRFToken"]},
                headers=headers,
                timeout=120,
            )
        )
    )
    post.start()
    pid = shared_db.wait_for_pause("merge.moved", web, answers=answers)
    assert pid != web.pid  # a worker process of the server, not the server itself
    shared_db.kill(pid)
    post.join(timeout=30)
    status, _body = answers[0]
    assert status is None or status >= 500  # the browser sees a broken answer, never a success

    # The server starts a new worker process and serves the next request.
    status, body = wait_until_served(f"{base}/api/v1/customers/{duplicate.pk}", {"Authorization": f"Bearer {raw}"})
    assert status == 200, body
    assert web.poll() is None
    shared_db.collect()

    duplicate.refresh_from_db()
    assert (duplicate.deleted_at, duplicate.merged_into_id) == (None, None)
    assert Contact.objects.get(pk=contact.pk).customer_id == duplicate.pk
    assert not CustomerMerge.objects.exists()
    assert Customer.objects.filter(pk__in=[kept.pk, duplicate.pk], deleted_at__isnull=True).count() == 2
