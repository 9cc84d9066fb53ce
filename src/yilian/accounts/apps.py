"""App configuration of accounts: registers its entries in the role menu."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _administers_an_institution(request: HttpRequest) -> bool:
    from yilian.accounts.selectors import scope_for
    from yilian.core.permissions import Role

    return bool(scope_for(request.user).institutions_with(Role.INSTITUTION_ADMIN))


def _is_platform_admin(request: HttpRequest) -> bool:
    from yilian.accounts.selectors import scope_for

    return scope_for(request.user).is_platform_admin


def _may_view_audit(request: HttpRequest) -> bool:
    from yilian.accounts.policies import can_view_audit

    return can_view_audit(request.user)


def _is_logged_in(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated)


class AccountsConfig(AppConfig):
    name = "yilian.accounts"
    label = "accounts"
    verbose_name = _("账号与角色")

    def ready(self) -> None:
        """Register the menu entries: staff, users and roles, audit log, my account."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "user.create": _("创建账号"),
                "user.update": _("修改账号"),
                "user.password": _("设置密码"),
                "api_token.issue": _("签发 API 令牌"),
                "api_token.revoke": _("吊销 API 令牌"),
                "membership.grant": _("授予角色"),
                "membership.revoke": _("撤销角色"),
            }
        )
        from yilian.core.ui.menu import MenuEntry, register

        section = _("系统管理")
        register(MenuEntry(section, _("本机构人员"), "accounts:my-staff", _administers_an_institution, 800))
        register(MenuEntry(section, _("用户与授权"), "accounts:users", _is_platform_admin, 810))
        register(MenuEntry(section, _("审计日志"), "accounts:audit", _may_view_audit, 820))
        register(MenuEntry(_("个人"), _("我的账号"), "accounts:me", _is_logged_in, 900))
