"""Referral API around the referrals: consortium configuration (criteria, settings, subsidies), reserved
capacity, receivers, the down-referral worklist, closed-loop duties, statistics and their workbooks."""

from __future__ import annotations

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import api_client, error_of
from yilian.core.models import AuditEvent
from yilian.encounters.services import encounter_flag_recovery, encounter_record, service_volume_record
from yilian.institutions.tests.factories import ConsortiumFactory
from yilian.referrals import services
from yilian.referrals.models import (
    DeductibleSubsidy,
    FollowUpTask,
    ReferralCriterion,
    ReferralSettings,
    ReservedCapacity,
)
from yilian.referrals.tests.factories import capacity, referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    return api_client


@pytest.fixture
def rw(world):
    return referral_world(world)


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _user(rw, who):
    return getattr(rw, who, None) or rw.world.users()[who]


def _consortium_url(rw, suffix):
    return f"/api/v1/consortia/{rw.world.consortium.public_id}{suffix}"


CRITERION = {
    "name": "脑卒中恢复期下转",
    "category": "down_rehabilitation",
    "icd_from": "I60",
    "icd_to": "I69",
    "triggers": ["生命体征平稳", "需继续康复治疗"],
    "required_materials": ["discharge_summary", "plan"],
    "completeness_threshold": 100,
    "missing_action": "block",
    "min_stay_days": 10,
    "source": "县域脑卒中分级诊疗方案",
}


# Criteria catalogue ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("hospital_admin", 403),  # the lead hospital's administrator is not the office
        ("regulator", 403),
        ("office", 201),
        ("admin", 201),
    ],
)
def test_criterion_create_matrix(rw, api, who, status):
    response = api(_user(rw, who)).post(_consortium_url(rw, "/referral-criteria"), CRITERION, format="json")
    assert response.status_code == status, response.content
    assert ReferralCriterion.objects.exists() is (status == 201)
    if status == 201:
        body = response.json()
        assert body["category_label"] == "下转康复" and body["min_stay_days"] == 10
        assert body["required_material_labels"] == ["出院小结", "今后治疗方案"]
    else:
        assert not AuditEvent.objects.filter(action="referral_criterion.create").exists()


def test_criteria_are_listed_for_every_referral_user_and_changed_by_the_office(rw, api):
    office = api(rw.world.office)
    created = office.post(_consortium_url(rw, "/referral-criteria"), CRITERION, format="json").json()
    rows = _results(api(rw.township_doctor).get(_consortium_url(rw, "/referral-criteria")))
    assert [row["name"] for row in rows] == ["脑卒中恢复期下转"]
    url = f"/api/v1/referral-criteria/{created['public_id']}"
    assert api(rw.township_doctor).get(url).json()["icd_from"] == "I60"
    refused = api(rw.hospital_doctor).patch(url, {"is_active": False}, format="json")
    assert refused.status_code == 403
    assert ReferralCriterion.objects.get(public_id=created["public_id"]).is_active is True
    changed = office.patch(url, {"is_active": False, "completeness_threshold": 50}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["is_active"] is False and changed.json()["completeness_threshold"] == 50
    assert api(rw.hospital_doctor).patch(f"/api/v1/referral-criteria/{uuid.uuid4()}", {}).status_code == 404


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"icd_from": "I99.9"}, "icd_from"),
        ({"icd_from": "I69", "icd_to": "I60"}, "icd_to"),
        ({"required_materials": ["x-ray"]}, "required_materials"),
        ({"completeness_threshold": 101}, "completeness_threshold"),
        ({"category": "maybe_up"}, "category"),
    ],
)
def test_bad_criteria_are_field_errors(rw, api, changes, field):
    response = api(rw.world.office).post(
        _consortium_url(rw, "/referral-criteria"), {**CRITERION, **changes}, format="json"
    )
    assert response.status_code == 400
    assert any(key.split(".")[0] == field for key in error_of(response)["fields"]), error_of(response)
    assert not ReferralCriterion.objects.exists()


