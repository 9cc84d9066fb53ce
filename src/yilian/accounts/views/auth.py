"""Logging in and out, my account and my password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yilian.accounts import forms, selectors, services
from yilian.accounts.models import User
from yilian.accounts.views._common import (
    _posted,
    _safe_next,
)
from yilian.core.client import client_address
from yilian.core.exceptions import Invalid
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The login page: throttled credential check, then a fresh session (no fixation).

    HEAD is answered like GET (monitors and link checkers probe with it).
    """
    next_url = _safe_next(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated and request.method in ("GET", "HEAD"):
        return HttpResponseRedirect(next_url)
    form = forms.LoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                address=client_address(request),
            )
        except services.LoginLocked as error:
            form.add_error(None, str(error.message))
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            auth_login(request, user)  # cycles the session key
            return HttpResponseRedirect(next_url)
    status = 200 if request.method != "POST" or not form.errors else 400
    next_value = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "accounts/login.html", {"form": form, "next": next_value}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out (POST only, CSRF-protected) and go back to the login page."""
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@domain_errors
def me(request: HttpRequest) -> HttpResponse:
    """My account: profile (editable name, phone, title, e-mail) and my roles."""
    user: User = request.user  # type: ignore[assignment]
    initial = {
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "professional_title": user.professional_title,
    }
    form = forms.ProfileForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=user, user=user, **form.cleaned_data)
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("个人资料已保存。"))
            return redirect("accounts:me")
    memberships = selectors.membership_list_for_user(user, user).filter(is_active=True)
    return render(
        request,
        "accounts/me.html",
        {"form": form, "memberships": memberships},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("old_password", "password", "password_again")
@login_required
@domain_errors
def password_change(request: HttpRequest) -> HttpResponse:
    """Change my password; the session stays valid, other sessions are logged out."""
    user: User = request.user  # type: ignore[assignment]
    form = forms.PasswordChangeForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=user, user=user, password=form.cleaned_data["password"])
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。"))
            return redirect("accounts:me")
    return render(request, "accounts/password.html", {"form": form}, status=400 if form.errors else 200)
