"""Facts of encounters for the indicator engine: visits and stays by kind, TCM, surgery and cost."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import SUM, Column, DataItem, DataSource
from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.encounters.selectors import encounters_visible_to, service_volumes_visible_to
from yilian.people.policies import can_view_people


def _encounters() -> QuerySet[Encounter]:
    return Encounter.objects.all()


_COLUMNS = (
    Column(_("就诊/入院时间"), "started_at"),
    Column(_("出院时间"), "ended_at"),
    Column(_("机构"), "institution__name"),
    Column(_("科室"), "department__name"),
    Column(_("类型"), "kind"),
    Column(_("主要诊断"), "diagnosis_code"),
    Column(_("患者"), "person__name", sensitive=True),
    Column(_("总费用（元）"), "total_cost"),
)

STARTED = DataSource(
    code="encounters.started",
    name=_("就诊与入院（按就诊/入院日期）"),
    records=_encounters,
    date_field="started_at",
    institution_field="institution",
    department_field="department",
    visible_to=encounters_visible_to,
    columns=_COLUMNS,
    shows_full=can_view_people,
)

DISCHARGED = DataSource(
    code="encounters.discharged",
    name=_("出院（按出院日期）"),
    records=lambda: Encounter.objects.filter(kind=EncounterKind.INPATIENT, ended_at__isnull=False),
    date_field="ended_at",
    institution_field="institution",
    department_field="department",
    visible_to=encounters_visible_to,
    columns=_COLUMNS,
    shows_full=can_view_people,
)

_VISITS = Q(kind__in=[EncounterKind.OUTPATIENT, EncounterKind.EMERGENCY])
# Primary care: categories B (社区卫生服务中心/站), C (卫生院), D (门诊部、诊所、村卫生室).
_PRIMARY = (
    Q(institution__category__startswith="B")
    | Q(institution__category__startswith="C")
    | Q(institution__category__startswith="D")
)


def _admissions_under_chronic_care() -> QuerySet[Encounter]:
    # An admission counts when its person had a case in force on the day of admission. EXISTS
    # rather than a join: a person with several cases would otherwise count once per case.
    # Looked up by name: the case model belongs to chronic_care, which builds on encounters.
    chronic_case = apps.get_model("chronic_care", "ChronicCase")
    in_force = chronic_case.objects.filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=OuterRef("started_at__date")),
        person_id=OuterRef("person_id"),
        enrolled_on__lte=OuterRef("started_at__date"),
    )
    return Encounter.objects.filter(Exists(in_force), kind=EncounterKind.INPATIENT)


ADMITTED_UNDER_CHRONIC_CARE = DataSource(
    code="encounters.admissions_chronic",
    name=_("慢病管理人群住院（按入院日期）"),
    records=_admissions_under_chronic_care,
    date_field="started_at",
    institution_field="institution",
    department_field="department",
    visible_to=encounters_visible_to,
    columns=_COLUMNS,
    shows_full=can_view_people,
)
_UNIT_VISITS = _("人次")

_VOLUME_COLUMNS = (
    Column(_("月份"), "month"),
    Column(_("机构"), "institution__name"),
    Column(_("科室"), "department__name"),
    Column(_("门急诊人次"), "outpatient_visits"),
    Column(_("入院人次"), "admissions"),
    Column(_("出院人次"), "discharges"),
)

# Reported monthly volumes (ServiceVolume): the denominators the referral statistics use. They
# exist for months whose encounters were never imported as rows, so rates over referrals divide
# by them rather than by counted encounters. Whole-institution rows and department rows are two
# sources: summing department rows would miss departments that report nothing.
VOLUMES = DataSource(
    code="encounters.volumes",
    name=_("月度服务量（机构合计）"),
    records=lambda: ServiceVolume.objects.filter(department__isnull=True),
    date_field="month",
    institution_field="institution",
    visible_to=lambda actor: service_volumes_visible_to(actor).filter(department__isnull=True),
    columns=_VOLUME_COLUMNS,
)

DEPARTMENT_VOLUMES = DataSource(
    code="encounters.department_volumes",
    name=_("月度服务量（按科室）"),
    records=lambda: ServiceVolume.objects.filter(department__isnull=False),
    date_field="month",
    institution_field="institution",
    department_field="department",
    visible_to=lambda actor: service_volumes_visible_to(actor).filter(department__isnull=False),
    columns=_VOLUME_COLUMNS,
)

DATA_ITEMS = [
    DataItem(
        code="volume_visits",
        name=_("门急诊人次（月度服务量）"),
        description=_("机构上报或由诊疗记录汇总的该月门急诊人次（月度服务量，机构合计）。"),
        source=VOLUMES,
        measure=SUM,
        field="outpatient_visits",
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="volume_admissions",
        name=_("入院人次（月度服务量）"),
        description=_("机构上报或由诊疗记录汇总的该月入院人次（月度服务量，机构合计）。"),
        source=VOLUMES,
        measure=SUM,
        field="admissions",
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="volume_discharges",
        name=_("出院人次（月度服务量）"),
        description=_("机构上报或由诊疗记录汇总的该月出院人次（月度服务量，机构合计）。"),
        source=VOLUMES,
        measure=SUM,
        field="discharges",
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="volume_department_discharges",
        name=_("科室出院人次（月度服务量）"),
        description=_("各科室上报或由诊疗记录汇总的该月出院人次（月度服务量，按科室）。"),
        source=DEPARTMENT_VOLUMES,
        measure=SUM,
        field="discharges",
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_outpatient",
        name=_("门诊人次"),
        description=_("就诊日期在该月的门诊就诊记录数。"),
        source=STARTED,
        filter=Q(kind=EncounterKind.OUTPATIENT),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_emergency",
        name=_("急诊人次"),
        description=_("就诊日期在该月的急诊就诊记录数。"),
        source=STARTED,
        filter=Q(kind=EncounterKind.EMERGENCY),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_visits",
        name=_("门急诊人次（诊疗人次）"),
        description=_("门诊与急诊就诊记录数之和。"),
        source=STARTED,
        filter=_VISITS,
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_visits_tcm",
        name=_("中医类门急诊人次"),
        description=_("标记为中医类诊疗的门急诊就诊记录数。"),
        source=STARTED,
        filter=_VISITS & Q(is_tcm=True),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_visits_primary",
        name=_("基层医疗卫生机构门急诊人次"),
        description=_(
            "基层医疗卫生机构（社区卫生服务中心/站、卫生院、门诊部、诊所、村卫生室）的门急诊就诊记录数。"
        ),
        source=STARTED,
        filter=_VISITS & _PRIMARY,
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_admissions_chronic",
        name=_("慢病管理人群住院人次"),
        description=_(
            "入院日期在该月、入院时正处于慢病管理中（已纳入管理且未结案）的居民的住院记录数，按收治机构统计。"
        ),
        source=ADMITTED_UNDER_CHRONIC_CARE,
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_admissions",
        name=_("入院人次"),
        description=_("入院日期在该月的住院记录数。"),
        source=STARTED,
        filter=Q(kind=EncounterKind.INPATIENT),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_admissions_insured",
        name=_("医保参保人入院人次"),
        description=_("入院日期在该月、医保基金有支付的住院记录数。"),
        source=STARTED,
        filter=Q(kind=EncounterKind.INPATIENT, fund_paid__gt=0),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_discharges",
        name=_("出院人次"),
        description=_("出院日期在该月的住院记录数。"),
        source=DISCHARGED,
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_discharges_surgery_3_4",
        name=_("出院患者三、四级手术人次"),
        description=_("出院日期在该月、主要手术为三级或四级的住院记录数。"),
        source=DISCHARGED,
        filter=Q(surgery_grade__in=[3, 4]),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_discharges_surgery",
        name=_("出院患者手术人次"),
        description=_("出院日期在该月、有主要手术的住院记录数。"),
        source=DISCHARGED,
        filter=Q(surgery_grade__isnull=False),
        unit=_UNIT_VISITS,
    ),
    DataItem(
        code="encounters_inpatient_cost",
        name=_("出院患者住院总费用"),
        description=_("出院日期在该月的住院记录总费用之和（元）。"),
        source=DISCHARGED,
        measure=SUM,
        field="total_cost",
        unit=_("元"),
    ),
    DataItem(
        code="encounters_inpatient_fund_paid",
        name=_("出院患者医保基金支付"),
        description=_("出院日期在该月的住院记录医保基金支付之和（元）。"),
        source=DISCHARGED,
        measure=SUM,
        field="fund_paid",
        unit=_("元"),
    ),
]
