"""The referral a follow-up suggests, prefilled for the confirm page (read only; sending is
``services.suggestion_refer``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yilian.chronic_care.choices import SideEffects, Suggestion, SuggestionReason
from yilian.chronic_care.models import FollowUp
from yilian.core.text import join_list
from yilian.institutions.choices import DepartmentSpecialty, MemberRole
from yilian.institutions.models import ConsortiumMember, Department, Institution

RECENT_VISITS = 3
"""How many recent follow-ups the clinical summary quotes."""


@dataclass
class Proposal:
    """What the confirm page shows and sends."""

    lead_hospital: Institution | None
    department: Department | None
    departments: list[Department] = field(default_factory=list)
    kind: str = "outpatient"
    priority: str = "urgent"
    diagnosis_code: str = ""
    diagnosis_name: str = ""
    reason: str = ""
    history: str = ""
    exam_results: str = ""
    medications: str = ""


def lead_hospital_of(institution: Institution) -> Institution | None:
    """The lead institution of the consortium the institution is an active member of (a county
    community or city group first), or None."""
    membership = (
        ConsortiumMember.objects.filter(
            institution=institution,
            is_active=True,
            consortium__members__role=MemberRole.LEAD,
            consortium__members__is_active=True,
        )
        .order_by("-grid_form", "joined_on")
        .values_list("consortium_id", flat=True)
        .first()
    )
    if membership is None:
        return None
    lead = (
        ConsortiumMember.objects.filter(consortium_id=membership, role=MemberRole.LEAD, is_active=True)
        .select_related("institution")
        .first()
    )
    return lead.institution if lead else None


def departments_for(hospital: Institution | None, names: str) -> tuple[Department | None, list[Department]]:
    """The hospital's active clinical departments, and the first matching the registry's name keywords
    (in the order given), else internal medicine."""
    if hospital is None:
        return None, []
    departments = list(
        Department.objects.filter(institution=hospital, is_active=True, is_clinical=True).order_by(
            "code", "name"
        )
    )
    for keyword in [n.strip() for n in names.replace("，", ",").split(",") if n.strip()]:
        for department in departments:
            if keyword in department.name:
                return department, departments
    for department in departments:
        if department.specialty == DepartmentSpecialty.INTERNAL_MEDICINE:
            return department, departments
    return None, departments


def _measures(follow_up: FollowUp) -> str:
    parts = []
    if follow_up.blood_pressure:
        parts.append(_("血压 {bp} mmHg").format(bp=follow_up.blood_pressure))
    if follow_up.fasting_glucose is not None:
        parts.append(_("空腹血糖 {value} mmol/L").format(value=follow_up.fasting_glucose))
    if follow_up.random_glucose is not None:
        parts.append(_("随机血糖 {value} mmol/L").format(value=follow_up.random_glucose))
    if follow_up.hba1c is not None:
        parts.append(_("HbA1c {value}%").format(value=follow_up.hba1c))
    if follow_up.heart_rate is not None:
        parts.append(_("心率 {value} 次/分").format(value=follow_up.heart_rate))
    # A list like any other (、 in Chinese, once ，): it also sets the readings apart from the "，" the
    # summary line puts before the control status.
    return join_list(parts)


def referral_proposal(follow_up: FollowUp) -> Proposal:
    """Prefill the referral a follow-up suggests: the lead hospital of the managing institution's
    consortium, the registry's department there, outpatient, urgent (emergency with danger signs), the
    case's ICD-10, a reason from the rule and a clinical summary of the recent follow-ups. Four queries.

    The texts are written in the active language, as the doctor who confirms (and may edit) them reads
    them, so their lists are joined in that language too: 、 and ； in Chinese, ", " and "; " in English."""
    case = follow_up.case
    registry = case.registry
    lead = lead_hospital_of(case.institution)
    department, departments = departments_for(lead, registry.referral_department_names)
    recent = list(
        FollowUp.objects.filter(case=case, visited_on__lte=follow_up.visited_on).order_by(
            "-visited_on", "-id"
        )[:RECENT_VISITS]
    )
    reasons = pgettext("punctuation", "；").join(
        str(SuggestionReason(r).label) for r in follow_up.suggestion_reasons if r in SuggestionReason.values
    )
    reason = _("{registry}随访：{reasons}").format(
        registry=registry.name, reasons=reasons or _("随访建议转诊")
    )
    lines = [
        _("{day} {method}随访：{measures}，{control}").format(
            day=item.visited_on.isoformat(),
            method=item.get_method_display(),
            measures=_measures(item) or _("未测量"),
            control=item.get_control_display(),
        )
        for item in recent
    ]
    if follow_up.side_effects == SideEffects.UNCONTROLLED:
        lines.append(_("药物不良反应未能控制。"))
    if follow_up.complications_note:
        lines.append(_("并发症：{note}").format(note=follow_up.complications_note))
    if follow_up.danger_signs:
        from yilian.chronic_care.choices import DangerSign

        lines.append(
            _("危险征象：{signs}").format(
                signs=join_list(
                    str(DangerSign(s).label) for s in follow_up.danger_signs if s in DangerSign.values
                )
            )
        )
    if follow_up.symptoms:
        lines.append(_("症状：{text}").format(text=follow_up.symptoms))
    emergency = follow_up.suggestion == Suggestion.REFER_EMERGENCY
    return Proposal(
        lead_hospital=lead,
        department=department,
        departments=departments,
        kind="outpatient",
        priority="stat" if emergency else "urgent",
        diagnosis_code=case.diagnosis_code,
        diagnosis_name=(case.diagnosis_name or registry.name)[:50],
        reason=reason[:100],
        history=_("{day}纳入{registry}管理，累计随访 {count} 次。").format(
            day=case.enrolled_on.isoformat(), registry=registry.name, count=case.follow_up_count
        ),
        exam_results="\n".join(lines),
        medications=follow_up.medication,
    )
