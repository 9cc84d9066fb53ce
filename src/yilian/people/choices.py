"""Code lists of people."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    """GB/T 2261.1-2003 gender codes."""

    UNKNOWN = "0", _("未知的性别")
    MALE = "1", _("男性")
    FEMALE = "2", _("女性")
    UNSPECIFIED = "9", _("未说明的性别")


class InsuranceScheme(models.TextChoices):
    """Basic medical insurance scheme."""

    RESIDENT = "resident", _("城乡居民医保")
    EMPLOYEE = "employee", _("职工医保")
    NONE = "none", _("未参保")
    OTHER = "other", _("其他")


class PersonLinkReason(models.TextChoices):
    """Why an institution may see a person (need-to-know)."""

    REGISTERED = "registered", _("本机构登记")
    TREATED = "treated", _("本机构诊疗")
    REFERRAL = "referral", _("转诊")
    ORDER = "order", _("检查检验")
    CONTRACT = "contract", _("家庭医生签约")
    CHRONIC_CARE = "chronic_care", _("慢病管理")
    PRESCRIPTION = "prescription", _("处方")
    APPOINTMENT = "appointment", _("专家号预约")