def test_office_loads_the_example_scheme_once(rw, api):
    office = api(rw.world.office)
    first = office.post(
        _consortium_url(rw, "/referral-criteria/load-scheme"), {"scheme": "hypertension"}, format="json"
    )
    assert first.status_code == 201, first.content
    assert len(first.json()) == ReferralCriterion.objects.count() > 0
    again = office.post(
        _consortium_url(rw, "/referral-criteria/load-scheme"), {"scheme": "hypertension"}, format="json"
    )
    assert again.status_code == 201 and again.json() == []
    refused = api(rw.township_doctor).post(
        _consortium_url(rw, "/referral-criteria/load-scheme"), {"scheme": "hypertension"}, format="json"
    )
    assert refused.status_code == 403
    unknown = office.post(
        _consortium_url(rw, "/referral-criteria/load-scheme"), {"scheme": "diabetes"}, format="json"
    )
    assert unknown.status_code == 400 and "scheme" in error_of(unknown)["fields"]


# Settings and subsidies ----------------------------------------------------------------------------


SETTINGS = {
    "answer_hours": {"routine": 48, "urgent": 12, "stat": 1},
    "expiry_grace_hours": 24,
    "arrival_grace_days": 2,
    "follow_up_hours": 72,
    "rehabilitation_days": 10,
    "grade_bounds": {"up_rate": [1.5, 3, 5], "down_rate": [10, 6, 3]},
}


def test_settings_show_defaults_then_the_office_replaces_them(rw, api):
    defaults = api(rw.township_doctor).get(_consortium_url(rw, "/referral-settings"))
    assert defaults.status_code == 200
    assert defaults.json() == {
        "answer_hours": {"routine": 72, "urgent": 24, "stat": 1},
        "expiry_grace_hours": 24,
        "arrival_grace_days": 1,
        "follow_up_hours": 48,
        "rehabilitation_days": 7,
        "grade_bounds": {"up_rate": [2.0, 4.0, 6.0], "down_rate": [8.0, 5.0, 2.0]},
        "updated_at": None,
    }
    saved = api(rw.world.office).put(_consortium_url(rw, "/referral-settings"), SETTINGS, format="json")
    assert saved.status_code == 200, saved.content
    stored = ReferralSettings.objects.get(consortium=rw.world.consortium)
    assert stored.answer_hours == {"routine": 48, "urgent": 12, "stat": 1}
    assert stored.grade_bounds == {"up_rate": [1.5, 3.0, 5.0], "down_rate": [10.0, 6.0, 3.0]}
    assert saved.json()["updated_at"]
    # Referrals now get the new deadline.
    referral = submitted(rw)
    assert round((referral.answer_due_at - referral.submitted_at).total_seconds() / 3600) == 48


@pytest.mark.parametrize(
    "who,changes,status,field",
    [
        ("hospital_doctor", {}, 403, None),
        ("hospital_admin", {}, 403, None),
        ("regulator", {}, 403, None),
        ("office", {"answer_hours": {"routine": 0, "urgent": 12, "stat": 1}}, 400, "answer_hours.routine"),
        ("office", {"grade_bounds": {"up_rate": [5, 3, 1], "down_rate": [10, 6, 3]}}, 400, "grade_bounds"),
        ("office", {"follow_up_hours": None}, 400, "follow_up_hours"),
    ],
)
def test_settings_refusals_change_nothing(rw, api, who, changes, status, field):
    response = api(_user(rw, who)).put(
        _consortium_url(rw, "/referral-settings"), {**SETTINGS, **changes}, format="json"
    )
    assert response.status_code == status, response.content
    if field:
        assert field in error_of(response)["fields"]
    assert not ReferralSettings.objects.exists()


