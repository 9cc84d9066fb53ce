"""Password validators speak the user's language: the Chinese UI, the English UI and the command line."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yilian.accounts import services
from yilian.accounts.models import User
from yilian.core.exceptions import Invalid
from yilian.core.permissions import Role

pytestmark = pytest.mark.django_db

TOO_SHORT_ZH = "密码长度太短。密码必须包含至少 8 个字符。"
TOO_SHORT_EN = "This password is too short. It must contain at least 8 characters."


def _password_errors(actor, language):
    with translation.override(language), pytest.raises(Invalid) as error:
        services.user_create(actor=actor, password="Ab1!x", username="weak", full_name="弱密码")
    return error.value.as_text()["password"]


def test_service_messages_follow_the_active_language(world):
    assert _password_errors(world.admin, "zh-hans") == [TOO_SHORT_ZH]
    assert _password_errors(world.admin, "en") == [TOO_SHORT_EN]


def test_every_validator_message_is_chinese_in_the_chinese_ui(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.hospital_admin)
    response = client.post(
        reverse("accounts:staff-create", args=[world.hospital.public_id]),
        {
            "username": "nurse.wang",
            "full_name": "王护士",
            "password": "1234567",
            "role": Role.NURSE,
            "department": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert TOO_SHORT_ZH in html
    assert "这个密码太常见了。" in html and "密码只包含数字。" in html
    assert "too short" not in html and "too common" not in html
    assert not User.objects.filter(username="nurse.wang").exists()


def test_english_ui_keeps_english_messages(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.hospital_admin)
    response = client.post(
        reverse("accounts:staff-create", args=[world.hospital.public_id]),
        {"username": "nurse.wang", "full_name": "王护士", "password": "x", "role": Role.NURSE},
    )
    assert "This password is too short. It must contain at least 8 characters." in response.content.decode()


def test_create_platform_admin_reports_weak_passwords_in_chinese(monkeypatch):
    monkeypatch.setenv("YILIAN_ADMIN_PASSWORD", "1234567")
    with pytest.raises(CommandError) as error:
        call_command("create_platform_admin", "root")
    message = str(error.value)
    assert TOO_SHORT_ZH in message and "这个密码太常见了。" in message and "密码只包含数字。" in message
    assert "too short" not in message and "too common" not in message
    assert not User.objects.exists()
