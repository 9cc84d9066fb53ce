"""Management referral pages: green-channel reserved capacity, the consortium's criteria catalogue
and settings (with deductible difference subsidies), statistics with Excel exports, and the monthly
service volumes that are the denominators of the referral rates.

Thin adapters: every read goes through a selector and every write through a
service with ``actor=request.user``; ``Invalid`` shows inline on the form.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yilian.core.exceptions import Conflict, Invalid
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.encounters import policies as encounter_policies
from yilian.encounters.selectors import monthly_volumes
from yilian.encounters.services import service_volume_record
from yilian.institutions import selectors as registry
from yilian.institutions.models import Consortium, Department, Institution
from yilian.people.identifiers import mask_name
from yilian.referrals import documents, policies, selectors, services
from yilian.referrals.choices import DepartmentGroup, Grade, Material
from yilian.referrals.forms_management import (
    SUBSIDY_FIELDS,
    CapacityGridForm,
    CriterionForm,
    ReferralSettingsForm,
    ServiceVolumeForm,
    StatisticsFilterForm,
    SubsidyFilterForm,
    add_months,
    capacity_column_labels,
    month_start,
    parse_month,
)
from yilian.referrals.models import ReferralCriterion
from yilian.referrals.selectors.statistics import RateRow, months_between
from yilian.referrals.services.configuration import MAX_CAPACITY_DAYS_AHEAD

CAPACITY_DAYS = 14
VOLUME_MONTHS = 12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GRADE_LABELS = dict(Grade.choices)
MATERIAL_LABELS = dict(Material.choices)
FilterForm = TypeVar("FilterForm", StatisticsFilterForm, SubsidyFilterForm)


def management_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back to the page with the message."""
    return login_required(domain_errors(view))


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# Reserved capacity -----------------------------------------------------------------


def _latest_first_day(today: datetime.date) -> datetime.date:
    """The last first day of a grid that still ends within the publishing window."""
    return today + datetime.timedelta(days=MAX_CAPACITY_DAYS_AHEAD - CAPACITY_DAYS + 1)


def _first_day(raw: str | None, today: datetime.date) -> datetime.date:
    """The grid's first day: ``raw`` (ISO) kept within what may still be published, else today."""
    try:
        day = datetime.date.fromisoformat(raw or "")
    except ValueError:
        return today
    return min(max(day, today), _latest_first_day(today))


def _publish_all(
    request: HttpRequest,
    department: Department,
    form: CapacityGridForm,
    changes: list[tuple[datetime.date, str, int, bool]],
) -> bool:
    """Publish every changed cell, all or nothing; put each refusal on its cell. True when all were saved."""
    failed = False
    with transaction.atomic():
        for day, kind, quantity, signed in changes:
            cell = form.cell_name(day, kind, signed)
            try:
                services.capacity_publish(
                    actor=request.user,
                    department=department,
                    kind=kind,
                    date=day,
                    quantity=quantity,
                    signed_residents_only=signed,
                )
            except Invalid as error:
                failed = True
                for name, texts in error.as_text().items():
                    for text in texts:
                        form.add_error(cell if name in ("quantity", "date", "kind") else None, text)
            except Conflict as error:
                failed = True
                form.add_error(cell, str(error.message))
        if failed:
            transaction.set_rollback(True)
    return not failed


@management_view
@require_http_methods(["GET", "POST"])
def capacity(request: HttpRequest) -> HttpResponse:
    """A department's green-channel reserved capacity for 14 days: publish or change the quantities."""
    departments = list(selectors.capacity_departments(request.user))
    require(bool(departments))
    wanted = request.GET.get("department", "")
    department = next((d for d in departments if str(d.public_id) == wanted), None)
    if department is None:
        if wanted:
            raise Http404
        department = departments[0]
    today = timezone.localdate()
    first = _first_day(request.GET.get("start"), today)
    days = [first + datetime.timedelta(days=offset) for offset in range(CAPACITY_DAYS)]
    published = {
        (row.date, row.kind, row.signed_residents_only): row
        for row in selectors.capacity_list([department.pk], days[0], days[-1])
    }
    form = CapacityGridForm(_posted(request), days=days, published=published)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("没有需要保存的修改。"))
            return redirect(request.get_full_path())
        if _publish_all(request, department, form, changes):
            messages.success(request, _("已发布 %(count)s 项预留号源/床位。") % {"count": len(changes)})
            return redirect(request.get_full_path())
    step = datetime.timedelta(days=CAPACITY_DAYS)
    latest = _latest_first_day(today)
    return render(
        request,
        "referrals/management_capacity.html",
        {
            "form": form,
            "grid": form.grid(),
            "kinds": [(kind, label) for kind, _signed, label in capacity_column_labels()],
            "departments": departments,
            "department": department,
            "first": first,
            "previous_start": max(first - step, today) if first > today else None,
            "next_start": min(first + step, latest) if first < latest else None,
        },
    )


