"""Insurance API: budgets (with their monthly figures, rules, what-if and settlements), settlements
(JSON, PDF, Excel), claim rows (insurance and oversight roles) and claim aggregates.

Views parse, call one selector or service with ``actor=request.user``, and render.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet, version_etag
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.insurance import calculation, documents, selectors, services
from yilian.insurance.api import serializers as s

TAGS = ["insurance"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class InsuranceApiViewSet(ServiceViewSet):
    """Base: answers 400/401/403/404/409."""

    error_statuses = (400, 401, 403, 404, 409)

    def budget(self, level: str = selectors.ACCESS_READ) -> Any:
        """The budget in the URL at ``level``."""
        return selectors.budget_get(self.actor, self.object_id(), level=level)


def _budget_data(data: dict[str, Any]) -> dict[str, Any]:
    return {
        **{key: value for key, value in data.items() if key not in ("consortium", "version")},
        "headcounts": [dict(row) for row in data.get("headcounts", [])],
        "deductions": [dict(row) for row in data.get("deductions", [])],
    }


@extend_schema(tags=TAGS)
class BudgetViewSet(InsuranceApiViewSet):
    """Global budgets (医保总额预算)."""

    serializer_class = s.BudgetSerializer

    @extend_schema(responses={200: s.BudgetSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Budgets the actor reaches."""
        rows = (
            selectors.budget_list(self.actor)
            .prefetch_related("headcounts", "deductions")
            .order_by("-year", "id")
        )
        return self.paginated(rows, s.BudgetSerializer)

    @extend_schema(request=s.BudgetWriteSerializer, responses={201: s.BudgetSerializer})
    def create(self, request: Request) -> Response:
        """Create a budget for a consortium and year (insurance officers)."""
        data = self.payload(s.BudgetWriteSerializer)
        manageable = selectors.consortia_for_budget(self.actor)
        if not manageable.exists():
            raise NotAllowed(_("只有医保专员可以配置总额预算"))
        consortium = manageable.filter(public_id=data.get("consortium")).first()
        if consortium is None:
            raise Invalid({"consortium": [_("请选择可配置的医联体")]})
        budget = services.budget_create(actor=self.actor, consortium=consortium, data=_budget_data(data))
        return self.rendered(budget, s.BudgetSerializer, status=201, headers=version_etag(budget.version))

    @extend_schema(responses={200: s.BudgetSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One budget; the ETag carries its version."""
        budget = self.budget()
        return self.rendered(budget, s.BudgetSerializer, headers=version_etag(budget.version))

    @extend_schema(request=s.BudgetWriteSerializer, responses={200: s.BudgetSerializer})
    def update(self, request: Request, public_id: str) -> Response:
        """Replace a budget; ``version`` or If-Match required, 409 when stale."""
        budget = self.budget(selectors.ACCESS_MANAGE)
        data = self.payload(s.BudgetWriteSerializer)
        version = self.expected_version(data.get("version"))
        if version is None:
            raise Invalid({"version": [_("请提供版本号（version 字段或 If-Match）")]})
        budget = services.budget_update(
            actor=self.actor, budget=budget, version=version, data=_budget_data(data)
        )
        return self.rendered(budget, s.BudgetSerializer, headers=version_etag(budget.version))

    @extend_schema(responses={200: s.MonthlySerializer})
    def monthly(self, request: Request, public_id: str) -> Response:
        """Per month: pool, spend by place, remaining, pre-payment; projection and out-of-county leak."""
        return self.rendered(selectors.budget_monthly(self.budget()), s.MonthlySerializer)


@extend_schema(tags=TAGS)
class RuleViewSet(InsuranceApiViewSet):
    """A budget's settlement rules."""

    serializer_class = s.RuleSerializer

    @extend_schema(responses={200: s.RuleSerializer(many=True)})
    def list(self, request: Request, public_id: str) -> Response:
        """The rules, the adopted one first."""
        return self.paginated(selectors.rule_list(self.budget()), s.RuleSerializer)

    @extend_schema(request=s.RuleSerializer, responses={201: s.RuleSerializer})
    def create(self, request: Request, public_id: str) -> Response:
        """Add a rule (``preset`` 6:3:1 or 4:3:3 fills the parts)."""
        budget = self.budget(selectors.ACCESS_MANAGE)
        rule = services.settlement_rule_save(
            actor=self.actor, budget=budget, data=self.payload(s.RuleSerializer)
        )
        return self.rendered(rule, s.RuleSerializer, status=201)


@extend_schema(tags=TAGS)
class MemberTierViewSet(InsuranceApiViewSet):
    """The members' settlement tiers of a budget (结算层级)."""

    serializer_class = s.MemberTierListSerializer

    @extend_schema(responses={200: s.MemberTierListSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """Every active member with its default and recorded tier (budget readers)."""
        return self.rendered({"tiers": selectors.member_tiers(self.budget())}, s.MemberTierListSerializer)

    @extend_schema(request=s.MemberTierWriteSerializer, responses={200: s.MemberTierListSerializer})
    def update(self, request: Request, public_id: str) -> Response:
        """Record the listed members' tiers (insurance officers); all or nothing."""
        budget = self.budget(selectors.ACCESS_MANAGE)
        data = self.payload(s.MemberTierWriteSerializer)
        tiers: dict[str, Any] = {}
        for row in data["tiers"]:
            key = str(row["institution"])
            if key in tiers:
                raise Invalid({"tiers": [_("成员重复：%(key)s") % {"key": key}]})
            tiers[key] = row.get("tier")
        services.member_tiers_set(actor=self.actor, budget=budget, tiers=tiers)
        return self.rendered({"tiers": selectors.member_tiers(budget)}, s.MemberTierListSerializer)


def _scores(raw: dict[str, Any] | None) -> dict[int, Decimal]:
    try:
        return {int(key): Decimal(value) for key, value in (raw or {}).items()}
    except ValueError:
        raise Invalid({"scores": [_("考核得分的键须为机构编号")]}) from None


@extend_schema(tags=TAGS)
class WhatIfViewSet(InsuranceApiViewSet):
    """Compare settlement rules over one set of aggregates."""

    serializer_class = s.WhatIfOutcomeSerializer

    @extend_schema(request=s.WhatIfRequestSerializer, responses={200: s.WhatIfOutcomeSerializer(many=True)})
    def create(self, request: Request, public_id: str) -> Response:
        """Each parameter set's outcome: pool, result, tier totals, each member's amount."""
        budget = self.budget()
        data = self.payload(s.WhatIfRequestSerializer)
        parameters = []
        for index, row in enumerate(data["rules"]):
            if not (row["lead_parts"] + row["township_parts"] + row["village_parts"]):
                raise Invalid({"rules": [_("第%(n)s组的份数不能全为0") % {"n": index + 1}]})
            parameters.append(
                calculation.Parameters(
                    name=row.get("name") or f"#{index + 1}", **{k: v for k, v in row.items() if k != "name"}
                )
            )
        outcomes = selectors.whatif_compare(budget, parameters, _scores(data.get("scores")))
        return Response(s.WhatIfOutcomeSerializer(outcomes, many=True).data)


@extend_schema(tags=TAGS)
class SettlementViewSet(InsuranceApiViewSet):
    """Frozen settlements (年度结算)."""

    serializer_class = s.SettlementSerializer

    @extend_schema(responses={200: s.SettlementSummarySerializer(many=True)})
    def list(self, request: Request, public_id: str) -> Response:
        """The budget's versions, newest first."""
        budget = self.budget(selectors.ACCESS_MEMBER)
        rows = selectors.settlement_list(budget)
        return self.paginated(
            rows,
            s.SettlementSummarySerializer,
            full=budget.access != selectors.ACCESS_MEMBER,
            latest_version=selectors.latest_version(budget),
        )

    @extend_schema(request=s.FreezeSerializer, responses={201: s.SettlementSerializer})
    def create(self, request: Request, public_id: str) -> Response:
        """Freeze the settlement under a rule as the next version (insurance officers)."""
        budget = self.budget(selectors.ACCESS_MANAGE)
        data = self.payload(s.FreezeSerializer)
        try:
            rule = selectors.rule_get(budget, data["rule"])
        except NotFound as error:
            raise Invalid({"rule": [str(error.message)]}) from error
        settlement = services.settlement_freeze(
            actor=self.actor,
            budget=budget,
            rule=rule,
            scores=_scores(data.get("scores")),
            expected_latest=data.get("expected_latest_version"),
        )
        settlement.access = selectors.ACCESS_MANAGE  # type: ignore[attr-defined]
        shares = list(selectors.settlement_shares(self.actor, settlement))
        return self.rendered(settlement, s.SettlementSerializer, status=201, shares=shares)

    @extend_schema(responses={200: s.SettlementSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One settlement with the shares the actor may read."""
        settlement = selectors.settlement_get(self.actor, self.object_id())
        shares = list(selectors.settlement_shares(self.actor, settlement))
        return self.rendered(settlement, s.SettlementSerializer, shares=shares)

    @extend_schema(request=s.ReopenSerializer, responses={200: s.SettlementSerializer})
    def reopen(self, request: Request, public_id: str) -> Response:
        """Reopen the settlement in force for a correction, with a reason (insurance officers).

        The version stays as history with its figures; the budget's figures become editable and the corrected
        settlement is frozen as the next version. 409 when a later version exists or it is already reopened.
        """
        settlement = selectors.settlement_get(self.actor, self.object_id())
        data = self.payload(s.ReopenSerializer)
        settlement = services.settlement_reopen(
            actor=self.actor, settlement=settlement, reason=data["reason"]
        )
        shares = list(selectors.settlement_shares(self.actor, settlement))
        return self.rendered(settlement, s.SettlementSerializer, shares=shares)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="结算报告 PDF")}
    )
    def pdf(self, request: Request, public_id: str) -> HttpResponse:
        """The settlement report as PDF."""
        settlement = selectors.settlement_get(self.actor, self.object_id())
        shares = list(selectors.settlement_shares(self.actor, settlement))
        content = documents.settlement_pdf(
            settlement,
            shares,
            full=selectors.settlement_is_full(settlement),
            superseded=selectors.settlement_supersession(settlement),
        )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="settlement-v{settlement.version}.pdf"'
        return response

    @extend_schema(
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="结算报告 Excel")}
    )
    def xlsx(self, request: Request, public_id: str) -> HttpResponse:
        """The settlement report as Excel (summary, monthly, shares)."""
        settlement = selectors.settlement_get(self.actor, self.object_id())
        shares = list(selectors.settlement_shares(self.actor, settlement))
        full = selectors.settlement_is_full(settlement)
        monthly = selectors.settlement_monthly(settlement) if full else None
        content = documents.settlement_workbook(
            settlement, shares, monthly, superseded=selectors.settlement_supersession(settlement)
        )
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="settlement-v{settlement.version}.xlsx"'
        return response


def _filters(params: dict[str, Any]) -> selectors.ClaimFilters:
    return selectors.ClaimFilters(
        year=params.get("year"),
        month=params.get("month"),
        place=params.get("place", ""),
        kind=params.get("kind", ""),
        provider=params.get("provider", ""),
    )


@extend_schema(tags=TAGS)
class ClaimViewSet(InsuranceApiViewSet):
    """Insurance settlement records: rows for insurance and oversight roles (403 for others), aggregates."""

    serializer_class = s.ClaimSerializer

    @extend_schema(parameters=[s.ClaimQuerySerializer], responses={200: s.ClaimSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Claim rows with masked names."""
        rows = selectors.claims_visible_to(self.actor, _filters(self.query(s.ClaimQuerySerializer)))
        return self.paginated(rows, s.ClaimSerializer)

    @extend_schema(
        parameters=[s.ClaimQuerySerializer], responses={200: s.ClaimAggregateSerializer(many=True)}
    )
    def aggregates(self, request: Request) -> Response:
        """Totals by year, month and place (no personal data)."""
        rows = selectors.claim_aggregates(self.actor, _filters(self.query(s.ClaimQuerySerializer)))
        return Response(s.ClaimAggregateSerializer(rows, many=True).data)

    @extend_schema(request=s.MarkUnreasonableSerializer, responses={200: s.ClaimSerializer})
    def mark(self, request: Request, source_record_id: str) -> Response:
        """Record a claim's unreasonable amount (insurance officers)."""
        claim = selectors.claim_get_for_marking(self.actor, source_record_id)
        data = self.payload(s.MarkUnreasonableSerializer)
        claim = services.claim_mark_unreasonable(
            actor=self.actor, claim=claim, amount=data["amount"], reason=data.get("reason", "")
        )
        return self.rendered(claim, s.ClaimSerializer)
