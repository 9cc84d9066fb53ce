"""API tokens: stored hashed, expiring, revoked by logout, password change and deactivation, audited."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from yilian.accounts import selectors, services
from yilian.accounts.models import ApiToken, api_key_hash
from yilian.accounts.tests.factories import PASSWORD
from yilian.core.api.testing import error_of
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Xin-mima-2026!"


@pytest.fixture(autouse=True)
def _clear_throttle(db):
    cache.clear()
    yield
    cache.clear()


def _token(username="hospital_doctor", address="10.0.0.1"):
    response = APIClient().post(
        "/api/v1/auth/token", {"username": username, "password": PASSWORD}, format="json", REMOTE_ADDR=address
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _all_stored_text(*tables):
    rows = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            rows.extend(cursor.fetchall())
    return " ".join(str(value) for row in rows for value in row)


def test_the_raw_key_is_stored_nowhere_and_the_issue_is_audited(world):
    key = _token()
    token = ApiToken.objects.get(user=world.hospital_doctor)
    assert token.key_hash == api_key_hash(key) and len(token.key_hash) == 64
    stored = _all_stored_text(ApiToken._meta.db_table, AuditEvent._meta.db_table)
    assert key not in stored and key[3:] not in stored
    event = AuditEvent.objects.get(action="api_token.issue")
    assert event.actor == world.hospital_doctor
    assert event.object_id == str(world.hospital_doctor.public_id)
    assert event.details["token"] == token.pk
    assert event.details["expires_at"] == token.expires_at.isoformat()


@override_settings(API_TOKEN_TTL_HOURS=12)
def test_tokens_expire_after_the_configured_lifetime(world):
    key = _token()
    token = ApiToken.objects.get(user=world.hospital_doctor)
    assert token.expires_at - token.created_at == datetime.timedelta(hours=12)
    assert _client(key).get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = _client(key).get("/api/v1/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_expired_tokens_are_deleted_when_the_user_logs_in_again(world):
    _token()
    ApiToken.objects.update(expires_at=timezone.now() - datetime.timedelta(hours=1))
    fresh = _token()
    assert list(ApiToken.objects.values_list("key_hash", flat=True)) == [api_key_hash(fresh)]


def test_token_stops_working_after_a_password_change(world):
    key = _token()
    other = _token()
    client = _client(key)
    assert client.get("/api/v1/me").status_code == 200
    response = client.post(
        f"/api/v1/users/{world.hospital_doctor.public_id}/set-password",
        {"password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert _client(other).get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=world.hospital_doctor).exists()
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.details == {"count": 2, "reason": "password"}
    assert event.actor == world.hospital_doctor


def test_token_stops_working_when_an_admin_resets_the_password(world):
    key = _token()
    services.user_set_password(actor=world.hospital_admin, user=world.hospital_doctor, password=NEW_PASSWORD)
    assert _client(key).get("/api/v1/me").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == world.hospital_admin and event.details["reason"] == "password"


def test_token_stops_working_when_the_account_is_deactivated(world, api):
    key = _token()
    response = api(world.hospital_admin).patch(
        f"/api/v1/users/{world.hospital_doctor.public_id}", {"is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert _client(key).get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=world.hospital_doctor).exists()
    assert AuditEvent.objects.get(action="api_token.revoke").details == {"count": 1, "reason": "deactivated"}
    # Reactivation does not bring the token back.
    api(world.hospital_admin).patch(
        f"/api/v1/users/{world.hospital_doctor.public_id}", {"is_active": True}, format="json"
    )
    assert _client(key).get("/api/v1/me").status_code == 401


def test_token_of_a_user_deactivated_behind_the_services_back_is_refused(world):
    key = _token()
    world.hospital_doctor.is_active = False
    world.hospital_doctor.save()
    assert _client(key).get("/api/v1/me").status_code == 401
    assert selectors.api_token_user(key) is None


def test_profile_changes_keep_tokens(world, api):
    key = _token()
    api(world.hospital_admin).patch(
        f"/api/v1/users/{world.hospital_doctor.public_id}", {"phone": "13800000000"}, format="json"
    )
    assert _client(key).get("/api/v1/me").status_code == 200
    assert not AuditEvent.objects.filter(action="api_token.revoke").exists()


def test_logout_revokes_only_the_presented_token(world):
    key = _token()
    other = _token()
    client = _client(key)
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/auth/logout").status_code == 401
    assert _client(other).get("/api/v1/me").status_code == 200
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == world.hospital_doctor
    assert event.details["reason"] == "logout" and event.details["count"] == 1
    assert key not in str(event.details)


def test_logout_needs_a_token(world):
    assert APIClient().post("/api/v1/auth/logout").status_code == 401
    session = APIClient()
    session.force_login(world.hospital_doctor)
    response = session.post("/api/v1/auth/logout")
    assert response.status_code == 400
    assert error_of(response)["message"] == "此请求未使用 API 令牌。"


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token " + "x" * 300, "Token yl_not-issued-by-us"],
)
def test_malformed_or_unknown_keys_are_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_last_use_is_recorded_at_most_once_a_minute(world, django_assert_num_queries):
    key = _token()
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    # Fresh token: no write on use (it was just issued).
    with django_assert_num_queries(1):
        assert selectors.api_token_user(key) == world.hospital_doctor
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(created_at=long_ago)
    with django_assert_num_queries(2):
        assert selectors.api_token_user(key) == world.hospital_doctor
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > long_ago
    # Used again within the minute: read only.
    with django_assert_num_queries(1):
        assert selectors.api_token_user(key) == world.hospital_doctor
    with django_assert_num_queries(0):
        assert selectors.api_token_user("") is None


# Services ------------------------------------------------------------------------------


def test_issue_refuses_an_inactive_account(world):
    world.hospital_doctor.is_active = False
    world.hospital_doctor.save()
    with pytest.raises(NotAllowed):
        services.api_token_issue(user=world.hospital_doctor)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("hospital_doctor", True),  # own tokens
        ("hospital_admin", True),  # administers the doctor's only institution
        ("admin", True),
        ("township_admin", False),
        ("outsider_doctor", False),
        ("stranger", False),
    ],
)
def test_revoke_all_matrix(world, who, allowed):
    services.api_token_issue(user=world.hospital_doctor)
    actor = getattr(world, who)
    if allowed:
        assert services.api_token_revoke_all(actor=actor, user=world.hospital_doctor) == 1
        event = AuditEvent.objects.get(action="api_token.revoke")
        assert event.actor == actor and event.details == {"count": 1, "reason": "revoke_all"}
    else:
        with pytest.raises(NotAllowed):
            services.api_token_revoke_all(actor=actor, user=world.hospital_doctor)
        assert ApiToken.objects.filter(user=world.hospital_doctor).count() == 1
        assert not AuditEvent.objects.filter(action="api_token.revoke").exists()


def test_revoke_one_needs_the_actors_own_live_key(world):
    key = services.api_token_issue(user=world.hospital_doctor)
    with pytest.raises(Invalid):
        services.api_token_revoke(actor=world.hospital_doctor, key="")
    with pytest.raises(NotFound):
        services.api_token_revoke(actor=world.hospital_admin, key=key)
    assert ApiToken.objects.count() == 1
    services.api_token_revoke(actor=world.hospital_doctor, key=key)
    assert not ApiToken.objects.exists()
