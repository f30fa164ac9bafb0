"""Background work of the accounts app."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@task()
def password_reset_send(request_id: int) -> str:
    """Decide on a "forgot password" request (limits, known address) and queue its mail."""
    from kehu.users.services import password_reset_process

    return password_reset_process(request_id)


@periodic(every=timedelta(days=1))
@task
def sign_in_log_prune() -> int:
    """Delete sign-in log lines older than KEHU_SIGN_IN_LOG_DAYS (a year by default)."""
    from kehu.users.security import sign_in_log_prune as prune

    return prune()