def test_subsidies_get_and_put(rw, api):
    url = _consortium_url(rw, "/referral-subsidies")
    assert api(rw.township_doctor).get(url).json() == {
        "subsidies": [
            {"insurance_scheme": "resident", "insurance_scheme_label": "城乡居民医保", "amount": "0.00"},
            {"insurance_scheme": "employee", "insurance_scheme_label": "职工医保", "amount": "0.00"},
        ]
    }
    body = {"subsidies": [{"insurance_scheme": "resident", "amount": "200"}]}
    saved = api(rw.world.office).put(url, body, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["subsidies"][0]["amount"] == "200.00"
    assert DeductibleSubsidy.objects.get().amount == Decimal("200.00")
    refused = api(rw.world.hospital_admin).put(
        url, {"subsidies": [{"insurance_scheme": "resident", "amount": "1"}]}, format="json"
    )
    assert refused.status_code == 403
    # All or none: the second row is refused, so the first is not saved either.
    mixed = api(rw.world.office).put(
        url,
        {
            "subsidies": [
                {"insurance_scheme": "employee", "amount": "80"},
                {"insurance_scheme": "none", "amount": "10"},
            ]
        },
        format="json",
    )
    assert mixed.status_code == 400 and "insurance_scheme" in error_of(mixed)["fields"]
    negative = api(rw.world.office).put(
        url, {"subsidies": [{"insurance_scheme": "employee", "amount": "-5"}]}, format="json"
    )
    assert negative.status_code == 400
    assert list(DeductibleSubsidy.objects.values_list("insurance_scheme", "amount")) == [
        ("resident", Decimal("200.00"))
    ]


# Reserved capacity ---------------------------------------------------------------------------------


def _publish(client, rw, **overrides):
    body = {
        "department": str(rw.cardiology.public_id),
        "kind": "outpatient_slot",
        "date": str(timezone.localdate() + datetime.timedelta(days=2)),
        "quantity": 3,
        **overrides,
    }
    return client.post("/api/v1/referral-capacity", body, format="json")


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("township_doctor", 403),  # another institution's doctor
        ("hospital_nurse", 403),  # same institution, no receiving role
        ("office", 403),
        ("hospital_admin", 200),
        ("hospital_coordinator", 200),
    ],
)
def test_capacity_publish_matrix(rw, api, who, status):
    response = _publish(api(_user(rw, who)), rw)
    assert response.status_code == status, response.content
    assert ReservedCapacity.objects.exists() is (status == 200)


def test_capacity_publish_list_and_bookable_days(rw, api):
    client = api(rw.hospital_coordinator)
    published = _publish(client, rw)
    assert published.status_code == 200, published.content
    assert published.json()["remaining"] == 3 and published.json()["kind_label"] == "门诊号源"
    changed = _publish(client, rw, quantity=5)
    assert changed.json()["quantity"] == 5 and ReservedCapacity.objects.count() == 1
    past = _publish(client, rw, date=str(timezone.localdate() - datetime.timedelta(days=1)))
    assert error_of(past)["fields"] == {"date": ["日期不能早于今天。"]}
    rows = _results(client.get("/api/v1/referral-capacity"))
    assert [(row["department"]["name"], row["quantity"]) for row in rows] == [("心血管内科", 5)]
    assert _results(client.get("/api/v1/referral-capacity", {"kind": "bed"})) == []
    ahead = str(timezone.localdate() + datetime.timedelta(days=10))
    assert _results(client.get("/api/v1/referral-capacity", {"from": ahead})) == []
    too_long = client.get(
        "/api/v1/referral-capacity", {"to": str(timezone.localdate() + datetime.timedelta(days=200))}
    )
    assert too_long.status_code == 400 and "to" in error_of(too_long)["fields"]

    sender = api(rw.township_doctor)
    department = str(rw.cardiology.public_id)
    days = sender.get("/api/v1/referral-capacity/bookable", {"department": department, "kind": "outpatient"})
    assert days.status_code == 200, days.content
    assert [(d["date"], d["remaining"]) for d in days.json()] == [
        (str(timezone.localdate() + datetime.timedelta(days=2)), 5)
    ]
    assert (
        sender.get(
            "/api/v1/referral-capacity/bookable", {"department": department, "kind": "emergency"}
        ).json()
        == []
    )
    assert (
        sender.get(
            "/api/v1/referral-capacity/bookable", {"department": department, "kind": "admission"}
        ).json()
        == []
    )
    unknown = sender.get(
        "/api/v1/referral-capacity/bookable", {"department": str(uuid.uuid4()), "kind": "outpatient"}
    )
    assert error_of(unknown)["fields"] == {"department": ["接收科室不存在或已停用。"]}
    # A sender sees another department's capacity when asking for it by id.
    assert len(_results(sender.get("/api/v1/referral-capacity", {"department": department}))) == 1
    # …and by default only the departments they may publish for (none).
    assert _results(sender.get("/api/v1/referral-capacity")) == []


