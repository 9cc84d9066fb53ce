from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "yilian.demo"
    label = "demo"
    verbose_name = _("演示数据")

    def ready(self) -> None:
        """Name the demo loader's own audit action."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "person.bulk_create": _("批量登记居民（演示数据）"),
                "referral.bulk_create": _("批量导入历史转诊（演示数据）"),
                "service_volume.bulk_create": _("批量导入月度服务量（演示数据）"),
            }
        )
