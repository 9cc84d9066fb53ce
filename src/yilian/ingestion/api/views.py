"""Imports API: upload a file as a background job, list and read jobs, their rejected rows, resume, templates.

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

from yilian.core.api.views import ServiceViewSet
from yilian.core.exceptions import Invalid, NotFound
from yilian.ingestion import policies, selectors, services
from yilian.ingestion.api import serializers as s
from yilian.ingestion.choices import ImportKind
from yilian.ingestion.tasks import enqueue_import_job

TAGS = ["imports"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@extend_schema(tags=TAGS)
class ImportJobViewSet(ServiceViewSet):
    """Import jobs of encounter and claim files."""

    serializer_class = s.ImportJobSerializer
    error_statuses = (400, 401, 403, 404, 409)

    def _job(self) -> Any:
        return selectors.import_job_get_for(self.actor, self.object_id())

    @extend_schema(parameters=[s.ImportQuerySerializer], responses={200: s.ImportJobSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """The jobs the caller and peers with the same upload rights ran, newest first."""
        params = self.query(s.ImportQuerySerializer)
        return self.paginated(
            selectors.import_job_list(self.actor, kind=params.get("kind", "")), s.ImportJobSerializer
        )

    @extend_schema(
        request={"multipart/form-data": s.ImportCreateSerializer}, responses={202: s.ImportJobSerializer}
    )
    def create(self, request: Request) -> Response:
        """Upload a file; answers 202 with the queued job (poll it for progress)."""
        data = self.payload(s.ImportCreateSerializer)
        institution = region = None
        if data["kind"] == ImportKind.ENCOUNTERS and data.get("institution"):
            institution = _institution(self.actor, data["institution"])
        if data["kind"] == ImportKind.CLAIMS and data.get("region"):
            region = selectors.region_by_code(data["region"])
            if region is None:
                raise Invalid({"region": [_("未知的行政区划代码。")]})
        job = services.import_job_create(
            actor=self.actor,
            kind=data["kind"],
            upload=data["file"],
            institution=institution,
            region=region,
            all_or_nothing=data.get("all_or_nothing", False),
        )
        enqueue_import_job(job)
        return self.rendered(job, s.ImportJobSerializer, status=202)

    @extend_schema(responses={200: s.ImportJobSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One job with its progress and counters."""
        return self.rendered(self._job(), s.ImportJobSerializer)

    @extend_schema(responses={200: s.ImportRowErrorSerializer(many=True)})
    def errors(self, request: Request, public_id: str) -> Response:
        """The job's rejected rows in file order (row number, column, value, reason)."""
        return self.paginated(selectors.import_row_errors(self._job()), s.ImportRowErrorSerializer)

    @extend_schema(request=None, responses={202: s.ImportJobSerializer})
    def resume(self, request: Request, public_id: str) -> Response:
        """Queue a failed job again; it continues after the last committed batch (409 if not failed)."""
        job = services.import_job_resume(actor=self.actor, job=self._job())
        enqueue_import_job(job)
        return self.rendered(job, s.ImportJobSerializer, status=202)


def _institution(actor: Any, value: str) -> Any:
    """An institution the caller may upload for, by public id or credit code."""
    for institution in selectors.encounter_upload_institutions(actor):
        if str(institution.public_id) == value or institution.credit_code == value.strip().upper():
            return institution
    found = selectors.institution_by_credit_code(value)
    if found is None:
        raise Invalid({"institution": [_("未登记的机构。")]})
    return found


@extend_schema(tags=TAGS)
class ImportTemplateViewSet(ServiceViewSet):
    """The import templates with one example row."""

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV 模板"),
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="Excel 模板"),
        }
    )
    def retrieve(self, request: Request, kind: str, fmt: str) -> HttpResponse:
        """``encounters`` or ``claims``, as ``.csv`` or ``.xlsx``."""
        if not policies.can_use_imports(self.actor):
            from yilian.core.exceptions import NotAllowed

            raise NotAllowed(_("您没有导入数据的权限。"))
        if kind not in ImportKind.values or fmt not in ("csv", "xlsx"):
            raise NotFound("template")
        if fmt == "csv":
            response = HttpResponse(services.template_csv(kind), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(services.template_xlsx(kind), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="template-{kind}.{fmt}"'
        return response
