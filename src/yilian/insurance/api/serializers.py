"""Serializers of the insurance API: shapes only; the services check the rules."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.core.api.fields import EnumField
from yilian.insurance.choices import ClaimKind, ProviderPlace, SettlementStatus, SettlementTier
from yilian.insurance.models import Claim, GlobalBudget, Settlement, SettlementRule, SettlementShare
from yilian.insurance.selectors import latest_version, settlement_is_full, settlement_status
from yilian.people.choices import InsuranceScheme
from yilian.people.identifiers import mask_name

MONEY = {"max_digits": 14, "decimal_places": 2}
RATE = {"max_digits": 5, "decimal_places": 4}


class HeadcountSerializer(serializers.Serializer):
    """Insured headcount and per-capita fund of one scheme."""

    scheme = EnumField(InsuranceScheme)
    insured_count = serializers.IntegerField()
    per_capita_fund = serializers.DecimalField(**MONEY)


class DeductionSerializer(serializers.Serializer):
    """An amount taken off the fund before the share."""

    name = serializers.CharField(max_length=60)
    amount = serializers.DecimalField(**MONEY)


class BudgetSerializer(serializers.ModelSerializer):
    """A global budget with its headcounts, deductions and pool."""

    public_id = serializers.UUIDField(read_only=True)
    consortium = serializers.UUIDField(source="consortium.public_id", read_only=True)
    consortium_name = serializers.CharField(source="consortium.name", read_only=True)
    headcounts = HeadcountSerializer(many=True, read_only=True)
    deductions = DeductionSerializer(many=True, read_only=True)
    # Declared, not derived: the model field's range differs between SQLite and PostgreSQL, and the
    # OpenAPI schema must be the same on both.
    year = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    full_report = serializers.SerializerMethodField(
        help_text="false in the list for a member administrator: headcounts, deductions and notes are left "
        "out (the budget page is not theirs)."
    )

    class Meta:
        model = GlobalBudget
        fields = [
            "public_id",
            "consortium",
            "consortium_name",
            "year",
            "consortium_share",
            "prepayment_rate",
            "counts_members",
            "counts_in_county_others",
            "counts_out_of_county",
            "counts_pharmacies",
            "notes",
            "version",
            "headcounts",
            "deductions",
            "full_report",
        ]

    def get_full_report(self, obj: GlobalBudget) -> bool:
        """False when the reader is only a member's administrator (``reads_all`` from the list's selector)."""
        return bool(getattr(obj, "reads_all", True))

    def to_representation(self, instance: GlobalBudget) -> dict[str, Any]:
        """Leave out what the budget page would show, for a reader who may not open it."""
        data = super().to_representation(instance)
        if not self.get_full_report(instance):
            data.update(headcounts=[], deductions=[], notes="")
        return data


class BudgetWriteSerializer(serializers.Serializer):
    """Create or replace a budget; ``version`` (or If-Match) guards an update."""

    consortium = serializers.UUIDField(required=False)
    year = serializers.IntegerField()
    consortium_share = serializers.DecimalField(**RATE)
    prepayment_rate = serializers.DecimalField(**RATE)
    counts_members = serializers.BooleanField(default=True)
    counts_in_county_others = serializers.BooleanField(default=True)
    counts_out_of_county = serializers.BooleanField(default=True)
    counts_pharmacies = serializers.BooleanField(default=False)
    notes = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    headcounts = HeadcountSerializer(many=True)
    deductions = DeductionSerializer(many=True, required=False, default=list)
    version = serializers.IntegerField(required=False)


class MonthSerializer(serializers.Serializer):
    """One month of the budget page."""

    month = serializers.IntegerField()
    pool = serializers.DecimalField(**MONEY)
    members = serializers.DecimalField(**MONEY)
    in_county = serializers.DecimalField(**MONEY)
    out_of_county = serializers.DecimalField(**MONEY)
    pharmacy = serializers.DecimalField(**MONEY)
    counted = serializers.DecimalField(**MONEY, help_text="Fund payments of the places the budget counts.")
    subsidies = serializers.DecimalField(
        **MONEY, help_text="Deductible subsidies of referrals completed this month (charged too)."
    )
    charged = serializers.DecimalField(**MONEY, help_text="counted + subsidies.")
    remaining = serializers.DecimalField(**MONEY, help_text="pool − charged.")
    cumulative_pool = serializers.DecimalField(**MONEY)
    cumulative_counted = serializers.DecimalField(**MONEY)
    cumulative_subsidies = serializers.DecimalField(**MONEY)
    cumulative_remaining = serializers.DecimalField(
        **MONEY, help_text="Pool so far − counted − subsidies so far; December's equals result_to_date."
    )
    prepayment = serializers.DecimalField(**MONEY)
    withheld = serializers.DecimalField(**MONEY)
    leak_share = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)


class DestinationSerializer(serializers.Serializer):
    """Fund paid to one destination (region or institution)."""

    name = serializers.CharField()
    paid = serializers.DecimalField(**MONEY)


class MonthlySerializer(serializers.Serializer):
    """The budget page: months, totals, projection, out-of-county destinations."""

    pool = serializers.DecimalField(**MONEY)
    counted_total = serializers.DecimalField(**MONEY)
    subsidies = serializers.DecimalField(**MONEY)
    spent_total = serializers.DecimalField(**MONEY)
    result_to_date = serializers.DecimalField(**MONEY)
    out_of_county_total = serializers.DecimalField(**MONEY)
    leak_share = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    projected_year_end = serializers.DecimalField(**MONEY)
    projected_result = serializers.DecimalField(**MONEY)
    months = MonthSerializer(many=True)
    out_of_county_by_region = serializers.SerializerMethodField()
    out_of_county_by_institution = serializers.SerializerMethodField()

    @extend_schema_field(DestinationSerializer(many=True))
    def get_out_of_county_by_region(self, obj: Any) -> list[dict[str, Any]]:
        """The top destinations by region."""
        rows = [{"name": r["provider_region__name"], "paid": r["paid"]} for r in obj.out_of_county_by_region]
        return DestinationSerializer(rows, many=True).data  # type: ignore[return-value]

    @extend_schema_field(DestinationSerializer(many=True))
    def get_out_of_county_by_institution(self, obj: Any) -> list[dict[str, Any]]:
        """The top destinations by institution name."""
        rows = [{"name": r["provider_name"], "paid": r["paid"]} for r in obj.out_of_county_by_institution]
        return DestinationSerializer(rows, many=True).data  # type: ignore[return-value]


class RuleSerializer(serializers.ModelSerializer):
    """A settlement rule."""

    public_id = serializers.UUIDField(read_only=True)
    preset = serializers.ChoiceField(choices=["6:3:1", "4:3:3"], write_only=True, required=False)

    class Meta:
        model = SettlementRule
        fields = [
            "public_id",
            "name",
            "surplus_retained",
            "overspend_borne",
            "lead_parts",
            "township_parts",
            "village_parts",
            "weighted_by_score",
            "is_adopted",
            "preset",
        ]
        # Bounds stated here so the OpenAPI schema does not depend on the database's integer range.
        extra_kwargs = {
            name: {"required": False, "min_value": 0, "max_value": 100}
            for name in ("lead_parts", "township_parts", "village_parts")
        }


class ParameterSetSerializer(serializers.Serializer):
    """One what-if column."""

    name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    consortium_share = serializers.DecimalField(**RATE, min_value=0, max_value=1)
    surplus_retained = serializers.DecimalField(**RATE, min_value=0, max_value=1)
    overspend_borne = serializers.DecimalField(**RATE, min_value=0, max_value=1)
    lead_parts = serializers.IntegerField(min_value=0, max_value=100)
    township_parts = serializers.IntegerField(min_value=0, max_value=100)
    village_parts = serializers.IntegerField(min_value=0, max_value=100)
    weighted_by_score = serializers.BooleanField(default=False)


class WhatIfRequestSerializer(serializers.Serializer):
    """2–4 parameter sets and optional scores by institution id."""

    rules = ParameterSetSerializer(many=True, min_length=1, max_length=4)
    scores = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=2), required=False
    )


class ShareOutcomeSerializer(serializers.Serializer):
    """One member's outcome under one rule."""

    institution_id = serializers.IntegerField()
    name = serializers.CharField()
    tier = EnumField(SettlementTier)
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    amount = serializers.DecimalField(**MONEY)


