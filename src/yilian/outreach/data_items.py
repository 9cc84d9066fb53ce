"""Facts of outreach for the indicator engine: expert visits sent down, postings in force, senior postings.

Outreach visits count once their batch is done or confirmed, dated by the
visit day, both for the sending institution (experts sent down, 专家下沉人次)
and for the host (help received). Postings (派驻) are a stock: in force at a
month's end between the actual start and the actual end, counted for the
host institution that received the physician.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import SUM, Column, DataItem, DataSource
from yilian.outreach.choices import BatchStatus, PostingStatus
from yilian.outreach.models import OutreachVisit, Posting
from yilian.outreach.selectors import batch_visible_to, posting_visible_to
from yilian.outreach.selectors.reports import LONG_TERM_Q


def _visits() -> QuerySet[OutreachVisit]:
    return OutreachVisit.objects.filter(batch__status__in=[BatchStatus.DONE, BatchStatus.CONFIRMED])


def _visits_visible_to(actor: Any) -> QuerySet[OutreachVisit]:
    return OutreachVisit.objects.filter(batch__in=batch_visible_to(actor).values("pk"))


_VISIT_COLUMNS = (
    Column(_("日期"), "visit_on"),
    Column(_("派出机构"), "batch__sending_institution__name"),
    Column(_("派出科室"), "home_department__name"),
    Column(_("接收机构"), "batch__host_institution__name"),
    Column(_("专家"), "expert__full_name"),
    Column(_("职称"), "title_at_visit"),
    Column(_("帮扶形式"), "kind"),
    Column(_("诊疗人次"), "patients_seen"),
)

SENT = DataSource(
    code="outreach.visits_sent",
    name=_("下沉帮扶（按派出机构、帮扶日期）"),
    records=_visits,
    date_field="visit_on",
    institution_field="batch__sending_institution",
    department_field="home_department",
    visible_to=_visits_visible_to,
    columns=_VISIT_COLUMNS,
)

RECEIVED = DataSource(
    code="outreach.visits_received",
    name=_("接受帮扶（按接收机构、帮扶日期）"),
    records=_visits,
    date_field="visit_on",
    institution_field="batch__host_institution",
    visible_to=_visits_visible_to,
    columns=_VISIT_COLUMNS,
)

POSTED = DataSource(
    code="outreach.postings_in_force",
    name=_("派驻（月末在岗，按接收机构）"),
    records=lambda: Posting.objects.filter(
        actual_start__isnull=False,
        status__in=[PostingStatus.ACTIVE, PostingStatus.COMPLETED, PostingStatus.ENDED_EARLY],
    ),
    date_field="actual_start",
    ends_field="actual_end",
    institution_field="host_institution",
    visible_to=posting_visible_to,
    columns=(
        Column(_("派出机构"), "home_institution__name"),
        Column(_("接收机构"), "host_institution__name"),
        Column(_("专家"), "expert__full_name"),
        Column(_("派驻时职称"), "title_at_posting"),
        Column(_("实际开始日期"), "actual_start"),
        Column(_("实际结束日期"), "actual_end"),
        Column(_("状态"), "status"),
    ),
    detail_url="outreach:posting-detail",
)

# 中级及以上医师: the professional-title codes of accounts (主治医师、副主任医师、主任医师).
_SENIOR_PHYSICIAN_TITLES = ["attending_physician", "associate_chief_physician", "chief_physician"]
# 二级及以上: hospital grade 2 or 3; 基层: categories B (社区), C (卫生院), D (门诊部、诊所、村卫生室).
_SECONDARY_PLUS_HOME = Q(home_institution__grade__in=["2", "3"])
_PRIMARY_HOST = (
    Q(host_institution__category__startswith="B")
    | Q(host_institution__category__startswith="C")
    | Q(host_institution__category__startswith="D")
)

DATA_ITEMS = [
    DataItem(
        code="outreach_visits",
        name=_("专家下沉帮扶人次"),
        description=_("帮扶日期在该月的专家下沉帮扶记录数（批次已完成或已确认），按派出机构和科室统计。"),
        source=SENT,
        unit=_("人次"),
    ),
    DataItem(
        code="outreach_visit_sessions",
        name=_("专家下沉帮扶次数（半天）"),
        description=_("帮扶日期在该月的专家下沉帮扶次数（按半天计）之和，按派出机构统计。"),
        source=SENT,
        measure=SUM,
        field="sessions",
        unit=_("次"),
    ),
    DataItem(
        code="outreach_patients_seen",
        name=_("下沉专家诊疗人次"),
        description=_("帮扶日期在该月、下沉专家坐诊、义诊等诊疗人次之和，按派出机构统计。"),
        source=SENT,
        measure=SUM,
        field="patients_seen",
        unit=_("人次"),
    ),
    DataItem(
        code="outreach_visits_received",
        name=_("接受专家帮扶人次"),
        description=_("帮扶日期在该月的专家帮扶记录数，按接收机构统计。"),
        source=RECEIVED,
        unit=_("人次"),
    ),
    DataItem(
        code="outreach_postings",
        name=_("派驻在岗人数"),
        description=_("月末在岗的派驻人员数（存量，实际开始至实际结束之间），按接收机构统计。"),
        source=POSTED,
        unit=_("人"),
    ),
    DataItem(
        code="outreach_postings_senior_to_primary",
        name=_("二级及以上机构中级及以上医师派驻基层人数"),
        description=_(
            "月末在岗、派出机构为二级及以上医院、派驻时职称为主治医师及以上、接收机构为基层医疗卫生机构、"
            "派驻满183天（按实际结束日期，未结束按计划结束日期）的长期派驻人数（存量）。年度值为各月末人数的平均。"
        ),
        source=POSTED,
        filter=Q(title_at_posting__in=_SENIOR_PHYSICIAN_TITLES)
        & _SECONDARY_PLUS_HOME
        & _PRIMARY_HOST
        & LONG_TERM_Q,
        unit=_("人"),
    ),
]
