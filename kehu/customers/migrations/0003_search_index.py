from django.db import migrations

from kehu.customers import search


def create(apps, schema_editor):
    statements = {"sqlite": search.SQLITE_CREATE, "postgresql": search.POSTGRES_CREATE}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    statements = {"sqlite": search.SQLITE_DROP, "postgresql": search.POSTGRES_DROP}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
