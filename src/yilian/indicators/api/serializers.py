"""Serializers of the indicators API: shapes only; the services check the rules (formulas included)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.core.api.fields import EnumField
from yilian.indicators import drilldown
from yilian.indicators.choices import (
    Direction,
    IndicatorKind,
    PeriodType,
    RefreshKind,
    RefreshStatus,
    UnitKind,
)
from yilian.indicators.models import Indicator, IndicatorCatalogue, RefreshRun
from yilian.indicators.services import DEFINITION_FIELDS

VALUE = {"max_digits": 24, "decimal_places": 6}
INT32 = 2**31 - 1
# Integer fields are declared with their bounds: the model field's range differs between SQLite and
# PostgreSQL, and the OpenAPI schema must be the same on both.


class CatalogueSerializer(serializers.ModelSerializer):
    """An indicator catalogue (指标体系)."""

    public_id = serializers.UUIDField(read_only=True)
    sort_order = serializers.IntegerField(read_only=True, min_value=0, max_value=INT32)

    class Meta:
        model = IndicatorCatalogue
        fields = [
            "public_id",
            "code",
            "name",
            "name_en",
            "description",
            "source_document",
            "is_shipped",
            "sort_order",
        ]


class LegendBandSerializer(serializers.Serializer):
    """One traffic-light band: ``from`` ≤ value ≤ ``to`` (an empty bound is open)."""

    # ``from`` is a Python keyword, hence the declared source below.
    low = serializers.DecimalField(**VALUE, allow_null=True, required=False)
    to = serializers.DecimalField(**VALUE, allow_null=True, required=False)
    color = serializers.ChoiceField(choices=["green", "yellow", "red"])
    label = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def get_fields(self) -> dict[str, Any]:
        """Rename ``low`` to ``from`` on the wire."""
        fields = super().get_fields()
        fields["from"] = fields.pop("low")
        order = ["from", "to", "color", "label"]
        return {name: fields[name] for name in order}


class IndicatorSerializer(serializers.ModelSerializer):
    """An indicator with its definition; the ETag of a single indicator carries ``version``."""

    public_id = serializers.UUIDField(read_only=True)
    catalogue = serializers.CharField(source="catalogue.code", read_only=True)
    consortium = serializers.SerializerMethodField()
    kind = EnumField(IndicatorKind, read_only=True)
    direction = EnumField(Direction, read_only=True)
    period_type = EnumField(PeriodType, read_only=True)
    decimals = serializers.IntegerField(read_only=True, min_value=0, max_value=6)
    version = serializers.IntegerField(read_only=True, min_value=1, max_value=INT32)
    legend = LegendBandSerializer(many=True, read_only=True)
    checklist = serializers.ListField(child=serializers.CharField(), read_only=True)
    area_label = serializers.CharField(
        source="display_area",
        read_only=True,
        help_text="按请求语言显示的指标领域（内置领域有英文，其余照原样）；area 为存储的中文",
    )
    unit_label = serializers.CharField(
        source="display_unit",
        read_only=True,
        help_text="按请求语言（Accept-Language）显示的计量单位（常用单位有英文，其余照原样）；unit 为存储的中文",
    )

    class Meta:
        model = Indicator
        # The definition's fields in their order (services.DEFINITION_FIELDS starts with the code).
        fields = [
            "public_id",
            "code",
            "catalogue",
            "consortium",
            *DEFINITION_FIELDS[1:],
            "area_label",
            "unit_label",
            "is_active",
            "version",
        ]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_consortium(self, indicator: Indicator) -> str | None:
        """The owning consortium's public id; null for the shared catalogue."""
        return str(indicator.consortium.public_id) if indicator.consortium_id else None


class IndicatorWriteSerializer(serializers.Serializer):
    """Create an indicator, or change some of its fields (PATCH: ``version`` or If-Match guards it)."""

    catalogue = serializers.CharField(max_length=60, required=False, help_text="指标体系编码（新增时必填）")
    consortium = serializers.UUIDField(
        required=False, allow_null=True, help_text="所属医联体；空为共享指标库"
    )
    code = serializers.CharField(max_length=60, required=False)
    name = serializers.CharField(max_length=200, required=False)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    area = serializers.CharField(max_length=60, required=False, allow_blank=True)
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    kind = EnumField(IndicatorKind, required=False)
    numerator = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    numerator_description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    denominator = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    denominator_description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    factor = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True)
    direction = EnumField(Direction, required=False)
    period_type = EnumField(PeriodType, required=False)
    decimals = serializers.IntegerField(required=False, min_value=0, max_value=6)
    legend = LegendBandSerializer(many=True, required=False)
    target = serializers.DecimalField(**VALUE, required=False, allow_null=True)
    weight = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    checklist = serializers.ListField(child=serializers.CharField(max_length=300), required=False)
    source_document = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_working_definition = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    version = serializers.IntegerField(required=False, min_value=1, max_value=INT32)


