"""Code lists of encounters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EncounterKind(models.TextChoices):
    """Outpatient visit, emergency visit or inpatient stay (门诊 / 急诊 / 住院)."""

    OUTPATIENT = "outpatient", _("门诊")
    EMERGENCY = "emergency", _("急诊")
    INPATIENT = "inpatient", _("住院")


VISIT_KINDS = (EncounterKind.OUTPATIENT, EncounterKind.EMERGENCY)
"""Kinds counted as visits (门急诊人次)."""


class SurgeryGrade(models.IntegerChoices):
    """Operation grade of the main procedure of a stay (手术分级, 一级 to 四级)."""

    FIRST = 1, _("一级手术")
    SECOND = 2, _("二级手术")
    THIRD = 3, _("三级手术")
    FOURTH = 4, _("四级手术")
