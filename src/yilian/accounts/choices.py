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


class TitleSeries(models.TextChoices):
    """Series of professional titles (卫生专业技术资格): physicians, nursing, medical technicians.

    The pharmacy series (药学: 主任药师 … 药士) has no titles in ``ProfessionalTitle`` yet.
    """

    PHYSICIAN = "physician", _("医师系列")
    NURSING = "nursing", _("护理系列")
    TECHNICIAN = "technician", _("技师系列")


TITLE_SERIES: dict[str, str] = {
    ProfessionalTitle.CHIEF_PHYSICIAN: TitleSeries.PHYSICIAN,
    ProfessionalTitle.ASSOCIATE_CHIEF_PHYSICIAN: TitleSeries.PHYSICIAN,
    ProfessionalTitle.ATTENDING_PHYSICIAN: TitleSeries.PHYSICIAN,
    ProfessionalTitle.RESIDENT_PHYSICIAN: TitleSeries.PHYSICIAN,
    ProfessionalTitle.ASSISTANT_PHYSICIAN: TitleSeries.PHYSICIAN,
    ProfessionalTitle.VILLAGE_DOCTOR: TitleSeries.PHYSICIAN,
    ProfessionalTitle.CHIEF_NURSE: TitleSeries.NURSING,
    ProfessionalTitle.ASSOCIATE_CHIEF_NURSE: TitleSeries.NURSING,
    ProfessionalTitle.SUPERVISING_NURSE: TitleSeries.NURSING,
    ProfessionalTitle.NURSE_PRACTITIONER: TitleSeries.NURSING,
    ProfessionalTitle.NURSE: TitleSeries.NURSING,
    ProfessionalTitle.CHIEF_TECHNICIAN: TitleSeries.TECHNICIAN,
    ProfessionalTitle.ASSOCIATE_CHIEF_TECHNICIAN: TitleSeries.TECHNICIAN,
    ProfessionalTitle.SUPERVISING_TECHNICIAN: TitleSeries.TECHNICIAN,
    ProfessionalTitle.TECHNICIAN: TitleSeries.TECHNICIAN,
}
"""The series each title belongs to (no title: none)."""
