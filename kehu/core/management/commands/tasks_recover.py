from django.core.management.base import BaseCommand

from kehu.core import lost_tasks


class Command(BaseCommand):
    help = (
        "Mark the tasks of workers that died as failed (the worker stopped), then queue them again or"
        " mark their jobs failed. The scheduler does this on every tick; run it after a crash without one."
    )

    def handle(self, *args, **options):
        for lost in lost_tasks.recover():
            self.stdout.write(f"{lost.task_id} {lost.task_path}: {'queued again' if lost.resumed else 'failed'}")
