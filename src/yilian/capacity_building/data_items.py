"""Facts of capacity building for the indicator engine: trainees, fellows, techniques transferred, devices.

Training attendances are dated by the sign-in and counted for the trainee's
institution; fellows (进修) are a stock between the actual start and end,
counted for the sending (home) institution; techniques count once the
consortium office confirmed them, dated by the introduction day, for the
institution that introduced them; supported devices are a stock between
delivery and return, counted for the recipient.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.capacity_building.choices import CourseStatus, DeviceType, TechniqueStatus
from yilian.capacity_building.models import Fellowship, SupportedDevice, TechniqueTransfer, TrainingAttendance
from yilian.capacity_building.selectors import (
    course_visible_to,
    device_visible_to,
    fellowship_visible_to,
    technique_visible_to,
)
from yilian.core.data_items import Column, DataItem, DataSource


def _attendances_visible_to(actor: Any) -> QuerySet[TrainingAttendance]:
    return TrainingAttendance.objects.filter(course__in=course_visible_to(actor).values("pk"))


ATTENDED = DataSource(
    code="capacity_building.attendances",
    name=_("培训签到（按学员所在机构、签到日期）"),
    records=lambda: TrainingAttendance.objects.filter(institution__isnull=False).exclude(
        course__status=CourseStatus.CANCELLED
    ),
    date_field="signed_in_at",
    institution_field="institution",
    visible_to=_attendances_visible_to,
    columns=(
        Column(_("签到时间"), "signed_in_at"),
        Column(_("培训名称"), "course__title"),
        Column(_("所在机构"), "institution__name"),
        Column(_("学员姓名"), "name", sensitive=True),
    ),
)

FELLOWS = DataSource(
    code="capacity_building.fellows",
    name=_("在修进修人员（月末存量，按选派单位）"),
    records=lambda: Fellowship.objects.filter(started_on__isnull=False),
    date_field="started_on",
    ends_field="ended_on",
    institution_field="home_institution",
    visible_to=fellowship_visible_to,
    columns=(
        Column(_("选派单位"), "home_institution__name"),
        Column(_("进修单位"), "host_institution__name"),
        Column(_("进修科室"), "host_department__name"),
        Column(_("实际开始日期"), "started_on"),
        Column(_("结束日期"), "ended_on"),
        Column(_("状态"), "status"),
        Column(_("进修人员"), "trainee__full_name", sensitive=True),
    ),
    detail_url="capacity_building:fellowship",
)

TECHNIQUES = DataSource(
    code="capacity_building.techniques",
    name=_("新技术新项目（已确认，按引进机构、引进日期）"),
    records=lambda: TechniqueTransfer.objects.filter(status=TechniqueStatus.CONFIRMED),
    date_field="introduced_on",
    institution_field="institution",
    visible_to=technique_visible_to,
    columns=(
        Column(_("技术/项目名称"), "name"),
        Column(_("类别"), "category"),
        Column(_("引进机构"), "institution__name"),
        Column(_("支持机构"), "supporting_institution__name"),
        Column(_("引进日期"), "introduced_on"),
        Column(_("累计开展例数"), "cases_to_date"),
    ),
    detail_url="capacity_building:technique",
)

DEVICES = DataSource(
    code="capacity_building.devices",
    name=_("支援设备（月末在用，按受援机构）"),
    records=lambda: SupportedDevice.objects.all(),
    date_field="delivered_on",
    ends_field="returned_on",
    institution_field="recipient",
    visible_to=device_visible_to,
    columns=(
        Column(_("设备名称"), "name"),
        Column(_("设备类型"), "device_type"),
        Column(_("受援机构"), "recipient__name"),
        Column(_("交付日期"), "delivered_on"),
        Column(_("归还日期"), "returned_on"),
    ),
    detail_url="capacity_building:device",
)

DATA_ITEMS = [
    DataItem(
        code="cb_trainees",
        name=_("培训人次"),
        description=_("签到日期在该月的培训签到记录数（不含已取消的培训），按学员所在机构统计。"),
        source=ATTENDED,
        unit=_("人次"),
    ),
    DataItem(
        code="cb_fellows",
        name=_("在修进修人员数"),
        description=_("月末正在进修的人数（存量，实际开始至结束之间），按选派单位统计。"),
        source=FELLOWS,
        unit=_("人"),
    ),
    DataItem(
        code="cb_techniques",
        name=_("引进新技术新项目数"),
        description=_("引进日期在该月、经医联体办公室确认的新技术新项目数，按引进机构统计。"),
        source=TECHNIQUES,
        unit=_("项"),
    ),
    DataItem(
        code="cb_devices_ecg_village",
        name=_("村卫生室在用支援心电设备数"),
        description=_(
            "月末在用、类型为心电图机/心电监护仪、受援机构为村卫生室的支援设备数（存量）。"
            "只含经医联体登记捐赠或借用的设备，不含村卫生室自购设备；一室多台按台数计。"
        ),
        source=DEVICES,
        filter=Q(device_type=DeviceType.ECG, recipient__category="D600"),
        unit=_("台"),
    ),
]
