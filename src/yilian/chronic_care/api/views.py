"""Chronic-care API: registries, cases (enrol, close, overdue), follow-ups, suggestions and the one-action
referral, and the rates. The views parse, call one selector or service with ``actor=request.user``, and
render; who may do what is decided by ``chronic_care.policies`` in the services and selectors."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.chronic_care import policies, selectors, services
from yilian.chronic_care.api import serializers as s
from yilian.chronic_care.selectors.rates import DEFINITIONS, period_of, rates, total
from yilian.core.api.views import ServiceViewSet
from yilian.core.exceptions import Invalid, NotAllowed, NotFound

TAGS = ["chronic-care"]


class ChronicApiViewSet(ServiceViewSet):
    """Base: only users with some view of chronic care get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users who read neither cases nor rates."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_chronic_care(self.actor):
            raise NotAllowed("chronic_care")

    def require_cases(self) -> None:
        """Case endpoints are for case readers (the office and the regulator read rates only)."""
        if not policies.can_see_cases(self.actor):
            raise NotAllowed("chronic_care")


@extend_schema(tags=TAGS)
class RegistryViewSet(ChronicApiViewSet):
    """The registries (病种) and their thresholds."""

    serializer_class = s.ChronicRegistrySerializer

    @extend_schema(responses={200: s.ChronicRegistrySerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Every registry, active first."""
        return self.paginated(
            selectors.registry_list(active_only=False).order_by("-is_active", "code"),
            s.ChronicRegistrySerializer,
        )

    @extend_schema(request=s.ChronicRegistryWriteSerializer, responses={201: s.ChronicRegistrySerializer})
    def create(self, request: Request) -> Response:
        """Add a registry (consortium office, platform administrator)."""
        registry = services.registry_save(actor=self.actor, **self.payload(s.ChronicRegistryWriteSerializer))
        return self.rendered(registry, s.ChronicRegistrySerializer, status=201)

    @extend_schema(responses={200: s.ChronicRegistrySerializer})
    def retrieve(self, request: Request, code: str) -> Response:
        """One registry by code."""
        return self.rendered(selectors.registry_get(code), s.ChronicRegistrySerializer)

    @extend_schema(request=s.ChronicRegistryWriteSerializer, responses={200: s.ChronicRegistrySerializer})
    def partial_update(self, request: Request, code: str) -> Response:
        """Change a registry's schedule, thresholds or sources."""
        registry = selectors.registry_get(code)
        registry = services.registry_save(
            actor=self.actor,
            registry=registry,
            **self.payload(s.ChronicRegistryWriteSerializer, partial=True),
        )
        return self.rendered(registry, s.ChronicRegistrySerializer)


@extend_schema(tags=TAGS)
class CaseViewSet(ChronicApiViewSet):
    """Cases under management (慢病管理档案) the requester reads by name."""

    serializer_class = s.ChronicCaseSerializer

    @extend_schema(
        parameters=[s.ChronicCaseQuerySerializer], responses={200: s.ChronicCaseSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible cases, newest enrolment first; filters by registry, status, team, institution, control."""
        self.require_cases()
        params = self.query(s.ChronicCaseQuerySerializer)
        cases = selectors.case_list(
            self.actor,
            registry=params.get("registry", ""),
            status=params.get("status", "active"),
            team=params.get("team"),
            institution=params.get("institution"),
            control=params.get("control", ""),
            query=params.get("q", ""),
        )
        return self.paginated(cases, s.ChronicCaseSerializer)

    @extend_schema(request=s.ChronicCaseCreateSerializer, responses={201: s.ChronicCaseSerializer})
    def create(self, request: Request) -> Response:
        """Enrol a resident (doctor of a primary institution); 409 when already under management."""
        self.require_cases()
        data = self.payload(s.ChronicCaseCreateSerializer)
        try:
            registry = selectors.registry_get(data.pop("registry"))
        except NotFound as error:
            raise Invalid({"registry": ["无此病种。"]}) from error
        case = services.case_enrol(actor=self.actor, registry=registry, **data)
        return self.rendered(
            selectors.case_get_for(self.actor, case.public_id), s.ChronicCaseSerializer, status=201
        )

    @extend_schema(responses={200: s.ChronicCaseSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One case."""
        self.require_cases()
        return self.rendered(selectors.case_get_for(self.actor, self.object_id()), s.ChronicCaseSerializer)

    @extend_schema(request=s.ChronicCaseCloseSerializer, responses={200: s.ChronicCaseSerializer})
    def close(self, request: Request, public_id: str) -> Response:
        """Close the case with a reason (moved, died, diagnosis revised, other)."""
        self.require_cases()
        case = selectors.case_get_for(self.actor, self.object_id())
        services.case_close(actor=self.actor, case=case, **self.payload(s.ChronicCaseCloseSerializer))
        return self.rendered(selectors.case_get_for(self.actor, case.public_id), s.ChronicCaseSerializer)

    @extend_schema(
        parameters=[s.ChronicOverdueQuerySerializer],
        responses={200: s.ChronicOverdueCaseSerializer(many=True)},
    )
    def overdue(self, request: Request) -> Response:
        """Active cases past their follow-up date, most overdue first (``order=-days`` least, ``name``);
        filters by registry, team, institution, village (grid). Constant query count per page."""
        self.require_cases()
        params = self.query(s.ChronicOverdueQuerySerializer)
        today = timezone.localdate()
        cases = selectors.overdue_list(
            self.actor,
            today=today,
            registry=params.get("registry", ""),
            team=params.get("team"),
            institution=params.get("institution"),
            village=params.get("village"),
            order=params["order"],
            within_days=params["within_days"],
        )
        return self.paginated(cases, s.ChronicOverdueCaseSerializer, today=today)


@extend_schema(tags=TAGS)
class FollowUpViewSet(ChronicApiViewSet):
    """Follow-up visits (随访) of visible cases."""

    serializer_class = s.ChronicFollowUpSerializer

    @extend_schema(responses={200: s.ChronicFollowUpSerializer(many=True)})
    def list(self, request: Request, public_id: str) -> Response:
        """A case's follow-ups, newest first."""
        self.require_cases()
        case = selectors.case_get_for(self.actor, self.object_id())
        return self.paginated(
            selectors.follow_up_visible_to(self.actor).filter(case=case).order_by("-visited_on", "-id"),
            s.ChronicFollowUpSerializer,
        )

    @extend_schema(request=s.ChronicFollowUpCreateSerializer, responses={201: s.ChronicFollowUpSerializer})
    def create(self, request: Request, public_id: str) -> Response:
        """Record a follow-up. Impossible values answer 400 naming the field and its range, nothing saved;
        the control status and the referral suggestion are computed."""
        self.require_cases()
        case = selectors.case_get_for(self.actor, self.object_id())
        follow_up = services.follow_up_record(
            actor=self.actor, case=case, **self.payload(s.ChronicFollowUpCreateSerializer)
        )
        return self.rendered(
            selectors.follow_up_get_for(self.actor, follow_up.public_id),
            s.ChronicFollowUpSerializer,
            status=201,
        )

    @extend_schema(responses={200: s.ChronicFollowUpSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One follow-up."""
        self.require_cases()
        return self.rendered(
            selectors.follow_up_get_for(self.actor, self.object_id()), s.ChronicFollowUpSerializer
        )

    @extend_schema(responses={200: s.ChronicFollowUpSerializer(many=True)})
    def suggestions(self, request: Request) -> Response:
        """Open referral suggestions ("建议转诊"), newest first."""
        self.require_cases()
        return self.paginated(selectors.suggestion_list(self.actor), s.ChronicFollowUpSerializer)

    @extend_schema(responses={200: s.ChronicProposalSerializer})
    def proposal(self, request: Request, public_id: str) -> Response:
        """The referral the suggestion would send, prefilled."""
        self.require_cases()
        follow_up = selectors.follow_up_get_for(self.actor, self.object_id())
        return self.rendered(selectors.referral_proposal(follow_up), s.ChronicProposalSerializer)

    @extend_schema(
        request=s.ChronicReferSerializer,
        responses={201: s.ChronicReferralResultSerializer, 409: OpenApiResponse(description="建议已处理")},
    )
    def refer(self, request: Request, public_id: str) -> Response:
        """Send the suggested referral in one action (created and submitted through the referral
        services); omitted fields take the proposal. 409 when the suggestion was already handled."""
        self.require_cases()
        follow_up = selectors.follow_up_get_for(self.actor, self.object_id())
        data = self.payload(s.ChronicReferSerializer)
        proposal = selectors.referral_proposal(follow_up)
        referral = services.suggestion_refer(
            actor=self.actor,
            follow_up=follow_up,
            to_department=data.get("to_department") or proposal.department,
            kind=data.get("kind") or proposal.kind,
            priority=data.get("priority") or proposal.priority,
            diagnosis_code=data.get("diagnosis_code") or proposal.diagnosis_code,
            diagnosis_name=data.get("diagnosis_name") or proposal.diagnosis_name,
            reason=data.get("reason") or proposal.reason,
            history=proposal.history,
            exam_results=data.get("exam_results") or proposal.exam_results,
            medications=proposal.medications,
            patient_consented=data["patient_consented"],
            acknowledge_missing=data["acknowledge_missing"],
        )
        return self.rendered(referral, s.ChronicReferralResultSerializer, status=201)

    @extend_schema(request=s.ChronicDismissSerializer, responses={200: s.ChronicFollowUpSerializer})
    def dismiss(self, request: Request, public_id: str) -> Response:
        """Decide not to refer, with the reason."""
        self.require_cases()
        follow_up = selectors.follow_up_get_for(self.actor, self.object_id())
        services.suggestion_dismiss(
            actor=self.actor, follow_up=follow_up, **self.payload(s.ChronicDismissSerializer)
        )
        return self.rendered(
            selectors.follow_up_get_for(self.actor, follow_up.public_id), s.ChronicFollowUpSerializer
        )


@extend_schema(tags=TAGS)
class RateViewSet(ChronicApiViewSet):
    """Standardised-management, control and on-time rates (aggregates, no names)."""

    serializer_class = s.ChronicRatesSerializer

    @extend_schema(parameters=[s.ChronicRateQuerySerializer], responses={200: s.ChronicRatesSerializer})
    def list(self, request: Request) -> Response:
        """Rates of a year or quarter grouped by team, institution or consortium."""
        params = self.query(s.ChronicRateQuerySerializer)
        period = period_of(params.get("year") or timezone.localdate().year, params.get("quarter"))
        rows = rates(self.actor, period=period, group=params["group"], registry=params.get("registry", ""))
        data = {
            "period": period.label,
            "start": period.start,
            "end": period.end,
            "group": params["group"],
            "rows": rows,
            "total": total(rows),
            "definitions": {key: str(value) for key, value in DEFINITIONS.items()},
        }
        return self.rendered(data, s.ChronicRatesSerializer)
