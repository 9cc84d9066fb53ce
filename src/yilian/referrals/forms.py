"""Forms of the clinical referral pages. They parse input; ``referrals.services`` validates and decides.

Departments, persons, encounters and dates arrive as public ids and ISO
strings; the forms turn them into objects through the selectors, so a
value the actor may not use fails like any other bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from yilian.core.exceptions import Invalid
from yilian.core.ui.forms import IsoDateInput
from yilian.institutions.models import Department
from yilian.people.forms import person_label
from yilian.referrals import selectors
from yilian.referrals.choices import (
    ATTACHMENT_MATERIALS,
    CapacityKind,
    Material,
    RecoveryPhase,
    ReferralDirection,
    ReferralKind,
    ReferralPriority,
    ReferralStatus,
)

SUMMARY_WIDGET = forms.Textarea(attrs={"rows": 3})

DEPARTMENT_INPUTS = "[name='from_institution'],[name='diagnosis_code'],[name='to_department']"
BOOKING_INPUTS = "[name='to_department'],[name='kind'],[name='booking']"


def _refresh(field: forms.Field, url: Any, target: str, include: str, trigger: str = "change") -> None:
    """Let a field reload another select's options through htmx when it changes (GET, only ``include``)."""
    field.widget.attrs.update(
        {
            "hx-get": url,
            "hx-target": target,
            "hx-include": include,
            "hx-trigger": trigger,
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
        }
    )


def _blank(choices: Any, label: Any = "") -> list[tuple[str, Any]]:
    return [("", label or _("全部")), *choices]


def department_label(department: Department) -> str:
    """A receiving department as offered: institution, department and the institution's level."""
    institution = department.institution
    return f"{institution.name} · {department.name}（{institution.level_label}）"


def department_choices(
    departments: list[Department], matches: Mapping[int, str], blank: Any = None
) -> list[tuple[Any, Any]]:
    """Departments as select choices: those recommended for the diagnosis first (an optgroup, the most
    specific first: see ``selectors.diagnosis_matches``), then the rest in the given order."""
    order = {selectors.ReceiverMatch.SUBJECT: 0, selectors.ReceiverMatch.SPECIALTY: 1}
    recommended = sorted(
        (d for d in departments if matches.get(d.pk) in order), key=lambda d: order[matches[d.pk]]
    )
    first = [(str(d.public_id), department_label(d)) for d in recommended]
    rest = [(str(d.public_id), department_label(d)) for d in departments if matches.get(d.pk) not in order]
    choices: list[tuple[Any, Any]] = [("", blank or _("请选择接收科室"))]
    if first and rest:
        choices += [(_("推荐（与诊断相符的专科）"), first), (_("其他科室"), rest)]
    else:
        choices += first + rest
    return choices


def booking_choices(pools: list[Any]) -> list[tuple[str, str]]:
    """Pools of reserved places as select choices: the pool's public id, its day, whom it is for (a day
    may have a general pool and one kept for signed residents) and the places left."""
    return [("", _("不预约（由接收方安排）"))] + [(str(pool.public_id), _pool_label(pool)) for pool in pools]


def _pool_label(pool: Any) -> str:
    """A pool's day, whom it is for and the places left; beds are counted as beds, not as 号源."""
    values = {"day": pool.date.isoformat(), "left": pool.remaining}
    if pool.kind == CapacityKind.BED:
        values["pool"] = _("仅限签约居民") if pool.signed_residents_only else _("普通床位")
        return _("%(day)s · %(pool)s（剩余 %(left)s 张）") % values
    values["pool"] = _("仅限签约居民") if pool.signed_residents_only else _("普通号源")
    return _("%(day)s · %(pool)s（剩余 %(left)s 个）") % values


def _booking(value: str) -> Any:
    """The chosen pool by public id, or None for no booking (the service checks it fits the referral)."""
    if not value:
        return None
    try:
        return selectors.reserved_capacity_get(value)
    except Invalid as error:
        raise forms.ValidationError(error.as_text()["booking"]) from error


def _department(value: str, field: str) -> Department | None:
    if not value:
        return None
    try:
        return selectors.department_for_referral(value, field=field)
    except Invalid as error:
        raise forms.ValidationError(error.as_text()[field]) from error


# Lists --------------------------------------------------------------------------------------


