"""Code lists of encounters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EncounterKind(models.TextChoices):
    """Outpatient visit or inpatient stay."""

    OUTPATIENT = "outpatient", _("门急诊")
    INPATIENT = "inpatient", _("住院")
