"""App configuration of encounters: visits and inpatient stays, and monthly service volumes."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EncountersConfig(AppConfig):
    name = "yilian.encounters"
    label = "encounters"
    verbose_name = _("诊疗记录")

    def ready(self) -> None:
        """Register the audit labels of encounter actions."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "encounter.record": _("登记诊疗记录"),
                "encounter.discharge": _("登记出院"),
                "encounter.flag_recovery": _("标记可下转"),
                "service_volume.record": _("填报服务量"),
            }
        )
