# Region outlines for the cockpit's maps, in a table of their own (see RegionBoundary).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RegionBoundary",
            fields=[
                (
                    "region",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="boundary",
                        serialize=False,
                        to="institutions.region",
                        verbose_name="行政区划",
                    ),
                ),
                ("geometry", models.JSONField(verbose_name="边界（GeoJSON）")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
            ],
            options={
                "verbose_name": "区划边界",
                "verbose_name_plural": "区划边界",
            },
        ),
    ]
