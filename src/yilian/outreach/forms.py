"""Forms of the outreach pages: shape only; the services check the rules.

Selects offer objects by public id; ``PickField`` turns the posted id back
into the object that was offered (anything else is "choose from the list").
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.core.ui.forms import IsoDateInput
from yilian.outreach.choices import BatchStatus, OutreachKind, PostingStatus

TEXTAREA = {"rows": 3}
SLOT_MINUTE_CHOICES = [(m, _("%(n)s 分钟") % {"n": m}) for m in (10, 15, 20, 30)]


class DateTimeLocalInput(forms.DateTimeInput):
    """A browser date-and-time picker; its value is ISO ``YYYY-MM-DDTHH:MM`` in local time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def user_label(user: Any) -> str:
    """A person as offered: name and title."""
    name = user.full_name or user.username
    title = user.get_professional_title_display() if user.professional_title else ""
    return _("%(name)s（%(title)s）") % {"name": name, "title": title} if title else name


class PickField(forms.ChoiceField):
    """A select of objects by public id; cleans to the object offered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": _("请从列表中选择。")})
        super().__init__(*args, **kwargs)
        self.objects: dict[str, Any] = {}

    def offer(self, objects: list[Any], label: Any = str, blank: Any = "—") -> None:
        """Set the options."""
        self.objects = {str(obj.public_id): obj for obj in objects}
        self.choices = [("", blank), *[(key, label(obj)) for key, obj in self.objects.items()]]

    def clean(self, value: Any) -> Any:
        """The object, or None when left blank and not required."""
        key = super().clean(value)
        return self.objects.get(str(key)) if key else None


def _date(label: Any, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=IsoDateInput())


class BatchForm(forms.Form):
    """Record a planned batch."""

    sending_institution = PickField(label=_("派出单位"))
    host_institution = PickField(label=_("接收单位"))
    starts_on = _date(_("开始日期"))
    ends_on = _date(_("结束日期"))
    purpose = forms.CharField(
        label=_("帮扶内容"), max_length=200, help_text=_("如：心内科专家坐诊、业务查房、讲座")
    )

    def __init__(self, *args: Any, senders: list[Any], hosts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sending_institution"].offer(senders)  # type: ignore[attr-defined]
        self.fields["host_institution"].offer(hosts)  # type: ignore[attr-defined]
        if len(senders) == 1:
            self.fields["sending_institution"].initial = str(senders[0].public_id)


class VisitForm(forms.Form):
    """An expert's work in a batch."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    expert = PickField(label=_("专家"))
    home_department = PickField(label=_("所在科室"), required=False)
    kind = forms.ChoiceField(label=_("帮扶形式"), choices=OutreachKind.choices)
    visit_on = _date(_("日期"))
    sessions = forms.IntegerField(label=_("次数/半天"), min_value=0, initial=1)
    patients_seen = forms.IntegerField(label=_("诊疗人次"), min_value=0, initial=0)
    attendees = forms.IntegerField(label=_("参加人次"), min_value=0, initial=0)
    surgeries = forms.IntegerField(label=_("指导手术台次"), min_value=0, initial=0)
    records_reviewed = forms.IntegerField(label=_("点评病历/处方份数"), min_value=0, initial=0)
    hazards_found = forms.IntegerField(label=_("发现隐患"), min_value=0, initial=0)
    hazards_fixed = forms.IntegerField(label=_("已整改隐患"), min_value=0, initial=0)
    findings = forms.CharField(
        label=_("发现的问题与指导内容"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
    )

    def __init__(self, *args: Any, experts: list[Any], departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expert"].offer(experts, user_label)  # type: ignore[attr-defined]
        self.fields["home_department"].offer(departments)  # type: ignore[attr-defined]
        if len(experts) == 1:
            self.fields["expert"].initial = str(experts[0].public_id)

    def for_service(self) -> dict[str, Any]:
        """The cleaned values the service takes."""
        return {k: v for k, v in self.cleaned_data.items() if k != "expected_version"}


class BatchActionForm(forms.Form):
    """One workflow action on a batch, carrying the version the user saw."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("原因"), required=False, max_length=200)
    summary = forms.CharField(
        label=_("工作小结"), required=False, max_length=2000, widget=forms.Textarea(attrs=TEXTAREA)
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if action != "complete":
            del self.fields["summary"]
        if action not in ("return", "cancel"):
            del self.fields["note"]
        else:
            self.fields["note"].required = True


class BatchFilterForm(forms.Form):
    """Filters of the batch list."""

    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *BatchStatus.choices]
    )
    kind = forms.ChoiceField(
        label=_("帮扶形式"), required=False, choices=[("", _("全部")), *OutreachKind.choices]
    )
    date_from = _date(_("起始日期"), required=False)
    date_to = _date(_("截止日期"), required=False)
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)


class PostingForm(forms.Form):
    """Record a planned long-term posting."""

    home_institution = PickField(label=_("派出单位"))
    expert = PickField(label=_("派驻医师"))
    home_department = PickField(label=_("所在科室"), required=False)
    host_institution = PickField(label=_("派驻单位"))
    planned_start = _date(_("计划开始日期"))
    planned_end = _date(_("计划结束日期"), required=True)
    duties = forms.CharField(label=_("派驻任务"), required=False, max_length=300)

    def __init__(
        self,
        *args: Any,
        homes: list[Any],
        experts: list[Any],
        departments: list[Any],
        hosts: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_institution"].offer(homes)  # type: ignore[attr-defined]
        self.fields["expert"].offer(experts, user_label)  # type: ignore[attr-defined]
        self.fields["home_department"].offer(departments, lambda d: f"{d.institution.name} · {d.name}")  # type: ignore[attr-defined]
        self.fields["host_institution"].offer(hosts)  # type: ignore[attr-defined]
        self.fields["planned_end"].help_text = _("长期派驻不少于 183 天（6 个月）。")
        if len(homes) == 1:
            self.fields["home_institution"].initial = str(homes[0].public_id)


class PostingActionForm(forms.Form):
    """Start, end or cancel a posting."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    date = _date(_("日期"), required=False)
    reason = forms.CharField(label=_("原因"), required=False, max_length=200)

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if action == "cancel":
            del self.fields["date"]
        else:
            self.fields["date"].required = True
            self.fields["date"].initial = timezone.localdate()
            self.fields["date"].label = _("实际开始日期") if action == "start" else _("实际结束日期")
        if action == "start":
            del self.fields["reason"]
        elif action == "end":
            self.fields["reason"].help_text = _("早于计划结束日期时必填。")
            self.fields["reason"].label = _("提前结束原因")


class PostingFilterForm(forms.Form):
    """Filters of the posting list."""

    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *PostingStatus.choices]
    )
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)


