"""Facts of chronic-disease management for the indicator engine: cases under management, follow-ups, control.

Cases under management are a stock: enrolled by the month's end and not
closed before it (``enrolled_on`` / ``closed_on``), counted for the managing
primary institution. Follow-ups are events dated by the visit, counted for
the institution that made them; "controlled" is the control judged at that
follow-up (the case's current state would rewrite history).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.chronic_care.choices import Control
from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.chronic_care.selectors import case_visible_to, follow_up_visible_to
from yilian.core.data_items import Column, DataItem, DataSource
from yilian.people.policies import can_view_people

MANAGED = DataSource(
    code="chronic_care.cases_managed",
    name=_("慢病管理患者（月末存量）"),
    records=lambda: ChronicCase.objects.all(),
    date_field="enrolled_on",
    ends_field="closed_on",
    institution_field="institution",
    visible_to=case_visible_to,
    columns=(
        Column(_("病种"), "registry__name"),
        Column(pgettext_lazy("chronic-disease case's managing institution", "管理机构"), "institution__name"),
        Column(_("纳入管理日期"), "enrolled_on"),
        Column(_("结案日期"), "closed_on"),
        Column(_("患者"), "person__name", sensitive=True),
    ),
    detail_url="chronic_care:case",
    shows_full=can_view_people,
)

FOLLOWED_UP = DataSource(
    code="chronic_care.follow_ups",
    name=_("慢病随访（按随访日期）"),
    records=lambda: FollowUp.objects.all(),
    date_field="visited_on",
    institution_field="institution",
    visible_to=follow_up_visible_to,
    columns=(
        Column(_("随访日期"), "visited_on"),
        Column(_("病种"), "case__registry__name"),
        Column(_("随访机构"), "institution__name"),
        Column(_("随访方式"), "method"),
        Column(_("控制情况"), "control"),
        Column(_("患者"), "case__person__name", sensitive=True),
    ),
    detail_url="chronic_care:follow-up",
    shows_full=can_view_people,
)

DATA_ITEMS = [
    DataItem(
        code="chronic_cases_managed",
        name=_("慢病管理人数"),
        description=_("月末仍在管理中的慢病管理档案数（存量；一人患两种慢病计两档），按管理机构统计。"),
        source=MANAGED,
        unit=_("人"),
    ),
    DataItem(
        code="chronic_cases_managed_hypertension",
        name=_("高血压管理人数"),
        description=_("月末仍在管理中的高血压管理档案数（存量）。"),
        source=MANAGED,
        filter=Q(registry__code="hypertension"),
        unit=_("人"),
    ),
    DataItem(
        code="chronic_cases_managed_diabetes",
        name=_("2型糖尿病管理人数"),
        description=_("月末仍在管理中的2型糖尿病管理档案数（存量）。"),
        source=MANAGED,
        filter=Q(registry__code="diabetes_t2"),
        unit=_("人"),
    ),
    DataItem(
        code="chronic_follow_ups",
        name=_("慢病随访人次"),
        description=_("随访日期在该月的慢病随访记录数，按随访机构统计。"),
        source=FOLLOWED_UP,
        unit=_("人次"),
    ),
    DataItem(
        code="chronic_follow_ups_measured",
        name=_("有测量结果的慢病随访人次"),
        description=_("随访日期在该月、测量了血压或血糖并判断了控制情况的随访记录数。"),
        source=FOLLOWED_UP,
        filter=~Q(control=Control.UNKNOWN),
        unit=_("人次"),
    ),
    DataItem(
        code="chronic_follow_ups_controlled",
        name=_("控制满意的慢病随访人次"),
        description=_("随访日期在该月、该次随访判断为控制满意的随访记录数。"),
        source=FOLLOWED_UP,
        filter=Q(control=Control.CONTROLLED),
        unit=_("人次"),
    ),
]
