"""Indicators API: catalogues, indicators (versioned, If-Match), data items, figures with drill-down, refreshes.

Indicators are addressed by ``public_id`` (like every other object of the
API); units by public id, regions by code. Views parse, call one selector,
drill-down read or service with ``actor=request.user``, and render.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet, version_etag
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.indicators import drilldown, policies, selectors, services
from yilian.indicators.api import serializers as s
from yilian.indicators.models import Indicator
from yilian.indicators.tasks import enqueue_refresh

TAGS = ["indicators"]
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='指标版本号（如 "3"），与请求体中的 version 等效；版本已变化时返回 409',
)


class IndicatorApiViewSet(ServiceViewSet):
    """Base of the indicators API."""

    error_statuses = (400, 401, 403, 404)

    def indicator(self, value: Any = None) -> Indicator:
        """The indicator in the URL (or ``value``) the actor may read."""
        return selectors.indicator_get(self.actor, value if value is not None else self.object_id())


@extend_schema(tags=TAGS)
class CatalogueViewSet(IndicatorApiViewSet):
    """Indicator catalogues (指标体系)."""

    serializer_class = s.CatalogueSerializer

    @extend_schema(responses={200: s.CatalogueSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Every catalogue, shipped first."""
        return self.paginated(selectors.catalogue_list(self.actor), s.CatalogueSerializer)


class IndicatorQuerySerializer(serializers.Serializer):
    """Filters of the indicator list."""

    catalogue = serializers.CharField(max_length=60, required=False, help_text="指标体系编码")
    q = serializers.CharField(max_length=60, required=False, help_text="名称或编码")
    include_inactive = serializers.BooleanField(default=False)


def _legend(data: dict[str, Any]) -> None:
    if "legend" in data:
        data["legend"] = [dict(band) for band in data["legend"]]


