"""Factories for registry objects. Codes are real-format and pass their check digits."""

from __future__ import annotations

import datetime
import random

import factory

from yilian.core.text import pinyin_full, pinyin_initials
from yilian.institutions.choices import ConsortiumType, Integration, MemberRole, RegionLevel
from yilian.institutions.codes import credit_code_with_check
from yilian.institutions.models import (
    Consortium,
    ConsortiumMember,
    Department,
    Grid,
    GridArea,
    GridAssignment,
    Institution,
    Region,
)

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_random = random.Random(20261122)


def credit_code(region_code: str = "341522", first: str = "1", second: str = "2") -> str:
    """A valid unified social credit code registered in ``region_code``."""
    body = first + second + region_code[:6] + "".join(_random.choice(_ORG_ALPHABET) for _ in range(9))
    return credit_code_with_check(body)


def region(code: str, name: str, level: str, parent: Region | None = None) -> Region:
    """Get or create a region with its pinyin keys and prefix."""
    prefix = {"province": code[:2], "prefecture": code[:4]}.get(level, code)
    obj, _created = Region.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "level": level,
            "prefix": prefix,
            "parent": parent,
            "name_initials": pinyin_initials(name),
            "name_pinyin": pinyin_full(name),
        },
    )
    return obj


def region_tree() -> dict[str, Region]:
    """A small real tree: 安徽省 → 六安市 → 霍邱县 (two towns, three villages) and 裕安区."""
    province = region("340000", "安徽省", RegionLevel.PROVINCE)
    city = region("341500", "六安市", RegionLevel.PREFECTURE, province)
    county = region("341522", "霍邱县", RegionLevel.COUNTY, city)
    district = region("341503", "裕安区", RegionLevel.COUNTY, city)
    town_a = region("341522100", "城关镇", RegionLevel.TOWNSHIP, county)
    town_b = region("341522101", "河口镇", RegionLevel.TOWNSHIP, county)
    village_a1 = region("341522100201", "东湖村", RegionLevel.VILLAGE, town_a)
    village_a2 = region("341522100202", "西湖村", RegionLevel.VILLAGE, town_a)
    village_b1 = region("341522101201", "河口村", RegionLevel.VILLAGE, town_b)
    return {
        "province": province,
        "city": city,
        "county": county,
        "district": district,
        "town_a": town_a,
        "town_b": town_b,
        "village_a1": village_a1,
        "village_a2": village_a2,
        "village_b1": village_b1,
    }


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "341522"
    name = "霍邱县"
    level = RegionLevel.COUNTY
    prefix = factory.LazyAttribute(lambda o: o.code)
    parent = None
    name_initials = factory.LazyAttribute(lambda o: pinyin_initials(o.name))
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_full(o.name))


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"霍邱县第{n + 1}乡镇卫生院")
    credit_code = factory.LazyAttribute(lambda o: credit_code(o.region.code))
    category = "C220"
    grade = "1"
    grade_class = "unrated"
    ownership = "public"
    profit_status = "1"
    region = factory.SubFactory(RegionFactory)
    beds = 40
    name_initials = factory.LazyAttribute(lambda o: pinyin_initials(o.name))
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_full(o.name))


class HospitalFactory(InstitutionFactory):
    name = factory.Sequence(lambda n: f"霍邱县第{n + 1}人民医院")
    category = "A100"
    grade = "2"
    grade_class = "a"
    beds = 600


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    institution = factory.SubFactory(HospitalFactory)
    name = factory.Sequence(lambda n: f"心血管内科{n + 1}病区")
    code = factory.Sequence(lambda n: f"03{n:02d}")
    specialty = "03"
    name_initials = factory.LazyAttribute(lambda o: pinyin_initials(o.name))
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_full(o.name))


class ConsortiumFactory(factory.django.DjangoModelFactory):
    """A consortium with one lead member (pass ``lead=`` to choose the lead institution)."""

    class Meta:
        model = Consortium
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"霍邱县第{n + 1}医共体")
    type = ConsortiumType.COUNTY_COMMUNITY
    integration = Integration.TIGHT
    region = factory.SubFactory(RegionFactory)
    established_on = datetime.date(2020, 7, 1)
    name_initials = factory.LazyAttribute(lambda o: pinyin_initials(o.name))
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_full(o.name))

    @factory.post_generation
    def lead(self, create: bool, extracted: Institution | None, **kwargs: object) -> None:
        if not create:
            return
        institution = extracted or HospitalFactory(region=self.region)
        ConsortiumMember.objects.create(
            consortium=self,
            institution=institution,
            role=MemberRole.LEAD,
            joined_on=self.established_on or datetime.date(2020, 7, 1),
            grid_form=self.type in (ConsortiumType.CITY_GROUP, ConsortiumType.COUNTY_COMMUNITY),
        )


class ConsortiumMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsortiumMember

    consortium = factory.SubFactory(ConsortiumFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = MemberRole.MEMBER
    joined_on = datetime.date(2021, 1, 1)
    grid_form = factory.LazyAttribute(
        lambda o: o.consortium.type in (ConsortiumType.CITY_GROUP, ConsortiumType.COUNTY_COMMUNITY)
    )


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    region = factory.SubFactory(RegionFactory)
    code = factory.Sequence(lambda n: f"341522-G{n + 1:02d}")
    name = factory.Sequence(lambda n: f"第{n + 1}网格")
    name_initials = factory.LazyAttribute(lambda o: pinyin_initials(o.name))
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_full(o.name))


def cover(grid: Grid, *areas: Region) -> None:
    """Put areas into a grid."""
    GridArea.objects.bulk_create([GridArea(grid=grid, area=area) for area in areas])


def assign(
    grid: Grid, consortium: Consortium, day: datetime.date = datetime.date(2021, 1, 1)
) -> GridAssignment:
    """Make a consortium responsible for a grid."""
    return GridAssignment.objects.create(grid=grid, consortium=consortium, assigned_from=day)
