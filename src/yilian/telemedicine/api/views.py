"""Teleconsultation API: teleconsultations and their workflow actions, files, experts' free times,
billing records, the consortium's fees and statistics.

Every action carries the version the client saw, as ``expected_version`` in
the body or an ``If-Match`` header; a stale version answers 409. Responses
carry the new version in ``ETag``. Who may do what is decided by the
services (``telemedicine.policies`` and the workflow table); the views
parse, call one service or selector, and render.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet, pick, version_etag
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.institutions import selectors as registry
from yilian.referrals.selectors import department_for_referral
from yilian.telemedicine import policies, selectors, services
from yilian.telemedicine.api import serializers as s
from yilian.telemedicine.models import Teleconsultation

TAGS = ["teleconsultations"]
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='会诊单版本号（如 "3"），与 expected_version 等效；版本已变化时返回 409',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="客户端生成的唯一键（最长 64 个字符）。同一用户用同一键重试时返回第一次创建的会诊单（200）",
)
PREFER = OpenApiParameter(
    "Prefer",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="return=minimal 只返回会诊单号、状态和版本（TeleconsultationState）",
)
WRITTEN = PolymorphicProxySerializer(
    component_name="TeleconsultationWritten",
    serializers=[s.TeleconsultationDetailSerializer, s.TeleconsultationStateSerializer],
    resource_type_field_name=None,
)
IDEMPOTENCY_KEY_MAX = 64


class TelemedicineApiViewSet(ServiceViewSet):
    """Base of the teleconsultation endpoints: only users with some view of them get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users with no role that reads teleconsultations."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_telemedicine(self.actor):
            raise NotAllowed("telemedicine")

    def wants_minimal(self) -> bool:
        """Whether the client sent ``Prefer: return=minimal`` with a write."""
        if self.request.method == "GET":
            return False
        preferences = self.request.headers.get("Prefer", "")
        return any(part.strip().lower() == "return=minimal" for part in preferences.split(","))

    def render_teleconsultation(self, public_id: Any, *, status: int = 200) -> Response:
        """The detail as the requester sees it, with its version in ``ETag``; the state alone under
        ``Prefer: return=minimal``."""
        minimal = self.wants_minimal()
        tc = selectors.teleconsultation_get_for(self.actor, public_id, related=not minimal)
        if minimal:
            headers = {**version_etag(tc.version), "Preference-Applied": "return=minimal"}
            return self.rendered(tc, s.TeleconsultationStateSerializer, status=status, headers=headers)
        sees = policies.sees_patient(self.actor, tc)
        return self.rendered(
            tc,
            s.TeleconsultationDetailSerializer,
            status=status,
            headers=version_etag(tc.version),
            timeline=list(selectors.teleconsultation_timeline(tc)),
            attachments=list(selectors.teleconsultation_attachments(tc)) if sees else [],
        )


