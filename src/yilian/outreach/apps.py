"""App configuration of outreach: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _uses(request: HttpRequest) -> bool:
    from yilian.outreach import policies

    return policies.can_use_outreach(request.user)


def _reads_statistics(request: HttpRequest) -> bool:
    from yilian.outreach import policies

    return policies.can_view_statistics(request.user)


def _register_menu() -> None:
    """专家下沉: batches, postings and expert clinics for everyone with a view; the indicator, the annual
    report and statistics for administrators and oversight. Recording a batch is a button on the batch
    list: whether the actor's institution sends experts needs a query, and menu predicates read only the
    cached scope (ADR 0015)."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("专家下沉")
    for order, label, url_name, allowed in (
        (750, _("派出批次"), "outreach:list", _uses),
        (760, _("长期派驻"), "outreach:postings", _uses),
        (765, _("专家门诊"), "outreach:sessions", _uses),
        (770, _("派驻指标"), "outreach:indicator", _reads_statistics),
        (780, _("年度报表"), "outreach:report", _reads_statistics),
        (790, _("下沉统计"), "outreach:statistics", _reads_statistics),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class OutreachConfig(AppConfig):
    name = "yilian.outreach"
    label = "outreach"
    verbose_name = _("专家下沉")

    def ready(self) -> None:
        """Register the audit labels and the menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "outreach_batch.create": _("登记派出批次"),
                "outreach_batch.visit_add": _("添加专家下沉记录"),
                "outreach_batch.visit_update": _("修改专家下沉记录"),
                "outreach_batch.visit_remove": _("删除专家下沉记录"),
                "outreach_batch.complete": _("派出批次标记为已完成"),
                "outreach_batch.confirm": _("成员单位确认派出批次"),
                "outreach_batch.return": _("成员单位退回派出批次"),
                "outreach_batch.cancel": _("取消派出批次"),
                "outreach_posting.create": _("登记长期派驻"),
                "outreach_posting.start": _("长期派驻到岗"),
                "outreach_posting.end": _("长期派驻结束"),
                "outreach_posting.cancel": _("取消长期派驻"),
                "expert_clinic_session.publish": _("发布专家门诊"),
                "expert_clinic_session.cancel": _("专家门诊停诊"),
                "clinic_booking.create": _("预约专家门诊"),
                "clinic_booking.cancel": _("取消专家门诊预约"),
            }
        )
        _register_menu()
        _register_record_section()


def _register_record_section() -> None:
    """The resident's expert clinic bookings on the person page (the people app cannot ask outreach)."""
    from yilian.core.ui.record import RecordSection, register
    from yilian.outreach.views.record import booking_section

    register(
        RecordSection(
            name="outreach",
            title=_("专家门诊预约"),
            template="outreach/_record_section.html",
            context=booking_section,
            order=270,
        )
    )
