"""Referral API: referrals and their workflow actions, files, closed-loop duties, the down-referral
worklist, receivers, reserved capacity, consortium configuration, statistics and documents.

Every action carries the referral ``version`` the client saw, as
``expected_version`` in the body or an ``If-Match`` header; a stale version
answers 409. Responses carry the new version in ``ETag``. Who may do what
is decided by the services (``referrals.policies`` and the workflow table);
the views parse, call one service or selector, and render.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.pagination import KeysFirstPagination
from yilian.core.api.schema import ErrorSerializer
from yilian.core.api.views import PassthroughRenderer, ServiceViewSet, pick, version_etag
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.institutions import selectors as registry
from yilian.people.choices import InsuranceScheme
from yilian.referrals import documents, policies, selectors, services
from yilian.referrals.api import serializers as s
from yilian.referrals.api.serializers import ReferralDetailSerializer, ReferralSerializer
from yilian.referrals.choices import KIND_CAPACITY
from yilian.referrals.models import Referral, ReferralCriterion

REFERRALS = ["referrals"]
CONFIGURATION = ["referral configuration"]
STATISTICS = ["referral statistics"]
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='转诊单版本号（如 "3"），与 expected_version 等效；版本已变化时返回 409',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="客户端生成的唯一键（最长 64 个字符）。同一用户用同一键重试时返回第一次创建的转诊单（200），不会重复创建",
)
PREFER = OpenApiParameter(
    "Prefer",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="return=minimal（RFC 7240）只返回转诊单号、状态和版本（ReferralState），"
    "省去完整详情；响应头 Preference-Applied 确认。默认返回完整详情",
)
WRITTEN = PolymorphicProxySerializer(
    component_name="ReferralWritten",
    serializers=[ReferralDetailSerializer, s.ReferralStateSerializer],
    resource_type_field_name=None,
)
"""What a write answers: the detail, or the state alone under ``Prefer: return=minimal``."""
CONFLICT = {409: ErrorSerializer}
IDEMPOTENCY_KEY_MAX = 64
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PdfRenderer(PassthroughRenderer):
    """Lets a client ask for ``application/pdf``; errors still render as JSON."""

    media_type = "application/pdf"
    format = "pdf"


class XlsxRenderer(PassthroughRenderer):
    """Lets a client ask for an .xlsx workbook; errors still render as JSON."""

    media_type = XLSX
    format = "xlsx"


def _download(content: bytes, content_type: str, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class ReferralApiViewSet(ServiceViewSet):
    """Base of the referral endpoints: only users with some view of referrals get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users with no role that reads referrals."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_referrals(self.actor):
            raise NotAllowed("referrals")

    def referral(self, kwarg: str = "public_id") -> Referral:
        """The visible referral named in the URL."""
        return selectors.referral_get_for(self.actor, self.object_id(kwarg))

    def wants_minimal(self) -> bool:
        """Whether the client sent ``Prefer: return=minimal`` (RFC 7240) with a write."""
        if self.request.method == "GET":
            return False
        preferences = self.request.headers.get("Prefer", "")
        return any(part.strip().lower() == "return=minimal" for part in preferences.split(","))

    def render_referral(
        self, public_id: Any, *, status: int = 200, fetched: Referral | None = None
    ) -> Response:
        """The referral's detail as the requester sees it, with its version in ``ETag``; its state only
        (ReferralState) when the client prefers ``return=minimal``.

        ``fetched`` is the referral as a service just returned it (with its ends loaded), which
        spares reading it again.
        """
        if fetched is None:
            fetched = selectors.referral_get_for(self.actor, public_id, related=not self.wants_minimal())
        referral = fetched
        if self.wants_minimal():
            headers = {**version_etag(referral.version), "Preference-Applied": "return=minimal"}
            return self.rendered(referral, s.ReferralStateSerializer, status=status, headers=headers)
        sees_patient = policies.sees_patient(self.actor, referral)
        attachments = list(selectors.referral_attachments(referral)) if sees_patient else []
        return self.rendered(
            referral,
            ReferralDetailSerializer,
            status=status,
            headers=version_etag(referral.version),
            timeline=selectors.referral_timeline_for(self.actor, referral),
            attachments=attachments,
            attachment_kinds=selectors.attachment_kinds(referral, attachments if sees_patient else None),
            follow_up_tasks=list(selectors.follow_up_tasks(referral)),
        )


