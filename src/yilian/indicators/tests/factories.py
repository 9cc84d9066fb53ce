"""Factories of the indicator engine's definitions."""

from __future__ import annotations

from decimal import Decimal

import factory

from yilian.indicators.choices import Direction, IndicatorKind, PeriodType
from yilian.indicators.models import Indicator, IndicatorCatalogue


class IndicatorCatalogueFactory(factory.django.DjangoModelFactory):
    """A catalogue an assessor built (not shipped)."""

    class Meta:
        model = IndicatorCatalogue
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test-catalogue-{n}")
    name = factory.Sequence(lambda n: f"测试指标体系{n}")


class IndicatorFactory(factory.django.DjangoModelFactory):
    """A quantitative monthly indicator: outpatient visits per visit (pass formulas to vary).

    Writes the row directly (no version, no audit): use ``services.indicator_create``
    when the test is about the service.
    """

    class Meta:
        model = Indicator

    catalogue = factory.SubFactory(IndicatorCatalogueFactory)
    code = factory.Sequence(lambda n: f"test_indicator_{n}")
    name = factory.Sequence(lambda n: f"测试指标{n}")
    kind = IndicatorKind.QUANTITATIVE
    numerator = "encounters_outpatient"
    denominator = "encounters_visits"
    factor = Decimal(100)
    unit = "%"
    direction = Direction.HIGHER
    period_type = PeriodType.MONTH
    decimals = 2
