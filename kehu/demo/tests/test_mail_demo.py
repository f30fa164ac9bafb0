"""The demo's e-mail intake: the service mailbox (not fetching), a customer's answer threaded onto
their ticket, a mail waiting to be matched and an automatic reply that opened nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from kehu.support.models import InboundMail, InboundStatus, Mailbox, Ticket


@pytest.mark.django_db
def test_the_demo_has_received_mail_in_each_state():
    call_command("demo_data", customers=30, seed=7, stdout=StringIO())
    box = Mailbox.load()
    assert (box.is_active, box.address, box.has_password) == (False, "service@huaxing-demo.cn", False)
    statuses = sorted(InboundMail.objects.values_list("status", flat=True))
    assert statuses == sorted([InboundStatus.REPLY, InboundStatus.TO_MATCH, InboundStatus.AUTOMATIC])
    reply = InboundMail.objects.get(status=InboundStatus.REPLY)
    assert reply.ticket.messages.get().body == "设备开机后报警 E05，屏幕不亮，照片稍后发。"
    assert Ticket.objects.count() == 15
