"""Encounters: a person's visits and inpatient stays at an institution, and monthly service volumes.

The referral app reads current inpatient stays (the down-referral worklist)
and monthly volumes (denominators of the referral rates). HIS import of
encounters and claims extends this app later (issue 6); until then stays
are recorded through the API and volumes are reported per month (ADR 0010).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.models import BaseModel
from yilian.encounters.choices import EncounterKind, SurgeryGrade


class Encounter(BaseModel):
    """One outpatient visit or inpatient stay of a person at an institution's department.

    ``recovery_phase`` is set by a doctor who judges the inpatient ready to
    go down (恢复期 / 术后恢复期 / 危重症稳定期 / 慢病稳定期); the worklist
    also suggests stays by diagnosis and length of stay.
    """

    person = models.ForeignKey(
        "people.Person", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="encounters"
    )
    # No index of its own: the three indexes below that begin with the institution serve every
    # lookup by it, and each index is paid for by every imported row.
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        related_name="encounters",
        db_index=False,
    )
    department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="encounters",
    )
    kind = models.CharField(_("类型"), max_length=12, choices=EncounterKind.choices)
    his_number = models.CharField(_("病案号/门诊号"), max_length=18, blank=True)
    started_at = models.DateTimeField(_("就诊/入院时间"))
    ended_at = models.DateTimeField(_("出院时间"), null=True, blank=True)
    diagnosis_code = models.CharField(_("主要诊断编码"), max_length=11)
    diagnosis_name = models.CharField(_("主要诊断名称"), max_length=50)
    attending = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主管医生"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index (Meta): imported encounters rarely name the doctor
    )
    recovery_phase = models.CharField(_("可下转阶段"), max_length=24, blank=True)
    recovery_flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("标记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index (Meta): only stays flagged for down-referral have one
    )
    recovery_flagged_at = models.DateTimeField(_("标记时间"), null=True, blank=True)
    source_record_id = models.CharField(
        _("源系统记录号"),
        max_length=64,
        blank=True,
        help_text=_("HIS 中的记录编号；同一机构内唯一，重复导入据此去重"),
    )
    is_tcm = models.BooleanField(_("中医类诊疗"), default=False)
    surgery_grade = models.PositiveSmallIntegerField(
        _("手术分级"), null=True, blank=True, choices=SurgeryGrade.choices
    )
    total_cost = models.DecimalField(_("总费用（元）"), max_digits=12, decimal_places=2, default=0)
    fund_paid = models.DecimalField(_("医保基金支付（元）"), max_digits=12, decimal_places=2, default=0)
    self_paid = models.DecimalField(_("个人支付（元）"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("诊疗记录")
        verbose_name_plural = _("诊疗记录")
        indexes = [
            models.Index(fields=["institution", "kind", "ended_at"], name="encounter_current_idx"),
            # Covering (PostgreSQL): the indicator engine's pass over one institution's month reads the
            # index alone, so an incremental refresh after an import does not fetch the month's rows.
            models.Index(
                fields=["institution", "started_at"],
                include=["department", "kind", "is_tcm", "fund_paid", "person"],
                name="encounter_month_idx",
            ),
            # Only the rows that name a user: deleting a user looks them up (SET_NULL), and an
            # index over the NULLs of every imported encounter would be paid for by each import.
            models.Index(
                fields=["attending"],
                condition=models.Q(attending__isnull=False),
                name="encounter_attending_idx",
            ),
            models.Index(
                fields=["recovery_flagged_by"],
                condition=models.Q(recovery_flagged_by__isnull=False),
                name="encounter_flagged_by_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "source_record_id"],
                condition=~models.Q(source_record_id=""),
                name="encounter_source_record_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(total_cost__gte=0)
                & models.Q(fund_paid__gte=0)
                & models.Q(self_paid__gte=0),
                name="encounter_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="encounter_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.diagnosis_name}"


class ServiceVolume(models.Model):
    """An institution's (or one department's) outpatient visits, admissions and discharges in one month.

    The denominators of the up-referral rate (visits of a member) and the
    down-referral rate (discharges of a lead-hospital department). One row
    per institution, department (null = the whole institution) and month.
    """

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("科室"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    outpatient_visits = models.PositiveIntegerField(_("门急诊人次"), default=0)
    admissions = models.PositiveIntegerField(_("入院人次"), default=0)
    discharges = models.PositiveIntegerField(_("出院人次"), default=0)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("月度服务量")
        verbose_name_plural = _("月度服务量")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "department", "month"], name="service_volume_department_unique"
            ),
            models.UniqueConstraint(
                fields=["institution", "month"],
                condition=models.Q(department__isnull=True),
                name="service_volume_institution_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.month:%Y-%m}"
