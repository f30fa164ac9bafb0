"""The pages at work: inbox and its count in the menu, acting through htmx, the flow editor,
delegations, the credit form's answer, and fixed query counts."""

from datetime import date

import pytest

from kehu.approvals import selectors, services
from kehu.approvals.models import ApprovalRequest, ApproverTask, Delegation, RequestState
from kehu.approvals.tests.conftest import step

pytestmark = pytest.mark.django_db


@pytest.fixture
def flowed(org):
    services.flow_save(document_type="customer.credit", steps=[step()], actor=org.admin)
    return org


def make_requests(org, n):
    from kehu.customers.services import customer_create

    made = []
    for i in range(n):
        customer = customer_create(actor=org.am1, name=f"客户{i}号有限公司")
        made.append(services.request_submit(document_type="customer.credit", record=customer, actor=org.am1))
    return made


def test_the_menu_fetches_the_count_after_the_page(client, flowed, django_assert_num_queries):
    make_requests(flowed, 3)
    client.force_login(flowed.manager1)
    body = client.get("/").content.decode()
    assert (
        '<li class="nav-item" data-counter="approvals"><a class="nav-link" href="/approvals/">To approve'
        '<span hx-get="/approvals/count/" hx-trigger="load" hx-swap="outerHTML"></span></a></li>'
    ) in body
    with django_assert_num_queries(3):  # the session, the user, the count
        badge = client.get("/approvals/count/").content.decode()
    assert badge == '<span class="badge bg-red text-red-fg ms-1" id="approvals-count">3</span>'
    client.force_login(flowed.rep1)
    assert client.get("/approvals/count/").content == b""


def test_a_delegates_count_includes_the_tasks_they_stand_in_for(client, flowed):
    make_requests(flowed, 2)
    today = date.today()
    services.delegation_create(
        user=flowed.manager1, delegate=flowed.manager2, starts_on=today, ends_on=today, actor=flowed.manager1
    )
    client.force_login(flowed.manager2)
    assert b">2</span>" in client.get("/approvals/count/").content


def test_the_count_is_one_query(flowed, django_assert_num_queries):
    make_requests(flowed, 3)
    with django_assert_num_queries(1):
        assert selectors.inbox_count(flowed.manager1) == 3


def test_the_inbox_lists_my_tasks_and_my_requests(client, flowed):
    first, second = make_requests(flowed, 2)
    client.force_login(flowed.manager1)
    body = client.get("/approvals/").content.decode()
    assert body.index("客户1号有限公司") < body.index("客户0号有限公司")  # newest first
    assert "Credit limit above the tier&#x27;s default" in body
    client.force_login(flowed.am1)
    assert "Nothing waits for your approval." in client.get("/approvals/").content.decode()
    body = client.get("/approvals/?tab=mine&state=approved").content.decode()
    assert "No requests." in body
    body = client.get("/approvals/?tab=mine&state=pending&type=customer.credit").content.decode()
    assert "客户0号有限公司" in body and "客户1号有限公司" in body


def test_the_inbox_takes_a_fixed_number_of_queries(client, flowed, django_assert_max_num_queries):
    make_requests(flowed, 3)
    client.force_login(flowed.manager1)
    client.get("/approvals/")
    with django_assert_max_num_queries(12) as few:
        client.get("/approvals/")
    make_requests(flowed, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/approvals/")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/approvals/?tab=mine")


def test_bad_filters_are_ignored(client, flowed):
    client.force_login(flowed.manager1)
    for query in ("tab=x", "type=%00", "state=zzz", "page=-3", "type=" + "x" * 500):
        assert client.get(f"/approvals/?{query}").status_code == 200


def test_the_detail_shows_facts_proposal_and_actions(client, flowed, ask):
    request = ask("80000")
    client.force_login(flowed.manager1)
    body = client.get(f"/approvals/{request.pk}/").content.decode()
    assert "80,000.00" in body and "Prospect" in body
    assert 'value="approve"' in body and 'value="reject"' in body
    client.force_login(flowed.am1)
    body = client.get(f"/approvals/{request.pk}/").content.decode()
    assert 'value="approve"' not in body and 'value="revoke"' in body and 'value="remind"' in body


