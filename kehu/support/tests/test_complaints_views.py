"""The complaint pages (SRV-2): the list (visibility, filters, a fixed number of queries),
registration, the complaint page with its step timeline and the open step's form, the owner and
deadline of a step, moves, corrections, the handling notice and the investigation report as PDF
(Chinese text inside), the open complaints on the customer's 360° page; who may do what
(anonymous, another rep, the customer's owner, a manager, the complaint specialist) and denied
writes that change nothing."""

import re
import subprocess
from datetime import date

import pytest

from kehu.support import complaint_services as services
from kehu.support.models_complaints import Complaint, ComplaintState, ComplaintStep
from kehu.support.tests.complaints_setup import ComplaintDesk, at

pytestmark = pytest.mark.django_db
C = ComplaintState
LIST = "/service/complaints/"


@pytest.fixture
def desk(team, customer_of):
    return ComplaintDesk(team, customer_of)


def numbers(response) -> list[str]:
    return [c.number for c in response.context["complaints"]]


def snapshot(complaint):
    c = Complaint.objects.get(pk=complaint.pk)
    done = list(ComplaintStep.objects.filter(complaint=c, completed_at__isnull=False).values_list("kind", flat=True))
    return (c.state, c.version, c.department_id, c.customer_words, done)


@pytest.fixture
def three(desk):
    """a: rep1's customer, registered 25 Sep, notice done (quality); b: rep1's, 10 Oct, open; c: rep3's, withdrawn."""
    a = desk.register(now=at(25, 9))
    services.complaint_step_complete(
        complaint=a, actor=desk.specialist, kind="notice", data={"department": desk.quality}, now=at(28, 9)
    )
    b = desk.register(category="delivery", customer_words="交货延误两周", now=at(10, 10))
    c = desk.register(customer=desk.theirs, now=at(12, 10))
    services.complaint_move(complaint=c, actor=desk.specialist, to=C.WITHDRAWN, note="客户撤回", now=at(13, 10))
    return {k: Complaint.objects.get(pk=v.pk) for k, v in (("a", a), ("b", b), ("c", c))}


def test_who_sees_which_complaints(client, desk, team, three):
    client.force_login(desk.specialist)
    assert numbers(client.get(LIST + "?state=all")) == [three[k].number for k in "cba"]
    client.force_login(team.rep1)  # rep1's customer only; sales do not register
    response = client.get(LIST + "?state=all")
    assert numbers(response) == [three[k].number for k in "ba"]
    assert 'id="new-complaint"' not in response.content.decode()
    client.force_login(team.manager1)
    assert numbers(client.get(LIST + "?state=all")) == [three[k].number for k in "ba"]
    client.force_login(team.rep3)
    assert numbers(client.get(LIST + "?state=all")) == [three["c"].number]
    client.force_login(desk.csr)  # customer representatives register, see the customers they see
    assert 'id="new-complaint"' in client.get(LIST).content.decode()
    client.force_login(team.marketing1)
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{three['a'].pk}/").status_code == 404
    client.force_login(team.rep3)
    assert client.get(f"{LIST}{three['a'].pk}/").status_code == 404
    client.logout()
    assert client.get(LIST).status_code == 302


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "ba"),
        ("state=finished", "c"),
        ("state=withdrawn", "c"),
        ("state=notice_issued", "a"),
        ("overdue=on", "ba"),  # both open steps' days are long past on the real clock
        ("department={quality}", "a"),
        ("category=delivery", "b"),
        ("state=all&first=2026-10-01&last=2026-10-11", "b"),
        ("state=all&customer={theirs}", "c"),
        ("state=bogus&page=x&department=99999", "ba"),  # unknown values: the unfiltered list
    ],
)
def test_the_list_filters(client, desk, three, query, expected):
    client.force_login(desk.specialist)
    response = client.get(LIST + "?" + query.format(quality=desk.quality.pk, theirs=desk.theirs.pk))
    assert response.status_code == 200
    assert numbers(response) == [three[k].number for k in expected]


def test_the_list_runs_a_fixed_number_of_queries(client, desk, django_assert_max_num_queries):
    client.force_login(desk.specialist)
    for i in range(2):
        desk.register(customer_words=f"少{i}", specification=desk.lathe_a)
    with django_assert_max_num_queries(8) as few:
        client.get(LIST)
    for i in range(55):
        c = desk.register(
            customer=desk.theirs if i % 2 else desk.mine, customer_words=f"多{i}", specification=desk.pump_1
        )
        if i % 3 == 0:
            services.complaint_step_complete(
                complaint=c, actor=desk.specialist, kind="notice", data={"department": desk.production}
            )
    with django_assert_max_num_queries(8) as many:
        response = client.get(LIST)
    assert len(response.context["complaints"]) == 50 and response.context["result"].has_next
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(client.get(LIST + "?page=2").context["complaints"]) == 7