# Referrals ----------------------------------------------------------------------------------------


@extend_schema(tags=REFERRALS)
class ReferralViewSet(ReferralApiViewSet):
    """Referrals the requester sends, receives or oversees."""

    serializer_class = ReferralSerializer
    # A page is read keys first: the rows are wide and joined to both ends, and the inbox's priority
    # order would otherwise sort every received referral with its joins before the limit.
    pagination_class = KeysFirstPagination

    @extend_schema(parameters=[s.ReferralQuerySerializer], responses={200: ReferralSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible referrals. ``box=inbox`` (received, most urgent and soonest due first; the requester's
        own departments unless ``scope=institution``), ``outbox`` (sent) or ``all``; filters by status, direction, priority, open, consortium, institution,
        department, submission dates and a search term."""
        params = self.query(s.ReferralQuerySerializer)
        filters = selectors.ReferralFilters(
            box=params["box"],
            scope=params["scope"],
            status=params.get("status", ""),
            direction=params.get("direction", ""),
            priority=params.get("priority", ""),
            open_only=params["open"],
            query=params.get("q", ""),
            institution_id=params["institution"].pk if params.get("institution") else None,
            department_id=params["department"].pk if params.get("department") else None,
            consortium_id=params["consortium"].pk if params.get("consortium") else None,
            submitted_from=params.get("from"),
            submitted_to=params.get("to"),
        )
        return self.paginated(selectors.referral_list(self.actor, filters), ReferralSerializer)

    @extend_schema(
        request=s.ReferralCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, PREFER],
        responses={201: WRITTEN, 200: WRITTEN},
    )
    def create(self, request: Request) -> Response:
        """Write a referral as a draft of the sender's institution (``submit: true`` sends it at once).

        201 with the new referral; 200 with the first one when an ``Idempotency-Key`` the requester
        already used is sent again (nothing is created twice).
        """
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise Invalid(
                {
                    "Idempotency-Key": [
                        _("Idempotency-Key 不能超过 {n} 个字符。").format(n=IDEMPOTENCY_KEY_MAX)
                    ]
                }
            )
        data = self.payload(s.ReferralCreateSerializer)
        referral, created = services.referral_create(actor=self.actor, idempotency_key=key, **data)
        # The minimal answer needs only the row the service returned; the full detail reads it again
        # with its ends, timeline and files.
        fetched = referral if self.wants_minimal() else None
        return self.render_referral(referral.public_id, status=201 if created else 200, fetched=fetched)

    @extend_schema(responses={200: ReferralDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One referral: content, criteria check, booking, outcome, timeline, files, duties and the
        actions the requester may take now; ``ETag`` carries its version."""
        return self.render_referral(self.object_id())

    @extend_schema(
        request=s.ReferralUpdateSerializer, parameters=[IF_MATCH, PREFER], responses={200: WRITTEN}
    )
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a draft (its sender); 409 once it was submitted or when the version is stale."""
        referral = self.referral()
        data = self.payload(s.ReferralUpdateSerializer, partial=True)
        expected = self.expected_version(data.pop("expected_version", None))
        services.referral_update(actor=self.actor, referral=referral, expected_version=expected, **data)
        return self.render_referral(referral.public_id)

    @extend_schema(responses={200: s.CriteriaCheckSerializer})
    def check(self, request: Request, public_id: str) -> Response:
        """How the referral stands against its consortium's criteria catalogue now: the matching rule
        and its triggers, whether it is met, material completeness, what is missing and whether that
        blocks submission (what the doctor checks before submitting a draft)."""
        referral = self.referral()
        return self.rendered(services.referral_check(referral), s.CriteriaCheckSerializer)

    @extend_schema(
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer},
    )
    def attach(self, request: Request, public_id: str) -> Response:
        """Attach a file (multipart: ``material``, ``file``): either end while the referral is open,
        the sender also on a draft."""
        referral = self.referral()
        data = self.payload(s.AttachmentUploadSerializer)
        attachment = services.referral_attach(
            actor=self.actor, referral=referral, material=data["material"], upload=data["file"]
        )
        return self.rendered(attachment, s.AttachmentSerializer, status=201)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description="The printable referral slip with a QR code that opens the referral; for the doctors, "
        "nurses, referral coordinators and administrators of the two ends (403 for technicians and for "
        "readers who may not see the patient).",
    )
    def slip(self, request: Request, public_id: str) -> HttpResponse:
        """The referral slip (PDF)."""
        referral = self._for_patient_readers()
        verify_url = request.build_absolute_uri(f"/referrals/{referral.public_id}/")
        pdf = documents.referral_slip_pdf(referral, verify_url=verify_url)
        return _download(pdf, "application/pdf", f"{referral.number}.pdf", inline=True)

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="The referral as the WS 445.16-2014 转诊（院）记录 data set (data elements with their "
        "DE identifiers); for the doctors, nurses, referral coordinators and administrators of the two ends.",
    )
    def ws445(self, request: Request, public_id: str) -> Response:
        """The WS 445.16 data set (JSON)."""
        referral = self._for_patient_readers()
        return Response(documents.referral_ws445(referral), headers={"Cache-Control": "no-store"})

    def _for_patient_readers(self) -> Referral:
        referral = self.referral()
        if not policies.can_print(self.actor, referral):
            raise NotAllowed(_("只有转诊双方的医护人员和管理员可以导出患者资料。"))
        return referral


class ReferralActionViewSet(ReferralApiViewSet):
    """One workflow action on a referral (subclassed per action below)."""

    serializer_class = ReferralDetailSerializer
    workflow_action = ""
    body_serializer: type[serializers.Serializer] = s.NoteActionSerializer

    def act(self, request: Request, public_id: str) -> Response:
        """Take the action; answer the referral as it now stands."""
        referral = selectors.referral_get_for(self.actor, self.object_id("public_id"), related=False)
        # Shape only (partial): the workflow table decides, after the side and the state, which
        # fields the action needs, so a reader without the right learns that first (403), not 400.
        data = self.payload(self.body_serializer, partial=True)
        expected = self.expected_version(data.pop("expected_version", None))
        result = services.referral_act(
            actor=self.actor,
            referral=referral,
            action=self.workflow_action,
            expected_version=expected,
            **data,
        )
        # A redirect returns the new referral; the answer is about the one in the URL.
        fetched = result if result.pk == referral.pk else None
        return self.render_referral(referral.public_id, fetched=fetched)


ACTIONS: tuple[tuple[str, type[serializers.Serializer], str], ...] = (
    (
        "submit",
        s.SubmitActionSerializer,
        "Send a draft (its sender). Checks the required fields and the criteria catalogue: missing "
        "materials block (400 on `materials`) or need `acknowledge_missing`; `booking` books exactly "
        "that pool of reserved places (400 when it is kept for signed residents and the patient has no "
        "contract in force, 409 when full), `booking_date` a place that day; `patient_consented` records "
        "the consent a draft lacks.",
    ),
    ("accept", s.NoteActionSerializer, "Accept a submitted referral (the receiving department)."),
    ("decline", s.ReasonActionSerializer, "Decline a submitted referral with a reason (the receiver)."),
    (
        "redirect",
        s.RedirectActionSerializer,
        "Pass a submitted referral on to another department or institution (the receiver). The "
        "referral ends as redirected and a new one is submitted to `to_department`; `redirected_to` names it.",
    ),
    (
        "schedule",
        s.ScheduleActionSerializer,
        "Set or move the appointment date (the receiver); `book` takes a reserved place that day.",
    ),
    ("arrive", s.NoteActionSerializer, "Record that the patient arrived (the receiver's staff)."),
    ("no_show", s.NoteActionSerializer, "Record that the patient did not come on the date (the receiver)."),
    (
        "complete",
        s.CompleteActionSerializer,
        "Send the result back (the receiver): outcome diagnosis, summary, discharge summary, follow-up plan.",
    ),
    ("close", s.NoteActionSerializer, "Close the loop after the result came back (the sender)."),
    ("cancel", s.ReasonActionSerializer, "Cancel a draft or a referral not yet answered (the sender)."),
    (
        "request_cancel",
        s.ReasonActionSerializer,
        "Ask the receiver to cancel an accepted or scheduled referral (the sender).",
    ),
    ("confirm_cancel", s.NoteActionSerializer, "Agree to a cancel request (the receiver)."),
    (
        "decline_cancel",
        s.ReasonActionSerializer,
        "Refuse a cancel request with a reason (the receiver); the referral goes back to where it was.",
    ),
)
"""Every user action of the workflow table: (action, body, description)."""


def _action_view(action: str, body: type[serializers.Serializer], description: str) -> type[ServiceViewSet]:
    """A view class for one action, so each has its own request schema and operation id."""

    def create(self: ReferralActionViewSet, request: Request, public_id: str) -> Response:
        return self.act(request, public_id)

    create.__doc__ = f"{action}: {description.split('.')[0]}."
    decorated = extend_schema(
        operation_id=f"referrals_{action}",
        request=body,
        parameters=[IF_MATCH, PREFER],
        responses={200: WRITTEN},
        description=description + " 403 for the wrong side or role, 409 when the referral's state does not "
        "allow the action (or the version is stale), 400 for missing or bad fields.",
    )(create)
    name = "".join(part.title() for part in action.split("_"))
    view = type(
        f"Referral{name}ViewSet",
        (ReferralActionViewSet,),
        {
            "__doc__": description,
            "__module__": __name__,
            "workflow_action": action,
            "body_serializer": body,
            "create": decorated,
        },
    )
    return extend_schema(tags=REFERRALS)(view)


ACTION_VIEWS = {action: _action_view(action, body, text) for action, body, text in ACTIONS}


@extend_schema(tags=REFERRALS)
class AttachmentViewSet(ReferralApiViewSet):
    """A file sent with a referral."""

    serializer_class = s.AttachmentSerializer

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="The file, for the staff of the two ends; 404 for everyone else.",
    )
    def download(self, request: Request, public_id: str) -> FileResponse:
        """Download an attachment."""
        attachment = selectors.attachment_get_for(self.actor, self.object_id())
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_filename or attachment.file.name.rsplit("/", 1)[-1],
        )


@extend_schema(tags=REFERRALS)
class FollowUpViewSet(ReferralApiViewSet):
    """Closed-loop duties of down-referrals: the first follow-up and the first rehabilitation record."""

    serializer_class = s.FollowUpTaskListSerializer

    @extend_schema(
        parameters=[s.FollowUpQuerySerializer], responses={200: s.FollowUpTaskListSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Duties the requester's institutions owe, soonest first; ``?overdue=1``: every overdue duty on
        referrals the requester sees (both ends see them)."""
        params = self.query(s.FollowUpQuerySerializer)
        tasks = (
            selectors.overdue_follow_ups(self.actor)
            if params["overdue"]
            else selectors.pending_follow_ups(self.actor)
        )
        return self.paginated(tasks, s.FollowUpTaskListSerializer)

    @extend_schema(request=s.FollowUpRecordSerializer, responses={200: s.FollowUpTaskListSerializer})
    def record(self, request: Request, public_id: str) -> Response:
        """Record the duty done (the receiving institution's clinicians); 409 when already recorded."""
        task = selectors.follow_up_task_get_for(self.actor, self.object_id())
        data = self.payload(s.FollowUpRecordSerializer)
        services.follow_up_record(actor=self.actor, task=task, note=data["note"])
        task = selectors.follow_up_task_get_for(self.actor, task.public_id)
        return self.rendered(task, s.FollowUpTaskListSerializer)


@extend_schema(tags=REFERRALS)
class WorklistViewSet(ReferralApiViewSet):
    """The down-referral worklist of the requester's institutions."""

    serializer_class = s.WorklistRowSerializer

    @extend_schema(
        parameters=[s.WorklistQuerySerializer], responses={200: s.WorklistRowSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Current inpatients who may go down: flagged by a doctor, or matching a down-for-rehabilitation
        rule by diagnosis and length of stay; flagged first, then the longest stays."""
        params = self.query(s.WorklistQuerySerializer)
        department = params.get("department")
        rows = selectors.down_referral_worklist(self.actor, department.pk if department else None)
        return self.paginated(rows, s.WorklistRowSerializer)


@extend_schema(tags=REFERRALS)
class ReceiverViewSet(ReferralApiViewSet):
    """Departments to suggest as receivers."""

    serializer_class = s.ReceiverSerializer

    @extend_schema(parameters=[s.ReceiverQuerySerializer], responses={200: s.ReceiverSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Clinical departments of the other members of the sender's consortia: those fitting the
        diagnosis first, the most specific first (``match``), then lead institutions first (not paginated)."""
        params = self.query(s.ReceiverQuerySerializer)
        code = params.get("diagnosis_code", "")
        departments = selectors.receiving_options(self.actor, params["from_institution"], code)
        context = {**self.get_serializer_context(), "matches": selectors.diagnosis_matches(departments, code)}
        return Response(s.ReceiverSerializer(departments, many=True, context=context).data)


@extend_schema(tags=REFERRALS)
class CapacityViewSet(ReferralApiViewSet):
    """Reserved capacity (green channel): places receiving departments keep for referrals from members."""

    serializer_class = s.CapacitySerializer

    @extend_schema(parameters=[s.CapacityQuerySerializer], responses={200: s.CapacitySerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Reserved places between two days, of one department or, by default, of the departments the
        requester may publish for."""
        params = self.query(s.CapacityQuerySerializer)
        department = params.get("department")
        if department is not None:
            department_ids = [department.pk]
        else:
            department_ids = list(selectors.capacity_departments(self.actor).values_list("pk", flat=True))
        rows = selectors.capacity_list(department_ids, params["from"], params["to"], params.get("kind", ""))
        return self.paginated(rows, s.CapacitySerializer)

    @extend_schema(request=s.CapacityPublishSerializer, responses={200: s.CapacitySerializer, **CONFLICT})
    def create(self, request: Request) -> Response:
        """Publish (or change) one day's reserved places of a department (its receiving staff and
        administrators). Lowering below what is booked is refused (400)."""
        data = self.payload(s.CapacityPublishSerializer)
        capacity = services.capacity_publish(actor=self.actor, **data)
        return self.rendered(capacity, s.CapacitySerializer)

    @extend_schema(
        parameters=[s.BookableQuerySerializer], responses={200: s.BookableDaySerializer(many=True)}
    )
    def bookable(self, request: Request) -> Response:
        """Days from today with free reserved places a referral of ``kind`` can book at the department
        (at most 30; none for emergencies, which bypass booking)."""
        params = self.query(s.BookableQuerySerializer)
        capacity_kind = KIND_CAPACITY.get(params["kind"])
        days = selectors.bookable_days(params["department"], capacity_kind) if capacity_kind else []
        return Response(s.BookableDaySerializer(days, many=True).data)


# Consortium configuration ---------------------------------------------------------------------------


@extend_schema(tags=CONFIGURATION)
class ConsortiumReferralViewSet(ReferralApiViewSet):
    """A consortium's referral configuration: criteria catalogue, settings, subsidies (its office edits)."""

    serializer_class = s.CriterionSerializer

    def _consortium(self) -> Any:
        return registry.consortium_get(self.actor, self.object_id())

    def _readable(self) -> Any:
        """The consortium, if the requester may read its configuration (its office, overseers, members' staff)."""
        consortium = self._consortium()
        if not policies.can_view_configuration(
            self.actor, consortium, selectors.consortium_member_ids(consortium)
        ):
            raise NotAllowed(_("您无权查看该医联体的转诊配置。"))
        return consortium

    @extend_schema(responses={200: s.CriterionSerializer(many=True)})
    def criteria(self, request: Request, public_id: str) -> Response:
        """The consortium's criteria catalogue, by ICD-10 code (its office, overseers and members' staff)."""
        return self.paginated(selectors.criteria_list(self._readable()), s.CriterionSerializer)

    @extend_schema(request=s.CriterionSerializer, responses={201: s.CriterionSerializer})
    def create_criterion(self, request: Request, public_id: str) -> Response:
        """Add a rule to the catalogue (the consortium office)."""
        consortium = self._consortium()
        data = self.payload(s.CriterionSerializer)
        criterion = services.criterion_create(actor=self.actor, consortium=consortium, **data)
        return self.rendered(criterion, s.CriterionSerializer, status=201)

    @extend_schema(request=s.LoadSchemeSerializer, responses={201: s.CriterionSerializer(many=True)})
    def load_scheme(self, request: Request, public_id: str) -> Response:
        """Add a shipped example scheme (``hypertension``) to the catalogue, skipping rules it already has
        by name; answers the rules added."""
        consortium = self._consortium()
        data = self.payload(s.LoadSchemeSerializer)
        created = services.criteria_load_scheme(
            actor=self.actor, consortium=consortium, scheme=data["scheme"]
        )
        return Response(s.CriterionSerializer(created, many=True).data, status=201)

    @extend_schema(responses={200: s.ReferralSettingsSerializer})
    def read_settings(self, request: Request, public_id: str) -> Response:
        """Answer deadlines per priority, arrival grace, closed-loop deadlines and grade bounds (the
        defaults until the office saves them)."""
        return self.rendered(selectors.referral_settings_for(self._readable()), s.ReferralSettingsSerializer)

    @extend_schema(request=s.ReferralSettingsSerializer, responses={200: s.ReferralSettingsSerializer})
    def update_settings(self, request: Request, public_id: str) -> Response:
        """Replace the settings (the consortium office)."""
        consortium = self._consortium()
        data = self.payload(s.ReferralSettingsSerializer)
        saved = services.referral_settings_update(
            actor=self.actor,
            consortium=consortium,
            **{key: _plain(value) for key, value in data.items()},
        )
        return self.rendered(saved, s.ReferralSettingsSerializer)

    @extend_schema(responses={200: s.SubsidiesSerializer})
    def subsidies(self, request: Request, public_id: str) -> Response:
        """The deductible difference subsidy per completed admitting referral (住院, 急诊; up or down, inside the
        consortium), for each insurance scheme that gets one."""
        return Response(_subsidies(self._readable()))

    @extend_schema(request=s.SubsidiesSerializer, responses={200: s.SubsidiesSerializer})
    def update_subsidies(self, request: Request, public_id: str) -> Response:
        """Set the listed schemes' amounts (the consortium office); all or none are saved."""
        consortium = self._consortium()
        data = self.payload(s.SubsidiesSerializer)
        with transaction.atomic():
            for row in data["subsidies"]:
                services.subsidy_set(
                    actor=self.actor,
                    consortium=consortium,
                    insurance_scheme=row["insurance_scheme"],
                    amount=row["amount"],
                )
        return Response(_subsidies(consortium))


SUBSIDISED_SCHEMES = (InsuranceScheme.RESIDENT, InsuranceScheme.EMPLOYEE)


def _subsidies(consortium: Any) -> dict[str, Any]:
    amounts = {row.insurance_scheme: row.amount for row in selectors.subsidy_list(consortium)}
    rows = [
        {"insurance_scheme": scheme, "amount": amounts.get(scheme, Decimal("0"))}
        for scheme in SUBSIDISED_SCHEMES
    ]
    return dict(s.SubsidiesSerializer({"subsidies": rows}).data)


def _plain(value: Any) -> Any:
    """Nested serializer data as plain dicts and lists (stored as JSON)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@extend_schema(tags=CONFIGURATION)
class CriterionViewSet(ReferralApiViewSet):
    """One rule of a criteria catalogue."""

    serializer_class = s.CriterionSerializer

    def _criterion(self) -> ReferralCriterion:
        # referrals.selectors has no lookup by id yet: find the rule, then apply the catalogue's
        # read policy (its office, overseers, members' staff); others get 404, as for an unknown id.
        criterion = pick(
            ReferralCriterion.objects.select_related("consortium__region"), public_id=self.object_id()
        )
        consortium = criterion.consortium
        if not policies.can_view_configuration(
            self.actor, consortium, selectors.consortium_member_ids(consortium)
        ):
            raise NotFound("referral_criterion")
        return criterion

    @extend_schema(responses={200: s.CriterionSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One rule."""
        return self.rendered(self._criterion(), s.CriterionSerializer)

    @extend_schema(request=s.CriterionSerializer, responses={200: s.CriterionSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a rule, or switch it off with ``is_active: false`` (the consortium office)."""
        criterion = self._criterion()
        data = self.payload(s.CriterionSerializer, partial=True)
        criterion = services.criterion_update(actor=self.actor, criterion=criterion, **data)
        return self.rendered(criterion, s.CriterionSerializer)


# Statistics -----------------------------------------------------------------------------------------


@extend_schema(tags=STATISTICS)
class StatisticsViewSet(ReferralApiViewSet):
    """Referral statistics of a consortium (its office, regulators of its region, platform admins)."""

    serializer_class = s.StatisticsSerializer
    error_statuses = (400, 401, 403)

    @extend_schema(parameters=[s.StatisticsQuerySerializer], responses={200: s.StatisticsSerializer})
    def retrieve(self, request: Request) -> Response:
        """Headline figures of the referrals submitted in the period, members' monthly up-referral rates
        and lead-hospital departments' monthly down-referral rates, graded 优/良/中/差 and ranked."""
        params = self.query(s.StatisticsQuerySerializer)
        consortium, first, last = params["consortium"], params["from"], params["to"]
        report = {
            "consortium": consortium,
            "from": first,
            "to": last,
            "summary": selectors.referral_summary(consortium, first, last),
            "up_rates": selectors.up_referral_rates(consortium, first, last),
            "down_rates": selectors.down_referral_rates(consortium, first, last),
        }
        return self.rendered(report, s.StatisticsSerializer)

    @extend_schema(
        parameters=[s.StatisticsQuerySerializer],
        responses={(200, XLSX): OpenApiTypes.BINARY},
        description="The same figures as an Excel workbook.",
    )
    def export(self, request: Request) -> HttpResponse:
        """The statistics workbook (.xlsx)."""
        params = self.query(s.StatisticsQuerySerializer)
        content = documents.statistics_workbook(params["consortium"], params["from"], params["to"])
        return _download(
            content, XLSX, f"referral-statistics-{params['from']:%Y%m%d}-{params['to']:%Y%m%d}.xlsx"
        )

    @extend_schema(parameters=[s.SubsidyQuerySerializer], responses={200: s.SubsidyReportSerializer})
    def subsidies(self, request: Request) -> Response:
        """The month's referrals that earned a deductible difference subsidy, and the total to pay."""
        params = self.query(s.SubsidyQuerySerializer)
        consortium, month = params["consortium"], params["month"].replace(day=1)
        rows = list(selectors.subsidy_report(consortium, month))
        report = {
            "consortium": consortium,
            "month": month,
            "count": len(rows),
            "total": sum((row.subsidy_amount for row in rows), Decimal("0")),
            "referrals": rows,
        }
        return self.rendered(report, s.SubsidyReportSerializer)

    @extend_schema(
        parameters=[s.SubsidyQuerySerializer],
        responses={(200, XLSX): OpenApiTypes.BINARY},
        description="The month's subsidies as an Excel workbook (masked patient names, a total row).",
    )
    def subsidies_export(self, request: Request) -> HttpResponse:
        """The subsidy workbook (.xlsx)."""
        params = self.query(s.SubsidyQuerySerializer)
        month: datetime.date = params["month"].replace(day=1)
        content = documents.subsidy_workbook(params["consortium"], month)
        return _download(content, XLSX, f"referral-subsidies-{month:%Y%m}.xlsx")
