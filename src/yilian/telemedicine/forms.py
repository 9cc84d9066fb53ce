"""Forms of the teleconsultation pages. They parse input; ``telemedicine.services`` validates and decides.

Persons, institutions, departments, experts and free times arrive as public
ids; the forms turn them into objects among the choices offered to the actor,
so a value the actor may not use fails like any other bad input. The patient
is chosen with the people app's resident picker (``people/_person_picker.html``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.forms import IsoDateInput
from yilian.institutions.choices import DepartmentSpecialty
from yilian.people.forms import PersonChoiceField, chosen_person
from yilian.telemedicine.choices import (
    REQUIRED_TITLE_CHOICES,
    AttachmentKind,
    ChargeDirection,
    ConsentRelationship,
    TeleconsultationKind,
    TeleconsultationOutcome,
    TeleconsultationStatus,
)

TEXTAREA = {"rows": 3}
FREE_TIME_INPUTS = "[name='invited_institution'],[name='required_specialty'],[name='required_title']"


class DateTimeLocalInput(forms.DateTimeInput):
    """A browser date-and-time picker; its value is ISO ``YYYY-MM-DDTHH:MM`` in local time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _blank(choices: Any, label: Any = "") -> list[tuple[str, Any]]:
    return [("", label or "—"), *choices]


def _datetime_field(label: Any, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=False, widget=DateTimeLocalInput(), **kwargs)


def user_label(user: Any) -> str:
    """A doctor as offered: name and title."""
    name = user.full_name or user.username
    title = user.get_professional_title_display() if user.professional_title else ""
    return gettext("%(name)s（%(title)s）") % {"name": name, "title": title} if title else name


def slot_label(slot: Any) -> str:
    """A free time as offered: when, who, where."""
    start = timezone.localtime(slot.starts_at)
    end = timezone.localtime(slot.ends_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} · {user_label(slot.expert)} · {slot.institution.name}"


def slot_choices(slots: list[Any]) -> list[tuple[str, str]]:
    """Options of a free-time select."""
    return _blank([(str(slot.public_id), slot_label(slot)) for slot in slots], _("不指定（按拟会诊时间）"))


class _PickMixin:
    """Turns a public id posted in a select into the object offered under it."""

    offered: dict[str, dict[str, Any]]

    def _pick(self, name: str, *, required_message: Any = None) -> Any:
        value = self.cleaned_data.get(name) or ""  # type: ignore[attr-defined]
        if not value:
            if required_message:
                raise forms.ValidationError(required_message)
            return None
        found = self.offered.get(name, {}).get(str(value))
        if found is None:
            raise forms.ValidationError(_("请从列表中选择。"))
        return found


def _offer(field: forms.Field, objects: list[Any], label: Any, blank: Any = "") -> dict[str, Any]:
    field.widget.choices = _blank([(str(obj.public_id), label(obj)) for obj in objects], blank)  # type: ignore[attr-defined]
    return {str(obj.public_id): obj for obj in objects}


