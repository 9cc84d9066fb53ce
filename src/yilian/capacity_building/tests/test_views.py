"""Capacity-building pages: who gets each page, the forms and action panels end to end, bad input
re-rendered (400) with nothing saved, Excel exports, list query counts constant in the rows."""

from __future__ import annotations

import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from yilian.capacity_building.choices import FellowshipStatus, MaintenanceStatus, TechniqueStatus
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueTransfer,
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

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def cw(world):
    return cap_world(world)


def _client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


LISTS = [
    "/capacity/",
    "/capacity/fellowships/",
    "/capacity/techniques/",
    "/capacity/devices/",
    "/capacity/maintenance/",
]


@pytest.mark.parametrize("url", LISTS)
def test_lists_by_role(cw, world, url):
    assert _client(None).get(url).status_code == 302
    assert _client(world.stranger).get(url).status_code == 403
    for user in (
        world.office,
        world.regulator,
        world.admin,
        world.hospital_admin,
        cw.township_doctor,
        cw.engineer,
    ):
        assert _client(user).get(url).status_code == 200, (user, url)


def _detail_urls(cw):
    items = {
        "course": course(cw),
        "fellowship": fellowship(cw),
        "technique": technique(cw),
        "device": device(cw),
    }
    items["maintenance-detail"] = maintenance(cw, items["device"])
    paths = {
        "course": "/capacity/courses/{}/",
        "fellowship": "/capacity/fellowships/{}/",
        "technique": "/capacity/techniques/{}/",
        "device": "/capacity/devices/{}/",
        "maintenance-detail": "/capacity/maintenance/{}/",
    }
    return [paths[name].format(obj.public_id) for name, obj in items.items()]


def test_details_for_the_concerned_and_oversight_only(cw, world):
    urls = _detail_urls(cw)
    for url in urls:
        for user in (world.office, world.regulator, world.admin, world.hospital_admin, world.township_admin):
            assert _client(user).get(url).status_code == 200, (user, url)
        assert _client(cw.outsider_admin).get(url).status_code == 404, url
        assert _client(world.stranger).get(url).status_code in (403, 404), url
        assert _client(None).get(url).status_code == 302


def test_oversight_sees_no_action_panel(cw, world):
    for url in _detail_urls(cw):
        body = _client(world.regulator).get(url).content.decode()
        assert 'data-testid="action-panel"' not in body, url


def test_course_published_signed_in_and_closed_in_the_browser_forms(cw, world):
    client = _client(cw.teacher)
    assert client.get("/capacity/courses/new/").status_code == 200
    bad = client.post(
        "/capacity/courses/new/",
        {
            "organiser": world.hospital.public_id,
            "kind": "lecture",
            "title": "",
            "trainers": "王主任",
            "mode": "on_site",
            "place": "礼堂",
            "starts_on": TODAY().isoformat(),
            "open_to_all_members": "on",
        },
    )
    assert bad.status_code == 400 and not TrainingCourse.objects.exists()
    response = client.post(
        "/capacity/courses/new/",
        {
            "organiser": world.hospital.public_id,
            "organiser_department": cw.cardiology.public_id,
            "kind": "lecture",
            "title": "基层高血压规范管理",
            "trainers": "王主任",
            "mode": "on_site",
            "place": "礼堂",
            "starts_on": TODAY().isoformat(),
            "hours": "3",
            "open_to_all_members": "on",
        },
    )
    created = TrainingCourse.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/capacity/courses/{created.public_id}/"
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="action-sign_in"' in page and cw.township_doctor.full_name in page
    signed = client.post(
        f"/capacity/courses/{created.public_id}/act/sign_in/",
        {"sign_in-users": [cw.township_doctor.public_id, cw.township_nurse.public_id]},
    )
    assert signed.status_code == 302 and created.attendances.count() == 2
    again = client.post(
        f"/capacity/courses/{created.public_id}/act/sign_in/",
        {"sign_in-name": "张三", "sign_in-institution_name": ""},
    )
    assert again.status_code == 400 and created.attendances.count() == 2
    sheet = client.get(f"/capacity/courses/{created.public_id}/sign-in-sheet.xlsx")
    assert sheet.status_code == 200
    assert load_workbook(io.BytesIO(sheet.content)).active.max_row == 4
    assert client.post(f"/capacity/courses/{created.public_id}/act/close/").status_code == 302
    created.refresh_from_db()
    assert created.status == "held"
    # The township doctor sees it under "attended", but gets no action panel.
    mine = _client(cw.township_doctor).get("/capacity/?box=attended").content.decode()
    assert "基层高血压规范管理" in mine
    assert (
        _client(cw.township_doctor)
        .post(f"/capacity/courses/{created.public_id}/act/cancel/", {"cancel-reason": "x"})
        .status_code
        == 403
    )


