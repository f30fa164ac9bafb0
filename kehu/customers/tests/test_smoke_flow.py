import pytest


@pytest.mark.django_db
def test_rep_creates_customer_logs_visit_and_finds_it(client, team):
    client.force_login(team.rep1)
    response = client.post(
        "/customers/new/",
        {
            "name": "无锡华星精密机械有限公司",
            "kind": "company",
            "segment": "industrial",
            "tier": "prospect",
            "status": "potential",
            "owner": team.rep1.pk,
            "phone": "13812345678",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    detail = response["Location"]
    pk = int(detail.strip("/").split("/")[-1])
    assert client.get(detail).status_code == 200
    response = client.post(
        f"/customers/{pk}/log/",
        {
            "kind": "visit",
            "subject": "拜访采购部",
            "content": "谈了新设备",
            "occurred_at": "2026-11-20T10:00",
            "duration_minutes": "60",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(detail).content.decode()
    assert "拜访采购部" in page
    found = client.get("/customers/", {"q": "华星"}).content.decode()
    assert "无锡华星精密机械有限公司" in found
    found = client.get("/customers/", {"q": "精密机"}).content.decode()
    assert "无锡华星精密机械有限公司" in found
    assert "无锡华星" not in client.get("/customers/", {"q": "不存在的"}).content.decode()
    client.force_login(team.rep3)
    assert client.get(detail).status_code == 404
    for path in ["/", "/activities/", "/customers/recycle-bin/", "/accounts/profile/"]:
        assert client.get(path).status_code == 200, path
