"""App configuration of assessment: schemes, rounds, qualitative judgements and published reports."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _reads_assessment(request: HttpRequest) -> bool:
    """Anyone holding a role: assessors run rounds, members read their published results."""
    from yilian.assessment.policies import can_read_schemes

    return can_read_schemes(request.user)


def _register_menu() -> None:
    """绩效考核: rounds and schemes."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("绩效考核")
    for order, label, url_name in (
        (1020, _("考核轮次"), "assessment:rounds"),
        (1030, _("考核方案"), "assessment:schemes"),
    ):
        register(
            MenuEntry(section=section, label=label, url_name=url_name, allowed=_reads_assessment, order=order)
        )


class AssessmentConfig(AppConfig):
    name = "yilian.assessment"
    label = "assessment"
    verbose_name = _("绩效考核")

    def ready(self) -> None:
        """Register the audit labels and the menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "assessment_scheme.create": _("创建考核方案"),
                "assessment_scheme.update": _("修改考核方案"),
                "assessment_round.create": _("创建考核轮次"),
                "assessment_round.compute": _("计算考核草稿"),
                "assessment_round.freeze": _("冻结考核结果"),
                "assessment_round.publish": _("发布考核结果"),
                "assessment_evidence.upload": _("上传佐证材料"),
                "assessment_judgement.record": _("定性指标评判"),
            }
        )
        _register_menu()
