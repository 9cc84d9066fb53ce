"""Prescriptions API: the catalogue, stock lists and their import, the formulary with the gap,
prescriptions (create, read, void, PDF), deliveries and their steps, statistics.

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
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.prescriptions import documents, policies, selectors, services
from yilian.prescriptions.api import serializers as s
from yilian.prescriptions.models import Delivery

TAGS = ["prescriptions"]
MAX_UPLOAD = 5 * 1024 * 1024


class PrescriptionsApiViewSet(ServiceViewSet):
    """Base: answers 400/401/403/404/409."""

    error_statuses = (400, 401, 403, 404, 409)


@extend_schema(tags=TAGS)
class DrugViewSet(PrescriptionsApiViewSet):
    """The shared drug catalogue."""

    serializer_class = s.DrugSerializer

    @extend_schema(parameters=[s.DrugQuerySerializer], responses={200: s.DrugSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Drugs, searched by generic name, pinyin initials or code, filtered by category and flags."""
        params = self.query(s.DrugQuerySerializer)
        rows = selectors.drug_list(
            self.actor,
            query=params.get("q", ""),
            category=params.get("category", ""),
            chronic=params.get("chronic"),
            essential=params.get("essential"),
        )
        return self.paginated(rows, s.DrugSerializer)

    @extend_schema(request=s.DrugWriteSerializer, responses={201: s.DrugSerializer})
    def create(self, request: Request) -> Response:
        """Add a drug (platform admins, the office, a lead hospital's pharmacy and administrators)."""
        data = self.payload(s.DrugWriteSerializer)
        drug = services.drug_save(actor=self.actor, **data)
        return self.rendered(drug, s.DrugSerializer, status=201)


@extend_schema(tags=TAGS)
class StockViewSet(PrescriptionsApiViewSet):
    """An institution's stock list (which drugs it stocks)."""

    serializer_class = s.StockItemSerializer

    def _institution(self) -> Any:
        return selectors.stock_institution_get(self.actor, self.object_id())

    @extend_schema(parameters=[s.DrugQuerySerializer], responses={200: s.StockItemSerializer(many=True)})
    def list(self, request: Request, public_id: str) -> Response:
        """The institution's stock list (its staff, the office of its consortium)."""
        params = self.query(s.DrugQuerySerializer)
        rows = selectors.stock_list(
            self._institution(),
            query=params.get("q", ""),
            category=params.get("category", ""),
            chronic=params.get("chronic"),
        )
        return self.paginated(rows, s.StockItemSerializer)

    @extend_schema(request=s.StockAddSerializer, responses={201: s.StockItemSerializer})
    def create(self, request: Request, public_id: str) -> Response:
        """Put a drug on the list (its administrator, the office)."""
        institution = self._institution()
        data = self.payload(s.StockAddSerializer)
        item = services.stock_add(actor=self.actor, institution=institution, **data)
        return self.rendered(item, s.StockItemSerializer, status=201)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, public_id: str, drug_id: str) -> Response:
        """Take a drug off the list."""
        institution = self._institution()
        drug = selectors.drug_get(self.actor, self.object_id("drug_id"))
        services.stock_remove(actor=self.actor, institution=institution, drug=drug)
        return Response(status=204)

    @extend_schema(
        request={"multipart/form-data": s.StockImportSerializer},
        responses={200: s.StockImportResultSerializer},
    )
    def upload(self, request: Request, public_id: str) -> Response:
        """Import the list from Excel; any bad row answers 400 listing every row error, nothing saved."""
        institution = self._institution()
        upload = request.data.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise Invalid({"file": [_("请上传 Excel 文件。")]})
        if upload.size > MAX_UPLOAD:
            raise Invalid({"file": [_("文件不能超过 5 MB。")]})
        replace = str(request.data.get("replace", "")).lower() in ("1", "true", "yes")
        result = services.stock_import(
            actor=self.actor, institution=institution, content=upload.read(), replace=replace
        )
        return Response(s.StockImportResultSerializer(result.__dict__).data)


