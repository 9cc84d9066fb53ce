"""Referral management pages: reserved capacity, criteria catalogue, settings and subsidies,
statistics with Excel exports, monthly service volumes; authorization matrices and query counts."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from yilian.accounts.tests.factories import user_with_role
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.encounters.models import ServiceVolume
from yilian.institutions.tests.factories import ConsortiumFactory, HospitalFactory
from yilian.people.tests.factories import person
from yilian.referrals import services
from yilian.referrals.choices import ReferralDirection, ReferralStatus
from yilian.referrals.forms_management import add_months, default_period
from yilian.referrals.models import (
    DeductibleSubsidy,
    Referral,
    ReferralCriterion,
    ReferralSettings,
    ReservedCapacity,
)
from yilian.referrals.selectors import statistics
from yilian.referrals.tests.factories import capacity, referral_world

pytestmark = pytest.mark.django_db

CAPACITY = reverse("referrals:capacity")
CONFIGURATION = reverse("referrals:configuration")
STATISTICS = reverse("referrals:statistics")
STATISTICS_EXPORT = reverse("referrals:statistics-export")
SUBSIDIES = reverse("referrals:subsidies")
SUBSIDIES_EXPORT = reverse("referrals:subsidies-export")
VOLUMES = reverse("referrals:volumes")
LOGIN = reverse("accounts:login")


@pytest.fixture
def client_for(db: Any) -> Callable[[Any], Client]:
    """``client_for(user)`` → a test client logged in as ``user`` (``None``: anonymous)."""

    def make(user: Any) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def rw(world):
    return referral_world(world)


def count(response, testid):
    return response.content.decode().count(f'data-testid="{testid}"')


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def audited(action):
    return AuditEvent.objects.filter(action=action).count()


# Reserved capacity -----------------------------------------------------------------


def cell(day, kind="outpatient_slot"):
    return f"q_{day:%Y%m%d}_{kind}"


def capacity_url(department=None, **params):
    query = {"department": str(department.public_id)} if department else {}
    query.update(params)
    return f"{CAPACITY}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else CAPACITY


def test_capacity_grid_shows_fourteen_days_with_booked_and_remaining(rw, client_for):
    slot = capacity(rw.cardiology, quantity=3, days=1)
    ReservedCapacity.objects.filter(pk=slot.pk).update(booked=1)
    response = client_for(rw.hospital_coordinator).get(capacity_url(rw.cardiology))
    body = response.content.decode()
    assert response.status_code == 200
    assert count(response, "capacity-row") == 14
    # three kinds, each with general places and places kept for family-doctor signed residents
    assert body.count('class="qty"') == 14 * 3 * 2
    assert body.count('-signed"') == 14 * 3
    assert "已约 1 · 余 2" in body
    assert f'name="{cell(slot.date)}" value="3"' in body
    # both hospital departments are offered, the township's is not
    assert "霍邱县人民医院 · 普外科" in body and "全科门诊" not in body


def test_capacity_publish_new_and_changed_cells(rw, client_for):
    slot = capacity(rw.cardiology, quantity=2, days=1)
    today = timezone.localdate()
    in_three = today + datetime.timedelta(days=3)
    url = capacity_url(rw.cardiology)
    response = client_for(rw.hospital_coordinator).post(
        url, {cell(slot.date): "5", cell(in_three, "bed"): "4", cell(today, "exam_slot"): ""}
    )
    assert response.status_code == 302 and response["Location"] == url
    slot.refresh_from_db()
    assert slot.quantity == 5 and slot.published_by == rw.hospital_coordinator
    bed = ReservedCapacity.objects.get(department=rw.cardiology, kind="bed", date=in_three)
    assert bed.quantity == 4 and bed.booked == 0
    assert ReservedCapacity.objects.count() == 2
    assert audited("reserved_capacity.publish") == 2


def test_capacity_unchanged_cells_are_not_republished(rw, client_for):
    slot = capacity(rw.cardiology, quantity=2, days=1)
    response = client_for(rw.hospital_coordinator).post(capacity_url(rw.cardiology), {cell(slot.date): "2"})
    assert response.status_code == 302
    assert audited("reserved_capacity.publish") == 0


def test_capacity_below_booked_shows_the_service_error_and_saves_nothing(rw, client_for):
    slot = capacity(rw.cardiology, quantity=3, days=1)
    ReservedCapacity.objects.filter(pk=slot.pk).update(booked=2)
    other_day = timezone.localdate() + datetime.timedelta(days=2)
    response = client_for(rw.hospital_coordinator).post(
        capacity_url(rw.cardiology), {cell(other_day): "6", cell(slot.date): "1"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="error-{cell(slot.date)}"' in body
    assert "已有 2 个预约，数量不能少于已预约数。" in body
    slot.refresh_from_db()
    assert slot.quantity == 3
    # all or nothing: the valid cell posted with it was rolled back too
    assert not ReservedCapacity.objects.filter(date=other_day).exists()
    assert audited("reserved_capacity.publish") == 0


def test_capacity_bad_number_is_a_field_error(rw, client_for):
    day = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(rw.hospital_coordinator).post(capacity_url(rw.cardiology), {cell(day): "-1"})
    assert response.status_code == 200
    assert f'data-testid="error-{cell(day)}"' in response.content.decode()
    assert not ReservedCapacity.objects.exists()


def test_capacity_paging_stays_within_the_publishing_window(rw, client_for):
    client = client_for(rw.hospital_coordinator)
    today = timezone.localdate()
    first = client.get(capacity_url(rw.cardiology)).content.decode()
    assert 'data-testid="capacity-previous"' not in first and 'data-testid="capacity-next"' in first
    past = client.get(capacity_url(rw.cardiology, start="2000-01-01")).content.decode()
    assert cell(today) in past
    far = client.get(capacity_url(rw.cardiology, start="2999-01-01")).content.decode()
    assert cell(today + datetime.timedelta(days=90)) in far
    assert cell(today + datetime.timedelta(days=91)) not in far
    assert 'data-testid="capacity-next"' not in far


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", None),
        ("stranger", 403),
        ("regulator", 403),
        ("office", 403),
        ("admin", 403),
        ("outsider_doctor", 403),
        ("hospital_nurse", 403),
        ("township_admin", 404),  # has a department of its own, not this one
        ("township_doctor", 404),
        ("hospital_admin", 302),
        ("hospital_doctor", 302),
        ("hospital_coordinator", 302),
    ],
)
def test_capacity_authorization(rw, client_for, who, status):
    users = {
        **rw.world.users(),
        **{name: getattr(rw, name) for name in ("hospital_nurse", "township_doctor")},
    }
    users["hospital_coordinator"] = rw.hospital_coordinator
    slot = capacity(rw.cardiology, quantity=2, days=1)
    client = client_for(users[who])
    url = capacity_url(rw.cardiology)
    get = client.get(url)
    post = client.post(url, {cell(slot.date): "9"})
    slot.refresh_from_db()
    if status is None:
        assert is_login_redirect(get) and is_login_redirect(post)
    elif status == 302:
        assert get.status_code == 200 and post.status_code == 302
        assert slot.quantity == 9
        return
    else:
        assert get.status_code == status and post.status_code == status
    assert slot.quantity == 2
    assert audited("reserved_capacity.publish") == 0


def test_capacity_of_an_unknown_department_is_404(rw, client_for):
    response = client_for(rw.hospital_coordinator).get(f"{CAPACITY}?department=not-a-uuid")
    assert response.status_code == 404


# Configuration list ---------------------------------------------------------------------


def test_configuration_lists_overseen_consortia(world, client_for):
    other = ConsortiumFactory(name="裕安区医共体", region=world.regions["district"])
    office = client_for(world.office).get(CONFIGURATION)
    assert office.status_code == 200 and count(office, "configuration-row") == 1
    assert "查看与维护" in office.content.decode()
    regulator = client_for(world.regulator).get(CONFIGURATION).content.decode()
    assert (
        "霍邱县人民医院医共体" in regulator and other.name not in regulator and "查看与维护" not in regulator
    )
    assert count(client_for(world.admin).get(CONFIGURATION), "configuration-row") == 2
    assert client_for(world.hospital_doctor).get(CONFIGURATION).status_code == 403
    assert is_login_redirect(client_for(None).get(CONFIGURATION))


# Criteria catalogue ---------------------------------------------------------------------


def catalogue_url(consortium):
    return reverse("referrals:catalogue", args=[consortium.public_id])


def create_url(consortium):
    return reverse("referrals:criterion-create", args=[consortium.public_id])


def edit_url(criterion):
    return reverse("referrals:criterion-edit", args=[criterion.consortium.public_id, criterion.public_id])


def criterion(world, **overrides):
    data = {
        "name": "高血压急症",
        "category": "must_up",
        "icd_from": "I10",
        "icd_to": "I15",
        "triggers": ["血压 ≥ 180/110 mmHg", "伴靶器官损害"],
        "required_materials": ["history", "exam_results", "ecg"],
        "completeness_threshold": 80,
        "missing_action": "block",
    }
    data.update(overrides)
    return services.criterion_create(actor=world.office, consortium=world.consortium, **data)


def criterion_data(**overrides):
    data = {
        "name": "急性阑尾炎",
        "category": "must_up",
        "icd_from": "K35",
        "icd_to": "K37",
        "triggers": "右下腹压痛、反跳痛\n\n  白细胞升高  \n",
        "required_materials": ["history", "lab_report"],
        "completeness_threshold": "90",
        "missing_action": "warn",
        "min_stay_days": "",
        "source": "县域转诊目录 2024 版",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_catalogue_lists_rules_with_their_details(world, client_for):
    criterion(world)
    criterion(
        world,
        name="脑梗死恢复期",
        category="down_rehabilitation",
        icd_from="I63",
        icd_to="I63",
        required_materials=[],
        triggers=[],
        missing_action="warn",
        min_stay_days=14,
    )
    response = client_for(world.office).get(catalogue_url(world.consortium))
    body = response.content.decode()
    assert response.status_code == 200
    assert count(response, "criterion-row") == 2
    assert "I10–I15" in body and "必须上转" in body and "下转康复" in body
    assert "血压 ≥ 180/110 mmHg" in body and "病史（含外伤史）、检查检验结果、心电图" in body
    assert "阻止提交" in body and "80%" in body and ">14<" in body
    assert count(response, "criterion-create") == 1 and count(response, "criterion-edit") == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", None),
        ("stranger", 403),
        ("outsider_doctor", 403),
        ("hospital_doctor", 200),
        ("township_admin", 200),
        ("regulator", 200),
        ("office", 200),
        ("admin", 200),
    ],
)
def test_catalogue_read_authorization(world, client_for, who, status):
    criterion(world)
    response = client_for(world.users()[who]).get(catalogue_url(world.consortium))
    if status is None:
        assert is_login_redirect(response)
        return
    assert response.status_code == status
    if status == 200:
        assert "高血压急症" in response.content.decode()
        assert (count(response, "criterion-create") == 1) == (who in ("office", "admin"))
    else:
        assert "高血压急症" not in response.content.decode()


def test_catalogue_of_an_unknown_consortium_is_404(world, client_for):
    response = client_for(world.office).get(
        reverse("referrals:catalogue", args=["8d6f1a52-0000-4000-8000-000000000000"])
    )
    assert response.status_code == 404


def test_create_criterion_through_the_service(world, client_for):
    response = client_for(world.office).post(create_url(world.consortium), criterion_data())
    assert response.status_code == 302 and response["Location"] == catalogue_url(world.consortium)
    saved = ReferralCriterion.objects.get(name="急性阑尾炎")
    assert saved.consortium == world.consortium
    assert saved.triggers == ["右下腹压痛、反跳痛", "白细胞升高"]
    assert saved.required_materials == ["history", "lab_report"]
    assert saved.completeness_threshold == 90 and saved.min_stay_days is None and saved.is_active
    assert audited("referral_criterion.create") == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"icd_from": "K37", "icd_to": "K35"}, "icd_to", "编码范围的止点不能小于起点。"),
        ({"icd_from": "Q999"}, "icd_from", "ICD-10 编码格式不正确"),
        ({"icd_to": "U99"}, "icd_to", "ICD-10 编码 U99 不存在。"),
        ({"completeness_threshold": "120"}, "completeness_threshold", ""),
        ({"required_materials": ["x-ray"]}, "required_materials", ""),
        ({"name": ""}, "name", ""),
    ],
)
def test_create_criterion_bad_input_saves_nothing(world, client_for, overrides, field, message):
    response = client_for(world.office).post(create_url(world.consortium), criterion_data(**overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in body
    assert message in body
    assert not ReferralCriterion.objects.exists()


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("stranger", False),
        ("outsider_doctor", False),
        ("hospital_doctor", False),
        ("hospital_admin", False),
        ("regulator", False),
        ("office", True),
        ("admin", True),
    ],
)
def test_create_criterion_authorization(world, client_for, who, allowed):
    client = client_for(world.users()[who])
    get = client.get(create_url(world.consortium))
    post = client.post(create_url(world.consortium), criterion_data())
    if allowed is None:
        assert is_login_redirect(get) and is_login_redirect(post)
    elif allowed:
        assert get.status_code == 200 and post.status_code == 302
    else:
        assert get.status_code == post.status_code == 403
    assert ReferralCriterion.objects.exists() == bool(allowed)


def test_edit_criterion_prefills_and_saves(world, client_for):
    rule = criterion(world)
    client = client_for(world.office)
    form = client.get(edit_url(rule)).content.decode()
    assert "血压 ≥ 180/110 mmHg\n伴靶器官损害" in form
    checked = set(re.findall(r'name="required_materials" value="(\w+)"[^>]*checked', form))
    assert checked == {"history", "exam_results", "ecg"}
    data = criterion_data(name="高血压急症", icd_from="I10", icd_to="I15", is_active="")
    response = client.post(edit_url(rule), data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (
        not rule.is_active
        and rule.missing_action == "warn"
        and rule.required_materials == ["history", "lab_report"]
    )
    assert audited("referral_criterion.update") == 1


def test_edit_criterion_authorization_and_errors(world, client_for):
    rule = criterion(world)
    for user in (world.regulator, world.hospital_admin, world.township_admin):
        assert client_for(user).post(edit_url(rule), criterion_data()).status_code == 403
    response = client_for(world.office).post(edit_url(rule), criterion_data(icd_from="I15", icd_to="I10"))
    assert 'data-testid="error-icd_to"' in response.content.decode()
    rule.refresh_from_db()
    assert rule.name == "高血压急症" and rule.icd_from == "I10" and rule.is_active
    assert audited("referral_criterion.update") == 0
    other = ConsortiumFactory(name="裕安区医共体", region=world.regions["district"])
    wrong = reverse("referrals:criterion-edit", args=[other.public_id, rule.public_id])
    assert client_for(world.admin).get(wrong).status_code == 404


def test_catalogue_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    criterion(world)
    client = client_for(world.township_admin)  # reads as staff of a member: the longest permission path
    url = catalogue_url(world.consortium)
    client.get(url)
    # session, user, scope, consortium, overseen?, member staff?, count, page, the centre menu check
    with django_assert_num_queries(9):
        assert count(client.get(url), "criterion-row") == 1
    for number in range(30):
        criterion(world, name=f"规则{number}", icd_from="E11", icd_to="E14")
    with django_assert_num_queries(9):
        assert count(client.get(url), "criterion-row") == 25


# Settings and subsidies ----------------------------------------------------------------------


def settings_url(consortium):
    return reverse("referrals:referral-settings", args=[consortium.public_id])


def settings_data(**overrides):
    data = {
        "answer_hours_stat": "2",
        "answer_hours_urgent": "12",
        "answer_hours_routine": "48",
        "expiry_grace_hours": "24",
        "arrival_grace_days": "2",
        "follow_up_hours": "48",
        "rehabilitation_days": "7",
        "up_rate_excellent": "1.5",
        "up_rate_good": "3",
        "up_rate_fair": "5",
        "down_rate_excellent": "10",
        "down_rate_good": "6",
        "down_rate_fair": "3",
        "subsidy_resident": "200",
        "subsidy_employee": "300.50",
    }
    data.update(overrides)
    return data


def test_settings_show_defaults_and_save_through_the_services(world, client_for):
    client = client_for(world.office)
    page = client.get(settings_url(world.consortium)).content.decode()
    assert 'name="answer_hours_routine" value="72"' in page and 'name="follow_up_hours" value="48"' in page
    assert 'name="up_rate_fair" value="6.0"' in page and 'name="down_rate_excellent" value="8.0"' in page
    response = client.post(settings_url(world.consortium), settings_data())
    assert response.status_code == 302
    saved = ReferralSettings.objects.get(consortium=world.consortium)
    assert saved.answer_hours == {"stat": 2, "urgent": 12, "routine": 48}
    assert saved.arrival_grace_days == 2
    assert saved.grade_bounds == {"up_rate": [1.5, 3.0, 5.0], "down_rate": [10.0, 6.0, 3.0]}
    amounts = dict(DeductibleSubsidy.objects.values_list("insurance_scheme", "amount"))
    assert amounts == {"resident": Decimal("200.00"), "employee": Decimal("300.50")}
    assert audited("referral_settings.update") == 1 and audited("deductible_subsidy.update") == 2
    # saving again with the same amounts does not touch the subsidies
    client.post(settings_url(world.consortium), settings_data(follow_up_hours="24"))
    assert audited("deductible_subsidy.update") == 2 and audited("referral_settings.update") == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"up_rate_good": "1"}, "up_rate_excellent"),
        ({"down_rate_fair": "12"}, "down_rate_excellent"),
        ({"answer_hours_urgent": "0"}, "answer_hours_urgent"),
        ({"rehabilitation_days": "91"}, "rehabilitation_days"),
        ({"subsidy_employee": "-5"}, "subsidy_employee"),
    ],
)
def test_settings_bad_input_saves_nothing(world, client_for, overrides, field):
    response = client_for(world.office).post(settings_url(world.consortium), settings_data(**overrides))
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not ReferralSettings.objects.exists() and not DeductibleSubsidy.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=["referral_settings.update", "deductible_subsidy.update"]
    ).exists()


def test_settings_bounds_message_says_which_order(world, client_for):
    body = (
        client_for(world.office)
        .post(settings_url(world.consortium), settings_data(up_rate_good="1"))
        .content.decode()
    )
    assert "上转率越低越好：优、良、中的界值应由低到高。" in body


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("anonymous", None, None),
        ("stranger", 403, 403),
        ("outsider_doctor", 403, 403),
        ("hospital_doctor", 403, 403),
        ("hospital_admin", 403, 403),
        ("township_admin", 403, 403),
        ("regulator", 200, 403),
        ("office", 200, 302),
        ("admin", 200, 302),
    ],
)
def test_settings_authorization(world, client_for, who, read, write):
    DeductibleSubsidy.objects.create(consortium=world.consortium, insurance_scheme="resident", amount=150)
    client = client_for(world.users()[who])
    get = client.get(settings_url(world.consortium))
    post = client.post(settings_url(world.consortium), settings_data())
    if read is None:
        assert is_login_redirect(get) and is_login_redirect(post)
    else:
        assert get.status_code == read and post.status_code == write
    if read == 200:
        body = get.content.decode()
        assert 'name="subsidy_resident" value="150.00"' in body
        assert (count(get, "read-only") == 1) == (write == 403)
        assert (count(get, "submit") == 0) == (write == 403)
    resident = DeductibleSubsidy.objects.get(insurance_scheme="resident").amount
    if write == 302:
        assert resident == Decimal("200.00") and ReferralSettings.objects.exists()
    else:
        assert resident == Decimal("150.00") and not ReferralSettings.objects.exists()
        assert not DeductibleSubsidy.objects.filter(insurance_scheme="employee").exists()


def test_settings_of_a_consortium_outside_the_regulators_region(world, client_for):
    other = ConsortiumFactory(name="裕安区医共体", region=world.regions["district"])
    assert client_for(world.regulator).get(settings_url(other)).status_code == 403
    assert client_for(world.office).get(settings_url(other)).status_code == 403


# Statistics -----------------------------------------------------------------------------------


def months_ago(months, day=10, hour=9):
    """An aware datetime ``months`` before this month, on ``day``."""
    first = add_months(timezone.localdate().replace(day=1), -months)
    return timezone.make_aware(datetime.datetime(first.year, first.month, day, hour))


def make_referrals(rw, number, *, start=0, months_back=3):
    """Bulk-create submitted referrals spread over the last full months: two up for each down."""
    world = rw.world
    rows = []
    for index in range(start, start + number):
        submitted = months_ago(1 + index % months_back)
        up = index % 3 != 2
        closed = index % 2 == 0
        rows.append(
            Referral(
                number=f"T{index:08d}",
                status=ReferralStatus.CLOSED if closed else ReferralStatus.EXPIRED,
                direction=ReferralDirection.UP if up else ReferralDirection.DOWN,
                kind="admission",  # an admitting kind: the subsidy below is what completing it pays
                consortium=world.consortium,
                inside_consortium=True,
                person=rw.patient,
                from_institution=world.township if up else world.hospital,
                from_department=rw.township_clinic if up else (rw.cardiology if index % 2 else rw.surgery),
                to_institution=world.hospital if up else world.township,
                to_department=rw.cardiology if up else rw.township_clinic,
                diagnosis_code="I10",
                diagnosis_name="原发性高血压",
                reason="血压控制不佳",
                submitted_at=submitted,
                answered_at=submitted + datetime.timedelta(hours=4) if closed else None,
                completed_at=submitted + datetime.timedelta(days=3) if closed else None,
                criteria_met=closed,
                subsidy_amount=Decimal("200") if closed else Decimal("0"),
            )
        )
    Referral.objects.bulk_create(rows)


def volumes(rw, months_back=3):
    for offset in range(1, months_back + 1):
        month = add_months(timezone.localdate().replace(day=1), -offset)
        ServiceVolume.objects.create(
            institution=rw.world.township, month=month, outpatient_visits=90, admissions=10
        )
        for department in (rw.cardiology, rw.surgery):
            ServiceVolume.objects.create(
                institution=rw.world.hospital, department=department, month=month, discharges=20
            )


def stats_url(consortium=None, **params):
    query = {"consortium": str(consortium.public_id)} if consortium else {}
    query.update(params)
    return f"{STATISTICS}?{'&'.join(f'{k}={v}' for k, v in query.items())}"


def test_statistics_summary_rates_and_grades(rw, client_for):
    make_referrals(rw, 6)
    volumes(rw)
    response = client_for(rw.world.office).get(STATISTICS)
    body = response.content.decode()
    assert response.status_code == 200
    first, last = default_period()
    assert f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}" in body
    assert 'data-testid="stat-submitted">6<' in body
    assert 'data-testid="stat-directions">4 / 2 / 0<' in body
    assert 'data-testid="stat-closed-loop-rate">100.0%<' in body
    assert 'data-testid="stat-expired">3<' in body
    assert 'data-testid="stat-standard-rate">50.0%<' in body
    assert 'data-testid="stat-response-median">4.0 小时<' in body
    assert 'data-testid="stat-subsidy-total">600.00<' in body
    assert count(response, "by-month-row") == 12
    # the township: 4 up-referrals over 3 months of 100 visits + admissions
    # the township: 2 + 2 + 0 up-referrals in the last three months, each of 90 visits + 10 admissions
    up_table = body[body.index('data-testid="up-rates"') :].split("</table>")[0]
    assert count(response, "up-rates-row") == 1 and "霍邱县城关镇卫生院" in up_table
    assert up_table.count("2.0%") == 2 and up_table.count("0.0%") == 1
    assert up_table.count('grade grade-excellent">优<') == 3 and up_table.count("第 1 名") == 3
    assert up_table.count("—") == 9  # months without reported volumes
    assert count(response, "down-rates-medicine-row") == 1 and count(response, "down-rates-surgery-row") == 1
    assert "霍邱县人民医院 · 心血管内科" in body and "霍邱县人民医院 · 普外科" in body
    # one down-referral of 20 discharges in the third month back, for each department
    for group in ("medicine", "surgery"):
        table = body[body.index(f'data-testid="down-rates-{group}"') :].split("</table>")[0]
        assert table.count("5.0%") == 1 and table.count('grade grade-good">良<') == 1
    assert "第 1 名" in body
    assert f"consortium={rw.world.consortium.public_id}" in body and "导出 Excel" in body


def test_statistics_grade_colours_follow_the_settings(rw, client_for):
    make_referrals(rw, 3, months_back=1)  # two up-referrals last month
    volumes(rw, months_back=1)
    services.referral_settings_update(
        actor=rw.world.office,
        consortium=rw.world.consortium,
        grade_bounds={"up_rate": [0.5, 1.0, 1.5], "down_rate": [8.0, 5.0, 2.0]},
    )
    body = client_for(rw.world.office).get(STATISTICS).content.decode()
    up_table = body[body.index('data-testid="up-rates"') :].split("</table>")[0]
    assert "2.0%" in up_table and 'grade grade-poor">差<' in up_table


def test_statistics_equal_rates_share_a_rank():
    month = datetime.date(2026, 10, 1)
    rows = [
        statistics.RateRow(month=month, institution_id=index, institution_name=str(index), rate=rate)
        for index, rate in enumerate([0.5, 0.0, 0.0, 0.2, None])
    ]
    statistics._rank(rows, lower_is_better=True)
    assert [row.rank for row in rows] == [4, 1, 1, 3, None]
    statistics._rank(rows, lower_is_better=False)
    assert [row.rank for row in rows] == [1, 3, 3, 2, None]


def test_statistics_period_and_bad_period(rw, client_for):
    make_referrals(rw, 6)
    client = client_for(rw.world.office)
    one_month = months_ago(1).date()
    response = client.get(
        stats_url(rw.world.consortium, **{"from": f"{one_month:%Y-%m}", "to": f"{one_month:%Y-%m}"})
    )
    assert count(response, "by-month-row") == 1
    assert 'data-testid="stat-submitted">2<' in response.content.decode()
    backwards = client.get(stats_url(**{"from": "2025-06", "to": "2025-01"}))
    assert backwards.status_code == 200
    assert 'data-testid="error-to"' in backwards.content.decode()
    assert count(backwards, "summary") == 0
    garbage = client.get(stats_url(**{"from": "06/2025"}))
    assert 'data-testid="error-from"' in garbage.content.decode() and count(garbage, "summary") == 0
    too_long = client.get(stats_url(**{"from": "2020-01", "to": "2025-01"}))
    assert 'data-testid="error-to"' in too_long.content.decode()


def test_statistics_query_count_does_not_grow(rw, client_for, django_assert_num_queries):
    make_referrals(rw, 3)
    volumes(rw)
    client = client_for(rw.world.office)
    url = stats_url(rw.world.consortium)
    client.get(url)
    # session, user, scope, consortium, consortium options, summary (3), subsidies by completion month,
    # up rates (4), down rates (5)
    with django_assert_num_queries(18):
        assert 'data-testid="stat-submitted">3<' in client.get(url).content.decode()
    make_referrals(rw, 60, start=3, months_back=12)
    with django_assert_num_queries(18):
        assert 'data-testid="stat-submitted">63<' in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", None),
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("hospital_admin", 403),
        ("township_admin", 403),
        ("outsider_doctor", 403),
        ("regulator", 200),
        ("office", 200),
        ("admin", 200),
    ],
)
def test_statistics_authorization(rw, client_for, who, status):
    make_referrals(rw, 3)
    client = client_for(rw.world.users()[who])
    for url in (STATISTICS, f"{STATISTICS_EXPORT}?consortium={rw.world.consortium.public_id}", SUBSIDIES):
        response = client.get(url)
        if status is None:
            assert is_login_redirect(response)
        else:
            assert response.status_code == status
            if status == 403:
                assert b"stat-submitted" not in response.content


def test_statistics_of_a_consortium_the_actor_does_not_oversee_is_404(rw, client_for):
    other = ConsortiumFactory(
        name="裕安区医共体", region=rw.world.regions["district"], lead=HospitalFactory()
    )
    for user in (rw.world.office, rw.world.regulator):
        client = client_for(user)
        assert client.get(stats_url(other)).status_code == 404
        assert client.get(f"{STATISTICS_EXPORT}?consortium={other.public_id}").status_code == 404
        assert client.get(f"{SUBSIDIES}?consortium={other.public_id}").status_code == 404
    assert client_for(rw.world.admin).get(stats_url(other)).status_code == 200
    office_elsewhere = user_with_role(Role.CONSORTIUM_OFFICE, username="other_office", consortium=other)
    assert client_for(office_elsewhere).get(stats_url(rw.world.consortium)).status_code == 404
    assert client_for(office_elsewhere).get(STATISTICS).status_code == 200


def test_statistics_export_workbook(rw, client_for):
    make_referrals(rw, 6)
    volumes(rw)
    first, last = months_ago(3).date().replace(day=1), months_ago(1).date()
    response = client_for(rw.world.office).get(
        f"{STATISTICS_EXPORT}?consortium={rw.world.consortium.public_id}&from={first:%Y-%m}&to={last:%Y-%m}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1] for row in workbook.worksheets[0].iter_rows(values_only=True)}
    assert summary["转诊总数"] == 6
    assert "成员单位上转率" in workbook.sheetnames
    assert client_for(rw.world.office).get(f"{STATISTICS_EXPORT}?from=2025-06&to=2025-01").status_code == 400


# Subsidies -----------------------------------------------------------------------------------------


def test_subsidy_report_lists_masked_patients_and_total(rw, client_for):
    make_referrals(rw, 6, months_back=1)  # three closed with 200 each, completed last month (or this one)
    month = Referral.objects.filter(subsidy_amount__gt=0).first().completed_at
    month = timezone.localtime(month).date()
    response = client_for(rw.world.regulator).get(
        f"{SUBSIDIES}?consortium={rw.world.consortium.public_id}&month={month:%Y-%m}"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert count(response, "subsidy-row") == 3
    assert "李*" in body and "李四" not in body
    assert "城乡居民医保" in body
    assert 'data-testid="subsidy-total">600.00<' in body
    assert f"month={month:%Y-%m}" in body and 'data-testid="subsidies-export"' in body
    empty = client_for(rw.world.regulator).get(f"{SUBSIDIES}?month=2001-01")
    assert count(empty, "subsidy-row") == 0 and 'data-testid="subsidy-total">0.00<' in empty.content.decode()


def test_statistics_count_subsidies_by_completion_month_as_the_subsidy_report(rw, client_for):
    """A referral submitted one month and completed the next counts its subsidy in the month of
    completion on the statistics page too, so the two pages agree; one completed after the period, none."""
    make_referrals(rw, 2, months_back=1)  # T00000000 closed (200), T00000001 expired
    submitted_at = months_ago(2, day=28)
    Referral.objects.filter(number="T00000000").update(
        submitted_at=submitted_at, completed_at=months_ago(1, day=3)
    )
    late = months_ago(2, day=20)
    Referral.objects.filter(number="T00000001").update(
        status=ReferralStatus.CLOSED,
        submitted_at=late,
        completed_at=timezone.now() + datetime.timedelta(days=40),
        subsidy_amount=Decimal("240"),
    )
    first, last = months_ago(2, day=1).date(), months_ago(1, day=28).date()
    summary = statistics.referral_summary(rw.world.consortium, first, last)
    by_month = {row["month"]: row for row in summary.by_month}
    completion_month, submission_month = months_ago(1, day=1).date(), months_ago(2, day=1).date()
    assert by_month[submission_month]["submitted"] == 2 and by_month[submission_month]["subsidy"] == 0
    assert by_month[completion_month]["subsidy"] == Decimal("200")
    assert summary.subsidy_total == Decimal("200")
    report = statistics.subsidy_report(rw.world.consortium, completion_month)
    assert sum(r.subsidy_amount for r in report) == by_month[completion_month]["subsidy"]
    page = client_for(rw.world.office).get(
        stats_url(rw.world.consortium, **{"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"})
    )
    body = page.content.decode()
    assert 'data-testid="stat-subsidy-total">200.00<' in body
    assert 'data-testid="subsidy-basis"' in body


def test_subsidy_export_workbook(rw, client_for):
    make_referrals(rw, 2, months_back=1)
    month = timezone.localtime(Referral.objects.get(subsidy_amount__gt=0).completed_at).date()
    response = client_for(rw.world.office).get(f"{SUBSIDIES_EXPORT}?month={month:%Y-%m}")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][2] == "李*" and rows[-1][0] == "合计"
    assert client_for(rw.world.hospital_admin).get(SUBSIDIES_EXPORT).status_code == 403
    assert client_for(rw.world.office).get(f"{SUBSIDIES_EXPORT}?month=bad").status_code == 400


# Monthly service volumes --------------------------------------------------------------------------


def test_volumes_report_and_table(rw, client_for):
    client = client_for(rw.world.hospital_admin)
    page = client.get(VOLUMES)
    assert page.status_code == 200 and count(page, "volume-row") == 12
    month = add_months(timezone.localdate().replace(day=1), -1)
    response = client.post(
        VOLUMES,
        {
            "month": f"{month:%Y-%m}",
            "department": "",
            "outpatient_visits": "1200",
            "admissions": "80",
            "discharges": "75",
        },
    )
    assert response.status_code == 302
    response = client.post(
        VOLUMES,
        {
            "month": f"{month:%Y-%m}",
            "department": str(rw.cardiology.public_id),
            "outpatient_visits": "300",
            "admissions": "20",
            "discharges": "18",
        },
    )
    assert response.status_code == 302
    whole = ServiceVolume.objects.get(institution=rw.world.hospital, department=None)
    assert (whole.month, whole.outpatient_visits, whole.admissions, whole.discharges) == (month, 1200, 80, 75)
    assert ServiceVolume.objects.get(department=rw.cardiology).discharges == 18
    assert audited("service_volume.record") == 2
    page = client.get(VOLUMES)
    body = page.content.decode()
    assert count(page, "volume-row") == 13
    assert ">1200<" in body and ">18<" in body and "心血管内科" in body
    # the edit link prefills the form with what was reported
    edit = client.get(
        f"{VOLUMES}?institution={rw.world.hospital.public_id}&month={month:%Y-%m}&department={rw.cardiology.public_id}"
    ).content.decode()
    assert 'name="discharges" value="18"' in edit


def test_volumes_bad_input_saves_nothing(rw, client_for):
    client = client_for(rw.world.township_admin)
    future = add_months(timezone.localdate().replace(day=1), 2)
    response = client.post(
        VOLUMES, {"month": f"{future:%Y-%m}", "outpatient_visits": "10", "admissions": "0", "discharges": "0"}
    )
    assert response.status_code == 200
    assert 'data-testid="error-month"' in response.content.decode()
    assert "请填写不晚于本月的月份。" in response.content.decode()
    response = client.post(
        VOLUMES, {"month": "2025-01", "outpatient_visits": "-3", "admissions": "0", "discharges": "0"}
    )
    assert 'data-testid="error-outpatient_visits"' in response.content.decode()
    # another institution's department is not a choice
    response = client.post(
        VOLUMES,
        {
            "month": "2025-01",
            "department": str(rw.cardiology.public_id),
            "outpatient_visits": "1",
            "admissions": "0",
            "discharges": "0",
        },
    )
    assert 'data-testid="error-department"' in response.content.decode()
    assert not ServiceVolume.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", None),
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("outsider_doctor", 403),
        ("office", 403),
        ("regulator", 403),
        ("admin", 403),
        ("township_admin", 404),  # administers the township, not the hospital
        ("hospital_admin", 302),
    ],
)
def test_volumes_authorization(rw, client_for, who, status):
    client = client_for(rw.world.users()[who])
    url = f"{VOLUMES}?institution={rw.world.hospital.public_id}"
    get = client.get(url)
    post = client.post(
        url, {"month": "2025-01", "outpatient_visits": "5", "admissions": "1", "discharges": "1"}
    )
    if status is None:
        assert is_login_redirect(get) and is_login_redirect(post)
    elif status == 302:
        assert get.status_code == 200 and post.status_code == 302
        assert ServiceVolume.objects.filter(institution=rw.world.hospital).count() == 1
        return
    else:
        assert get.status_code == post.status_code == status
    assert not ServiceVolume.objects.exists()


# Menu ----------------------------------------------------------------------------------------------


def test_menu_entries_follow_the_policies(rw, client_for):
    office = client_for(rw.world.office).get(reverse("home")).content.decode()
    assert all(url in office for url in (STATISTICS, CONFIGURATION, SUBSIDIES))
    assert CAPACITY not in office and VOLUMES not in office
    coordinator = client_for(rw.hospital_coordinator).get(reverse("home")).content.decode()
    assert CAPACITY in coordinator and STATISTICS not in coordinator and VOLUMES not in coordinator
    admin = client_for(rw.world.township_admin).get(reverse("home")).content.decode()
    assert VOLUMES in admin and CAPACITY in admin and STATISTICS not in admin


def test_a_second_patient_name_is_masked_too(rw, client_for):
    other = person("欧阳娜娜", institution=rw.world.township)
    make_referrals(rw, 1, months_back=1)
    Referral.objects.update(person=other)
    month = timezone.localtime(Referral.objects.get().completed_at).date()
    body = client_for(rw.world.office).get(f"{SUBSIDIES}?month={month:%Y-%m}").content.decode()
    assert "欧***" in body and "欧阳娜娜" not in body
