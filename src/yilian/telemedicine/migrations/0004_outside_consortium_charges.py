from django.db import migrations


def unfile_outside_charges(apps, schema_editor):
    """Billing records of teleconsultations outside the consortium named the inviting end's consortium,
    as if the fee were an exchange inside it; they name none now (the fee is the two ends' agreement)."""
    TeleconsultationCharge = apps.get_model("telemedicine", "TeleconsultationCharge")
    TeleconsultationCharge.objects.filter(
        teleconsultation__outside_consortium=True, consortium__isnull=False
    ).update(consortium=None)


def refile_outside_charges(apps, schema_editor):
    """Back: name the consortium the teleconsultation is filed under again."""
    TeleconsultationCharge = apps.get_model("telemedicine", "TeleconsultationCharge")
    for charge in TeleconsultationCharge.objects.filter(
        teleconsultation__outside_consortium=True, consortium__isnull=True
    ).select_related("teleconsultation"):
        charge.consortium_id = charge.teleconsultation.consortium_id
        charge.save(update_fields=["consortium"])


class Migration(migrations.Migration):
    dependencies = [
        ("telemedicine", "0003_outside_consortium"),
    ]

    operations = [
        migrations.RunPython(unfile_outside_charges, refile_outside_charges),
    ]
