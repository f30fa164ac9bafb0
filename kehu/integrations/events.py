"""Import and export's event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class TransferEvent(models.TextChoices):
    IMPORTED = "imported", _("Imported")
    IMPORT_FINISHED = "import_finished", _("Import finished")
    IMPORT_FAILED = "import_failed", _("Import failed")


register_choices(TransferEvent, notify=[TransferEvent.IMPORT_FINISHED, TransferEvent.IMPORT_FAILED])
