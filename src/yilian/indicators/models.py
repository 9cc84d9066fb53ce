"""Indicators as data, and the tables their evaluation fills.

The evaluation is three materialised layers, each filled by set-based SQL
inside the database (``evaluation``):

1. ``DataValue``: each data item per month and base unit (institution and
   department, or region for regional facts), counted from the source records;
2. ``UnitValue``: the same rolled up to every unit (institution, department,
   consortium, grid, region) and period (month, quarter, half-year, year)
   through ``UnitMember`` and ``CalendarPeriod``;
3. ``IndicatorValue``: numerator, denominator and value of every indicator
   per unit and period, computed from ``UnitValue`` by the compiled formulas.

Rolling up sums numerators and denominators, never averages ratios.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.core.models import BaseModel
from yilian.indicators.choices import (
    Direction,
    IndicatorKind,
    PeriodType,
    RefreshKind,
    RefreshStatus,
    UnitKind,
)

VALUE_DIGITS = {"max_digits": 24, "decimal_places": 6}


def shown_name(name: str, name_en: str) -> str:
    """``name_en`` for a reader of English when it is set, else ``name`` (the Chinese name).

    Indicators an office types in may have no English name; their readers
    then see the Chinese one rather than an empty cell.
    """
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language.split("-")[0] == "en" and name_en.strip():
        return name_en
    return name


KNOWN_UNITS: dict[str, Promise] = {
    # Each message id written out (not a loop over the keys), so that extraction finds it.
    "人次": pgettext_lazy("unit", "人次"),
    "人": pgettext_lazy("unit", "人"),
    "元": pgettext_lazy("unit", "元"),
    "万元": pgettext_lazy("unit", "万元"),
    "天": pgettext_lazy("unit", "天"),
    "例": pgettext_lazy("unit", "例"),
    "次": pgettext_lazy("unit", "次"),
    "次/人": pgettext_lazy("unit", "次/人"),
    "份": pgettext_lazy("unit", "份"),
    "项": pgettext_lazy("unit", "项"),
    "个": pgettext_lazy("unit", "个"),
    "台": pgettext_lazy("unit", "台"),
    "家": pgettext_lazy("unit", "家"),
    "元/人次": pgettext_lazy("unit", "元/人次"),
    "元/例": pgettext_lazy("unit", "元/例"),
    "人/每万常住人口": pgettext_lazy("unit", "人/每万常住人口"),
}
"""The units indicators are stored with (in Chinese, like the rest of the catalogue), each with its reading in
the reader's language (the ``unit`` context of the translation catalogue). The shipped catalogues use only
these (``catalogue.check_catalogues`` says so); a unit an office typed that is not among them stays as typed,
as a name without an English form does."""

SYMBOL_UNITS = frozenset({"%", "％", "‰"})
"""Units that read the same in every language."""


def shown_unit(unit: str) -> str:
    """``unit`` as the reader reads it: a known unit in the reader's language, any other as stored."""
    known = KNOWN_UNITS.get(unit.strip())
    return str(known) if known is not None else unit


KNOWN_AREAS: dict[str, Promise] = {
    # Each message id written out (not a loop over the keys), so that extraction finds it.
    "紧密型": pgettext_lazy("indicator area", "紧密型"),
    "同质化": pgettext_lazy("indicator area", "同质化"),
    "促分工": pgettext_lazy("indicator area", "促分工"),
    "提效能": pgettext_lazy("indicator area", "提效能"),
    "保健康": pgettext_lazy("indicator area", "保健康"),
    "双向转诊": pgettext_lazy("indicator area", "双向转诊"),
    "分级诊疗": pgettext_lazy("indicator area", "分级诊疗"),
    "费用控制": pgettext_lazy("indicator area", "费用控制"),
    "资源下沉": pgettext_lazy("indicator area", "资源下沉"),
    "资源共享": pgettext_lazy("indicator area", "资源共享"),
    "远程医疗": pgettext_lazy("indicator area", "远程医疗"),
}
"""The areas (指标领域) the shipped catalogues group their indicators by, stored in Chinese, each with its
reading in the reader's language (the ``indicator area`` context). ``catalogue.check_catalogues`` refuses a
shipped area not among them; an area an office typed stays as typed."""


def shown_area(area: str) -> str:
    """``area`` as the reader reads it: a shipped area in the reader's language, any other as stored."""
    known = KNOWN_AREAS.get(area.strip())
    return str(known) if known is not None else area


