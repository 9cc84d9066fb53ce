"""App configuration of cockpit: the consortium's running cockpit (运行驾驶舱) and the regulator's view."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _opens_cockpit(request: HttpRequest) -> bool:
    """Consortium offices, institution administrators, regulators and platform administrators.

    Other staff of member institutions may open /cockpit/ too (it shows what
    ``visible_units`` allows), but the menu stays short for them.
    """
    from yilian.accounts.selectors import scope_for
    from yilian.core.permissions import Role

    scope = scope_for(request.user)
    return scope.is_platform_admin or scope.has_role(
        Role.CONSORTIUM_OFFICE, Role.INSTITUTION_ADMIN, Role.REGULATOR
    )


def _opens_regulator_view(request: HttpRequest) -> bool:
    from yilian.accounts.selectors import scope_for
    from yilian.core.permissions import Role

    scope = scope_for(request.user)
    return scope.is_platform_admin or scope.has_role(Role.REGULATOR)


class CockpitConfig(AppConfig):
    name = "yilian.cockpit"
    label = "cockpit"
    verbose_name = _("运行驾驶舱")

    def ready(self) -> None:
        """Register the menu entries (section 绩效考核)."""
        from yilian.core.ui.menu import MenuEntry, register

        section = _("绩效考核")
        register(
            MenuEntry(
                section=section,
                label=_("运行驾驶舱"),
                url_name="cockpit:cockpit",
                allowed=_opens_cockpit,
                order=1000,
            )
        )
        register(
            MenuEntry(
                section=section,
                label=_("监管视图"),
                url_name="cockpit:regulator",
                allowed=_opens_regulator_view,
                order=1001,
            )
        )
