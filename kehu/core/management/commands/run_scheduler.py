import logging
import signal
import threading

from django.core.management.base import BaseCommand

from kehu.core import lost_tasks, schedule

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Enqueue periodic jobs when they are due, and recover the tasks of workers that died"
        " (run one or more next to db_worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=15, help="seconds between ticks (default 15)")
        parser.add_argument("--once", action="store_true", help="tick once and exit")

    def handle(self, *args, interval, once, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.is_set():
            try:
                for name in schedule.tick():
                    log.info("enqueued %s", name)
                # Tasks whose worker died (kill -9, out of memory): failed with the reason, resumed or retried.
                lost_tasks.recover()
            except Exception:
                # A database hiccup must not end the scheduler; the next tick tries again.
                log.exception("scheduler tick failed")
            if once:
                break
            stop.wait(interval)
