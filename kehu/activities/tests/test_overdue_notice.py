"""Overdue commitments (承诺逾期): each owner hears once per commitment, in one notice per run."""

from datetime import date, timedelta

from kehu.activities.models import Activity, ActivityKind
from kehu.activities.services import activity_log, activity_update, commitment_mark_done, commitments_overdue_tell

TODAY = date(2026, 12, 7)


def _promise(customer, owner, subject, due):
    return activity_log(customer=customer, actor=owner, kind=ActivityKind.COMMITMENT, subject=subject, due_on=due)


def _told(committed_events):
    return sorted((e.recipients, e.payload["count"]) for e in committed_events if e.kind.code == "commitments_overdue")


def test_each_owner_gets_one_notice_for_their_overdue_commitments_and_only_once(
    team, customer_of, committed_events, django_capture_on_commit_callbacks
):
    mine, theirs = customer_of(team.rep1), customer_of(team.rep2)
    _promise(mine, team.rep1, "寄样品", TODAY - timedelta(days=1))
    _promise(mine, team.rep1, "报价", TODAY - timedelta(days=3))
    _promise(mine, team.rep1, "明天回电", TODAY)  # due today: not overdue yet
    _promise(theirs, team.rep2, "安排试机", TODAY - timedelta(days=2))
    kept = _promise(theirs, team.rep2, "已完成的", TODAY - timedelta(days=5))
    commitment_mark_done(activity=kept, actor=team.rep2)
    with django_capture_on_commit_callbacks(execute=True):
        assert commitments_overdue_tell(today=TODAY) == 2
    assert _told(committed_events) == [((team.rep1.pk,), 2), ((team.rep2.pk,), 1)]
    with django_capture_on_commit_callbacks(execute=True):
        assert commitments_overdue_tell(today=TODAY) == 0  # nothing new: nobody is told again
    assert len(_told(committed_events)) == 2


def test_a_new_due_date_that_passes_is_announced_again(
    team, customer_of, committed_events, django_capture_on_commit_callbacks
):
    promise = _promise(customer_of(team.rep1), team.rep1, "寄样品", TODAY - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        commitments_overdue_tell(today=TODAY)
    promise.refresh_from_db()
    activity_update(activity=promise, actor=team.rep1, expected_version=promise.version, due_on=TODAY)
    assert Activity.objects.get(pk=promise.pk).overdue_told_on is None
    with django_capture_on_commit_callbacks(execute=True):
        assert commitments_overdue_tell(today=TODAY + timedelta(days=1)) == 1
    assert len(_told(committed_events)) == 2
