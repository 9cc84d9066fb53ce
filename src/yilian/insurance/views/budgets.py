"""医保总额预算 pages under /insurance/: budgets, their monthly page, rules, what-if, settlements, claims."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.exceptions import Conflict, Invalid, required_message
from yilian.core.ui.forms import invalid_message
from yilian.core.ui.http import domain_errors, local_page, paginate, require, return_to
from yilian.insurance import calculation, documents, selectors, services
from yilian.insurance.choices import ClaimKind, ProviderPlace, SettlementStatus, SettlementTier
from yilian.insurance.models import GlobalBudget
from yilian.people.choices import InsuranceScheme
from yilian.people.identifiers import mask_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SWITCHES = ("counts_members", "counts_in_county_others", "counts_out_of_county", "counts_pharmacies")
DEDUCTION_ROWS = 4
WHATIF_COLUMNS = 4


def insurance_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- budgets ------------------------------------------------------------------------------------------


@insurance_view
@require_GET
def budget_list(request: HttpRequest) -> HttpResponse:
    """Budgets the actor reaches, newest year first; insurance officers get the “new budget” button."""
    page = paginate(request, selectors.budget_list(request.user).order_by("-year", "consortium__name"))
    return render(
        request,
        "insurance/budget_list.html",
        {"page_obj": page, "may_create": selectors.consortia_for_budget(request.user).exists()},
    )


def _budget_data(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "year": post.get("year"),
        "consortium_share": post.get("consortium_share"),
        "prepayment_rate": post.get("prepayment_rate"),
        "notes": post.get("notes", ""),
        **{switch: post.get(switch) == "on" for switch in SWITCHES},
        "headcounts": [],
        "deductions": [],
    }
    for scheme in (InsuranceScheme.RESIDENT, InsuranceScheme.EMPLOYEE):
        count, fund = post.get(f"count_{scheme}", "").strip(), post.get(f"fund_{scheme}", "").strip()
        if count or fund:
            data["headcounts"].append({"scheme": scheme, "insured_count": count, "per_capita_fund": fund})
    for index in range(DEDUCTION_ROWS):
        name, amount = (
            post.get(f"deduction_name_{index}", "").strip(),
            post.get(f"deduction_amount_{index}", "").strip(),
        )
        if name or amount:
            data["deductions"].append({"name": name, "amount": amount})
    return data


def _budget_initial(budget: GlobalBudget | None) -> dict[str, Any]:
    if budget is None:
        return {
            "year": datetime.date.today().year,
            "consortium_share": "0.95",
            "prepayment_rate": "0.95",
            "counts_members": True,
            "counts_in_county_others": True,
            "counts_out_of_county": True,
            "counts_pharmacies": False,
            "notes": "",
            "headcounts": {},
            "deductions": [],
        }
    return {
        "year": budget.year,
        "consortium_share": budget.consortium_share.normalize(),
        "prepayment_rate": budget.prepayment_rate.normalize(),
        **{switch: getattr(budget, switch) for switch in SWITCHES},
        "notes": budget.notes,
        "headcounts": {row.scheme: row for row in budget.headcounts.all()},
        "deductions": list(budget.deductions.all()),
    }


def _stored_data(budget: GlobalBudget) -> dict[str, Any]:
    """The budget's stored figures in the shape of posted data (for a form whose figure fields are disabled)."""
    return {
        "year": budget.year,
        "consortium_share": budget.consortium_share,
        "prepayment_rate": budget.prepayment_rate,
        **{switch: getattr(budget, switch) for switch in SWITCHES},
        "notes": budget.notes,
        "headcounts": [
            {"scheme": row.scheme, "insured_count": row.insured_count, "per_capita_fund": row.per_capita_fund}
            for row in budget.headcounts.all()
        ],
        "deductions": [{"name": row.name, "amount": row.amount} for row in budget.deductions.all()],
    }


