"""Code lists of accounts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProfessionalTitle(models.TextChoices):
    """Professional title (专业技术职称); the level decides who may act as an expert."""

    NONE = "", _("无")
    CHIEF_PHYSICIAN = "chief_physician", _("主任医师")
    ASSOCIATE_CHIEF_PHYSICIAN = "associate_chief_physician", _("副主任医师")
    ATTENDING_PHYSICIAN = "attending_physician", _("主治医师")
    RESIDENT_PHYSICIAN = "resident_physician", _("医师")
    ASSISTANT_PHYSICIAN = "assistant_physician", _("医士")
    CHIEF_NURSE = "chief_nurse", _("主任护师")
    ASSOCIATE_CHIEF_NURSE = "associate_chief_nurse", _("副主任护师")
    SUPERVISING_NURSE = "supervising_nurse", _("主管护师")
    NURSE_PRACTITIONER = "nurse_practitioner", _("护师")
    NURSE = "nurse", _("护士")
    CHIEF_TECHNICIAN = "chief_technician", _("主任技师")
    ASSOCIATE_CHIEF_TECHNICIAN = "associate_chief_technician", _("副主任技师")
    SUPERVISING_TECHNICIAN = "supervising_technician", _("主管技师")
    TECHNICIAN = "technician", _("技师")
    VILLAGE_DOCTOR = "village_doctor", _("乡村医生")
