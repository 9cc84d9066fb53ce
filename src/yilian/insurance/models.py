"""Insurance: settlement records of the county's insured, the consortium's global budget and its settlement.

``Claim`` rows arrive from the insurance bureau's files (the ingestion app);
``GlobalBudget`` is the insurance officer's rule for one consortium and
year; ``Settlement`` is a frozen, versioned year-end (or trial) result.
Money is Decimal with two places everywhere; shares are split to the cent.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.models import BaseModel
from yilian.insurance.choices import ClaimKind, ProviderPlace, SettlementTier
from yilian.people.choices import InsuranceScheme

MONEY = {"max_digits": 14, "decimal_places": 2}


class Claim(models.Model):
    """One insurance settlement record (医保结算清单) of an insured person of a county.

    ``insured_region`` is the county whose fund paid (参保地); the provider is
    matched to a registered institution when its credit code is known, else
    kept by name and region. ``provider_place`` is derived on import from the
    consortium membership and regions, so budget pages filter without joins.
    ``source_record_id`` (the bureau's settlement number) is unique: re-imports
    never duplicate a claim. No public id: claims are reached through
    aggregates and, for insurance and oversight roles, filtered lists.
    """

    source_record_id = models.CharField(_("结算流水号"), max_length=64, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("参保人"), on_delete=models.PROTECT, related_name="claims"
    )
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices)
    insured_region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("参保地"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("类别"), max_length=12, choices=ClaimKind.choices)
    provider_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("定点机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    provider_name = models.CharField(_("定点机构名称"), max_length=200)
    provider_region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("机构所在地"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    provider_place = models.CharField(
        _("就医地"), max_length=16, choices=ProviderPlace.choices, db_index=True
    )
    started_on = models.DateField(_("就诊/入院日期"))
    ended_on = models.DateField(_("结束/出院日期"))
    settled_on = models.DateField(_("结算日期"), db_index=True)
    diagnosis_code = models.CharField(_("主要诊断编码"), max_length=11, blank=True)
    total_cost = models.DecimalField(_("总费用（元）"), **MONEY)
    fund_paid = models.DecimalField(_("基金支付（元）"), **MONEY)
    self_paid = models.DecimalField(_("个人支付（元）"), **MONEY)
    unreasonable_amount = models.DecimalField(
        _("不合理费用（元）"),
        **MONEY,
        default=Decimal("0"),
        help_text=_("医保审核认定的不合理费用，由医共体承担"),
    )
    unreasonable_reason = models.CharField(_("不合理原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["-settled_on", "-id"]
        verbose_name = _("医保结算记录")
        verbose_name_plural = _("医保结算记录")
        indexes = [models.Index(fields=["insured_region", "settled_on"], name="claim_region_month_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_cost__gte=0)
                & models.Q(fund_paid__gte=0)
                & models.Q(self_paid__gte=0)
                & models.Q(unreasonable_amount__gte=0),
                name="claim_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__gte=models.F("started_on")), name="claim_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_record_id} {self.provider_name}"


class GlobalBudget(BaseModel):
    """A consortium's insurance global budget (医保总额付费) for one year: the pool and what counts against it.

    Pool = (Σ headcount × per-capita fund − Σ deductions) × ``consortium_share``.
    The ``counts_*`` switches say which fund payments for the county's insured
    are charged to the pool. ``prepayment_rate`` of each month's actual cost
    of the members is paid monthly; the rest after the annual assessment.
    ``version`` guards concurrent edits (409 on a stale version).
    """

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="global_budgets",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    consortium_share = models.DecimalField(
        _("打包比例"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.95"),
        help_text=_("交给医共体的基金比例，0–1"),
    )
    prepayment_rate = models.DecimalField(
        _("月度预付比例"), max_digits=5, decimal_places=4, default=Decimal("0.95")
    )
    counts_members = models.BooleanField(_("计入医共体成员费用"), default=True)
    counts_in_county_others = models.BooleanField(_("计入县域内其他机构费用"), default=True)
    counts_out_of_county = models.BooleanField(_("计入县外就医费用"), default=True)
    counts_pharmacies = models.BooleanField(_("计入定点药店费用"), default=False)
    notes = models.CharField(_("说明"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("医保总额预算")
        verbose_name_plural = _("医保总额预算")
        constraints = [
            models.UniqueConstraint(fields=["consortium", "year"], name="global_budget_unique_year"),
            models.CheckConstraint(
                condition=models.Q(consortium_share__gte=0, consortium_share__lte=1)
                & models.Q(prepayment_rate__gte=0, prepayment_rate__lte=1),
                name="global_budget_rates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.year}"


class BudgetHeadcount(models.Model):
    """Insured headcount and per-capita fund of one scheme in a budget (参保人数 × 人均筹资)."""

    budget = models.ForeignKey(GlobalBudget, on_delete=models.CASCADE, related_name="headcounts")
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices)
    insured_count = models.PositiveIntegerField(_("参保人数"))
    per_capita_fund = models.DecimalField(_("人均基金（元）"), **MONEY)

    class Meta:
        verbose_name = _("参保人数与人均基金")
        verbose_name_plural = _("参保人数与人均基金")
        constraints = [
            models.UniqueConstraint(fields=["budget", "scheme"], name="budget_headcount_unique_scheme")
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.insured_count}"


class BudgetDeduction(models.Model):
    """An amount taken off the fund before the share is applied (大病保险、风险调剂金、预留金…)."""

    budget = models.ForeignKey(GlobalBudget, on_delete=models.CASCADE, related_name="deductions")
    name = models.CharField(_("扣除项"), max_length=60)
    amount = models.DecimalField(_("金额（元）"), **MONEY)

    class Meta:
        verbose_name = _("预算扣除项")
        verbose_name_plural = _("预算扣除项")
        constraints = [
            models.UniqueConstraint(fields=["budget", "name"], name="budget_deduction_unique_name"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="budget_deduction_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class SettlementRule(BaseModel):
    """How a budget's result is shared (结余留用、合理超支分担): α, γ, the tier ratio and score weighting.

    A budget can hold several named rules; the what-if page compares them and
    the officer marks one as adopted. Ratios are whole-number parts
    (6 : 3 : 1, or 4 : 3 : 3).
    """

    budget = models.ForeignKey(GlobalBudget, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(_("方案名称"), max_length=60)
    surplus_retained = models.DecimalField(
        _("结余留用比例 α"), max_digits=5, decimal_places=4, default=Decimal("1")
    )
    overspend_borne = models.DecimalField(
        _("合理超支医共体承担比例 γ"), max_digits=5, decimal_places=4, default=Decimal("0.5")
    )
    lead_parts = models.PositiveSmallIntegerField(_("牵头医院份数"), default=6)
    township_parts = models.PositiveSmallIntegerField(_("乡镇卫生院份数"), default=3)
    village_parts = models.PositiveSmallIntegerField(_("村卫生室份数"), default=1)
    weighted_by_score = models.BooleanField(_("按考核得分加权"), default=False)
    is_adopted = models.BooleanField(_("采用"), default=False)

    class Meta:
        ordering = ["budget", "-is_adopted", "name"]
        verbose_name = _("结算方案")
        verbose_name_plural = _("结算方案")
        constraints = [
            models.UniqueConstraint(fields=["budget", "name"], name="settlement_rule_unique_name"),
            models.UniqueConstraint(
                fields=["budget"], condition=models.Q(is_adopted=True), name="settlement_rule_one_adopted"
            ),
            models.CheckConstraint(
                condition=models.Q(surplus_retained__gte=0, surplus_retained__lte=1)
                & models.Q(overspend_borne__gte=0, overspend_borne__lte=1),
                name="settlement_rule_rates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTier(BaseModel):
    """The settlement tier an insurance officer chose for one consortium member in one budget (结算层级).

    The tier decides which part of the rule's ratio (牵头医院 : 乡镇 : 村, e.g.
    6 : 3 : 1) the member shares in. A member without a row takes the default
    of ``calculation.default_tier``; removing the row returns it to the
    default. Kept per budget like the rules, so a change never moves another
    year's figures; a frozen settlement keeps the tiers it was computed with.
    """

    budget = models.ForeignKey(GlobalBudget, on_delete=models.CASCADE, related_name="member_tiers")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("成员单位"), on_delete=models.PROTECT, related_name="+"
    )
    tier = models.CharField(_("结算层级"), max_length=10, choices=SettlementTier.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确定人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["budget", "institution_id"]
        verbose_name = _("成员结算层级")
        verbose_name_plural = _("成员结算层级")
        constraints = [
            models.UniqueConstraint(fields=["budget", "institution"], name="member_tier_unique_member")
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.tier}"


class Settlement(BaseModel):
    """A frozen settlement of a budget under one rule: version n, its figures and each member's share.

    Never edited once frozen: a new calculation is a new version. The
    version in force is the latest one; an insurance officer may **reopen**
    it with a reason (``reopened_at``, ``reopened_by``, ``reopen_reason``,
    the only fields ever written after the freeze) so the budget's figures
    can be corrected and frozen again as the next version, while the
    reopened one stays readable as history with its figures untouched.
    ``figures`` keeps the pool, spending by destination, subsidies, the
    rule's parameters, the consortium's name and the year, and (``monthly``)
    the budget's twelve months with the places counted, as computed, so the
    page, the PDF, the Excel workbook and the API reproduce exactly whatever
    is imported or changed later. Versions frozen before the months were kept
    have no ``monthly``: their Excel monthly sheet is computed from today's
    data and says so (``monthly_recorded``).
    """

    budget = models.ForeignKey(GlobalBudget, on_delete=models.PROTECT, related_name="settlements")
    version = models.PositiveIntegerField(_("版本"))
    rule_name = models.CharField(_("方案名称"), max_length=60)
    pool = models.DecimalField(_("基金池（元）"), **MONEY)
    spent = models.DecimalField(_("计入支出（元）"), **MONEY)
    result = models.DecimalField(_("结余（负数为超支）（元）"), max_digits=14, decimal_places=2)
    consortium_amount = models.DecimalField(
        _("医共体所得（负数为承担）（元）"), max_digits=14, decimal_places=2
    )
    fund_amount = models.DecimalField(_("基金承担（元）"), **MONEY, default=Decimal("0"))
    figures = models.JSONField(_("计算明细"), default=dict)
    frozen_at = models.DateTimeField(_("冻结时间"))
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("冻结人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopened_at = models.DateTimeField(_("重新开放时间"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("重新开放人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopen_reason = models.CharField(_("重新开放原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["budget", "-version"]
        verbose_name = _("年度结算")
        verbose_name_plural = _("年度结算")
        constraints = [
            models.UniqueConstraint(fields=["budget", "version"], name="settlement_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.budget} v{self.version}"

    @property
    def consortium_name(self) -> str:
        """The consortium's name when the settlement was frozen (a later rename does not change the report)."""
        return str(self.figures.get("consortium_name") or self.budget.consortium.name)

    @property
    def year(self) -> int:
        """The budget's year when the settlement was frozen (the budget's year can be edited later)."""
        return int(self.figures.get("year") or self.budget.year)

    @property
    def monthly_recorded(self) -> bool:
        """True when the budget's months were kept at freeze; False for versions frozen before they were."""
        return "monthly" in self.figures

    @property
    def is_reopened(self) -> bool:
        """True once an insurance officer reopened this version for a correction (it is no longer in force)."""
        return self.reopened_at is not None


class SettlementShare(models.Model):
    """One member's share of a frozen settlement (positive: reward; negative: overspend borne).

    ``institution_name`` is the member's name at freeze, which the reports
    print: renaming the institution later does not rewrite a frozen report.
    """

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="shares")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("成员单位"), on_delete=models.PROTECT, related_name="+"
    )
    institution_name = models.CharField(_("成员单位名称"), max_length=200, default="")
    tier = models.CharField(_("层级"), max_length=10, choices=SettlementTier.choices)
    score = models.DecimalField(_("考核得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["settlement", "tier", "-amount"]
        verbose_name = _("结算分配")
        verbose_name_plural = _("结算分配")
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "institution"], name="settlement_share_unique_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.amount}"
