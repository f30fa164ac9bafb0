"""E-mail intake against a real IMAP server (Dovecot on loopback): new mail opens a ticket, replies
thread onto it (by In-Reply-To, or by the number in the subject), Chinese encodings and HTML-only
mail are read right, attachments are kept, automatic replies open nothing, unknown senders wait to
be matched, a mail is taken once however often the fetch runs, and a staff answer goes out through
the loopback SMTP server and comes back threaded."""

import base64
import email
import quopri
from email import policy

import pytest

from kehu.core.models import OutboxMail
from kehu.support import mail_intake, services
from kehu.support.models import (
    Channel,
    InboundMail,
    InboundStatus,
    MailAttachment,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketState,
)
from kehu.support.tests.mail_setup import CUSTOMER_ADDRESS, SERVICE_ADDRESS, mail
from kehu.support.tests.tickets_setup import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


def fetch(capture) -> dict:
    with capture(execute=True):
        return mail_intake.mailbox_fetch()


def test_a_new_mail_from_a_contact_opens_a_ticket_and_is_acknowledged(
    imap_server, mailbox, contact, desk, smtp, django_capture_on_commit_callbacks
):
    raw, message_id = mail()
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["fetched"], counts["ticket"], counts["duplicates"]) == (1, 1, 0)
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.contact, ticket.channel, ticket.subject, ticket.category, ticket.owner) == (
        desk.mine,
        contact,
        Channel.EMAIL,
        "主轴异响",
        desk.repairs,
        desk.csr,
    )
    (message,) = ticket.messages.all()
    assert (message.direction, message.channel, message.sender, message.email_message_id, message.body) == (
        MessageDirection.IN,
        Channel.EMAIL,
        CUSTOMER_ADDRESS,
        message_id,
        "你好，我们的机床主轴有异响，请派人来看看。",
    )
    (ack,) = smtp.messages
    assert str(ack["To"]) == CUSTOMER_ADDRESS
    assert str(ack["Subject"]) == f"[{ticket.number}] We received your request: 主轴异响"
    assert (ack["In-Reply-To"], ack["Auto-Submitted"], str(ack["Reply-To"])) == (
        message_id,
        "auto-replied",
        SERVICE_ADDRESS,
    )
    assert ticket.number in ack.get_content()
    assert InboundMail.objects.get().acknowledgement_id == ack["Message-ID"]
    assert imap_server.unseen() == []


def test_a_reply_naming_our_answer_threads_onto_the_ticket_and_sets_a_waiting_one_going(
    imap_server, mailbox, contact, desk, smtp, django_capture_on_commit_callbacks
):
    raw, first_id = mail()
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    services.ticket_transition(ticket=ticket, actor=desk.team.service1, to=TicketState.WAITING_CUSTOMER)
    ack_id = smtp.messages[0]["Message-ID"]
    raw, reply_id = mail(
        subject="Re: 收到", body="型号是 CK6140，序列号 A123。", in_reply_to=ack_id, references=f"{first_id} {ack_id}"
    )
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["reply"], counts["ticket"]) == (1, 0)
    ticket.refresh_from_db()
    assert (Ticket.objects.count(), ticket.state) == (1, TicketState.IN_PROGRESS)
    assert [(m.direction, m.email_message_id, m.body) for m in ticket.messages.all()] == [
        (MessageDirection.IN, first_id, "你好，我们的机床主轴有异响，请派人来看看。"),
        (MessageDirection.IN, reply_id, "型号是 CK6140，序列号 A123。"),
    ]
    assert len(smtp.messages) == 1  # a reply is not acknowledged again


@pytest.mark.parametrize("subject", ["回复：{number} 还是不行", "Re: [{bracketed}] 还是不行", "回复：{number}还是不行"])
def test_a_reply_with_only_the_ticket_number_in_the_subject_threads_onto_it(
    imap_server, mailbox, contact, desk, subject, django_capture_on_commit_callbacks
):
    ticket = desk.open(channel=Channel.EMAIL, contact=contact)
    bracketed = ticket.number.replace("TK", "TK-")  # "[TK-2026-000001]" as people type it
    raw, reply_id = mail(subject=subject.format(number=ticket.number, bracketed=bracketed), body="还是不行")
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["reply"], Ticket.objects.count()) == (1, 1)
    assert list(ticket.messages.values_list("email_message_id", "body")) == [(reply_id, "还是不行")]


