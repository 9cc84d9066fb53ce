"""Formulary pages: the gap per member (用药目录衔接) with its Excel export and the office's limits, a
member's stock list with additions, removals and the Excel import, the shared drug catalogue, and the
statistics of long and extended prescriptions and deliveries."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yilian.core.exceptions import Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import paginate, require
from yilian.prescriptions import documents, forms, policies, selectors, services
from yilian.prescriptions.choices import DeliveryStatus, DrugCategory
from yilian.prescriptions.models import ConsortiumFormulary, Drug
from yilian.prescriptions.views.clinical import prescriptions_view

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 5 * 1024 * 1024


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _consortium(actor: Any, request: HttpRequest) -> tuple[Any, list[Any]]:
    consortia = list(selectors.formulary_consortia(actor))
    require(bool(consortia))
    # Consortia whose office set up the formulary come first (the county community in the demo).
    configured = set(
        ConsortiumFormulary.objects.filter(consortium__in=consortia).values_list("consortium_id", flat=True)
    )
    consortia.sort(key=lambda c: (c.pk not in configured, c.name))
    wanted = request.GET.get("consortium") or request.POST.get("consortium") or ""
    chosen = next((c for c in consortia if str(c.public_id) == wanted), consortia[0])
    return chosen, consortia


@prescriptions_view
@require_http_methods(["GET", "POST"])
def formulary(request: HttpRequest) -> HttpResponse:
    """The gap of every member visible to the actor against the lead's list; the office edits the limits."""
    actor = request.user
    require(policies.can_use_formulary(actor))
    if not selectors.formulary_consortia(actor).exists():
        return render(request, "prescriptions/formulary.html", {"consortium": None})
    consortium, consortia = _consortium(actor, request)
    settings_row, gaps = selectors.gap_report(actor, consortium)
    may_edit = policies.can_edit_formulary(actor, consortium.pk) and settings_row is not None
    limits_form = None
    if may_edit:
        assert settings_row is not None
        initial = {name: getattr(settings_row, name) for name in services.LIMIT_FIELDS}
        limits_form = forms.FormularyLimitsForm(
            request.POST if request.method == "POST" else None,
            initial={**initial, "version": settings_row.version if settings_row.pk else None},
        )
        if request.method == "POST" and limits_form.is_valid():
            values = dict(limits_form.cleaned_data)
            version = values.pop("version")
            try:
                services.formulary_update(
                    actor=actor, consortium=consortium, expected_version=version, **values
                )
            except Invalid as error:
                add_domain_errors(limits_form, error)
            else:
                messages.success(request, _("用药目录设置已保存。"))
                return redirect(f"{request.path}?consortium={consortium.public_id}")
    elif request.method == "POST":
        require(False)
    reference_count = gaps[0].reference if gaps else 0
    if settings_row is not None and not gaps:
        reference_count = selectors.stock_list(settings_row.reference_institution).count()
    return render(
        request,
        "prescriptions/formulary.html",
        {
            "consortium": consortium,
            "consortia": consortia,
            "formulary": settings_row,
            "gaps": [
                {
                    "gap": gap,
                    "categories": [
                        (selectors.category_label(k), v) for k, v in list(gap.missing_by_category.items())[:4]
                    ],
                }
                for gap in gaps
            ],
            "reference_count": reference_count,
            # The lead's own staff have no gap to see: their list is the reference the members are
            # compared with.
            "at_reference": settings_row is not None
            and settings_row.reference_institution_id in policies.staff_institutions(actor),
            "limits_form": limits_form,
        },
        # A post that comes back here was refused (a saved one redirects): bad input.
        status=400 if request.method == "POST" else 200,
    )


@prescriptions_view
@require_GET
def formulary_export(request: HttpRequest) -> HttpResponse:
    """The gap report as Excel (summary + the drugs lacking, one column per member)."""
    actor = request.user
    require(policies.can_use_formulary(actor))
    consortium, _consortia = _consortium(actor, request)
    settings_row, gaps = selectors.gap_report(actor, consortium)
    drugs: list[Drug] = []
    missing: dict[int, set[int]] = {}
    if settings_row is not None:
        drugs, missing = selectors.missing_by_member(settings_row, [gap.institution.pk for gap in gaps])
    content = documents.gap_workbook(consortium, gaps, drugs, missing, selectors.category_label)
    return _xlsx(content, f"formulary-gap-{timezone.localdate():%Y%m%d}.xlsx")


