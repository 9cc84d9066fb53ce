"""Facts of the registry for the indicator engine: resident population and institutions of a kind.

Both are regional stocks: they belong to a region, not to an institution,
and are "in force" every month (no date). The population is read from
township-level regions only, so summing a county's townships never counts
the county's own figure a second time. Institutions of a kind are counted
in the region they stand in (any consortium or not).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import SUM, Column, DataItem, DataSource
from yilian.institutions.choices import InstitutionCategory, InstitutionStatus, RegionLevel
from yilian.institutions.models import Institution, Region

POPULATION = DataSource(
    code="institutions.population",
    name=_("常住人口（乡镇级区划）"),
    records=lambda: Region.objects.filter(level=RegionLevel.TOWNSHIP, population__isnull=False),
    date_field="",
    region_field="pk",
    columns=(Column(_("区划代码"), "code"), Column(_("名称"), "name"), Column(_("常住人口"), "population")),
)

INSTITUTIONS = DataSource(
    code="institutions.registry",
    name=_("在册运营医疗卫生机构（按所在区划）"),
    records=lambda: Institution.objects.filter(status=InstitutionStatus.ACTIVE),
    date_field="",
    region_field="region",
    columns=(
        Column(_("机构名称"), "name"),
        Column(_("机构类别"), "category"),
        Column(_("所在区划"), "region__name"),
    ),
)

_PRIMARY = Q(category__startswith="B") | Q(category__startswith="C") | Q(category__startswith="D")

DATA_ITEMS = [
    DataItem(
        code="population",
        name=_("常住人口"),
        description=_("乡镇级区划登记的常住人口之和（区划数据，无日期，每月相同）。"),
        source=POPULATION,
        measure=SUM,
        field="population",
        unit=_("人"),
    ),
    DataItem(
        code="institutions_village_clinics",
        name=_("村卫生室数"),
        description=_("所在区划内运营中的村卫生室数（存量）。"),
        source=INSTITUTIONS,
        filter=Q(category=InstitutionCategory.VILLAGE_CLINIC),
        unit=_("个"),
    ),
    DataItem(
        code="institutions_township_centres",
        name=_("乡镇卫生院数"),
        description=_("所在区划内运营中的中心卫生院和乡卫生院数（存量）。"),
        source=INSTITUTIONS,
        filter=Q(
            category__in=[
                InstitutionCategory.CENTRAL_TOWNSHIP_HEALTH_CENTRE,
                InstitutionCategory.TOWNSHIP_HEALTH_CENTRE,
            ]
        ),
        unit=_("个"),
    ),
    DataItem(
        code="institutions_primary",
        name=_("基层医疗卫生机构数"),
        description=_(
            "所在区划内运营中的基层医疗卫生机构（社区卫生服务中心/站、卫生院、门诊部、诊所、村卫生室）数（存量）。"
        ),
        source=INSTITUTIONS,
        filter=_PRIMARY,
        unit=_("个"),
    ),
]
