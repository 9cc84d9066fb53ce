"""Diagnostics API: centres, catalogue, recognition rules, orders and their workflow actions, study
files, reports and labels, the reading list, critical values and the dashboard.

Every action carries the order ``version`` the client saw, as
``expected_version`` in the body or an ``If-Match`` header; a stale version
answers 409. Who may do what is decided by the services; the views parse,
call one service or selector, and render.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.pagination import CappedCountPagination
from yilian.core.api.views import PassthroughRenderer, ServiceViewSet, version_etag
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.diagnostics import documents, policies, selectors, services
from yilian.diagnostics.api import serializers as s
from yilian.diagnostics.models import DiagnosticOrder

TAGS = ["diagnostics"]
CONFIGURATION = ["diagnostics configuration"]
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='申请单版本号（如 "3"），与 expected_version 等效；版本已变化时返回 409',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="客户端生成的唯一键（最长 64 个字符）；同一用户重试时返回第一次创建的申请单（200）",
)
PREFER = OpenApiParameter(
    "Prefer",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="return=minimal 只返回申请单号、状态和版本（OrderState）",
)
WRITTEN = PolymorphicProxySerializer(
    component_name="DiagnosticOrderWritten",
    serializers=[s.DiagOrderDetailSerializer, s.DiagOrderStateSerializer],
    resource_type_field_name=None,
)
IDEMPOTENCY_KEY_MAX = 64


class PdfRenderer(PassthroughRenderer):
    """Lets a client ask for ``application/pdf``; errors still render as JSON."""

    media_type = "application/pdf"
    format = "pdf"


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class DiagnosticsApiViewSet(ServiceViewSet):
    """Base of the diagnostics endpoints: only users with some view of diagnostics get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users with no role that reads diagnostics."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_diagnostics(self.actor):
            raise NotAllowed("diagnostics")

    def order(self) -> DiagnosticOrder:
        """The visible order named in the URL."""
        return selectors.order_get_for(self.actor, self.object_id())

    def wants_minimal(self) -> bool:
        """Whether the client sent ``Prefer: return=minimal`` with a write."""
        if self.request.method == "GET":
            return False
        preferences = self.request.headers.get("Prefer", "")
        return any(part.strip().lower() == "return=minimal" for part in preferences.split(","))

    def render_order(self, order: DiagnosticOrder, *, status: int = 200) -> Response:
        """The order's detail as the requester sees it (ETag = version); its state only under return=minimal."""
        if self.wants_minimal():
            headers = {**version_etag(order.version), "Preference-Applied": "return=minimal"}
            return self.rendered(order, s.DiagOrderStateSerializer, status=status, headers=headers)
        order = selectors.order_get_for(self.actor, order.public_id)
        sees = policies.sees_patient(self.actor, order)
        return self.rendered(
            order,
            s.DiagOrderDetailSerializer,
            status=status,
            headers=version_etag(order.version),
            timeline=list(selectors.order_timeline(order)),
            files=list(selectors.order_files(order)) if sees else [],
            reports=list(selectors.order_reports(order)) if sees else [],
        )


# Configuration --------------------------------------------------------------------------------------