def _form_values(data: dict[str, Any]) -> dict[str, Any]:
    """Re-shape posted or stored values for the template (headcount rows per scheme, padded deductions)."""
    headcounts: dict[str, tuple[Any, Any]] = {}
    raw = data["headcounts"]
    for row in raw.values() if isinstance(raw, dict) else raw:
        if isinstance(row, dict):
            headcounts[row["scheme"]] = (row.get("insured_count", ""), row.get("per_capita_fund", ""))
        else:
            headcounts[row.scheme] = (row.insured_count, row.per_capita_fund)
    rows = [
        {
            "scheme": scheme,
            "label": scheme.label,
            "count": headcounts.get(scheme, ("", ""))[0],
            "fund": headcounts.get(scheme, ("", ""))[1],
        }
        for scheme in (InsuranceScheme.RESIDENT, InsuranceScheme.EMPLOYEE)
    ]
    deductions = [
        {"name": row["name"], "amount": row["amount"]}
        if isinstance(row, dict)
        else {"name": row.name, "amount": row.amount}
        for row in data["deductions"]
    ]
    deductions += [{"name": "", "amount": ""}] * (DEDUCTION_ROWS - len(deductions))
    return {**data, "headcount_rows": rows, "deduction_rows": list(enumerate(deductions[:DEDUCTION_ROWS]))}


@insurance_view
@require_http_methods(["GET", "POST"])
def budget_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit a budget: rates, switches, headcounts per scheme, deductions (409 on a stale version)."""
    actor = request.user
    budget = selectors.budget_get(actor, public_id, level=selectors.ACCESS_MANAGE) if public_id else None
    consortia = list(selectors.consortia_for_budget(actor)) if budget is None else []
    require(budget is not None or bool(consortia))
    errors: dict[str, list[str]] = {}
    values = _budget_initial(budget)
    latest = selectors.latest_settlement(budget) if budget is not None else None
    frozen = selectors.frozen_settlement(budget, latest) if budget is not None else None
    if request.method == "POST":
        data = _budget_data(request.POST)
        if frozen is not None and request.POST.get("year") is None:
            # The form of a budget with a frozen settlement disables the figure fields (they are not posted):
            # keep the stored figures and take only the notes.
            data = {**_stored_data(budget), "notes": data["notes"]}  # type: ignore[arg-type]
        try:
            if budget is None:
                chosen = next(
                    (c for c in consortia if str(c.public_id) == request.POST.get("consortium")), None
                )
                if chosen is None:
                    raise Invalid({"consortium": [_("请选择医联体")]})
                budget = services.budget_create(actor=actor, consortium=chosen, data=data)
                messages.success(request, _("预算已创建"))
            else:
                services.budget_update(
                    actor=actor, budget=budget, version=int(request.POST.get("version") or 0), data=data
                )
                messages.success(request, _("预算已保存"))
            return redirect("insurance:budget", budget.public_id)
        except Invalid as error:
            errors = error.as_text()
            values = {**values, **data}
    return render(
        request,
        "insurance/budget_form.html",
        {
            "budget": budget,
            "consortia": consortia,
            "values": _form_values(values),
            "errors": errors,
            "frozen": frozen,
            "reopened": selectors.reopened_settlement(budget, latest) if budget is not None else None,
        },
    )


def _chart(monthly: selectors.BudgetMonthly) -> dict[str, Any]:
    """An inline SVG chart: stacked bars of spend by place per month, a line of the monthly pool.

    ECharts is not vendored in the project; a server-drawn SVG needs no script.
    """
    height, bar_width, gap = 180, 28, 14
    top = max(
        [row.pool for row in monthly.months]
        + [row.members + row.outside for row in monthly.months]
        + [Decimal(1)]
    )
    scale = Decimal(height) / top
    bars, points = [], []
    for index, row in enumerate(monthly.months):
        x = 40 + index * (bar_width + gap)
        y = Decimal(height) + 10
        for place, amount in (
            ("members", row.members),
            ("in_county", row.in_county),
            ("out_of_county", row.out_of_county),
            ("pharmacy", row.pharmacy),
        ):
            size = (amount * scale).quantize(Decimal("0.1"))
            y -= size
            if size > 0:
                bars.append(
                    {"x": x, "y": y, "height": size, "place": place, "amount": amount, "month": row.month}
                )
        points.append(
            f"{x + bar_width // 2},{(Decimal(height) + 10 - row.pool * scale).quantize(Decimal('0.1'))}"
        )
    return {
        "bars": bars,
        "line": " ".join(points),
        "width": 40 + 12 * (bar_width + gap),
        "height": height + 40,
        "bar_width": bar_width,
        "labels": [{"x": 40 + i * (bar_width + gap) + bar_width // 2, "month": i + 1} for i in range(12)],
    }


@insurance_view
@require_GET
def budget_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The budget page: monthly pool, spend inside and outside, projection, the out-of-county leak."""
    budget = selectors.budget_get(request.user, public_id)
    monthly = selectors.budget_monthly(budget)
    latest = selectors.latest_settlement(budget)
    return render(
        request,
        "insurance/budget_detail.html",
        {
            "budget": budget,
            "monthly": monthly,
            "chart": _chart(monthly),
            "headcounts": list(budget.headcounts.all()),
            "deductions": list(budget.deductions.all()),
            "rules": list(selectors.rule_list(budget)),
            "may_manage": budget.access == selectors.ACCESS_MANAGE,  # type: ignore[attr-defined]
            "may_read_all": budget.access != selectors.ACCESS_MEMBER,  # type: ignore[attr-defined]
            "frozen": selectors.frozen_settlement(budget, latest),
            "reopened": selectors.reopened_settlement(budget, latest),
        },
    )