# Configuration: consortia, catalogue, settings --------------------------------------


@management_view
@require_GET
def configuration(request: HttpRequest) -> HttpResponse:
    """Consortia whose referral catalogue and settings the actor configures or oversees."""
    require(policies.can_view_statistics(request.user))
    page_obj = paginate(request, selectors.member_consortia_for_statistics(request.user))
    for consortium in page_obj:
        consortium.can_configure = policies.can_configure(request.user, consortium)
    return render(request, "referrals/management_configuration.html", {"page_obj": page_obj})


@management_view
@require_GET
def catalogue(request: HttpRequest, public_id: str) -> HttpResponse:
    """The consortium's referral criteria catalogue (the office adds and edits rules)."""
    consortium = registry.consortium_get(request.user, public_id)
    require(
        policies.can_view_configuration(request.user, consortium, selectors.consortium_member_ids(consortium))
    )
    page_obj = paginate(request, selectors.criteria_list(consortium))
    for criterion in page_obj:
        criterion.material_labels = [MATERIAL_LABELS.get(m, m) for m in criterion.required_materials]
    return render(
        request,
        "referrals/management_catalogue.html",
        {
            "consortium": consortium,
            "page_obj": page_obj,
            "can_configure": policies.can_configure(request.user, consortium),
        },
    )


def _catalogue_url(consortium: Consortium) -> str:
    return reverse("referrals:catalogue", kwargs={"public_id": consortium.public_id})


def _criterion_form(
    request: HttpRequest, consortium: Consortium, criterion: ReferralCriterion | None
) -> HttpResponse:
    require(policies.can_configure(request.user, consortium))
    initial = CriterionForm.initial_for(criterion) if criterion else None
    form = CriterionForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if criterion is None:
                saved = services.criterion_create(
                    actor=request.user, consortium=consortium, **form.service_data()
                )
                messages.success(request, _("已新增转诊标准“%(name)s”。") % {"name": saved.name})
            else:
                saved = services.criterion_update(
                    actor=request.user, criterion=criterion, **form.service_data()
                )
                messages.success(request, _("转诊标准“%(name)s”已保存。") % {"name": saved.name})
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            return redirect(_catalogue_url(consortium))
    return render(
        request,
        "referrals/management_criterion_form.html",
        {"form": form, "consortium": consortium, "criterion": criterion},
    )


@management_view
@require_http_methods(["GET", "POST"])
def criterion_create(request: HttpRequest, public_id: str) -> HttpResponse:
    """Add a rule to the catalogue (the consortium office)."""
    return _criterion_form(request, registry.consortium_get(request.user, public_id), None)


@management_view
@require_http_methods(["GET", "POST"])
def criterion_edit(request: HttpRequest, public_id: str, criterion_id: str) -> HttpResponse:
    """Change a catalogue rule or switch it off (the consortium office)."""
    consortium = registry.consortium_get(request.user, public_id)
    require(policies.can_configure(request.user, consortium))
    criterion = selectors.criteria_list(consortium).filter(public_id=criterion_id).first()
    if criterion is None:
        raise Http404
    return _criterion_form(request, consortium, criterion)


def _save_settings(
    request: HttpRequest, consortium: Consortium, form: ReferralSettingsForm, current: dict[str, Decimal]
) -> bool:
    """Save the settings and the changed subsidies, all or nothing; the refusal shows on the form."""
    field_map = {"answer_hours": "answer_hours_stat"}
    try:
        with transaction.atomic():
            services.referral_settings_update(
                actor=request.user, consortium=consortium, **form.settings_data()
            )
            for name, scheme in SUBSIDY_FIELDS:
                amount = form.cleaned_data[name]
                if amount != current.get(scheme, Decimal("0")):
                    field_map["amount"] = name  # subsidy_set reports its amount as "amount"
                    services.subsidy_set(
                        actor=request.user, consortium=consortium, insurance_scheme=scheme, amount=amount
                    )
    except Invalid as error:
        add_domain_errors(form, error, field_map)
        return False
    return True


