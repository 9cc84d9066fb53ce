"""Assessment API: schemes, rounds (create, compute, freeze with If-Match, publish), results, totals,
evidence, judgements, year-on-year comparison, report PDF and Excel.

Views parse, call one selector or service with ``actor=request.user``, and render.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.assessment import documents, selectors, services
from yilian.assessment.api import serializers as s
from yilian.assessment.choices import SUBJECT_UNIT_KIND, SchemeSubject
from yilian.core.api.views import ServiceViewSet, version_etag
from yilian.core.exceptions import Invalid, NotFound
from yilian.indicators.drilldown import unit_resolve
from yilian.indicators.selectors import indicator_list
from yilian.institutions.selectors import consortium_get, region_get

TAGS = ["assessment"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AssessmentApiViewSet(ServiceViewSet):
    """Base: answers 400/401/403/404/409."""

    error_statuses = (400, 401, 403, 404, 409)

    def round(self) -> Any:
        """The round in the URL, with the actor's access."""
        return selectors.round_get(self.actor, self.object_id())

    def subject(self, round_: Any, ref: str) -> int:
        """The database id of a subject of ``round_`` named by public id that the actor sees (400 otherwise)."""
        kind = SUBJECT_UNIT_KIND[SchemeSubject(round_.scheme.subject)]
        try:
            return unit_resolve(self.actor, kind, ref).id
        except NotFound as error:
            raise Invalid({"subject": [_("考核对象不存在：%(ref)s") % {"ref": ref[:64]}]}) from error

    def indicator(self, code: str) -> Any:
        """An indicator the actor reads, by code (400 otherwise)."""
        found = indicator_list(self.actor, include_inactive=True).filter(code=code).first()
        if found is None:
            raise Invalid({"indicator": [_("指标不存在：%(code)s") % {"code": code}]})
        return found


