from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yilian.core"
    label = "core"
    verbose_name = _("平台核心")