@insurance_view
@require_GET
def budget_export(request: HttpRequest, public_id: str) -> HttpResponse:
    """The budget's monthly figures as Excel."""
    budget = selectors.budget_get(request.user, public_id)
    content = documents.budget_monthly_workbook(selectors.budget_monthly(budget))
    return _download(content, f"budget-{budget.year}.xlsx", XLSX)


# --- rules and what-if --------------------------------------------------------------------------------


def _rule_data(post: Any) -> dict[str, Any]:
    return {
        "name": post.get("name", ""),
        "surplus_retained": post.get("surplus_retained"),
        "overspend_borne": post.get("overspend_borne"),
        "lead_parts": post.get("lead_parts"),
        "township_parts": post.get("township_parts"),
        "village_parts": post.get("village_parts"),
        "weighted_by_score": post.get("weighted_by_score") == "on",
        "is_adopted": post.get("is_adopted") == "on",
    }


@insurance_view
@require_http_methods(["GET", "POST"])
def rule_list(request: HttpRequest, public_id: str, rule_id: str | None = None) -> HttpResponse:
    """The budget's settlement rules; insurance officers add or edit one and freeze a settlement."""
    budget = selectors.budget_get(request.user, public_id)
    may_manage = budget.access == selectors.ACCESS_MANAGE  # type: ignore[attr-defined]
    editing = selectors.rule_get(budget, rule_id) if rule_id else None
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = (
        {
            "name": editing.name,
            "surplus_retained": editing.surplus_retained.normalize(),
            "overspend_borne": editing.overspend_borne.normalize(),
            "lead_parts": editing.lead_parts,
            "township_parts": editing.township_parts,
            "village_parts": editing.village_parts,
            "weighted_by_score": editing.weighted_by_score,
            "is_adopted": editing.is_adopted,
        }
        if editing
        else {
            "name": "",
            "surplus_retained": "1",
            "overspend_borne": "0.5",
            "lead_parts": 6,
            "township_parts": 3,
            "village_parts": 1,
        }
    )
    if request.method == "POST":
        require(may_manage)
        data = _rule_data(request.POST)
        try:
            services.settlement_rule_save(actor=request.user, budget=budget, data=data, rule=editing)
            messages.success(request, _("结算方案已保存"))
            return redirect("insurance:rules", budget.public_id)
        except Invalid as error:
            errors, values = error.as_text(), data
    return render(
        request,
        "insurance/rule_list.html",
        {
            "budget": budget,
            "rules": list(selectors.rule_list(budget)),
            "editing": editing,
            "values": values,
            "errors": errors,
            "may_manage": may_manage,
            "latest": selectors.latest_settlement(budget) if may_manage else None,
        },
    )