def test_capacity_lowered_below_bookings_is_refused(rw, api):
    slot = capacity(rw.cardiology, quantity=1, days=2)
    services.referral_submit(
        actor=rw.township_doctor,
        referral=services.referral_create(
            actor=rw.township_doctor,
            person=rw.patient,
            from_institution=rw.world.township,
            to_department=rw.cardiology,
            diagnosis_code="I10",
            diagnosis_name="原发性高血压",
            reason="血压控制不佳",
            patient_consented=True,
        )[0],
        booking_date=slot.date,
    )
    response = _publish(api(rw.world.hospital_admin), rw, quantity=0)
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"quantity": ["已有 1 个预约，数量不能少于已预约数。"]}
    assert ReservedCapacity.objects.get(pk=slot.pk).quantity == 1


# Receivers -----------------------------------------------------------------------------------------


def test_receivers_suggest_the_consortium_members_departments(rw, api):
    client = api(rw.township_doctor)
    response = client.get(
        "/api/v1/referral-receivers",
        {"from_institution": str(rw.world.township.public_id), "diagnosis_code": "I10"},
    )
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [row["name"] for row in rows] == ["心血管内科", "普外科"]
    assert rows[0]["institution"]["name"] == "霍邱县人民医院"
    missing = client.get("/api/v1/referral-receivers")
    assert error_of(missing)["fields"] == {"from_institution": ["该字段是必填项。"]}


# The down-referral worklist and closed-loop duties -------------------------------------------------------


def _stay(rw, name="脑梗死", code="I63.9", days=12, patient=None):
    return encounter_record(
        actor=rw.hospital_doctor,
        institution=rw.world.hospital,
        person=patient or rw.patient,
        kind="inpatient",
        department=rw.cardiology,
        his_number="ZY0001",
        started_at=timezone.now() - datetime.timedelta(days=days),
        diagnosis_code=code,
        diagnosis_name=name,
    )


def test_worklist_lists_flagged_and_rule_matched_inpatients(rw, api, django_assert_num_queries):
    services.criterion_create(actor=rw.world.office, consortium=rw.world.consortium, **CRITERION)
    flagged = _stay(rw, name="股骨骨折术后", code="S72.0", days=3)
    encounter_flag_recovery(actor=rw.hospital_doctor, encounter=flagged, recovery_phase="post_operative")
    _stay(rw, days=12)  # matches the stroke rule (10 days or more)
    _stay(rw, days=2)  # too early for the rule, not flagged
    client = api(rw.hospital_doctor)
    # token, scope, stays, consortia, rules, open referrals, primary members
    with django_assert_num_queries(7):
        rows = _results(client.get("/api/v1/referral-worklist"))
    assert [(row["flagged"], row["days_in_hospital"]) for row in rows] == [(True, 3), (False, 12)]
    assert rows[0]["encounter"]["recovery_phase"] == "post_operative"
    assert rows[1]["rule"]["name"] == "脑卒中恢复期下转"
    assert rows[1]["patient"]["name"] == "李四"
    for n in range(5):
        _stay(rw, days=15 + n)
    with django_assert_num_queries(7):
        assert len(_results(client.get("/api/v1/referral-worklist"))) == 7
    assert _results(api(rw.township_doctor).get("/api/v1/referral-worklist")) == []
    assert api(rw.world.stranger).get("/api/v1/referral-worklist").status_code == 403


def _down_referral_arrived(rw):
    stay = _stay(rw)
    referral, _created = services.referral_create(
        actor=rw.hospital_doctor,
        person=rw.patient,
        from_institution=rw.world.hospital,
        from_department=rw.cardiology,
        to_department=rw.township_clinic,
        encounter=stay,
        kind="outpatient",
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死恢复期",
        reason="恢复期康复",
        recovery_phase="recovery",
        patient_consented=True,
        submit=True,
        acknowledge_missing=True,
    )
    services.referral_act(actor=rw.township_doctor, referral=referral, action="accept")
    services.referral_act(actor=rw.township_nurse, referral=referral, action="arrive")
    return referral