@extend_schema(tags=TAGS)
class IndicatorViewSet(IndicatorApiViewSet):
    """Indicators (指标): formulas over data items, validated on save with the error's position."""

    serializer_class = s.IndicatorSerializer
    error_statuses = (400, 401, 403, 404, 409)

    @extend_schema(parameters=[IndicatorQuerySerializer], responses={200: s.IndicatorSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Indicators of the shared catalogue and of the consortia the actor reaches."""
        query = self.query(IndicatorQuerySerializer)
        catalogue = None
        if query.get("catalogue"):
            catalogue = selectors.catalogue_list(self.actor).filter(code=query["catalogue"]).first()
            if catalogue is None:
                raise Invalid({"catalogue": [_("指标体系不存在")]})
        rows = selectors.indicator_list(
            self.actor,
            catalogue=catalogue,
            query=query.get("q", ""),
            include_inactive=query["include_inactive"],
        )
        return self.paginated(rows, s.IndicatorSerializer)

    @extend_schema(request=s.IndicatorWriteSerializer, responses={201: s.IndicatorSerializer})
    def create(self, request: Request) -> Response:
        """Create an indicator (regulators: shared; a consortium's office: its own). 400 names a formula error's position."""
        data = self.payload(s.IndicatorWriteSerializer)
        if not policies.can_create_indicator(self.actor):
            raise NotAllowed()
        catalogue = selectors.catalogue_list(self.actor).filter(code=data.pop("catalogue", "")).first()
        if catalogue is None:
            raise Invalid({"catalogue": [_("请选择指标体系")]})
        consortium = None
        wanted = data.pop("consortium", None)
        if wanted is not None:
            consortium = next(
                (c for c in drilldown.editable_consortia(self.actor) if c.public_id == wanted), None
            )
            if consortium is None:
                raise Invalid({"consortium": [_("“%(v)s” 不存在，或您无权使用。") % {"v": wanted}]})
        data.pop("version", None)
        active = data.pop("is_active", None)
        _legend(data)
        indicator = services.indicator_create(
            actor=self.actor, catalogue=catalogue, consortium=consortium, **data
        )
        if active is False:
            indicator = services.indicator_set_active(actor=self.actor, indicator=indicator, active=False)
        return self.rendered(
            indicator, s.IndicatorSerializer, status=201, headers=version_etag(indicator.version)
        )

    @extend_schema(responses={200: s.IndicatorSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One indicator; the ETag carries its version."""
        indicator = self.indicator()
        return self.rendered(indicator, s.IndicatorSerializer, headers=version_etag(indicator.version))

    @extend_schema(
        request=s.IndicatorWriteSerializer, responses={200: s.IndicatorSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change some fields (a new version); ``version`` or If-Match required, 409 when stale."""
        indicator = self.indicator()
        data = self.payload(s.IndicatorWriteSerializer, partial=True)
        for fixed in ("catalogue", "consortium", "code"):
            if fixed in data:
                raise Invalid({fixed: [_("创建后不能修改")]})
        version = self.expected_version(data.pop("version", None))
        if version is None:
            raise Invalid({"version": [_("请提供版本号（version 字段或 If-Match）")]})
        active = data.pop("is_active", None)
        _legend(data)
        indicator = services.indicator_update(
            actor=self.actor, indicator=indicator, expected_version=version, **data
        )
        if active is not None:
            indicator = services.indicator_set_active(actor=self.actor, indicator=indicator, active=active)
        return self.rendered(indicator, s.IndicatorSerializer, headers=version_etag(indicator.version))


class DataItemQuerySerializer(serializers.Serializer):
    """Filter of the data item list."""

    q = serializers.CharField(max_length=60, required=False, help_text="编码、名称或说明")


@extend_schema(tags=TAGS)
class DataItemViewSet(IndicatorApiViewSet):
    """Data items registered by the modules (数据项)."""

    serializer_class = s.DataItemSerializer

    @extend_schema(parameters=[DataItemQuerySerializer], responses={200: s.DataItemSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Every data item with the indicators using it (not paginated: the list is the code's)."""
        if not policies.can_read_catalogue(self.actor):
            raise NotAllowed()
        rows = drilldown.data_item_rows(self.actor, query=self.query(DataItemQuerySerializer).get("q", ""))
        return Response(s.DataItemSerializer(rows, many=True).data)


@extend_schema(tags=TAGS)
class ValueViewSet(IndicatorApiViewSet):
    """Indicator values (指标值) of the units the actor sees, and their drill-down."""

    serializer_class = s.FigureSerializer

    def _cell(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        query = self.query(serializer_class)
        try:
            indicator = self.indicator(query["indicator"])
        except NotFound as error:
            raise Invalid({"indicator": [_("指标不存在，或您无权查看。")]}) from error
        period_type = query.get("period_type") or indicator.period_type
        period = drilldown.parse_period(period_type, query["period"])
        unit = None
        if query.get("unit"):
            unit = drilldown.unit_resolve(self.actor, query["unit_kind"], query["unit"])
        return {**query, "indicator": indicator, "period_type": period_type, "period": period, "unit": unit}

    @extend_schema(parameters=[s.ValueQuerySerializer], responses={200: s.FigureSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """The figures of one indicator for the units of a kind in a period (or one unit), sorted."""
        cell = self._cell(s.ValueQuerySerializer)
        rows = drilldown.figure_table(
            self.actor,
            cell["indicator"],
            unit_kind=cell["unit_kind"],
            period_type=cell["period_type"],
            period_start=cell["period"],
            sort=cell["sort"],
        )
        if cell["unit"] is not None:
            rows = [row for row in rows if row.unit.id == cell["unit"].id]
        page = self.paginate_queryset(rows)
        assert page is not None
        return self.get_paginated_response(s.FigureSerializer(page, many=True).data)

    @extend_schema(parameters=[s.CellQuerySerializer], responses={200: s.PartsSerializer})
    def parts(self, request: Request) -> Response:
        """A unit's figure and its parts' (members, child regions, departments): the parts sum to the whole."""
        cell = self._cell(s.CellQuerySerializer)
        found = drilldown.unit_parts(
            self.actor,
            cell["indicator"],
            unit_kind=cell["unit_kind"],
            unit_id=cell["unit"].id,
            period_type=cell["period_type"],
            period_start=cell["period"],
        )
        return Response(s.PartsSerializer(found).data)

    @extend_schema(
        parameters=[s.RecordsQuerySerializer],
        responses={
            200: inline_serializer(
                "IndicatorRecordPage",
                {
                    "item": serializers.CharField(),
                    "columns": serializers.ListField(child=serializers.CharField()),
                    "aggregate_only": serializers.BooleanField(),
                    "masked": serializers.BooleanField(),
                    "count": serializers.IntegerField(min_value=0, max_value=2**31 - 1),
                    "count_capped": serializers.BooleanField(
                        help_text="count 达到上限（1000）时为 true，此时 count 不是总数（总数即该数据项的值）"
                    ),
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "results": s.RecordSerializer(many=True),
                },
            )
        },
    )
    def records(self, request: Request) -> Response:
        """The records behind one data item of a figure, through the source module's policy (paginated).

        A source without a drill-down policy answers ``aggregate_only: true`` and no rows.
        """
        cell = self._cell(s.RecordsQuerySerializer)
        found = drilldown.item_records(
            self.actor,
            cell["indicator"],
            cell["item"],
            unit_kind=cell["unit_kind"],
            unit_id=cell["unit"].id,
            period_type=cell["period_type"],
            period_start=cell["period"],
        )
        head = {
            "item": found.item.code,
            "columns": [str(column.label) for column in found.columns],
            "aggregate_only": found.rows is None,
            "masked": not found.full,
        }
        if found.rows is None:
            return Response(
                {**head, "count": 0, "count_capped": False, "next": None, "previous": None, "results": []}
            )
        page = self.paginate_queryset(found.rows)
        assert page is not None
        results = [
            {
                "cells": [None if v is None else str(v) for v in found.cells(row)],
                "public_id": str(row["public_id"]) if row.get("public_id") else None,
            }
            for row in page
        ]
        response = self.get_paginated_response(results)
        response.data = {**head, **response.data}
        return response


@extend_schema(tags=TAGS)
class RefreshViewSet(IndicatorApiViewSet):
    """Refresh runs (计算任务): assessors request a full recomputation, run as a background job."""

    serializer_class = s.RefreshRunSerializer
    error_statuses = (400, 401, 403, 404, 409)

    @extend_schema(responses={200: s.RefreshRunSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Runs, newest first."""
        return self.paginated(selectors.refresh_runs(self.actor), s.RefreshRunSerializer)

    @extend_schema(request=s.RefreshRequestSerializer, responses={202: s.RefreshRunSerializer})
    def create(self, request: Request) -> Response:
        """Queue a full refresh (202; follow its status in the list); 409 when the same months are queued."""
        data = self.payload(s.RefreshRequestSerializer)
        run = services.refresh_request(
            actor=self.actor, first_month=data.get("first_month"), last_month=data.get("last_month")
        )
        enqueue_refresh(run)
        return self.rendered(run, s.RefreshRunSerializer, status=202)