def with_unit(number: str, unit: str) -> str:
    """``number`` followed by an already shown ``unit``: "12.5%", "12元", but "12 yuan" (a word needs a space)."""
    if not unit:
        return number
    # Chinese units and symbols (元, ‰, ％, %) follow the number directly; Latin words and figures do not.
    joined = unit == "%" or not unit[0].isascii()
    return f"{number}{unit}" if joined else f"{number} {unit}"


class IndicatorCatalogue(BaseModel):
    """A named set of indicators: a shipped national or seed set, or one an assessor builds.

    Shipped catalogues are loaded by ``services.catalogue_install``; their
    indicators may be edited (each edit is a new version) but not deleted.
    """

    code = models.SlugField(_("编码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    description = models.TextField(_("说明"), blank=True)
    source_document = models.CharField(_("依据文件"), max_length=300, blank=True)
    is_shipped = models.BooleanField(_("系统内置"), default=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("指标体系")
        verbose_name_plural = _("指标体系")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (``shown_name``)."""
        return shown_name(self.name, self.name_en)


class Indicator(BaseModel):
    """An indicator defined as data: numerator and denominator formulas over data items, and how to read it.

    ``value = factor × numerator ÷ denominator`` (no denominator: ``factor ×
    numerator``). ``legend`` is a list of bands ``{"from", "to", "color",
    "label"}`` (traffic light); ``checklist`` lists the points a qualitative
    indicator is judged on. ``consortium`` set means the indicator belongs to
    that consortium's office; empty means the shared catalogue, kept by
    regulators. ``version`` grows with every edit and an ``IndicatorVersion``
    keeps each definition, so published figures keep the definition they
    were computed with. ``is_working_definition`` marks a formula whose
    official definition is not confirmed; the UI says so.
    """

    catalogue = models.ForeignKey(
        IndicatorCatalogue, verbose_name=_("指标体系"), on_delete=models.PROTECT, related_name="indicators"
    )
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("所属医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    code = models.SlugField(_("指标编码"), max_length=60, unique=True)
    name = models.CharField(_("指标名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    area = models.CharField(_("指标领域"), max_length=60, blank=True)
    description = models.TextField(_("指标说明"), blank=True)
    kind = models.CharField(
        _("类型"), max_length=12, choices=IndicatorKind.choices, default=IndicatorKind.QUANTITATIVE
    )
    numerator = models.TextField(_("分子公式"), blank=True)
    numerator_description = models.CharField(_("分子说明"), max_length=300, blank=True)
    denominator = models.TextField(_("分母公式"), blank=True)
    denominator_description = models.CharField(_("分母说明"), max_length=300, blank=True)
    factor = models.DecimalField(_("系数"), max_digits=12, decimal_places=2, default=Decimal(1))
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    period_type = models.CharField(
        _("统计周期"), max_length=10, choices=PeriodType.choices, default=PeriodType.MONTH
    )
    decimals = models.PositiveSmallIntegerField(
        _("小数位数"), default=2, validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    legend = models.JSONField(_("分段（红黄绿）"), default=list, blank=True)
    target = models.DecimalField(_("目标值"), max_digits=24, decimal_places=6, null=True, blank=True)
    weight = models.DecimalField(_("权重"), max_digits=8, decimal_places=2, default=Decimal(0))
    checklist = models.JSONField(_("评判要点"), default=list, blank=True)
    source_document = models.CharField(_("依据文件"), max_length=300, blank=True)
    is_working_definition = models.BooleanField(_("工作定义（口径待核实）"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["catalogue__sort_order", "sort_order", "code"]
        verbose_name = _("指标")
        verbose_name_plural = _("指标")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (``shown_name``): English when set and asked for, else Chinese."""
        return shown_name(self.name, self.name_en)

    @property
    def display_area(self) -> str:
        """The area in the reader's language (``shown_area``): a shipped area translated, any other as stored."""
        return shown_area(self.area)

    @property
    def display_unit(self) -> str:
        """The unit in the reader's language (``shown_unit``): a known unit translated, any other as stored."""
        return shown_unit(self.unit)

    @property
    def is_qualitative(self) -> bool:
        """Judged from evidence rather than computed."""
        return self.kind == IndicatorKind.QUALITATIVE


class IndicatorVersion(models.Model):
    """One saved definition of an indicator: every field that shapes its figures, as JSON.

    Written on create and on each edit in the same transaction; rounds and
    published reports point at the version their figures were computed with.
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("版本"))
    definition = models.JSONField(_("定义"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("修改时间"), auto_now_add=True)

    class Meta:
        ordering = ["indicator", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "version"], name="indicator_version_unique")
        ]
        verbose_name = _("指标版本")
        verbose_name_plural = _("指标版本")

    def __str__(self) -> str:
        return f"{self.indicator_id} v{self.version}"


class RankingPolicy(models.Model):
    """What a consortium lets its members see of each other: only their own figures, or the ranking too.

    Absent means members see their own figures and the ranking (the seeds
    publish monthly rankings to the members).
    """

    consortium = models.OneToOneField(
        "institutions.Consortium", on_delete=models.CASCADE, related_name="ranking_policy"
    )
    members_see_ranking = models.BooleanField(_("成员可见排名"), default=True)
    members_see_others_values = models.BooleanField(_("成员可见其他成员指标值"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("排名公开设置")
        verbose_name_plural = _("排名公开设置")

    def __str__(self) -> str:
        return str(self.consortium_id)


class CalendarPeriod(models.Model):
    """Which periods a month falls in: one row per (month, period type).

    ``number`` is the period's place in its year (month 1–12, quarter 1–4,
    half 1–2, year 1), so "the same period last year" is a plain join.
    """

    month = models.DateField(_("月份"))
    period_type = models.CharField(_("周期类型"), max_length=10, choices=PeriodType.choices)
    year = models.PositiveSmallIntegerField(_("年"))
    number = models.PositiveSmallIntegerField(_("序号"))
    period_start = models.DateField(_("周期开始"))
    period_end = models.DateField(_("周期结束"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "period_type"], name="calendar_month_period_unique")
        ]
        verbose_name = _("统计周期")
        verbose_name_plural = _("统计周期")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.period_type} {self.period_start}"


class DataValue(models.Model):
    """A data item's value for one month and base unit, counted from the source records.

    ``institution``/``department`` are empty for regional facts (population),
    which are attributed to ``region`` only. The foreign keys carry no
    database constraint: the table is rebuilt by the engine, never edited.
    """

    item = models.CharField(_("数据项"), max_length=60)
    month = models.DateField(_("月份"))
    region = models.ForeignKey(
        "institutions.Region", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "institutions.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    value = models.DecimalField(_("值"), **VALUE_DIGITS)

    class Meta:
        indexes = [
            models.Index(fields=["month", "institution"], name="datavalue_month_institution"),
            models.Index(fields=["item", "month"], name="datavalue_item_month"),
        ]
        verbose_name = _("数据项取值")
        verbose_name_plural = _("数据项取值")

    def __str__(self) -> str:
        return f"{self.item} {self.month:%Y-%m} {self.value}"


class UnitMember(models.Model):
    """Which base institutions (and, for regional facts, which regions) a unit sums over.

    Rebuilt at each refresh from the registry: an institution belongs to
    itself, to its consortia (active members), to the grids and regions it
    lies in. Regions belong to the regions above them, to consortia whose
    area they are and to the grids they make up.
    """

    unit_kind = models.CharField(max_length=12, choices=UnitKind.choices)
    unit_id = models.BigIntegerField()
    institution_id = models.BigIntegerField(null=True)
    region_id = models.BigIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["institution_id"], name="unitmember_institution"),
            models.Index(fields=["region_id"], name="unitmember_region"),
            models.Index(fields=["unit_kind", "unit_id"], name="unitmember_unit"),
        ]
        verbose_name = _("单元构成")
        verbose_name_plural = _("单元构成")

    def __str__(self) -> str:
        return f"{self.unit_kind}:{self.unit_id}"


class UnitValue(models.Model):
    """A data item's value for one unit and period, summed from ``DataValue`` (stock items: averaged over months)."""

    item = models.CharField(_("数据项"), max_length=60)
    unit_kind = models.CharField(_("单元类型"), max_length=12, choices=UnitKind.choices)
    unit_id = models.BigIntegerField(_("单元"))
    period_type = models.CharField(_("周期类型"), max_length=10, choices=PeriodType.choices)
    period_start = models.DateField(_("周期开始"))
    year = models.PositiveSmallIntegerField(_("年"))
    number = models.PositiveSmallIntegerField(_("序号"))
    value = models.DecimalField(_("值"), **VALUE_DIGITS)

    class Meta:
        indexes = [
            models.Index(
                fields=["unit_kind", "unit_id", "period_type", "period_start"], name="unitvalue_cell"
            ),
            models.Index(fields=["period_type", "period_start"], name="unitvalue_period"),
        ]
        verbose_name = _("单元数据项取值")
        verbose_name_plural = _("单元数据项取值")

    def __str__(self) -> str:
        return f"{self.item} {self.unit_kind}:{self.unit_id} {self.period_start}"


class IndicatorValue(models.Model):
    """An indicator's numerator, denominator and value for one unit and period.

    ``value`` is empty when the denominator is zero. ``previous_value`` is the
    same unit's value in the same period of the previous year, for growth.
    Replaced as a whole for the cells a refresh recomputes, inside the
    refresh's transaction, so readers see either the old or the new figures.
    """

    # No index of its own: indicator_id leads indicatorvalue_cell_unique and indicatorvalue_period, which
    # serve every lookup by indicator (including the cascade when an indicator is deleted).
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values", db_index=False)
    unit_kind = models.CharField(_("单元类型"), max_length=12, choices=UnitKind.choices)
    unit_id = models.BigIntegerField(_("单元"))
    period_type = models.CharField(_("周期类型"), max_length=10, choices=PeriodType.choices)
    period_start = models.DateField(_("周期开始"))
    year = models.PositiveSmallIntegerField(_("年"))
    number = models.PositiveSmallIntegerField(_("序号"))
    numerator = models.DecimalField(_("分子"), **VALUE_DIGITS)
    denominator = models.DecimalField(_("分母"), null=True, **VALUE_DIGITS)
    value = models.DecimalField(_("指标值"), null=True, **VALUE_DIGITS)
    previous_value = models.DecimalField(_("上年同期值"), null=True, **VALUE_DIGITS)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit_kind", "unit_id", "period_type", "period_start"],
                name="indicatorvalue_cell_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["unit_kind", "unit_id", "period_type", "period_start"], name="indicatorvalue_cell"
            ),
            models.Index(fields=["indicator", "period_type", "period_start"], name="indicatorvalue_period"),
        ]
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.unit_kind}:{self.unit_id} {self.period_start} {self.value}"


