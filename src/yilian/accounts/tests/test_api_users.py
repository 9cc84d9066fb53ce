"""API of accounts: users, role grants and the audit log, with their authorization matrix."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from yilian.accounts.models import Membership, User
from yilian.accounts.tests.factories import UserFactory, user_with_role
from yilian.core.api.testing import error_of
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.institutions.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Qingshan-lake-2027!"


def _usernames(response):
    assert response.status_code == 200, response.content
    return {row["username"] for row in response.json()["results"]}


# Users ---------------------------------------------------------------------


def test_user_list_is_scoped_by_role(world, api):
    everyone = _usernames(api(world.admin).get("/api/v1/users"))
    assert {"hospital_doctor", "township_admin", "outsider_doctor", "stranger"} <= everyone
    # An institution admin sees their own staff, not another institution's.
    hospital_staff = _usernames(api(world.hospital_admin).get("/api/v1/users"))
    assert {"hospital_admin", "hospital_doctor"} <= hospital_staff
    assert not {"township_admin", "outsider_doctor", "regulator", "platform"} & hospital_staff
    # A doctor sees only themselves.
    assert _usernames(api(world.hospital_doctor).get("/api/v1/users")) == {"hospital_doctor"}


def test_user_list_filters_by_query_and_institution(world, api):
    client = api(world.admin)
    assert _usernames(client.get("/api/v1/users", {"q": "outsider"})) == {"outsider_doctor"}
    staff = _usernames(client.get("/api/v1/users", {"institution": str(world.hospital.public_id)}))
    assert staff == {"hospital_admin", "hospital_doctor"}
    response = client.get("/api/v1/users", {"institution": "not-a-uuid"})
    assert response.status_code == 400
    assert "institution" in error_of(response)["fields"]


def test_user_list_query_count(world, api, django_assert_num_queries):
    for n in range(6):
        user_with_role(Role.NURSE, username=f"nurse{n}", institution=world.hospital)
    client = api(world.hospital_admin)
    # token, scope, count, page
    with django_assert_num_queries(4):
        response = client.get("/api/v1/users")
    assert response.json()["count"] == 8


def test_user_detail_of_another_institutions_staff_is_404(world, api):
    url = f"/api/v1/users/{world.township_admin.public_id}"
    assert api(world.hospital_admin).get(url).status_code == 404
    assert api(world.outsider_doctor).get(url).status_code == 404
    body = api(world.township_admin).get(url).json()
    assert body["username"] == "township_admin"
    assert "password" not in body and "id" not in body


def test_institution_admin_creates_a_staff_account(world, api):
    response = api(world.hospital_admin).post(
        "/api/v1/users",
        {"username": "new_nurse", "password": NEW_PASSWORD, "full_name": "王护士", "phone": "13900001111"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["username"] == "new_nurse" and "password" not in created
    assert User.objects.get(username="new_nurse").check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user.create", actor=world.hospital_admin).exists()


def test_institution_admin_grants_a_role_to_own_staff(world, api):
    nurse = user_with_role(Role.NURSE, username="ward_nurse", institution=world.hospital)
    department = DepartmentFactory(institution=world.hospital)
    response = api(world.hospital_admin).post(
        "/api/v1/memberships",
        {
            "user": str(nurse.public_id),
            "role": "quality_officer",
            "institution": str(world.hospital.public_id),
            "department": str(department.public_id),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["public_id"] == str(nurse.public_id)
    assert body["department"]["public_id"] == str(department.public_id)
    assert Membership.objects.filter(user=nurse, role="quality_officer", institution=world.hospital).exists()
    assert AuditEvent.objects.filter(action="membership.grant", actor=world.hospital_admin).exists()
    assert api(nurse).get("/api/v1/me").json()["roles"] == ["nurse", "quality_officer"]


def test_platform_admin_creates_an_account_and_grants_its_first_role(world, api):
    client = api(world.admin)
    created = client.post("/api/v1/users", {"username": "fresh", "password": NEW_PASSWORD}, format="json")
    assert created.status_code == 201
    grant = client.post(
        "/api/v1/memberships",
        {"user": created.json()["public_id"], "role": "doctor", "institution": str(world.township.public_id)},
        format="json",
    )
    assert grant.status_code == 201, grant.content
    assert grant.json()["institution"]["public_id"] == str(world.township.public_id)


def test_weak_password_and_duplicate_username_are_field_errors(world, api):
    client = api(world.admin)
    weak = client.post("/api/v1/users", {"username": "weakling", "password": "123"}, format="json")
    assert weak.status_code == 400
    assert "password" in error_of(weak)["fields"]
    taken = client.post(
        "/api/v1/users", {"username": "hospital_doctor", "password": NEW_PASSWORD}, format="json"
    )
    assert taken.status_code == 400
    assert error_of(taken)["fields"]["username"] == ["该用户名已被使用。"]
    bad_title = client.post(
        "/api/v1/users",
        {"username": "titled", "password": NEW_PASSWORD, "professional_title": "surgeon_general"},
        format="json",
    )
    assert "professional_title" in error_of(bad_title)["fields"]
    assert not User.objects.filter(username__in=["weakling", "titled"]).exists()


@pytest.mark.parametrize("who", ["hospital_doctor", "stranger", "regulator", "office"])
def test_users_without_an_admin_role_cannot_create_accounts(world, api, who):
    response = api(getattr(world, who)).post(
        "/api/v1/users", {"username": "intruder", "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "not_allowed"
    assert not User.objects.filter(username="intruder").exists()


def test_patch_user_matrix(world, api):
    url = f"/api/v1/users/{world.hospital_doctor.public_id}"
    # Another institution's admin cannot even see the account.
    assert api(world.township_admin).patch(url, {"full_name": "改名"}, format="json").status_code == 404
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.full_name != "改名"
    # The institution's admin can change it.
    response = api(world.hospital_admin).patch(
        url, {"full_name": "李医生", "professional_title": "attending_physician"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["professional_title_label"] == "主治医师"
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.full_name == "李医生"
    # Users change their own profile but cannot deactivate themselves.
    own = api(world.hospital_doctor).patch(url, {"phone": "13800001234", "is_active": False}, format="json")
    assert own.status_code == 200
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.phone == "13800001234" and world.hospital_doctor.is_active
    bad_phone = api(world.hospital_doctor).patch(url, {"phone": "abc"}, format="json")
    assert error_of(bad_phone)["fields"]["phone"] == ["手机号只能包含数字。"]


def test_set_password(world, api):
    url = f"/api/v1/users/{world.hospital_doctor.public_id}/set-password"
    assert api(world.township_admin).post(url, {"password": NEW_PASSWORD}, format="json").status_code == 404
    weak = api(world.hospital_doctor).post(url, {"password": "short"}, format="json")
    assert weak.status_code == 400 and "password" in error_of(weak)["fields"]
    assert api(world.hospital_doctor).post(url, {"password": NEW_PASSWORD}, format="json").status_code == 204
    login = APIClient().post(
        "/api/v1/auth/token", {"username": "hospital_doctor", "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    assert NEW_PASSWORD not in str(list(AuditEvent.objects.values("before", "after", "details")))


# Memberships ---------------------------------------------------------------


def test_membership_list_matrix(world, api):
    hospital = {"institution": str(world.hospital.public_id)}
    staff = api(world.hospital_admin).get("/api/v1/memberships", hospital).json()["results"]
    assert {row["user"]["username"] for row in staff} == {"hospital_admin", "hospital_doctor"}
    # Another institution's admin learns nothing about the hospital's staff.
    assert api(world.township_admin).get("/api/v1/memberships", hospital).json()["results"] == []
    # Without a filter a doctor sees only their own grants.
    own = api(world.hospital_doctor).get("/api/v1/memberships").json()["results"]
    assert [row["user"]["username"] for row in own] == ["hospital_doctor"]
    everything = api(world.admin).get("/api/v1/memberships").json()
    assert everything["count"] == Membership.objects.count()


def test_membership_list_by_user_includes_revoked(world, api):
    doctor = world.hospital_doctor
    Membership.objects.filter(user=doctor).update(is_active=False)
    user_with_role(Role.NURSE, username="hospital_doctor", institution=world.hospital)
    rows = api(world.admin).get("/api/v1/memberships", {"user": str(doctor.public_id)}).json()["results"]
    assert [(row["role"], row["is_active"]) for row in rows] == [("nurse", True), ("doctor", False)]


def test_membership_list_query_count(world, api, django_assert_num_queries):
    for n in range(5):
        user_with_role(Role.DOCTOR, username=f"doc{n}", institution=world.hospital)
    client = api(world.admin)
    # token, scope, count, page (user, institution, consortium, region, department joined)
    with django_assert_num_queries(4):
        assert client.get("/api/v1/memberships").status_code == 200
    # + resolving the institution filter
    with django_assert_num_queries(5):
        response = client.get("/api/v1/memberships", {"institution": str(world.hospital.public_id)})
    assert response.json()["count"] == 7


def test_membership_detail_is_scoped(world, api):
    membership = Membership.objects.get(user=world.hospital_doctor)
    url = f"/api/v1/memberships/{membership.public_id}"
    assert api(world.hospital_admin).get(url).json()["role"] == "doctor"
    assert api(world.township_admin).get(url).status_code == 404


def test_duplicate_membership_is_a_field_error_and_saves_nothing(world, api):
    before = Membership.objects.count()
    response = api(world.hospital_admin).post(
        "/api/v1/memberships",
        {
            "user": str(world.hospital_doctor.public_id),
            "role": "doctor",
            "institution": str(world.hospital.public_id),
        },
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"role": ["该用户已有此授权。"]}
    assert Membership.objects.count() == before


def test_grant_matrix(world, api):
    payload = {
        "user": str(world.hospital_doctor.public_id),
        "role": "nurse",
        "institution": str(world.township.public_id),
    }
    before = Membership.objects.count()
    # Another institution's admin cannot see the user: the reference does not resolve.
    response = api(world.township_admin).post("/api/v1/memberships", payload, format="json")
    assert response.status_code == 400 and "user" in error_of(response)["fields"]
    # The user's own admin cannot grant a role in an institution they do not administer.
    response = api(world.hospital_admin).post("/api/v1/memberships", payload, format="json")
    assert response.status_code == 403
    # Nor a role that only a platform admin grants.
    regulator = {"user": str(world.hospital_doctor.public_id), "role": "regulator", "region": "341522"}
    assert api(world.hospital_admin).post("/api/v1/memberships", regulator, format="json").status_code == 403
    assert Membership.objects.count() == before
    # A platform admin can.
    response = api(world.admin).post("/api/v1/memberships", regulator, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["region"]["code"] == "341522"


def test_grant_with_two_targets_or_a_wrong_role_is_invalid(world, api):
    response = api(world.admin).post(
        "/api/v1/memberships",
        {
            "user": str(world.stranger.public_id),
            "role": "doctor",
            "institution": str(world.hospital.public_id),
            "consortium": str(world.consortium.public_id),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "__all__" in error_of(response)["fields"]
    unknown_role = api(world.admin).post(
        "/api/v1/memberships", {"user": str(world.stranger.public_id), "role": "king"}, format="json"
    )
    assert "role" in error_of(unknown_role)["fields"]
    assert not Membership.objects.filter(user=world.stranger).exists()


def test_revoke_matrix(world, api):
    membership = Membership.objects.get(user=world.hospital_doctor)
    url = f"/api/v1/memberships/{membership.public_id}/revoke"
    assert api(world.township_admin).post(url).status_code == 404
    assert api(world.hospital_doctor).post(url).status_code == 403
    membership.refresh_from_db()
    assert membership.is_active
    response = api(world.hospital_admin).post(url)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    again = api(world.hospital_admin).post(url)
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"
    # The revoked doctor's token still authenticates but the role is gone.
    assert api(world.hospital_doctor).get("/api/v1/me").json()["roles"] == []


# Audit log -----------------------------------------------------------------


def _audit(client, **params):
    response = client.get("/api/v1/audit-events", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_audit_log_records_api_changes_with_the_request_id(world, api):
    api(world.hospital_admin).patch(
        f"/api/v1/institutions/{world.hospital.public_id}",
        {"phone": "0564-6012345"},
        format="json",
        HTTP_X_REQUEST_ID="audit-req-0001",
    )
    [event] = _audit(api(world.admin), action="institution.update")
    assert event["actor"] == "hospital_admin"
    assert event["object_id"] == str(world.hospital.public_id)
    assert event["after"] == {"phone": "0564-6012345"}
    assert event["request_id"] == "audit-req-0001"


def test_audit_log_filters_and_scope(world, api):
    UserFactory(username="other")
    api(world.hospital_admin).patch(
        f"/api/v1/institutions/{world.hospital.public_id}", {"beds": 700}, format="json"
    )
    api(world.township_admin).patch(
        f"/api/v1/institutions/{world.township.public_id}", {"beds": 60}, format="json"
    )
    admin = api(world.admin)
    assert len(_audit(admin, object_type="institutions.institution")) == 2
    # Each API client's login is an event too (api_token.issue, platform-wide only).
    assert [event["action"] for event in _audit(admin, actor="township_admin")] == [
        "institution.update",
        "api_token.issue",
    ]
    assert len(_audit(admin, object_id=str(world.township.public_id))) == 1
    assert len(_audit(admin, q="霍邱县人民医院")) == 1
    assert _audit(admin, since="2999-01-01") == []
    assert len(_audit(admin, action="institution.update", until="2999-01-01T00:00:00+08:00")) == 2
    # An institution admin reads their own institution's events only.
    own = _audit(api(world.hospital_admin))
    assert {event["object_id"] for event in own} == {str(world.hospital.public_id)}


def test_audit_log_rejects_bad_filters(world, api):
    response = api(world.admin).get("/api/v1/audit-events", {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in error_of(response)["fields"]


@pytest.mark.parametrize("who", ["hospital_doctor", "outsider_doctor", "stranger"])
def test_audit_log_is_not_for_clinical_staff(world, api, who):
    response = api(getattr(world, who)).get("/api/v1/audit-events")
    assert response.status_code == 403
    assert error_of(response)["message"] == "您没有执行此操作的权限。"


def test_audit_log_query_count(world, api, django_assert_num_queries):
    client = api(world.hospital_admin)
    for beds in range(100, 106):
        client.patch(f"/api/v1/institutions/{world.hospital.public_id}", {"beds": beds}, format="json")
    # token, scope, administered institutions, offices, count, page (actor joined)
    with django_assert_num_queries(6):
        events = _audit(client)
    assert len(events) == 6
    admin = api(world.admin)
    with django_assert_num_queries(4):
        events = _audit(admin)
    # The six changes, and the logins of the two API clients.
    assert [event["action"] for event in events].count("institution.update") == 6
    assert len(events) == 8


def test_password_never_appears_in_responses_or_audit(world, api):
    response = api(world.admin).post(
        "/api/v1/users", {"username": "secretive", "password": NEW_PASSWORD}, format="json"
    )
    assert NEW_PASSWORD not in response.content.decode()
    events = str(list(AuditEvent.objects.values("before", "after", "details")))
    assert NEW_PASSWORD not in events and "password" not in events


def test_institution_admin_creates_staff_with_first_role_in_one_step(world, api):
    from yilian.accounts.models import Membership, User

    response = api(world.hospital_admin).post(
        "/api/v1/users",
        {
            "username": "new_nurse",
            "full_name": "李护士",
            "password": "Strong-Passw0rd-2026",
            "institution": str(world.hospital.public_id),
            "role": "nurse",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="new_nurse")
    assert Membership.objects.filter(
        user=user, institution=world.hospital, role="nurse", is_active=True
    ).exists()
    # The new account is visible to the admin at once, so further roles can be granted.
    assert api(world.hospital_admin).get(f"/api/v1/users/{user.public_id}").status_code == 200


def test_institution_admin_cannot_create_staff_elsewhere(world, api):
    from yilian.accounts.models import User

    response = api(world.hospital_admin).post(
        "/api/v1/users",
        {
            "username": "intruder",
            "password": "Strong-Passw0rd-2026",
            "institution": str(world.township.public_id),
            "role": "doctor",
        },
        format="json",
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="intruder").exists()