@prescriptions_view
@require_http_methods(["GET", "POST"])
def stock(request: HttpRequest, public_id: str) -> HttpResponse:
    """An institution's stock list, what it lacks of the reference list (chronic-disease drugs first), rows
    that are not aligned; its administrator or the office add, remove and import."""
    actor = request.user
    institution = selectors.stock_institution_get(actor, public_id)
    consortium = selectors.consortium_of(institution)
    settings_row = selectors.formulary_for(consortium) if consortium is not None else None
    may_manage = policies.can_manage_stock(
        actor, institution.pk, selectors.member_consortium_ids(institution.pk)
    )
    add_form = forms.StockAddForm(
        request.POST if request.method == "POST" and "add" in request.POST else None
    )
    import_form = forms.ImportForm(
        request.POST if request.method == "POST" and "import" in request.POST else None,
        request.FILES if request.method == "POST" and "import" in request.POST else None,
    )
    if request.method == "POST":
        require(may_manage)
        if "remove" in request.POST:
            drug = (
                Drug.objects.filter(public_id=request.POST.get("remove")).first()
                if request.POST.get("remove")
                else None
            )
            if drug is None:
                raise NotFound("drug")
            services.stock_remove(actor=actor, institution=institution, drug=drug)
            messages.success(request, _("已将“%(drug)s”移出本机构药品目录。") % {"drug": drug})
            return redirect(request.get_full_path())
        if "add" in request.POST and add_form.is_valid():
            code = add_form.cleaned_data["drug"].strip().split(" ")[0].upper()
            drug = Drug.objects.filter(code=code, is_active=True).first()
            if drug is None:
                add_form.add_error("drug", _("药品目录中没有该代码。"))
            else:
                try:
                    services.stock_add(
                        actor=actor,
                        institution=institution,
                        drug=drug,
                        is_local_addition=add_form.cleaned_data["is_local_addition"],
                    )
                except Invalid as error:
                    add_domain_errors(add_form, error)
                else:
                    messages.success(request, _("已将“%(drug)s”加入本机构药品目录。") % {"drug": drug})
                    return redirect(request.get_full_path())
        if "import" in request.POST and import_form.is_valid():
            upload = import_form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD:
                import_form.add_error("file", _("文件不能超过 5 MB。"))
            else:
                try:
                    result = services.stock_import(
                        actor=actor,
                        institution=institution,
                        content=upload.read(),
                        replace=import_form.cleaned_data["replace"],
                    )
                except Invalid as error:
                    add_domain_errors(import_form, error)
                else:
                    messages.success(
                        request,
                        _(
                            "导入完成：新增 %(created)s 种，修改 %(updated)s 种，未变 %(unchanged)s 种，移除 %(removed)s 种。"
                        )
                        % result.__dict__,
                    )
                    return redirect(request.get_full_path())
    filters = forms.StockFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.stock_list(
        institution,
        query=values.get("q") or "",
        category=values.get("category") or "",
        chronic=True if values.get("chronic") else None,
    )
    page = paginate(request, rows)
    is_reference = settings_row is not None and settings_row.reference_institution_id == institution.pk
    missing = None
    unaligned: list[Any] = []
    if settings_row is not None and not is_reference:
        missing = selectors.missing_drugs(
            settings_row,
            institution,
            chronic_only=request.GET.get("missing") != "all",
            category=values.get("category") or "",
        )
        unaligned = list(selectors.unaligned_stock(settings_row, institution)[:100])
    missing_rows = list(missing[:200]) if missing is not None else []
    return render(
        request,
        "prescriptions/stock.html",
        {
            "institution": institution,
            "consortium": consortium,
            "formulary": settings_row,
            "is_reference": is_reference,
            "filters": filters,
            "page_obj": page,
            "missing": missing_rows,
            "missing_total": missing.count() if missing is not None else 0,
            "missing_all": request.GET.get("missing") == "all",
            "unaligned": unaligned,
            "may_manage": may_manage,
            "add_form": add_form,
            "import_form": import_form,
            "catalogue_options": [forms.drug_option(d) for d in missing_rows] if may_manage else [],
        },
        status=400 if request.method == "POST" else 200,  # a refused add or import; done ones redirect
    )


@prescriptions_view
@require_GET
def stock_export(request: HttpRequest, public_id: str) -> HttpResponse:
    """An institution's stock list as Excel (the import template's columns)."""
    institution = selectors.stock_institution_get(request.user, public_id)
    content = documents.stock_workbook(institution, list(selectors.stock_list(institution)))
    return _xlsx(content, f"stock-{timezone.localdate():%Y%m%d}.xlsx")