WHATIF_FIELDS = ("share", "alpha", "gamma", "lead", "township", "village")
"""The inputs of a what-if column that make it a parameter set (its name and the weighting are optional)."""


def _blank_column() -> dict[str, Any]:
    return {"name": "", **dict.fromkeys(WHATIF_FIELDS, ""), "weighted": False}


def _rule_column(rule: Any, share: str) -> dict[str, Any]:
    return {
        "name": rule.name,
        "share": share,
        "alpha": str(rule.surplus_retained.normalize()),
        "gamma": str(rule.overspend_borne.normalize()),
        "lead": str(rule.lead_parts),
        "township": str(rule.township_parts),
        "village": str(rule.village_parts),
        "weighted": rule.weighted_by_score,
    }


def _whatif_columns(request: HttpRequest, budget: GlobalBudget) -> list[dict[str, Any]]:
    """Parameter columns from the query string; else the budget's saved rules (by their names, the adopted
    first), topped up to two with the 6:3:1 and 4:3:3 presets they do not already cover, at the budget's
    share."""
    if any(f"{key}_{index}" in request.GET for key in WHATIF_FIELDS for index in range(WHATIF_COLUMNS)):
        return [
            {key: request.GET.get(f"{key}_{index}", "").strip() for key in ("name", *WHATIF_FIELDS)}
            | {"weighted": request.GET.get(f"weighted_{index}") == "on"}
            for index in range(WHATIF_COLUMNS)
        ]
    share = str(budget.consortium_share.normalize())
    columns = [_rule_column(rule, share) for rule in list(selectors.rule_list(budget))[:WHATIF_COLUMNS]]
    covered = {(c["alpha"], c["gamma"], c["lead"], c["township"], c["village"]) for c in columns}
    for name, parts in services.RULE_PRESETS.items():
        key = (
            "1",
            "0.5",
            str(parts["lead_parts"]),
            str(parts["township_parts"]),
            str(parts["village_parts"]),
        )
        if len(columns) >= 2 or key in covered:
            continue
        columns.append(
            {
                "name": name,
                "share": share,
                "alpha": "1",
                "gamma": "0.5",
                "lead": key[2],
                "township": key[3],
                "village": key[4],
                "weighted": False,
            }
        )
    return columns + [_blank_column() for _index in range(WHATIF_COLUMNS - len(columns))]


def parameters_from(
    column: dict[str, Any], index: int
) -> tuple[calculation.Parameters | None, dict[str, str]]:
    """Calculation parameters from one what-if column, or None and every bad input's error by field."""
    errors: dict[str, str] = {}
    rates: dict[str, Decimal] = {}
    parts: dict[str, int] = {}
    for key in ("share", "alpha", "gamma"):
        value = str(column.get(key) or "").strip()
        if not value:
            errors[key] = required_message()
            continue
        try:
            rate = calculation.to_decimal(value)
        except ValueError:
            errors[key] = _("须为数字")
            continue
        if not Decimal(0) <= rate <= Decimal(1):
            errors[key] = _("须在0到1之间")
        else:
            rates[key] = rate
    for key in ("lead", "township", "village"):
        value = str(column.get(key) or "").strip()
        if not value:
            errors[key] = required_message()
        elif not value.isdigit():
            errors[key] = _("须为非负整数")
        else:
            parts[key] = int(value)
    if len(parts) == 3 and not sum(parts.values()):
        errors["lead"] = _("三级份数不能全为0")
    if errors:
        return None, errors
    return (
        calculation.Parameters(
            name=column.get("name") or _("方案%(n)s") % {"n": index + 1},
            consortium_share=rates["share"],
            surplus_retained=rates["alpha"],
            overspend_borne=rates["gamma"],
            lead_parts=parts["lead"],
            township_parts=parts["township"],
            village_parts=parts["village"],
            weighted_by_score=bool(column.get("weighted")),
        ),
        {},
    )