class TeleconsultationNewForm(_PickMixin, forms.Form):
    """The written consent and the invitation (WS 445.13 consultation data elements)."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput(), required=False, max_length=64)
    kind = forms.ChoiceField(label=_("会诊类型"), choices=TeleconsultationKind.choices)
    inviting_institution = forms.CharField(label=_("邀请机构"), widget=forms.Select())
    inviting_department = forms.CharField(label=_("申请科室"), required=False, widget=forms.Select())
    person = PersonChoiceField(
        label=_("患者"), required=False, empty_label=_("不关联患者"), help_text=_("远程教学可不选患者")
    )
    invited_institution = forms.CharField(label=_("受邀机构"), widget=forms.Select())
    required_specialty = forms.ChoiceField(
        label=_("所需专业"), required=False, choices=_blank(DepartmentSpecialty.choices, _("不限"))
    )
    required_title = forms.ChoiceField(label=_("所需最低职称"), choices=REQUIRED_TITLE_CHOICES)
    proposed_slot = forms.CharField(
        label=_("专家可预约时间"),
        required=False,
        widget=forms.Select(attrs={"data-testid": "free-times"}),
        help_text=_("选择后以该时间为拟会诊时间"),
    )
    proposed_at = _datetime_field(_("拟会诊时间"))
    reason = forms.CharField(
        label=_("会诊原因"), max_length=200, required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    purpose = forms.CharField(label=_("会诊目的"), max_length=50, required=False)
    case_summary = forms.CharField(
        label=_("病历摘要"), max_length=2000, required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    exam_results = forms.CharField(
        label=_("辅助检查结果"), max_length=1000, required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    diagnosis_code = forms.CharField(label=_("西医诊断编码（ICD-10）"), max_length=20, required=False)
    diagnosis_name = forms.CharField(label=_("西医诊断名称"), max_length=50, required=False)
    consent_signer_name = forms.CharField(label=_("知情同意书签署人"), max_length=50, required=False)
    consent_relationship = forms.ChoiceField(
        label=_("签署人与患者关系"), required=False, choices=_blank(ConsentRelationship.choices)
    )
    consent_signed_at = _datetime_field(_("签署时间"))
    # Parsed by the service, which alone knows whether the two ends share a consortium.
    agreed_fee = forms.CharField(
        label=_("协议约定费用（元）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "data-testid": "agreed-fee"}),
        help_text=_(
            "医联体外会诊必填：双方远程医疗合作协议约定的本次费用，不收费填 0；"
            "同一医联体内按医联体收费标准，无需填写。"
        ),
    )

    def __init__(
        self,
        *args: Any,
        institutions: list[Any],
        departments: list[Any],
        persons: QuerySet[Any],
        invited: list[Any],
        slots: list[Any],
        free_times_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {
            "inviting_institution": _offer(
                self.fields["inviting_institution"], institutions, lambda i: i.name
            ),
            "inviting_department": _offer(
                self.fields["inviting_department"], departments, lambda d: f"{d.institution.name} · {d.name}"
            ),
            "invited_institution": _offer(self.fields["invited_institution"], invited, lambda i: i.name),
        }
        # Any visible person is accepted; only the chosen one is rendered (the picker searches the rest).
        self.fields["person"].offer(persons, chosen_person(persons, self["person"].value()))
        if len(institutions) == 1:
            # The only institution the user may invite from is chosen for them.
            self.fields["inviting_institution"].initial = str(institutions[0].public_id)
        self.fields["proposed_slot"].widget.choices = slot_choices(slots)  # type: ignore[attr-defined]
        self.offered["proposed_slot"] = {str(slot.public_id): slot for slot in slots}
        for name in ("invited_institution", "required_specialty", "required_title"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": free_times_url,
                    "hx-target": "#id_proposed_slot",
                    "hx-include": FREE_TIME_INPUTS,
                    "hx-trigger": "change",
                    "hx-swap": "innerHTML",
                }
            )

    def clean_inviting_institution(self) -> Any:
        """The inviting institution among the actor's."""
        return self._pick("inviting_institution", required_message=_("请选择邀请机构。"))

    def clean_inviting_department(self) -> Any:
        """The applying department (optional)."""
        return self._pick("inviting_department")

    def clean_invited_institution(self) -> Any:
        """The invited institution."""
        return self._pick("invited_institution", required_message=_("请选择受邀机构。"))

    def clean_proposed_slot(self) -> Any:
        """The chosen free time (optional)."""
        value = self.cleaned_data.get("proposed_slot") or ""
        if not value:
            return None
        found = self.offered["proposed_slot"].get(str(value))
        if found is None:
            raise forms.ValidationError(_("所选专家时间已被预约或不符合要求，请重新选择。"))
        return found

    def for_service(self) -> dict[str, Any]:
        """The inputs of ``teleconsultation_create``."""
        data = dict(self.cleaned_data)
        data.pop("idempotency_key", None)
        return data


class ActionForm(forms.Form):
    """Base of every action form: the version the actor saw (a stale page gets the service's Conflict)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput())

    def fields_for_service(self) -> dict[str, Any]:
        """The action's inputs for ``teleconsultation_act``."""
        data = dict(self.cleaned_data)
        data.pop("expected_version", None)
        return {k: v for k, v in data.items() if v not in (None, "")}