@management_view
@require_http_methods(["GET", "POST"])
def referral_settings(request: HttpRequest, public_id: str) -> HttpResponse:
    """Answer deadlines, arrival grace, closed-loop deadlines, grade bounds and subsidies.

    The office changes them; regulators and platform admins read them.
    """
    consortium = registry.consortium_get(request.user, public_id)
    can_configure = policies.can_configure(request.user, consortium)
    require(can_configure or policies.oversees(request.user, consortium))
    if request.method == "POST":
        require(can_configure)
    current = {row.insurance_scheme: row.amount for row in selectors.subsidy_list(consortium)}
    form = ReferralSettingsForm(
        _posted(request),
        initial=ReferralSettingsForm.initial_for(selectors.referral_settings_for(consortium), current),
        read_only=not can_configure,
    )
    if request.method == "POST" and form.is_valid() and _save_settings(request, consortium, form, current):
        messages.success(request, _("转诊设置已保存。"))
        return redirect(request.path)
    return render(
        request,
        "referrals/management_settings.html",
        {"form": form, "consortium": consortium, "can_configure": can_configure},
    )


# Statistics ---------------------------------------------------------------------------


@dataclass
class RateCell:
    """One month's rate of a member or department as the table shows it."""

    rate: float | None
    grade: str
    grade_label: str
    rank: int | None
    referrals: int
    denominator: int


@dataclass
class RateLine:
    """A row of a rate table: a member (or department) and its cells, one per month."""

    name: str
    cells: list[RateCell] = field(default_factory=list)


def _pivot(rows: list[RateRow], months: list[datetime.date], *, by_department: bool) -> list[RateLine]:
    """Rows of (month, member) → one line per member with a cell per month, in the selector's order."""
    lines: dict[int, RateLine] = {}
    cells: dict[tuple[int, datetime.date], RateRow] = {}
    for row in rows:
        key = row.department_id if by_department and row.department_id else row.institution_id
        if key not in lines:
            name = (
                f"{row.institution_name} · {row.department_name}" if by_department else row.institution_name
            )
            lines[key] = RateLine(name=name)
        cells[(key, row.month)] = row
    for key, line in lines.items():
        for month in months:
            row = cells.get((key, month))
            line.cells.append(
                RateCell(
                    rate=row.rate if row else None,
                    grade=row.grade if row else "",
                    grade_label=str(GRADE_LABELS.get(row.grade, "")) if row else "",
                    rank=row.rank if row else None,
                    referrals=row.referrals if row else 0,
                    denominator=row.denominator if row else 0,
                )
            )
    return list(lines.values())


def _by_month(summary: Any, months: list[datetime.date]) -> list[dict[str, Any]]:
    """Every month of the period (empty months too) with a bar width relative to the busiest month."""
    found = {row["month"]: row for row in summary.by_month}
    empty = {"submitted": 0, "up": 0, "down": 0, "completed": 0, "subsidy": Decimal("0")}
    rows = [{**empty, **found.get(month, {}), "month": month} for month in months]
    busiest = max((row["submitted"] for row in rows), default=0)
    for row in rows:
        row["bar"] = round(100 * row["submitted"] / busiest) if busiest else 0
    return rows


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def _summary_cards(summary: Any) -> list[tuple[str, str, str]]:
    """(label, shown value, test id) of the headline figures."""
    hours = (
        "—"
        if summary.response_hours_median is None
        else _("%(h)s 小时") % {"h": summary.response_hours_median}
    )
    mean = (
        "—" if summary.response_hours_mean is None else _("%(h)s 小时") % {"h": summary.response_hours_mean}
    )
    return [
        (_("转诊总数"), str(summary.submitted), "submitted"),
        (_("上转 / 下转 / 平转"), f"{summary.up} / {summary.down} / {summary.lateral}", "directions"),
        (_("医联体内转诊占比"), _percent(summary.inside_share), "inside-share"),
        (_("接收率"), _percent(summary.acceptance_rate), "acceptance-rate"),
        (_("完成率"), _percent(summary.completion_rate), "completion-rate"),
        (_("闭环率"), _percent(summary.closed_loop_rate), "closed-loop-rate"),
        (_("超时未响应"), str(summary.expired), "expired"),
        (_("规范转诊率（符合标准）"), _percent(summary.standard_rate), "standard-rate"),
        (_("响应时间中位数"), hours, "response-median"),
        (_("响应时间均值"), mean, "response-mean"),
        (_("起付线差价补贴合计（元）"), f"{summary.subsidy_total:.2f}", "subsidy-total"),
    ]


