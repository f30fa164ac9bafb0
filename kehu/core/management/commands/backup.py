"""manage.py backup — one archive with the database, the uploaded files and a manifest of checksums."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from kehu.core.backup import BackupError, create_backup, human_size


class Command(BaseCommand):
    help = "Write a backup archive: the database, the uploaded files (MEDIA_ROOT) and a manifest of checksums."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="directory for the archive (default: <KEHU_VAR_DIR>/backups)")
        parser.add_argument("--no-media", action="store_true", help="leave the uploaded files out")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, output, no_media, database, **options):
        output_dir = Path(output) if output else Path(settings.VAR_DIR) / "backups"
        try:
            result = create_backup(
                output_dir=output_dir,
                media_root=Path(settings.MEDIA_ROOT),
                using=database,
                include_media=not no_media,
                progress=self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(_("The backup could not be written: %(error)s") % {"error": exc}) from exc
        rows = sum(t["rows"] for t in result.manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written: %(path)s (%(size)s, %(tables)d tables, %(rows)s rows, %(files)d files) in %(seconds).1f s."
                )
                % {
                    "path": result.path,
                    "size": human_size(result.size),
                    "tables": len(result.manifest["tables"]),
                    "rows": f"{rows:,}",
                    "files": len(result.manifest["files"]) - 1,
                    "seconds": result.seconds,
                }
            )
        )
