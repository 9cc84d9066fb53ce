"""Cost-stories API: a consortium's year of down-referred patients (monthly totals, totals per receiving
member, paginated stories) and one story. Names are masked; money is a decimal string to the cent.

Views parse, call one selector of ``insurance.cost_stories`` with ``actor=request.user``, and render.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet
from yilian.insurance import cost_stories
from yilian.people.identifiers import mask_name

TAGS = ["insurance"]
BASES = (cost_stories.BASIS_STAY, cost_stories.BASIS_OPEN, cost_stories.BASIS_REFERRAL)


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2)


def _optional_money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class CostStoryQuerySerializer(serializers.Serializer):
    """Which consortium and year, and which page of the stories."""

    consortium = serializers.UUIDField(help_text="医联体 public id")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    month = serializers.IntegerField(
        min_value=1, max_value=12, required=False, help_text="只列出该月的患者（汇总仍为全年）"
    )
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)


class LeadRateSerializer(serializers.Serializer):
    """The lead hospital's daily cost and fund share behind a story."""

    category = serializers.CharField(help_text="ICD-10 类目（前三位）")
    stays = serializers.IntegerField()
    days = serializers.IntegerField()
    daily_cost = _optional_money()
    fund_share = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    fallback = serializers.BooleanField(help_text="同类目病例不足，采用牵头医院全院均值")
    window_from = serializers.DateField()
    window_to = serializers.DateField()


class CostStorySerializer(serializers.Serializer):
    """One down-referred patient: counterfactual at the lead hospital against the primary stay."""

    referral = serializers.UUIDField(source="public_id")
    number = serializers.CharField()
    month = serializers.DateField()
    patient = serializers.SerializerMethodField()
    diagnosis_code = serializers.CharField()
    diagnosis_name = serializers.CharField()
    from_institution = serializers.CharField()
    to_institution = serializers.CharField()
    arrived_at = serializers.DateTimeField(source="anchor")
    basis = serializers.ChoiceField(choices=BASES)
    days = serializers.IntegerField()
    fallback = serializers.BooleanField()
    counterfactual_total = _optional_money()
    counterfactual_fund = _optional_money()
    counterfactual_self = _optional_money()
    actual_total = _optional_money()
    actual_fund = _optional_money()
    actual_self = _optional_money()
    saving_total = _optional_money()
    saving_fund = _optional_money()
    saving_self = _optional_money()

    def get_patient(self, story: cost_stories.CostStory) -> str:
        """The patient's name, masked."""
        return mask_name(story.patient_name)


class SourceStaySerializer(serializers.Serializer):
    """The lead-hospital stay the patient was referred from."""

    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    days = serializers.IntegerField()
    total_cost = _money()
    fund_paid = _money()
    self_paid = _money()


class CostStoryDetailSerializer(CostStorySerializer):
    """One story with the lead-hospital rate and the stay before referral (the seeds' whole episode)."""

    rate = LeadRateSerializer()
    stay_started_at = serializers.DateTimeField(allow_null=True)
    stay_ended_at = serializers.DateTimeField(allow_null=True)
    source_stay = SourceStaySerializer(allow_null=True)


class CostTotalsSerializer(serializers.Serializer):
    """Counts and sums of a month, a receiving member or the year."""

    count = serializers.IntegerField()
    with_money = serializers.IntegerField()
    fallback = serializers.IntegerField()
    days = serializers.IntegerField()
    counterfactual_total = _money()
    counterfactual_fund = _money()
    counterfactual_self = _money()
    actual_total = _money()
    actual_fund = _money()
    actual_self = _money()
    saving_total = _money()
    saving_fund = _money()
    saving_self = _money()


class CostMonthSerializer(CostTotalsSerializer):
    """One month of the year."""

    month = serializers.DateField(source="label")


class CostInstitutionSerializer(CostTotalsSerializer):
    """One receiving member over the year."""

    institution = serializers.CharField(source="label")


class CostStoryReportSerializer(serializers.Serializer):
    """The year: totals by month and member, and one page of stories (count/next/previous/results)."""

    consortium = serializers.UUIDField()
    year = serializers.IntegerField()
    total = CostTotalsSerializer()
    months = CostMonthSerializer(many=True)
    institutions = CostInstitutionSerializer(many=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CostStorySerializer(many=True)


@extend_schema(tags=TAGS)
class CostStoryViewSet(ServiceViewSet):
    """Cost stories of down-referred patients (consortium office, insurance officers, regulators, lead admins)."""

    serializer_class = CostStorySerializer
    error_statuses = (400, 401, 403, 404)

    @extend_schema(
        operation_id="cost_stories_report",
        parameters=[CostStoryQuerySerializer],
        responses={200: CostStoryReportSerializer},
    )
    def report(self, request: Request) -> Response:
        """Monthly totals, totals per receiving member and one page of the year's stories."""
        params = self.query(CostStoryQuerySerializer)
        consortium = cost_stories.cost_story_consortium_get(self.actor, params["consortium"])
        report = cost_stories.cost_story_report(self.actor, consortium, params["year"])
        month = params.get("month")
        listed = cost_stories.stories_of_month(report, month) if month else report.stories
        page = self.paginate_queryset(listed)  # type: ignore[arg-type]
        assert page is not None, "the story list is paginated"
        paginator = self.paginator
        data: dict[str, Any] = {
            "consortium": consortium.public_id,
            "year": report.year,
            "total": CostTotalsSerializer(report.total).data,
            "months": CostMonthSerializer(report.months, many=True).data,
            "institutions": CostInstitutionSerializer(report.institutions, many=True).data,
            "count": paginator.page.paginator.count,  # type: ignore[union-attr]
            "next": paginator.get_next_link(),  # type: ignore[union-attr]
            "previous": paginator.get_previous_link(),  # type: ignore[union-attr]
            "results": CostStorySerializer(page, many=True).data,
        }
        return Response(data)

    @extend_schema(operation_id="cost_stories_retrieve", responses={200: CostStoryDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One story by its referral's public id."""
        story = cost_stories.cost_story_get(self.actor, self.object_id())
        return Response(CostStoryDetailSerializer(story).data)


urlpatterns: list[URLPattern] = [
    path("cost-stories", CostStoryViewSet.as_view({"get": "report"}), name="api-cost-story-list"),
    path(
        "cost-stories/<str:public_id>",
        CostStoryViewSet.as_view({"get": "retrieve"}, pagination_class=None),
        name="api-cost-story-detail",
    ),
]
