"""Serializers of the assessment API (shapes only; services check the rules). Integers carry their bounds."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from yilian.assessment.choices import GradingMethod, GroupBy, RoundKind, SchemeSubject, ScoringRule, Verdict
from yilian.core.api.fields import EnumField
from yilian.indicators.choices import PeriodType
from yilian.indicators.drilldown import unit_refs

VERSION_MAX = 1_000_000
RANK_MAX = 1_000_000
ORDER_MAX = 1_000_000


class SchemeItemSerializer(serializers.Serializer):
    indicator = serializers.CharField(max_length=60, help_text="指标编码")
    indicator_name = serializers.CharField(
        read_only=True, source="indicator.name", help_text="指标名称（中文）"
    )
    indicator_name_en = serializers.CharField(
        read_only=True, source="indicator.name_en", help_text="指标英文名称；未填写时为空"
    )
    indicator_label = serializers.CharField(
        read_only=True,
        source="indicator.display_name",
        help_text="按请求语言（Accept-Language）显示的指标名称：英文读者且有英文名称时为英文，否则为中文",
    )
    weight = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, max_value=1000)
    rule = EnumField(ScoringRule)
    bands = serializers.ListField(child=serializers.DictField(), required=False)
    sort_order = serializers.IntegerField(min_value=0, max_value=ORDER_MAX, required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "indicator": instance.indicator.code,
            "indicator_name": instance.indicator.name,
            "indicator_name_en": instance.indicator.name_en,
            "indicator_label": instance.indicator.display_name,
            "weight": str(instance.weight),
            "rule": instance.rule,
            "bands": instance.bands,
            "sort_order": instance.sort_order,
        }


class SchemeSerializer(serializers.Serializer):
    public_id = serializers.UUIDField(read_only=True)
    code = serializers.CharField(max_length=60, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    consortium = serializers.UUIDField(
        required=False, allow_null=True, help_text="医联体 public id；空为共用方案"
    )
    subject = EnumField(SchemeSubject)
    period_type = EnumField(PeriodType)
    grading = EnumField(GradingMethod)
    grade_bands = serializers.DictField(child=serializers.CharField(), required=False)
    rewards = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    group_by = EnumField(GroupBy, required=False, allow_blank=True)
    department_groups = serializers.DictField(child=serializers.CharField(), required=False)
    items = SchemeItemSerializer(many=True, required=False)
    is_shipped = serializers.BooleanField(read_only=True)
    version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX, required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = {
            "public_id": str(instance.public_id),
            "code": instance.code,
            "name": instance.name,
            "description": instance.description,
            "consortium": str(instance.consortium.public_id) if instance.consortium_id else None,
            "subject": instance.subject,
            "period_type": instance.period_type,
            "grading": instance.grading,
            "grade_bands": instance.grade_bands,
            "rewards": instance.rewards,
            "group_by": instance.group_by,
            "department_groups": instance.department_groups,
            "is_shipped": instance.is_shipped,
            "version": instance.version,
        }
        if self.context.get("with_items"):
            data["items"] = [
                SchemeItemSerializer(item).data for item in instance.items.select_related("indicator")
            ]
        return data


class RoundSerializer(serializers.Serializer):
    public_id = serializers.UUIDField(read_only=True)
    scheme = serializers.UUIDField()
    consortium = serializers.UUIDField(required=False, allow_null=True)
    region = serializers.CharField(max_length=12, required=False, allow_blank=True, help_text="行政区划代码")
    kind = EnumField(RoundKind)
    period_start = serializers.DateField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    status = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True, min_value=0, max_value=VERSION_MAX)
    published_version = serializers.IntegerField(
        read_only=True, min_value=1, max_value=VERSION_MAX, allow_null=True
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "public_id": str(instance.public_id),
            "scheme": str(instance.scheme.public_id),
            "scheme_name": instance.scheme.name,
            "consortium": str(instance.consortium.public_id) if instance.consortium_id else None,
            "region": instance.region.code if instance.region_id else "",
            "kind": instance.kind,
            "period_type": instance.period_type,
            "period_start": instance.period_start.isoformat(),
            "title": instance.title,
            "status": instance.status,
            "version": instance.version,
            "published_version": instance.published_version,
            "frozen_at": instance.frozen_at.isoformat() if instance.frozen_at else None,
            "published_at": instance.published_at.isoformat() if instance.published_at else None,
        }


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, max_value=VERSION_MAX, required=False)


class ExpectedVersionSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(min_value=0, max_value=VERSION_MAX, required=False)


class SubjectRefs(serializers.ListSerializer):
    """A page of rows about subjects: their public ids are read for the whole page at once."""

    def to_representation(self, data: Any) -> list[Any]:
        rows = list(data.all() if hasattr(data, "all") else data)
        ids: dict[str, set[int]] = {}
        for row in rows:
            ids.setdefault(row.subject_kind, set()).add(row.subject_id)
        self.refs = {
            (kind, pk): unit.ref
            for kind, chosen in ids.items()
            for pk, unit in unit_refs(kind, chosen).items()
        }
        return [self.child.to_representation(row) for row in rows]


class SubjectSerializer(serializers.Serializer):
    """A row about one subject, which it names by public id (``subject``), as the indicator API names units."""

    class Meta:
        list_serializer_class = SubjectRefs

    subject = serializers.SerializerMethodField(
        help_text="对象的公共编号（成员单位、科室或医联体），与指标接口的单元编号相同"
    )

    def get_subject(self, row: Any) -> str:
        refs = getattr(self.parent, "refs", None)
        if refs is None:
            found = unit_refs(row.subject_kind, [row.subject_id]).get(row.subject_id)
            return found.ref if found else ""
        return refs.get((row.subject_kind, row.subject_id), "")


class TotalSerializer(SubjectSerializer):
    """A subject's total in one version of a round: group, score, grade, rank and reward."""

    subject_kind = serializers.CharField()
    subject_name = serializers.CharField()
    group = serializers.CharField()
    score = serializers.DecimalField(max_digits=12, decimal_places=2)
    grade = serializers.CharField()
    rank = serializers.IntegerField(min_value=1, max_value=RANK_MAX, allow_null=True)
    reward = serializers.CharField()


