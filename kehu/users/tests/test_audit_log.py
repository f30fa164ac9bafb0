import pytest

from kehu.customers.services import customer_update


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("rep1", 403), ("manager1", 403), ("marketing1", 403), ("gm", 200), ("admin", 200)]
)
def test_the_audit_log_is_for_those_who_see_everything(client, team, who, status):
    client.force_login(getattr(team, who))
    assert client.get("/accounts/audit/").status_code == status


@pytest.mark.django_db
def test_the_audit_log_shows_field_changes_and_filters_by_person_and_record(client, team, customer_of):
    customer = customer_of(team.rep1, name="无锡恒通机械有限公司", phone="0510-12345678")
    customer_update(customer=customer, actor=team.manager1, expected_version=customer.version, tier="key")
    client.force_login(team.gm)
    page = client.get("/accounts/audit/", {"actor": team.manager1.pk}).content.decode()
    assert "无锡恒通机械有限公司" in page and "Tier</span>: Prospect → Key" in page
    assert "0510-12345678" not in page  # the create by rep1 is filtered out
    page = client.get("/accounts/audit/", {"target_type": "users.user"}).content.decode()
    assert "无锡恒通机械有限公司" not in page


@pytest.mark.django_db
def test_the_audit_log_pages_with_older_entries(client, team, customer_of):
    for i in range(55):
        customer_of(team.rep1, name=f"测试客户{i:02d}有限公司")
    client.force_login(team.admin)
    first = client.get("/accounts/audit/", {"target_type": "customers.customer"}).content.decode()
    assert "测试客户54有限公司" in first and "测试客户04有限公司" not in first
    older = first.split("before=")[1].split('"')[0]
    second = client.get(f"/accounts/audit/?target_type=customers.customer&before={older}").content.decode()
    assert "测试客户04有限公司" in second and "测试客户54有限公司" not in second
