"""Forms of the accounts UI. They parse input only; services validate and decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yilian.accounts.choices import ProfessionalTitle
from yilian.core.permissions import INSTITUTION_ROLES, Role

INSTITUTION_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in INSTITUTION_ROLES]


class LoginForm(forms.Form):
    """Username and password. The throttled check is ``accounts.services.login``."""

    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "data-testid": "login-username"}
        ),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "data-testid": "login-password"}
        ),
    )


class ProfileForm(forms.Form):
    """The signed-in user's own name, phone, title and e-mail."""

    full_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    professional_title = forms.ChoiceField(label=_("职称"), choices=ProfessionalTitle.choices, required=False)


class PasswordChangeForm(forms.Form):
    """Current password plus the new one twice. Strength is checked by the service."""

    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    password = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_old_password(self) -> str:
        """The current password must be right (re-authentication before a change)."""
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("当前密码不正确。"))
        return value

    def clean(self) -> dict[str, Any]:
        """Both new passwords must match."""
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("两次输入的新密码不一致。"))
        return cleaned


class PasswordResetForm(forms.Form):
    """A new temporary password for someone else's account, twice. Strength is checked by the service."""

    password = forms.CharField(
        label=_("新的临时密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "data-testid": "reset-password"}),
        help_text=_("至少 8 位，不能过于简单；请当面或电话告知本人，并请其登录后立即修改。"),
    )
    password_again = forms.CharField(
        label=_("再次输入临时密码"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "new-password", "data-testid": "reset-password-again"}
        ),
    )

    def clean(self) -> dict[str, Any]:
        """Both passwords must match."""
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("两次输入的密码不一致。"))
        return cleaned


class AccountFieldsForm(forms.Form):
    """The fields of a new login account."""

    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    professional_title = forms.ChoiceField(label=_("职称"), choices=ProfessionalTitle.choices, required=False)
    password = forms.CharField(
        label=_("初始密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能过于简单；请通知本人登录后修改。"),
    )

    def account_data(self) -> dict[str, Any]:
        """Keyword arguments for ``accounts.services.user_create`` (without the password)."""
        return {
            key: self.cleaned_data.get(key) or ""
            for key in ("username", "full_name", "phone", "professional_title")
        }


class StaffRoleFields(forms.Form):
    """An institution role with an optional department of that institution."""

    role = forms.ChoiceField(label=_("角色"), choices=INSTITUTION_ROLE_CHOICES)
    department = forms.ModelChoiceField(
        label=_("科室"), queryset=None, required=False, to_field_name="public_id", empty_label=_("（不指定）")
    )

    def __init__(self, *args: Any, departments: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class StaffCreateForm(AccountFieldsForm, StaffRoleFields):
    """Create a staff account of an institution and grant it an institution role."""

    field_order = ["username", "full_name", "phone", "professional_title", "password", "role", "department"]


class StaffGrantForm(StaffRoleFields):
    """Grant another institution role to someone already on the staff."""

    user = forms.ModelChoiceField(label=_("人员"), queryset=None, to_field_name="public_id")

    field_order = ["user", "role", "department"]

    def __init__(self, *args: Any, staff: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff  # type: ignore[attr-defined]


class UserCreateForm(AccountFieldsForm):
    """A platform administrator creates any account (roles are granted on its page)."""

    email = forms.EmailField(label=_("电子邮箱"), required=False)

    def account_data(self) -> dict[str, Any]:
        """Account fields including the e-mail."""
        data = super().account_data()
        data["email"] = self.cleaned_data.get("email") or ""
        return data


class UserSearchForm(forms.Form):
    """Search users by username or name, optionally holding a role."""

    q = forms.CharField(label=_("用户名或姓名"), required=False)
    role = forms.ChoiceField(label=_("角色"), choices=[("", _("全部角色")), *Role.choices], required=False)


class GrantForm(forms.Form):
    """Grant any role on one target: an institution, a consortium, a region, or the whole platform."""

    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    institution = forms.ModelChoiceField(
        label=_("机构"), queryset=None, required=False, to_field_name="public_id", empty_label=_("（无）")
    )
    consortium = forms.ModelChoiceField(
        label=_("医联体"), queryset=None, required=False, to_field_name="public_id", empty_label=_("（无）")
    )
    region_code = forms.CharField(
        label=_("行政区划代码"),
        required=False,
        max_length=12,
        help_text=_("卫生健康行政部门、医保专员按区划授权时填写，如 341522。"),
    )

    def __init__(
        self, *args: Any, institutions: QuerySet[Any], consortia: QuerySet[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions  # type: ignore[attr-defined]
        self.fields["consortium"].queryset = consortia  # type: ignore[attr-defined]

    def clean_region_code(self) -> str:
        """Digits only (a GB/T 2260 code or its extension)."""
        code = (self.cleaned_data.get("region_code") or "").strip()
        if code and not code.isdigit():
            raise forms.ValidationError(_("区划代码只能包含数字。"))
        return code


class AuditFilterForm(forms.Form):
    """Filters of the audit log; dates are local calendar days, both ends inclusive."""

    q = forms.CharField(label=_("关键词"), required=False)
    action = forms.CharField(
        label=_("操作"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
        help_text=_("操作代码，如 membership.grant"),
    )
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=100)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    actor = forms.CharField(label=_("操作人用户名"), required=False, max_length=150)
    since = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        """The start date may not be after the end date."""
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("截止日期不能早于起始日期。"))
        return cleaned

    def selector_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``accounts.selectors.audit_list``."""
        data = self.cleaned_data

        def start_of(day: datetime.date) -> datetime.datetime:
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

        return {
            "query": (data.get("q") or "").strip(),
            "action": (data.get("action") or "").strip(),
            "object_type": (data.get("object_type") or "").strip(),
            "object_id": (data.get("object_id") or "").strip(),
            "actor_username": (data.get("actor") or "").strip(),
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + datetime.timedelta(days=1)) if data.get("until") else None,
        }