def test_approving_through_htmx_answers_the_panel(client, flowed, ask):
    request = ask()
    client.force_login(flowed.manager1)
    response = client.post(f"/approvals/{request.pk}/act/", {"action": "approve"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith('<div id="approval-panel">') and "<html" not in body
    assert "Approved" in body and 'value="approve"' not in body
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_a_rejection_without_a_reason_is_refused_in_words(client, flowed, ask):
    request = ask()
    client.force_login(flowed.manager1)
    response = client.post(f"/approvals/{request.pk}/act/", {"action": "reject"}, headers={"HX-Request": "true"})
    assert "Give the reason for the rejection." in response.content.decode()
    assert ApproverTask.objects.get(request=request).state == "pending"


def test_the_second_approver_is_told_clearly(client, org, ask):
    services.flow_save(
        document_type="customer.credit",
        steps=[step(approvers=[{"kind": "person", "user": org.manager1.pk}, {"kind": "person", "user": org.gm.pk}])],
        actor=org.admin,
    )
    request = ask()
    client.force_login(org.gm)
    client.get(f"/approvals/{request.pk}/")  # both have the page open
    services.request_act(request=request, actor=org.manager1, action="approve")
    response = client.post(f"/approvals/{request.pk}/act/", {"action": "approve"}, headers={"HX-Request": "true"})
    assert "This request was already decided by someone else" in response.content.decode()


def test_chinese_pages(client, flowed, ask):
    request = ask()
    client.force_login(flowed.manager1)
    client.cookies["django_language"] = "zh-hans"
    flowed.manager1.language = "zh-hans"
    flowed.manager1.save(update_fields=["language"])
    body = client.get(f"/approvals/{request.pk}/").content.decode()
    assert "同意" in body and "驳回" in body and "信用额度" in body
    assert "待我审批" in client.get("/approvals/").content.decode()


def test_the_flow_editor_saves_a_new_version(client, flowed):
    client.force_login(flowed.admin)
    page = client.get("/approvals/flows/customer.credit/")
    assert page.status_code == 200
    data = {
        "step-TOTAL_FORMS": "2",
        "step-INITIAL_FORMS": "1",
        "step-MIN_NUM_FORMS": "0",
        "step-MAX_NUM_FORMS": "20",
        "step-0-ORDER": "2",
        "step-0-name": "主管",
        "step-0-mode": "any",
        "step-0-if_none": "admin",
        "step-0-if_requester": "up",
        "step-0-hours": "24",
        "step-0-a1_kind": "manager",
        "step-1-ORDER": "1",
        "step-1-name": "大额",
        "step-1-mode": "all",
        "step-1-if_none": "skip",
        "step-1-if_requester": "skip",
        "step-1-hours": "48",
        "step-1-escalate": "on",
        "step-1-a1_kind": "levels",
        "step-1-a1_levels": "2",
        "step-1-a1_order": "top_down",
        "step-1-a2_kind": "person",
        "step-1-a2_user": str(flowed.gm.pk),
        "step-1-c1_field": "amount",
        "step-1-c1_op": "gt",
        "step-1-c1_value": "100000",
        "step-1-c2_field": "tier",
        "step-1-c2_op": "in",
        "step-1-c2_value": "ordinary，key",
        "step-1-cc": [str(flowed.service1.pk)],
    }
    response = client.post("/approvals/flows/customer.credit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    flow = services.flow_get("customer.credit")
    assert flow.current.number == 3
    assert flow.current.created_by == flowed.admin
    assert flow.current.steps == [
        {
            "name": "大额",
            "conditions": [
                {"field": "amount", "op": "gt", "value": "100000"},
                {"field": "tier", "op": "in", "value": ["ordinary", "key"]},
            ],
            "approvers": [
                {"kind": "levels", "levels": 2, "order": "top_down"},
                {"kind": "person", "user": flowed.gm.pk},
            ],
            "mode": "all",
            "if_none": "skip",
            "fallback": None,
            "if_requester": "skip",
            "hours": 48,
            "escalate": True,
            "cc": [{"kind": "person", "user": flowed.service1.pk}],
        },
        {
            "name": "主管",
            "conditions": [],
            "approvers": [{"kind": "manager"}],
            "mode": "any",
            "if_none": "admin",
            "fallback": None,
            "if_requester": "up",
            "hours": 24,
            "escalate": False,
            "cc": [],
        },
    ]
    # the editor shows the saved flow again
    body = client.get("/approvals/flows/customer.credit/").content.decode()
    assert 'value="大额"' in body and "version 3" in body


def test_the_flow_editor_shows_problems_and_saves_nothing(client, flowed):
    client.force_login(flowed.admin)
    data = {
        "step-TOTAL_FORMS": "1",
        "step-INITIAL_FORMS": "1",
        "step-MIN_NUM_FORMS": "0",
        "step-MAX_NUM_FORMS": "20",
        "step-0-ORDER": "1",
        "step-0-name": "x",
        "step-0-mode": "any",
        "step-0-if_none": "fallback",
        "step-0-if_requester": "up",
        "step-0-hours": "0",
        "step-0-a1_kind": "manager",
        "step-0-c1_field": "amount",
        "step-0-c1_op": "gt",
        "step-0-c1_value": "很多",
    }
    body = client.post("/approvals/flows/customer.credit/", data).content.decode()
    assert "Step 1: choose the fallback approver." in body
    assert "Step 1: a condition&#x27;s amount is not a number." in body
    assert services.flow_get("customer.credit").current.number == 2


def test_switching_new_customer_approval_on(client, org):
    client.force_login(org.admin)
    client.post("/approvals/flows/customer.new/active/", {"is_active": "on"})
    assert services.approval_required("customer.new")
    client.post("/approvals/flows/customer.new/active/", {})
    assert not services.approval_required("customer.new")


def test_delegation_page(client, org):
    client.force_login(org.manager1)
    response = client.post(
        "/approvals/delegations/", {"delegate": org.manager2.pk, "starts_on": "2031-02-01", "ends_on": "2031-01-01"}
    )
    assert "The end date cannot be before the start date." in response.content.decode()
    assert not Delegation.objects.exists()
    client.post(
        "/approvals/delegations/", {"delegate": org.manager2.pk, "starts_on": "2031-01-01", "ends_on": "2031-01-09"}
    )
    delegation = Delegation.objects.get()
    assert (delegation.user, delegation.delegate, delegation.ends_on) == (org.manager1, org.manager2, date(2031, 1, 9))
    client.force_login(org.manager2)
    body = client.get("/approvals/delegations/").content.decode()
    assert "You stand in for" in body and "manager1 · 2031-01-01 – 2031-01-09" in body
    # only administrators open someone else's page
    assert client.get(f"/approvals/delegations/?user={org.manager1.pk}").status_code == 403
    client.force_login(org.admin)
    body = client.get(f"/approvals/delegations/?user={org.manager1.pk}").content.decode()
    assert "manager2" in body


def test_the_credit_form_says_the_limit_waits_for_approval(client, org, customer):
    client.force_login(org.am1)
    response = client.post(
        f"/classification/customers/{customer.pk}/credit/",
        {"rating": "A", "limit": "90000", "investigated_on": "2030-01-01"},
        follow=True,
    )
    assert "it takes effect once approved" in response.content.decode()
    assert ApprovalRequest.objects.get().proposal["limit"] == "90000.00"


def test_the_credit_api_answers_202_with_the_request(api_client, org, customer):
    response = api_client(org.am1).post(
        "/api/v1/classification/credit", {"customer_id": customer.pk, "rating": "A", "limit": "90000"}
    )
    assert response.status_code == 202, response.content
    assert response.json() == {
        "detail": "Sent for approval.",
        "approval_request_id": ApprovalRequest.objects.get().pk,
    }