def _scheme_input(
    view: AssessmentApiViewSet, data: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    items = [{**dict(item), "indicator": view.indicator(item["indicator"])} for item in data.pop("items", [])]
    data.pop("version", None)
    return data, items


@extend_schema(tags=TAGS)
class SchemeViewSet(AssessmentApiViewSet):
    """Assessment schemes (考核方案)."""

    serializer_class = s.SchemeSerializer

    @extend_schema(responses={200: s.SchemeSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Schemes the actor reaches."""
        return self.paginated(selectors.scheme_list(self.actor), s.SchemeSerializer)

    @extend_schema(request=s.SchemeSerializer, responses={201: s.SchemeSerializer})
    def create(self, request: Request) -> Response:
        """Create a scheme with its items (assessors)."""
        data = self.payload(s.SchemeSerializer)
        consortium_id = data.pop("consortium", None)
        consortium = consortium_get(self.actor, consortium_id) if consortium_id else None
        data, items = _scheme_input(self, data)
        scheme = services.scheme_create(actor=self.actor, consortium=consortium, data=data, items=items)
        return self.rendered(
            scheme, s.SchemeSerializer, status=201, headers=version_etag(scheme.version), with_items=True
        )

    @extend_schema(responses={200: s.SchemeSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One scheme with its items; the ETag carries its version."""
        scheme = selectors.scheme_get(self.actor, self.object_id())
        return self.rendered(
            scheme, s.SchemeSerializer, headers=version_etag(scheme.version), with_items=True
        )

    @extend_schema(request=s.SchemeSerializer, responses={200: s.SchemeSerializer})
    def update(self, request: Request, public_id: str) -> Response:
        """Replace a scheme as version n + 1; ``version`` or If-Match required, 409 when stale."""
        scheme = selectors.scheme_get(self.actor, self.object_id())
        data = self.payload(s.SchemeSerializer)
        version = self.expected_version(data.get("version"))
        if version is None:
            raise Invalid({"version": [_("请提供版本号（version 字段或 If-Match）")]})
        data.pop("consortium", None)
        data, items = _scheme_input(self, data)
        scheme = services.scheme_update(
            actor=self.actor, scheme=scheme, expected_version=version, data=data, items=items
        )
        return self.rendered(
            scheme, s.SchemeSerializer, headers=version_etag(scheme.version), with_items=True
        )


@extend_schema(tags=TAGS)
class RoundViewSet(AssessmentApiViewSet):
    """Assessment rounds (考核轮次)."""

    serializer_class = s.RoundSerializer

    @extend_schema(responses={200: s.RoundSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Rounds the actor reads."""
        return self.paginated(selectors.round_list(self.actor), s.RoundSerializer)

    @extend_schema(request=s.RoundSerializer, responses={201: s.RoundSerializer})
    def create(self, request: Request) -> Response:
        """Open a draft round of a scheme for a consortium (or a region, assessing consortia)."""
        data = self.payload(s.RoundSerializer)
        try:
            scheme = selectors.scheme_get(self.actor, data["scheme"])
        except NotFound as error:
            raise Invalid({"scheme": [_("方案不存在")]}) from error
        consortium = consortium_get(self.actor, data["consortium"]) if data.get("consortium") else None
        region = region_get(self.actor, data["region"]) if data.get("region") else None
        round_ = services.round_create(
            actor=self.actor,
            scheme=scheme,
            kind=data["kind"],
            period_start=data["period_start"],
            consortium=consortium,
            region=region,
            title=data.get("title", ""),
        )
        return self.rendered(round_, s.RoundSerializer, status=201, headers=version_etag(round_.version))

    @extend_schema(responses={200: s.RoundSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One round; the ETag carries its frozen version (send it back as If-Match to freeze or publish)."""
        round_ = self.round()
        return self.rendered(round_, s.RoundSerializer, headers=version_etag(round_.version))

    @extend_schema(request=None, responses={200: s.RoundSerializer})
    def compute(self, request: Request, public_id: str) -> Response:
        """Recompute the draft from the current figures and judgements."""
        round_ = services.round_compute(actor=self.actor, round_=self.round())
        return self.rendered(round_, s.RoundSerializer, headers=version_etag(round_.version))

    @extend_schema(request=s.ExpectedVersionSerializer, responses={201: s.RoundSerializer})
    def freeze(self, request: Request, public_id: str) -> Response:
        """Freeze a snapshot as version n + 1; ``expected_version`` or If-Match, 409 when another freeze won."""
        data = self.payload(s.ExpectedVersionSerializer)
        round_ = services.round_freeze(
            actor=self.actor,
            round_=self.round(),
            expected_version=self.expected_version(data.get("expected_version")),
        )
        return self.rendered(round_, s.RoundSerializer, status=201, headers=version_etag(round_.version))

    @extend_schema(request=s.ExpectedVersionSerializer, responses={200: s.RoundSerializer})
    def publish(self, request: Request, public_id: str) -> Response:
        """Publish the latest frozen version (read-only afterwards)."""
        data = self.payload(s.ExpectedVersionSerializer)
        round_ = services.round_publish(
            actor=self.actor,
            round_=self.round(),
            expected_version=self.expected_version(data.get("expected_version")),
        )
        return self.rendered(round_, s.RoundSerializer, headers=version_etag(round_.version))

    @extend_schema(parameters=[s.VersionSerializer], responses={200: s.TotalSerializer(many=True)})
    def totals(self, request: Request, public_id: str) -> Response:
        """Totals, grades and ranks of a version (default: latest frozen; members: the published one)."""
        version = self.query(s.VersionSerializer).get("version")
        return self.paginated(selectors.round_totals(self.round(), version), s.TotalSerializer)

    @extend_schema(parameters=[s.VersionSerializer], responses={200: s.ResultSerializer(many=True)})
    def results(self, request: Request, public_id: str) -> Response:
        """Per-indicator figures and scores of a version (``indicator_label`` and ``unit_label`` in the request's language)."""
        version = self.query(s.VersionSerializer).get("version")
        return self.paginated(selectors.round_results(self.round(), version), s.ResultSerializer)

    @extend_schema(parameters=[s.VersionSerializer], responses={200: OpenApiTypes.OBJECT})
    def compare(self, request: Request, public_id: str) -> Response:
        """Year-on-year: totals beside the same scheme's published round a year earlier."""
        version = self.query(s.VersionSerializer).get("version")
        comparison = selectors.year_on_year(self.actor, self.round(), version)
        rows = [
            {
                key: (
                    str(value)
                    if value is not None and key in ("score", "previous_score", "change")
                    else value
                )
                for key, value in row.items()
            }
            for row in comparison.rows
        ]
        earlier = str(comparison.earlier.public_id) if comparison.earlier else None
        return Response({"earlier_round": earlier, "rows": rows})

    @extend_schema(request=s.JudgementSerializer, responses={201: OpenApiTypes.OBJECT})
    def judge(self, request: Request, public_id: str) -> Response:
        """Record the judgement of a qualitative item for one subject."""
        data = self.payload(s.JudgementSerializer)
        round_ = self.round()
        judgement = services.judgement_record(
            actor=self.actor,
            round_=round_,
            indicator=self.indicator(data["indicator"]),
            subject_id=self.subject(round_, data["subject"]),
            verdict=data["verdict"],
            comment=data.get("comment", ""),
        )
        return Response(
            {
                "indicator": data["indicator"],
                "subject": data["subject"],
                "verdict": judgement.verdict,
                "comment": judgement.comment,
            },
            status=201,
        )

    @extend_schema(
        request={"multipart/form-data": s.EvidenceUploadSerializer}, responses={201: s.EvidenceSerializer}
    )
    def evidence(self, request: Request, public_id: str) -> Response:
        """Upload an evidence file (PDF, JPG, PNG, docx, xlsx; at most 10 MB) for a qualitative item."""
        serializer = s.EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        round_ = self.round()
        evidence = services.evidence_upload(
            actor=self.actor,
            round_=round_,
            indicator=self.indicator(data["indicator"]),
            subject_id=self.subject(round_, data["subject"]),
            upload=data["file"],
        )
        return self.rendered(evidence, s.EvidenceSerializer, status=201)

    @extend_schema(
        parameters=[s.VersionSerializer],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="考核报告 PDF")
        },
    )
    def pdf(self, request: Request, public_id: str) -> HttpResponse:
        """The round's report as PDF (Chinese, with a chart)."""
        round_ = self.round()
        version = self.query(s.VersionSerializer).get("version")
        totals = list(selectors.round_totals(round_, version))
        chosen = version if version is not None else selectors.default_version(round_)
        content = documents.round_pdf(
            round_,
            chosen or 0,
            totals,
            selectors.round_results(round_, version),
            selectors.round_judgements(round_),
        )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="assessment-v{chosen}.pdf"'
        return response

    @extend_schema(
        parameters=[s.VersionSerializer],
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="考核结果 Excel")},
    )
    def xlsx(self, request: Request, public_id: str) -> HttpResponse:
        """The round's tables as Excel (totals, per-indicator figures, year-on-year)."""
        round_ = self.round()
        version = self.query(s.VersionSerializer).get("version")
        chosen = version if version is not None else selectors.default_version(round_)
        content = documents.round_workbook(
            round_,
            chosen or 0,
            selectors.round_totals(round_, version),
            selectors.round_results(round_, version),
            selectors.year_on_year(self.actor, round_, version).rows,
        )
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="assessment-v{chosen}.xlsx"'
        return response