@extend_schema(tags=TAGS)
class TeleconsultationViewSet(TelemedicineApiViewSet):
    """Teleconsultations the requester sends, receives, is the expert of, or oversees."""

    serializer_class = s.TeleconsultationSerializer

    @extend_schema(
        parameters=[s.TeleconsultationQuerySerializer],
        responses={200: s.TeleconsultationSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        """Visible teleconsultations: ``box=incoming`` (received, soonest first), ``outgoing`` (sent),
        ``assigned`` (the requester is the expert) or ``all``; filters by status, kind, open, consortium, text."""
        params = self.query(s.TeleconsultationQuerySerializer)
        filters = selectors.TeleconsultationFilters(
            box=params["box"],
            status=params.get("status", ""),
            kind=params.get("kind", ""),
            open_only=params["open"],
            query=params.get("q", ""),
            consortium_id=params["consortium"].pk if params.get("consortium") else None,
        )
        return self.paginated(
            selectors.teleconsultation_list(self.actor, filters), s.TeleconsultationSerializer
        )

    @extend_schema(
        request=s.TeleconsultationCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, PREFER],
        responses={201: WRITTEN, 200: WRITTEN},
    )
    def create(self, request: Request) -> Response:
        """Record the written consent and send the invitation. 201 with the new teleconsultation; 200 with
        the first one when an ``Idempotency-Key`` the requester already used is sent again."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise Invalid(
                {
                    "Idempotency-Key": [
                        _("Idempotency-Key 不能超过 {n} 个字符。").format(n=IDEMPOTENCY_KEY_MAX)
                    ]
                }
            )
        data = self.payload(s.TeleconsultationCreateSerializer)
        tc, created = services.teleconsultation_create(actor=self.actor, idempotency_key=key, **data)
        return self.render_teleconsultation(tc.public_id, status=201 if created else 200)

    @extend_schema(responses={200: s.TeleconsultationDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One teleconsultation with its timeline, files and the actions the requester may take now."""
        return self.render_teleconsultation(self.object_id())

    @extend_schema(
        request={"multipart/form-data": s.TeleconsultationAttachmentUploadSerializer},
        responses={201: s.TeleconsultationAttachmentSerializer},
    )
    def attach(self, request: Request, public_id: str) -> Response:
        """Attach a file (multipart: ``kind``, ``file``) while the teleconsultation is open."""
        tc = selectors.teleconsultation_get_for(self.actor, self.object_id())
        data = self.payload(s.TeleconsultationAttachmentUploadSerializer)
        attachment = services.teleconsultation_attach(
            actor=self.actor, teleconsultation=tc, kind=data["kind"], upload=data["file"]
        )
        return self.rendered(attachment, s.TeleconsultationAttachmentSerializer, status=201)


class TeleconsultationActionViewSet(TelemedicineApiViewSet):
    """One workflow action on a teleconsultation (subclassed per action below)."""

    serializer_class = s.TeleconsultationDetailSerializer
    workflow_action = ""
    body_serializer: type[serializers.Serializer] = s.TeleconsultationNoteSerializer

    def act(self, request: Request, public_id: str) -> Response:
        """Take the action; answer the teleconsultation as it now stands."""
        tc = selectors.teleconsultation_get_for(self.actor, self.object_id("public_id"), related=False)
        data = self.payload(self.body_serializer, partial=True)
        expected = self.expected_version(data.pop("expected_version", None))
        fields = self._resolve(tc, data)
        services.teleconsultation_act(
            actor=self.actor,
            teleconsultation=tc,
            action=self.workflow_action,
            expected_version=expected,
            **fields,
        )
        return self.render_teleconsultation(tc.public_id)

    def _resolve(self, tc: Teleconsultation, data: dict[str, Any]) -> dict[str, Any]:
        """Turn the ids of the body into objects (a bad id is a 400 on its field)."""
        if data.get("expert"):
            invited = Teleconsultation.objects.only("invited_institution_id").get(pk=tc.pk)
            try:
                data["expert"] = selectors.doctor_of(invited.invited_institution_id, data["expert"])
            except NotFound as error:
                raise Invalid({"expert": [_("该医师不是受邀机构的医师。")]}) from error
        if data.get("availability"):
            try:
                data["availability"] = selectors.free_time_get(data["availability"])
            except NotFound as error:
                raise Invalid({"availability": [_("该可预约时间不存在。")]}) from error
        if data.get("referral_to_department"):
            data["referral_to_department"] = department_for_referral(
                data["referral_to_department"], field="referral_to_department"
            )
        return data


ACTIONS: tuple[tuple[str, type[serializers.Serializer], str], ...] = (
    (
        "accept",
        s.TeleconsultationExpertSerializer,
        "Accept the invitation assigning a qualified `expert` (the invited coordinators).",
    ),
    (
        "decline",
        s.TeleconsultationReasonSerializer,
        "Decline the invitation with a `reason` (the invited coordinators).",
    ),
    (
        "assign",
        s.TeleconsultationExpertSerializer,
        "Assign another qualified `expert` (the invited coordinators); the session is cleared (back to `accepted`, a booked free time released) to be scheduled again.",
    ),
    (
        "schedule",
        s.TeleconsultationScheduleSerializer,
        "Set the session (the invited coordinators): `scheduled_at`, or `availability` to book a free time of the expert (409 when someone was faster), and `meeting_link`.",
    ),
    (
        "sign_opinion",
        s.TeleconsultationOpinionSerializer,
        "Write and sign the `opinion` (the assigned expert only, once, from the scheduled start of the session: 400 with `scheduled_at` before it); writes both billing records.",
    ),
    (
        "conclude",
        s.TeleconsultationConcludeSerializer,
        "Record the `decision` and `outcome` (the inviting doctor); `referred` with `referral_to_department` creates and submits the referral in the same step.",
    ),
    (
        "cancel",
        s.TeleconsultationReasonSerializer,
        "Cancel with a `reason` (the inviting side) before the opinion.",
    ),
)
"""Every action of the workflow table: (action, body, description)."""


def _action_view(action: str, body: type[serializers.Serializer], description: str) -> type[ServiceViewSet]:
    """A view class for one action, so each has its own request schema and operation id."""

    def create(self: TeleconsultationActionViewSet, request: Request, public_id: str) -> Response:
        return self.act(request, public_id)

    create.__doc__ = f"{action}: {description.split('.')[0]}."
    decorated = extend_schema(
        operation_id=f"teleconsultations_{action}",
        request=body,
        parameters=[IF_MATCH, PREFER],
        responses={200: WRITTEN},
        description=description + " 403 for the wrong side or role, 409 when the state does not allow the "
        "action (or the version is stale), 400 for missing or bad fields.",
    )(create)
    name = "".join(part.title() for part in action.split("_"))
    view = type(
        f"Teleconsultation{name}ViewSet",
        (TeleconsultationActionViewSet,),
        {
            "__doc__": description,
            "__module__": __name__,
            "workflow_action": action,
            "body_serializer": body,
            "create": decorated,
        },
    )
    return extend_schema(tags=TAGS)(view)


ACTION_VIEWS = {action: _action_view(action, body, text) for action, body, text in ACTIONS}


@extend_schema(tags=TAGS)
class AttachmentViewSet(TelemedicineApiViewSet):
    """A file sent with a teleconsultation."""

    serializer_class = s.TeleconsultationAttachmentSerializer

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def download(self, request: Request, public_id: str) -> FileResponse:
        """Download an attachment (those who see the patient; 404 for everyone else)."""
        attachment = selectors.attachment_get_for(self.actor, self.object_id())
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_filename or attachment.file.name.rsplit("/", 1)[-1],
        )


