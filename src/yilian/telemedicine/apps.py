"""App configuration of teleconsultation: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _uses(request: HttpRequest) -> bool:
    from yilian.telemedicine import policies

    return policies.can_use_telemedicine(request.user)


def _invites(request: HttpRequest) -> bool:
    from yilian.telemedicine import policies

    return policies.can_invite(request.user)


def _publishes(request: HttpRequest) -> bool:
    from yilian.telemedicine import policies

    return policies.can_use_availability(request.user)


def _reads_charges(request: HttpRequest) -> bool:
    from yilian.telemedicine import policies

    return policies.can_view_charges(request.user)


def _configures_fees(request: HttpRequest) -> bool:
    from yilian.telemedicine import policies

    return policies.configures_some_fees(request.user)


def _reads_statistics(request: HttpRequest) -> bool:
    from yilian.telemedicine import policies

    return policies.can_view_statistics(request.user)


def _register_menu() -> None:
    """远程会诊: the list for everyone with a view, the invitation for inviting clinicians, free times
    for experts and their coordinators, billing records for finance readers and the office."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("远程会诊")
    for order, label, url_name, allowed in (
        (500, _("会诊列表"), "telemedicine:list", _uses),
        (510, _("发起会诊邀请"), "telemedicine:new", _invites),
        (520, _("专家可预约时间"), "telemedicine:availability", _publishes),
        (530, _("会诊费用记录"), "telemedicine:charges", _reads_charges),
        (540, _("会诊收费标准"), "telemedicine:fees", _configures_fees),
        (550, _("远程会诊统计"), "telemedicine:statistics", _reads_statistics),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class TelemedicineConfig(AppConfig):
    name = "yilian.telemedicine"
    label = "telemedicine"
    verbose_name = _("远程会诊")

    def ready(self) -> None:
        """Register the audit labels of every teleconsultation action and the menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "teleconsultation.create": _("发起远程会诊邀请"),
                "teleconsultation.accept": _("接受远程会诊邀请"),
                "teleconsultation.decline": _("谢绝远程会诊邀请"),
                "teleconsultation.assign": _("指定会诊专家"),
                "teleconsultation.schedule": _("远程会诊排期"),
                "teleconsultation.sign_opinion": _("签署会诊意见"),
                "teleconsultation.conclude": _("记录诊疗决定"),
                "teleconsultation.cancel": _("取消远程会诊"),
                "teleconsultation.attach": _("上传会诊资料"),
                "expert_availability.publish": _("发布专家可预约时间"),
                "expert_availability.withdraw": _("撤回专家可预约时间"),
                "teleconsultation_fee.update": _("修改远程会诊收费标准"),
            }
        )
        _register_menu()