def _consortium_filter(
    request: HttpRequest, form_class: type[FilterForm]
) -> tuple[FilterForm, Consortium | None]:
    """The bound filter and the chosen consortium (404 for one the actor may not read).

    The consortium is None when the filter has errors or the actor oversees no consortium.
    """
    require(policies.can_view_statistics(request.user))
    form = form_class(request.GET, consortia=list(selectors.member_consortia_for_statistics(request.user)))
    valid = form.is_valid()
    if "consortium" in form.errors:
        raise Http404
    return form, form.cleaned_data["consortium"] if valid else None


@management_view
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Summary, monthly up-referral rates of members and down-referral rates of lead-hospital departments."""
    form, consortium = _consortium_filter(request, StatisticsFilterForm)
    context: dict[str, Any] = {"form": form, "consortium": consortium, "grades": Grade.choices}
    if consortium is not None:
        first, last = form.period()
        months = months_between(first, last)
        summary = selectors.referral_summary(consortium, first, last)
        down = selectors.down_referral_rates(consortium, first, last)
        context.update(
            first=first,
            last=last,
            months=months,
            summary=summary,
            cards=_summary_cards(summary),
            by_month=_by_month(summary, months),
            up_lines=_pivot(
                selectors.up_referral_rates(consortium, first, last), months, by_department=False
            ),
            down_groups=[
                (
                    label,
                    _pivot([row for row in down if row.group == group], months, by_department=True),
                    group,
                )
                for group, label in DepartmentGroup.choices
                if group != DepartmentGroup.OTHER
            ],
            export_query=urlencode(
                {"consortium": consortium.public_id, "from": first.isoformat(), "to": last.isoformat()}
            ),
            subsidy_query=urlencode({"consortium": consortium.public_id, "month": f"{last:%Y-%m}"}),
        )
    return render(request, "referrals/management_statistics.html", context)


@management_view
@require_GET
def statistics_export(request: HttpRequest) -> HttpResponse:
    """The statistics page as an Excel workbook."""
    form, consortium = _consortium_filter(request, StatisticsFilterForm)
    if consortium is None:
        return HttpResponseBadRequest(_("统计期间不正确。"))
    first, last = form.period()
    content = documents.statistics_workbook(consortium, first, last)
    return _xlsx(content, f"referral-statistics-{first:%Y%m}-{last:%Y%m}.xlsx")


@management_view
@require_GET
def subsidies(request: HttpRequest) -> HttpResponse:
    """Referrals completed in a month that earned a deductible difference subsidy, with the total."""
    form, consortium = _consortium_filter(request, SubsidyFilterForm)
    context: dict[str, Any] = {"form": form, "consortium": consortium}
    if consortium is not None:
        month = form.cleaned_data["month"]
        rows = selectors.subsidy_report(consortium, month)
        page_obj = paginate(request, rows)
        for referral in page_obj:
            referral.patient_masked = mask_name(referral.person.name)
        context.update(
            month=month,
            page_obj=page_obj,
            total=rows.aggregate(total=Sum("subsidy_amount"))["total"] or Decimal("0"),
            export_query=urlencode({"consortium": consortium.public_id, "month": f"{month:%Y-%m}"}),
        )
    return render(request, "referrals/management_subsidies.html", context)


@management_view
@require_GET
def subsidies_export(request: HttpRequest) -> HttpResponse:
    """The month's subsidies as an Excel workbook."""
    form, consortium = _consortium_filter(request, SubsidyFilterForm)
    if consortium is None:
        return HttpResponseBadRequest(_("月份不正确。"))
    month = form.cleaned_data["month"]
    return _xlsx(documents.subsidy_workbook(consortium, month), f"referral-subsidies-{month:%Y%m}.xlsx")


