"""A covering index for the ageing report's "not yet invoiced" column: the sum of
CustomerBalance.not_invoiced per owner (kehu.receivables.ageing._rep_rows) read the whole table through
the (owner, -owed) index and then every row — about a second on 1,000,000 balances — and now reads
only this index (for a scope: just the owners' entries above zero).

Plain SQL so the models (owned by the receivables app) need not change; the index is the same on
SQLite and PostgreSQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("receivables", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS recv_balance_owner_notinv"
            " ON receivables_customerbalance (owner_id, not_invoiced)",
            reverse_sql="DROP INDEX IF EXISTS recv_balance_owner_notinv",
        )
    ]