class StaleMark(models.Model):
    """A month whose source records changed since the last refresh: of one institution, or regional.

    Written by ``services.mark_stale`` (imports, the demo); the incremental
    refresh consumes the marks it recomputes in its own transaction. A mark
    without an institution says the month's regional facts (claims by
    insured region, population) changed. ``model`` names the model whose
    records changed (``encounters.Encounter``): the refresh recomputes only the
    data sources counted over it; an empty ``model`` stands for every source.
    """

    institution_id = models.BigIntegerField(null=True, blank=True)
    month = models.DateField()
    model = models.CharField(max_length=100, blank=True, default="")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["institution_id", "month", "model"], name="stalemark_institution_month_unique"
            ),
            models.UniqueConstraint(
                fields=["month", "model"],
                condition=models.Q(institution_id__isnull=True),
                name="stalemark_regional_month_unique",
            ),
        ]
        verbose_name = _("待刷新月份")
        verbose_name_plural = _("待刷新月份")

    def __str__(self) -> str:
        return f"{self.institution_id or '-'} {self.month:%Y-%m}"


class RefreshRun(BaseModel):
    """One evaluation run: full (every month of a range) or incremental (marked months and institutions).

    ``counts`` records how many rows each layer wrote; ``duration_ms`` the
    wall time. Failed runs keep the error and change no figures.
    """

    kind = models.CharField(_("类型"), max_length=12, choices=RefreshKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=RefreshStatus.choices, default=RefreshStatus.QUEUED
    )
    first_month = models.DateField(_("起始月份"), null=True, blank=True)
    last_month = models.DateField(_("截止月份"), null=True, blank=True)
    months = models.JSONField(_("月份"), default=list, blank=True)
    institution_ids = models.JSONField(_("机构"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)
    counts = models.JSONField(_("写入行数"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("指标计算任务")
        verbose_name_plural = _("指标计算任务")

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.created_at:%Y-%m-%d %H:%M}"