# Monthly service volumes -----------------------------------------------------------------


def _volume_institutions(actor: Any) -> QuerySet[Institution]:
    """Institutions whose volumes the actor reports (their administrators)."""
    ids = [
        pk for pk in policies.end_institutions(actor) if encounter_policies.can_report_volume_at(actor, pk)
    ]
    return registry.institution_list(actor).filter(pk__in=ids).order_by("name")


def _volume_initial(
    request: HttpRequest, departments: list[Department], recorded: dict[Any, Any]
) -> dict[str, Any]:
    """Prefill the form from ``?month=&department=`` with what was already reported."""
    try:
        month = month_start(parse_month(request.GET.get("month", "")))
    except ValueError:
        month = month_start(timezone.localdate())
    initial: dict[str, Any] = {"month": month}
    department = next((d for d in departments if str(d.public_id) == request.GET.get("department")), None)
    if department is not None:
        initial["department"] = department.public_id
    counts = recorded.get((department.pk if department else None, initial["month"]))
    if counts:
        initial.update(counts)
    return initial


@management_view
@require_http_methods(["GET", "POST"])
def volumes(request: HttpRequest) -> HttpResponse:
    """Report an institution's (or department's) monthly visits, admissions and discharges; the last 12 months."""
    institutions = list(_volume_institutions(request.user))
    require(bool(institutions))
    wanted = request.GET.get("institution", "")
    institution = next((i for i in institutions if str(i.public_id) == wanted), None)
    if institution is None:
        if wanted:
            raise Http404
        institution = institutions[0]
    all_departments = list(registry.department_list(request.user, institution, include_inactive=True))
    active = registry.department_list(request.user, institution)
    this_month = month_start(timezone.localdate())
    first_month = add_months(this_month, -(VOLUME_MONTHS - 1))
    recorded: dict[tuple[int | None, datetime.date], dict[str, int]] = {}
    for by_department in (False, True):
        for (_institution, department_id, month), counts in monthly_volumes(
            [institution.pk], first_month, this_month, by_department=by_department
        ).items():
            recorded[(department_id, month)] = counts
    form = ServiceVolumeForm(
        _posted(request), departments=active, initial=_volume_initial(request, all_departments, recorded)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service_volume_record(
                actor=request.user,
                institution=institution,
                month=data["month"],
                department=data["department"],
                outpatient_visits=data["outpatient_visits"],
                admissions=data["admissions"],
                discharges=data["discharges"],
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("已保存 %(month)s 的服务量。") % {"month": f"{data['month']:%Y-%m}"})
            return redirect(f"{request.path}?{urlencode({'institution': institution.public_id})}")
    table = []
    for month in [add_months(this_month, -offset) for offset in range(VOLUME_MONTHS)]:
        table.append({"month": month, "department": None, "counts": recorded.get((None, month))})
        table.extend(
            {"month": month, "department": department, "counts": recorded[(department.pk, month)]}
            for department in all_departments
            if (department.pk, month) in recorded
        )
    return render(
        request,
        "referrals/management_volumes.html",
        {"form": form, "institutions": institutions, "institution": institution, "table": table},
    )


urlpatterns: list[URLPattern] = [
    path("capacity/", capacity, name="capacity"),
    path("consortia/", configuration, name="configuration"),
    path("consortia/<uuid:public_id>/catalogue/", catalogue, name="catalogue"),
    path("consortia/<uuid:public_id>/catalogue/new/", criterion_create, name="criterion-create"),
    path(
        "consortia/<uuid:public_id>/catalogue/<uuid:criterion_id>/edit/",
        criterion_edit,
        name="criterion-edit",
    ),
    path("consortia/<uuid:public_id>/settings/", referral_settings, name="referral-settings"),
    path("statistics/", statistics, name="statistics"),
    path("statistics/export.xlsx", statistics_export, name="statistics-export"),
    path("statistics/subsidies/", subsidies, name="subsidies"),
    path("statistics/subsidies/export.xlsx", subsidies_export, name="subsidies-export"),
    path("volumes/", volumes, name="volumes"),
]