def test_follow_up_duties_are_listed_and_recorded_by_the_primary_institution(rw, api):
    referral = _down_referral_arrived(rw)
    nurse = api(rw.township_nurse)
    rows = _results(nurse.get("/api/v1/referral-follow-ups"))
    assert [row["kind"] for row in rows] == ["follow_up", "rehabilitation"]
    assert rows[0]["referral"]["number"] == referral.number and rows[0]["patient"]["name"] == "李四"
    assert _results(api(rw.hospital_doctor).get("/api/v1/referral-follow-ups")) == []
    task = FollowUpTask.objects.get(referral=referral, kind="follow_up")
    url = f"/api/v1/referral-follow-ups/{task.public_id}/record"
    for who, status in (("hospital_doctor", 403), ("outsider_doctor", 404), ("office", 403)):
        response = api(_user(rw, who)).post(url, {"note": "电话随访"}, format="json")
        assert response.status_code == status, (who, response.content)
    empty = nurse.post(url, {"note": " "}, format="json")
    assert empty.status_code == 400 and "note" in error_of(empty)["fields"]
    assert FollowUpTask.objects.get(pk=task.pk).done_at is None
    done = nurse.post(url, {"note": "上门随访，血压平稳"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["done_at"] and done.json()["note"] == "上门随访，血压平稳"
    again = nurse.post(url, {"note": "再次"}, format="json")
    assert again.status_code == 409 and error_of(again)["message"] == "该任务已登记，无需重复登记。"
    detail = api(rw.hospital_doctor).get(f"/api/v1/referrals/{referral.public_id}").json()
    assert [t["done_at"] is not None for t in detail["follow_up_tasks"]] == [True, False]


def test_overdue_duties_show_to_both_ends(rw, api):
    referral = _down_referral_arrived(rw)
    FollowUpTask.objects.filter(referral=referral).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    for who in ("hospital_doctor", "township_nurse"):
        rows = _results(api(_user(rw, who)).get("/api/v1/referral-follow-ups", {"overdue": "1"}))
        assert len(rows) == 2 and all(row["is_overdue"] for row in rows), who
    office_rows = _results(api(rw.world.office).get("/api/v1/referral-follow-ups", {"overdue": "1"}))
    assert office_rows[0]["patient"]["name"] == "李*"


# Statistics ---------------------------------------------------------------------------------------


def _completed_with_subsidy(rw):
    DeductibleSubsidy.objects.create(consortium=rw.world.consortium, insurance_scheme="resident", amount=200)
    referral = submitted(rw, kind="admission")
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    services.referral_act(actor=rw.hospital_nurse, referral=referral, action="arrive")
    services.referral_act(
        actor=rw.hospital_doctor, referral=referral, action="complete", outcome_summary="好转"
    )
    return referral


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("hospital_admin", 403),
        ("office", 200),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_statistics_matrix(rw, api, who, status):
    _completed_with_subsidy(rw)
    response = api(_user(rw, who)).get(
        "/api/v1/referral-statistics", {"consortium": str(rw.world.consortium.public_id)}
    )
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["summary"]["submitted"] == 1


def test_statistics_figures_rates_and_period(rw, api):
    _completed_with_subsidy(rw)
    month = timezone.localdate().replace(day=1)
    service_volume_record(
        actor=rw.world.township_admin, institution=rw.world.township, month=month, outpatient_visits=50
    )
    client = api(rw.world.office)
    consortium = str(rw.world.consortium.public_id)
    response = client.get("/api/v1/referral-statistics", {"consortium": consortium})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["from"] == str(month) and body["to"] == str(timezone.localdate())
    summary = body["summary"]
    assert (summary["submitted"], summary["up"], summary["completed"], summary["inside"]) == (1, 1, 1, 1)
    assert summary["subsidy_total"] == "200.00"
    assert summary["by_month"][0]["month"] == str(month)
    up = [row for row in body["up_rates"] if row["institution_name"] == "霍邱县城关镇卫生院"]
    assert up[0]["referrals"] == 1 and up[0]["denominator"] == 50 and up[0]["rate"] == 2.0
    assert up[0]["grade"] == "excellent" and up[0]["grade_label"] == "优" and up[0]["rank"] == 1
    assert isinstance(body["down_rates"], list)
    old = client.get(
        "/api/v1/referral-statistics", {"consortium": consortium, "from": "2020-01-01", "to": "2020-03-31"}
    )
    assert old.json()["summary"]["submitted"] == 0
    backwards = client.get(
        "/api/v1/referral-statistics", {"consortium": consortium, "from": "2026-03-01", "to": "2026-01-01"}
    )
    assert error_of(backwards)["fields"] == {"to": ["结束日期不能早于开始日期。"]}
    too_long = client.get(
        "/api/v1/referral-statistics", {"consortium": consortium, "from": "2020-01-01", "to": "2026-01-01"}
    )
    assert too_long.status_code == 400
    missing = client.get("/api/v1/referral-statistics")
    assert error_of(missing)["fields"] == {"consortium": ["该字段是必填项。"]}
    # Another consortium's office may not read this one (it reads as unknown).
    other = ConsortiumFactory(name="另一个医联体", region=rw.world.regions["county"])
    assert client.get("/api/v1/referral-statistics", {"consortium": str(other.public_id)}).status_code == 400
    other_office = user_with_role("consortium_office", username="other_office", consortium=other)
    refused = api(other_office).get("/api/v1/referral-statistics", {"consortium": consortium})
    assert refused.status_code == 400 and "consortium" in error_of(refused)["fields"]
    assert "霍邱" not in refused.content.decode()


def test_statistics_query_count_does_not_grow(rw, api, django_assert_num_queries):
    _completed_with_subsidy(rw)
    client = api(rw.world.office)
    params = {"consortium": str(rw.world.consortium.public_id)}
    # token, scope, consortium, summary (totals, waits, by month, subsidies by completion month),
    # up (members, counts, volumes, bounds), down (leads, departments, counts, volumes, bounds)
    with django_assert_num_queries(16):
        assert client.get("/api/v1/referral-statistics", params).status_code == 200
    for _ in range(3):
        _accepted(rw)
    with django_assert_num_queries(16):
        assert client.get("/api/v1/referral-statistics", params).json()["summary"]["submitted"] == 4


def _accepted(rw):
    """Another answered referral (more rows, same queries)."""
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")


def test_subsidy_report_masks_patients_for_the_office(rw, api):
    referral = _completed_with_subsidy(rw)
    month = timezone.localdate().strftime("%Y-%m")
    params = {"consortium": str(rw.world.consortium.public_id), "month": month}
    response = api(rw.world.office).get("/api/v1/referral-statistics/subsidies", params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and body["total"] == "200.00"
    row = body["referrals"][0]
    assert row["number"] == referral.number and row["subsidy_amount"] == "200.00"
    assert row["patient"]["name"] == "李*" and "李四" not in response.content.decode()
    assert api(rw.hospital_doctor).get("/api/v1/referral-statistics/subsidies", params).status_code == 403
    bad = api(rw.world.office).get("/api/v1/referral-statistics/subsidies", {**params, "month": "next month"})
    assert bad.status_code == 400 and "month" in error_of(bad)["fields"]


def test_statistics_and_subsidy_workbooks(rw, api):
    _completed_with_subsidy(rw)
    consortium = str(rw.world.consortium.public_id)
    client = api(rw.world.office)
    export = client.get("/api/v1/referral-statistics/export.xlsx", {"consortium": consortium})
    assert export.status_code == 200, export.content[:300]
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in export["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(export.content))
    assert workbook.sheetnames[0] == "汇总"
    subsidies = client.get(
        "/api/v1/referral-statistics/subsidies.xlsx",
        {"consortium": consortium, "month": timezone.localdate().strftime("%Y-%m")},
    )
    assert subsidies.status_code == 200
    sheet = load_workbook(io.BytesIO(subsidies.content)).active
    assert "李四" not in [cell.value for row in sheet.iter_rows() for cell in row]
    assert (
        api(rw.hospital_doctor)
        .get("/api/v1/referral-statistics/export.xlsx", {"consortium": consortium})
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    "who,status,single",
    [
        ("anonymous", 401, 401),
        ("stranger", 403, 403),
        ("outsider_doctor", 403, 404),  # staff of an institution outside the consortium
        ("township_admin", 200, 200),  # members' staff read the catalogue
        ("hospital_doctor", 200, 200),
        ("office", 200, 200),
        ("regulator", 200, 200),
        ("admin", 200, 200),
    ],
)
def test_configuration_read_matrix(rw, api, who, status, single):
    criterion = services.criterion_create(actor=rw.world.office, consortium=rw.world.consortium, **CRITERION)
    client = api(_user(rw, who))
    for suffix in ("/referral-criteria", "/referral-settings", "/referral-subsidies"):
        response = client.get(_consortium_url(rw, suffix))
        assert response.status_code == status, (suffix, response.content)
    one = client.get(f"/api/v1/referral-criteria/{criterion.public_id}")
    assert one.status_code == single
    if single != 200:
        assert "脑卒中" not in one.content.decode()
