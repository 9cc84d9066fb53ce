"""The API: enrol, follow-ups with bad input, overdue list with constant queries, suggestions and the
one-action referral, rates for oversight roles, and the authorization matrix."""

from __future__ import annotations

import pytest

from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.chronic_care.tests.factories import care_world, days_ago, enrol, visit
from yilian.core.api.testing import api_client, error_of
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def test_enrol_and_follow_up_through_the_api(world):
    cw = care_world(world)
    client = api_client(cw.gp)
    response = client.post(
        "/api/v1/chronic-cases",
        {
            "person": str(cw.patient.public_id),
            "registry": "diabetes_t2",
            "institution": str(world.township.public_id),
            "care_team": str(cw.team.public_id),
            "diagnosis_code": "E11.900",
            "enrolled_on": days_ago(60).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    case_id = response.json()["public_id"]
    again = client.post(
        "/api/v1/chronic-cases",
        {
            "person": str(cw.patient.public_id),
            "registry": "diabetes_t2",
            "institution": str(world.township.public_id),
            "diagnosis_code": "E11",
        },
        format="json",
    )
    assert again.status_code == 409
    bad = client.post(
        f"/api/v1/chronic-cases/{case_id}/follow-ups",
        {
            "method": "clinic",
            "adherence": "regular",
            "fasting_glucose": "40",
            "systolic": 20,
            "diastolic": 10,
        },
        format="json",
    )
    assert bad.status_code == 400
    fields = error_of(bad)["fields"]
    assert "fasting_glucose" in fields and "systolic" in fields
    assert "1–35" in fields["fasting_glucose"][0]
    assert not FollowUp.objects.exists()
    good = client.post(
        f"/api/v1/chronic-cases/{case_id}/follow-ups",
        {
            "method": "clinic",
            "adherence": "regular",
            "fasting_glucose": "6.2",
            "systolic": 128,
            "diastolic": 78,
            "weight_kg": "66",
        },
        format="json",
    )
    assert good.status_code == 201, good.json()
    assert good.json()["control"] == "controlled"
    listed = client.get(f"/api/v1/chronic-cases/{case_id}/follow-ups")
    assert listed.status_code == 200 and listed.json()["count"] == 1


def test_diagnosis_outside_registry_is_400(world):
    cw = care_world(world)
    response = api_client(cw.gp).post(
        "/api/v1/chronic-cases",
        {
            "person": str(cw.patient.public_id),
            "registry": "hypertension",
            "institution": str(world.township.public_id),
            "diagnosis_code": "E11",
        },
        format="json",
    )
    assert response.status_code == 400 and "diagnosis_code" in error_of(response)["fields"]


def test_overdue_list_constant_queries(world, django_assert_max_num_queries):
    cw = care_world(world)
    client = api_client(cw.gp)

    def make(count: int) -> None:
        for index in range(count):
            case = enrol(
                cw,
                patient=person(f"逾期{index}-{count}", institution=world.township),
                enrolled_on=days_ago(300),
            )
            visit(cw, case, days=200)

    make(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        response = client.get("/api/v1/chronic-cases/overdue")
    assert response.status_code == 200 and response.json()["count"] == 2
    assert response.json()["results"][0]["days_overdue"] == 200 - 91
    make(5)
    with django_assert_max_num_queries(len(few)):
        response = client.get("/api/v1/chronic-cases/overdue?order=-days")
    assert response.json()["count"] == 7


def test_suggestion_proposal_and_refer(world):
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, sbp=188, dbp=115, danger_signs=["chest_back_pain"])
    client = api_client(cw.gp)
    suggestions = client.get("/api/v1/chronic-follow-ups/suggestions").json()
    assert suggestions["count"] == 1 and suggestions["results"][0]["suggestion"] == "refer_emergency"
    proposal = client.get(f"/api/v1/chronic-follow-ups/{follow_up.public_id}/referral-proposal").json()
    assert proposal["priority"] == "stat" and proposal["department"] == str(cw.cardiology.public_id)
    no_consent = client.post(
        f"/api/v1/chronic-follow-ups/{follow_up.public_id}/refer",
        {"patient_consented": False, "acknowledge_missing": True},
        format="json",
    )
    assert no_consent.status_code == 400
    sent = client.post(
        f"/api/v1/chronic-follow-ups/{follow_up.public_id}/refer",
        {"patient_consented": True, "acknowledge_missing": True},
        format="json",
    )
    assert sent.status_code == 201, sent.json()
    assert (
        client.post(
            f"/api/v1/chronic-follow-ups/{follow_up.public_id}/refer",
            {"patient_consented": True},
            format="json",
        ).status_code
        == 409
    )
    detail = client.get(f"/api/v1/chronic-follow-ups/{follow_up.public_id}").json()
    assert detail["referral"] == sent.json()["referral"] and detail["suggestion_state"] == "referred"


@pytest.mark.parametrize(
    ("who", "cases", "rates"),
    [
        ("anonymous", 401, 401),
        ("stranger", 403, 403),
        ("outsider_doctor", 200, 200),
        ("hospital_doctor", 200, 200),
        ("gp", 200, 200),
        ("specialist", 200, 200),
        ("office", 403, 200),
        ("regulator", 403, 200),
        ("admin", 403, 200),
    ],
)
def test_api_matrix(world, who, cases, rates):
    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=2)
    client = api_client(cw.users()[who])
    response = client.get("/api/v1/chronic-cases")
    assert response.status_code == cases
    if cases == 200:
        names = [row["patient"]["name"] for row in response.json()["results"]]
        assert names == (["王老汉"] if who in ("gp", "specialist") else [])
    assert client.get("/api/v1/chronic-rates").status_code == rates
    detail = client.get(f"/api/v1/chronic-cases/{case.public_id}")
    assert detail.status_code == (
        200 if who in ("gp", "specialist") else {401: 401, 403: 403}.get(cases, 404)
    )


def test_rates_are_aggregates(world):
    cw = care_world(world)
    controlled = enrol(cw)
    visit(cw, controlled, days=1)
    other = enrol(cw, patient=person("赵二", institution=world.township), care_team=cw.other_team)
    visit(cw, other, days=1, sbp=170, dbp=100)
    body = api_client(world.office).get("/api/v1/chronic-rates?group=team").json()
    assert body["total"]["managed"] == 2 and body["total"]["controlled"] == 1
    assert body["total"]["control_rate"] == 50.0
    assert {row["label"] for row in body["rows"]} == {"城关一队", "城关二队"}
    assert "王老汉" not in str(body)
    consortium = api_client(world.regulator).get("/api/v1/chronic-rates?group=consortium").json()
    assert consortium["rows"][0]["label"] == world.consortium.name and consortium["rows"][0]["managed"] == 2


def test_registry_api(world):
    cw = care_world(world)
    assert (
        api_client(cw.gp)
        .post("/api/v1/chronic-registries", {"code": "copd", "name": "慢阻肺"}, format="json")
        .status_code
        == 403
    )
    created = api_client(world.admin).post(
        "/api/v1/chronic-registries",
        {
            "code": "copd",
            "name": "慢阻肺",
            "icd10_ranges": "J44",
            "measures": ["blood_pressure"],
            "follow_ups_per_year": 4,
            "systolic_below": 140,
            "diastolic_below": 90,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    patched = api_client(world.office).patch(
        "/api/v1/chronic-registries/copd", {"follow_ups_per_year": 3}, format="json"
    )
    assert patched.status_code == 400
    assert api_client(cw.gp).get("/api/v1/chronic-registries").json()["count"] == 3
    assert ChronicCase.objects.count() == 0
