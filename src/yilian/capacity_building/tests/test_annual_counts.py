"""The yearly counts the annual report reads: right figures, every id present, constant queries."""

from __future__ import annotations

import datetime

from django.utils import timezone

from yilian.capacity_building.choices import (
    CourseStatus,
    FellowshipStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueStatus,
)
from yilian.capacity_building.selectors import CapacityCounts, annual_counts
from yilian.capacity_building.tests.factories import (
    attend,
    cap_world,
    course,
    device,
    fellowship,
    maintenance,
    technique,
)
from yilian.core.testing import assert_queries


def test_counts_per_member_and_year(world):
    cw = cap_world(world)
    year = timezone.localdate().year
    this_year = datetime.date(year, 3, 10)
    last_year = datetime.date(year - 1, 6, 1)

    held = course(cw, starts_on=this_year)
    attend(held, cw.township_doctor, world.township)
    attend(held, cw.township_nurse, world.township)
    second = course(cw, starts_on=datetime.date(year, 4, 1), venue=world.township)
    attend(second, cw.township_doctor, world.township)
    course(cw, starts_on=datetime.date(year, 5, 1), venue=world.township, status=CourseStatus.CANCELLED)
    old = course(cw, starts_on=last_year)
    attend(old, cw.township_nurse, world.township)

    fellowship(
        cw,
        status=FellowshipStatus.COMPLETED,
        started_on=datetime.date(year, 1, 5),
        ended_on=datetime.date(year, 7, 5),
        assessment="good",
    )
    fellowship(cw, trainee=cw.township_nurse, status=FellowshipStatus.IN_PROGRESS, started_on=this_year)

    technique(cw, status=TechniqueStatus.CONFIRMED, introduced_on=this_year)
    technique(cw, name="中医针刺", status=TechniqueStatus.RECORDED, introduced_on=this_year)

    ecg = device(cw, delivered_on=this_year)
    device(
        cw,
        serial="SN-2",
        support_kind=SupportKind.LENT,
        delivered_on=this_year,
        lent_until=datetime.date(year + 1, 1, 1),
    )
    device(cw, serial="SN-3", delivered_on=last_year)
    maintenance(
        cw,
        ecg,
        status=MaintenanceStatus.REPAIRED,
        engineer=cw.engineer,
        completed_on=datetime.date(year, 8, 1),
    )
    maintenance(cw, device(cw, serial="SN-4", delivered_on=last_year))

    with assert_queries(7):
        counts = annual_counts(institution_ids=[world.township.pk, world.outsider.pk], year=year)

    assert counts[world.township.pk] == CapacityCounts(
        courses=2,
        course_person_times=3,
        course_trainees=2,
        fellows_started=2,
        fellows_completed=1,
        techniques_introduced=1,
        devices_supported=2,
        devices_donated=1,
        devices_lent=1,
        maintenance_completed=1,
    )
    assert counts[world.outsider.pk] == CapacityCounts()
    # The organiser counts the courses it held, not its staff's person-times.
    hospital = annual_counts(institution_ids=[world.hospital.pk], year=year)[world.hospital.pk]
    assert hospital.courses == 2
    assert hospital.course_person_times == 0
    assert annual_counts(institution_ids=[], year=year) == {}


def test_query_count_does_not_grow_with_institutions(world):
    cw = cap_world(world)
    course_row = course(cw)
    attend(course_row, cw.township_doctor, world.township)
    ids = [world.township.pk, world.outsider.pk, world.hospital.pk]
    with assert_queries(7):
        annual_counts(institution_ids=ids, year=timezone.localdate().year)