def test_registration_from_the_customer_search_to_the_complaint(client, desk, team):
    client.force_login(desk.specialist)
    assert client.get(LIST + "new/").status_code == 200
    html = client.get(LIST + "customers/?q=宁波").content.decode()
    assert f"/service/complaints/new/?customer={desk.mine.pk}" in html
    assert client.get(LIST + f"new/?customer={desk.mine.pk}").status_code == 200
    form = {
        "customer": desk.mine.pk,
        "category": "quality",
        "severity": "critical",
        "specification": desk.lathe_a.pk,
        "quantity": "3",
        "shipped_on": "2026-09-01",
        "order_number": "SO-外部-001",
        "customer_words": "三台车床主轴异响",
    }
    response = client.post(LIST + "new/", form)
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{LIST}{complaint.pk}/"
    assert (complaint.part_number, complaint.product, complaint.owner, complaint.order_number) == (
        "CK6140-A",
        desk.lathe,
        desk.specialist,
        "SO-外部-001",
    )
    # Bad input: errors on the form, nothing registered.
    response = client.post(LIST + "new/", {**form, "customer_words": " ", "shipped_on": "2099-01-01"})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"customer_words", "shipped_on"}
    assert Complaint.objects.count() == 1
    # A customer representative registers for the customers they see (not rep1's); sales do not register.
    client.force_login(desk.csr)
    assert client.post(LIST + "new/", form).status_code == 404
    client.force_login(team.rep1)
    assert client.post(LIST + "new/", form).status_code == 403
    client.logout()
    assert client.post(LIST + "new/", form).status_code == 302
    assert Complaint.objects.count() == 1


def test_the_complaint_page_walks_through_every_step(client, desk, team):
    complaint = desk.register(now=at(25, 9))
    page = f"{LIST}{complaint.pk}/"
    client.force_login(desk.specialist)
    html = client.get(page).content.decode()
    assert 'id="step-form"' in html and html.count('class="list-group-item') >= 5
    assert html.count("step-overdue") == 1  # the notice was due on 28 September
    steps = [
        ("notice", {"step-department": desk.quality.pk, "step-notice_text": "请调查"}, C.NOTICE_ISSUED),
        (
            "investigation",
            {"step-cause": "assembly", "step-responsibility": "ours", "step-findings": "装配问题"},
            None,
        ),
        (
            "investigation",
            {"step-cause": "manufacturing", "step-responsibility": "ours", "step-findings": "装配问题"},
            C.ACTION,
        ),
        ("action", {"step-corrective_action": "返修", "step-preventive_action": "加检"}, C.FEEDBACK),
        ("feedback", {"step-feedback_text": "已告知", "step-feedback_on": "2026-10-16"}, C.FOLLOW_UP),
        ("follow_up", {"step-satisfaction": "5", "step-follow_up_comment": "满意"}, C.CLOSED),
    ]
    for kind, fields, state in steps:
        before = snapshot(complaint)
        version = Complaint.objects.get(pk=complaint.pk).version
        response = client.post(page + "step/", {"kind": kind, "version": version, **fields})
        assert response.status_code == 302
        if state is None:  # an unknown cause: refused, nothing changed
            assert snapshot(complaint) == before
        else:
            assert Complaint.objects.get(pk=complaint.pk).state == state
    html = client.get(page).content.decode()
    assert html.count("step-late") + html.count("step-on-time") == 5 and 'id="step-form"' not in html
    assert "5 / 5" in html


def test_a_stale_page_is_refused_and_changes_nothing(client, desk):
    complaint = desk.register()
    client.force_login(desk.specialist)
    client.post(f"{LIST}{complaint.pk}/plan/", {"kind": "notice", "due_on": "2026-10-30", "version": complaint.version})
    before = snapshot(complaint)
    response = client.post(
        f"{LIST}{complaint.pk}/step/",
        {"kind": "notice", "version": complaint.version, "step-department": desk.quality.pk},
        follow=True,
    )
    assert "Someone else changed this complaint" in str(list(response.context["messages"])[-1])
    assert snapshot(complaint) == before


def test_denied_writes_change_nothing(client, desk, team):
    complaint = desk.register()
    before = snapshot(complaint)
    posts = [
        ("step/", {"kind": "notice", "step-department": desk.quality.pk}),
        ("move/", {"to": "rejected", "note": "x"}),
        ("plan/", {"kind": "notice", "due_on": "2026-12-31"}),
        ("edit/", {"customer_words": "改", "category": "other", "severity": "minor"}),
    ]
    for user, expected in ((team.rep1, 403), (desk.csr, 404), (team.manager1, 403), (team.rep3, 404)):
        client.force_login(user)
        for path, data in posts:
            response = client.post(f"{LIST}{complaint.pk}/{path}", data)
            assert response.status_code in (expected, 302), (user, path)
    client.logout()
    for path, data in posts:
        assert client.post(f"{LIST}{complaint.pk}/{path}", data).status_code == 302
    assert snapshot(complaint) == before
    assert ComplaintStep.objects.get(complaint=complaint, kind="notice").due_on == date(2026, 9, 28)


