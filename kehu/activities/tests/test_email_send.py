"""Writing to a customer from Kehu (INT-2): the mail goes out through the outbox to a real SMTP
server on loopback with the rep as Reply-To, and the customer's timeline keeps what was written,
to whom, and whether it was delivered."""

import pytest

from kehu.activities.models import Activity, ActivityKind
from kehu.core.models import MailStatus, OutboxMail
from kehu.customers.models import TimelineEntry
from kehu.customers.services import contact_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(team, customer_of):
    customer = customer_of(team.rep1, name="宁波恒达机电有限公司")
    contact_create(customer=customer, actor=team.rep1, name="王经理", email="wang@hengda.cn", is_primary=True)
    return customer


def test_a_rep_writes_from_the_customer_page_and_the_mail_is_on_the_timeline(
    client, team, customer, smtp, django_capture_on_commit_callbacks
):
    client.force_login(team.rep1)
    page = client.get(f"/activities/email/{customer.pk}/")
    assert page.status_code == 200 and "王经理 &lt;wang@hengda.cn&gt;" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/activities/email/{customer.pk}/",
            {
                "known": ["wang@hengda.cn"],
                "other": "li@hengda.cn， ",
                "subject": "报价单",
                "body": "王经理您好：\n附上报价。",
            },
        )
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    (received,) = smtp.messages
    assert str(received["To"]) == "wang@hengda.cn, li@hengda.cn"
    assert (str(received["Reply-To"]), str(received["Subject"])) == ("rep1@example.com", "报价单")
    assert received.get_content().strip().replace("\r\n", "\n") == "王经理您好：\n附上报价。"
    activity = Activity.objects.get(kind=ActivityKind.EMAIL)
    assert (activity.customer, activity.owner, activity.subject) == (customer, team.rep1, "报价单")
    entry = TimelineEntry.objects.get(kind="email", customer=customer)
    mail = OutboxMail.objects.get()
    assert entry.payload["to"] == ["wang@hengda.cn", "li@hengda.cn"] and entry.payload["mail"] == mail.pk
    assert mail.status == MailStatus.SENT
    detail = client.get(f"/customers/{customer.pk}/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "报价单 → wang@hengda.cn, li@hengda.cn" in detail and 'badge bg-green-lt">已发出' in detail


def test_a_bad_address_is_named_and_nothing_is_sent_or_kept(client, team, customer, smtp):
    client.force_login(team.rep1)
    response = client.post(
        f"/activities/email/{customer.pk}/",
        {"other": "wang@hengda", "subject": "报价单", "body": "您好"},
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 200
    assert "“wang@hengda” 不是有效的电子邮件地址" in response.content.decode()
    assert not OutboxMail.objects.exists() and not Activity.objects.filter(kind=ActivityKind.EMAIL).exists()


@pytest.mark.parametrize("who, status", [("rep2", 404), ("manager1", 200), ("rep1", 200)])
def test_who_may_write(client, team, customer, who, status):
    client.force_login(getattr(team, who))
    assert client.get(f"/activities/email/{customer.pk}/").status_code == status


def test_anonymous_is_sent_to_the_login(client, customer):
    response = client.get(f"/activities/email/{customer.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_api_sends_and_answers_400_with_the_bad_address(
    team, customer, api_client, smtp, django_capture_on_commit_callbacks
):
    api = api_client(team.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/activities/emails",
            {"customer_id": customer.pk, "to": ["wang@hengda.cn"], "subject": "交期确认", "body": "下周三发货"},
        )
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["content"]) == ("email", "下周三发货")
    assert len(smtp.messages) == 1
    bad = api.post("/api/v1/activities/emails", {"customer_id": customer.pk, "to": ["x@"], "subject": "a", "body": "b"})
    assert bad.status_code == 400 and "x@" in bad.json()["errors"]["to"][0]
    other = api_client(team.rep2).post(
        "/api/v1/activities/emails", {"customer_id": customer.pk, "to": ["a@b.cn"], "subject": "a", "body": "b"}
    )
    assert other.status_code == 404 and OutboxMail.objects.count() == 1
