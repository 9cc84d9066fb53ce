"""Writes of chronic-disease management: registries, enrolment and closing, follow-ups, and the
suggested referral sent in one action. Every write is one transaction with its audit event."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from yilian.chronic_care import policies, rules
from yilian.chronic_care.choices import (
    Adherence,
    CaseStatus,
    CloseReason,
    ComplicationChange,
    Control,
    DangerSign,
    FollowUpMethod,
    Measure,
    SideEffects,
    Suggestion,
    SuggestionState,
)
from yilian.chronic_care.models import ChronicCase, ChronicRegistry, FollowUp
from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.icd10 import in_range, parse_icd10
from yilian.core.text import join_list
from yilian.people.choices import PersonLinkReason
from yilian.people.selectors import person_visible_to
from yilian.people.services import age_on, person_link

FIRST_FOLLOW_UP_DAYS = 14
"""A newly enrolled case's first follow-up is due within two weeks (working definition)."""

MAX_NEXT_DUE_DAYS = 366
"""The next follow-up date cannot be set further ahead than a year."""


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(errors)


# --- registries ---------------------------------------------------------------------------------

REGISTRY_FIELDS = (
    "code",
    "name",
    "icd10_ranges",
    "measures",
    "follow_ups_per_year",
    "systolic_below",
    "diastolic_below",
    "elderly_age",
    "elderly_systolic_below",
    "elderly_diastolic_below",
    "fasting_glucose_below",
    "referral_department_names",
    "threshold_source",
    "thresholds_confirmed",
    "is_active",
)


def parse_ranges(text: str) -> list[list[str]]:
    """ "I10-I15, E11" → [["I10", "I15"], ["E11", "E11"]]; Invalid on ``icd10_ranges`` for a bad code."""
    ranges: list[list[str]] = []
    for chunk in str(text or "").replace("，", ",").replace("—", "-").replace("–", "-").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        first, _sep, last = chunk.partition("-")
        first = parse_icd10(first, field="icd10_ranges").who_code
        last = parse_icd10(last or first, field="icd10_ranges").who_code
        if last < first:
            raise Invalid({"icd10_ranges": [_("ICD-10 范围 {chunk} 的起止顺序不对。").format(chunk=chunk)]})
        ranges.append([first, last])
    return ranges


def _validate_registry(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]{1,29}", str(data.get("code") or "")):
        errors["code"] = [_("病种代码须为 2–30 位小写字母、数字或下划线，以字母开头。")]
    if not str(data.get("name") or "").strip():
        errors["name"] = [_("请填写病种名称。")]
    if not data.get("icd10_ranges"):
        errors.setdefault("icd10_ranges", [_("请至少填写一个 ICD-10 范围。")])
    measures = data.get("measures") or []
    if not measures or any(m not in Measure.values for m in measures):
        errors["measures"] = [_("请选择随访测量项目。")]
    per_year = data.get("follow_ups_per_year")
    if not isinstance(per_year, int) or not 4 <= per_year <= 52:
        errors["follow_ups_per_year"] = [_("每年规范随访次数应在 4–52 之间。")]
    for name in ("systolic_below", "elderly_systolic_below"):
        value = data.get(name)
        if value is not None and not 90 <= value <= 200:
            errors[name] = [_("收缩压目标应在 90–200 mmHg 之间。")]
    for name in ("diastolic_below", "elderly_diastolic_below"):
        value = data.get(name)
        if value is not None and not 50 <= value <= 130:
            errors[name] = [_("舒张压目标应在 50–130 mmHg 之间。")]
    glucose = data.get("fasting_glucose_below")
    if glucose is not None and not Decimal(3) <= Decimal(glucose) <= Decimal(20):
        errors["fasting_glucose_below"] = [_("空腹血糖目标应在 3–20 mmol/L 之间。")]
    if (
        Measure.BLOOD_PRESSURE in measures
        and Measure.GLUCOSE not in measures
        and data.get("systolic_below") is None
    ):
        errors.setdefault("systolic_below", [_("测量血压的病种须设收缩压目标。")])


