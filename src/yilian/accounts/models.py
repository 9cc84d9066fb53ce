"""Accounts: the user and the memberships that grant roles within a scope."""

from __future__ import annotations

import hashlib
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yilian.accounts.choices import ProfessionalTitle
from yilian.core.permissions import Role


class User(AbstractUser):
    """A person who logs in: staff of an institution, a consortium office, a regulator.

    What the user may see and do comes only from active ``Membership`` rows
    (``is_superuser`` is reserved for Django's own admin site bootstrap).
    """

    public_id = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    professional_title = models.CharField(
        _("职称"), max_length=32, choices=ProfessionalTitle.choices, blank=True, default=""
    )
    preferred_language = models.CharField(_("界面语言"), max_length=10, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username


class Membership(models.Model):
    """Grants ``role`` to a user within one institution, one consortium or one region.

    A platform administrator's membership has no target. Revoking sets
    ``is_active`` to false and keeps the row as history.
    """

    public_id = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("机构"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
    )
    department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("科室"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_memberships",
    )
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
    )
    region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("行政区划"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
    )
    is_active = models.BooleanField(_("有效"), default=True)
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["user_id", "role"]
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        role=Role.PLATFORM_ADMIN,
                        institution__isnull=True,
                        consortium__isnull=True,
                        region__isnull=True,
                    )
                    | Q(institution__isnull=False, consortium__isnull=True, region__isnull=True)
                    | Q(institution__isnull=True, consortium__isnull=False, region__isnull=True)
                    | Q(institution__isnull=True, consortium__isnull=True, region__isnull=False)
                ),
                name="membership_exactly_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "institution"],
                condition=Q(is_active=True, institution__isnull=False),
                name="membership_unique_institution_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "consortium"],
                condition=Q(is_active=True, consortium__isnull=False),
                name="membership_unique_consortium_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(is_active=True, region__isnull=False),
                name="membership_unique_region_role",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_active=True, role=Role.PLATFORM_ADMIN),
                name="membership_unique_platform_admin",
            ),
        ]

    def __str__(self) -> str:
        target = self.institution or self.consortium or self.region or _("全平台")
        return f"{self.user} · {self.get_role_display()} · {target}"


def api_key_hash(key: str) -> str:
    """The stored form of an API key: its SHA-256, hex (the key itself is never stored)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API credential of a user, valid until ``expires_at``.

    Only ``key_hash`` (``api_key_hash`` of the key) is stored: the key is
    shown once, when issued, so a database dump gives no usable credential.
    Tokens are deleted when revoked (logout, password change,
    deactivation); the audit log keeps their history.
    """

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(_("名称"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("过期时间"))
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.label or self.pk}"
