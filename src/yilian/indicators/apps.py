"""App configuration of indicators: the indicator catalogue, data items and their evaluation."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _reads(request: HttpRequest) -> bool:
    from yilian.indicators.policies import can_read_catalogue

    return can_read_catalogue(request.user)


def _refreshes(request: HttpRequest) -> bool:
    from yilian.indicators.policies import can_request_refresh

    return can_request_refresh(request.user)


def _decides_ranking(request: HttpRequest) -> bool:
    """Consortium offices (menu predicates read only the cached scope)."""
    from yilian.accounts.selectors import scope_for
    from yilian.core.permissions import Role

    return bool(scope_for(request.user).consortia_with(Role.CONSORTIUM_OFFICE))


def _register_menu() -> None:
    """绩效考核: the catalogue, data items, figures, refresh runs and the ranking policy."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("绩效考核")
    for order, label, url_name, allowed in (
        (1010, _("指标值"), "indicators:figures", _reads),
        (1040, _("指标库"), "indicators:catalogue", _reads),
        (1050, _("数据项"), "indicators:data_items", _reads),
        (1080, _("计算任务"), "indicators:refresh_runs", _refreshes),
        (1090, _("排名公开设置"), "indicators:ranking_policy", _decides_ranking),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class IndicatorsConfig(AppConfig):
    name = "yilian.indicators"
    label = "indicators"
    verbose_name = _("指标")

    def ready(self) -> None:
        """Register the audit labels, the menu entries and the receiver of ``facts_changed``."""
        from yilian.core.audit import register_action_labels
        from yilian.core.data_items import facts_changed
        from yilian.indicators.receivers import on_facts_changed

        facts_changed.connect(on_facts_changed, dispatch_uid="indicators.facts_changed")

        register_action_labels(
            {
                "indicator.create": _("新增指标"),
                "indicator.update": _("修改指标"),
                "indicator.deactivate": _("停用指标"),
                "indicator_catalogue.install": _("安装内置指标体系"),
                "indicator_refresh.request": _("发起指标计算"),
                "ranking_policy.update": _("修改排名公开设置"),
            }
        )
        _register_menu()
