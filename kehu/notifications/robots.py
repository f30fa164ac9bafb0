"""Robots post what happened in their team (INT-5): queued items, about 20 posts a minute per robot,
a backlog merged into digest posts, long text split to the platform's limit, failures retried with
backoff. Nothing is dropped: an item waits until a post carries it, and a post given up on stays in
the robot's log, where an administrator can send it again."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core import events
from kehu.notifications import chat
from kehu.notifications.links import absolute, base_url
from kehu.notifications.models import PostStatus, Robot, RobotItem, RobotPost

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)  # 1, 2, 4 ... minutes between attempts, at most an hour
BACKOFF_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=2)  # a post being sent is not picked up again meanwhile
WINDOW = timedelta(minutes=1)
FLUSH_LIMIT = 2000  # items merged in one pass; more wait for the next minute
_MARKUP = str.maketrans(
    {"[": "［", "]": "］", "*": "＊", "`": "'", "<": "‹", ">": "›", "#": "＃", "\n": " ", "\r": " "}
)


def clean(text: str) -> str:
    """Plain text safe inside markdown: no links, emphasis or tags of its own, one line."""
    return (text or "").translate(_MARKUP).strip()


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _fits(text: str, limit: int) -> bool:
    return len(text.encode()) <= limit


def _shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` bytes of UTF-8 (whole characters), marking the cut with "…"."""
    if _fits(text, limit):
        return text
    cut = text.encode()[: max(limit - 3, 0)].decode("utf-8", "ignore")
    return cut + "…"


def _titled(robot: Robot, title: str) -> str:
    """The title, with the robot's keyword in front when the chat app requires one in every message."""
    keyword = robot.keyword.strip()
    return f"【{keyword}】{title}" if keyword and keyword not in title else title


def _item_line(item: RobotItem) -> str:
    label = clean(events.label(item.kind))
    summary = clean(item.summary)
    who = f" · {clean(item.actor_name)}" if item.actor_name else ""
    url = absolute(item.link)
    line = f"- **{label}** {summary}{who}"
    return f"{line} [{_('Open')}]({url})" if url else line