class DataItemSerializer(serializers.Serializer):
    """A registered data item and the codes of the indicators (the requester reads) that use it."""

    code = serializers.CharField(source="item.code")
    name = serializers.CharField(source="item.name")
    description = serializers.CharField(source="item.description")
    module = serializers.CharField(source="item.module")
    unit = serializers.CharField(source="item.unit")
    measure = serializers.CharField(source="item.measure")
    source = serializers.CharField(source="item.source.code")
    source_name = serializers.CharField(source="item.source.name")
    date_field = serializers.CharField(source="item.source.date_field")
    is_stock = serializers.BooleanField()
    is_regional = serializers.BooleanField()
    has_departments = serializers.BooleanField()
    indicators = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_indicators(self, row: Any) -> list[str]:
        """Codes of the indicators using the item."""
        return [indicator.code for indicator in row.indicators]


class ValueQuerySerializer(serializers.Serializer):
    """Which figures: an indicator (public id), a unit kind, a period type and a period; optionally one unit."""

    indicator = serializers.UUIDField()
    unit_kind = EnumField(UnitKind, default=UnitKind.INSTITUTION)
    unit = serializers.CharField(max_length=64, required=False, help_text="单元公共编号；行政区划为区划代码")
    period_type = EnumField(PeriodType, required=False, help_text="默认取指标的统计周期")
    period = serializers.CharField(max_length=10, help_text="周期开始日期或 2025-03、2025Q1、2025H1、2025")
    sort = serializers.ChoiceField(
        choices=["value", "value_asc", "name", "growth", "numerator"], default="value"
    )


class CellQuerySerializer(serializers.Serializer):
    """One figure: indicator, unit kind, unit, period type and period."""

    indicator = serializers.UUIDField()
    unit_kind = EnumField(UnitKind)
    unit = serializers.CharField(max_length=64, help_text="单元公共编号；行政区划为区划代码")
    period_type = EnumField(PeriodType)
    period = serializers.CharField(max_length=10)


class RecordsQuerySerializer(CellQuerySerializer):
    """One figure and one data item of its formulas."""

    item = serializers.CharField(max_length=60)


class UnitSerializer(serializers.Serializer):
    """A unit: kind, public id (regions: code) and name."""

    kind = EnumField(UnitKind)
    ref = serializers.CharField(help_text="公共编号；行政区划为区划代码")
    name = serializers.CharField()


class FigureSerializer(serializers.Serializer):
    """One unit's figure in a period."""

    unit = UnitSerializer()
    numerator = serializers.DecimalField(**VALUE)
    denominator = serializers.DecimalField(**VALUE, allow_null=True)
    value = serializers.DecimalField(**VALUE, allow_null=True)
    display = serializers.CharField(help_text="按指标小数位数和单位格式化的值（单位按请求语言显示）")
    previous_value = serializers.DecimalField(**VALUE, allow_null=True)
    growth = serializers.DecimalField(
        max_digits=24, decimal_places=2, allow_null=True, help_text="同比增长（%）"
    )
    color = serializers.CharField(help_text="green / yellow / red，未设置分段时为空")
    band_label = serializers.SerializerMethodField(
        help_text="值所在分段的名称，按请求语言显示（内置分段名称有英文，自定义的照原样）；未设置分段时为空"
    )

    @extend_schema_field(serializers.CharField())
    def get_band_label(self, row: drilldown.FigureRow) -> str:
        """The band's legend label in the request's language (the stored label is Chinese)."""
        return drilldown.band_label(row.band_label)


class PartsSerializer(serializers.Serializer):
    """A unit's figure, its parts' figures, their sums and what no part holds."""

    whole = FigureSerializer(allow_null=True)
    part_kind = serializers.CharField(allow_blank=True)
    parts = FigureSerializer(many=True, source="rows")
    numerator_sum = serializers.DecimalField(**VALUE)
    denominator_sum = serializers.DecimalField(**VALUE, allow_null=True)
    numerator_rest = serializers.DecimalField(**VALUE, allow_null=True)
    denominator_rest = serializers.DecimalField(**VALUE, allow_null=True)
    adds_up = serializers.BooleanField()
    hidden_parts = serializers.IntegerField(min_value=0, max_value=INT32)


class RecordSerializer(serializers.Serializer):
    """One record behind a figure: its cells in the source's column order (personal data masked)."""

    cells = serializers.ListField(child=serializers.CharField(allow_null=True))
    public_id = serializers.CharField(allow_null=True)


class RefreshRunSerializer(serializers.ModelSerializer):
    """A refresh run: kind, status, months, duration and rows written."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(RefreshKind, read_only=True)
    status = EnumField(RefreshStatus, read_only=True)
    requested_by = serializers.SerializerMethodField()
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True, min_value=0, max_value=INT32)
    months = serializers.ListField(child=serializers.CharField(), read_only=True)
    counts = serializers.DictField(read_only=True)

    class Meta:
        model = RefreshRun
        fields = [
            "public_id",
            "kind",
            "status",
            "first_month",
            "last_month",
            "months",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "counts",
            "error",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_requested_by(self, run: RefreshRun) -> str | None:
        """Who asked (username); null for the system."""
        return run.requested_by.get_username() if run.requested_by_id else None


class RefreshRequestSerializer(serializers.Serializer):
    """Request a full refresh of a month range (default: every month with data)."""

    first_month = serializers.DateField(required=False, allow_null=True)
    last_month = serializers.DateField(required=False, allow_null=True)