class WhatIfOutcomeSerializer(serializers.Serializer):
    """One rule's outcome."""

    name = serializers.CharField(source="parameters.name")
    pool = serializers.DecimalField(**MONEY)
    charged = serializers.DecimalField(**MONEY)
    subsidies = serializers.DecimalField(**MONEY)
    spent = serializers.DecimalField(**MONEY)
    result = serializers.DecimalField(**MONEY)
    consortium_amount = serializers.DecimalField(**MONEY)
    fund_amount = serializers.DecimalField(**MONEY)
    tier_totals = serializers.DictField(child=serializers.DecimalField(**MONEY))
    shares = ShareOutcomeSerializer(many=True)


class MemberTierSerializer(serializers.Serializer):
    """One active member's settlement tier: the default from the institution, the one an officer recorded."""

    institution = serializers.UUIDField(source="institution_public_id")
    institution_name = serializers.CharField(source="name")
    category = serializers.CharField(help_text="机构类别（WS 218）")
    role = serializers.CharField(help_text="医联体内角色：lead、sub_lead、member")
    default_tier = EnumField(SettlementTier)
    tier = EnumField(SettlementTier, help_text="结算使用的层级：已确定的层级，否则为默认层级")
    recorded = serializers.BooleanField(help_text="医保专员已确定（否则为默认）")
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decided_by(self, row: Any) -> str | None:
        """Who recorded the tier (None for a default)."""
        user = row.decided_by
        if user is None:
            return None
        return getattr(user, "full_name", "") or user.get_username()