@insurance_view
@require_GET
def whatif(request: HttpRequest, public_id: str) -> HttpResponse:
    """Compare 2–4 parameter sets side by side: pool, result and each member's and tier's outcome.

    Every bad input of every column is marked at once and kept as typed; the valid columns are still
    computed and shown.
    """
    budget = selectors.budget_get(request.user, public_id)
    columns = _whatif_columns(request, budget)
    used = [
        (index, column)
        for index, column in enumerate(columns)
        if any(str(column.get(key) or "").strip() for key in WHATIF_FIELDS)
    ]
    parameters: list[calculation.Parameters] = []
    for index, column in used:
        valid, column["errors"] = parameters_from(column, index)
        if valid is not None:
            parameters.append(valid)
    invalid = len(used) - len(parameters)
    error = ""
    if len(used) < 2:
        error = _("请至少填写两列方案参数")
    elif invalid:
        error = _("有%(n)s列参数有误，见标出的输入框；其余各列已计算。") % {"n": invalid}
    outcomes = selectors.whatif_compare(budget, parameters) if parameters else []
    members = []
    if outcomes:
        for position, share in enumerate(outcomes[0].shares):
            members.append(
                {
                    "name": share.name,
                    "tier": SettlementTier(share.tier).label,
                    "is_lead": share.tier == SettlementTier.LEAD,
                    "amounts": [outcome.shares[position].amount for outcome in outcomes],
                }
            )
    tiers = [
        {"label": SettlementTier(tier).label, "amounts": [outcome.tier_totals[tier] for outcome in outcomes]}
        for tier in calculation.TIERS
    ]
    labels = {
        "name": (_("方案名称"), 14),
        "share": (_("打包比例"), 6),
        "alpha": (_("结余留用比例 α"), 6),
        "gamma": (_("合理超支医共体承担比例 γ"), 6),
        "lead": (_("牵头医院份数"), 4),
        "township": (_("乡镇卫生院份数"), 4),
        "village": (_("村卫生室份数"), 4),
    }
    inputs = [
        {
            "label": label,
            "cells": [
                {
                    "name": f"{key}_{index}",
                    "value": column.get(key, ""),
                    "size": size,
                    "error": column.get("errors", {}).get(key, ""),
                }
                for index, column in enumerate(columns)
            ],
        }
        for key, (label, size) in labels.items()
    ]
    return render(
        request,
        "insurance/whatif.html",
        {
            "budget": budget,
            "inputs": inputs,
            "columns": list(enumerate(columns)),
            "outcomes": outcomes,
            "members": members,
            "tiers": tiers,
            "error": error,
        },
    )


# --- members' settlement tiers ----------------------------------------------------------------------------


