"""App configuration of capacity building: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _uses(request: HttpRequest) -> bool:
    from yilian.capacity_building import policies

    return policies.can_use_capacity(request.user)


def _statistics(request: HttpRequest) -> bool:
    from yilian.capacity_building import policies

    return policies.can_view_statistics(request.user)


def _register_menu() -> None:
    """能力建设: courses, fellowships, techniques, devices and repairs for everyone with a view (each list
    shows what concerns them), the figures for the office, regulators and administrators."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("能力建设")
    for order, label, url_name, allowed in (
        (800, _("培训与教学查房"), "capacity_building:courses", _uses),
        (810, _("进修管理"), "capacity_building:fellowships", _uses),
        (820, _("新技术新项目"), "capacity_building:techniques", _uses),
        (825, _("支援设备"), "capacity_building:devices", _uses),
        (830, _("设备维修"), "capacity_building:maintenance", _uses),
        (840, _("能力建设统计"), "capacity_building:statistics", _statistics),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class CapacityBuildingConfig(AppConfig):
    name = "yilian.capacity_building"
    label = "capacity_building"
    verbose_name = _("能力建设")

    def ready(self) -> None:
        """Register the audit labels and the menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "course.create": _("发布培训"),
                "course.update": _("修改培训"),
                "course.cancel": _("取消培训"),
                "course.close": _("结束培训签到"),
                "course.sign_in": _("记录培训签到"),
                "course.sign_in_remove": _("删除培训签到"),
                "fellowship.apply": _("申请进修"),
                "fellowship.start": _("进修报到"),
                "fellowship.complete": _("进修结业"),
                "fellowship.withdraw": _("进修退出"),
                "technique.record": _("登记新技术新项目"),
                "technique.confirm": _("确认新技术新项目"),
                "technique.reject": _("退回新技术新项目"),
                "technique.cases": _("更新新技术开展例数"),
                "device.register": _("登记支援设备"),
                "device.return": _("借用设备归还"),
                "maintenance.request": _("设备报修"),
                "maintenance.take": _("工程师接单"),
                "maintenance.assign": _("维修派工"),
                "maintenance.complete": _("填写维修结果"),
                "maintenance.cancel": _("撤销报修"),
            }
        )
        _register_menu()