def test_fellowship_through_the_pages(cw, world):
    admin = _client(world.township_admin)
    assert admin.get("/capacity/fellowships/new/").status_code == 200
    bad = admin.post(
        "/capacity/fellowships/new/",
        {
            "home_institution": world.township.public_id,
            "trainee": cw.township_doctor.public_id,
            "host_department": cw.cardiology.public_id,
            "planned_start": TODAY().isoformat(),
            "planned_months": "13",
        },
    )
    assert bad.status_code == 400 and not Fellowship.objects.exists()
    made = admin.post(
        "/capacity/fellowships/new/",
        {
            "home_institution": world.township.public_id,
            "trainee": cw.township_doctor.public_id,
            "host_department": cw.cardiology.public_id,
            "supervisor": cw.teacher.public_id,
            "planned_start": TODAY().isoformat(),
            "planned_months": "6",
        },
    )
    assert made.status_code == 302
    item = Fellowship.objects.get()
    host = _client(world.hospital_admin)
    assert (
        host.post(
            f"/capacity/fellowships/{item.public_id}/act/start/",
            {"start-started_on": TODAY().isoformat(), "start-version": "1"},
        ).status_code
        == 302
    )
    stale = host.post(
        f"/capacity/fellowships/{item.public_id}/act/withdraw/",
        {"withdraw-reason": "x", "withdraw-version": "1"},
    )
    assert stale.status_code == 302
    item.refresh_from_db()
    assert item.status == FellowshipStatus.IN_PROGRESS  # the stale version lost
    done = _client(cw.teacher).post(
        f"/capacity/fellowships/{item.public_id}/act/complete/",
        {
            "complete-assessment": "excellent",
            "complete-certificate_number": "JX-1",
            "complete-ended_on": TODAY().isoformat(),
        },
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == FellowshipStatus.COMPLETED
    page = _client(world.township_admin).get(f"/capacity/fellowships/{item.public_id}/").content.decode()
    assert "JX-1" in page and 'data-testid="history-step"' in page


def test_technique_through_the_pages(cw, world):
    admin = _client(world.township_admin)
    assert admin.get("/capacity/techniques/new/").status_code == 200
    made = admin.post(
        "/capacity/techniques/new/",
        {
            "institution": world.township.public_id,
            "name": "中医针刺治疗颈椎病",
            "category": "tcm",
            "supporting_department": cw.cardiology.public_id,
            "introduced_on": TODAY().isoformat(),
            "cases_to_date": "3",
        },
    )
    assert made.status_code == 302
    item = TechniqueTransfer.objects.get()
    office = _client(world.office)
    assert (
        'data-testid="action-review"'
        in office.get(f"/capacity/techniques/{item.public_id}/").content.decode()
    )
    assert (
        office.post(
            f"/capacity/techniques/{item.public_id}/act/review/", {"review-decision": "reject"}
        ).status_code
        == 400
    )
    assert (
        office.post(
            f"/capacity/techniques/{item.public_id}/act/review/", {"review-decision": "confirm"}
        ).status_code
        == 302
    )
    item.refresh_from_db()
    assert item.status == TechniqueStatus.CONFIRMED
    lower = _client(cw.township_doctor).post(
        f"/capacity/techniques/{item.public_id}/act/cases/",
        {"cases-cases_to_date": "1", "cases-as_of": TODAY().isoformat()},
    )
    assert lower.status_code == 400


def test_device_and_repair_through_the_pages(cw, world):
    hospital = _client(world.hospital_admin)
    assert hospital.get("/capacity/devices/new/").status_code == 200
    made = hospital.post(
        "/capacity/devices/new/",
        {
            "donor": world.hospital.public_id,
            "recipient": world.township.public_id,
            "device_type": "ecg",
            "name": "心电图机",
            "serial_number": "E-9",
            "support_kind": "lent",
            "delivered_on": TODAY().isoformat(),
        },
    )
    assert made.status_code == 400 and not SupportedDevice.objects.exists()  # lent without a due date
    made = hospital.post(
        "/capacity/devices/new/",
        {
            "donor": world.hospital.public_id,
            "recipient": world.township.public_id,
            "device_type": "ecg",
            "name": "心电图机",
            "serial_number": "E-9",
            "support_kind": "lent",
            "delivered_on": TODAY().isoformat(),
            "lent_until": (TODAY() + datetime.timedelta(days=90)).isoformat(),
        },
    )
    assert made.status_code == 302
    ecg = SupportedDevice.objects.get()
    doctor = _client(cw.township_doctor)
    assert (
        doctor.post(
            f"/capacity/devices/{ecg.public_id}/act/report/", {"report-fault_description": "导联线断裂"}
        ).status_code
        == 302
    )
    item = MaintenanceRequest.objects.get()
    engineer = _client(cw.engineer)
    assert item.number in engineer.get("/capacity/maintenance/?box=worklist").content.decode()
    assert engineer.post(f"/capacity/maintenance/{item.public_id}/act/take/").status_code == 302
    # A second engineer with a stale page gets the conflict message, not an error.
    late = _client(cw.engineer2).post(f"/capacity/maintenance/{item.public_id}/act/take/", follow=True)
    assert late.status_code in (200, 403)
    closed = engineer.post(
        f"/capacity/maintenance/{item.public_id}/act/complete/",
        {
            "complete-outcome": "repaired",
            "complete-work_done": "更换导联线",
            "complete-parts": "导联线",
            "complete-cost": "0",
            "complete-completed_on": TODAY().isoformat(),
            "complete-version": "2",
        },
    )
    assert closed.status_code == 302
    item.refresh_from_db()
    assert item.status == MaintenanceStatus.REPAIRED
    assert item.number in doctor.get("/capacity/maintenance/?box=requests").content.decode()


def test_statistics_page_and_export(cw, world):
    held = course(cw)
    attend(held, cw.township_doctor, world.township)
    technique(cw, status=TechniqueStatus.CONFIRMED)
    for user in (world.office, world.regulator, world.hospital_admin, world.township_admin, world.admin):
        assert _client(user).get("/capacity/statistics/").status_code == 200, user
    for user in (cw.township_doctor, world.stranger):
        assert _client(user).get("/capacity/statistics/").status_code == 403
    page = _client(world.office).get(
        f"/capacity/statistics/?consortium={world.consortium.public_id}&year={TODAY().year}"
    )
    assert world.township.name in page.content.decode()
    export = _client(world.office).get(
        f"/capacity/statistics/export.xlsx?consortium={world.consortium.public_id}&year={TODAY().year}"
    )
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    township = next(row for row in rows if row[0] == world.township.name)
    assert township[2:5] == (1, 1, 1) and township[7] == 1
    # A member's administrator sees its own row only.
    own = _client(world.township_admin).get("/capacity/statistics/").content.decode()
    assert world.township.name in own and f"<td>{world.hospital.name}</td>" not in own


def _grow(cw, world, n):
    for i in range(n):
        held = course(cw, title=f"培训{i}")
        attend(held, cw.township_doctor, world.township)
        fellowship(
            cw,
            trainee=cw.township_nurse if i % 2 else cw.township_doctor,
            status=FellowshipStatus.COMPLETED,
            started_on=TODAY(),
            ended_on=TODAY(),
            assessment="pass",
            certificate_number=f"C{i}{n}",
        )
        technique(cw, name=f"技术{i}-{n}")
        ecg = device(cw, serial=f"S{i}-{n}")
        maintenance(cw, ecg)


@pytest.mark.parametrize("url", LISTS)
def test_list_query_counts_do_not_grow(cw, world, url, django_assert_max_num_queries):
    client = _client(world.township_admin)
    _grow(cw, world, 2)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(cw, world, 6)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries), url


