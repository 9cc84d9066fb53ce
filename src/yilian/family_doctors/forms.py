"""Forms of the family-doctor pages. They parse input; ``family_doctors.services`` validates and decides.

Teams, users, packages and residents arrive as public ids; the forms turn
them into objects among the choices offered to the actor, so a value the
actor may not use fails like any other bad input.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.forms import IsoDateInput
from yilian.family_doctors.choices import (
    ContractStatus,
    PackageKind,
    PriorityGroup,
    TeamMemberRole,
    TerminationReason,
)
from yilian.people.choices import Gender


def _blank(choices: Any, label: Any = "") -> list[tuple[str, Any]]:
    return [("", label or "—"), *choices]


class _Offered(forms.Form):
    """A form whose selects offer objects by public id (``offered[field][public_id] = object``)."""

    offered: dict[str, dict[str, Any]]

    def pick(self, name: str) -> Any:
        """The object offered under the posted public id (None when empty)."""
        value = self.cleaned_data.get(name) or ""
        return self.offered.get(name, {}).get(str(value)) if value else None


def _user_label(user: Any) -> str:
    return user.full_name or user.username


def seen_updated_at(form: forms.Form) -> datetime.datetime | None:
    """The posted save time of the record the user edited (none when missing or unreadable)."""
    try:
        return parse_datetime(form.cleaned_data.get("seen_updated_at") or "")
    except ValueError:
        return None


def _package_label(package: Any) -> str:
    """A package as offered: name and annual fee, in the reader's brackets (ASCII in English)."""
    return _("%(name)s（%(price)s 元/年）") % {"name": package.name, "price": package.annual_price}


class TeamForm(_Offered):
    """Name, grid and description of a team; on creation also the institution and the leader."""

    institution = forms.ChoiceField(label=_("所属基层机构"), required=False)
    name = forms.CharField(label=_("团队名称"), max_length=100)
    grid = forms.ChoiceField(label=_("服务网格"), required=False)
    description = forms.CharField(label=_("团队简介"), max_length=300, required=False)
    leader = forms.ChoiceField(label=_("团队长"), required=False, help_text=_("全科医生等基层医务人员。"))
    leader_role = forms.ChoiceField(
        label=_("团队长角色"),
        choices=[c for c in TeamMemberRole.choices if c[0] != TeamMemberRole.SPECIALIST],
        required=False,
    )
    is_active = forms.BooleanField(label=_("有效"), required=False, initial=True)
    # When the edited team was last saved: a save over someone else's newer one is refused.
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        institutions: list[Any],
        grids: list[Any],
        leaders: list[Any] | None,
        creating: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {
            "institution": {str(i.public_id): i for i in institutions},
            "grid": {str(g.public_id): g for g in grids},
            "leader": {str(m.user.public_id): m.user for m in leaders or []},
        }
        self.fields["institution"].choices = [(str(i.public_id), i.name) for i in institutions]
        self.fields["grid"].choices = _blank(
            [(str(g.public_id), _("%(name)s（%(code)s）") % {"name": g.name, "code": g.code}) for g in grids]
        )
        if creating:
            seen: dict[str, str] = {}
            for m in leaders or []:
                seen.setdefault(str(m.user.public_id), f"{_user_label(m.user)} · {m.institution.name}")
            self.fields["leader"].choices = _blank(list(seen.items()))
            self.fields["leader"].required = True
            del self.fields["is_active"]
        else:
            for name in ("institution", "leader", "leader_role"):
                del self.fields[name]


class MemberAddForm(_Offered):
    """Add a member: a doctor or nurse of the allowed institutions, their team role, leader or not."""

    user = forms.ChoiceField(label=_("成员"))
    role = forms.ChoiceField(label=_("团队角色"), choices=TeamMemberRole.choices)
    is_leader = forms.BooleanField(label=_("设为团队长"), required=False)
    joined_on = forms.DateField(label=_("加入日期"), required=False, widget=IsoDateInput())

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: dict[str, str] = {}
        self.offered = {"user": {}}
        for membership in candidates:
            key = str(membership.user.public_id)
            self.offered["user"][key] = membership.user
            department = f" · {membership.department.name}" if membership.department_id else ""
            choices.setdefault(
                key,
                _("%(name)s（%(title)s）")
                % {"name": _user_label(membership.user), "title": membership.get_role_display()}
                + f" · {membership.institution.name}{department}",
            )
        self.fields["user"].choices = _blank(list(choices.items()))


