"""Facts of teleconsultations for the indicator engine: requests, consultations held, patients kept local.

A teleconsultation counts for the inviting institution (where the patient
is). Requests are dated by when they were created; a consultation counts as
held when the expert signed the opinion and is dated by that signature, and
its outcome (kept local, referred) is counted on the same date so that the
kept-local share compares like with like.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yilian.core.data_items import Column, DataItem, DataSource
from yilian.people.policies import can_view_people
from yilian.telemedicine.choices import TeleconsultationOutcome, TeleconsultationStatus
from yilian.telemedicine.models import Teleconsultation
from yilian.telemedicine.selectors import teleconsultation_visible_to

_COLUMNS = (
    Column(_("会诊单号"), "number"),
    Column(_("会诊类型"), "kind"),
    Column(_("状态"), "status"),
    Column(_("邀请机构"), "inviting_institution__name"),
    Column(_("邀请科室"), "inviting_department__name"),
    Column(_("受邀机构"), "invited_institution__name"),
    Column(_("会诊意见签署时间"), "opinion_signed_at"),
    Column(_("诊疗决定"), "outcome"),
    Column(_("患者"), "person__name", sensitive=True),
)

REQUESTED = DataSource(
    code="telemedicine.requested",
    name=_("远程会诊申请（按邀请机构、申请日期）"),
    records=lambda: Teleconsultation.objects.exclude(status=TeleconsultationStatus.CANCELLED),
    date_field="created_at",
    institution_field="inviting_institution",
    department_field="inviting_department",
    visible_to=teleconsultation_visible_to,
    columns=_COLUMNS,
    detail_url="telemedicine:detail",
    shows_full=can_view_people,
)

HELD = DataSource(
    code="telemedicine.held",
    name=_("已完成远程会诊（按邀请机构、会诊意见签署日期）"),
    records=lambda: Teleconsultation.objects.filter(opinion_signed_at__isnull=False),
    date_field="opinion_signed_at",
    institution_field="inviting_institution",
    department_field="inviting_department",
    visible_to=teleconsultation_visible_to,
    columns=_COLUMNS,
    detail_url="telemedicine:detail",
    shows_full=can_view_people,
)

_UNIT = _("例")

DATA_ITEMS = [
    DataItem(
        code="tele_requests",
        name=_("远程会诊申请数"),
        description=_("申请日期在该月的远程会诊申请数（不含已取消），按邀请机构统计。"),
        source=REQUESTED,
        unit=_UNIT,
    ),
    DataItem(
        code="tele_consultations",
        name=_("远程会诊例数"),
        description=_("会诊意见签署日期在该月的远程会诊数，按邀请机构和科室统计。"),
        source=HELD,
        unit=_UNIT,
    ),
    DataItem(
        code="tele_kept_local",
        name=_("会诊后留在本地治疗例数"),
        description=_("会诊意见签署日期在该月、诊疗决定为留在本地治疗的远程会诊数。"),
        source=HELD,
        filter=Q(outcome=TeleconsultationOutcome.STAYED_LOCAL),
        unit=_UNIT,
    ),
    DataItem(
        code="tele_referred",
        name=_("会诊后转诊例数"),
        description=_("会诊意见签署日期在该月、诊疗决定为转诊的远程会诊数。"),
        source=HELD,
        filter=Q(outcome=TeleconsultationOutcome.REFERRED),
        unit=_UNIT,
    ),
    DataItem(
        code="tele_decided",
        name=_("会诊后已作诊疗决定例数"),
        description=_("会诊意见签署日期在该月、邀请方已记录诊疗决定的远程会诊数。"),
        source=HELD,
        filter=~Q(outcome=""),
        unit=_UNIT,
    ),
]