class MemberTierListSerializer(serializers.Serializer):
    """Every active member of the budget's consortium with its settlement tier."""

    tiers = MemberTierSerializer(many=True)


class MemberTierChoiceSerializer(serializers.Serializer):
    """One member's tier to record; an empty or null tier returns it to the default."""

    institution = serializers.UUIDField()
    tier = serializers.CharField(
        allow_blank=True, allow_null=True, help_text="lead、township、village；空值或 null 恢复默认"
    )


class MemberTierWriteSerializer(serializers.Serializer):
    """Members whose settlement tier to set (members not listed keep theirs)."""

    tiers = MemberTierChoiceSerializer(many=True)


class FreezeSerializer(serializers.Serializer):
    """Freeze under a rule, with optional assessment scores by institution id."""

    rule = serializers.UUIDField()
    scores = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=2), required=False
    )
    expected_latest_version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The budget's latest settlement version the client read (0: none). The new version supersedes "
        "it; when another version was frozen since, the freeze answers 409 instead.",
    )


class ReopenSerializer(serializers.Serializer):
    """Reopen the settlement in force for a correction: the reason is required (at most 300 characters)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class ShareSerializer(serializers.ModelSerializer):
    """One member's share of a frozen settlement."""

    institution = serializers.UUIDField(source="institution.public_id")
    institution_name = serializers.CharField(help_text="成员单位冻结时的名称")
    tier = EnumField(SettlementTier)

    class Meta:
        model = SettlementShare
        fields = ["institution", "institution_name", "tier", "score", "amount"]


MEMBER_FIGURES = ("consortium_name", "year")
"""What a member administrator's answer keeps of ``figures``: the header their settlement page shows."""


class _SettlementFields(serializers.ModelSerializer):
    """The settlement fields a member administrator reads only in part (their page shows no more)."""

    public_id = serializers.UUIDField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    consortium_amount = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        label="医共体所得（负数为承担）（元）",
        help_text="null in a member administrator's answer.",
    )
    fund_amount = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        label="基金承担（元）",
        help_text="null in a member administrator's answer.",
    )
    full_report = serializers.SerializerMethodField(
        help_text="false: a member administrator's answer (their own shares; the pool, spend and result)."
    )
    status = serializers.SerializerMethodField(
        help_text="in_force: the budget's latest version, not reopened; reopened: an insurance officer reopened "
        "it for a correction (reopened_at, reopened_by, reopen_reason); superseded: a later version exists."
    )
    reopened_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reopened_by = serializers.SerializerMethodField(help_text="Who reopened it (name), or null.")
    reopen_reason = serializers.CharField(read_only=True, label="重新开放原因")

    @extend_schema_field(EnumField(SettlementStatus))
    def get_status(self, obj: Settlement) -> str:
        """Where the version stands; the list view passes ``latest_version`` (else one query)."""
        latest = self.context.get("latest_version")
        return str(settlement_status(obj, latest if latest is not None else latest_version(obj.budget)))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reopened_by(self, obj: Settlement) -> str | None:
        """The reopening officer's name (full name, else username)."""
        user = obj.reopened_by
        if user is None:
            return None
        return getattr(user, "full_name", "") or user.get_username()

    def _full(self, obj: Settlement) -> bool:
        if "full" in self.context:
            return bool(self.context["full"])
        return settlement_is_full(obj)

    def get_full_report(self, obj: Settlement) -> bool:
        """False when the reader is a member administrator."""
        return self._full(obj)

    def to_representation(self, instance: Settlement) -> dict[str, Any]:
        """Leave out what a member administrator's settlement page does not show them."""
        data = super().to_representation(instance)
        if not self._full(instance):
            data["consortium_amount"] = data["fund_amount"] = None
            if "figures" in data:
                data["figures"] = {key: instance.figures.get(key) for key in MEMBER_FIGURES}
        return data


