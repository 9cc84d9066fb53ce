"""Live checks of registry codes while a form is being filled (htmx fragments)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yilian.core.exceptions import Invalid, NotFound
from yilian.core.ui.live import live_result
from yilian.institutions import selectors
from yilian.institutions.codes import describe_credit_code, describe_region_code, validate_credit_code
from yilian.institutions.views._common import registry_view


@require_GET
@registry_view
def check_credit_code(request: HttpRequest) -> HttpResponse:
    """Is ``credit_code`` a valid GB 32100 code, and where was it registered?"""
    value = request.GET.get("credit_code", "").strip()
    if not value:
        return live_result(request, ok=True, message="")
    try:
        code = validate_credit_code(value)
    except Invalid as error:
        return live_result(request, ok=False, message=error.as_text()["credit_code"][0])
    return live_result(request, ok=True, message=describe_credit_code(code))


@require_GET
@registry_view
def check_region_code(request: HttpRequest) -> HttpResponse:
    """Is the typed region code valid GB/T 2260, and is it in the platform's region list?"""
    value = (request.GET.get("region") or request.GET.get("code") or "").strip()
    if not value:
        return live_result(request, ok=True, message="")
    try:
        description = describe_region_code(value)
    except Invalid as error:
        return live_result(request, ok=False, message=error.as_text()["code"][0])
    try:
        region = selectors.region_get(request.user, value)
    except NotFound:
        return live_result(
            request, ok=True, message=_("%(what)s（平台区划表中尚无此代码）") % {"what": description}
        )
    return live_result(request, ok=True, message=f"{description} · {region.name}")
