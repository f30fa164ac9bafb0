"""Background work of the accounts app."""

from django.tasks import task


@task()
def password_reset_send(request_id: int) -> str:
    """Decide on a "forgot password" request (limits, known address) and queue its mail."""
    from kehu.users.services import password_reset_process

    return password_reset_process(request_id)