class YearScopeForm(forms.Form):
    """A year and a consortium or region (indicator, report)."""

    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    scope = forms.ChoiceField(label=_("范围"), required=False)

    def __init__(self, *args: Any, scopes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scopes
        self.fields["year"].initial = timezone.localdate().year


class SessionForm(forms.Form):
    """Publish an expert clinic session."""

    expert = PickField(label=_("专家"))
    host_institution = PickField(label=_("坐诊单位"))
    host_department = PickField(label=_("坐诊科室"), required=False)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(
        label=pgettext_lazy("end of a scheduled time span", "结束时间"), widget=DateTimeLocalInput()
    )
    slot_minutes = forms.TypedChoiceField(
        label=_("每号时长"), choices=SLOT_MINUTE_CHOICES, coerce=int, initial=15
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(
        self, *args: Any, experts: list[Any], hosts: list[Any], departments: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expert"].offer(experts, user_label)  # type: ignore[attr-defined]
        self.fields["host_institution"].offer(hosts)  # type: ignore[attr-defined]
        self.fields["host_department"].offer(departments, lambda d: f"{d.institution.name} · {d.name}")  # type: ignore[attr-defined]
        if len(experts) == 1:
            self.fields["expert"].initial = str(experts[0].public_id)


class BookingForm(forms.Form):
    """Book a resident into a free slot."""

    slot = PickField(label=_("号源时间"))
    person = PickField(label=_("居民"))
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(
        self, *args: Any, slots: list[Any], persons: list[Any], searched: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].offer(
            slots, lambda s: f"{timezone.localtime(s.starts_at):%H:%M}–{timezone.localtime(s.ends_at):%H:%M}"
        )  # type: ignore[attr-defined]
        # The blank option says what to do next: search, choose among the residents found, or search again.
        if persons:
            blank = _("请选择居民")
        elif searched:
            blank = _("没有找到符合条件的居民。")
        else:
            blank = _("请先搜索居民")
        self.fields["person"].offer(  # type: ignore[attr-defined]
            persons, lambda p: f"{p.name} {p.id_number_masked}".strip(), blank=blank
        )
        if len(persons) == 1:
            self.fields["person"].initial = str(persons[0].public_id)


class ReasonForm(forms.Form):
    """A reason (停诊, cancel a booking)."""

    reason = forms.CharField(label=_("原因"), required=False, max_length=200)


class StatisticsForm(forms.Form):
    """Period of the statistics."""

    date_from = _date(_("起始日期"), required=False)
    date_to = _date(_("截止日期"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date_from"].initial = datetime.date(today.year, 1, 1)
