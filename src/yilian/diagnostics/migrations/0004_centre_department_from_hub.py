"""Name a department for shared centres that have none, where the hub has exactly one that fits.

Only a centre's department staff may now receive, read and sign its work. A
centre set up without a department would have no staff, so this picks the
hub's one active department of the centre's subject in the 诊疗科目 list
(医学检验科 30 for a lab, 病理科 31 for pathology, 医学影像科 32 for imaging,
心电诊断 32.05 for ECG). Where there is none, or more than one, the centre
keeps no department and the consortium office chooses it on the centres page.
No app code is imported: the historical models only.
"""

from django.db import migrations

SUBJECT_OF_KIND = {
    "lab": ("specialty", "30"),
    "pathology": ("specialty", "31"),
    "imaging": ("specialty", "32"),
    "ecg": ("subject", "32.05"),
}


def name_departments(apps, schema_editor):
    SharedCentre = apps.get_model("diagnostics", "SharedCentre")
    Department = apps.get_model("institutions", "Department")
    for centre in SharedCentre.objects.filter(department__isnull=True):
        match = SUBJECT_OF_KIND.get(centre.kind)
        if match is None:
            continue
        field, value = match
        candidates = list(
            Department.objects.filter(
                institution_id=centre.hub_institution_id, is_active=True, **{field: value}
            ).values_list("pk", flat=True)[:2]
        )
        if len(candidates) == 1:
            SharedCentre.objects.filter(pk=centre.pk).update(department_id=candidates[0])


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0003_rejection_reasons_by_kind"),
        ("institutions", "0003_department_subject"),
    ]

    operations = [migrations.RunPython(name_departments, migrations.RunPython.noop)]
