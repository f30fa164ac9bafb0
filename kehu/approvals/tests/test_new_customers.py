"""The company option "new customers need approval", the lock, and edits after approval
(snapshot before the edit, restored by a rejection)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.approvals import services
from kehu.approvals.models import ApprovalRequest, RequestState
from kehu.customers.models import Customer, TimelineEntry
from kehu.customers.services import customer_create, customer_update

pytestmark = pytest.mark.django_db
NEW = "customer.new"


@pytest.fixture
def required(team):
    services.flow_set_active(document_type=NEW, is_active=True, actor=team.admin)


def create(team, name="常州恒达机电有限公司"):
    return customer_create(actor=team.rep1, name=name)


def test_off_by_default_new_customers_need_no_approval(team):
    create(team)
    assert not ApprovalRequest.objects.exists()


def test_only_administrators_switch_the_option(team):
    with pytest.raises(PermissionDenied):
        services.flow_set_active(document_type=NEW, is_active=True, actor=team.manager1)
    assert services.approval_required(NEW) is False


def test_a_new_customer_waits_locked_and_is_approved(team, required):
    customer = create(team)
    request = ApprovalRequest.objects.get(document_type=NEW, object_id=customer.pk)
    assert (request.state, request.requester, request.customer_id) == ("pending", team.rep1, customer.pk)
    assert services.record_locked(NEW, customer.pk)
    with pytest.raises(ValidationError, match="waiting for approval"):
        customer_update(customer=customer, actor=team.rep1, expected_version=customer.version, city="常州")
    services.request_act(request=request, actor=team.manager1, action="approve")
    customer.refresh_from_db()
    customer_update(customer=customer, actor=team.rep1, expected_version=customer.version, city="常州")
    customer.refresh_from_db()
    assert customer.city == "常州" and customer.deleted_at is None


def test_a_rejected_new_customer_goes_to_the_recycle_bin(team, required):
    customer = create(team)
    request = ApprovalRequest.objects.get(object_id=customer.pk)
    services.request_act(request=request, actor=team.manager1, action="reject", comment="重复客户")
    customer = Customer._base_manager.get(pk=customer.pk)
    assert customer.deleted_at is not None and customer.deleted_by == team.manager1
    kinds = list(TimelineEntry.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True))
    assert kinds == ["customer_created", "approval_requested", "customer_deleted", "approval_rejected"]


def test_a_withdrawn_new_customer_goes_to_the_recycle_bin(team, required):
    customer = create(team)
    request = ApprovalRequest.objects.get(object_id=customer.pk)
    services.request_act(request=request, actor=team.rep1, action="revoke")
    assert Customer._base_manager.get(pk=customer.pk).deleted_at is not None


def test_a_returned_customer_may_be_corrected_and_submitted_again(team, required):
    customer = create(team, "恒达")
    request = ApprovalRequest.objects.get(object_id=customer.pk)
    services.request_act(request=request, actor=team.manager1, action="return", comment="请写全称")
    customer.refresh_from_db()
    customer_update(customer=customer, actor=team.rep1, expected_version=customer.version, name="常州恒达机电有限公司")
    services.request_act(request=request, actor=team.rep1, action="resubmit")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert ApprovalRequest.objects.filter(object_id=customer.pk).count() == 1


def test_an_edit_of_approved_fields_goes_back_to_approval_and_a_rejection_restores(team, required):
    customer = create(team)
    services.request_act(
        request=ApprovalRequest.objects.get(object_id=customer.pk), actor=team.manager1, action="approve"
    )
    customer.refresh_from_db()
    # a field nobody approved: no new request
    customer_update(customer=customer, actor=team.rep1, expected_version=customer.version, city="常州")
    assert ApprovalRequest.objects.filter(object_id=customer.pk).count() == 1
    customer.refresh_from_db()
    customer_update(
        customer=customer, actor=team.rep1, expected_version=customer.version, name="常州恒达集团", credit_code=""
    )
    edit = ApprovalRequest.objects.filter(object_id=customer.pk).latest("id")
    assert edit.state == "pending"
    assert edit.snapshot == {
        "name": "常州恒达机电有限公司",
        "credit_code": "",
        "kind": "company",
        "segment": "industrial",
    }
    customer.refresh_from_db()
    assert customer.name == "常州恒达集团"  # in force while in approval, locked
    services.request_act(request=edit, actor=team.manager1, action="reject", comment="名称未变更")
    customer.refresh_from_db()
    assert (customer.name, customer.name_key, customer.city, customer.deleted_at) == (
        "常州恒达机电有限公司",
        "常州恒达机电",
        "常州",
        None,
    )


def test_an_approved_edit_keeps_the_new_values(team, required):
    customer = create(team)
    services.request_act(
        request=ApprovalRequest.objects.get(object_id=customer.pk), actor=team.manager1, action="approve"
    )
    customer.refresh_from_db()
    customer_update(customer=customer, actor=team.rep1, expected_version=customer.version, name="常州恒达集团")
    edit = ApprovalRequest.objects.filter(object_id=customer.pk).latest("id")
    services.request_act(request=edit, actor=team.manager1, action="approve")
    customer.refresh_from_db()
    assert customer.name == "常州恒达集团" and not services.record_locked(NEW, customer.pk)


def test_the_edit_page_and_the_api_say_the_customer_is_locked(client, api_client, team, required):
    customer = create(team)
    before = Customer.objects.filter(pk=customer.pk).values().get()
    client.force_login(team.rep1)
    form = client.get(f"/customers/{customer.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and not hasattr(v, "pk")}
    data.update(name="常州恒达", version=customer.version, owner=team.rep1.pk)
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 200
    assert "This record is waiting for approval and cannot be changed until it is decided." in response.content.decode()
    answer = api_client(team.rep1).patch(
        f"/api/v1/customers/{customer.pk}", {"city": "常州", "version": customer.version}
    )
    assert answer.status_code == 400, answer.content
    assert Customer.objects.filter(pk=customer.pk).values().get() == before
