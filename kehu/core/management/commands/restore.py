"""manage.py restore ARCHIVE — check a backup archive, then put its database and uploaded files back."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from kehu.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive: checks every member against the manifest first, then replaces the "
        "database and the uploaded files, then compares the table checksums. Stop the web and worker "
        "processes first."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the kehu-backup-….tar file")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, archive, yes, database, **options):
        def confirm(manifest):
            if yes:
                return True
            settings_dict = connections[database].settings_dict
            target = settings_dict["NAME"]
            if settings_dict.get("HOST"):
                target = f"{settings_dict['HOST']}:{settings_dict.get('PORT') or 5432}/{target}"
            question = _(
                "Replace the database %(database)s and the uploaded files in %(media)s with this backup? "
                "Everything written since the backup is lost. Type yes to continue: "
            ) % {"database": target, "media": settings.MEDIA_ROOT}
            try:
                answer = input(question)
            except EOFError:
                return False
            return answer.strip().lower() in {"yes", "y", _("yes")}

        try:
            result = restore_backup(
                Path(archive),
                media_root=Path(settings.MEDIA_ROOT),
                using=database,
                progress=self.stdout.write,
                confirm=confirm,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(_("The restore failed: %(error)s") % {"error": exc}) from exc
        rows = sum(t["rows"] for t in result.manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored the backup of %(created)s: %(tables)d tables with %(rows)s rows match it, "
                    "%(files)d uploaded files, in %(seconds).1f s."
                )
                % {
                    "created": result.manifest["created_at"],
                    "tables": len(result.manifest["tables"]),
                    "rows": f"{rows:,}",
                    "files": result.media_files,
                    "seconds": result.seconds,
                }
            )
        )
