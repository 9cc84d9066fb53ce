"""Facts of referrals for the indicator engine: issued up/down/lateral, inside the consortium, criteria, loop closure.

A referral counts once it is submitted (drafts never left the sender). It is
dated by ``submitted_at`` when counted as issued or received, and by
``closed_at`` when counted as a closed loop, so a referral issued in March and
closed in April is issued in March and closed in April.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import Column, DataItem, DataSource
from yilian.people.policies import can_view_people
from yilian.referrals.choices import ReferralDirection, ReferralStatus
from yilian.referrals.models import Referral
from yilian.referrals.selectors import referral_visible_to


def _submitted() -> QuerySet[Referral]:
    return Referral.objects.filter(submitted_at__isnull=False).exclude(status=ReferralStatus.DRAFT)


_COLUMNS = (
    Column(_("转诊单号"), "number"),
    Column(_("提交时间"), "submitted_at"),
    Column(_("方向"), "direction"),
    Column(_("状态"), "status"),
    Column(_("转出机构"), "from_institution__name"),
    Column(_("转出科室"), "from_department__name"),
    Column(_("接收机构"), "to_institution__name"),
    Column(_("接收科室"), "to_department__name"),
    Column(_("疾病诊断"), "diagnosis_name"),
    Column(_("患者"), "person__name", sensitive=True),
    Column(_("闭环时间"), "closed_at"),
)

ISSUED = DataSource(
    code="referrals.issued",
    name=_("转诊（按转出方、提交日期）"),
    records=_submitted,
    date_field="submitted_at",
    institution_field="from_institution",
    department_field="from_department",
    visible_to=referral_visible_to,
    columns=_COLUMNS,
    detail_url="referrals:detail",
    shows_full=can_view_people,
)

RECEIVED = DataSource(
    code="referrals.received",
    name=_("转诊（按接收方、提交日期）"),
    records=_submitted,
    date_field="submitted_at",
    institution_field="to_institution",
    department_field="to_department",
    visible_to=referral_visible_to,
    columns=_COLUMNS,
    detail_url="referrals:detail",
    shows_full=can_view_people,
)

CLOSED = DataSource(
    code="referrals.closed",
    name=_("闭环转诊（按转出方、闭环日期）"),
    records=lambda: Referral.objects.filter(closed_at__isnull=False),
    date_field="closed_at",
    institution_field="from_institution",
    department_field="from_department",
    visible_to=referral_visible_to,
    columns=_COLUMNS,
    detail_url="referrals:detail",
    shows_full=can_view_people,
)

_UNIT = _("人次")
_UP = Q(direction=ReferralDirection.UP)
_DOWN = Q(direction=ReferralDirection.DOWN)
# Answered within the consortium's response time limit (answer_due_at is set on submission).
_ANSWERED_ON_TIME = Q(
    answered_at__isnull=False, answer_due_at__isnull=False, answered_at__lte=F("answer_due_at")
)

DATA_ITEMS = [
    DataItem(
        code="referrals_issued",
        name=_("转出转诊人次"),
        description=_("提交日期在该月的转诊单数（不含草稿），按转出机构和科室统计。"),
        source=ISSUED,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_up",
        name=_("上转人次"),
        description=_("提交日期在该月的上转转诊单数，按转出机构和科室统计。"),
        source=ISSUED,
        filter=_UP,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_down",
        name=_("下转人次"),
        description=_("提交日期在该月的下转转诊单数，按转出机构和科室统计（牵头医院科室下转率的分子）。"),
        source=ISSUED,
        filter=_DOWN,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_lateral",
        name=_("平转人次"),
        description=_("提交日期在该月的平级转诊单数，按转出机构统计。"),
        source=ISSUED,
        filter=Q(direction=ReferralDirection.LATERAL),
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_inside",
        name=_("医联体内转诊人次"),
        description=_("提交日期在该月、转出与接收双方均为同一医联体成员的转诊单数。"),
        source=ISSUED,
        filter=Q(inside_consortium=True),
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_up_inside",
        name=_("医联体内上转人次"),
        description=_("提交日期在该月、医联体内的上转转诊单数。"),
        source=ISSUED,
        filter=_UP & Q(inside_consortium=True),
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_down_inside",
        name=_("医联体内下转人次"),
        description=_("提交日期在该月、医联体内的下转转诊单数。"),
        source=ISSUED,
        filter=_DOWN & Q(inside_consortium=True),
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_criteria_checked",
        name=_("已对照转诊标准的转诊人次"),
        description=_("提交日期在该月、已按转诊标准判断（符合或不符合）的转诊单数。"),
        source=ISSUED,
        filter=Q(criteria_met__isnull=False),
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_criteria_met",
        name=_("符合转诊标准的转诊人次"),
        description=_("提交日期在该月、判断为符合转诊标准的转诊单数。"),
        source=ISSUED,
        filter=Q(criteria_met=True),
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_answered_on_time",
        name=_("按时响应的转诊人次"),
        description=_("提交日期在该月、接收方在响应时限内作出响应（接收或拒绝）的转诊单数。"),
        source=ISSUED,
        filter=_ANSWERED_ON_TIME,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_up_received",
        name=_("接收上转人次"),
        description=_("提交日期在该月的上转转诊单数，按接收机构和科室统计。"),
        source=RECEIVED,
        filter=_UP,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_down_received",
        name=_("接收下转人次"),
        description=_("提交日期在该月的下转转诊单数，按接收机构和科室统计。"),
        source=RECEIVED,
        filter=_DOWN,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_closed",
        name=_("闭环转诊人次"),
        description=_("闭环日期在该月的转诊单数，按转出机构和科室统计。"),
        source=CLOSED,
        unit=_UNIT,
    ),
    DataItem(
        code="referrals_closed_on_time",
        name=_("按时响应且闭环的转诊人次"),
        description=_(
            "闭环日期在该月、且接收方在响应时限内作出响应的转诊单数（工作定义：平台未规定闭环时限，"
            "以响应时限衡量“按时”）。"
        ),
        source=CLOSED,
        filter=_ANSWERED_ON_TIME,
        unit=_UNIT,
    ),
]
