"""App configuration of two-way referral: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _is_an_end(request: HttpRequest) -> bool:
    from yilian.referrals import policies

    return bool(policies.end_institutions(request.user))


def _oversees(request: HttpRequest) -> bool:
    from yilian.referrals import policies

    return policies.can_use_referrals(request.user) and not policies.end_institutions(request.user)


def _writes(request: HttpRequest) -> bool:
    from yilian.referrals import policies

    return policies.can_write_referrals(request.user)


def _register_clinical_menu() -> None:
    """转诊: inbox and outbox for the two ends, all referrals for readers overseeing them, new
    referral and the down-referral worklist for clinicians who send, closed-loop duties for the ends."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("转诊")
    for order, label, url_name, allowed in (
        (400, _("转入待办"), "referrals:inbox", _is_an_end),
        (410, _("转出记录"), "referrals:outbox", _is_an_end),
        (415, _("全部转诊"), "referrals:all", _oversees),
        (420, _("新建转诊"), "referrals:new", _writes),
        (430, _("下转工作台"), "referrals:worklist", _writes),
        (440, _("闭环随访"), "referrals:follow-ups", _is_an_end),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class ReferralsConfig(AppConfig):
    name = "yilian.referrals"
    label = "referrals"
    verbose_name = _("双向转诊")

    def ready(self) -> None:
        """Register the audit labels of every referral action and the clinical and management menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "referral.create": _("新建转诊单"),
                "referral.update": _("修改转诊单"),
                "referral.submit": _("提交转诊"),
                "referral.cancel": _("撤销转诊"),
                "referral.accept": _("接收转诊"),
                "referral.decline": _("拒绝转诊"),
                "referral.redirect": _("改派转诊"),
                "referral.schedule": _("预约转诊"),
                "referral.arrive": _("患者到诊"),
                "referral.no_show": _("患者未到诊"),
                "referral.complete": _("回传诊疗结果"),
                "referral.close": _("转诊闭环"),
                "referral.request_cancel": _("申请撤销转诊"),
                "referral.confirm_cancel": _("同意撤销转诊"),
                "referral.decline_cancel": _("不同意撤销转诊"),
                "referral.expire": _("转诊超时"),
                "referral.attach": _("上传转诊资料"),
                "referral.follow_up": _("登记下转随访"),
                "referral_settings.update": _("修改转诊设置"),
                "referral_criterion.create": _("新增转诊标准"),
                "referral_criterion.update": _("修改转诊标准"),
                "reserved_capacity.publish": _("发布预留号源"),
                "deductible_subsidy.update": _("修改起付线差价补贴"),
            }
        )
        _register_clinical_menu()
        from yilian.referrals import menu_management

        menu_management.register()