class ExpertActionForm(_PickMixin, ActionForm):
    """Accept or re-assign: a qualified doctor of the invited institution."""

    expert = forms.CharField(label=_("会诊专家"), required=False, widget=forms.Select())
    note = forms.CharField(label=_("说明（可不填）"), required=False, max_length=500)

    def __init__(self, *args: Any, experts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {"expert": _offer(self.fields["expert"], experts, user_label, _("请选择"))}

    def clean_expert(self) -> Any:
        """The chosen expert."""
        return self._pick("expert")


class ReasonActionForm(ActionForm):
    """Decline or cancel with a reason."""

    reason = forms.CharField(
        label=_("原因"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScheduleActionForm(_PickMixin, ActionForm):
    """Set the session: a time or one of the expert's free times, and the meeting link."""

    availability = forms.CharField(label=_("专家可预约时间"), required=False, widget=forms.Select())
    scheduled_at = _datetime_field(_("会诊时间"))
    meeting_link = forms.CharField(label=_("会议链接"), max_length=300, required=False)

    def __init__(self, *args: Any, slots: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["availability"].widget.choices = slot_choices(slots)  # type: ignore[attr-defined]
        self.offered = {"availability": {str(slot.public_id): slot for slot in slots}}

    def clean_availability(self) -> Any:
        """The chosen free time (optional)."""
        return self._pick("availability")


class OpinionActionForm(ActionForm):
    """The expert's opinion, signed on submission."""

    opinion = forms.CharField(
        label=_("会诊意见"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )


class ConcludeActionForm(_PickMixin, ActionForm):
    """The inviting doctor's decision; choosing 转诊 sends the referral in the same step."""

    decision = forms.CharField(
        label=_("诊疗决定"), max_length=2000, required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    outcome = forms.ChoiceField(
        label=_("患者去向"), required=False, choices=_blank(TeleconsultationOutcome.choices)
    )
    referral_to_department = forms.CharField(label=_("转诊接收科室"), required=False, widget=forms.Select())
    acknowledge_missing = forms.BooleanField(label=_("转诊资料不全仍提交"), required=False)

    def __init__(self, *args: Any, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {
            "referral_to_department": _offer(
                self.fields["referral_to_department"],
                departments,
                lambda d: f"{d.institution.name} · {d.name}",
                _("（选择“转诊”时必选）"),
            )
        }

    def clean_referral_to_department(self) -> Any:
        """The department the referral goes to (optional)."""
        return self._pick("referral_to_department")


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "accept": ExpertActionForm,
    "decline": ReasonActionForm,
    "assign": ExpertActionForm,
    "schedule": ScheduleActionForm,
    "sign_opinion": OpinionActionForm,
    "conclude": ConcludeActionForm,
    "cancel": ReasonActionForm,
}


class AttachmentForm(forms.Form):
    """Upload a file."""

    kind = forms.ChoiceField(label=_("资料类型"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("文件"), required=False)


class FilterForm(forms.Form):
    """Filters of the list."""

    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_blank(TeleconsultationStatus.choices, _("全部"))
    )
    kind = forms.ChoiceField(
        label=_("会诊类型"), required=False, choices=_blank(TeleconsultationKind.choices, _("全部"))
    )
    open_only = forms.BooleanField(label=_("只看未结束的"), required=False)
    q = forms.CharField(label=_("搜索"), required=False, max_length=50)


class AvailabilityForm(forms.Form):
    """Publish a free time for oneself or an expert of the institution."""

    expert = forms.CharField(label=_("专家"), widget=forms.Select())
    starts_at = _datetime_field(_("开始时间"))
    ends_at = _datetime_field(_("结束时间"))

    def __init__(self, *args: Any, pairs: list[tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {
            f"{user.public_id}:{institution.public_id}": (user, institution) for user, institution in pairs
        }
        self.fields["expert"].widget.choices = [  # type: ignore[attr-defined]
            (key, f"{user_label(user)} · {institution.name}")
            for key, (user, institution) in self.offered.items()
        ]

    def clean_expert(self) -> tuple[Any, Any]:
        """The (expert, institution) chosen."""
        found = self.offered.get(self.cleaned_data.get("expert") or "")
        if found is None:
            raise forms.ValidationError(_("请从列表中选择。"))
        return found


class ChargeFilterForm(forms.Form):
    """Filters of the billing records."""

    direction = forms.ChoiceField(
        label=_("方向"), required=False, choices=_blank(ChargeDirection.choices, _("全部"))
    )


class FeeForm(forms.Form):
    """Set the fee of one kind for one consortium."""

    consortium = forms.CharField(label=_("医联体"), widget=forms.Select())
    kind = forms.ChoiceField(label=_("会诊类型"), choices=TeleconsultationKind.choices)
    amount = forms.DecimalField(label=_("收费标准（元）"), max_digits=8, decimal_places=2, min_value=0)
    agreement = forms.CharField(label=_("依据协议"), required=False, widget=forms.Select())

    def __init__(self, *args: Any, consortia: list[Any], agreements: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {
            "consortium": _offer(self.fields["consortium"], consortia, lambda c: c.name),
            "agreement": _offer(
                self.fields["agreement"],
                agreements,
                lambda a: f"{a.consortium.name} · {a.title}",
                _("不指定"),
            ),
        }

    def clean_consortium(self) -> Any:
        """The consortium among those the actor configures."""
        found = self.offered["consortium"].get(self.cleaned_data.get("consortium") or "")
        if found is None:
            raise forms.ValidationError(_("请从列表中选择。"))
        return found

    def clean_agreement(self) -> Any:
        """The agreement the fee comes from (optional)."""
        value = self.cleaned_data.get("agreement") or ""
        if not value:
            return None
        found = self.offered["agreement"].get(value)
        if found is None:
            raise forms.ValidationError(_("请从列表中选择。"))
        return found


class StatisticsForm(forms.Form):
    """Period of the statistics."""

    date_from = forms.DateField(label=_("开始日期"), required=False, widget=IsoDateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=IsoDateInput())