@extend_schema(tags=TAGS)
class FreeTimeViewSet(TelemedicineApiViewSet):
    """Free times of qualified experts, offered on the invitation form."""

    serializer_class = s.ExpertAvailabilitySerializer

    @extend_schema(
        parameters=[s.TeleconsultationFreeTimeQuerySerializer],
        responses={200: s.ExpertAvailabilitySerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        """Unbooked future free times of experts whose title (and specialty) qualify, soonest first."""
        params = self.query(s.TeleconsultationFreeTimeQuerySerializer)
        slots = selectors.free_times(
            institution_id=params["institution"].pk if params.get("institution") else None,
            specialty=params.get("specialty", ""),
            title=params.get("title", ""),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
        )
        return self.paginated(slots, s.ExpertAvailabilitySerializer)


@extend_schema(tags=TAGS)
class AvailabilityViewSet(TelemedicineApiViewSet):
    """Free times the requester publishes (their own, or their institution's experts')."""

    serializer_class = s.ExpertAvailabilitySerializer

    @extend_schema(responses={200: s.ExpertAvailabilitySerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Future free times the requester manages, soonest first."""
        return self.paginated(selectors.availability_list(self.actor), s.ExpertAvailabilitySerializer)

    @extend_schema(
        request=s.ExpertAvailabilityCreateSerializer, responses={201: s.ExpertAvailabilitySerializer}
    )
    def create(self, request: Request) -> Response:
        """Publish a free time (no overlap with the expert's others)."""
        data = self.payload(s.ExpertAvailabilityCreateSerializer)
        institution = data["institution"]
        expert = self.actor
        if data.get("expert"):
            try:
                expert = selectors.doctor_of(institution.pk, data["expert"])
            except NotFound as error:
                raise Invalid({"expert": [_("只能为本机构的医师发布可预约时间。")]}) from error
        slot = services.availability_publish(
            actor=self.actor,
            expert=expert,
            institution=institution,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
        )
        return self.rendered(
            selectors.free_time_get(slot.public_id), s.ExpertAvailabilitySerializer, status=201
        )

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, public_id: str) -> Response:
        """Withdraw a free time nobody booked (409 once booked)."""
        slot = selectors.availability_get_for(self.actor, self.object_id())
        services.availability_withdraw(actor=self.actor, slot=slot)
        return Response(status=204)


@extend_schema(tags=TAGS)
class ChargeViewSet(TelemedicineApiViewSet):
    """Billing records of teleconsultations (each end's payable or receivable)."""

    serializer_class = s.TeleconsultationChargeSerializer

    @extend_schema(
        parameters=[s.TeleconsultationChargeQuerySerializer],
        responses={200: s.TeleconsultationChargeSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        """The requester's institutions' records (finance readers), the consortium's (the office), newest first."""
        if not policies.can_view_charges(self.actor):
            raise NotAllowed(_("您无权查看远程会诊费用记录。"))
        params = self.query(s.TeleconsultationChargeQuerySerializer)
        charges = selectors.charge_list(
            self.actor,
            direction=params.get("direction", ""),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
        )
        return self.paginated(charges, s.TeleconsultationChargeSerializer)


@extend_schema(tags=TAGS)
class FeeViewSet(TelemedicineApiViewSet):
    """The fees of a consortium's telemedicine agreement, per kind."""

    serializer_class = s.TeleconsultationFeeSerializer

    def _consortium(self) -> Any:
        return registry.consortium_get(self.actor, self.object_id())

    @extend_schema(responses={200: s.TeleconsultationFeeSerializer(many=True)})
    def read(self, request: Request, public_id: str) -> Response:
        """The fees (everyone with a view of teleconsultations reads them)."""
        consortium = self._consortium()
        return Response(s.TeleconsultationFeeSerializer(selectors.fee_list(consortium), many=True).data)

    @extend_schema(
        request=s.TeleconsultationFeesUpdateSerializer,
        responses={200: s.TeleconsultationFeeSerializer(many=True)},
    )
    def update(self, request: Request, public_id: str) -> Response:
        """Set the fees of the kinds listed (the consortium office)."""
        consortium = self._consortium()
        data = self.payload(s.TeleconsultationFeesUpdateSerializer)
        agreements = registry.agreement_list(self.actor, consortium)
        for row in data["fees"]:
            agreement = None
            if row.get("agreement"):
                try:
                    agreement = pick(agreements, public_id=row["agreement"])
                except NotFound as error:
                    raise Invalid({"agreement": [_("协议不属于该医联体。")]}) from error
            services.fee_set(
                actor=self.actor,
                consortium=consortium,
                kind=row["kind"],
                amount=row["amount"],
                agreement=agreement,
            )
        return Response(s.TeleconsultationFeeSerializer(selectors.fee_list(consortium), many=True).data)


@extend_schema(tags=TAGS)
class StatisticsViewSet(TelemedicineApiViewSet):
    """Teleconsultation statistics for the office, regulators and platform admins."""

    serializer_class = s.TeleconsultationSummarySerializer

    @extend_schema(
        parameters=[s.TeleconsultationStatisticsQuerySerializer],
        responses={200: s.TeleconsultationSummarySerializer},
    )
    def retrieve(self, request: Request) -> Response:
        """Counts per kind, member and month, and the share of patients kept local."""
        params = self.query(s.TeleconsultationStatisticsQuerySerializer)
        summary = selectors.teleconsultation_summary(
            self.actor,
            consortium_id=params["consortium"].pk if params.get("consortium") else None,
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
        )
        return self.rendered(summary, s.TeleconsultationSummarySerializer)