def test_a_stranger_naming_a_ticket_number_does_not_write_on_it(
    imap_server, mailbox, contact, desk, django_capture_on_commit_callbacks
):
    ticket = desk.open(channel=Channel.EMAIL, contact=contact)
    raw, _id = mail(subject=f"Re: {ticket.number}", sender="someone@elsewhere.example", body="hello")
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["to_match"], ticket.messages.count(), Ticket.objects.count()) == (1, 0, 1)


def test_a_gbk_body_and_encoded_chinese_subject_and_name_are_read_right(
    imap_server, mailbox, contact, django_capture_on_commit_callbacks
):
    # Declared GB2312 as Foxmail does, with 喆 and 镕 that only GBK has; subject and name in RFC 2047.
    body = "张喆、朱镕：设备报警 E05，屏幕不亮。\n谢谢！"
    subject = "=?GB2312?B?" + base64.b64encode("设备报警E05".encode("gbk")).decode() + "?="
    name = "=?GBK?B?" + base64.b64encode("王工".encode("gbk")).decode() + "?="
    raw = (
        f"From: {name} <{CUSTOMER_ADDRESS}>\r\nTo: {SERVICE_ADDRESS}\r\nSubject: {subject}\r\n"
        "Message-ID: <gbk-1@nbjg.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    ).encode() + base64.encodebytes(body.encode("gbk"))
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    stored = InboundMail.objects.get()
    assert (stored.subject, stored.from_name, stored.body) == ("设备报警E05", "王工", body)
    assert Ticket.objects.get().subject == "设备报警E05"


def test_quoted_printable_utf8_with_a_quoted_earlier_mail_keeps_only_the_new_words(
    imap_server, mailbox, contact, django_capture_on_commit_callbacks
):
    text = "已经换了保险丝，还是不开机。\n\n在 2026年12月1日 09:00，客服 <service@kehu-factory.example> 写道：\n> 请先检查保险丝。\n"
    raw = (
        f"From: {CUSTOMER_ADDRESS}\r\nTo: {SERVICE_ADDRESS}\r\nSubject: =?UTF-8?Q?=E4=B8=8D=E5=BC=80=E6=9C=BA?=\r\n"
        "Message-ID: <qp-1@nbjg.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + quopri.encodestring(text.encode())
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    stored = InboundMail.objects.get()
    assert (stored.subject, stored.body) == ("不开机", "已经换了保险丝，还是不开机。")


def test_an_html_only_mail_gives_its_text_without_markup_scripts_or_the_quote(
    imap_server, mailbox, contact, django_capture_on_commit_callbacks
):
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<div>主轴&nbsp;异响&lt;严重&gt;</div><p>请尽快处理</p>"
        "<blockquote>上次的回复</blockquote></body></html>"
    )
    raw, _id = mail(body=None, html=html)
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    assert TicketMessage.objects.get().body == "主轴 异响<严重>\n\n请尽快处理"


def test_a_plain_and_html_mail_takes_the_plain_text(imap_server, mailbox, contact, django_capture_on_commit_callbacks):
    raw, _id = mail(body="纯文本版本", html="<p>HTML 版本</p>")
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    assert TicketMessage.objects.get().body == "纯文本版本"


def test_attachments_are_kept_on_the_message_within_the_type_and_size_limits(
    imap_server, mailbox, contact, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    photo = b"\xff\xd8\xff\xe0" + b"\x00" * 2000  # a phone's JPEG
    raw, _id = mail(
        attachments=[
            ("IMG_0042.JPG", "image/jpeg", photo),
            ("报价单.pdf", "application/pdf", b"%PDF-1.4 test"),
            ("setup.exe", "application/x-msdownload", b"MZ"),
        ]
    )
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    message = TicketMessage.objects.get()
    kept = list(MailAttachment.objects.values_list("filename", "content_type", "size", "message"))
    assert kept == [
        ("IMG_0042.JPG", "image/jpeg", len(photo), message.pk),
        ("报价单.pdf", "application/pdf", 13, message.pk),
    ]
    assert MailAttachment.objects.first().file.read() == photo
    assert message.body.endswith("Not kept:\n- setup.exe: files of type application/x-msdownload are not kept")


def test_a_file_over_the_size_limit_is_not_kept(monkeypatch):
    monkeypatch.setattr(mail_intake, "ATTACHMENT_MAX_BYTES", 1024 * 1024)
    raw, _id = mail(attachments=[("big.pdf", "application/pdf", b"x" * (1024 * 1024 + 1))])
    parsed = mail_intake.parse(raw)
    assert (parsed.attachments, parsed.refused) == ([], ["big.pdf: larger than 1 MB"])


@pytest.mark.parametrize(
    "sender,headers",
    [
        (CUSTOMER_ADDRESS, {"Auto-Submitted": "auto-replied"}),
        (CUSTOMER_ADDRESS, {"X-Autoreply": "yes"}),
        (CUSTOMER_ADDRESS, {"Precedence": "bulk"}),
        ("MAILER-DAEMON@mx.nbjg.example", {}),
    ],
)
def test_automatic_replies_and_bounces_open_nothing_and_stay_listed(
    imap_server, mailbox, contact, sender, headers, smtp, django_capture_on_commit_callbacks
):
    raw, _id = mail(subject="自动回复：我在休假", sender=sender, headers=headers)
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["automatic"], Ticket.objects.count(), TicketMessage.objects.count(), smtp.messages) == (
        1,
        0,
        0,
        [],
    )
    assert InboundMail.objects.get().status == InboundStatus.AUTOMATIC
    assert imap_server.unseen() == []


@pytest.mark.parametrize(
    "sender,headers", [(SERVICE_ADDRESS, {}), (CUSTOMER_ADDRESS, {"X-Kehu-Ticket": "TK2026-000001"})]
)
def test_our_own_mail_coming_back_is_never_answered(
    imap_server, mailbox, contact, sender, headers, smtp, django_capture_on_commit_callbacks
):
    raw, _id = mail(sender=sender, headers=headers)
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["own"], Ticket.objects.count(), smtp.messages) == (1, 0, [])


