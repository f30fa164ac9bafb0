"""manage.py invoice_rollups — write every order's and contract's invoiced amounts again from the invoices."""

from django.core.management.base import BaseCommand

from kehu.invoices.services import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the invoiced amounts (and quantities) of orders and contracts from the issued invoices."

    def handle(self, *args, **options):
        done = rollups_rebuild()
        self.stdout.write(f"Invoiced amounts written for {done:,} orders and contracts.")
