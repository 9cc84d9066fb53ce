"""Frozen settlements keep the names and the year their reports print.

The backfill writes today's member and consortium names and the budget's
year into the settlements frozen so far: the values their reports have shown
until now, kept from here on whatever is renamed later. The budget's months
are not backfilled: claims imported after a freeze would be recorded as if
they had been frozen, so those versions keep computing their monthly sheet
from today's data and say so (``Settlement.monthly_recorded``).
"""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps: Any, schema_editor: Any) -> None:
    settlement_model = apps.get_model("insurance", "Settlement")
    share_model = apps.get_model("insurance", "SettlementShare")
    institution_model = apps.get_model("institutions", "Institution")
    share_model.objects.filter(institution_name="").update(
        institution_name=Subquery(
            institution_model.objects.filter(pk=OuterRef("institution_id")).values("name")[:1]
        )
    )
    for settlement in settlement_model.objects.select_related("budget__consortium").iterator():
        figures = dict(settlement.figures or {})
        figures.setdefault("consortium_name", settlement.budget.consortium.name)
        figures.setdefault("year", settlement.budget.year)
        settlement_model.objects.filter(pk=settlement.pk).update(figures=figures)


class Migration(migrations.Migration):
    dependencies = [
        ("insurance", "0002_membertier"),
    ]

    operations = [
        migrations.AddField(
            model_name="settlementshare",
            name="institution_name",
            field=models.CharField(default="", max_length=200, verbose_name="成员单位名称"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
