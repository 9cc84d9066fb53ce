"""Capacity-building services: behaviour, who may act, bad input (nothing saved), audit events."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from yilian.capacity_building import selectors, services
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
from yilian.capacity_building.tests.factories import (
    attend,
    cap_world,
    course,
    device,
    fellowship,
    maintenance,
    technique,
)
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def cw(world):
    return cap_world(world)


def _events(action):
    return AuditEvent.objects.filter(action=action).count()


# Courses -----------------------------------------------------------------------------------------


def _create(cw, actor=None, **extra):
    values = {
        "organiser": cw.world.hospital,
        "organiser_department": cw.cardiology,
        "kind": "teaching_round",
        "title": "胸痛中心教学查房",
        "trainers": "王主任",
        "starts_on": TODAY(),
        "place": "心内科示教室",
        "hours": Decimal("2"),
    }
    values.update(extra)
    return services.course_create(actor=actor or cw.teacher, **values)


def test_course_published_signed_in_and_closed(cw, world):
    created = _create(cw)
    assert created.consortium == world.consortium
    assert created.status == CourseStatus.PLANNED
    rows = services.attendance_record_many(
        actor=cw.teacher, course=created, users=[cw.township_doctor, cw.township_nurse]
    )
    assert {row.institution for row in rows} == {world.township}
    external = services.attendance_record(
        actor=cw.teacher, course=created, name="张三", institution_name="某民营诊所"
    )
    assert external.institution is None
    assert created.attendances.count() == 3
    closed = services.course_close(actor=cw.teacher, course=created)
    assert closed.status == CourseStatus.HELD
    assert _events("course.create") == 1
    assert _events("course.sign_in") == 3
    assert _events("course.close") == 1


def test_no_double_sign_in(cw, world):
    created = _create(cw)
    services.attendance_record(actor=cw.teacher, course=created, user=cw.township_doctor)
    with pytest.raises(Conflict):
        services.attendance_record_many(
            actor=cw.teacher, course=created, users=[cw.township_nurse, cw.township_doctor]
        )
    assert created.attendances.count() == 1  # all or nothing: the nurse was not signed in either
    services.attendance_record(actor=cw.teacher, course=created, name="张三", institution_name="某诊所")
    with pytest.raises(Conflict):
        services.attendance_record(actor=cw.teacher, course=created, name="张三", institution_name="某诊所")


def test_sign_in_refused_outside_the_consortium_and_audience(cw, world):
    created = _create(cw, open_to_all_members=False, audience=[world.township])
    with pytest.raises(Invalid) as error:
        services.attendance_record(actor=cw.teacher, course=created, user=cw.outsider_admin)
    assert "users" in error.value.errors
    assert not TrainingAttendance.objects.exists()


def test_sign_in_before_the_course_or_after_cancel(cw):
    later = _create(cw, starts_on=TODAY() + datetime.timedelta(days=3))
    with pytest.raises(Conflict):
        services.attendance_record(actor=cw.teacher, course=later, user=cw.township_doctor)
    services.course_cancel(actor=cw.teacher, course=later, reason="专家临时出诊")
    with pytest.raises(Conflict):
        services.course_cancel(actor=cw.teacher, course=later, reason="再次取消")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": ""}, "title"),
        ({"trainers": "  "}, "trainers"),
        ({"ends_on": TODAY() - datetime.timedelta(days=1)}, "ends_on"),
        ({"hours": Decimal("-1")}, "hours"),
        ({"kind": "party"}, "kind"),
        ({"place": "", "venue": None}, "place"),
        ({"open_to_all_members": False}, "audience"),
    ],
)
def test_course_bad_input_saves_nothing(cw, extra, field):
    with pytest.raises(Invalid) as error:
        _create(cw, **extra)
    assert field in error.value.errors
    assert not TrainingCourse.objects.exists()
    assert not AuditEvent.objects.filter(action="course.create").exists()


def test_venue_must_be_a_member(cw, world):
    with pytest.raises(Invalid) as error:
        _create(cw, venue=world.outsider)
    assert "venue" in error.value.errors


@pytest.mark.parametrize("who", ["township_admin", "office", "regulator", "outsider_doctor", "stranger"])
def test_only_the_organisers_staff_publish(cw, world, who):
    with pytest.raises(NotAllowed):
        _create(cw, actor=getattr(world, who))


def test_others_may_not_record_sign_ins(cw, world):
    created = _create(cw)
    for actor in (world.township_admin, cw.township_doctor, world.office):
        with pytest.raises(NotAllowed):
            services.attendance_record(actor=actor, course=created, user=cw.township_doctor)


def test_course_update_version_and_status(cw):
    created = _create(cw)
    updated = services.course_update(actor=cw.teacher, course=created, expected_version=1, title="新的题目")
    assert updated.title == "新的题目" and updated.version == 2
    with pytest.raises(Conflict):
        services.course_update(actor=cw.teacher, course=created, expected_version=1, title="旧版本")


def test_courses_visible_to(cw, world):
    open_course = course(cw)
    listed = course(cw, title="仅面向县内某院", open_to_all_members=False)
    listed.audience.set([world.hospital])
    visible = set(selectors.course_visible_to(cw.township_doctor))
    assert open_course in visible and listed not in visible
    attend(listed, cw.township_doctor, world.township)
    assert listed in set(selectors.course_visible_to(cw.township_doctor))
    assert set(selectors.course_visible_to(world.office)) == {open_course, listed}
    assert set(selectors.course_visible_to(world.regulator)) == {open_course, listed}
    assert not selectors.course_visible_to(cw.outsider_admin).exists()
    assert not selectors.course_visible_to(world.stranger).exists()


# Fellowships -------------------------------------------------------------------------------------


def _apply(cw, actor=None, **extra):
    values = {
        "trainee": cw.township_doctor,
        "home_institution": cw.world.township,
        "host_department": cw.cardiology,
        "supervisor": cw.teacher,
        "planned_start": TODAY(),
        "planned_months": 6,
        "specialty_goal": "心电图判读与胸痛识别",
    }
    values.update(extra)
    return services.fellowship_apply(actor=actor or cw.world.township_admin, **values)


def test_fellowship_workflow(cw, world):
    applied = _apply(cw)
    assert applied.status == FellowshipStatus.PLANNED and applied.host_institution == world.hospital
    started = services.fellowship_start(actor=world.hospital_admin, fellowship=applied, expected_version=1)
    assert started.status == FellowshipStatus.IN_PROGRESS and started.started_on == TODAY()
    with pytest.raises(Invalid) as error:
        services.fellowship_complete(actor=cw.teacher, fellowship=started, assessment="good")
    assert "certificate_number" in error.value.errors
    done = services.fellowship_complete(
        actor=cw.teacher, fellowship=started, assessment="good", certificate_number="JX2026-001"
    )
    assert done.status == FellowshipStatus.COMPLETED and done.ended_on == TODAY()
    assert [e.action for e in selectors.record_history(done)] == [
        "fellowship.apply",
        "fellowship.start",
        "fellowship.complete",
    ]
    with pytest.raises(Conflict):
        services.fellowship_withdraw(actor=world.township_admin, fellowship=done, reason="晚了")


def test_fellowship_withdraw_and_a_new_application(cw, world):
    applied = _apply(cw)
    with pytest.raises(Conflict):
        _apply(cw)
    with pytest.raises(Invalid):
        services.fellowship_withdraw(actor=world.township_admin, fellowship=applied, reason="")
    withdrawn = services.fellowship_withdraw(
        actor=world.township_admin, fellowship=applied, reason="科室人手紧张"
    )
    assert withdrawn.status == FellowshipStatus.WITHDRAWN
    assert _apply(cw).status == FellowshipStatus.PLANNED


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"planned_months": 13}, "planned_months"),
        ({"planned_months": 0}, "planned_months"),
        ({"planned_start": None}, "planned_start"),
        ({"trainee": "outsider"}, "trainee"),
        ({"supervisor": "township_nurse"}, "supervisor"),
        ({"host_department": "general"}, "host_department"),
    ],
)
def test_fellowship_bad_input_saves_nothing(cw, extra, field):
    resolved = {}
    for key, value in extra.items():
        if value == "outsider":
            value = cw.outsider_admin
        elif value == "township_nurse":
            value = cw.township_nurse
        elif value == "general":
            value = cw.general
        resolved[key] = value
    with pytest.raises(Invalid) as error:
        _apply(cw, **resolved)
    assert field in error.value.errors
    assert not Fellowship.objects.exists()


@pytest.mark.parametrize(
    "who", ["hospital_admin", "office", "regulator", "outsider_doctor", "hospital_doctor"]
)
def test_only_the_members_admin_applies(cw, world, who):
    with pytest.raises(NotAllowed):
        _apply(cw, actor=getattr(world, who))


def test_only_the_host_runs_it(cw, world):
    applied = _apply(cw)
    for actor in (world.township_admin, cw.township_doctor, world.office, world.hospital_doctor):
        with pytest.raises(NotAllowed):
            services.fellowship_start(actor=actor, fellowship=applied)
    with pytest.raises(Conflict):
        services.fellowship_start(actor=world.hospital_admin, fellowship=applied, expected_version=7)


def test_fellowships_visible_to(cw, world):
    mine = fellowship(cw)
    assert set(selectors.fellowship_visible_to(cw.township_doctor)) == {mine}
    assert set(selectors.fellowship_visible_to(world.hospital_doctor)) == {mine}
    assert set(selectors.fellowship_visible_to(world.office)) == {mine}
    assert set(selectors.fellowship_visible_to(world.regulator)) == {mine}
    assert not selectors.fellowship_visible_to(cw.outsider_admin).exists()


# Techniques --------------------------------------------------------------------------------------


def _record(cw, actor=None, **extra):
    values = {
        "institution": cw.world.township,
        "name": "动态血压监测",
        "category": "diagnostic",
        "supporting_department": cw.cardiology,
        "expert": cw.teacher,
        "introduced_on": TODAY(),
        "cases_to_date": 5,
    }
    values.update(extra)
    return services.technique_record(actor=actor or cw.world.township_admin, **values)


def test_technique_recorded_confirmed_and_counted(cw, world):
    recorded = _record(cw)
    assert recorded.status == TechniqueStatus.RECORDED and recorded.case_updates.count() == 1
    with pytest.raises(NotAllowed):
        services.technique_review(actor=world.township_admin, technique=recorded, confirm=True)
    confirmed = services.technique_review(actor=world.office, technique=recorded, confirm=True)
    assert confirmed.status == TechniqueStatus.CONFIRMED
    with pytest.raises(Conflict):
        services.technique_review(actor=world.office, technique=recorded, confirm=False, note="再次")
    services.technique_report_cases(actor=cw.township_doctor, technique=recorded, cases_to_date=12)
    recorded.refresh_from_db()
    assert recorded.cases_to_date == 12
    with pytest.raises(Invalid):
        services.technique_report_cases(actor=cw.township_doctor, technique=recorded, cases_to_date=3)
    counts = selectors.annual_counts(institution_ids=[world.township.pk], year=TODAY().year)
    assert counts[world.township.pk].techniques_introduced == 1


def test_technique_returned_needs_a_note_and_frees_the_name(cw, world):
    recorded = _record(cw)
    with pytest.raises(Invalid):
        services.technique_review(actor=world.office, technique=recorded, confirm=False)
    services.technique_review(actor=world.office, technique=recorded, confirm=False, note="请补充资质材料")
    assert _record(cw).status == TechniqueStatus.RECORDED


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"name": ""}, "name"),
        ({"category": "magic"}, "category"),
        ({"introduced_on": TODAY() + datetime.timedelta(days=2)}, "introduced_on"),
        ({"cases_to_date": -1}, "cases_to_date"),
        ({"supporting_department": None}, "supporting_department"),
    ],
)
def test_technique_bad_input(cw, extra, field):
    with pytest.raises(Invalid) as error:
        _record(cw, **extra)
    assert field in error.value.errors
    assert not TechniqueTransfer.objects.exists()


def test_technique_duplicate_name(cw):
    _record(cw)
    with pytest.raises(Invalid) as error:
        _record(cw)
    assert "name" in error.value.errors


@pytest.mark.parametrize("who", ["hospital_admin", "office", "regulator", "outsider_doctor"])
def test_only_the_members_admin_records(cw, world, who):
    with pytest.raises(NotAllowed):
        _record(cw, actor=getattr(world, who))


# Devices and maintenance -------------------------------------------------------------------------


def _register(cw, actor=None, **extra):
    values = {
        "donor": cw.world.hospital,
        "recipient": cw.world.township,
        "device_type": "ecg",
        "name": "十二导心电图机",
        "model": "ECG-1200",
        "serial_number": "ECG-0001",
        "value": Decimal("26000"),
        "support_kind": SupportKind.DONATED,
        "delivered_on": TODAY(),
    }
    values.update(extra)
    return services.device_register(actor=actor or cw.world.hospital_admin, **values)


def test_device_and_repair_flow(cw, world):
    donated = _register(cw, actor=cw.engineer)
    assert donated.consortium == world.consortium
    request = services.maintenance_request(
        actor=cw.township_doctor, device=donated, fault_description="打印无字迹"
    )
    assert request.status == MaintenanceStatus.REQUESTED and request.number.startswith("WX")
    with pytest.raises(Conflict):
        services.maintenance_request(actor=cw.township_nurse, device=donated, fault_description="又坏了")
    assert list(selectors.maintenance_list(cw.engineer, selectors.MaintenanceFilters(box="worklist"))) == [
        request
    ]
    taken = services.maintenance_take(actor=cw.engineer, request=request)
    assert taken.engineer == cw.engineer and taken.status == MaintenanceStatus.ASSIGNED
    with pytest.raises(Conflict):
        services.maintenance_take(actor=cw.engineer2, request=request)
    with pytest.raises(NotAllowed):
        services.maintenance_complete(
            actor=cw.engineer2, request=taken, outcome="repaired", work_done="换打印头"
        )
    done = services.maintenance_complete(
        actor=cw.engineer, request=taken, outcome="repaired", work_done="更换热敏打印头", parts="打印头"
    )
    assert done.status == MaintenanceStatus.REPAIRED and done.cost == 0
    assert (
        selectors.annual_counts(institution_ids=[world.township.pk], year=TODAY().year)[
            world.township.pk
        ].maintenance_completed
        == 1
    )


def test_lent_device_return(cw, world):
    lent = _register(
        cw,
        support_kind=SupportKind.LENT,
        lent_until=TODAY() + datetime.timedelta(days=180),
        device_type="ultrasound",
    )
    open_request = services.maintenance_request(
        actor=cw.township_doctor, device=lent, fault_description="探头异响"
    )
    with pytest.raises(Conflict):
        services.device_return(actor=world.hospital_admin, device=lent)
    services.maintenance_cancel(actor=cw.township_doctor, request=open_request, reason="已自行恢复")
    returned = services.device_return(actor=world.hospital_admin, device=lent)
    assert returned.returned_on == TODAY()
    with pytest.raises(Conflict):
        services.device_return(actor=world.hospital_admin, device=returned)
    with pytest.raises(Conflict):
        services.maintenance_request(actor=cw.township_doctor, device=returned, fault_description="x")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"serial_number": ""}, "serial_number"),
        ({"support_kind": SupportKind.LENT}, "lent_until"),
        ({"lent_until": TODAY() + datetime.timedelta(days=5)}, "lent_until"),
        ({"value": Decimal("-5")}, "value"),
        ({"device_type": "toaster"}, "device_type"),
        ({"delivered_on": TODAY() + datetime.timedelta(days=1)}, "delivered_on"),
        ({"recipient": "outsider"}, "recipient"),
    ],
)
def test_device_bad_input(cw, world, extra, field):
    if extra.get("recipient") == "outsider":
        extra = {"recipient": world.outsider}
    with pytest.raises(Invalid) as error:
        _register(cw, **extra)
    assert field in error.value.errors
    assert not SupportedDevice.objects.exists()


def test_duplicate_serial(cw):
    _register(cw)
    with pytest.raises(Invalid) as error:
        _register(cw)
    assert "serial_number" in error.value.errors


@pytest.mark.parametrize("who", ["township_admin", "office", "regulator", "hospital_doctor"])
def test_only_the_donor_registers(cw, world, who):
    with pytest.raises(NotAllowed):
        _register(cw, actor=getattr(world, who))


def test_repair_permissions_and_bad_input(cw, world):
    ecg = device(cw)
    with pytest.raises(NotAllowed):
        services.maintenance_request(actor=world.hospital_doctor, device=ecg, fault_description="坏了")
    with pytest.raises(Invalid):
        services.maintenance_request(actor=cw.township_doctor, device=ecg, fault_description="  ")
    assert not MaintenanceRequest.objects.exists()
    request = maintenance(cw, ecg)
    for actor in (cw.township_tech, world.hospital_doctor, world.office):
        with pytest.raises(NotAllowed):
            services.maintenance_take(actor=actor, request=request)
    with pytest.raises(Invalid):
        services.maintenance_assign(
            actor=world.hospital_admin, request=request, engineer=world.hospital_doctor
        )
    assigned = services.maintenance_assign(actor=world.hospital_admin, request=request, engineer=cw.engineer2)
    assert assigned.engineer == cw.engineer2
    with pytest.raises(Invalid) as error:
        services.maintenance_complete(
            actor=cw.engineer2, request=assigned, outcome="repaired", work_done="", cost=Decimal("-1")
        )
    assert {"work_done", "cost"} <= set(error.value.errors)
    with pytest.raises(Conflict):
        services.maintenance_cancel(actor=cw.township_doctor, request=assigned, reason="不修了")


def test_devices_and_requests_visible_to(cw, world):
    ecg = device(cw)
    request = maintenance(cw, ecg)
    for actor in (cw.township_doctor, cw.engineer, world.office, world.regulator):
        assert list(selectors.device_visible_to(actor)) == [ecg]
        assert list(selectors.maintenance_visible_to(actor)) == [request]
    assert not selectors.device_visible_to(cw.outsider_admin).exists()
    assert not selectors.maintenance_visible_to(world.stranger).exists()


def test_statistics_scope(cw, world):
    assert list(selectors.statistics_consortia(world.office)) == [world.consortium]
    assert [i.pk for i in selectors.figures_scope(world.township_admin, world.consortium)] == [
        world.township.pk
    ]
    assert {i.pk for i in selectors.figures_scope(world.hospital_admin, world.consortium)} == {
        world.hospital.pk,
        world.township.pk,
    }
    assert not selectors.statistics_consortia(cw.outsider_admin).exists()
    assert not selectors.statistics_consortia(world.stranger).exists()


def test_only_confirmed_techniques_and_held_courses_count(cw, world):
    technique(cw, status=TechniqueStatus.REJECTED)
    fellowship(cw, status=FellowshipStatus.WITHDRAWN)
    counts = selectors.annual_counts(institution_ids=[world.township.pk], year=TODAY().year)[
        world.township.pk
    ]
    assert counts.techniques_introduced == 0 and counts.fellows_started == 0


def test_notifications(cw, world):
    from yilian.notifications.models import Notification

    ecg = device(cw)
    request = services.maintenance_request(actor=cw.township_doctor, device=ecg, fault_description="无法开机")
    assert Notification.objects.filter(recipient=cw.engineer, topic="maintenance.requested").exists()
    assert not Notification.objects.filter(recipient=cw.township_doctor).exists()
    taken = services.maintenance_take(actor=cw.engineer, request=request)
    services.maintenance_complete(actor=cw.engineer, request=taken, outcome="repaired", work_done="更换电源")
    assert set(Notification.objects.filter(recipient=cw.township_doctor).values_list("topic", flat=True)) == {
        "maintenance.take",
        "maintenance.complete",
    }
    _apply(cw)
    assert Notification.objects.filter(recipient=world.hospital_admin, topic="fellowship.applied").exists()
    assert Notification.objects.filter(recipient=cw.teacher, topic="fellowship.applied").exists()
    _record(cw)
    assert Notification.objects.filter(recipient=world.office, topic="technique.recorded").exists()
