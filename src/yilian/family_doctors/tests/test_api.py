"""The family-doctor API: the authorization matrix, writes, 409s and constant query counts."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yilian.core.api.testing import api_client, error_of
from yilian.family_doctors.models import CareTeamMember, FamilyDoctorContract
from yilian.family_doctors.tests.factories import resident, second_team, sign, today

pytestmark = pytest.mark.django_db


def _get(user, url, **params):
    return api_client(user).get(url, params)


def _post(user, url, body=None):
    return api_client(user).post(url, body or {}, format="json")


@pytest.mark.parametrize(
    ("who", "status", "teams"),
    [
        ("anonymous", 401, None),
        ("stranger", 403, None),
        ("outsider_doctor", 200, 0),
        ("hospital_other_doctor", 200, 0),
        ("hospital_admin", 200, 0),
        ("specialist", 200, 1),
        ("gp", 200, 1),
        ("township_admin", 200, 1),
        ("office", 200, 1),
        ("regulator", 200, 1),
        ("admin", 200, 1),
    ],
)
def test_team_list_matrix(fw, who, status, teams):
    response = _get(fw.users()[who], "/api/v1/care-teams")
    assert response.status_code == status, response.content
    if teams is not None:
        assert response.json()["count"] == teams


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 404),
        ("hospital_other_doctor", 404),
        ("office", 403),
        ("regulator", 403),
        ("specialist", 200),
        ("nurse", 200),
        ("township_admin", 200),
        ("admin", 200),
    ],
)
def test_panel_matrix(fw, who, status):
    sign(fw)
    response = _get(fw.users()[who], f"/api/v1/care-teams/{fw.team.public_id}/panel")
    assert response.status_code == status, response.content
    if status == 200:
        body = response.json()
        assert body["count"] == 1 and body["results"][0]["person"]["name"] == "王芳"
    elif status != 401:
        assert "王芳" not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("office", 404),
        ("regulator", 404),
        ("hospital_admin", 404),
        ("hospital_other_doctor", 404),
        ("specialist", 200),
        ("gp", 200),
        ("township_admin", 200),
    ],
)
def test_contract_detail_matrix(fw, who, status):
    contract = sign(fw)
    response = _get(fw.users()[who], f"/api/v1/contracts/{contract.public_id}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["term_history"][0]["sequence"] == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("specialist", 403),
        ("office", 403),
        ("regulator", 403),  # reads the region's packages, signs nothing
        ("hospital_admin", 400),  # may not use the team: reads as an unknown team
        ("outsider_doctor", 400),
        ("nurse", 201),
        ("township_admin", 201),
    ],
)
def test_sign_matrix(fw, who, status):
    body = {
        "team": str(fw.team.public_id),
        "person": str(fw.resident.public_id),
        "package": str(fw.basic.public_id),
    }
    response = _post(fw.users()[who], "/api/v1/contracts", body)
    assert response.status_code == status, response.content
    assert FamilyDoctorContract.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        data = response.json()
        assert data["status"] == "signed" and data["number"].startswith("QY")


def test_second_signing_is_409_with_a_clear_message(fw):
    sign(fw)
    other = second_team(fw)
    body = {
        "team": str(other.public_id),
        "person": str(fw.resident.public_id),
        "package": str(fw.basic.public_id),
    }
    response = _post(fw.world.township_admin, "/api/v1/contracts", body)
    assert response.status_code == 409
    assert "解约" in error_of(response)["message"]


def test_sign_bad_input_is_400_and_saves_nothing(fw):
    body = {
        "team": str(fw.team.public_id),
        "person": str(fw.outside_resident.public_id),
        "package": str(fw.basic.public_id),
    }
    assert _post(fw.gp, "/api/v1/contracts", body).status_code == 400
    body["person"] = str(fw.resident.public_id)
    body["priority_groups"] = ["elderly"]
    response = _post(fw.gp, "/api/v1/contracts", body)
    assert response.status_code == 400 and "priority_groups" in response.json()["error"]["fields"]
    body["priority_groups"] = ["nonsense"]
    assert _post(fw.gp, "/api/v1/contracts", body).status_code == 400
    body.pop("priority_groups")
    body["unexpected"] = 1
    assert _post(fw.gp, "/api/v1/contracts", body).status_code == 400
    assert not FamilyDoctorContract.objects.exists()


def test_sign_new_resident_through_the_api(fw):
    from yilian.people.tests.factories import resident_id

    body = {
        "team": str(fw.team.public_id),
        "resident": {"name": "孙新", "id_number": resident_id(birth=datetime.date(1950, 2, 2))},
        "package": str(fw.basic.public_id),
        "priority_groups": ["elderly"],
    }
    response = _post(fw.gp, "/api/v1/contracts", body)
    assert response.status_code == 201, response.content
    assert response.json()["person"]["name"] == "孙新"


def test_renew_and_terminate_with_versions(fw):
    contract = sign(
        fw, starts_on=today() - datetime.timedelta(days=20), ends_on=today() + datetime.timedelta(days=30)
    )
    url = f"/api/v1/contracts/{contract.public_id}"
    response = _post(fw.gp, f"{url}/renew", {"expected_version": contract.version})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "renewed" and response.json()["terms"] == 2
    stale = _post(
        fw.gp, f"{url}/terminate", {"reason": "resident_request", "expected_version": contract.version}
    )
    assert stale.status_code == 409
    assert _post(fw.specialist, f"{url}/terminate", {"reason": "resident_request"}).status_code == 403
    done = _post(
        fw.gp, f"{url}/terminate", {"reason": "resident_request", "expected_version": contract.version + 1}
    )
    assert done.status_code == 200 and done.json()["status"] == "terminated"
    assert _post(fw.gp, f"{url}/terminate", {"reason": "resident_request"}).status_code == 409


def test_team_create_and_members_through_the_api(fw):
    admin = fw.world.township_admin
    response = _post(
        admin,
        "/api/v1/care-teams",
        {
            "institution": str(fw.world.township.public_id),
            "name": "城关三队",
            "grid": str(fw.grid.public_id),
            "leader": str(fw.nurse.public_id),
            "leader_role": "nurse",
        },
    )
    assert response.status_code == 201, response.content
    team_id = response.json()["public_id"]
    added = _post(
        admin,
        f"/api/v1/care-teams/{team_id}/members",
        {"user": str(fw.specialist.public_id), "role": "specialist"},
    )
    assert added.status_code == 201
    assert len([m for m in added.json()["members"] if m["left_on"] is None]) == 2
    wrong = _post(
        admin,
        f"/api/v1/care-teams/{team_id}/members",
        {"user": str(fw.nurse.public_id), "role": "general_practitioner"},
    )
    assert wrong.status_code == 400  # already a member: not among the candidates
    leader = _post(admin, f"/api/v1/care-teams/{team_id}/members/{fw.nurse.public_id}/remove")
    assert leader.status_code == 400
    removed = _post(admin, f"/api/v1/care-teams/{team_id}/members/{fw.specialist.public_id}/remove")
    assert removed.status_code == 200
    assert CareTeamMember.objects.filter(
        team__public_id=team_id, user=fw.specialist, left_on__isnull=False
    ).exists()
    assert (
        _post(
            fw.gp,
            f"/api/v1/care-teams/{team_id}/members",
            {"user": str(fw.gp.public_id), "role": "general_practitioner"},
        ).status_code
        == 404
    )
    assert (
        api_client(fw.world.office)
        .patch(f"/api/v1/care-teams/{team_id}", {"name": "x"}, format="json")
        .status_code
        == 403
    )


def test_packages_through_the_api(fw):
    body = {
        "consortium": str(fw.world.consortium.public_id),
        "name": "孕产妇服务包",
        "kind": "personalised",
        "annual_price": "60.00",
        "contents": ["产前随访", "产后访视"],
    }
    assert _post(fw.world.township_admin, "/api/v1/service-packages", body).status_code == 403
    response = _post(fw.world.office, "/api/v1/service-packages", body)
    assert response.status_code == 201, response.content
    assert response.json()["contents"] == ["产前随访", "产后访视"]
    listed = _get(fw.gp, "/api/v1/service-packages").json()
    assert listed["count"] == 3
    # A regulator reads the packages of the consortia in its region.
    assert _get(fw.users()["regulator"], "/api/v1/service-packages").json()["count"] == 3


def test_coverage_is_aggregate_for_oversight(fw):
    sign(fw, who=fw.elder, priority_groups=["elderly"])
    for who in ("office", "regulator", "township_admin"):
        response = _get(fw.users()[who], "/api/v1/family-doctor-coverage", by="institution")
        assert response.status_code == 200
        assert "赵大爷" not in response.content.decode()
        row = response.json()[0]
        assert row["signed"] == 1


def _count(user, url):
    client = api_client(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), response.json()["count"]


def test_panel_and_list_query_counts_are_constant(fw):
    people = [resident(f"居民{n}", fw.grid) for n in range(3)]
    for who in people[:2]:
        sign(fw, who=who, priority_groups=["poor"])
    panel = f"/api/v1/care-teams/{fw.team.public_id}/panel"
    few_panel = _count(fw.gp, panel)
    few_list = _count(fw.gp, "/api/v1/contracts")
    few_teams = _count(fw.world.township_admin, "/api/v1/care-teams")
    for n in range(8):
        sign(fw, who=resident(f"新居民{n}", fw.grid), priority_groups=["poor", "disabled"])
    second_team(fw, "城关四队")
    assert _count(fw.gp, panel) == (few_panel[0], 10)
    assert _count(fw.gp, "/api/v1/contracts") == (few_list[0], 10)
    assert _count(fw.world.township_admin, "/api/v1/care-teams")[0] == few_teams[0]
