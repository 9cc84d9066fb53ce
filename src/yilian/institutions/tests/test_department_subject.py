"""A department's second-level 诊疗科目 (``Department.subject``): validation against its first-level subject,
audit, the registry form and API, and the migration that filled it from department names."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.urls import reverse

from yilian.core.api.testing import error_of
from yilian.core.exceptions import Invalid
from yilian.core.models import AuditEvent
from yilian.institutions import services
from yilian.institutions.models import Department
from yilian.institutions.subjects import subject_from_name
from yilian.institutions.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("yilian.institutions.migrations.0003_department_subject")


# Services -----------------------------------------------------------------------------------------


def test_create_records_the_subject_and_audits_it(world):
    department = services.department_create(
        actor=world.hospital_admin,
        institution=world.hospital,
        name="胸痛中心",
        specialty="03",
        subject="03.04",
    )
    department.refresh_from_db()
    assert (department.subject, department.get_subject_display()) == ("03.04", "心血管内科专业")
    event = AuditEvent.objects.get(action="department.create", object_id=str(department.public_id))
    assert event.after["subject"] == "03.04"


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"specialty": "03", "subject": "03.99"}, "subject", "不是有效的选项"),  # no such subject
        ({"specialty": "03", "subject": "0304"}, "subject", "不是有效的选项"),
        (
            {"specialty": "04", "subject": "03.04"},
            "subject",
            "不属于诊疗科目 04 外科",
        ),  # 心血管内科专业 under 外科
        ({"specialty": "69", "subject": "05.01"}, "subject", "不属于诊疗科目 69"),
        ({"subject": "03.04"}, "subject", "不属于诊疗科目 69"),  # the default specialty is 69 其他业务科室
    ],
)
def test_create_refuses_a_subject_outside_the_list_or_the_specialty(world, data, field, fragment):
    with pytest.raises(Invalid) as error:
        services.department_create(
            actor=world.hospital_admin, institution=world.hospital, name="胸痛中心", **data
        )
    assert list(error.value.errors) == [field]
    assert fragment in error.value.errors[field][0]
    assert not Department.objects.filter(name="胸痛中心").exists()
    assert not AuditEvent.objects.filter(action="department.create").exists()


def test_update_checks_the_kept_subject_against_a_new_specialty(world):
    department = DepartmentFactory(
        institution=world.hospital, name="心内一病区", specialty="03", subject="03.04"
    )
    # moving it to 外科 while it keeps 03.04: the error is on the specialty, the field being changed
    with pytest.raises(Invalid) as error:
        services.department_update(actor=world.hospital_admin, department=department, specialty="04")
    assert list(error.value.errors) == ["specialty"]
    with pytest.raises(Invalid) as error:
        services.department_update(actor=world.hospital_admin, department=department, subject="04.01")
    assert list(error.value.errors) == ["subject"]
    department.refresh_from_db()
    assert (department.specialty, department.subject) == ("03", "03.04")
    assert not AuditEvent.objects.filter(action="department.update").exists()

    services.department_update(
        actor=world.hospital_admin, department=department, specialty="04", subject="04.05"
    )
    services.department_update(actor=world.hospital_admin, department=department, subject="")
    department.refresh_from_db()
    assert (department.specialty, department.subject) == ("04", "")
    events = AuditEvent.objects.filter(action="department.update").order_by("pk")
    assert [(e.before.get("subject"), e.after.get("subject")) for e in events] == [
        ("03.04", "04.05"),
        ("04.05", ""),
    ]


def test_the_database_refuses_a_subject_outside_the_specialty(world):
    department = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.filter(pk=department.pk).update(specialty="04", subject="03.04")


# Registry form and API -----------------------------------------------------------------------------


def test_the_department_form_offers_grouped_subjects_and_shows_the_error(world, client_for):
    client = client_for(world.hospital_admin)
    url = reverse("institutions:department-create", args=[world.hospital.public_id])
    page = client.get(url).content.decode()
    assert '<optgroup label="03 内科">' in page
    assert '<option value="03.08">03.08 免疫学专业</option>' in page

    response = client.post(url, {"name": "胸痛中心", "specialty": "04", "subject": "03.04", "beds": "0"})
    assert response.status_code == 200
    assert "不属于诊疗科目 04 外科" in response.content.decode()
    assert not Department.objects.filter(name="胸痛中心").exists()

    response = client.post(url, {"name": "胸痛中心", "specialty": "03", "subject": "03.04", "beds": "0"})
    assert response.status_code == 302
    department = Department.objects.get(name="胸痛中心")
    assert department.subject == "03.04"
    detail = client.get(reverse("institutions:institution-detail", args=[world.hospital.public_id]))
    assert "内科 · 心血管内科专业" in detail.content.decode()

    edit = reverse("institutions:department-edit", args=[department.public_id])
    assert '<option value="03.04" selected>' in client.get(edit).content.decode()
    assert (
        client.post(edit, {"name": "胸痛中心", "specialty": "03", "subject": "", "beds": "0"}).status_code
        == 302
    )
    department.refresh_from_db()
    assert department.subject == ""


def test_api_round_trip(world, api):
    client = api(world.hospital_admin)
    url = f"/api/v1/institutions/{world.hospital.public_id}/departments"
    response = client.post(url, {"name": "风湿免疫科", "specialty": "03", "subject": "03.08"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["subject"], body["subject_label"]) == ("03.08", "免疫学专业")
    detail = f"/api/v1/departments/{body['public_id']}"
    assert client.get(detail).json()["subject"] == "03.08"

    refused = client.patch(detail, {"specialty": "04"}, format="json")
    assert refused.status_code == 400
    assert list(error_of(refused)["fields"]) == ["specialty"]
    refused = client.patch(detail, {"subject": "03.99"}, format="json")
    assert refused.status_code == 400
    assert list(error_of(refused)["fields"]) == ["subject"]
    assert client.get(detail).json()["subject"] == "03.08"

    changed = client.patch(detail, {"subject": ""}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["subject"], changed.json()["subject_label"]) == ("", "")
    assert client.post(url, {"name": "大内科", "specialty": "03"}, format="json").json()["subject"] == ""


# The migration's first fill ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "specialty", "expected"),
    [
        ("心血管内科", "03", "03.04"),
        ("心内一病区", "03", "03.04"),
        ("胸痛中心", "03", ""),  # says nothing of its subject: left for the hospital to record
        ("呼吸与危重症医学科", "03", "03.01"),
        ("风湿免疫科", "03", "03.08"),
        ("内科", "03", ""),
        (
            "神经外科",
            "04",
            "04.02",
        ),  # never 03.03 神经内科: rules of other first-level subjects are not checked
        ("神经内科", "04", ""),  # a name of another first-level subject than the recorded one: no guess
        ("心胸外科", "04", ""),  # 胸外科 or 心脏大血管外科: the hospital's choice
        ("妇产科", "05", ""),  # undivided, although "产科" is in its name
        ("产科", "05", "05.02"),
        ("妇科", "05", "05.01"),
        ("新生儿科", "07", "07.01"),
        ("中医内科", "50", ""),
    ],
)
def test_names_the_migration_recognises(name, specialty, expected):
    assert subject_from_name(name, specialty) == expected


def test_the_migration_fills_blank_subjects_from_names_only(world):
    cardiology = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    chest_pain = DepartmentFactory(institution=world.hospital, name="胸痛中心", specialty="03")
    obstetrics = DepartmentFactory(institution=world.hospital, name="妇产科", specialty="05")
    recorded = DepartmentFactory(
        institution=world.hospital, name="老年心血管科", specialty="03", subject="03.10"
    )
    assert migration.fill_subjects(django_apps, None) == 1
    subjects = dict(Department.objects.values_list("name", "subject"))
    assert subjects[cardiology.name] == "03.04"
    assert subjects[chest_pain.name] == subjects[obstetrics.name] == ""
    assert subjects[recorded.name] == "03.10"  # a recorded subject is never overwritten
