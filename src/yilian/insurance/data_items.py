"""Facts of insurance claims for the indicator engine: fund paid by destination, admissions of the insured.

Claims are the county's own insured (``insured_region`` is the county whose
fund paid), wherever they were treated, so they are attributed to that
region rather than to an institution: out-of-county providers are not in the
registry. They are dated by ``settled_on`` (the settlement date the bureau
books the payment on). ``provider_place`` says where the provider stands:
a consortium member, another in-county institution, out of county, or a
designated pharmacy.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import SUM, Column, DataItem, DataSource
from yilian.insurance.choices import ClaimKind, ProviderPlace
from yilian.insurance.models import Claim
from yilian.insurance.selectors import claims_visible_to
from yilian.people.policies import can_view_people


def _claims() -> QuerySet[Claim]:
    return Claim.objects.all()


SETTLED = DataSource(
    code="insurance.claims",
    name=_("医保结算（按参保地、结算日期）"),
    records=_claims,
    date_field="settled_on",
    region_field="insured_region",
    visible_to=claims_visible_to,
    columns=(
        Column(_("结算日期"), "settled_on"),
        Column(_("类别"), "kind"),
        Column(_("定点机构"), "provider_name"),
        Column(_("就医地"), "provider_place"),
        Column(_("参保人"), "person__name", sensitive=True),
        Column(_("总费用（元）"), "total_cost"),
        Column(_("基金支付（元）"), "fund_paid"),
    ),
    shows_full=can_view_people,
)

# Institution categories of primary care (社区卫生服务中心/站 B, 卫生院 C, 门诊部/诊所/村卫生室 D).
_PRIMARY_PROVIDER = (
    Q(provider_institution__category__startswith="B")
    | Q(provider_institution__category__startswith="C")
    | Q(provider_institution__category__startswith="D")
)
_IN_COUNTY = Q(provider_place__in=[ProviderPlace.MEMBER, ProviderPlace.IN_COUNTY])
_NOT_PHARMACY = ~Q(provider_place=ProviderPlace.PHARMACY)
_INPATIENT = Q(kind=ClaimKind.INPATIENT)
_YUAN = _("元")
_TIMES = _("人次")

DATA_ITEMS = [
    DataItem(
        code="claims_fund_paid",
        name=_("医保基金支出（全部）"),
        description=_("结算日期在该月、该参保地参保人的医保基金支付之和，含县外就医和定点药店。"),
        source=SETTLED,
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_fund_paid_excl_pharmacy",
        name=_("医保基金支出（不含药店）"),
        description=_("结算日期在该月、该参保地参保人在定点医疗机构（不含定点药店）就医的医保基金支付之和。"),
        source=SETTLED,
        filter=_NOT_PHARMACY,
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_fund_paid_in_county",
        name=_("医保基金县域内支出（不含药店）"),
        description=_(
            "结算日期在该月、参保人在县域内定点医疗机构（医共体成员及县域内其他机构）就医的医保基金支付之和。"
        ),
        source=SETTLED,
        filter=_IN_COUNTY,
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_fund_paid_members",
        name=_("医保基金医共体成员单位支出"),
        description=_("结算日期在该月、参保人在医共体成员单位就医的医保基金支付之和。"),
        source=SETTLED,
        filter=Q(provider_place=ProviderPlace.MEMBER),
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_fund_paid_primary_in_county",
        name=_("医保基金县域内基层医疗卫生机构支出"),
        description=_(
            "结算日期在该月、参保人在县域内基层医疗卫生机构（社区卫生服务中心/站、卫生院、村卫生室等）就医的医保基金支付之和。"
        ),
        source=SETTLED,
        filter=_IN_COUNTY & _PRIMARY_PROVIDER,
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_fund_paid_out_of_county",
        name=_("医保基金县域外支出"),
        description=_("结算日期在该月、参保人在县域外定点医疗机构就医的医保基金支付之和。"),
        source=SETTLED,
        filter=Q(provider_place=ProviderPlace.OUT_OF_COUNTY),
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_fund_paid_pharmacy",
        name=_("医保基金定点药店支出"),
        description=_("结算日期在该月、参保人在定点药店购药的医保基金支付之和。"),
        source=SETTLED,
        filter=Q(provider_place=ProviderPlace.PHARMACY),
        measure=SUM,
        field="fund_paid",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_admissions",
        name=_("参保人住院人次"),
        description=_("结算日期在该月的该参保地参保人住院结算记录数（县内县外合计）。"),
        source=SETTLED,
        filter=_INPATIENT,
        unit=_TIMES,
    ),
    DataItem(
        code="claims_admissions_in_county",
        name=_("参保人县域内住院人次"),
        description=_("结算日期在该月、在县域内定点医疗机构住院的参保人住院结算记录数。"),
        source=SETTLED,
        filter=_INPATIENT & _IN_COUNTY,
        unit=_TIMES,
    ),
    DataItem(
        code="claims_admissions_out_of_county",
        name=_("参保人县域外住院人次"),
        description=_("结算日期在该月、在县域外定点医疗机构住院的参保人住院结算记录数。"),
        source=SETTLED,
        filter=_INPATIENT & Q(provider_place=ProviderPlace.OUT_OF_COUNTY),
        unit=_TIMES,
    ),
    DataItem(
        code="claims_inpatient_cost_in_county",
        name=_("参保人县域内住院总费用"),
        description=_("结算日期在该月、参保人在县域内定点医疗机构住院的总费用之和。"),
        source=SETTLED,
        filter=_INPATIENT & _IN_COUNTY,
        measure=SUM,
        field="total_cost",
        unit=_YUAN,
    ),
    DataItem(
        code="claims_inpatient_cost",
        name=_("参保人住院总费用"),
        description=_("结算日期在该月的参保人住院总费用之和（县内县外合计）。"),
        source=SETTLED,
        filter=_INPATIENT,
        measure=SUM,
        field="total_cost",
        unit=_YUAN,
    ),
]
