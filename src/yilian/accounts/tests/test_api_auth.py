"""API authentication: tokens, login throttling, sessions, the current user, the error envelope."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from yilian.accounts.models import ApiToken, api_key_hash
from yilian.accounts.tests.factories import PASSWORD
from yilian.core.api.testing import error_of

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"


def _login(client, username, password, address="10.0.0.1"):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_token_is_issued_for_valid_credentials_and_authenticates(world):
    client = APIClient()
    response = _login(client, "hospital_doctor", PASSWORD)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.json()["token"]
    assert token.startswith("yl_")
    assert ApiToken.objects.get(user=world.hospital_doctor).key_hash == api_key_hash(token)
    # Every login issues a new token; the earlier one stays valid until it expires or is revoked.
    assert _login(client, "hospital_doctor", PASSWORD).json()["token"] != token
    assert ApiToken.objects.filter(user=world.hospital_doctor).count() == 2

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "hospital_doctor"


def test_wrong_password_is_a_400_envelope_without_a_token(world):
    response = _login(APIClient(), "hospital_doctor", "wrong-password")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"] == {"__all__": ["用户名或密码错误。"]}
    assert not ApiToken.objects.filter(user=world.hospital_doctor).exists()


def test_unknown_user_reads_like_a_wrong_password(world):
    unknown = error_of(_login(APIClient(), "nobody-here", "whatever"))
    wrong = error_of(_login(APIClient(), "hospital_doctor", "whatever", address="10.0.0.2"))
    assert unknown["fields"] == wrong["fields"]


def test_missing_fields_are_field_errors(world):
    response = APIClient().post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"username", "password"}


def test_login_locks_after_repeated_failures_with_429(world):
    client = APIClient()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(client, "hospital_doctor", f"wrong-{attempt}").status_code == 400
    # Locked now, even with the right password; no token is issued.
    response = _login(client, "hospital_doctor", PASSWORD)
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "login_locked"
    assert response["Retry-After"] == str(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert not ApiToken.objects.filter(user=world.hospital_doctor).exists()
    # Another account from another address is not affected.
    assert _login(client, "hospital_admin", PASSWORD, address="10.0.0.9").status_code == 200


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=3)
def test_login_locks_an_address_that_tries_many_usernames(world):
    client = APIClient()
    for attempt in range(3):
        _login(client, f"guess{attempt}", "x", address="10.9.9.9")
    assert _login(client, "hospital_doctor", PASSWORD, address="10.9.9.9").status_code == 429
    assert _login(client, "hospital_doctor", PASSWORD, address="10.9.9.10").status_code == 200


def test_token_endpoint_has_a_request_rate_limit(world):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
    allowed = int(rate.split("/")[0])
    client = APIClient()
    for _ in range(allowed):
        assert _login(client, "hospital_doctor", PASSWORD, address="10.1.1.1").status_code == 200
    response = _login(client, "hospital_doctor", PASSWORD, address="10.1.1.1")
    assert response.status_code == 429
    assert error_of(response)["code"] == "throttled"
    assert "Retry-After" in response


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/api/v1/me"),
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("get", "/api/v1/memberships"),
        ("post", "/api/v1/memberships"),
        ("get", "/api/v1/audit-events"),
        ("get", "/api/v1/regions"),
        ("post", "/api/v1/regions"),
        ("get", "/api/v1/institutions"),
        ("post", "/api/v1/institutions"),
        ("get", "/api/v1/consortia"),
        ("post", "/api/v1/consortia"),
        ("get", "/api/v1/grids"),
        ("get", "/api/v1/coverage?region=341522"),
        ("get", "/api/v1/persons"),
        ("post", "/api/v1/persons"),
    ],
)
def test_anonymous_requests_get_401_envelope(world, api, method, url):
    response = getattr(api(None), method)(url, {}, format="json") if method == "post" else api(None).get(url)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_token_of_a_deactivated_user_stops_working(world, api):
    client = api(world.hospital_doctor)
    assert client.get("/api/v1/me").status_code == 200
    world.hospital_doctor.is_active = False
    world.hospital_doctor.save()
    assert client.get("/api/v1/me").status_code == 401


def test_session_authentication_works(world):
    client = APIClient()
    client.force_login(world.hospital_admin)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["roles"] == ["institution_admin"]


def test_me_lists_active_roles_and_memberships(world, api):
    body = api(world.hospital_admin).get("/api/v1/me").json()
    assert body["public_id"] == str(world.hospital_admin.public_id)
    assert body["roles"] == ["institution_admin"]
    [membership] = body["memberships"]
    assert membership["role"] == "institution_admin"
    assert membership["institution"] == {
        "public_id": str(world.hospital.public_id),
        "name": world.hospital.name,
    }
    assert membership["consortium"] is None and membership["region"] is None
    assert "id" not in body and "password" not in body

    regulator = api(world.regulator).get("/api/v1/me").json()
    assert regulator["memberships"][0]["region"]["code"] == "341522"
    assert api(world.stranger).get("/api/v1/me").json()["roles"] == []


def test_field_messages_follow_the_requesters_language(world, api):
    chinese = api(world.admin, language="zh-hans").post("/api/v1/institutions", {}, format="json")
    english = api(world.admin, language="en").post("/api/v1/institutions", {}, format="json")
    assert error_of(chinese)["fields"]["name"] == ["该字段是必填项。"]
    assert error_of(english)["fields"]["name"] == ["This field is required."]


def test_request_id_is_echoed_in_the_envelope(world, api):
    response = api(world.admin).get("/api/v1/institutions/not-a-uuid", HTTP_X_REQUEST_ID="req-12345678")
    assert response.status_code == 404
    assert error_of(response)["request_id"] == "req-12345678"


def test_unsupported_method_is_405_envelope(world, api):
    response = api(world.admin).delete(f"/api/v1/institutions/{world.hospital.public_id}")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_malformed_json_is_400_envelope(world, api):
    response = api(world.admin).generic(
        "POST", "/api/v1/institutions", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_form_encoded_body_on_a_json_endpoint_is_415_envelope(world, api):
    response = api(world.admin).post("/api/v1/regions", {"code": "341523"}, format="multipart")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "params,status,field",
    [
        ({"page": "abc"}, 400, "page"),
        ({"page": "0"}, 400, "page"),
        ({"page_size": "-5"}, 400, "page_size"),
        ({"page": "99"}, 404, None),
    ],
)
def test_pagination_parameters_are_validated(world, api, params, status, field):
    response = api(world.admin).get("/api/v1/regions", params)
    assert response.status_code == status
    error = error_of(response)
    if field:
        assert field in error["fields"]


def test_pagination_pages_and_caps(world, api):
    client = api(world.admin)
    first = client.get("/api/v1/regions", {"page_size": 4}).json()
    assert first["count"] == 9 and len(first["results"]) == 4
    assert "page=2" in first["next"]
    last = client.get("/api/v1/regions", {"page_size": 4, "page": "last"}).json()
    assert len(last["results"]) == 1
    assert len(client.get("/api/v1/regions", {"page_size": 5000}).json()["results"]) == 9