def test_mail_from_an_unknown_sender_waits_to_be_matched_then_opens_a_ticket(
    imap_server, mailbox, desk, smtp, django_capture_on_commit_callbacks
):
    raw, message_id = mail(sender="李经理 <li@unknown-factory.example>")
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    waiting = InboundMail.objects.get()
    assert (counts["to_match"], waiting.status, Ticket.objects.count(), smtp.messages) == (
        1,
        InboundStatus.TO_MATCH,
        0,
        [],
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = mail_intake.inbound_match(mail=waiting, customer=desk.theirs, actor=desk.team.service1)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.ticket, waiting.matched_by) == (
        InboundStatus.MATCHED,
        ticket,
        desk.team.service1,
    )
    assert (ticket.customer, ticket.channel, ticket.owner) == (desk.theirs, Channel.EMAIL, desk.csr)
    assert list(ticket.messages.values_list("sender", "email_message_id")) == [
        ("li@unknown-factory.example", message_id)
    ]
    assert [str(m["To"]) for m in smtp.messages] == ["li@unknown-factory.example"]
    with pytest.raises(Exception, match="dealt with already"):
        mail_intake.inbound_match(mail=waiting, customer=desk.theirs, actor=desk.team.service1)
    assert Ticket.objects.count() == 1


def test_fetching_twice_takes_each_mail_once_and_a_crash_before_marking_seen_loses_nothing(
    imap_server, mailbox, contact, smtp, django_capture_on_commit_callbacks
):
    first, _a = mail(subject="一号")
    second, _b = mail(subject="二号")
    imap_server.deliver(first)
    imap_server.deliver(second)
    # A run that stored the first mail and died before marking it seen:
    uid = imap_server.unseen()[0]
    with django_capture_on_commit_callbacks(execute=True):
        mail_intake.mail_take(raw=first, uidvalidity=_validity(imap_server), uid=uid, mailbox=mailbox)
    assert imap_server.unseen() == [uid, uid + 1]
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["fetched"], counts["ticket"], counts["duplicates"]) == (2, 1, 1)
    again = fetch(django_capture_on_commit_callbacks)
    assert again["fetched"] == 0
    assert (InboundMail.objects.count(), Ticket.objects.count(), TicketMessage.objects.count()) == (2, 2, 2)
    assert len(smtp.messages) == 2  # one acknowledgement per ticket
    assert imap_server.unseen() == []


def _validity(server) -> int:
    conn = server.connect()
    try:
        conn.select("INBOX")
        return int(conn.response("UIDVALIDITY")[1][0])
    finally:
        conn.logout()


