"""Notification pages: the user's inbox of messages; opening one marks it read and follows its link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yilian.core.ui.http import paginate
from yilian.notifications import selectors, services
from yilian.notifications.models import Notification

PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, unread first, newest first within each group."""
    rows = selectors.notification_list(request.user).order_by(
        Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-created_at",
        "-id",
    )
    page_obj = paginate(request, rows, PAGE_SIZE)
    return render(request, "notifications/notification_list.html", {"page_obj": page_obj})


def _safe_link(request: HttpRequest, link: str) -> str:
    """The notification's link when it stays on this site; the inbox otherwise."""
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return link
    return ""


@login_required
@require_POST
def notification_open(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Mark one of the user's notifications read and follow its link (404 for anyone else's)."""
    try:
        notification = selectors.notification_list(request.user).get(public_id=public_id)
    except (Notification.DoesNotExist, ValueError, ValidationError) as error:
        raise Http404 from error
    services.notification_mark_read(actor=request.user, public_ids=[notification.public_id])
    return redirect(_safe_link(request, notification.link) or "notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every unread notification of the user read."""
    count = services.notification_mark_read(actor=request.user)
    if count:
        messages.success(request, _("已将 %(count)s 条消息标为已读。") % {"count": count})
    return redirect("notifications:list")
