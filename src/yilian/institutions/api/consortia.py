"""Consortium API: consortia, their members, management bodies and agreements.

Member changes carry the consortium ``version`` the client saw, either as
``expected_version`` in the body or as an ``If-Match`` header; a stale
version answers 409. Responses carry the new version in ``ETag``.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.schema import ErrorSerializer
from yilian.core.api.views import ServiceViewSet, pick, version_etag
from yilian.institutions import selectors, services
from yilian.institutions.api import serializers as s
from yilian.institutions.api.serializers import (
    AgreementSerializer,
    ConsortiumMemberDetailSerializer,
    ConsortiumMemberSerializer,
    ConsortiumSerializer,
    ManagementBodySerializer,
)
from yilian.institutions.choices import MemberRole
from yilian.institutions.models import Consortium

CONSORTIA = ["consortia"]
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='医联体版本号（如 "3"），与 expected_version 等效；版本已变化时返回 409',
)
CONFLICT = {409: ErrorSerializer}


@extend_schema(tags=CONSORTIA)
class ConsortiumViewSet(ServiceViewSet):
    """Medical consortia and what hangs under them (members, management bodies, agreements)."""

    serializer_class = ConsortiumSerializer
    error_statuses = (400, 401, 403, 404, 409)

    def _consortium(self) -> Consortium:
        return selectors.consortium_get(self.actor, self.object_id())

    def _render_consortium(self, public_id: object, status: int = 200) -> Response:
        consortium = pick(selectors.consortium_list(self.actor), public_id=public_id)
        return self.rendered(
            consortium, ConsortiumSerializer, status=status, headers=version_etag(consortium.version)
        )

    @extend_schema(parameters=[s.ConsortiumQuerySerializer], responses={200: ConsortiumSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Consortia with their leads and active member count."""
        params = self.query(s.ConsortiumQuerySerializer)
        consortia = selectors.consortium_list(
            self.actor,
            query=params.get("q", ""),
            type=params.get("type", ""),
            within=params.get("within", ""),
            status=params.get("status", ""),
        )
        return self.paginated(consortia, ConsortiumSerializer)

    @extend_schema(responses={200: ConsortiumSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One consortium; ``ETag`` carries its version."""
        return self._render_consortium(self.object_id())

    @extend_schema(request=s.ConsortiumCreateSerializer, responses={201: ConsortiumSerializer})
    def create(self, request: Request) -> Response:
        """Create a consortium with its first lead (platform admins, regulators, consortium offices)."""
        consortium = services.consortium_create(
            actor=self.actor, **self.payload(s.ConsortiumCreateSerializer)
        )
        return self._render_consortium(consortium.public_id, status=201)

    @extend_schema(
        request=s.ConsortiumUpdateSerializer, parameters=[IF_MATCH], responses={200: ConsortiumSerializer}
    )
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change the profile (its office, its regulators, platform administrators)."""
        consortium = self._consortium()
        data = self.payload(s.ConsortiumUpdateSerializer, partial=True)
        expected = self.expected_version(data.pop("expected_version", None))
        services.consortium_update(actor=self.actor, consortium=consortium, expected_version=expected, **data)
        return self._render_consortium(consortium.public_id)

    # Members ---------------------------------------------------------------

    @extend_schema(
        parameters=[s.MemberQuerySerializer], responses={200: ConsortiumMemberSerializer(many=True)}
    )
    def members(self, request: Request, public_id: str) -> Response:
        """Members, leads first; ``?history=1`` adds former members."""
        params = self.query(s.MemberQuerySerializer)
        consortium = self._consortium()
        members = selectors.consortium_members(consortium, include_history=params["history"])
        return self.paginated(members, ConsortiumMemberSerializer)

    @extend_schema(
        request=s.MemberAddSerializer,
        parameters=[IF_MATCH],
        responses={201: ConsortiumMemberDetailSerializer},
    )
    def add_member(self, request: Request, public_id: str) -> Response:
        """Add an institution as lead, sub-lead (under a lead) or member."""
        consortium = self._consortium()
        data = self.payload(s.MemberAddSerializer)
        member = services.member_add(
            actor=self.actor,
            consortium=consortium,
            institution=data["institution"],
            role=data.get("role") or MemberRole.MEMBER,
            parent=data.get("parent"),
            joined_on=data.get("joined_on"),
            notes=data.get("notes", ""),
            expected_version=self.expected_version(data.get("expected_version")),
        )
        return self.rendered(
            member,
            ConsortiumMemberDetailSerializer,
            status=201,
            headers=version_etag(member.consortium.version),
        )

    # Management bodies ------------------------------------------------------

    @extend_schema(responses={200: ManagementBodySerializer(many=True)})
    def bodies(self, request: Request, public_id: str) -> Response:
        """The consortium's governing bodies."""
        bodies = selectors.management_body_list(self._consortium())
        return self.paginated(bodies, ManagementBodySerializer)

    @extend_schema(request=ManagementBodySerializer, responses={201: ManagementBodySerializer})
    def create_body(self, request: Request, public_id: str) -> Response:
        """Add a governing body."""
        consortium = self._consortium()
        data = self.payload(ManagementBodySerializer)
        body = services.management_body_save(actor=self.actor, consortium=consortium, **data)
        return self.rendered(body, ManagementBodySerializer, status=201)

    @extend_schema(request=ManagementBodySerializer, responses={200: ManagementBodySerializer})
    def update_body(self, request: Request, public_id: str, body_id: str) -> Response:
        """Change a governing body."""
        consortium = self._consortium()
        body = pick(selectors.management_body_list(consortium), public_id=self.object_id("body_id"))
        data = self.payload(ManagementBodySerializer, partial=True)
        body = services.management_body_save(actor=self.actor, consortium=consortium, body=body, **data)
        return self.rendered(body, ManagementBodySerializer)

    @extend_schema(request=None, responses={204: None})
    def delete_body(self, request: Request, public_id: str, body_id: str) -> Response:
        """Remove a governing body."""
        consortium = self._consortium()
        body = pick(selectors.management_body_list(consortium), public_id=self.object_id("body_id"))
        services.management_body_delete(actor=self.actor, body=body)
        return Response(status=204)

    # Agreements ------------------------------------------------------------

    @extend_schema(responses={200: AgreementSerializer(many=True)})
    def agreements(self, request: Request, public_id: str) -> Response:
        """Charters and agreements (metadata; files are for members and managers)."""
        agreements = selectors.agreement_list(self.actor, self._consortium())
        return self.paginated(agreements, AgreementSerializer)

    @extend_schema(
        request={"multipart/form-data": s.AgreementCreateSerializer}, responses={201: AgreementSerializer}
    )
    def create_agreement(self, request: Request, public_id: str) -> Response:
        """Upload a charter or agreement with its dates and signing parties (multipart)."""
        consortium = self._consortium()
        data = self.payload(s.AgreementCreateSerializer)
        agreement = services.agreement_create(
            actor=self.actor,
            consortium=consortium,
            kind=data["kind"],
            title=data["title"],
            file=data["file"],
            effective_from=data["effective_from"],
            effective_to=data.get("effective_to"),
            signed_on=data.get("signed_on"),
            parties=data.get("parties", []),
            notes=data.get("notes", ""),
        )
        return self.rendered(agreement, AgreementSerializer, status=201)


@extend_schema(tags=CONSORTIA)
class ConsortiumMemberViewSet(ServiceViewSet):
    """One row of a consortium's membership history."""

    serializer_class = ConsortiumMemberDetailSerializer
    error_statuses = (400, 401, 403, 404, 409)

    @extend_schema(responses={200: ConsortiumMemberDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One membership row."""
        member = selectors.consortium_member_get(self.actor, self.object_id())
        return self.rendered(member, ConsortiumMemberDetailSerializer)

    @extend_schema(
        request=s.MemberUpdateSerializer,
        parameters=[IF_MATCH],
        responses={200: ConsortiumMemberDetailSerializer},
    )
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a member's role, parent (``null`` for none) or notes."""
        member = selectors.consortium_member_get(self.actor, self.object_id())
        data = self.payload(s.MemberUpdateSerializer, partial=True)
        member = services.member_update(
            actor=self.actor,
            member=member,
            role=data.get("role"),
            parent=data.get("parent", ...),
            notes=data.get("notes"),
            expected_version=self.expected_version(data.get("expected_version")),
        )
        return self.rendered(
            member, ConsortiumMemberDetailSerializer, headers=version_etag(member.consortium.version)
        )

    @extend_schema(
        request=s.MemberRemoveSerializer,
        parameters=[IF_MATCH],
        responses={200: ConsortiumMemberDetailSerializer},
    )
    def remove(self, request: Request, public_id: str) -> Response:
        """Record that the member left (the row stays as history)."""
        member = selectors.consortium_member_get(self.actor, self.object_id())
        data = self.payload(s.MemberRemoveSerializer)
        member = services.member_remove(
            actor=self.actor,
            member=member,
            left_on=data.get("left_on"),
            reason=data.get("reason", ""),
            expected_version=self.expected_version(data.get("expected_version")),
        )
        return self.rendered(
            member, ConsortiumMemberDetailSerializer, headers=version_etag(member.consortium.version)
        )


@extend_schema(tags=CONSORTIA)
class AgreementViewSet(ServiceViewSet):
    """One agreement: its file and its end date."""

    serializer_class = AgreementSerializer

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="The file, for the consortium's managers and the staff of its member institutions; "
        "404 for everyone else.",
    )
    def download(self, request: Request, public_id: str) -> FileResponse:
        """Download the agreement's file."""
        agreement = selectors.agreement_get_for_download(self.actor, self.object_id())
        return FileResponse(
            agreement.file.open("rb"),
            as_attachment=True,
            filename=agreement.original_filename or agreement.file.name.rsplit("/", 1)[-1],
        )

    @extend_schema(request=s.AgreementUpdateSerializer, responses={200: AgreementSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """End an agreement (``effective_to``) or change its notes (the consortium's managers)."""
        agreement = selectors.agreement_get_for_download(self.actor, self.object_id())
        data = self.payload(s.AgreementUpdateSerializer, partial=True)
        agreement = services.agreement_update(
            actor=self.actor,
            agreement=agreement,
            effective_to=data.get("effective_to", agreement.effective_to),
            notes=data.get("notes"),
        )
        return self.rendered(agreement, AgreementSerializer)
