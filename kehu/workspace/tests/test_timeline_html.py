"""The timeline rows written in Python (kehu.workspace.timeline_html): every value escaped, the
badges and the edit link as the page showed them, in the reader's language and time zone."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from kehu.customers.models import TimelineEntry
from kehu.users.models import User
from kehu.workspace.timeline_html import timeline_rows


def entry(**fields) -> TimelineEntry:
    extra = {name: fields.pop(name) for name in ("kind_label", "mail_status", "may_edit") if name in fields}
    made = TimelineEntry(occurred_at=datetime(2026, 3, 1, 1, 30, tzinfo=UTC), **fields)
    made.kind_label = extra.get("kind_label", "Visit")
    made.mail_status = extra.get("mail_status")
    made.may_edit = extra.get("may_edit", False)
    return made


def test_a_visit_with_everything_shown_and_escaped():
    visit = entry(
        kind="activity_logged",
        kind_label="Visit <b>",
        actor=User(username="wang", last_name="王", first_name="<i>芳</i>"),
        subject_type="activities.activity",
        subject_id=42,
        summary="拜访 <script>alert(1)</script>",
        payload={"due_on": "2026-03-09<", "duration_minutes": 45, "content": "第一行 & <b>\n第二行"},
        may_edit=True,
        mail_status={"label": "not <delivered>", "sent": False, "failed": True},
    )
    assert timeline_rows([visit]) == (
        '<div class="timeline-entry kind-activity_logged">\n'
        # 01:30 UTC is 09:30 in Asia/Shanghai, the site's time zone.
        '    <div class="small text-secondary">2026-03-01 09:30 · Visit &lt;b&gt; · 王&lt;i&gt;芳&lt;/i&gt;</div>\n'
        '    <div><a href="/activities/42/edit/" class="text-reset">拜访 &lt;script&gt;alert(1)&lt;/script&gt;</a>'
        ' <span class="badge">due 2026-03-09&lt;</span>'
        ' <span class="text-secondary small">45 min</span>'
        ' <span class="badge bg-red-lt">not &lt;delivered&gt;</span></div>\n'
        '    <div class="small">第一行 &amp; &lt;b&gt;<br>第二行</div>\n'
        "  </div>"
    )


@pytest.mark.parametrize(
    ("state", "tone"),
    [({"sent": True, "failed": False}, "bg-green-lt"), ({"sent": False, "failed": False}, "bg-secondary-lt")],
)
def test_a_mail_without_actor_content_or_link(state, tone):
    mail = entry(kind="mail_sent", kind_label="Mail", summary="报价单", mail_status={"label": "Sent", **state})
    assert timeline_rows([mail]) == (
        '<div class="timeline-entry kind-mail_sent">\n'
        '    <div class="small text-secondary">2026-03-01 09:30 · Mail</div>\n'
        f'    <div>报价单 <span class="badge {tone}">Sent</span></div>\n'
        "    \n"
        "  </div>"
    )


def test_rows_follow_each_other_and_speak_the_readers_language():
    first, second = entry(kind="a", summary="一"), entry(kind="b", summary="二", payload={"duration_minutes": 30})
    with translation.override("zh-hans"):
        html = timeline_rows([first, second])
        assert timeline_rows([]) == '<p class="text-secondary">暂无动态。</p>'
    assert html.count('<div class="timeline-entry') == 2 and html.index("一") < html.index("二")
    assert '<span class="text-secondary small">30 分钟</span>' in html
    assert timeline_rows([]) == '<p class="text-secondary">Nothing has happened yet.</p>'
