"""The first platform administrator of an installation."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from yilian.accounts.models import Membership, User
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_create_platform_admin_once(monkeypatch):
    monkeypatch.setenv("YILIAN_ADMIN_PASSWORD", "Strong-Passw0rd-2026")
    call_command("create_platform_admin", "root", "--full-name", "系统管理员")
    user = User.objects.get(username="root")
    assert user.check_password("Strong-Passw0rd-2026")
    assert Membership.objects.filter(user=user, role=Role.PLATFORM_ADMIN, is_active=True).exists()
    assert AuditEvent.objects.filter(action="membership.grant", details__reason="bootstrap").count() == 1
    with pytest.raises(CommandError):
        call_command("create_platform_admin", "second")
    assert not User.objects.filter(username="second").exists()


def test_weak_password_refused(monkeypatch):
    monkeypatch.setenv("YILIAN_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command("create_platform_admin", "root")
    assert not User.objects.exists()