def test_statistics_count_of_courses_is_not_called_term_in_english(cw, world):
    """期数 (how many courses were held) read “Term” — the family-doctor contract's word."""
    held = course(cw)
    attend(held, cw.township_doctor, world.township)
    query = f"consortium={world.consortium.public_id}&year={TODAY().year}"
    office = _client(world.office)
    page = office.get(f"/capacity/statistics/?{query}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Courses held</th>" in page and ">Term</th>" not in page
    export = office.get(f"/capacity/statistics/export.xlsx?{query}", HTTP_ACCEPT_LANGUAGE="en")
    by_kind = load_workbook(io.BytesIO(export.content)).worksheets[1]
    assert next(by_kind.iter_rows(values_only=True))[:2] == ("Kind", "Courses held")


def test_people_pickers_show_name_title_and_institution_not_the_login_name(cw, world):
    cw.township_doctor.professional_title = "attending_physician"
    cw.township_doctor.save()
    cw.township_nurse.full_name = ""
    cw.township_nurse.save()
    doctor = f"李医生 · 主治医师 · {world.township.name}"
    page = _client(world.township_admin).get("/capacity/fellowships/new/").content.decode()
    assert doctor in page and "（township_doctor）" not in page
    page = _client(world.township_admin).get("/capacity/techniques/new/").content.decode()
    assert f"王主任 · {world.hospital.name}" in page and "（teacher）" not in page
    created = course(cw)
    page = _client(world.hospital_admin).get(f"/capacity/courses/{created.public_id}/").content.decode()
    assert doctor in page and "（township_doctor）" not in page
    # A user without a full name is shown by the login name, once.
    assert f"township_nurse · {world.township.name}" in page and "township_nurse（" not in page


def test_sign_in_in_english_plain_brackets_and_the_forms_required_wording(cw, world):
    created = course(cw)
    client = _client(world.hospital_admin)
    missing = client.post(
        f"/capacity/courses/{created.public_id}/act/sign_in/",
        {"sign_in-name": "张三", "sign_in-institution_name": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = missing.content.decode()
    assert missing.status_code == 400 and "This field is required." in text
    assert "Please enter Institution name." not in text
    client.post(
        f"/capacity/courses/{created.public_id}/act/sign_in/",
        {"sign_in-name": "张三", "sign_in-institution_name": "某某诊所"},
    )
    sheet = client.get(f"/capacity/courses/{created.public_id}/sign-in-sheet.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    title = load_workbook(io.BytesIO(sheet.content)).active["A1"].value
    assert title == f"{created.title} ({created.starts_on:%Y-%m-%d})"