class ReferralFilterForm(forms.Form):
    """Filters of the referral lists (GET)."""

    status = forms.ChoiceField(label=_("状态"), required=False, choices=_blank(ReferralStatus.choices))
    direction = forms.ChoiceField(label=_("方向"), required=False, choices=_blank(ReferralDirection.choices))
    priority = forms.ChoiceField(label=_("优先级"), required=False, choices=_blank(ReferralPriority.choices))
    q = forms.CharField(
        label=_("单号、诊断或患者"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("姓名或拼音首字母"), "data-testid": "referral-search"}
        ),
    )
    submitted_from = forms.DateField(label=_("提交日期自"), required=False, widget=IsoDateInput())
    submitted_to = forms.DateField(label=_("至"), required=False, widget=IsoDateInput())
    open_only = forms.BooleanField(label=_("仅未结束"), required=False)
    scope = forms.ChoiceField(
        label=_("范围"),
        required=False,
        choices=[(selectors.INBOX_DEPARTMENT, _("本科室")), (selectors.INBOX_INSTITUTION, _("全院"))],
        help_text=_("本科室：转给您所在科室的转诊（未限定科室的岗位看全院）。"),
    )

    def __init__(self, *args: Any, box: str = "all", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if box != "inbox":
            # Only the inbox is narrowed to the actor's departments.
            del self.fields["scope"]

    def filters(self, box: str) -> selectors.ReferralFilters:
        """The selector's filters for this box (unfiltered when the form is invalid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return selectors.ReferralFilters(
            box=box,
            scope=data.get("scope") or selectors.INBOX_DEPARTMENT,
            status=data.get("status") or "",
            direction=data.get("direction") or "",
            priority=data.get("priority") or "",
            open_only=bool(data.get("open_only")),
            query=(data.get("q") or "").strip(),
            submitted_from=data.get("submitted_from"),
            submitted_to=data.get("submitted_to"),
        )


# Writing a referral -------------------------------------------------------------------------


class ReferralContentForm(forms.Form):
    """What the sender writes on a referral (new or draft): receiver, diagnosis, reason, summary."""

    from_department = forms.ModelChoiceField(
        label=_("转出科室"), queryset=Department.objects.none(), required=False, to_field_name="public_id"
    )
    kind = forms.ChoiceField(
        label=_("转诊类型"), choices=ReferralKind.choices, initial=ReferralKind.OUTPATIENT
    )
    priority = forms.ChoiceField(
        label=_("优先级"), choices=ReferralPriority.choices, initial=ReferralPriority.ROUTINE
    )
    diagnosis_code = forms.CharField(
        label=_("疾病诊断编码（ICD-10）"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "I10", "autocomplete": "off", "spellcheck": "false"}),
    )
    diagnosis_name = forms.CharField(label=_("疾病诊断名称"), max_length=50)
    to_department = forms.CharField(
        label=_("接收科室"),
        widget=forms.Select(),
        help_text=_("列出本医联体其他成员单位的科室，与诊断相符的专科在前。"),
    )
    reason = forms.CharField(label=_("转诊原因"), max_length=100)
    recovery_phase = forms.ChoiceField(
        label=_("下转阶段"),
        required=False,
        choices=_blank(RecoveryPhase.choices, _("（非下转）")),
    )
    history = forms.CharField(label=Material.HISTORY.label, required=False, widget=SUMMARY_WIDGET)
    exam_results = forms.CharField(label=Material.EXAM_RESULTS.label, required=False, widget=SUMMARY_WIDGET)
    medications = forms.CharField(label=Material.MEDICATIONS.label, required=False, widget=SUMMARY_WIDGET)
    procedures = forms.CharField(label=Material.PROCEDURES.label, required=False, widget=SUMMARY_WIDGET)
    treatment = forms.CharField(label=Material.TREATMENT.label, required=False, widget=SUMMARY_WIDGET)
    plan = forms.CharField(label=Material.PLAN.label, required=False, widget=SUMMARY_WIDGET)
    patient_consented = forms.BooleanField(label=_("患者（或家属）已知情同意转诊"), required=False)

    SUMMARY_FIELDS = ("history", "exam_results", "medications", "procedures", "treatment", "plan")
    HEAD_FIELDS = (
        "kind",
        "priority",
        "diagnosis_code",
        "diagnosis_name",
        "to_department",
        "reason",
        "recovery_phase",
    )

    def __init__(
        self,
        *args: Any,
        from_departments: QuerySet[Department],
        receiving: list[Department],
        matches: Mapping[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_department"].queryset = from_departments  # type: ignore[attr-defined]
        self.fields["from_department"].empty_label = _("（不指定）")  # type: ignore[attr-defined]
        self.fields["to_department"].widget.choices = department_choices(receiving, matches)  # type: ignore[attr-defined]
        self.fields["to_department"].widget.attrs["data-testid"] = "to-department"
        self.fields["diagnosis_code"].widget.attrs["data-testid"] = "diagnosis-code"
        _refresh(
            self.fields["diagnosis_code"],
            reverse_lazy("referrals:department-options"),
            "#id_to_department",
            DEPARTMENT_INPUTS,
            "input changed delay:800ms",
        )

    def clean_to_department(self) -> Department | None:
        """The chosen department by public id (active, of an active institution)."""
        return _department(self.cleaned_data.get("to_department") or "", "to_department")

    def content(self) -> dict[str, Any]:
        """Keyword arguments of the content fields for ``referral_create`` / ``referral_update``."""
        names = ("from_department", *self.HEAD_FIELDS, *self.SUMMARY_FIELDS, "patient_consented")
        return {name: self.cleaned_data.get(name) for name in names}


class ReferralNewForm(ReferralContentForm):
    """A new referral: the patient and sending institution, the content, and how to save it."""

    person = forms.ModelChoiceField(
        label=_("患者"),
        queryset=None,
        to_field_name="public_id",
        empty_label=_("请先搜索并选择患者"),
        error_messages={"invalid_choice": _("未找到该患者，或您无权为其转诊。")},
    )
    from_institution = forms.ModelChoiceField(
        label=_("转出机构"), queryset=None, to_field_name="public_id", empty_label=None
    )
    encounter = forms.UUIDField(required=False, widget=forms.HiddenInput())
    booking = forms.CharField(
        label=_("预约接收科室预留号源"),
        required=False,
        widget=forms.Select(attrs={"data-testid": "booking"}),
        help_text=_(
            "仅医联体内、门诊/住院/检查类转诊可预约；提交时占用所选的一个号源。"
            "“仅限签约居民”的号源只供有生效家庭医生签约的患者预约。"
        ),
    )
    acknowledge_missing = forms.BooleanField(label=_("资料不全仍提交"), required=False)
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput())

    field_order = ["person", "from_institution", "from_department"]

    def __init__(
        self,
        *args: Any,
        persons: QuerySet[Any],
        person_options: list[Any],
        institutions: QuerySet[Any],
        booking_days: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        person_field = self.fields["person"]
        person_field.queryset = persons  # type: ignore[attr-defined]
        # Only the chosen person and search results are rendered; validation still checks every visible person.
        person_field.widget.choices = [("", person_field.empty_label)] + [  # type: ignore[attr-defined]
            (str(p.public_id), person_label(p)) for p in person_options
        ]
        person_field.widget.attrs["data-testid"] = "person-select"
        self.fields["from_institution"].queryset = institutions  # type: ignore[attr-defined]
        self.fields["booking"].widget.choices = booking_choices(booking_days)  # type: ignore[attr-defined]
        _refresh(
            self.fields["from_institution"],
            reverse_lazy("referrals:department-options"),
            "#id_to_department",
            DEPARTMENT_INPUTS,
        )
        for name in ("to_department", "kind"):
            _refresh(
                self.fields[name],
                reverse_lazy("referrals:booking-options"),
                "#id_booking",
                BOOKING_INPUTS,
            )

    def clean_booking(self) -> Any:
        """The chosen pool (the service checks it is bookable for this referral)."""
        return _booking(self.cleaned_data.get("booking") or "")


class ReferralEditForm(ReferralContentForm):
    """A draft's content, with the version the sender saw."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput())


# Actions on a referral ----------------------------------------------------------------------


class ActionForm(forms.Form):
    """Base of every action form: the version the actor saw (a stale page gets the service's Conflict)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput())

    def fields_for_service(self) -> dict[str, Any]:
        """The action's inputs for ``referral_act``."""
        data = dict(self.cleaned_data)
        data.pop("expected_version", None)
        return {k: v for k, v in data.items() if v not in (None, "")}


class NoteActionForm(ActionForm):
    """An action without required fields, with an optional note for the timeline."""

    note = forms.CharField(label=_("说明（可不填）"), required=False, max_length=500)


class ReasonActionForm(ActionForm):
    """An action that needs a reason (decline, cancel, cancel requests)."""

    reason = forms.CharField(
        label=_("原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class RedirectActionForm(ReasonActionForm):
    """Redirect to another department (of this institution or another member)."""

    to_department = forms.CharField(label=_("改派到"), required=False, widget=forms.Select())

    field_order = ["to_department", "reason"]

    def __init__(
        self, *args: Any, departments: list[Department], matches: Mapping[int, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_department"].widget.choices = department_choices(departments, matches)  # type: ignore[attr-defined]

    def clean_to_department(self) -> Department | None:
        """The chosen department by public id."""
        return _department(self.cleaned_data.get("to_department") or "", "to_department")


class ScheduleActionForm(ActionForm):
    """Set the appointment day, optionally taking a reserved place."""

    scheduled_for = forms.DateField(label=_("预约日期"), required=False, widget=IsoDateInput())
    book = forms.BooleanField(label=_("使用预留号源/床位"), required=False)
    note = forms.CharField(label=_("说明（可不填）"), required=False, max_length=500)


class CompleteActionForm(ActionForm):
    """The receiver's outcome: diagnosis, what was done, discharge summary, follow-up plan."""

    outcome_diagnosis_code = forms.CharField(
        label=_("出院/接诊诊断编码（ICD-10）"), required=False, max_length=20
    )
    outcome_diagnosis_name = forms.CharField(label=_("出院/接诊诊断名称"), required=False, max_length=50)
    outcome_summary = forms.CharField(
        label=_("诊疗经过与结果"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    discharge_summary = forms.CharField(
        label=_("出院小结"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up_plan = forms.CharField(
        label=_("随访与康复计划"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def fields_for_service(self) -> dict[str, Any]:
        """Every outcome field (the service strips and checks them)."""
        data = dict(self.cleaned_data)
        data.pop("expected_version", None)
        return data


class SubmitActionForm(ActionForm):
    """Send a draft: optionally book a reserved place; confirm the patient's consent when the draft
    lacks it; acknowledge missing materials."""

    booking = forms.CharField(
        label=_("预约接收科室预留号源"),
        required=False,
        widget=forms.Select(attrs={"data-testid": "booking"}),
        help_text=_("“仅限签约居民”的号源只供有生效家庭医生签约的患者预约。"),
    )
    patient_consented = forms.BooleanField(
        label=_("患者（或家属）已知情同意转诊"),
        required=False,
        help_text=_("草稿尚未记录知情同意：确认后随提交一并记录。"),
    )
    acknowledge_missing = forms.BooleanField(label=_("资料不全仍提交"), required=False)

    def __init__(
        self, *args: Any, booking_days: list[Any], needs_consent: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["booking"].widget.choices = booking_choices(booking_days)  # type: ignore[attr-defined]
        if not needs_consent:
            # Consent already on the draft: nothing to confirm here (it is changed on the edit form).
            del self.fields["patient_consented"]

    def clean_booking(self) -> Any:
        """The chosen pool (the service checks it is bookable for this referral)."""
        return _booking(self.cleaned_data.get("booking") or "")


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "submit": SubmitActionForm,
    "cancel": ReasonActionForm,
    "accept": NoteActionForm,
    "decline": ReasonActionForm,
    "redirect": RedirectActionForm,
    "schedule": ScheduleActionForm,
    "arrive": NoteActionForm,
    "no_show": NoteActionForm,
    "complete": CompleteActionForm,
    "close": NoteActionForm,
    "request_cancel": ReasonActionForm,
    "confirm_cancel": NoteActionForm,
    "decline_cancel": ReasonActionForm,
}
"""The form of each workflow action a person can take."""


# Attachments and closed-loop duties ---------------------------------------------------------


class AttachmentForm(forms.Form):
    """Upload a file to a referral."""

    material = forms.ChoiceField(
        label=_("资料类型"), choices=[(m.value, m.label) for m in Material if m in ATTACHMENT_MATERIALS]
    )
    file = forms.FileField(label=_("文件"), required=False)


class FollowUpForm(forms.Form):
    """Record a follow-up visit or the first rehabilitation record."""

    note = forms.CharField(
        label=_("随访/康复记录"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RecoveryFlagForm(forms.Form):
    """Mark an inpatient ready to go down (or clear the mark with an empty phase)."""

    recovery_phase = forms.ChoiceField(
        label=_("可下转阶段"), required=False, choices=_blank(RecoveryPhase.choices, _("（取消标记）"))
    )
