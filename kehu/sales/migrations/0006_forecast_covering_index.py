from django.db import migrations, models


class Migration(migrations.Migration):
    """The forecast's index also carries amount and deleted_at: the count and sum of open deals past
    their close date, shown on every forecast page, read from the index alone."""

    dependencies = [
        ("sales", "0005_board_sums_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=["status", "expected_close_on", "owner", "amount", "deleted_at"], name="opp_forecast_cover_idx"
            ),
        ),
        migrations.RemoveIndex(
            model_name="opportunity",
            name="opp_forecast_idx",
        ),
    ]
