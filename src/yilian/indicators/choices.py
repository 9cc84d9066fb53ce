"""Code lists of the indicator engine."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    """The kinds of organisation unit values are computed for."""

    INSTITUTION = "institution", _("机构")
    DEPARTMENT = "department", _("科室")
    CONSORTIUM = "consortium", _("医联体")
    GRID = "grid", _("网格")
    REGION = "region", _("行政区划")


class PeriodType(models.TextChoices):
    """Period lengths; every value is computed for each length at least as long as the indicator's own."""

    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")
    HALF_YEAR = "half_year", _("半年")
    YEAR = "year", _("年")


PERIOD_MONTHS = {PeriodType.MONTH: 1, PeriodType.QUARTER: 3, PeriodType.HALF_YEAR: 6, PeriodType.YEAR: 12}
"""How many months each period type spans."""


class Direction(models.TextChoices):
    """Which way is better."""

    HIGHER = "higher", _("越高越好")
    LOWER = "lower", _("越低越好")
    NEUTRAL = "neutral", _("无方向")


class IndicatorKind(models.TextChoices):
    """Quantitative indicators are computed; qualitative ones are judged from evidence against a checklist."""

    QUANTITATIVE = "quantitative", _("定量")
    QUALITATIVE = "qualitative", _("定性")


class RefreshKind(models.TextChoices):
    """A full refresh recomputes every month of a range; an incremental one only the months and units touched."""

    FULL = "full", _("全量")
    INCREMENTAL = "incremental", _("增量")


class RefreshStatus(models.TextChoices):
    """Where a refresh run is."""

    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("计算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
