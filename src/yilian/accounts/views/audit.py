"""The audit log: searchable, with readable before/after values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from yilian.accounts import forms, policies, selectors
from yilian.accounts.views._common import (
    AUDIT_PAGE_SIZE,
)
from yilian.core.audit import action_label, action_labels
from yilian.core.models import AuditEvent
from yilian.core.ui.http import domain_errors


@dataclass
class DiffRow:
    """One changed value of an audit event."""

    label: str
    before: str
    after: str


def _show(value: Any, choices: dict[str, str] | None = None) -> str:
    """A stored audit value as text: choice labels instead of codes, 是/否 for booleans."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if choices and str(value) in choices:
        return f"{choices[str(value)]}"
    return str(value)


@cache
def _model_of(object_type: str) -> Any:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field_of(model: Any, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label_of(field: Any, key: str) -> str:
    """The field's name as users read it; a reverse relation (a prescription's ``items``) has none of
    its own, so it is named after the related rows."""
    if field is None:
        return key
    if field.auto_created and not field.concrete:
        return str(field.related_model._meta.verbose_name_plural)
    return str(field.verbose_name)


def _choices_of(field: Any) -> dict[str, str] | None:
    if field is None or not getattr(field, "choices", None):
        return None
    return {str(value): str(label) for value, label in field.flatchoices}


def _decorate(event: AuditEvent) -> AuditEvent:
    """Attach readable labels and the before/after diff rows to an event (no queries).

    Choice codes show as their labels; related objects stay as their public ids.
    """
    model = _model_of(event.object_type)
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old in (None, "") and new in (None, ""):
            continue
        field = _field_of(model, key)
        choices = _choices_of(field)
        rows.append(DiffRow(_label_of(field, key), _show(old, choices), _show(new, choices)))
    event.diff_rows = rows  # type: ignore[attr-defined]
    event.has_before = event.before is not None  # type: ignore[attr-defined]
    event.action_label = action_label(event.action)  # type: ignore[attr-defined]
    event.object_type_label = (  # type: ignore[attr-defined]
        str(model._meta.verbose_name) if model is not None else event.object_type
    )
    event.details_text = (  # type: ignore[attr-defined]
        json.dumps(event.details, ensure_ascii=False, indent=1) if event.details else ""
    )
    event.history_query = urlencode(  # type: ignore[attr-defined]
        {"object_type": event.object_type, "object_id": event.object_id}
    )
    return event


@login_required
@domain_errors
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log: who did what to which object and when, with the before/after values."""
    if not policies.can_view_audit(request.user):
        raise PermissionDenied(_("您没有查看审计日志的权限。"))
    form = forms.AuditFilterForm(request.GET or None)
    arguments = form.selector_arguments() if form.is_valid() else {}
    events = selectors.audit_list(request.user, **arguments)
    page_obj = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    page_obj.object_list = [_decorate(event) for event in page_obj.object_list]
    object_filter = arguments.get("object_type") and arguments.get("object_id")
    return render(
        request,
        "accounts/audit_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "action_labels": action_labels(),
            "object_filter": object_filter,
        },
        status=400 if form.errors else 200,
    )