def test_a_staff_answer_goes_out_threaded_and_the_customers_reply_comes_back_on_the_ticket(
    imap_server, mailbox, contact, desk, smtp, django_capture_on_commit_callbacks
):
    raw, first_id = mail()
    imap_server.deliver(raw)
    fetch(django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_answer(ticket=ticket, actor=desk.csr, note="明天上午九点工程师到现场。")
    ack, answer = smtp.messages
    assert str(answer["To"]) == CUSTOMER_ADDRESS
    assert str(answer["Subject"]) == f"[{ticket.number}] Re: 主轴异响"
    assert (answer["In-Reply-To"], answer["References"], str(answer["Reply-To"])) == (
        first_id,
        first_id,
        SERVICE_ADDRESS,
    )
    assert answer.get_content().replace("\r\n", "\n").startswith("明天上午九点工程师到现场。\n\n--\nTicket ")
    out = ticket.messages.get(direction=MessageDirection.OUT)
    assert out.email_message_id == answer["Message-ID"]
    # The customer answers from their mail client: In-Reply-To our answer, the subject kept.
    raw, reply_id = mail(
        subject=f"回复：{answer['Subject']}",
        body="好的，谢谢。\n\n-----原始邮件-----\n发件人: service@kehu-factory.example\n明天上午九点工程师到现场。",
        in_reply_to=answer["Message-ID"],
        references=f"{first_id} {answer['Message-ID']}",
    )
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["fetched"], counts["reply"], counts["ticket"]) == (1, 1, 0)
    assert [(m.direction, m.body) for m in ticket.messages.all()] == [
        (MessageDirection.IN, "你好，我们的机床主轴有异响，请派人来看看。"),
        (MessageDirection.OUT, "明天上午九点工程师到现场。"),
        (MessageDirection.IN, "好的，谢谢。"),
    ]
    # Three mails in, one ticket; two mails out (the acknowledgement, the answer).
    assert (InboundMail.objects.count(), Ticket.objects.count(), TicketMessage.objects.count()) == (2, 1, 3)
    assert (len(smtp.messages), OutboxMail.objects.count()) == (2, 2)


def test_an_answer_on_a_phone_ticket_sends_no_mail(mailbox, desk, contact, smtp, django_capture_on_commit_callbacks):
    ticket = desk.open(contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_answer(ticket=ticket, actor=desk.team.service1, note="已电话回复")
    assert (smtp.messages, OutboxMail.objects.count()) == ([], 0)


def test_a_mailbox_that_is_switched_off_is_not_read(imap_server, mailbox, contact, django_capture_on_commit_callbacks):
    mailbox.is_active = False
    mailbox.save()
    raw, _id = mail()
    imap_server.deliver(raw)
    counts = fetch(django_capture_on_commit_callbacks)
    assert (counts["fetched"], InboundMail.objects.count(), len(imap_server.unseen())) == (0, 0, 1)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("好的\n\n-----原始邮件-----\n发件人: a@b.c\n旧内容", "好的"),
        ("OK thanks\n\nOn Mon, 1 Dec 2026 at 09:00, Service <s@k.example> wrote:\n> old", "OK thanks"),
        ("OK thanks\n\nOn Mon, 1 Dec 2026 at 09:00, Service\n<s@k.example> wrote:\n> old", "OK thanks"),
        ("收到\n在 2026年12月1日 09:00，客服 写道：\n旧内容", "收到"),
        ("第一行\n> 引用\n第二行", "第一行\n第二行"),
        ("收到\n________________________________\n发件人: 客服\n旧内容", "收到"),
        ("> 全是引用", "> 全是引用"),
    ],
)
def test_quoted_earlier_mail_is_cut_where_recognisable(text, expected):
    assert mail_intake.strip_quoted(text) == expected


def test_parse_reads_the_headers_a_reply_threads_by():
    raw, message_id = mail(in_reply_to="<a@x>", references="<root@x> <a@x>")
    parsed = mail_intake.parse(raw)
    assert (parsed.message_id, parsed.in_reply_to, parsed.references, parsed.from_name, parsed.from_address) == (
        message_id,
        "<a@x>",
        ["<root@x>", "<a@x>"],
        "王工",
        CUSTOMER_ADDRESS,
    )
    assert email.message_from_bytes(raw, policy=policy.default)["Subject"] == parsed.subject


def test_control_characters_and_overlong_bodies_are_not_stored():
    raw, _id = mail(subject="主轴\x1b异响\u200b", body="第一行\x07\n" + "长" * 20_000)
    parsed = mail_intake.parse(raw)
    assert parsed.subject.startswith("主轴异响")
    assert "\x07" not in parsed.body and parsed.body.startswith("第一行\n长")
    assert len(parsed.body) <= 10_000 and parsed.body.endswith("\n…")