class ResultSerializer(SubjectSerializer):
    """A subject's result on one indicator in one version of a round."""

    subject_kind = serializers.CharField()
    subject_name = serializers.CharField()
    group = serializers.CharField()
    indicator_code = serializers.CharField()
    indicator_name = serializers.CharField(help_text="计算时快照的指标名称（中文）")
    indicator_name_en = serializers.CharField(help_text="计算时快照的指标英文名称；未填写时为空")
    indicator_label = serializers.CharField(
        source="display_indicator_name",
        help_text="按请求语言（Accept-Language）显示的指标名称：英文读者且有英文名称时为英文，否则为中文",
    )
    indicator_version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX)
    is_working_definition = serializers.BooleanField()
    is_qualitative = serializers.BooleanField()
    unit = serializers.CharField(help_text="计量单位，按存储的中文")
    unit_label = serializers.CharField(
        source="display_unit", help_text="按请求语言显示的计量单位（常用单位有英文，其余照原样）"
    )
    numerator = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    denominator = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    value = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    verdict = serializers.CharField()
    weight = serializers.DecimalField(max_digits=8, decimal_places=2)
    score = serializers.DecimalField(max_digits=12, decimal_places=2)
    rank = serializers.IntegerField(min_value=1, max_value=RANK_MAX, allow_null=True)


class JudgementSerializer(serializers.Serializer):
    indicator = serializers.CharField(max_length=60, help_text="指标编码")
    subject = serializers.CharField(
        max_length=64, help_text="对象的公共编号（成员单位、科室或医联体），与指标接口的单元编号相同"
    )
    verdict = EnumField(Verdict)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EvidenceUploadSerializer(serializers.Serializer):
    indicator = serializers.CharField(max_length=60)
    subject = serializers.CharField(
        max_length=64, help_text="对象的公共编号（成员单位、科室或医联体），与指标接口的单元编号相同"
    )
    file = serializers.FileField()


class EvidenceSerializer(SubjectSerializer):
    """An evidence file uploaded for a qualitative item of one subject."""

    public_id = serializers.UUIDField()
    indicator = serializers.CharField(source="indicator.code")
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(min_value=1, max_value=10 * 1024 * 1024)
