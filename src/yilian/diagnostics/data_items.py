"""Facts of the shared diagnostic centres for the indicator engine: orders, reports on time, recognitions.

Orders count for the ordering institution (the member whose patient is
examined), dated by ``ordered_at``; published reports count for the centre's
hub institution, dated by ``final_at`` (turnaround is judged against the
order's ``due_at``). Recognition decisions count for the institution where
the order was entered, dated by when the decision was taken.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import SUM, Column, DataItem, DataSource
from yilian.diagnostics import policies
from yilian.diagnostics.choices import CentreKind, OrderStatus, RecognitionOutcome
from yilian.diagnostics.models import DiagnosticOrder, RecognitionDecision
from yilian.diagnostics.selectors import order_visible_to
from yilian.people.policies import can_view_people

_ORDER_COLUMNS = (
    Column(_("申请单号"), "number"),
    Column(_("开单时间"), "ordered_at"),
    Column(_("开单机构"), "ordering_institution__name"),
    Column(_("开单科室"), "ordering_department__name"),
    Column(_("诊断中心"), "centre__name"),
    Column(_("项目"), "item_name"),
    Column(_("状态"), "status"),
    Column(_("患者"), "person__name", sensitive=True),
    Column(_("报告发布时间"), "final_at"),
    Column(_("报告截止时间"), "due_at"),
)


def _orders() -> QuerySet[DiagnosticOrder]:
    return DiagnosticOrder.objects.exclude(status=OrderStatus.CANCELLED)


ORDERED = DataSource(
    code="diagnostics.orders",
    name=_("检查检验申请（按开单机构、开单日期）"),
    records=_orders,
    date_field="ordered_at",
    institution_field="ordering_institution",
    department_field="ordering_department",
    visible_to=order_visible_to,
    columns=_ORDER_COLUMNS,
    detail_url="diagnostics:detail",
    # Not can_view_people: a hub's administrator sees the centre's orders from elsewhere masked (page, API).
    shows_full=policies.sees_every_patient,
)

REPORTED = DataSource(
    code="diagnostics.reports",
    name=_("已发布报告（按诊断中心所在机构、发布日期）"),
    records=lambda: DiagnosticOrder.objects.filter(final_at__isnull=False),
    date_field="final_at",
    institution_field="centre__hub_institution",
    visible_to=order_visible_to,
    columns=_ORDER_COLUMNS,
    detail_url="diagnostics:detail",
    # Not can_view_people: a hub's administrator sees the centre's orders from elsewhere masked (page, API).
    shows_full=policies.sees_every_patient,
)

RECOGNITIONS = DataSource(
    code="diagnostics.recognitions",
    name=_("结果互认判断（按开单机构、判断日期）"),
    records=lambda: RecognitionDecision.objects.all(),
    date_field="created_at",
    institution_field="institution",
    columns=(
        Column(_("判断时间"), "created_at"),
        Column(_("机构"), "institution__name"),
        Column(_("项目编码"), "item_code"),
        Column(_("处理"), "outcome"),
        Column(_("节省费用（元）"), "saved_amount"),
    ),
    shows_full=can_view_people,
)

_UNIT = _("人次")
_IMAGING_ECG = Q(centre__kind__in=[CentreKind.IMAGING, CentreKind.ECG])
# Remote: the order came from another institution than the centre's hub (a member unit served at a distance).
_REMOTE = ~Q(ordering_institution=F("centre__hub_institution"))

DATA_ITEMS = [
    DataItem(
        code="diagnostics_orders",
        name=_("共享中心检查检验申请数"),
        description=_("开单日期在该月、送共享诊断中心的检查检验申请数（不含已撤销），按开单机构和科室统计。"),
        source=ORDERED,
        unit=_UNIT,
    ),
    DataItem(
        code="diagnostics_orders_imaging_ecg_remote",
        name=_("影像、心电中心远程诊断申请数"),
        description=_("开单日期在该月、由中心所在机构以外的成员单位送医学影像中心或心电中心的申请数。"),
        source=ORDERED,
        filter=_IMAGING_ECG & _REMOTE,
        unit=_UNIT,
    ),
    DataItem(
        code="diagnostics_reports",
        name=_("共享中心发布报告数"),
        description=_("报告发布日期在该月的申请数，按诊断中心所在机构统计。"),
        source=REPORTED,
        unit=_("份"),
    ),
    DataItem(
        code="diagnostics_reports_on_time",
        name=_("按时发布报告数"),
        description=_("报告发布日期在该月、且发布时间不晚于报告截止时间的申请数，按诊断中心所在机构统计。"),
        source=REPORTED,
        filter=Q(due_at__isnull=False, final_at__lte=F("due_at")),
        unit=_("份"),
    ),
    DataItem(
        code="diagnostics_reports_imaging_ecg_remote",
        name=_("影像、心电中心远程诊断报告数"),
        description=_("报告发布日期在该月、医学影像中心或心电中心为其他成员单位出具的报告数。"),
        source=REPORTED,
        filter=_IMAGING_ECG & _REMOTE,
        unit=_("份"),
    ),
    DataItem(
        code="diagnostics_recognition_checks",
        name=_("可互认结果判断次数"),
        description=_("判断日期在该月、开单时发现可互认既往结果的次数（采用或重复检查）。"),
        source=RECOGNITIONS,
        unit=_("次"),
    ),
    DataItem(
        code="diagnostics_recognition_used",
        name=_("采用既往结果（互认）次数"),
        description=_("判断日期在该月、采用既往结果而未重复检查的次数。"),
        source=RECOGNITIONS,
        filter=Q(outcome=RecognitionOutcome.USED),
        unit=_("次"),
    ),
    DataItem(
        code="diagnostics_recognition_repeated",
        name=_("有可互认结果仍重复检查次数"),
        description=_("判断日期在该月、虽有可互认既往结果仍重复检查（须填写原因）的次数。"),
        source=RECOGNITIONS,
        filter=Q(outcome=RecognitionOutcome.REPEATED),
        unit=_("次"),
    ),
    DataItem(
        code="diagnostics_recognition_saved",
        name=_("结果互认节省费用"),
        description=_("判断日期在该月、采用既往结果所节省的检查检验费用之和。"),
        source=RECOGNITIONS,
        filter=Q(outcome=RecognitionOutcome.USED),
        measure=SUM,
        field="saved_amount",
        unit=_("元"),
    ),
]