@insurance_view
@require_http_methods(["GET", "POST"])
def member_tiers(request: HttpRequest, public_id: str) -> HttpResponse:
    """Each member's settlement tier: the default from the institution, the one an officer chose (editable by
    insurance officers; "" returns a member to its default)."""
    budget = selectors.budget_get(request.user, public_id)
    may_manage = budget.access == selectors.ACCESS_MANAGE  # type: ignore[attr-defined]
    latest = selectors.latest_settlement(budget)
    frozen = selectors.frozen_settlement(budget, latest)
    rows = selectors.member_tiers(budget)
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        require(may_manage)
        posted = {
            key.removeprefix("tier-"): value for key, value in request.POST.items() if key.startswith("tier-")
        }
        try:
            changed = services.member_tiers_set(actor=request.user, budget=budget, tiers=posted)
            if changed:
                messages.success(request, _("已更新%(n)s家成员单位的结算层级") % {"n": len(changed)})
            else:
                messages.info(request, _("结算层级没有变化"))
            return redirect("insurance:member_tiers", budget.public_id)
        except Invalid as error:
            errors = error.as_text()
    return render(
        request,
        "insurance/member_tiers.html",
        {
            "budget": budget,
            "rows": [
                {
                    "row": row,
                    "selected": posted.get(str(row.institution_public_id), row.recorded_tier),
                    "default_label": SettlementTier(row.default_tier).label,
                    "tier_label": SettlementTier(row.tier).label,
                }
                for row in rows
            ],
            "tiers": SettlementTier.choices,
            "errors": errors,
            "may_manage": may_manage and frozen is None,
            "frozen": frozen,
            "reopened": selectors.reopened_settlement(budget, latest),
        },
    )


# --- settlements ----------------------------------------------------------------------------------------


@insurance_view
@require_POST
@return_to("insurance:rules")  # a Conflict: the rules page, which shows the version now in force
def settlement_freeze(request: HttpRequest, public_id: str) -> HttpResponse:
    """Freeze the settlement under the chosen rule as the next version (confirmed on the rules page)."""
    budget = selectors.budget_get(request.user, public_id, level=selectors.ACCESS_MANAGE)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("请勾选确认后再冻结结算"))
        return redirect("insurance:rules", budget.public_id)
    rule = selectors.rule_get(budget, request.POST.get("rule", ""))
    seen = request.POST.get("latest", "")
    try:
        settlement = services.settlement_freeze(
            actor=request.user,
            budget=budget,
            rule=rule,
            # The latest version the page showed: a freeze by someone else since answers 409.
            expected_latest=int(seen) if seen.isdigit() else None,
            # When the page read the chosen rule: an edit of its parameters since answers 409 too.
            rule_seen=_posted_time(request.POST.get(f"rule_at_{rule.public_id}", "")),
        )
    except Invalid as error:
        messages.error(request, str(error.message))
        return redirect("insurance:rules", budget.public_id)
    if settlement.version > 1:
        messages.success(
            request,
            _("结算已冻结为第%(v)s版，取代第%(old)s版")
            % {"v": settlement.version, "old": settlement.version - 1},
        )
    else:
        messages.success(request, _("结算已冻结为第%(v)s版") % {"v": settlement.version})
    return redirect("insurance:settlement", settlement.public_id)


def _posted_time(value: str) -> datetime.datetime | None:
    """A timestamp a page posted back (ISO 8601, as it rendered it); None when missing or garbled."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


@insurance_view
@require_GET
def settlement_list(request: HttpRequest, public_id: str) -> HttpResponse:
    """The budget's frozen settlement versions."""
    budget = selectors.budget_get(request.user, public_id, level=selectors.ACCESS_MEMBER)
    page = paginate(request, selectors.settlement_list(budget))
    latest = selectors.latest_version(budget)
    for row in page.object_list:
        row.status_label = SettlementStatus(selectors.settlement_status(row, latest)).label
    return render(request, "insurance/settlement_list.html", {"budget": budget, "page_obj": page})


