from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "yilian.institutions"
    label = "institutions"
    verbose_name = _("机构与医联体")