class PackageForm(forms.Form):
    """A service package of a consortium."""

    consortium = forms.ChoiceField(label=_("医联体"), required=False)
    name = forms.CharField(label=_("服务包名称"), max_length=100)
    kind = forms.ChoiceField(label=_("服务包类型"), choices=PackageKind.choices)
    annual_price = forms.DecimalField(
        label=_("年服务费（元）"), min_value=0, decimal_places=2, required=False
    )
    target_groups = forms.CharField(label=_("适用人群"), max_length=200, required=False)
    contents = forms.CharField(
        label=_("服务内容"), widget=forms.Textarea(attrs={"rows": 6}), help_text=_("每行一项服务。")
    )
    is_active = forms.BooleanField(label=_("可签约"), required=False, initial=True)
    # When the edited package was last saved: a save over someone else's newer one is refused.
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, consortia: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consortia = {str(c.public_id): c for c in consortia or []}
        if consortia:
            self.fields["consortium"].choices = [(k, c.name) for k, c in self.consortia.items()]
            self.fields["consortium"].required = True
        else:
            del self.fields["consortium"]

    def data_for_service(self) -> dict[str, Any]:
        """The cleaned values as service keyword arguments."""
        values = {k: v for k, v in self.cleaned_data.items() if k not in ("consortium", "seen_updated_at")}
        if values.get("annual_price") is None:
            values["annual_price"] = 0
        return values

    def seen(self) -> datetime.datetime | None:
        """The posted save time of the package the user edited (none when missing or unreadable)."""
        return seen_updated_at(self)


class ResidentSearchForm(forms.Form):
    """Find a resident of the team's grid by name, pinyin initials or phone."""

    q = forms.CharField(label=_("查找居民"), max_length=50, required=False)


class SignForm(_Offered):
    """The signing form: package, term, priority groups; the resident chosen from the finder or
    registered here (name, ID number…) when not registered yet."""

    package = forms.ChoiceField(label=_("服务包"))
    starts_on = forms.DateField(label=_("开始日期"), required=False, widget=IsoDateInput())
    ends_on = forms.DateField(
        label=_("到期日期"), required=False, widget=IsoDateInput(), help_text=_("不填则为一年。")
    )
    priority_groups = forms.MultipleChoiceField(
        label=_("重点人群"),
        choices=PriorityGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(label=_("备注"), max_length=300, required=False)
    new_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    new_id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)
    new_gender = forms.ChoiceField(label=_("性别"), choices=_blank(Gender.choices), required=False)
    new_birth_date = forms.DateField(label=_("出生日期"), required=False, widget=IsoDateInput())
    new_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    new_address = forms.CharField(label=_("现住址"), max_length=300, required=False)

    NEW_FIELDS = ("new_name", "new_id_number", "new_gender", "new_birth_date", "new_phone", "new_address")

    def __init__(self, *args: Any, packages: list[Any], registering: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {"package": {str(p.public_id): p for p in packages}}
        self.fields["package"].choices = [(str(p.public_id), _package_label(p)) for p in packages]
        self.registering = registering
        if not registering:
            for name in self.NEW_FIELDS:
                del self.fields[name]
        else:
            self.fields["new_name"].required = True

    def resident_data(self) -> dict[str, Any]:
        """The new resident's fields as ``person_register`` takes them."""
        values = self.cleaned_data
        data = {
            "name": values.get("new_name") or "",
            "id_number": (values.get("new_id_number") or "").strip(),
            "phone": values.get("new_phone") or "",
            "address": values.get("new_address") or "",
        }
        if values.get("new_gender"):
            data["gender"] = values["new_gender"]
        if values.get("new_birth_date"):
            data["birth_date"] = values["new_birth_date"]
        return data


class RenewForm(_Offered):
    """Renew for a new term: package (kept by default), end date, priority groups."""

    package = forms.ChoiceField(label=_("服务包"))
    ends_on = forms.DateField(
        label=_("新到期日期"), required=False, widget=IsoDateInput(), help_text=_("不填则续约一年。")
    )
    priority_groups = forms.MultipleChoiceField(
        label=_("重点人群"),
        choices=PriorityGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, packages: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {"package": {str(p.public_id): p for p in packages}}
        self.fields["package"].choices = [(str(p.public_id), _package_label(p)) for p in packages]


class TerminateForm(forms.Form):
    """End a contract early, with a reason."""

    reason = forms.ChoiceField(label=_("解约原因"), choices=_blank(TerminationReason.choices))
    note = forms.CharField(label=_("解约说明"), max_length=200, required=False)
    on = forms.DateField(label=_("解约日期"), required=False, widget=IsoDateInput())
    version = forms.IntegerField(widget=forms.HiddenInput)


PANEL_STATUS_CHOICES = [("active", _("有效（已签约/已续约）")), ("all", _("全部")), *ContractStatus.choices]


class PanelFilterForm(forms.Form):
    """Filters of a team panel / contract list."""

    q = forms.CharField(label=_("姓名/拼音/电话/协议编号"), max_length=50, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=PANEL_STATUS_CHOICES, required=False)
    group = forms.ChoiceField(
        label=_("重点人群"), choices=_blank(PriorityGroup.choices, _("全部")), required=False
    )
    expiring = forms.BooleanField(label=_("30 天内到期"), required=False)
    team = forms.ChoiceField(label=_("签约团队"), required=False)

    def __init__(self, *args: Any, teams: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["team"]
        else:
            self.teams = {str(t.public_id): t for t in teams}
            self.fields["team"].choices = _blank([(k, t.name) for k, t in self.teams.items()], _("全部"))