@insurance_view
@require_GET
def settlement_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One frozen settlement: figures, rule parameters, shares (own only for member administrators), where
    the version stands and, for insurance officers on the version in force, the reopen form."""
    return _settlement_page(request, selectors.settlement_get(request.user, public_id))


@insurance_view
@require_POST
def settlement_reopen(request: HttpRequest, public_id: str) -> HttpResponse:
    """Reopen the settlement in force for a correction, with a reason (insurance officers).

    A missing or too long reason shows the page again with the error at the field and the text kept; a
    reopen over a newer state (reopened or frozen again meanwhile) answers 409 with the reason kept.
    """
    settlement = selectors.settlement_get(request.user, public_id)
    require(settlement.access == selectors.ACCESS_MANAGE)  # type: ignore[attr-defined]
    reason = request.POST.get("reason", "")
    try:
        services.settlement_reopen(actor=request.user, settlement=settlement, reason=reason)
    except Invalid as error:
        return _settlement_page(request, settlement, reason=reason, errors=error.as_text())
    except Conflict as error:
        fresh = selectors.settlement_get(request.user, public_id)
        return _settlement_page(request, fresh, reason=reason, conflict=str(error.message), status=409)
    messages.success(
        request,
        _("第%(v)s版结算已重新开放：预算和成员结算层级可以更正，更正后请重新冻结结算。")
        % {"v": settlement.version},
    )
    return redirect("insurance:budget", settlement.budget.public_id)


def _settlement_page(
    request: HttpRequest,
    settlement: Any,
    *,
    reason: str = "",
    errors: dict[str, list[str]] | None = None,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    """The settlement page, with the reopen form's typed reason, its errors or a conflict when posted."""
    latest = selectors.latest_version(settlement.budget)
    state = selectors.settlement_status(settlement, latest)
    figures = settlement.figures
    shares = list(selectors.settlement_shares(request.user, settlement))
    recorded = selectors.tiers_recorded(settlement)
    for share in shares:
        share.tier_recorded = share.institution_id in recorded  # type: ignore[attr-defined]
    return render(
        request,
        "insurance/settlement_detail.html",
        {
            "settlement": settlement,
            "budget": settlement.budget,
            "shares": shares,
            "full": selectors.settlement_is_full(settlement),
            "parameters": figures.get("parameters", {}),
            "spent_by_place": [
                (ProviderPlace(place).label if place in ProviderPlace.values else place, amount)
                for place, amount in figures.get("spent_by_place", {}).items()
            ],
            "status": state,
            "status_label": SettlementStatus(state).label,
            "latest_version": latest,
            "may_reopen": settlement.access == selectors.ACCESS_MANAGE and state == SettlementStatus.IN_FORCE,
            "reason": reason,
            "reason_max": services.REOPEN_REASON_MAX,
            "errors": errors or {},
            "conflict": conflict,
        },
        status=status,
    )


