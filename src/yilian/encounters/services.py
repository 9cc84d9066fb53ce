"""Writes of encounters: record a visit or admission, discharge, flag recovery, report monthly volumes."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.icd10 import parse_icd10
from yilian.encounters import policies
from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.people.choices import PersonLinkReason
from yilian.people.services import person_link

ENCOUNTER_FIELDS = (
    "kind",
    "department",
    "his_number",
    "started_at",
    "diagnosis_code",
    "diagnosis_name",
    "attending",
)
RECOVERY_PHASES = ("recovery", "post_operative", "stabilised_critical", "stable_chronic")


def encounter_record(*, actor: Any, institution: Any, person: Any, **data: Any) -> Encounter:
    """Record a visit or admission of a person at the actor's institution; the institution then sees the person.

    Audited ``encounter.record``. Raises NotAllowed, Invalid.
    """
    if not policies.can_record_at(actor, institution.pk):
        raise NotAllowed(_("您没有在该机构登记诊疗记录的权限。"))
    data = {k: v for k, v in data.items() if k in ENCOUNTER_FIELDS}
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in EncounterKind.values:
        errors["kind"] = [_("无效的诊疗类型。")]
    department = data.get("department")
    if department is not None and department.institution_id != institution.pk:
        errors["department"] = [_("科室不属于该机构。")]
    started = data.get("started_at")
    if not isinstance(started, datetime.datetime):
        errors["started_at"] = [_("请填写就诊/入院时间。")]
    elif started > timezone.now():
        errors["started_at"] = [_("时间不能晚于现在。")]
    try:
        data["diagnosis_code"] = parse_icd10(data.get("diagnosis_code", "")).code
    except Invalid as error:
        errors.update(error.as_text())
    if not str(data.get("diagnosis_name") or "").strip():
        errors["diagnosis_name"] = [_("请填写诊断名称。")]
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        encounter = Encounter.objects.create(institution=institution, person=person, **data)
        person_link(actor=actor, person=person, institution=institution, reason=PersonLinkReason.TREATED)
        record_event(
            actor=actor,
            action="encounter.record",
            obj=encounter,
            after=snapshot(encounter, ENCOUNTER_FIELDS),
            institution_public_id=institution.public_id,
        )
    return encounter


def encounter_discharge(
    *, actor: Any, encounter: Encounter, ended_at: datetime.datetime | None = None
) -> Encounter:
    """Record the end of an inpatient stay. Audited. Raises NotAllowed, Invalid, Conflict (already ended)."""
    if not policies.can_record_at(actor, encounter.institution_id):
        raise NotAllowed(_("您没有修改该诊疗记录的权限。"))
    ended_at = ended_at or timezone.now()
    with transaction.atomic():
        locked = Encounter.objects.select_for_update().get(pk=encounter.pk)
        if locked.ended_at is not None:
            raise Conflict(_("该患者已出院。"))
        if ended_at < locked.started_at:
            raise Invalid({"ended_at": [_("出院时间不能早于入院时间。")]})
        locked.ended_at = ended_at
        locked.save(update_fields=["ended_at", "updated_at"])
        record_event(
            actor=actor,
            action="encounter.discharge",
            obj=locked,
            after={"ended_at": str(ended_at)},
            institution_public_id=locked.institution.public_id,
        )
    return locked


def encounter_flag_recovery(*, actor: Any, encounter: Encounter, recovery_phase: str) -> Encounter:
    """A doctor marks a current inpatient ready to go down (or clears the mark with "").

    Audited ``encounter.flag_recovery``. Raises NotAllowed, Invalid, Conflict (discharged).
    """
    if not policies.can_flag_recovery_at(actor, encounter.institution_id):
        raise NotAllowed(_("只有本机构医生可以标记可下转患者。"))
    if recovery_phase and recovery_phase not in RECOVERY_PHASES:
        raise Invalid({"recovery_phase": [_("无效的下转阶段。")]})
    with transaction.atomic():
        locked = Encounter.objects.select_for_update().get(pk=encounter.pk)
        if locked.kind != EncounterKind.INPATIENT or locked.ended_at is not None:
            raise Conflict(_("只能标记在院患者。"))
        before = {"recovery_phase": locked.recovery_phase}
        locked.recovery_phase = recovery_phase
        locked.recovery_flagged_by = actor if recovery_phase else None
        locked.recovery_flagged_at = timezone.now() if recovery_phase else None
        locked.save(
            update_fields=["recovery_phase", "recovery_flagged_by", "recovery_flagged_at", "updated_at"]
        )
        record_event(
            actor=actor,
            action="encounter.flag_recovery",
            obj=locked,
            before=before,
            after={"recovery_phase": recovery_phase},
            institution_public_id=locked.institution.public_id,
        )
    return locked


def service_volume_record(
    *,
    actor: Any,
    institution: Any,
    month: datetime.date,
    department: Any = None,
    outpatient_visits: int = 0,
    admissions: int = 0,
    discharges: int = 0,
) -> ServiceVolume:
    """Report (or correct) one month's visits, admissions and discharges of an institution or department.

    Audited ``service_volume.record``. Raises NotAllowed, Invalid.
    """
    if not policies.can_report_volume_at(actor, institution.pk):
        raise NotAllowed(_("只有机构管理员可以填报服务量。"))
    errors: dict[str, list[str]] = {}
    if not isinstance(month, datetime.date) or month > timezone.localdate():
        errors["month"] = [_("请填写不晚于本月的月份。")]
    if department is not None and department.institution_id != institution.pk:
        errors["department"] = [_("科室不属于该机构。")]
    counts = {"outpatient_visits": outpatient_visits, "admissions": admissions, "discharges": discharges}
    for name, value in counts.items():
        if not isinstance(value, int) or value < 0:
            errors[name] = [_("应为不小于 0 的整数。")]
    if errors:
        raise Invalid(errors)
    month = month.replace(day=1)
    with transaction.atomic():
        row, _created = ServiceVolume.objects.select_for_update().update_or_create(
            institution=institution, department=department, month=month, defaults=counts
        )
        record_event(
            actor=actor,
            action="service_volume.record",
            obj=institution,
            after={
                "month": str(month),
                "department": str(department.public_id) if department else "",
                **counts,
            },
            institution_public_id=institution.public_id,
        )
    return row
