"""Core: environment parsing, audit events, error envelope, health check, pinyin keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from yilian.config import env
from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid
from yilian.core.models import AuditEvent
from yilian.core.text import pinyin_full, pinyin_initials


def test_parse_database_urls():
    sqlite = env.parse_database_url("sqlite:///var/x.sqlite3")
    assert sqlite.engine.endswith("sqlite3")
    assert Path(sqlite.name) == env.BASE_DIR / "var" / "x.sqlite3"
    assert env.parse_database_url("sqlite:////tmp/abs.sqlite3").name == "/tmp/abs.sqlite3"
    postgres = env.parse_database_url("postgres://u:p%40ss@db.example:6543/yilian?sslmode=require")
    assert (postgres.user, postgres.password, postgres.host, postgres.port, postgres.name) == (
        "u",
        "p@ss",
        "db.example",
        "6543",
        "yilian",
    )
    django = postgres.as_django()
    assert django["OPTIONS"] == {
        "sslmode": "require",
        "options": "-c join_collapse_limit=1",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    assert django["CONN_MAX_AGE"] == 60 and django["CONN_HEALTH_CHECKS"] is True
    assert sqlite.as_django()["CONN_MAX_AGE"] == 0
    own = env.parse_database_url("postgres://u@db/yilian?options=-c%20statement_timeout%3D5000").as_django()
    assert own["OPTIONS"]["options"] == "-c statement_timeout=5000"  # the URL's own options win
    with pytest.raises(ValueError):
        env.parse_database_url("mysql://x")


def test_server_side_binding_can_be_turned_off_for_a_transaction_pooler(monkeypatch):
    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "0")
    options = env.parse_database_url("postgres://u@db/yilian").as_django()["OPTIONS"]
    assert "server_side_binding" not in options and "prepare_threshold" not in options


def test_pinyin_keys():
    assert pinyin_initials("县人民医院") == "xrmyy"
    assert pinyin_full("人民医院") == "renminyiyuan"
    assert pinyin_initials("A区1号") == "aq1h"


def test_invalid_normalises_messages():
    error = Invalid({"code": "坏", "name": ["一", "二"]})
    assert error.as_text() == {"code": ["坏"], "name": ["一", "二"]}
    assert error.message == "坏"
    assert Invalid("整体错误").errors == {"__all__": ["整体错误"]}


@pytest.mark.django_db(transaction=True)
def test_record_event_requires_a_transaction(world):
    with pytest.raises(RuntimeError):
        record_event(actor=world.admin, action="x", obj=world.hospital)


@pytest.mark.django_db
def test_record_event_keeps_actor_object_and_request_id(world):
    from yilian.core.context import reset_request_id, set_request_id

    token = set_request_id("req-12345678")
    try:
        with transaction.atomic():
            event = record_event(
                actor=world.admin,
                action="institution.update",
                obj=world.hospital,
                before={"a": 1},
                after={"a": 2},
            )
    finally:
        reset_request_id(token)
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_label == world.admin.full_name
    assert event.object_type == "institutions.institution"
    assert event.object_id == str(world.hospital.public_id)
    assert event.request_id == "req-12345678"


@pytest.mark.django_db
def test_healthz_and_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["X-Request-ID"] == "abcdef0123456789"
    # A hostile request id is replaced, not echoed.
    response = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_api_docs_are_served_without_internet(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


@pytest.mark.django_db
def test_home_tells_a_user_without_roles_to_ask_for_one(client, world):
    client.force_login(world.stranger)
    assert 'data-testid="no-role"' in client.get("/").content.decode()
    client.force_login(world.hospital_doctor)
    assert 'data-testid="no-role"' not in client.get("/").content.decode()