def registry_save(*, actor: Any, registry: ChronicRegistry | None = None, **data: Any) -> ChronicRegistry:
    """Create a registry, or update ``registry``, from ``data`` (``icd10_ranges`` a list of pairs or the
    text "I10-I15, E11"). Audited ``chronic_registry.create`` / ``.update``. Raises NotAllowed (not a
    platform admin or consortium office), Invalid, Conflict (code taken)."""
    if not policies.can_manage_registries(actor):
        raise NotAllowed(_("只有医联体管理办公室或平台管理员可以维护慢病病种。"))
    values = {name: data[name] for name in REGISTRY_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    if isinstance(values.get("icd10_ranges"), str):
        try:
            values["icd10_ranges"] = parse_ranges(values["icd10_ranges"])
        except Invalid as error:
            errors.update(error.as_text())
    merged = {name: getattr(registry, name) for name in REGISTRY_FIELDS} if registry else {}
    merged.update(values)
    merged.setdefault("follow_ups_per_year", 4)
    _validate_registry(merged, errors)
    _raise_if(errors)
    try:
        with transaction.atomic():
            before = snapshot(registry, REGISTRY_FIELDS) if registry else None
            target = registry or ChronicRegistry()
            for name, value in merged.items():
                setattr(target, name, value)
            target.save()
            record_event(
                actor=actor,
                action="chronic_registry.update" if registry else "chronic_registry.create",
                obj=target,
                before=before,
                after=snapshot(target, REGISTRY_FIELDS),
            )
    except IntegrityError as error:
        raise Conflict(_("病种代码已被使用。")) from error
    return target


# --- enrolment ----------------------------------------------------------------------------------

CASE_AUDITED = ("registry", "institution", "care_team", "diagnosis_code", "enrolled_on", "status")


def case_enrol(
    *,
    actor: Any,
    person: Any,
    registry: ChronicRegistry,
    institution: Any,
    diagnosis_code: str,
    diagnosis_name: str = "",
    care_team: Any = None,
    enrolled_on: datetime.date | None = None,
) -> ChronicCase:
    """Enrol a resident in a registry (建档/纳入管理) at a primary institution where the actor is a doctor.

    The confirmed diagnosis must be a valid ICD-10 code inside the registry's ranges; the care team, if
    given, must be an active team of that institution. Links the person to the institution
    (``chronic_care``). The first follow-up falls due within two weeks. Audited
    ``chronic_case.enrol``. Raises NotAllowed, Invalid, Conflict (an active case of the same registry
    exists — also when a concurrent enrolment won the race).
    """
    if institution.pk not in policies.enrolling_institutions(actor):
        raise NotAllowed(_("只有本机构的医生可以为居民建立慢病管理档案。"))
    if not person_visible_to(actor).filter(pk=person.pk).exists():
        raise NotAllowed(_("您无权为该居民建档。"))
    today = timezone.localdate()
    enrolled_on = enrolled_on or today
    errors: dict[str, list[str]] = {}
    if not institution.is_primary:
        errors["institution"] = [_("慢病管理档案由基层医疗卫生机构建立。")]
    if not registry.is_active:
        errors["registry"] = [_("该病种已停用。")]
    code = ""
    try:
        code = parse_icd10(diagnosis_code).code
    except Invalid as error:
        errors.update(error.as_text())
    if code and not any(in_range(code, first, last) for first, last in registry.icd10_ranges):
        ranges = join_list(
            f"{first}–{last}" if first != last else first for first, last in registry.icd10_ranges
        )
        errors["diagnosis_code"] = [
            _("诊断 {code} 不属于{registry}（ICD-10 {ranges}）。").format(
                code=code, registry=registry.name, ranges=ranges
            )
        ]
    if care_team is not None and (care_team.institution_id != institution.pk or not care_team.is_active):
        errors["care_team"] = [_("请选择本机构在用的家庭医生团队。")]
    if enrolled_on > today:
        errors["enrolled_on"] = [_("纳入管理日期不能晚于今天。")]
    if len(diagnosis_name) > 100:
        errors["diagnosis_name"] = [_("不能超过 {limit} 个字。").format(limit=100)]
    _raise_if(errors)
    try:
        with transaction.atomic():
            if ChronicCase.objects.filter(
                person=person, registry=registry, status=CaseStatus.ACTIVE
            ).exists():
                raise Conflict(_("该居民已在{registry}管理中。").format(registry=registry.name))
            case = ChronicCase.objects.create(
                person=person,
                registry=registry,
                institution=institution,
                care_team=care_team,
                diagnosis_code=code,
                diagnosis_name=diagnosis_name.strip() or registry.name,
                enrolled_on=enrolled_on,
                enrolled_by=actor,
                next_due_on=enrolled_on + datetime.timedelta(days=FIRST_FOLLOW_UP_DAYS),
            )
            person_link(
                actor=actor, person=person, institution=institution, reason=PersonLinkReason.CHRONIC_CARE
            )
            record_event(
                actor=actor,
                action="chronic_case.enrol",
                obj=case,
                after=snapshot(case, CASE_AUDITED),
                institution_public_id=institution.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("该居民已在{registry}管理中。").format(registry=registry.name)) from error
    return case


def _lock_case(case: ChronicCase) -> ChronicCase:
    return (
        ChronicCase.objects.select_for_update(of=("self",))
        .select_related("registry", "person", "institution")
        .get(pk=case.pk)
    )


def case_close(
    *, actor: Any, case: ChronicCase, reason: str, closed_on: datetime.date | None = None, note: str = ""
) -> ChronicCase:
    """Close a case (moved away, died, diagnosis revised, other with a note). Its open referral
    suggestions lapse. Audited ``chronic_case.close``. Raises NotAllowed (not a doctor of the managing
    institution), Invalid, Conflict (already closed)."""
    if not policies.can_close_case(actor, case):
        raise NotAllowed(_("只有管理机构的医生可以结案。"))
    today = timezone.localdate()
    closed_on = closed_on or today
    errors: dict[str, list[str]] = {}
    if reason not in CloseReason.values:
        errors["reason"] = [_("请选择结案原因。")]
    if reason == CloseReason.OTHER and not note.strip():
        errors["note"] = [_("选择“其他”时请说明原因。")]
    if closed_on > today or closed_on < case.enrolled_on:
        errors["closed_on"] = [_("结案日期应在纳入管理日期与今天之间。")]
    if len(note) > 300:
        errors["note"] = [_("不能超过 {limit} 个字。").format(limit=300)]
    _raise_if(errors)
    with transaction.atomic():
        locked = _lock_case(case)
        if locked.status != CaseStatus.ACTIVE:
            raise Conflict(_("该档案已结案。"))
        locked.status = CaseStatus.CLOSED
        locked.closed_on = closed_on
        locked.close_reason = reason
        locked.close_note = note.strip()
        locked.save(update_fields=["status", "closed_on", "close_reason", "close_note", "updated_at"])
        FollowUp.objects.filter(case=locked, suggestion_state=SuggestionState.OPEN).update(
            suggestion_state=SuggestionState.DISMISSED, suggestion_note=_("档案已结案")
        )
        record_event(
            actor=actor,
            action="chronic_case.close",
            obj=locked,
            after={"reason": reason, "closed_on": closed_on.isoformat(), "note": locked.close_note},
            institution_public_id=locked.institution.public_id,
        )
    return locked


# --- follow-ups ---------------------------------------------------------------------------------

FOLLOW_UP_TEXT_LIMITS = {
    "complications_note": 300,
    "symptoms": 300,
    "medication": 2000,
    "lifestyle_advice": 2000,
}

FIELD_LABELS = {
    "systolic": gettext_lazy("收缩压"),
    "diastolic": gettext_lazy("舒张压"),
    "heart_rate": gettext_lazy("心率"),
    "fasting_glucose": gettext_lazy("空腹血糖"),
    "random_glucose": gettext_lazy("随机血糖"),
    "hba1c": gettext_lazy("糖化血红蛋白"),
    "weight_kg": gettext_lazy("体重"),
    "height_cm": gettext_lazy("身高"),
}
UNITS = {
    "systolic": "mmHg",
    "diastolic": "mmHg",
    "heart_rate": pgettext_lazy("unit", "次/分"),
    "fasting_glucose": "mmol/L",
    "random_glucose": "mmol/L",
    "hba1c": "%",
    "weight_kg": "kg",
    "height_cm": "cm",
}
INTEGER_FIELDS = ("systolic", "diastolic", "heart_rate")


def _number(name: str, raw: Any, errors: dict[str, list[str]]) -> Any:
    """Parse and range-check one measurement; None when empty."""
    if raw is None or raw == "":
        return None
    low, high = rules.RANGES[name]
    label = str(FIELD_LABELS[name])
    try:
        value = Decimal(str(raw).strip())
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[name] = [_("{label}须为数字。").format(label=label)]
        return None
    if name in INTEGER_FIELDS and value != value.to_integral_value():
        errors[name] = [_("{label}须为整数。").format(label=label)]
        return None
    if not low <= value <= high:
        errors[name] = [
            _("{label} {value} {unit} 超出允许范围（{low}–{high} {unit}），请核对。").format(
                label=label, value=raw, unit=UNITS[name], low=low, high=high
            )
        ]
        return None
    return int(value) if name in INTEGER_FIELDS else value.quantize(Decimal("0.1"))


def _validate_follow_up(case: ChronicCase, data: dict[str, Any], today: datetime.date) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in rules.RANGES:
        clean[name] = _number(name, data.get(name), errors)
    if (
        clean["systolic"] is not None
        and clean["diastolic"] is not None
        and clean["diastolic"] >= clean["systolic"]
    ):
        errors["diastolic"] = [
            _("舒张压（{dbp}）须低于收缩压（{sbp}），请核对。").format(
                dbp=clean["diastolic"], sbp=clean["systolic"]
            )
        ]
    if (
        (clean["systolic"] is None) != (clean["diastolic"] is None)
        and "systolic" not in errors
        and "diastolic" not in errors
    ):
        errors["diastolic" if clean["diastolic"] is None else "systolic"] = [
            _("血压须同时填写收缩压和舒张压。")
        ]
    measures = case.registry.measures
    face_to_face = data.get("method") != FollowUpMethod.PHONE
    bp_only = Measure.BLOOD_PRESSURE in measures and Measure.GLUCOSE not in measures
    if bp_only and face_to_face and clean["systolic"] is None and not {"systolic", "diastolic"} & set(errors):
        errors["systolic"] = [_("面对面随访须测量血压。")]
    if (
        Measure.GLUCOSE in measures
        and data.get("method") != FollowUpMethod.PHONE
        and (
            clean["fasting_glucose"] is None
            and clean["random_glucose"] is None
            and "fasting_glucose" not in errors
        )
    ):
        errors["fasting_glucose"] = [_("面对面随访须测量空腹或随机血糖。")]
    visited_on = data.get("visited_on") or today
    if not isinstance(visited_on, datetime.date):
        errors["visited_on"] = [_("请填写随访日期。")]
    elif visited_on > today:
        errors["visited_on"] = [_("随访日期不能晚于今天。")]
    elif visited_on < case.enrolled_on:
        errors["visited_on"] = [_("随访日期不能早于纳入管理日期（{day}）。").format(day=case.enrolled_on)]
    clean["visited_on"] = visited_on
    for name, choices, label in (
        ("method", FollowUpMethod, _("随访方式")),
        ("adherence", Adherence, _("服药依从性")),
        ("side_effects", SideEffects, _("药物不良反应")),
        ("complications", ComplicationChange, _("并发症")),
    ):
        value = data.get(name) or ("" if name in ("method", "adherence") else choices.values[0])
        if value not in choices.values:
            errors[name] = [_("请选择{label}。").format(label=label)]
        clean[name] = value
    signs = list(data.get("danger_signs") or [])
    if any(sign not in DangerSign.values for sign in signs):
        errors["danger_signs"] = [_("无效的危险征象。")]
    clean["danger_signs"] = (
        sorted(set(signs), key=DangerSign.values.index) if "danger_signs" not in errors else []
    )
    for name, limit in FOLLOW_UP_TEXT_LIMITS.items():
        text = str(data.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = [_("不能超过 {limit} 个字。").format(limit=limit)]
        clean[name] = text
    next_due = data.get("next_due_on")
    if next_due and isinstance(visited_on, datetime.date):
        if not isinstance(next_due, datetime.date) or next_due <= visited_on:
            errors["next_due_on"] = [_("下次随访日期须晚于本次随访日期。")]
        elif next_due > visited_on + datetime.timedelta(days=MAX_NEXT_DUE_DAYS):
            errors["next_due_on"] = [_("下次随访日期不能超过本次随访后一年。")]
    clean["next_due_on"] = next_due or None
    _raise_if(errors)
    return clean


def _recent_controls(case: ChronicCase, *, before: tuple[datetime.date, int] | None = None) -> list[str]:
    """Control values of the case's latest follow-ups, newest first (bounded: enough to count a run)."""
    follow_ups = FollowUp.objects.filter(case=case)
    if before is not None:
        day, pk = before
        follow_ups = follow_ups.filter(visited_on__lt=day) | follow_ups.filter(visited_on=day, id__lt=pk)
    return list(follow_ups.order_by("-visited_on", "-id").values_list("control", flat=True)[:50])


def _run(controls: list[str]) -> int:
    run = 0
    for control in controls:
        if control == Control.UNCONTROLLED:
            run += 1
        elif control == Control.CONTROLLED:
            break
    return run


def _refresh_derived(case: ChronicCase) -> None:
    """Recompute the case's derived fields from its follow-ups (under the caller's row lock)."""
    latest = FollowUp.objects.filter(case=case).order_by("-visited_on", "-id").first()
    if latest is None:
        return
    case.last_follow_up_on = latest.visited_on
    case.last_control = latest.control
    case.consecutive_uncontrolled = _run(_recent_controls(case))
    case.follow_up_count = FollowUp.objects.filter(case=case).count()
    case.next_due_on = latest.next_due_on
    case.save(
        update_fields=[
            "last_follow_up_on",
            "last_control",
            "consecutive_uncontrolled",
            "follow_up_count",
            "next_due_on",
            "updated_at",
        ]
    )


FOLLOW_UP_AUDITED = (
    "visited_on",
    "method",
    "systolic",
    "diastolic",
    "fasting_glucose",
    "control",
    "suggestion",
    "next_due_on",
)


def follow_up_record(*, actor: Any, case: ChronicCase, **data: Any) -> FollowUp:
    """Record a follow-up visit of an active case.

    Checks every measurement against its plausible range (naming the field and the range), diastolic
    below systolic, dates; computes BMI, the control status from the registry's thresholds and the
    follow-up rule's suggestion (a suggested referral opens a "建议转诊" item and brings the next
    follow-up forward to the two-week outcome check). Under a lock of the case row it recomputes the
    case's last visit, run of uncontrolled visits and next due date, so concurrent records stay right.
    Audited ``chronic_follow_up.record``. Raises NotAllowed, Invalid (nothing saved), Conflict (case
    closed meanwhile). The same ``idempotency_key`` from the same user on the same case returns the first
    record unchanged (a double click records one visit, not two).
    """
    if not policies.can_record_follow_up(actor, case):
        raise NotAllowed(_("您无权为该档案记录随访。"))
    once_key = str(data.pop("idempotency_key", "") or "").strip()[:64]
    today = timezone.localdate()
    clean = _validate_follow_up(case, data, today)
    with transaction.atomic():
        locked = _lock_case(case)
        if once_key:
            # Under the case lock: a second post of the form waits for the first and finds its record.
            existing = FollowUp.objects.filter(
                case=locked, recorded_by=actor, idempotency_key=once_key
            ).first()
            if existing is not None:
                return existing
        if locked.status != CaseStatus.ACTIVE:
            raise Conflict(_("该档案已结案，不能再记录随访。"))
        registry = locked.registry
        age = age_on(locked.person, clean["visited_on"])
        control = rules.control_status(
            rules.Thresholds.of(registry),
            age=age,
            systolic=clean["systolic"],
            diastolic=clean["diastolic"],
            fasting_glucose=clean["fasting_glucose"],
        )
        newest = locked.last_follow_up_on is None or clean["visited_on"] >= locked.last_follow_up_on
        previous_run = (
            locked.consecutive_uncontrolled
            if newest
            else _run(_recent_controls(locked, before=(clean["visited_on"], 2**62)))
        )
        result = rules.referral_rule(
            control=control,
            previous_uncontrolled=previous_run,
            side_effects=clean["side_effects"],
            complications=clean["complications"],
            danger_signs=clean["danger_signs"],
            systolic=clean["systolic"],
            diastolic=clean["diastolic"],
        )
        next_due = clean.pop("next_due_on") or rules.default_next_due(
            clean["visited_on"], registry.interval_days, suggestion=result.suggestion
        )
        follow_up = FollowUp.objects.create(
            case=locked,
            institution_id=locked.institution_id,
            recorded_by=actor,
            idempotency_key=once_key,
            bmi=rules.bmi(clean["weight_kg"], clean["height_cm"]),
            control=control,
            due_on=locked.next_due_on if newest else None,
            next_due_on=next_due,
            suggestion=result.suggestion,
            suggestion_reasons=list(result.reasons),
            suggestion_state=SuggestionState.OPEN
            if result.suggestion != Suggestion.NONE
            else SuggestionState.NONE,
            outcome_check_due_on=(
                clean["visited_on"] + datetime.timedelta(days=rules.OUTCOME_CHECK_DAYS)
                if result.suggestion != Suggestion.NONE
                else None
            ),
            **clean,
        )
        _refresh_derived(locked)
        record_event(
            actor=actor,
            action="chronic_follow_up.record",
            obj=follow_up,
            after=snapshot(follow_up, FOLLOW_UP_AUDITED),
            details={"case": str(locked.public_id), "reasons": list(result.reasons)},
            institution_public_id=locked.institution.public_id,
        )
    case.__dict__.update(
        {
            k: getattr(locked, k)
            for k in (
                "last_follow_up_on",
                "last_control",
                "consecutive_uncontrolled",
                "follow_up_count",
                "next_due_on",
            )
        }
    )
    return follow_up


# --- suggestions --------------------------------------------------------------------------------


def _lock_follow_up(follow_up: FollowUp) -> FollowUp:
    return (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("case", "case__person", "case__registry", "case__institution")
        .get(pk=follow_up.pk)
    )


def suggestion_dismiss(*, actor: Any, follow_up: FollowUp, note: str) -> FollowUp:
    """Record that the doctor decided not to refer on a suggestion, with the reason. Audited
    ``chronic_follow_up.dismiss``. Raises NotAllowed, Invalid (no reason), Conflict (already handled)."""
    if not policies.can_refer(actor, follow_up.case):
        raise NotAllowed(_("只有管理机构的医生可以处理转诊建议。"))
    note = note.strip()
    if not note:
        raise Invalid({"note": [_("请说明不转诊的理由。")]})
    if len(note) > 300:
        raise Invalid({"note": [_("不能超过 {limit} 个字。").format(limit=300)]})
    with transaction.atomic():
        locked = _lock_follow_up(follow_up)
        if locked.suggestion_state != SuggestionState.OPEN:
            raise Conflict(_("该转诊建议已处理。"))
        locked.suggestion_state = SuggestionState.DISMISSED
        locked.suggestion_note = note
        locked.save(update_fields=["suggestion_state", "suggestion_note", "updated_at"])
        record_event(
            actor=actor,
            action="chronic_follow_up.dismiss",
            obj=locked,
            details={"note": note},
            institution_public_id=locked.case.institution.public_id,
        )
    return locked


def suggestion_refer(
    *,
    actor: Any,
    follow_up: FollowUp,
    to_department: Any,
    priority: str,
    kind: str,
    diagnosis_code: str,
    diagnosis_name: str,
    reason: str,
    history: str = "",
    exam_results: str = "",
    medications: str = "",
    patient_consented: bool = False,
    acknowledge_missing: bool = False,
    idempotency_key: str = "",
) -> Any:
    """Send the referral a follow-up suggests, in one action: create it from the managing institution and
    submit it through ``referrals.services`` (their checks apply: consent, required fields, materials),
    then link it to the follow-up. Audited ``chronic_follow_up.refer`` (plus the referral's own events).
    Raises NotAllowed, Invalid (the referral's field errors), Conflict (suggestion already handled — a
    second click or a colleague was faster).
    """
    from yilian.referrals.services import referral_create

    case = follow_up.case
    if not policies.can_refer(actor, case):
        raise NotAllowed(_("只有管理机构的医生可以发起转诊。"))
    with transaction.atomic():
        locked = _lock_follow_up(follow_up)
        if locked.suggestion_state != SuggestionState.OPEN:
            raise Conflict(_("该转诊建议已处理。"))
        referral, _created = referral_create(
            actor=actor,
            person=locked.case.person,
            from_institution=locked.case.institution,
            submit=True,
            acknowledge_missing=acknowledge_missing,
            idempotency_key=idempotency_key,
            to_department=to_department,
            kind=kind,
            priority=priority,
            diagnosis_code=diagnosis_code,
            diagnosis_name=diagnosis_name,
            reason=reason,
            history=history,
            exam_results=exam_results,
            medications=medications,
            patient_consented=patient_consented,
        )
        locked.referral = referral
        locked.suggestion_state = SuggestionState.REFERRED
        locked.save(update_fields=["referral", "suggestion_state", "updated_at"])
        record_event(
            actor=actor,
            action="chronic_follow_up.refer",
            obj=locked,
            details={"referral": str(referral.public_id), "priority": priority},
            institution_public_id=locked.case.institution.public_id,
        )
    return referral
