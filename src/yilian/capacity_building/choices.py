"""Code lists of capacity building (能力建设): course kinds, modes, statuses, categories, device types."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CourseKind(models.TextChoices):
    """Forms of "请上来" training the seeds name (培训形式)."""

    COURSE = "course", _("培训班")
    TEACHING_ROUND = "teaching_round", _("教学查房")
    FILM_READING = "film_reading", _("联合读片")
    NURSING_TRAINING = "nursing_training", _("护理培训")
    SKILLS_CONTEST = "skills_contest", _("技能竞赛")
    LECTURE = "lecture", _("专题讲座")


class CourseMode(models.TextChoices):
    """Where a course is held."""

    ON_SITE = "on_site", _("现场")
    ONLINE = "online", _("线上")


class CourseStatus(models.TextChoices):
    """States of a course: published, held (attendance closed), cancelled."""

    PLANNED = "planned", _("已发布")
    HELD = "held", _("已举办")
    CANCELLED = "cancelled", pgettext_lazy("course status", "已取消")


class FellowshipStatus(models.TextChoices):
    """States of a refresher fellowship (进修)."""

    PLANNED = "planned", _("已申请待进修")
    IN_PROGRESS = "in_progress", _("进修中")
    COMPLETED = "completed", _("已结业")
    WITHDRAWN = "withdrawn", _("已退出")


FELLOWSHIP_OPEN = frozenset({FellowshipStatus.PLANNED, FellowshipStatus.IN_PROGRESS})
"""Fellowships that still change."""


class AssessmentResult(models.TextChoices):
    """The host department's assessment at the end of a fellowship (结业考核)."""

    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


class TechniqueCategory(models.TextChoices):
    """Kinds of new techniques and projects (新技术新项目类别)."""

    DIAGNOSTIC = "diagnostic", _("诊断类")
    THERAPEUTIC = "therapeutic", _("治疗类")
    SURGICAL = "surgical", _("手术类")
    NURSING = "nursing", _("护理类")
    TCM = "tcm", _("中医适宜技术")
    PUBLIC_HEALTH = "public_health", _("公共卫生类")
    OTHER = "other", _("其他")


class TechniqueStatus(models.TextChoices):
    """Approval of a technique: recorded by the member, confirmed (or returned) by the consortium office."""

    RECORDED = "recorded", _("待医联体办公室确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已退回")


class DeviceType(models.TextChoices):
    """Types of equipment the lead hospital supports (the seeds: ECG, blood analysers, ultrasound, X-ray)."""

    ECG = "ecg", _("心电图机/心电监护仪")
    BLOOD_ANALYSER = "blood_analyser", _("血细胞分析仪")
    BIOCHEMISTRY = "biochemistry", _("生化分析仪")
    ULTRASOUND = "ultrasound", _("超声诊断仪")
    XRAY = "xray", _("DR/X 线机")
    DEFIBRILLATOR = "defibrillator", _("除颤仪")
    GLUCOSE_METER = "glucose_meter", _("血糖仪")
    OTHER = "other", _("其他设备")


class SupportKind(models.TextChoices):
    """How a device reached the member."""

    DONATED = "donated", _("捐赠")
    LENT = "lent", _("借用")


class MaintenanceStatus(models.TextChoices):
    """States of a maintenance / repair request (设备维修)."""

    REQUESTED = "requested", _("待派工")
    ASSIGNED = "assigned", _("维修中")
    REPAIRED = "repaired", _("已修复")
    NOT_REPAIRABLE = "not_repairable", _("无法修复")
    CANCELLED = "cancelled", pgettext_lazy("maintenance status", "已撤销")


MAINTENANCE_OPEN = frozenset({MaintenanceStatus.REQUESTED, MaintenanceStatus.ASSIGNED})
"""Requests still on somebody's list."""

MAINTENANCE_DONE = frozenset({MaintenanceStatus.REPAIRED, MaintenanceStatus.NOT_REPAIRABLE})
"""Requests an engineer has closed (counted as maintenance records completed)."""