def test_managers_plan_reject_and_correct(client, desk, team):
    complaint = desk.register()
    client.force_login(team.service1)
    client.post(f"{LIST}{complaint.pk}/plan/", {"kind": "investigation", "owner": desk.inspector.pk})
    assert ComplaintStep.objects.get(complaint=complaint, kind="investigation").owner == desk.inspector
    response = client.post(
        f"{LIST}{complaint.pk}/edit/",
        {"customer_words": "更正后的描述", "category": "packaging", "severity": "minor", "part_number": "X-1"},
    )
    assert response.status_code == 302
    fresh = Complaint.objects.get(pk=complaint.pk)
    assert (fresh.customer_words, fresh.category, fresh.part_number) == ("更正后的描述", "packaging", "X-1")
    client.post(f"{LIST}{complaint.pk}/move/", {"to": "rejected", "note": ""})
    assert Complaint.objects.get(pk=complaint.pk).state == C.REGISTERED  # a reason is needed
    client.post(f"{LIST}{complaint.pk}/move/", {"to": "rejected", "note": "非本公司产品"})
    assert Complaint.objects.get(pk=complaint.pk).state == C.REJECTED


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_the_notice_and_the_report_are_pdfs_in_both_languages(client, desk, team):
    complaint = desk.register(specification=desk.lathe_a, order_number="SO2026-0042")
    services.complaint_step_complete(
        complaint=complaint,
        actor=desk.specialist,
        kind="notice",
        data={"department": desk.quality, "notice_text": "请于期限内查明主轴异响原因"},
    )
    client.force_login(team.rep1)
    response = client.get(f"{LIST}{complaint.pk}/notice.pdf?lang=zh-hans")
    assert response["Content-Type"] == "application/pdf"
    text = re.sub(r"\s+", "", pdf_text(response.content))
    for words in (
        "投诉处理通知",
        "质量部",
        "宁波精工机床有限公司",
        "CK6140-A",
        "请于期限内查明主轴异响原因",
        "主轴异响",
    ):
        assert words in text, words
    text = pdf_text(client.get(f"{LIST}{complaint.pk}/notice.pdf?lang=en").content)
    assert "Complaint handling notice" in text and "质量部" in text
    text = re.sub(r"\s+", "", pdf_text(client.get(f"{LIST}{complaint.pk}/report.pdf?lang=zh-hans").content))
    assert "投诉调查报告" in text and complaint.number in text
    client.force_login(team.rep3)
    assert client.get(f"{LIST}{complaint.pk}/notice.pdf").status_code == 404


def test_open_complaints_show_on_the_360_page(client, desk, team, django_assert_max_num_queries):
    client.force_login(team.rep1)
    assert 'id="open-complaints"' not in client.get(f"/customers/{desk.mine.pk}/").content.decode()
    made = [desk.register(customer_words=f"投诉{i}") for i in range(6)]
    services.complaint_move(complaint=made[0], actor=desk.specialist, to=C.WITHDRAWN, note="撤回")
    html = client.get(f"/customers/{desk.mine.pk}/").content.decode()
    card = html[html.index('id="open-complaints"') :]
    assert re.findall(r'href="/service/complaints/(\d+)/"', card) == [str(c.pk) for c in made[1:6]]
    assert f"/service/complaints/?customer={desk.mine.pk}" in card
    client.force_login(team.rep3)
    assert 'id="open-complaints"' not in client.get(f"/customers/{desk.mine.pk}/").content.decode()


def test_the_ticket_page_shows_its_complaints_and_registers_one_from_it(client, desk, team):
    from kehu.support.services import ticket_open

    ticket = ticket_open(actor=team.service1, customer=desk.mine, subject="主轴异响")
    client.force_login(desk.specialist)
    html = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert f"/service/complaints/new/?customer={desk.mine.pk}&amp;ticket={ticket.pk}" in html
    form = client.get(f"{LIST}new/?customer={desk.mine.pk}&ticket={ticket.pk}").context["form"]
    assert form.initial["ticket"] == ticket.pk
    complaint = desk.register(ticket=ticket)
    html = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert f'href="/service/complaints/{complaint.pk}/"' in html
    client.force_login(team.rep1)  # sees the complaint, may not register one
    html = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert f'href="/service/complaints/{complaint.pk}/"' in html and "/service/complaints/new/" not in html