@insurance_view
@require_GET
def settlement_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The settlement report as PDF."""
    settlement = selectors.settlement_get(request.user, public_id)
    shares = list(selectors.settlement_shares(request.user, settlement))
    return _download(
        documents.settlement_pdf(
            settlement,
            shares,
            full=selectors.settlement_is_full(settlement),
            superseded=selectors.settlement_supersession(settlement),
        ),
        f"settlement-v{settlement.version}.pdf",
        "application/pdf",
    )


@insurance_view
@require_GET
def settlement_xlsx(request: HttpRequest, public_id: str) -> HttpResponse:
    """The settlement report as Excel (summary, monthly, shares; a member administrator's: summary, own share)."""
    settlement = selectors.settlement_get(request.user, public_id)
    shares = list(selectors.settlement_shares(request.user, settlement))
    monthly = selectors.settlement_monthly(settlement) if selectors.settlement_is_full(settlement) else None
    return _download(
        documents.settlement_workbook(
            settlement, shares, monthly, superseded=selectors.settlement_supersession(settlement)
        ),
        f"settlement-v{settlement.version}.xlsx",
        XLSX,
    )


# --- claims -----------------------------------------------------------------------------------------------


def _claim_filters(request: HttpRequest) -> selectors.ClaimFilters:
    def number(name: str) -> int | None:
        value = request.GET.get(name, "")
        return int(value) if value.isdigit() else None

    return selectors.ClaimFilters(
        year=number("year"),
        month=number("month"),
        place=request.GET.get("place", "") if request.GET.get("place") in ProviderPlace.values else "",
        kind=request.GET.get("kind", "") if request.GET.get("kind") in ClaimKind.values else "",
        provider=request.GET.get("provider", "").strip()[:100],
    )


@insurance_view
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """Claim rows with masked names for insurance officers and regulators; everyone else goes to aggregates."""
    if not selectors.can_read_any_claim_rows(request.user):
        return redirect(
            reverse("insurance:claim_aggregates") + ("?" + request.GET.urlencode() if request.GET else "")
        )
    filters = _claim_filters(request)
    page = paginate(request, selectors.claims_visible_to(request.user, filters), capped=True)
    for claim in page.object_list:
        claim.person_label = mask_name(claim.person.name)
    return render(
        request,
        "insurance/claim_list.html",
        {
            "page_obj": page,
            "filters": filters,
            "places": ProviderPlace.choices,
            "kinds": ClaimKind.choices,
            "may_mark": selectors.can_mark_unreasonable(request.user),
        },
    )


@insurance_view
@require_GET
def claim_aggregates(request: HttpRequest) -> HttpResponse:
    """Claim totals by month and destination (no personal data)."""
    filters = _claim_filters(request)
    rows = selectors.claim_aggregates(request.user, filters)
    for row in rows:
        row["place_label"] = ProviderPlace(row["provider_place"]).label
    return render(
        request,
        "insurance/claim_aggregates.html",
        {"rows": rows, "filters": filters, "places": ProviderPlace.choices, "kinds": ClaimKind.choices},
    )


@insurance_view
@require_POST
def claim_mark(request: HttpRequest, source_record_id: str) -> HttpResponse:
    """Record a claim's unreasonable amount and reason (insurance officers)."""
    claim = selectors.claim_get_for_marking(request.user, source_record_id)
    try:
        services.claim_mark_unreasonable(
            actor=request.user,
            claim=claim,
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("已记录不合理费用"))
    except Invalid as error:
        messages.error(request, invalid_message(error))
    # Back to the filtered list the form was on; a ``next`` naming another site is not followed.
    return redirect(local_page(request, request.POST.get("next", "")) or reverse("insurance:claims"))


urlpatterns: list[URLPattern] = [
    path("budgets/", budget_list, name="budgets"),
    path("budgets/new/", budget_form, name="budget_new"),
    path("budgets/<uuid:public_id>/", budget_detail, name="budget"),
    path("budgets/<uuid:public_id>/edit/", budget_form, name="budget_edit"),
    path("budgets/<uuid:public_id>/monthly.xlsx", budget_export, name="budget_export"),
    path("budgets/<uuid:public_id>/rules/", rule_list, name="rules"),
    path("budgets/<uuid:public_id>/rules/<uuid:rule_id>/", rule_list, name="rule_edit"),
    path("budgets/<uuid:public_id>/whatif/", whatif, name="whatif"),
    path("budgets/<uuid:public_id>/tiers/", member_tiers, name="member_tiers"),
    path("budgets/<uuid:public_id>/freeze/", settlement_freeze, name="freeze"),
    path("budgets/<uuid:public_id>/settlements/", settlement_list, name="settlements"),
    path("settlements/<uuid:public_id>/", settlement_detail, name="settlement"),
    path("settlements/<uuid:public_id>/reopen/", settlement_reopen, name="settlement_reopen"),
    path("settlements/<uuid:public_id>/report.pdf", settlement_pdf, name="settlement_pdf"),
    path("settlements/<uuid:public_id>/report.xlsx", settlement_xlsx, name="settlement_xlsx"),
    path("claims/", claim_list, name="claims"),
    path("claims/aggregates/", claim_aggregates, name="claim_aggregates"),
    path("claims/<str:source_record_id>/unreasonable/", claim_mark, name="claim_mark"),
]