@prescriptions_view
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """The empty import template (``stock`` or ``drugs``)."""
    require(policies.can_use_formulary(request.user))
    if kind not in ("stock", "drugs"):
        raise NotFound("template")
    return _xlsx(services.template_workbook(kind), f"template-{kind}.xlsx")


@prescriptions_view
@require_http_methods(["GET", "POST"])
def drugs(request: HttpRequest) -> HttpResponse:
    """The shared catalogue, searched by name, pinyin or code; catalogue managers add drugs and import."""
    actor = request.user
    require(policies.can_use_formulary(actor))
    may_manage = policies.can_manage_catalogue(actor, selectors.lead_institution_ids())
    drug_form = forms.DrugForm(request.POST if request.method == "POST" and "add" in request.POST else None)
    import_form = forms.ImportForm(
        request.POST if request.method == "POST" and "import" in request.POST else None,
        request.FILES if request.method == "POST" and "import" in request.POST else None,
    )
    if request.method == "POST":
        require(may_manage)
        if "add" in request.POST and drug_form.is_valid():
            try:
                drug = services.drug_save(actor=actor, **drug_form.cleaned_data)
            except Invalid as error:
                add_domain_errors(drug_form, error)
            else:
                messages.success(request, _("已新增药品“%(drug)s”。") % {"drug": drug})
                return redirect("prescriptions:drugs")
        if "import" in request.POST and import_form.is_valid():
            upload = import_form.cleaned_data["file"]
            try:
                if upload.size > MAX_UPLOAD:
                    raise Invalid({"file": [_("文件不能超过 5 MB。")]})
                result = services.drug_import(actor=actor, content=upload.read())
            except Invalid as error:
                add_domain_errors(import_form, error)
            else:
                messages.success(
                    request,
                    _("导入完成：新增 %(created)s 种，修改 %(updated)s 种，未变 %(unchanged)s 种。")
                    % result.__dict__,
                )
                return redirect("prescriptions:drugs")
    filters = forms.DrugFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.drug_list(
        actor,
        query=values.get("q") or "",
        category=values.get("category") or "",
        chronic=True if values.get("chronic") else None,
        essential=True if values.get("essential") else None,
    )
    page = paginate(request, rows)
    own = sorted(policies.staff_institutions(actor))
    stocked = selectors.stocked_drug_ids(own[0], [d.pk for d in page.object_list]) if own else set()
    return render(
        request,
        "prescriptions/drugs.html",
        {
            "filters": filters,
            "page_obj": page,
            "stocked": stocked,
            "has_own": bool(own),
            "may_manage": may_manage,
            "drug_form": drug_form,
            "import_form": import_form,
            "categories": DrugCategory.choices,
        },
        status=400 if request.method == "POST" else 200,  # a refused add or import; done ones redirect
    )


@prescriptions_view
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Long and extended prescriptions per member per month; deliveries and their turnaround."""
    actor = request.user
    consortia = list(selectors.statistics_consortia(actor))
    require(bool(consortia))
    today = timezone.localdate()
    default_first = (today.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    form = forms.StatisticsForm(
        request.GET or None,
        consortia=[(str(c.public_id), c.name) for c in consortia],
        initial={"consortium": str(consortia[0].public_id), "first": default_first, "last": today},
    )
    values = form.cleaned_data if form.is_valid() else {}
    consortium = next((c for c in consortia if str(c.public_id) == values.get("consortium")), consortia[0])
    first = values.get("first") or default_first
    last = values.get("last") or today
    months, deliveries = selectors.statistics(consortium, first, last)
    totals = {"long": sum(m.long for m in months), "extended": sum(m.extended for m in months)}
    return render(
        request,
        "prescriptions/statistics.html",
        {
            "form": form,
            "consortium": consortium,
            "months": months,
            "deliveries": [
                {
                    "row": row,
                    "counts": [row.by_status.get(value, 0) for value, _label in DeliveryStatus.choices],
                }
                for row in deliveries
            ],
            "status_labels": [label for _value, label in DeliveryStatus.choices],
            "totals": totals,
            "first": first,
            "last": last,
        },
    )


urlpatterns: list[URLPattern] = [
    path("formulary/", formulary, name="formulary"),
    path("formulary/export.xlsx", formulary_export, name="formulary-export"),
    path("stock/<uuid:public_id>/", stock, name="stock"),
    path("stock/<uuid:public_id>/export.xlsx", stock_export, name="stock-export"),
    path("templates/<str:kind>.xlsx", import_template, name="template"),
    path("drugs/", drugs, name="drugs"),
    path("statistics/", statistics, name="statistics"),
]
