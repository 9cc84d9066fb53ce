"""The capacity-building side of ``seed-demo``: every state is present, the pages have content for
their demo accounts, the figures agree, and a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from yilian.accounts.models import User
from yilian.capacity_building import selectors
from yilian.capacity_building.choices import (
    CourseStatus,
    FellowshipStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueStatus,
)
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)
from yilian.core.models import AuditEvent
from yilian.institutions.models import Consortium

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "40", "--village-limit", "2", "--referral-months", "2")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded() -> str:
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_every_state_and_the_live_records(seeded):
    county = Consortium.objects.get(type="county_community")
    courses = TrainingCourse.objects.filter(consortium=county)
    assert courses.filter(status=CourseStatus.HELD).count() >= 40
    assert (
        courses.filter(status=CourseStatus.PLANNED).exists()
        and courses.filter(status=CourseStatus.CANCELLED).exists()
    )
    assert TrainingAttendance.objects.filter(user__username="township_doctor").exists()
    assert TrainingAttendance.objects.filter(user__isnull=True, institution__isnull=False).count() > 100
    if User.objects.filter(username__startswith="fd_").exists():
        # The family-doctor teams' roster staff are signed in by account too.
        assert TrainingAttendance.objects.filter(user__username__startswith="fd_").exists()
    assert set(Fellowship.objects.values_list("status", flat=True)) == set(FellowshipStatus.values)
    assert set(TechniqueTransfer.objects.values_list("status", flat=True)) == set(TechniqueStatus.values)
    assert TechniqueTransfer.objects.count() >= 12
    assert set(MaintenanceRequest.objects.values_list("status", flat=True)) == set(MaintenanceStatus.values)
    assert SupportedDevice.objects.filter(support_kind=SupportKind.LENT).exists()
    assert SupportedDevice.objects.filter(
        device_type="ecg", recipient__category__startswith="D"
    ).exists() or (SupportedDevice.objects.filter(device_type="ecg").count() > 3)
    # The live ones went through the services, with their audit events.
    for action in (
        "course.create",
        "course.sign_in",
        "fellowship.apply",
        "technique.record",
        "maintenance.take",
    ):
        assert AuditEvent.objects.filter(action=action).exists(), action
    engineer = User.objects.get(username="engineer")
    worklist = selectors.maintenance_list(engineer, selectors.MaintenanceFilters(box="worklist"))
    assert worklist.filter(engineer=engineer).exists() and worklist.filter(status="requested").exists()
    # The yearly figures of the township agree with the rows.
    township = User.objects.get(username="township_doctor").memberships.get().institution
    counts = selectors.annual_counts(institution_ids=[township.pk], year=timezone.localdate().year)[
        township.pk
    ]
    assert (
        counts.course_person_times
        == TrainingAttendance.objects.filter(
            institution=township, course__starts_on__year=timezone.localdate().year
        )
        .exclude(course__status=CourseStatus.CANCELLED)
        .count()
    )

    # Pages have content for their accounts.
    for username, url, marker in (
        ("doctor", "/capacity/?box=organised", 'data-testid="course-row"'),
        ("township_doctor", "/capacity/?box=attended", 'data-testid="course-row"'),
        ("hospital_admin", "/capacity/fellowships/", 'data-testid="fellowship-row"'),
        ("office", "/capacity/techniques/?status=recorded", 'data-testid="technique-row"'),
        ("engineer", "/capacity/maintenance/?box=worklist", 'data-testid="maintenance-row"'),
        ("township_admin", "/capacity/devices/", 'data-testid="device-row"'),
        ("office", "/capacity/statistics/", 'data-testid="statistics-row"'),
    ):
        response = client_for(username).get(url)
        assert response.status_code == 200, (username, url)
        assert marker in response.content.decode(), (username, url)

    # A second run changes nothing.
    before = (courses.count(), TrainingAttendance.objects.count(), MaintenanceRequest.objects.count())
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert (courses.count(), TrainingAttendance.objects.count(), MaintenanceRequest.objects.count()) == before
