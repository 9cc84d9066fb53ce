from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yilian.core"
    label = "core"
    verbose_name = _("平台核心")

    def ready(self) -> None:
        from yilian.core.pdf import use_platform_defaults

        # Every app's PDFs name the platform instead of reportlab's "anonymous".
        use_platform_defaults()
