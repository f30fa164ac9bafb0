"""Mail goes through the database task queue and the worker delivers it (as under `make run`)."""

import pytest
from django.core.management import call_command

from kehu.core.mail import queue_email


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}


@pytest.mark.django_db(transaction=True)
def test_a_queued_mail_waits_for_the_worker_and_the_worker_sends_it(database_queue, mailoutbox, team):
    queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"], "zh-hans")
    assert mailoutbox == []
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert [(m.to, m.subject) for m in mailoutbox] == [(["rep1@example.com"], "Kehu 客户管理：您的账号已获批准")]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_writing_transaction_rolls_back(database_queue, mailoutbox, team):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"])
        raise RuntimeError("the write failed")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert mailoutbox == []
