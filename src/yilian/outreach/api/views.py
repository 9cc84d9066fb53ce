"""Outreach API: dispatch batches and visits with their workflow, long-term postings and the posting
indicator, expert clinic sessions with slots and bookings, the annual report and statistics.

Views parse, call one selector or service with ``actor=request.user``, and
render; who may do what is decided by the services and selectors.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet, version_etag
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.institutions.models import Region
from yilian.outreach import policies, selectors, services
from yilian.outreach.api import serializers as s

TAGS = ["outreach"]


class OutreachApiViewSet(ServiceViewSet):
    """Base of the outreach endpoints: only users with some view of outreach get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users with no outreach role."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_outreach(self.actor):
            raise NotAllowed("outreach")


def _expert(institution_ids: set[int], public_id: Any, field: str = "expert") -> Any:
    """A staff member of the institutions, or a 400 on the field."""
    try:
        return selectors.expert_get(institution_ids, public_id)
    except NotFound as error:
        raise Invalid({field: [_("该人员不是派出单位的医务人员。")]}) from error


# Batches ------------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class BatchViewSet(OutreachApiViewSet):
    """Dispatch batches (派出批次) the requester sends, receives, travels on or oversees."""

    serializer_class = s.OutreachBatchSerializer

    def render_batch(self, public_id: Any, *, status: int = 200) -> Response:
        """The batch as the requester sees it, with its version in ``ETag``."""
        batch = selectors.batch_get_for(self.actor, public_id)
        return self.rendered(
            batch,
            s.OutreachBatchDetailSerializer,
            status=status,
            headers=version_etag(batch.version),
            timeline=list(selectors.batch_timeline(batch)),
            actions=selectors.batch_available_actions(self.actor, batch),
            may_edit_visits=selectors.may_edit_visits(self.actor, batch),
        )

    @extend_schema(
        parameters=[s.OutreachBatchQuerySerializer], responses={200: s.OutreachBatchSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible batches, newest first: ``box=sent|received|mine|all``, status, kind, period, text."""
        params = self.query(s.OutreachBatchQuerySerializer)
        filters = selectors.BatchFilters(
            box=params.get("box", "all"),
            status=params.get("status", ""),
            kind=params.get("kind", ""),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            query=params.get("q", ""),
        )
        return self.paginated(selectors.batch_list(self.actor, filters), s.OutreachBatchSerializer)

    @extend_schema(request=s.OutreachBatchCreateSerializer, responses={201: s.OutreachBatchDetailSerializer})
    def create(self, request: Request) -> Response:
        """Record a planned batch from the sending institution to a member (its administrator or expert)."""
        data = self.payload(s.OutreachBatchCreateSerializer)
        batch = services.batch_create(actor=self.actor, **data)
        return self.render_batch(batch.public_id, status=201)

    @extend_schema(responses={200: s.OutreachBatchDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One batch with its visits, timeline and the actions the requester may take now."""
        return self.render_batch(self.object_id())

    @extend_schema(request=s.OutreachVisitWriteSerializer, responses={201: s.OutreachBatchDetailSerializer})
    def add_visit(self, request: Request, public_id: str) -> Response:
        """Add an expert's work (expert, kind, date, workload, findings) while the batch is not confirmed."""
        batch = selectors.batch_get_for(self.actor, self.object_id())
        data = self.payload(s.OutreachVisitWriteSerializer)
        expected = self.expected_version(data.pop("expected_version", None))
        if "expert" not in data:
            raise Invalid({"expert": [_("请选择专家。")]})
        data["expert"] = _expert({batch.sending_institution_id}, data["expert"])
        services.visit_add(actor=self.actor, batch=batch, expected_version=expected, **data)
        return self.render_batch(batch.public_id, status=201)

    @extend_schema(
        operation_id="outreach_batches_act",
        request=s.OutreachBatchActionSerializer,
        parameters=[
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=["complete", "confirm", "return", "cancel"],
            )
        ],
        responses={200: s.OutreachBatchDetailSerializer},
    )
    def act(self, request: Request, public_id: str, action: str) -> Response:
        """``complete`` (sender), ``confirm`` / ``return`` (the member's administrator; return needs ``note``),
        ``cancel`` (sender, planned only, ``note``). 409 on a stale ``expected_version`` or a state that moved on."""
        batch = selectors.batch_get_for(self.actor, self.object_id())
        data = self.payload(s.OutreachBatchActionSerializer)
        services.batch_act(
            actor=self.actor,
            batch=batch,
            action=action,
            expected_version=self.expected_version(data.get("expected_version")),
            note=data.get("note", ""),
            summary=data.get("summary"),
        )
        return self.render_batch(batch.public_id)


@extend_schema(tags=TAGS)
class VisitViewSet(OutreachApiViewSet):
    """One visit of a batch."""

    serializer_class = s.OutreachVisitSerializer

    @extend_schema(request=s.OutreachVisitWriteSerializer, responses={200: s.OutreachVisitSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change the kind, date, workload or findings before the batch is confirmed."""
        visit = selectors.visit_get_for(self.actor, self.object_id())
        data = self.payload(s.OutreachVisitWriteSerializer, partial=True)
        expected = self.expected_version(data.pop("expected_version", None))
        if "expert" in data:
            data["expert"] = _expert({visit.batch.sending_institution_id}, data["expert"])
        visit = services.visit_update(actor=self.actor, visit=visit, expected_version=expected, **data)
        return self.rendered(visit, s.OutreachVisitSerializer)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, public_id: str) -> Response:
        """Remove a visit recorded by mistake (before confirmation)."""
        visit = selectors.visit_get_for(self.actor, self.object_id())
        services.visit_remove(actor=self.actor, visit=visit)
        return Response(status=204)


# Postings -----------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class PostingViewSet(OutreachApiViewSet):
    """Long-term postings (派驻, ≥ 183 days)."""

    serializer_class = s.OutreachPostingSerializer

    @extend_schema(
        parameters=[s.OutreachPostingQuerySerializer], responses={200: s.OutreachPostingSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible postings, newest first; filters by status, year touched, text."""
        params = self.query(s.OutreachPostingQuerySerializer)
        rows = selectors.posting_list(
            self.actor, status=params.get("status", ""), year=params.get("year"), query=params.get("q", "")
        )
        return self.paginated(rows, s.OutreachPostingSerializer)

    @extend_schema(request=s.OutreachPostingCreateSerializer, responses={201: s.OutreachPostingSerializer})
    def create(self, request: Request) -> Response:
        """Record a planned posting (the sending institution's administrator)."""
        data = self.payload(s.OutreachPostingCreateSerializer)
        home = data["home_institution"]
        if not policies.is_sending_manager(self.actor, home.pk):
            raise NotAllowed(_("只有派出单位的管理员可以登记长期派驻。"))
        data["expert"] = _expert({home.pk}, data["expert"])
        posting = services.posting_create(actor=self.actor, **data)
        return self.rendered(
            selectors.posting_get_for(self.actor, posting.public_id), s.OutreachPostingSerializer, status=201
        )

    @extend_schema(responses={200: s.OutreachPostingSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One posting."""
        posting = selectors.posting_get_for(self.actor, self.object_id())
        return self.rendered(posting, s.OutreachPostingSerializer, headers=version_etag(posting.version))

    @extend_schema(
        operation_id="outreach_postings_act",
        request=s.OutreachPostingActionSerializer,
        parameters=[
            OpenApiParameter(
                "action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["start", "end", "cancel"]
            )
        ],
        responses={200: s.OutreachPostingSerializer},
    )
    def act(self, request: Request, public_id: str, action: str) -> Response:
        """``start`` (``date``), ``end`` (``date``; ``reason`` when before the planned end), ``cancel`` (``reason``)."""
        posting = selectors.posting_get_for(self.actor, self.object_id())
        data = self.payload(s.OutreachPostingActionSerializer)
        expected = self.expected_version(data.get("expected_version"))
        if action == "start":
            services.posting_start(
                actor=self.actor, posting=posting, actual_start=data.get("date"), expected_version=expected
            )
        elif action == "end":
            services.posting_end(
                actor=self.actor,
                posting=posting,
                actual_end=data.get("date"),
                reason=data.get("reason", ""),
                expected_version=expected,
            )
        else:
            services.posting_cancel(
                actor=self.actor, posting=posting, reason=data.get("reason", ""), expected_version=expected
            )
        return self.rendered(
            selectors.posting_get_for(self.actor, posting.public_id), s.OutreachPostingSerializer
        )


@extend_schema(tags=TAGS)
class IndicatorViewSet(OutreachApiViewSet):
    """The national posting indicator (中级及以上医师派驻人数/每万常住人口), working definition."""

    serializer_class = s.PostingIndicatorSerializer

    @extend_schema(
        parameters=[s.PostingIndicatorQuerySerializer], responses={200: s.PostingIndicatorSerializer}
    )
    def retrieve(self, request: Request) -> Response:
        """The figure for a year over a consortium (``consortium``) or a region (``region`` code), and the
        postings behind it with their days inside the year and why each counts or not."""
        params = self.query(s.PostingIndicatorQuerySerializer)
        region = None
        if params.get("region"):
            region = Region.objects.filter(code=params["region"]).first()
            if region is None:
                raise Invalid({"region": [_("区划代码不存在。")]})
            if not _may_read_region(self.actor, region):
                raise NotAllowed("outreach indicator")
        consortium = params.get("consortium")
        indicator = selectors.posting_indicator(
            self.actor, year=params["year"], consortium=consortium, region=region
        )
        rows = selectors.posting_indicator_rows(
            self.actor, year=params["year"], consortium=consortium, region=region
        )
        data = {**indicator.__dict__, "postings": rows}
        return Response(s.PostingIndicatorSerializer(data, context=self.get_serializer_context()).data)


def _may_read_region(actor: Any, region: Region) -> bool:
    """Platform admins and regulators of the region."""
    from yilian.accounts.selectors import scope_for

    scope = scope_for(actor)
    return scope.is_platform_admin or scope.covers_region(region.code, "regulator")


# Clinic sessions ------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class SessionViewSet(OutreachApiViewSet):
    """Expert clinic sessions (专家门诊) at members, with bookable slots."""

    serializer_class = s.ClinicSessionSerializer

    def render_session(self, public_id: Any, *, status: int = 200) -> Response:
        """The session with its slots; residents masked for those who may not see them."""
        session = selectors.session_get_for(self.actor, public_id)
        return self.rendered(
            session,
            s.ClinicSessionDetailSerializer,
            status=status,
            slots=selectors.session_slots(session),
            sees_patients=policies.sees_patients_of(self.actor, session),
        )

    @extend_schema(
        parameters=[s.ClinicSessionQuerySerializer], responses={200: s.ClinicSessionSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible sessions in a period, soonest first (``mine``: the requester is the expert)."""
        params = self.query(s.ClinicSessionQuerySerializer)
        rows = selectors.session_list(
            self.actor,
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            mine=params.get("mine", False),
            open_only=params.get("open", False),
        )
        return self.paginated(rows, s.ClinicSessionSerializer)

    @extend_schema(request=s.ClinicSessionCreateSerializer, responses={201: s.ClinicSessionDetailSerializer})
    def create(self, request: Request) -> Response:
        """Publish a session cut into slots (the expert, their administrator or the host's administrator)."""
        data = self.payload(s.ClinicSessionCreateSerializer)
        host = data["host_institution"]
        partners = set(selectors.partner_institutions({host.pk}).values_list("pk", flat=True))
        data["expert"] = _expert(partners, data["expert"])
        session = services.session_publish(actor=self.actor, **data)
        return self.render_session(session.public_id, status=201)

    @extend_schema(responses={200: s.ClinicSessionDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One session with its slots and bookings."""
        return self.render_session(self.object_id())

    @extend_schema(request=s.OutreachReasonSerializer, responses={200: s.ClinicSessionDetailSerializer})
    def cancel(self, request: Request, public_id: str) -> Response:
        """Cancel (停诊) with a ``reason``: every booking is cancelled and the staff who booked are notified."""
        session = selectors.session_get_for(self.actor, self.object_id())
        data = self.payload(s.OutreachReasonSerializer)
        services.session_cancel(actor=self.actor, session=session, reason=data.get("reason", ""))
        return self.render_session(session.public_id)


@extend_schema(tags=TAGS)
class BookingViewSet(OutreachApiViewSet):
    """Bookings of expert clinic slots."""

    serializer_class = s.ClinicBookingSerializer

    @extend_schema(
        parameters=[s.ClinicBookingQuerySerializer], responses={200: s.ClinicBookingSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible bookings, soonest first (``mine``: made by the requester; ``upcoming``)."""
        params = self.query(s.ClinicBookingQuerySerializer)
        rows = selectors.booking_list(
            self.actor,
            status=params.get("status", ""),
            upcoming=params.get("upcoming", False),
            mine=params.get("mine", False),
        )
        return self.paginated(rows, s.ClinicBookingSerializer)

    @extend_schema(request=s.ClinicBookingCreateSerializer, responses={201: s.ClinicBookingSerializer})
    def create(self, request: Request, public_id: str) -> Response:
        """Book a resident into the slot (host clinical staff and admins). 409 when the slot was just taken,
        the session is cancelled, or the resident already holds a slot of the session."""
        slot = selectors.slot_get_for(self.actor, self.object_id())
        data = self.payload(s.ClinicBookingCreateSerializer)
        booking = services.booking_create(
            actor=self.actor, slot=slot, person=data["person"], note=data.get("note", "")
        )
        return self.rendered(
            selectors.booking_get_for(self.actor, booking.public_id), s.ClinicBookingSerializer, status=201
        )

    @extend_schema(request=s.OutreachReasonSerializer, responses={200: s.ClinicBookingSerializer})
    def cancel(self, request: Request, public_id: str) -> Response:
        """Cancel a booking and free its slot."""
        booking = selectors.booking_get_for(self.actor, self.object_id())
        data = self.payload(s.OutreachReasonSerializer)
        services.booking_cancel(actor=self.actor, booking=booking, reason=data.get("reason", ""))
        return self.rendered(
            selectors.booking_get_for(self.actor, booking.public_id), s.ClinicBookingSerializer
        )


# Reports ------------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class ReportViewSet(OutreachApiViewSet):
    """The annual outreach report per member, as JSON or Excel."""

    serializer_class = s.OutreachReportSerializer

    @extend_schema(parameters=[s.OutreachReportQuerySerializer], responses={200: s.OutreachReportSerializer})
    def retrieve(self, request: Request) -> Response:
        """Per member (and a total row, ``institution`` empty): batches, person-times, each kind's sessions,
        patients, lectures and attendees, surgeries, supervisions and hazards, expert clinics, postings,
        and the capacity-building figures."""
        params = self.query(s.OutreachReportQuerySerializer)
        rows = selectors.annual_report(self.actor, year=params["year"], consortium=params.get("consortium"))
        columns = [{"key": key, "label": str(label)} for key, label in selectors.REPORT_COLUMNS]
        return Response(
            s.OutreachReportSerializer({"year": params["year"], "columns": columns, "rows": rows}).data
        )

    @extend_schema(
        parameters=[s.OutreachReportQuerySerializer],
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY
        },
    )
    def export(self, request: Request) -> HttpResponse:
        """The same report as an Excel workbook."""
        from yilian.outreach.documents import report_workbook

        params = self.query(s.OutreachReportQuerySerializer)
        consortium = params.get("consortium")
        rows = selectors.annual_report(self.actor, year=params["year"], consortium=consortium)
        content = report_workbook(rows, year=params["year"], title=consortium.name if consortium else "")
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="outreach-{params["year"]}-{timezone.localdate():%Y%m%d}.xlsx"'
        )
        return response


@extend_schema(tags=TAGS)
class StatisticsViewSet(OutreachApiViewSet):
    """Outreach statistics for the office."""

    serializer_class = s.OutreachStatisticsSerializer

    @extend_schema(
        parameters=[s.OutreachStatisticsQuerySerializer], responses={200: s.OutreachStatisticsSerializer}
    )
    def retrieve(self, request: Request) -> Response:
        """Batches and person-times per member, month and kind over a period."""
        params = self.query(s.OutreachStatisticsQuerySerializer)
        summary = selectors.outreach_summary(
            self.actor,
            consortium=params.get("consortium"),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
        )
        return Response(s.OutreachStatisticsSerializer(summary).data)
