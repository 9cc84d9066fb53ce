"""App configuration of ingestion: HIS encounter and insurance claim files imported as background jobs."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _imports(request: HttpRequest) -> bool:
    from yilian.ingestion import policies

    return policies.can_use_imports(request.user)


class IngestionConfig(AppConfig):
    name = "yilian.ingestion"
    label = "ingestion"
    verbose_name = _("数据导入")

    def ready(self) -> None:
        """Register the audit labels and the 数据导入 menu entry."""
        from yilian.core.audit import register_action_labels
        from yilian.core.ui.menu import MenuEntry, register

        register_action_labels(
            {
                "import.create": _("上传导入文件"),
                "import.finish": _("导入完成"),
                "import.resume": _("继续导入"),
            }
        )
        register(
            MenuEntry(
                section=_("数据导入"),
                label=_("数据导入"),
                url_name="ingestion:list",
                allowed=_imports,
                order=900,
            )
        )
