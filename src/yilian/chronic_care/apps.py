"""App configuration of chronic care: audit labels, menu entries and the person-page section."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _sees_cases(request: HttpRequest) -> bool:
    from yilian.chronic_care import policies

    return policies.menu_cases(request.user)


def _sees_rates(request: HttpRequest) -> bool:
    from yilian.chronic_care import policies

    return policies.menu_rates(request.user)


def _register_menu() -> None:
    """慢病管理 (650–690): cases, overdue and suggestions for patient-seeing staff; rates and registries
    also for the office and the regulator. Predicates read only the cached scope (no query per page);
    enrolment is a button on the case list and the person page."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("慢病管理")
    for order, label, url_name, allowed in (
        (650, _("管理档案"), "chronic_care:list", _sees_cases),
        (660, _("逾期随访"), "chronic_care:overdue", _sees_cases),
        (670, _("建议转诊"), "chronic_care:suggestions", _sees_cases),
        (680, _("慢病管理指标"), "chronic_care:rates", _sees_rates),
        (690, _("病种与标准"), "chronic_care:registries", _sees_rates),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


def _register_record_section() -> None:
    """The person's cases on the person page (the people app cannot ask chronic care itself)."""
    from yilian.chronic_care.views.record import chronic_section
    from yilian.core.ui.record import RecordSection, register

    register(
        RecordSection(
            name="chronic_care",
            title=_("慢病管理"),
            template="chronic_care/_record_section.html",
            context=chronic_section,
            order=250,
        )
    )


class ChronicCareConfig(AppConfig):
    name = "yilian.chronic_care"
    label = "chronic_care"
    verbose_name = _("慢病管理")

    def ready(self) -> None:
        """Register the audit labels, the menu entries and the person-page section."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "chronic_registry.create": _("新增慢病病种"),
                "chronic_registry.update": _("修改慢病病种"),
                "chronic_case.enrol": _("慢病建档纳入管理"),
                "chronic_case.close": _("慢病管理结案"),
                "chronic_follow_up.record": _("记录慢病随访"),
                "chronic_follow_up.refer": _("按随访建议发起转诊"),
                "chronic_follow_up.dismiss": _("随访转诊建议不转诊"),
            }
        )
        _register_menu()
        _register_record_section()