@extend_schema(tags=TAGS)
class FormularyViewSet(PrescriptionsApiViewSet):
    """A consortium's formulary (用药目录衔接): limits and the gap per member."""

    serializer_class = s.FormularySerializer

    def _render(self, consortium: Any) -> Response:
        formulary, gaps = selectors.gap_report(self.actor, consortium)
        if formulary is None:
            raise NotFound("formulary")
        data = {
            "consortium": consortium,
            "reference_institution": formulary.reference_institution,
            **{name: getattr(formulary, name) for name in services.LIMIT_FIELDS},
            "version": formulary.version,
            "members": gaps,
        }
        return Response(s.FormularySerializer(data).data)

    @extend_schema(responses={200: s.FormularySerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """Limits and the gap of each member the requester may see (the office: all; staff: their own)."""
        if not policies.can_use_formulary(self.actor):
            raise NotAllowed("formulary")
        return self._render(selectors.formulary_consortium_get(self.actor, self.object_id()))

    @extend_schema(request=s.FormularyUpdateSerializer, responses={200: s.FormularySerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change the limits (the consortium office); a stale ``expected_version`` answers 409."""
        consortium = selectors.formulary_consortium_get(self.actor, self.object_id())
        data = self.payload(s.FormularyUpdateSerializer)
        version = data.pop("expected_version", None)
        services.formulary_update(actor=self.actor, consortium=consortium, expected_version=version, **data)
        return self._render(consortium)


@extend_schema(tags=TAGS)
class PrescriptionViewSet(PrescriptionsApiViewSet):
    """Prescriptions of the requester's institutions (the office: its consortia's, masked)."""

    serializer_class = s.PrescriptionSerializer

    def _detail(self, public_id: Any, status: int = 200) -> Response:
        prescription = selectors.prescription_get_for(self.actor, public_id)
        return self.rendered(
            prescription,
            s.PrescriptionDetailSerializer,
            status=status,
            items=selectors.prescription_items(prescription),
            delivery=Delivery.objects.filter(prescription=prescription).first(),
        )

    @extend_schema(
        parameters=[s.PrescriptionQuerySerializer], responses={200: s.PrescriptionSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible prescriptions, newest first, filtered by kind, status, validity, patient, date, text."""
        params = self.query(s.PrescriptionQuerySerializer)
        rows = selectors.prescription_list(
            self.actor,
            selectors.PrescriptionFilters(
                kind=params.get("kind", ""),
                status=params.get("status", ""),
                current_only=params["current"],
                person_id=params["person"].pk if params.get("person") else None,
                first=params.get("date_from"),
                last=params.get("date_to"),
                query=params.get("q", ""),
            ),
        )
        return self.paginated(rows, s.PrescriptionSerializer)

    @extend_schema(request=s.PrescriptionCreateSerializer, responses={201: s.PrescriptionDetailSerializer})
    def create(self, request: Request) -> Response:
        """Write a regular, long or extended prescription (an extended one requests a delivery)."""
        data = self.payload(s.PrescriptionCreateSerializer)
        items = [dict(item) for item in data.pop("items")]
        prescription = services.prescription_create(actor=self.actor, items=items, **data)
        return self._detail(prescription.public_id, status=201)

    @extend_schema(responses={200: s.PrescriptionDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One prescription with its items."""
        return self._detail(self.object_id())

    @extend_schema(request=s.PrescriptionVoidSerializer, responses={200: s.PrescriptionDetailSerializer})
    def void(self, request: Request, public_id: str) -> Response:
        """Void the prescription with a reason (409 when already voided or its drugs were dispatched)."""
        prescription = selectors.prescription_get_for(self.actor, self.object_id())
        data = self.payload(s.PrescriptionVoidSerializer)
        services.prescription_void(
            actor=self.actor,
            prescription=prescription,
            reason=data["reason"],
            expected_version=data.get("expected_version"),
        )
        return self._detail(prescription.public_id)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="处方笺 PDF")}
    )
    def pdf(self, request: Request, public_id: str) -> HttpResponse:
        """The printable prescription (A5 PDF)."""
        prescription = selectors.prescription_get_for(self.actor, self.object_id())
        content = documents.prescription_pdf(
            prescription,
            selectors.prescription_items(prescription),
            show_patient=policies.sees_patient(self.actor, prescription),
        )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="prescription-{prescription.number}.pdf"'
        return response


@extend_schema(tags=TAGS)
class DeliveryViewSet(PrescriptionsApiViewSet):
    """Consortium deliveries of extended prescriptions' drugs."""

    serializer_class = s.DeliverySerializer

    @extend_schema(parameters=[s.DeliveryQuerySerializer], responses={200: s.DeliverySerializer(many=True)})
    def list(self, request: Request) -> Response:
        """``box=out``: the pharmacy's worklist (oldest first); ``in``: received by the requester's
        institution; ``all``: every visible delivery."""
        params = self.query(s.DeliveryQuerySerializer)
        rows = selectors.delivery_list(
            self.actor, box=params["box"], status=params.get("status", ""), open_only=params["open"]
        )
        return self.paginated(rows, s.DeliverySerializer)

    @extend_schema(responses={200: s.DeliveryDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One delivery with its timeline."""
        delivery = selectors.delivery_get_for(self.actor, self.object_id())
        return self.rendered(
            delivery, s.DeliveryDetailSerializer, timeline=list(selectors.delivery_timeline(delivery))
        )

    @extend_schema(request=s.DeliveryStepSerializer, responses={200: s.DeliveryDetailSerializer})
    def step(self, request: Request, public_id: str, action: str) -> Response:
        """Take a step: ``dispatch``, ``receive``, ``hand_over`` or ``cancel`` (409 when someone else
        already moved it)."""
        delivery = selectors.delivery_get_for(self.actor, self.object_id())
        data = self.payload(s.DeliveryStepSerializer)
        services.delivery_step(actor=self.actor, delivery=delivery, action=action, note=data.get("note", ""))
        return self.rendered(
            delivery, s.DeliveryDetailSerializer, timeline=list(selectors.delivery_timeline(delivery))
        )


@extend_schema(tags=TAGS)
class StatisticsViewSet(PrescriptionsApiViewSet):
    """Statistics for the office, regulators and platform admins."""

    serializer_class = s.PrescriptionStatisticsSerializer

    @extend_schema(
        parameters=[s.PrescriptionStatisticsQuerySerializer],
        responses={200: s.PrescriptionStatisticsSerializer},
    )
    def retrieve(self, request: Request) -> Response:
        """Long and extended prescriptions per member per month; deliveries and turnaround per member."""
        params = self.query(s.PrescriptionStatisticsQuerySerializer)
        consortium = selectors.statistics_consortia(self.actor).filter(public_id=params["consortium"]).first()
        if consortium is None:
            raise NotFound("consortium")
        months, deliveries = selectors.statistics(consortium, params["date_from"], params["date_to"])
        return Response(s.PrescriptionStatisticsSerializer({"months": months, "deliveries": deliveries}).data)
