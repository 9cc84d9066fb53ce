"""Management pages of the shared diagnostic centres: centres, catalogues and the recognition catalogue
(the consortium office), and the dashboard (the office, regulators, platform admins)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.exceptions import Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import require
from yilian.diagnostics import forms, policies, selectors, services
from yilian.diagnostics.views.clinical import diagnostics_view


def _forms(actor: Any, data: Any = None, which: str = "") -> dict[str, Any]:
    consortia = list(selectors.configurable_consortia(actor))
    consortium_choices = [(str(c.public_id), c.name) for c in consortia]
    members = selectors.member_institutions([c.pk for c in consortia])
    centres = [c for c in selectors.centre_list(actor) if c.consortium_id in {x.pk for x in consortia}]
    centre_form = forms.CentreForm(data if which == "centre" else None, prefix="centre")
    centre_form.fields["consortium"].choices = consortium_choices
    centre_form.fields["hub_institution"].queryset = members
    centre_form.fields["department"].queryset = selectors.member_departments(members)
    centre_form.fields["served_institutions"].queryset = members
    item_form = forms.ItemForm(data if which == "item" else None, prefix="item")
    item_form.fields["centre"].choices = [(str(c.public_id), c.name) for c in centres]
    rule_form = forms.RuleForm(data if which == "rule" else None, prefix="rule")
    rule_form.fields["consortium"].choices = consortium_choices
    return {
        "consortia": {str(c.public_id): c for c in consortia},
        "centres": centres,
        "centre_form": centre_form,
        "item_form": item_form,
        "rule_form": rule_form,
    }


SERVED_PREVIEW = 3


def _context(actor: Any, built: dict[str, Any]) -> dict[str, Any]:
    centre_ids = [c.pk for c in built["centres"]]
    for centre in built["centres"]:
        # From the prefetch: the count, the first few names and the rest (folded), no query per row.
        served = list(centre.served_institutions.all())
        centre.served_count = len(served)
        centre.served_preview = served[:SERVED_PREVIEW]
        centre.served_more = len(served) > SERVED_PREVIEW
        centre.served_all = served
    return {
        **built,
        "items": list(selectors.item_list(actor).filter(centre_id__in=centre_ids)),
        "rules": list(selectors.rule_list(actor).filter(consortium__in=list(built["consortia"].values()))),
    }


@diagnostics_view
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    """Centres (with the members they serve), their catalogues and the recognition catalogue, with forms to add."""
    actor = request.user
    require(policies.can_configure_any(actor))
    which = request.POST.get("form", "") if request.method == "POST" else ""
    built = _forms(actor, request.POST if which else None, which)
    if which:
        form = built[f"{which}_form"]
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if which == "centre":
                    consortium = built["consortia"][data.pop("consortium")]
                    centre = services.centre_create(
                        actor=actor,
                        consortium=consortium,
                        served_institutions=list(data.pop("served_institutions")),
                        **data,
                    )
                    done = _("诊断中心“%(name)s”已创建。") % {"name": centre.name}
                elif which == "item":
                    centre = selectors.centre_get_for(actor, data.pop("centre"))
                    item = services.item_create(actor=actor, centre=centre, **data)
                    done = _("项目 %(code)s %(name)s 已添加到“%(centre)s”。") % {
                        "code": item.code,
                        "name": item.name,
                        "centre": centre.name,
                    }
                else:
                    consortium = built["consortia"][data.pop("consortium")]
                    rule = services.rule_create(actor=actor, consortium=consortium, **data)
                    done = _("互认项目 %(code)s %(name)s 已添加。") % {
                        "code": rule.item_code,
                        "name": rule.name,
                    }
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("diagnostics:manage")
        return render(request, "diagnostics/manage.html", _context(actor, built), status=400)
    return render(request, "diagnostics/manage.html", _context(actor, built))


@require_POST
@diagnostics_view
def toggle(request: HttpRequest, kind: str, public_id: Any) -> HttpResponse:
    """Switch a centre, an item or a rule on or off (the office)."""
    actor = request.user
    if kind == "centre":
        centre = selectors.centre_get_for(actor, public_id)
        centre = services.centre_update(actor=actor, centre=centre, is_active=not centre.is_active)
        values = {"name": centre.name}
        done = _("诊断中心“%(name)s”已启用。") if centre.is_active else _("诊断中心“%(name)s”已停用。")
    elif kind == "item":
        item = selectors.item_get_for(actor, public_id)
        item = services.item_update(actor=actor, item=item, is_active=not item.is_active)
        values = {"code": item.code, "name": item.name}
        done = (
            _("项目 %(code)s %(name)s 已启用。") if item.is_active else _("项目 %(code)s %(name)s 已停用。")
        )
    elif kind == "rule":
        rule = selectors.rule_get_for(actor, public_id)
        rule = services.rule_update(actor=actor, rule=rule, is_active=not rule.is_active)
        values = {"code": rule.item_code, "name": rule.name}
        done = (
            _("互认项目 %(code)s %(name)s 已启用。")
            if rule.is_active
            else _("互认项目 %(code)s %(name)s 已停用。")
        )
    else:
        raise NotFound(kind)
    messages.success(request, done % values)
    return redirect("diagnostics:manage")


@diagnostics_view
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Volumes per centre and member, turnaround against target, rejections, critical values, recognition."""
    form = forms.DashboardFilterForm(request.GET)
    valid = form.is_valid()
    since = form.cleaned_data.get("since") if valid else None
    until = form.cleaned_data.get("until") if valid else None
    # A bad period shows its error and the whole period's figures, never an empty page that reads as
    # "no orders".
    figures = selectors.dashboard(request.user, since=since, until=until)
    return render(
        request,
        "diagnostics/dashboard.html",
        {"figures": figures, "since": since, "until": until, "form": form},
        status=200 if valid else 400,
    )


urlpatterns: list[URLPattern] = [
    path("manage/", manage, name="manage"),
    path("manage/<str:kind>/<uuid:public_id>/toggle/", toggle, name="toggle"),
    path("dashboard/", dashboard, name="dashboard"),
]
