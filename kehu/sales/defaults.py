"""The two pipelines every installation starts with (data: administrators may rename or extend them).
Used by the data migration (with its historical models) and to seed an emptied database."""

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


def seed_pipelines(pipeline_model, stage_model) -> None:
    """Create the default pipelines that do not exist yet (by code); idempotent."""
    for code, name, is_default, stages in PIPELINES:
        pipeline, created = pipeline_model.objects.get_or_create(
            code=code, defaults={"name": name, "is_default": is_default}
        )
        if created:
            stage_model.objects.bulk_create(
                stage_model(pipeline=pipeline, name=s, order=i, kind=kind, probability=p)
                for i, (s, kind, p) in enumerate(stages, start=1)
            )