class SettlementSerializer(_SettlementFields):
    """A frozen settlement (shares: all for readers, own for member administrators, whose ``figures`` keep
    only the consortium's name and the year)."""

    shares = serializers.SerializerMethodField()

    class Meta:
        model = Settlement
        fields = [
            "public_id",
            "version",
            "rule_name",
            "pool",
            "spent",
            "result",
            "consortium_amount",
            "fund_amount",
            "figures",
            "frozen_at",
            "full_report",
            "status",
            "reopened_at",
            "reopened_by",
            "reopen_reason",
            "shares",
        ]

    @extend_schema_field(ShareSerializer(many=True))
    def get_shares(self, obj: Settlement) -> list[dict[str, Any]]:
        """The shares the view passed in context (already scoped to the actor)."""
        shares = self.context.get("shares")
        if shares is None:
            return []
        return ShareSerializer(shares, many=True).data  # type: ignore[return-value]


class SettlementSummarySerializer(_SettlementFields):
    """A settlement in the versions list (a member administrator's without the consortium's and the fund's
    amounts; the view passes ``full`` in the context)."""

    class Meta:
        model = Settlement
        fields = [
            "public_id",
            "version",
            "rule_name",
            "pool",
            "spent",
            "result",
            "consortium_amount",
            "fund_amount",
            "frozen_at",
            "full_report",
            "status",
            "reopened_at",
            "reopened_by",
            "reopen_reason",
        ]


class ClaimSerializer(serializers.ModelSerializer):
    """A claim row (name masked)."""

    person_name = serializers.SerializerMethodField()
    provider_place = EnumField(ProviderPlace)
    scheme = EnumField(InsuranceScheme)
    kind = EnumField(ClaimKind)
    insured_region = serializers.CharField(source="insured_region.code")
    provider_region = serializers.CharField(source="provider_region.code")

    class Meta:
        model = Claim
        fields = [
            "source_record_id",
            "person_name",
            "scheme",
            "insured_region",
            "kind",
            "provider_name",
            "provider_region",
            "provider_place",
            "started_on",
            "ended_on",
            "settled_on",
            "diagnosis_code",
            "total_cost",
            "fund_paid",
            "self_paid",
            "unreasonable_amount",
            "unreasonable_reason",
        ]

    def get_person_name(self, obj: Claim) -> str:
        """The insured's name, masked."""
        return mask_name(obj.person.name)


class ClaimQuerySerializer(serializers.Serializer):
    """Claim filters."""

    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)
    place = EnumField(ProviderPlace, required=False)
    kind = EnumField(ClaimKind, required=False)
    provider = serializers.CharField(required=False, max_length=100)


class ClaimAggregateSerializer(serializers.Serializer):
    """Claim totals of one month and place."""

    year = serializers.IntegerField(source="settled_on__year")
    month = serializers.IntegerField()
    place = serializers.CharField(source="provider_place")
    total_cost = serializers.DecimalField(**MONEY)
    fund_paid = serializers.DecimalField(**MONEY)
    self_paid = serializers.DecimalField(**MONEY)
    unreasonable = serializers.DecimalField(**MONEY)


class MarkUnreasonableSerializer(serializers.Serializer):
    """An unreasonable amount and its reason."""

    amount = serializers.DecimalField(**MONEY)
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
