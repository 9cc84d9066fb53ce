"""App configuration of the shared diagnostic centres: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _clinical(request: HttpRequest) -> bool:
    from yilian.diagnostics import policies

    return bool(policies.patient_institutions(request.user))


def _hosts_centre(request: HttpRequest) -> bool:
    from yilian.diagnostics import policies

    return policies.hosts_centre(request.user)


def _orders(request: HttpRequest) -> bool:
    from yilian.diagnostics import policies

    return policies.can_order(request.user)


def _uses(request: HttpRequest) -> bool:
    from yilian.diagnostics import policies

    return policies.can_use_diagnostics(request.user)


def _configures(request: HttpRequest) -> bool:
    from yilian.diagnostics import policies

    return policies.can_configure_any(request.user)


def _statistics(request: HttpRequest) -> bool:
    from yilian.diagnostics import policies

    return policies.can_view_statistics(request.user)


def _register_menu() -> None:
    """共享诊断: orders and new order for clinicians, the centre's worklists for staff of
    an institution hosting an active centre, alerts,
    configuration for the office and the dashboard for overseers."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("共享诊断")
    for order, label, url_name, allowed in (
        (500, _("检查检验申请"), "diagnostics:orders", _uses),
        (510, _("新开申请"), "diagnostics:new", _orders),
        (520, _("诊断工作台"), "diagnostics:centres", _hosts_centre),
        (530, _("危急值"), "diagnostics:alerts", _clinical),
        (540, _("中心与互认目录"), "diagnostics:manage", _configures),
        (550, _("共享诊断统计"), "diagnostics:dashboard", _statistics),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class DiagnosticsConfig(AppConfig):
    name = "yilian.diagnostics"
    label = "diagnostics"
    verbose_name = _("共享诊断中心")

    def ready(self) -> None:
        """Register the audit labels of every diagnostics action and the menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "diagnostics.create": _("新开检查检验申请"),
                "diagnostics.collect": _("采集标本"),
                "diagnostics.dispatch": _("送出标本"),
                "diagnostics.receive": _("接收标本"),
                "diagnostics.reject": _("拒收标本/检查"),
                "diagnostics.upload": _("上传检查文件"),
                "diagnostics.claim": _("领取诊断"),
                "diagnostics.release": _("放弃领取"),
                "diagnostics.save_preliminary": _("保存初步报告"),
                "diagnostics.sign": _("签发报告"),
                "diagnostics.second_sign": _("复核签发报告"),
                "diagnostics.amend": _("修订报告"),
                "diagnostics.cancel": _("撤销检查检验申请"),
                "diagnostics.critical_value": _("报告危急值"),
                "diagnostics.critical_ack": _("确认危急值"),
                "diagnostics.critical_escalate": _("危急值超时上报"),
                "diagnostics.recognition_use": _("采用互认结果"),
                "diagnostics.centre_create": _("新建共享诊断中心"),
                "diagnostics.centre_update": _("修改共享诊断中心"),
                "diagnostics.item_create": _("新增检查检验项目"),
                "diagnostics.item_update": _("修改检查检验项目"),
                "diagnostics.rule_create": _("新增互认项目"),
                "diagnostics.rule_update": _("修改互认项目"),
            }
        )
        _register_menu()
        _register_record_section()


def _register_record_section() -> None:
    """The patient's results on the person page (the people app cannot ask diagnostics itself)."""
    from yilian.core.ui.record import RecordSection, register
    from yilian.diagnostics.views.record import patient_results_section

    register(
        RecordSection(
            name="diagnostics",
            title=_("检查检验结果"),
            template="diagnostics/_record_section.html",
            context=patient_results_section,
            order=200,
        )
    )