@extend_schema(tags=CONFIGURATION)
class CentreViewSet(DiagnosticsApiViewSet):
    """Shared centres."""

    serializer_class = s.DiagCentreSerializer

    @extend_schema(
        parameters=[s.DiagCentreQuerySerializer], responses={200: s.DiagCentreSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Centres run by, serving, overseen or regulated by the requester."""
        params = self.query(s.DiagCentreQuerySerializer)
        centres = selectors.centre_list(self.actor, kind=params.get("kind", ""), active_only=params["active"])
        return self.paginated(centres, s.DiagCentreSerializer)

    @extend_schema(request=s.DiagCentreWriteSerializer, responses={201: s.DiagCentreSerializer})
    def create(self, request: Request) -> Response:
        """Set up a centre (the consortium office)."""
        data = self.payload(s.DiagCentreWriteSerializer)
        centre = services.centre_create(actor=self.actor, **data)
        return self.rendered(
            selectors.centre_get_for(self.actor, centre.public_id), s.DiagCentreSerializer, status=201
        )

    @extend_schema(responses={200: s.DiagCentreSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One centre."""
        return self.rendered(selectors.centre_get_for(self.actor, self.object_id()), s.DiagCentreSerializer)

    @extend_schema(request=s.DiagCentreWriteSerializer, responses={200: s.DiagCentreSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a centre (the consortium office)."""
        centre = selectors.centre_get_for(self.actor, self.object_id())
        data = self.payload(s.DiagCentreWriteSerializer, partial=True)
        data.pop("consortium", None)
        services.centre_update(actor=self.actor, centre=centre, **data)
        return self.rendered(selectors.centre_get_for(self.actor, centre.public_id), s.DiagCentreSerializer)


@extend_schema(tags=CONFIGURATION)
class ItemViewSet(DiagnosticsApiViewSet):
    """Catalogue items of the centres."""

    serializer_class = s.DiagItemSerializer

    @extend_schema(parameters=[s.DiagItemQuerySerializer], responses={200: s.DiagItemSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Items of visible centres (one centre with ``centre``; what may be ordered for a patient with
        ``orderable``)."""
        params = self.query(s.DiagItemQuerySerializer)
        items = selectors.item_list(
            self.actor,
            centre=params.get("centre"),
            active_only=params["active"],
            orderable_only=params["orderable"],
        )
        return self.paginated(items, s.DiagItemSerializer)

    @extend_schema(request=s.DiagItemWriteSerializer, responses={201: s.DiagItemSerializer})
    def create(self, request: Request) -> Response:
        """Add an item (the consortium office)."""
        data = self.payload(s.DiagItemWriteSerializer)
        return self.rendered(services.item_create(actor=self.actor, **data), s.DiagItemSerializer, status=201)

    @extend_schema(responses={200: s.DiagItemSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One item."""
        return self.rendered(selectors.item_get_for(self.actor, self.object_id()), s.DiagItemSerializer)

    @extend_schema(request=s.DiagItemWriteSerializer, responses={200: s.DiagItemSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change an item (the consortium office)."""
        item = selectors.item_get_for(self.actor, self.object_id())
        data = self.payload(s.DiagItemWriteSerializer, partial=True)
        data.pop("centre", None)
        return self.rendered(services.item_update(actor=self.actor, item=item, **data), s.DiagItemSerializer)


@extend_schema(tags=CONFIGURATION)
class RuleViewSet(DiagnosticsApiViewSet):
    """The mutual-recognition catalogue."""

    serializer_class = s.DiagRuleSerializer

    @extend_schema(responses={200: s.DiagRuleSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Recognition rules of the requester's consortia."""
        return self.paginated(selectors.rule_list(self.actor), s.DiagRuleSerializer)

    @extend_schema(request=s.DiagRuleWriteSerializer, responses={201: s.DiagRuleSerializer})
    def create(self, request: Request) -> Response:
        """Add a recognised item (the consortium office)."""
        data = self.payload(s.DiagRuleWriteSerializer)
        return self.rendered(services.rule_create(actor=self.actor, **data), s.DiagRuleSerializer, status=201)

    @extend_schema(responses={200: s.DiagRuleSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One rule."""
        return self.rendered(selectors.rule_get_for(self.actor, self.object_id()), s.DiagRuleSerializer)

    @extend_schema(request=s.DiagRuleWriteSerializer, responses={200: s.DiagRuleSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a rule (the consortium office)."""
        rule = selectors.rule_get_for(self.actor, self.object_id())
        data = self.payload(s.DiagRuleWriteSerializer, partial=True)
        data.pop("consortium", None)
        return self.rendered(services.rule_update(actor=self.actor, rule=rule, **data), s.DiagRuleSerializer)


# Orders ---------------------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class OrderViewSet(DiagnosticsApiViewSet):
    """Orders the requester placed, reads at a centre, or oversees."""

    serializer_class = s.DiagOrderSerializer

    @extend_schema(parameters=[s.DiagOrderQuerySerializer], responses={200: s.DiagOrderSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible orders, newest first: ``box=ordering`` (sent), ``centre`` (received at a centre) or ``all``."""
        params = self.query(s.DiagOrderQuerySerializer)
        filters = selectors.OrderFilters(
            box=params["box"],
            status=params.get("status", ""),
            centre_id=params["centre"].pk if params.get("centre") else None,
            person_id=params["person"].pk if params.get("person") else None,
            query=params.get("q", ""),
        )
        return self.paginated(selectors.order_list(self.actor, filters), s.DiagOrderSerializer)

    @extend_schema(
        request=s.DiagOrderCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, PREFER],
        responses={201: WRITTEN, 200: WRITTEN},
    )
    def create(self, request: Request) -> Response:
        """Order an item for a patient. When the patient has a valid recognised result, 400 on
        ``repeat_reason`` unless a reason is given (GET diagnostic-orders/recognised shows it first)."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise Invalid(
                {
                    "Idempotency-Key": [
                        _("Idempotency-Key 不能超过 {n} 个字符。").format(n=IDEMPOTENCY_KEY_MAX)
                    ]
                }
            )
        data = self.payload(s.DiagOrderCreateSerializer)
        order, created = services.order_create(actor=self.actor, idempotency_key=key, **data)
        return self.render_order(order, status=201 if created else 200)

    @extend_schema(responses={200: s.DiagOrderDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One order with its timeline, files, report versions and available actions."""
        return self.render_order(self.order())

    @extend_schema(parameters=[s.DiagRecognisedQuerySerializer], responses={200: s.DiagRecognisedSerializer})
    def recognised(self, request: Request) -> Response:
        """The patient's valid recognised prior result of the item, for the order form (``found`` false if none)."""
        params = self.query(s.DiagRecognisedQuerySerializer)
        if not policies.can_order(self.actor):
            raise NotAllowed(_("您没有开单权限。"))
        hit = selectors.recognised_result_for(params["person"], params["item"].code, params["institution"])
        if hit is None:
            data: dict[str, Any] = {"found": False, "order": None}
        else:
            report = selectors.published_report(hit.order)
            data = {
                "found": True,
                "order": hit.order,
                "item_name": hit.order.item_name,
                "centre_name": hit.order.centre.name,
                "final_at": hit.order.final_at,
                "valid_until": hit.valid_until,
                "conclusion": report.conclusion if report else "",
            }
        return self.rendered(data, s.DiagRecognisedSerializer)

    @extend_schema(
        request=s.DiagRecognitionUseSerializer, responses={201: s.DiagRecognitionDecisionSerializer}
    )
    def use_recognised(self, request: Request) -> Response:
        """Use the recognised result instead of ordering again (records the money saved)."""
        data = self.payload(s.DiagRecognitionUseSerializer)
        decision = services.recognition_use(actor=self.actor, **data)
        return self.rendered(decision, s.DiagRecognitionDecisionSerializer, status=201)

    @extend_schema(request=s.DiagReceiveSerializer, parameters=[PREFER], responses={200: WRITTEN})
    def receive(self, request: Request) -> Response:
        """Receive a specimen by its barcode at a centre (400 on ``barcode`` when unknown there or already
        received, saying when and by whom)."""
        data = self.payload(s.DiagReceiveSerializer)
        order = services.order_receive_barcode(
            actor=self.actor, centre=data["centre"], barcode=data["barcode"]
        )
        return self.render_order(order)

    @extend_schema(
        request={"multipart/form-data": s.DiagUploadSerializer},
        parameters=[IF_MATCH, PREFER],
        responses={201: WRITTEN},
    )
    def upload(self, request: Request, public_id: str) -> Response:
        """Upload the study (multipart, ``files`` repeated): DICOM, PDF, PNG/JPEG, ECG XML. One bad file refuses all."""
        order = self.order()
        files = request.FILES.getlist("files")
        if not files:
            raise Invalid({"files": [_("请选择要上传的文件。")]})
        version = request.data.get("expected_version")
        try:
            expected = self.expected_version(int(version) if version not in (None, "") else None)
        except (TypeError, ValueError) as error:
            raise Invalid({"expected_version": [_("请填写整数。")]}) from error
        services.study_upload(actor=self.actor, order=order, files=files, expected_version=expected)
        order.refresh_from_db(fields=["version", "status"])
        return self.render_order(order, status=201)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def report_pdf(self, request: Request, public_id: str) -> HttpResponse:
        """The printable report (the current final version); 404 before it is published."""
        order = self._for_patient_readers()
        report = selectors.published_report(order)
        if report is None:
            raise NotFound("report")
        return _pdf(documents.report_pdf(order, report), f"{order.number}-v{report.version}.pdf")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def label_pdf(self, request: Request, public_id: str) -> HttpResponse:
        """The specimen barcode label (lab, pathology); 404 for orders without a barcode."""
        order = self._for_patient_readers()
        if not order.barcode:
            raise NotFound("label")
        return _pdf(documents.label_pdf(order), f"{order.barcode}.pdf")

    @extend_schema(request=s.DiagCriticalValueSerializer, responses={201: s.DiagAlertSerializer})
    def critical_value(self, request: Request, public_id: str) -> Response:
        """Report a critical value (a centre doctor); the ordering doctor is notified and must acknowledge it."""
        order = self.order()
        data = self.payload(s.DiagCriticalValueSerializer)
        alert = services.critical_value_raise(actor=self.actor, order=order, description=data["description"])
        return self.rendered(
            selectors.critical_alert_get_for(self.actor, alert.public_id), s.DiagAlertSerializer, status=201
        )

    def _for_patient_readers(self) -> DiagnosticOrder:
        order = self.order()
        if not policies.sees_patient(self.actor, order):
            raise NotAllowed(_("只有开单机构和诊断中心的医护人员可以打印患者资料。"))
        return order


class OrderActionViewSet(DiagnosticsApiViewSet):
    """One workflow action on an order (subclassed per action below)."""

    serializer_class = s.DiagOrderDetailSerializer
    workflow_action = ""
    body_serializer: type[serializers.Serializer] = s.DiagNoteActionSerializer

    def act(self, request: Request, public_id: str) -> Response:
        """Take the action; answer the order as it now stands."""
        order = self.order()
        data = self.payload(self.body_serializer, partial=True)
        expected = self.expected_version(data.pop("expected_version", None))
        result = services.order_act(
            actor=self.actor, order=order, action=self.workflow_action, expected_version=expected, **data
        )
        return self.render_order(result)


ACTIONS: tuple[tuple[str, type[serializers.Serializer], str], ...] = (
    (
        "collect",
        s.DiagNoteActionSerializer,
        "Record that the specimen was collected and labelled (ordering side).",
    ),
    ("dispatch", s.DiagNoteActionSerializer, "Hand the specimen to transport (ordering side)."),
    (
        "reject",
        s.DiagRejectActionSerializer,
        "Reject the specimen or study with a coded reason the sender sees.",
    ),
    (
        "claim",
        s.DiagNoteActionSerializer,
        "Claim the study for reading (a centre doctor); 409 names the holder.",
    ),
    ("release", s.DiagNoteActionSerializer, "Give a claimed study back to the reading list (its holder)."),
    ("save_preliminary", s.DiagReportActionSerializer, "Save the preliminary report (the holder)."),
    (
        "sign",
        s.DiagReportActionSerializer,
        "Sign the report: final, or awaiting a second reader (the holder).",
    ),
    (
        "second_sign",
        s.DiagSecondSignActionSerializer,
        "Second reading and signature (another centre doctor).",
    ),
    ("amend", s.DiagReportActionSerializer, "Amend a final report with a reason; the old version is kept."),
    (
        "cancel",
        s.DiagReasonActionSerializer,
        "Cancel before the centre received it, with a reason (ordering doctor).",
    ),
)
"""Every user action of the workflow table except ``receive`` (by barcode) and ``upload`` (multipart)."""


def _action_view(action: str, body: type[serializers.Serializer], description: str) -> type[ServiceViewSet]:
    """A view class for one action, so each has its own request schema and operation id."""

    def create(self: OrderActionViewSet, request: Request, public_id: str) -> Response:
        return self.act(request, public_id)

    create.__doc__ = description
    decorated = extend_schema(
        operation_id=f"diagnostic_orders_{action}",
        request=body,
        parameters=[IF_MATCH, PREFER],
        responses={200: WRITTEN},
        description=description + " 403 for the wrong side or role, 409 when the state does not allow it "
        "(or the version is stale), 400 for missing or bad fields.",
    )(create)
    name = "".join(part.title() for part in action.split("_"))
    view = type(
        f"DiagnosticOrder{name}ViewSet",
        (OrderActionViewSet,),
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
class FileViewSet(DiagnosticsApiViewSet):
    """Study files."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def download(self, request: Request, public_id: str) -> FileResponse:
        """Download (or view inline: images and PDF) one file of a study."""
        study_file = selectors.file_get_for(self.actor, self.object_id())
        inline = study_file.kind in ("image", "pdf") and request.query_params.get("inline") == "1"
        response = FileResponse(
            study_file.file.open("rb"),
            as_attachment=not inline,
            filename=study_file.original_filename,
            content_type=study_file.content_type or "application/octet-stream",
        )
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


@extend_schema(tags=TAGS)
class ReadingListViewSet(DiagnosticsApiViewSet):
    """A centre's reading list (``count`` stops at 1 000: ``count_capped``)."""

    pagination_class = CappedCountPagination

    @extend_schema(
        parameters=[s.DiagReadingListQuerySerializer], responses={200: s.ReadingListRowSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Pending studies of the centre, most urgent first then oldest (the centre's staff only)."""
        params = self.query(s.DiagReadingListQuerySerializer)
        orders = selectors.reading_list(self.actor, params["centre"], status=params.get("status", ""))
        return self.paginated(orders, s.ReadingListRowSerializer)


@extend_schema(tags=TAGS)
class AlertViewSet(DiagnosticsApiViewSet):
    """Critical values."""

    @extend_schema(parameters=[s.DiagAlertQuerySerializer], responses={200: s.DiagAlertSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Alerts of visible orders, unacknowledged first."""
        params = self.query(s.DiagAlertQuerySerializer)
        return self.paginated(
            selectors.critical_alert_list(self.actor, open_only=params["open"]), s.DiagAlertSerializer
        )

    @extend_schema(request=s.DiagAcknowledgeSerializer, responses={200: s.DiagAlertSerializer})
    def acknowledge(self, request: Request, public_id: str) -> Response:
        """Acknowledge a critical value (a doctor of the ordering institution); 409 when already done."""
        alert = selectors.critical_alert_get_for(self.actor, self.object_id())
        data = self.payload(s.DiagAcknowledgeSerializer)
        services.critical_alert_acknowledge(actor=self.actor, alert=alert, note=data.get("note", ""))
        return self.rendered(
            selectors.critical_alert_get_for(self.actor, alert.public_id), s.DiagAlertSerializer
        )


@extend_schema(tags=TAGS)
class StatisticsViewSet(DiagnosticsApiViewSet):
    """The consortium office's dashboard figures."""

    @extend_schema(parameters=[s.DiagStatisticsQuerySerializer], responses={200: s.DiagStatisticsSerializer})
    def retrieve(self, request: Request) -> Response:
        """Volumes per centre and member, turnaround p50/p90 against target, rejections, critical-value
        acknowledgement times, recognition rate, repeats and money saved."""
        params = self.query(s.DiagStatisticsQuerySerializer)
        consortium = params.get("consortium")
        figures = selectors.dashboard(
            self.actor,
            consortium_id=consortium.pk if consortium else None,
            since=params.get("since"),
            until=params.get("until"),
        )
        return self.rendered(figures, s.DiagStatisticsSerializer)
