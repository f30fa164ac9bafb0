from django.db import migrations

from kehu.sales.defaults import PIPELINES, seed_pipelines


def create(apps, schema_editor):
    seed_pipelines(apps.get_model("sales", "Pipeline"), apps.get_model("sales", "Stage"))


def remove(apps, schema_editor):
    apps.get_model("sales", "Pipeline").objects.filter(code__in=[p[0] for p in PIPELINES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
