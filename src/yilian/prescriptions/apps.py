"""App configuration of prescriptions: audit labels, menu entries and the person-page section."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _uses(request: HttpRequest) -> bool:
    from yilian.prescriptions import policies

    return policies.can_use_prescriptions(request.user)


def _prescribes(request: HttpRequest) -> bool:
    from yilian.prescriptions import policies

    return policies.can_prescribe(request.user)


def _formulary(request: HttpRequest) -> bool:
    from yilian.prescriptions import policies

    return policies.can_use_formulary(request.user)


def _statistics(request: HttpRequest) -> bool:
    from yilian.prescriptions import policies

    return policies.can_view_statistics(request.user)


def _register_menu() -> None:
    """处方与用药: prescriptions, writing one, deliveries, the formulary and gap, the catalogue, statistics."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("处方与用药")
    for order, label, url_name, allowed in (
        (700, _("处方列表"), "prescriptions:list", _uses),
        (705, _("开具处方"), "prescriptions:new", _prescribes),
        (710, _("药品配送"), "prescriptions:deliveries", _uses),
        (720, _("用药目录衔接"), "prescriptions:formulary", _formulary),
        (730, _("药品目录"), "prescriptions:drugs", _formulary),
        (740, _("处方统计"), "prescriptions:statistics", _statistics),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


def _register_record_section() -> None:
    """The person's current prescriptions on the person page."""
    from yilian.core.ui.record import RecordSection, register
    from yilian.prescriptions.views.record import current_prescriptions_section

    register(
        RecordSection(
            name="prescriptions",
            title=_("当前处方"),
            template="prescriptions/_record_section.html",
            context=current_prescriptions_section,
            order=260,
        )
    )


class PrescriptionsConfig(AppConfig):
    name = "yilian.prescriptions"
    label = "prescriptions"
    verbose_name = _("处方与用药目录")

    def ready(self) -> None:
        """Register the audit labels, the menu entries and the person-page section."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "drug.create": _("新增药品"),
                "drug.update": _("修改药品"),
                "drug.import": _("导入药品目录"),
                "stock.add": _("加入机构药品目录"),
                "stock.remove": _("移出机构药品目录"),
                "stock.import": _("导入机构药品目录"),
                "formulary.update": _("修改用药目录设置"),
                "prescription.create": _("开具处方"),
                "prescription.void": _("作废处方"),
                "delivery.request": _("申请药品配送"),
                "delivery.dispatch": _("药品配送发出"),
                "delivery.receive": _("药品配送签收"),
                "delivery.hand_over": _("药品交付患者"),
                "delivery.cancel": _("取消药品配送"),
            }
        )
        _register_menu()
        _register_record_section()
