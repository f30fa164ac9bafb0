"""The text rule at the activities' doors: the log form on the customer page (also through htmx),
the visit log, and the services."""

import pytest
from django.core.exceptions import ValidationError

from kehu.activities.models import Activity
from kehu.activities.services import activity_log, activity_update


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "拜访\x07采购部", "U+0007"),
        ("subject", "拜访\n采购部", "single line"),
        ("content", "谈了\x1b价格", "U+001B"),
        ("content", "x" * 10_001, "at most 10,000"),
    ],
)
def test_the_log_form_refuses_text_problems_on_the_field(client, team, customer_of, field, value, message):
    customer = customer_of(team.rep1)
    client.force_login(team.rep1)
    data = {"kind": "call", "occurred_at": "2026-05-04T10:00", "subject": "电话回访", field: value}
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/customers/{customer.pk}/log/", data, headers=headers)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == [field] and message in errors[field][0]
    assert not Activity.objects.filter(customer=customer).exists()


def test_content_keeps_its_lines_and_an_edit_checks_what_changes(team, customer_of):
    customer = customer_of(team.rep1)
    activity = activity_log(customer=customer, actor=team.rep1, subject="拜访", content="第一行\r\n第二行")
    Activity.objects.filter(pk=activity.pk).update(content="旧内容\x07")
    activity.refresh_from_db()
    activity_update(activity=activity, actor=team.rep1, expected_version=activity.version, subject="拜访技术部")
    with pytest.raises(ValidationError) as exc:
        activity_update(activity=activity, actor=team.rep1, expected_version=activity.version + 1, subject="拜访\x00")
    assert list(exc.value.message_dict) == ["subject"]
