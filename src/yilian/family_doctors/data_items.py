"""Facts of family-doctor contracting for the indicator engine: contracts in force (a stock) and new signings.

A contract is in force at a month's end when it started by then and its
current term had not ended (``ends_on``). The engine's stock model knows one
end date, so terminated contracts are left out altogether (their few months
in force before termination are not counted) rather than counted after
they ended — the lesser error, and said so in the item's description.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import Column, DataItem, DataSource
from yilian.family_doctors.choices import ContractStatus, PackageKind
from yilian.family_doctors.models import FamilyDoctorContract
from yilian.family_doctors.selectors import contract_visible_to
from yilian.people.policies import can_view_people

_COLUMNS = (
    Column(_("协议编号"), "number"),
    Column(_("签约机构"), "institution__name"),
    Column(_("团队"), "team__name"),
    Column(_("首次签约日期"), "starts_on"),
    Column(_("本期到期日期"), "ends_on"),
    Column(_("状态"), "status"),
    Column(_("居民"), "person__name", sensitive=True),
)


def _not_terminated() -> QuerySet[FamilyDoctorContract]:
    return FamilyDoctorContract.objects.exclude(status=ContractStatus.TERMINATED)


IN_FORCE = DataSource(
    code="family_doctors.contracts_in_force",
    name=_("在约家庭医生签约（月末存量）"),
    records=_not_terminated,
    date_field="starts_on",
    ends_field="ends_on",
    institution_field="institution",
    visible_to=contract_visible_to,
    columns=_COLUMNS,
    detail_url="family_doctors:contract",
    shows_full=can_view_people,
)

SIGNED = DataSource(
    code="family_doctors.contracts_signed",
    name=_("新签家庭医生签约（按首次签约日期）"),
    records=lambda: FamilyDoctorContract.objects.all(),
    date_field="starts_on",
    institution_field="institution",
    visible_to=contract_visible_to,
    columns=_COLUMNS,
    detail_url="family_doctors:contract",
    shows_full=can_view_people,
)

_UNIT = _("人")

DATA_ITEMS = [
    DataItem(
        code="fd_contracts_in_force",
        name=_("在约签约居民数"),
        description=_("月末处于有效期内的家庭医生签约数（存量；已解约的协议不计入），按签约机构统计。"),
        source=IN_FORCE,
        unit=_UNIT,
    ),
    DataItem(
        code="fd_contracts_in_force_personalised",
        name=_("在约个性化（付费）签约居民数"),
        description=_("月末处于有效期内、签约个性化服务包的签约数（存量）。"),
        source=IN_FORCE,
        filter=Q(package__kind=PackageKind.PERSONALISED),
        unit=_UNIT,
    ),
    DataItem(
        code="fd_contracts_signed",
        name=_("新签约居民数"),
        description=_("首次签约日期在该月的签约数（含此后解约的），按签约机构统计。"),
        source=SIGNED,
        unit=_UNIT,
    ),
]
