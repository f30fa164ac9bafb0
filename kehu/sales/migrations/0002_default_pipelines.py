"""The two pipelines every installation starts with (data: administrators may rename or extend them)."""

from django.db import migrations

PIPELINES = [
    (
        "direct",
        "直销",
        True,
        [
            ("初步接洽", "open", 10),
            ("需求确认", "open", 25),
            ("方案报价", "open", 50),
            ("商务谈判", "open", 75),
            ("赢单", "won", 100),
            ("输单", "lost", 0),
        ],
    ),
    (
        "dealer",
        "经销",
        False,
        [
            ("意向登记", "open", 10),
            ("样品试用", "open", 30),
            ("报价议价", "open", 60),
            ("签订合同", "open", 85),
            ("赢单", "won", 100),
            ("输单", "lost", 0),
        ],
    ),
]


def create(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    for code, name, is_default, stages in PIPELINES:
        pipeline, created = Pipeline.objects.get_or_create(code=code, defaults={"name": name, "is_default": is_default})
        if not created:
            continue
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=s, order=i, kind=kind, probability=p)
            for i, (s, kind, p) in enumerate(stages, start=1)
        )


def remove(apps, schema_editor):
    apps.get_model("sales", "Pipeline").objects.filter(code__in=[p[0] for p in PIPELINES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