def compose(robot: Robot, items: list[RobotItem]) -> list[chat.Message]:
    """The messages that carry `items`: one for a single item, else a digest, split to the size limit."""
    limit = chat.CONTENT_LIMIT[robot.platform]
    with translation.override(settings.LANGUAGE_CODE):
        open_label = _("Open in Kehu")
        if len(items) == 1:
            item = items[0]
            title = _titled(robot, f"{events.label(item.kind)}")
            url = absolute(item.link)
            lines = [f"### {clean(title)}" if robot.platform != "feishu" else "", clean(item.summary)]
            if item.actor_name:
                lines.append(f"> {clean(item.actor_name)} · {timezone.localtime(item.created_at):%Y-%m-%d %H:%M}")
            tail = f"\n\n[{open_label}]({url})" if url and robot.platform != "feishu" else ""
            head = "\n\n".join(line for line in lines if line)
            text = _shorten(head, limit - len(tail.encode())) + tail
            return [chat.Message(title=clean(title), text=text, link=url, link_label=open_label)]
        # A digest: as many lines per post as fit; the last line of each post links to the list.
        heading = _titled(
            robot, ngettext("%(count)d event in your team", "%(count)d events in your team", len(items))
        ) % {"count": len(items)}
        footer = f"\n\n[{open_label}]({base_url()}/)"
        lines = [_shorten(_item_line(i), limit // 2) for i in items]
        chunks: list[list[str]] = [[]]
        budget = limit - len(footer.encode()) - len(heading.encode()) - 40
        used = 0
        for line in lines:
            size = len(line.encode()) + 1
            if chunks[-1] and used + size > budget:
                chunks.append([])
                used = 0
            chunks[-1].append(line)
            used += size
        messages = []
        for number, chunk in enumerate(chunks, start=1):
            title = heading if len(chunks) == 1 else f"{heading} ({number}/{len(chunks)})"
            head = f"### {clean(title)}\n\n" if robot.platform != "feishu" else ""
            text = head + "\n".join(chunk) + (footer if robot.platform != "feishu" else "")
            messages.append(
                chat.Message(
                    title=clean(title), text=text, link=f"{base_url()}/", link_label=open_label, count=len(chunk)
                )
            )
        return messages


def _posts_create(robot: Robot, items: list[RobotItem], now) -> list[RobotPost]:
    """Posts for `items`, claimed atomically (an item already taken by another worker is left alone)."""
    messages = compose(robot, items)
    with transaction.atomic():
        posts = RobotPost.objects.bulk_create(
            [
                RobotPost(robot=robot, title=m.title[:200], text=m.text, link=m.link[:500], next_attempt_at=now)
                for m in messages
            ]
        )
        # A digest split in parts: each part carries the items of its text, in order.
        start = 0
        for message, post in zip(messages, posts, strict=True):
            ids = [i.pk for i in items[start : start + message.count]]
            start += message.count
            post.item_count = len(ids)
            taken = RobotItem.objects.filter(pk__in=ids, post__isnull=True).update(post=post)
            if taken != len(ids):
                transaction.set_rollback(True)
                return []
        RobotPost.objects.bulk_update(posts, ["item_count"])
    return posts


def _budget(robot_id: int, now) -> int:
    used = RobotPost.objects.filter(robot_id=robot_id, last_attempt_at__gt=now - WINDOW).count()
    return chat.PER_MINUTE - used


def robot_flush(robot_id: int, now=None) -> int:
    """Post what a robot has waiting, within its rate: due retries first; then, when the waiting items
    fit in what is left of this minute, one post each, otherwise all of them merged into a digest.
    Returns how many posts were attempted."""
    now = now or timezone.now()
    robot = Robot.objects.filter(pk=robot_id).first()
    if robot is None:
        return 0
    budget = _budget(robot_id, now)
    attempted = 0
    if budget <= 0:
        return 0
    due = list(
        RobotPost.objects.filter(robot_id=robot_id, status=PostStatus.PENDING, next_attempt_at__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)[:budget]
    )
    for pk in due:
        attempted += robot_post_send(pk, now=now) is not None
    budget -= attempted
    if budget <= 0 or not robot.is_active:
        return attempted
    waiting = list(RobotItem.objects.filter(robot_id=robot_id, post__isnull=True).order_by("id")[:FLUSH_LIMIT])
    if not waiting:
        return attempted
    groups = [[item] for item in waiting] if len(waiting) <= budget else [waiting]
    for group in groups:
        for post in _posts_create(robot, group, now):
            if budget <= 0:
                break  # made, not sent: the next pass sends it
            attempted += robot_post_send(post.pk, now=now) is not None
            budget -= 1
    return attempted


def robot_post_send(post_id: int, now=None) -> str | None:
    """One attempt at a due post: claim, sign, POST, record the answer. Returns the status, or None
    when the post was not due (another worker has it, or it is done)."""
    now = now or timezone.now()
    claimed = RobotPost.objects.filter(pk=post_id, status=PostStatus.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + LEASE, last_attempt_at=now
    )
    if not claimed:
        return None
    post = RobotPost.objects.select_related("robot").get(pk=post_id)
    robot = post.robot
    message = chat.Message(title=post.title, text=post.text, link=post.link, link_label=_link_label())
    url, body = chat.request_for(robot.platform, robot.webhook_url, robot.secret, message, time.time())
    if not robot.is_active and not post.is_test:
        status, excerpt, error = None, "", _("The robot is switched off.")
    else:
        status, excerpt, error = chat.post(url, body)
    delivered, limited, answer_error = chat.answer_of(robot.platform, status, excerpt)
    post.attempts += 1
    post.last_response_code = status
    post.last_response_body = excerpt[:500]
    post.last_error = (error or answer_error)[:300]
    if delivered:
        post.status, post.sent_at, post.next_attempt_at = PostStatus.SENT, now, None
    elif post.attempts >= MAX_ATTEMPTS and not limited:
        post.status, post.next_attempt_at = PostStatus.FAILED, None
    else:
        post.next_attempt_at = now + (WINDOW if limited else backoff(post.attempts))
    post.save(
        update_fields=[
            "attempts",
            "last_response_code",
            "last_response_body",
            "last_error",
            "status",
            "sent_at",
            "next_attempt_at",
        ]
    )
    return post.status


def _link_label() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Open in Kehu")


def robots_with_work(now=None) -> list[int]:
    """Robots with items waiting or a post due (for the periodic pass)."""
    now = now or timezone.now()
    waiting = RobotItem.objects.filter(post__isnull=True).values_list("robot_id", flat=True).distinct()
    due = (
        RobotPost.objects.filter(Q(status=PostStatus.PENDING) & Q(next_attempt_at__lte=now))
        .values_list("robot_id", flat=True)
        .distinct()
    )
    return sorted(set(waiting) | set(due))


def robots_flush_due(now=None) -> int:
    """The periodic pass: every robot with work posts what its rate allows."""
    now = now or timezone.now()
    return sum(robot_flush(robot_id, now=now) for robot_id in robots_with_work(now))
