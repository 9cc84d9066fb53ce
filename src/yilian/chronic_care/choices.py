"""Code lists of chronic-disease management."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Measure(models.TextChoices):
    """What a registry measures at each follow-up (drives the form and the control status)."""

    BLOOD_PRESSURE = "blood_pressure", _("血压")
    GLUCOSE = "glucose", _("血糖")


class CaseStatus(models.TextChoices):
    """Whether a case is under management."""

    ACTIVE = "active", _("管理中")
    CLOSED = "closed", _("已结案")


class CloseReason(models.TextChoices):
    """Why a case left management."""

    MOVED = "moved", _("迁出")
    DIED = "died", _("死亡")
    DIAGNOSIS_REVISED = "diagnosis_revised", _("诊断更正")
    OTHER = "other", _("其他")


class FollowUpMethod(models.TextChoices):
    """How the follow-up was done (随访方式)."""

    CLINIC = "clinic", _("门诊")
    HOME = "home", _("家庭访视")
    PHONE = "phone", _("电话")
    ONLINE = "online", _("网络")


class Adherence(models.TextChoices):
    """Medication adherence (服药依从性)."""

    REGULAR = "regular", _("规律")
    INTERMITTENT = "intermittent", _("间断")
    NOT_TAKING = "not_taking", _("不服药")


class SideEffects(models.TextChoices):
    """Drug side effects (药物不良反应)."""

    NONE = "none", _("无")
    CONTROLLED = "controlled", _("有，已控制")
    UNCONTROLLED = "uncontrolled", _("有，未能控制")


class ComplicationChange(models.TextChoices):
    """Complications since the last visit (并发症)."""

    NONE = "none", _("无")
    STABLE = "stable", _("有，稳定")
    NEW = "new", _("新出现")
    WORSE = "worse", _("加重")


class DangerSign(models.TextChoices):
    """Danger signs of the county hypertension scheme's emergency up-referral list (危险征象)."""

    CONSCIOUSNESS = "consciousness", _("意识丧失或模糊")
    HEADACHE_VOMITING = "headache_vomiting", _("剧烈头痛或呕吐")
    SPEECH_LIMB = "speech_limb", _("突发言语障碍或肢体瘫痪")
    CHEST_BACK_PAIN = "chest_back_pain", _("持续剧烈胸痛或背痛")
    OEDEMA_DYSPNOEA = "oedema_dyspnoea", _("下肢水肿、呼吸困难或不能平卧")
    HEART_RATE = "heart_rate", _("心率过快或过慢")
    HYPOGLYCAEMIA = "hypoglycaemia", _("低血糖昏迷或意识改变")
    OTHER = "other", _("其他危及生命的情况")


class Control(models.TextChoices):
    """Control status computed from the registry's thresholds (never typed)."""

    CONTROLLED = "controlled", _("控制满意")
    UNCONTROLLED = "uncontrolled", _("控制不满意")
    UNKNOWN = "unknown", _("未测量")


class Suggestion(models.TextChoices):
    """What the follow-up rule suggests after a visit."""

    NONE = "none", _("无")
    REFER = "refer", _("建议转诊")
    REFER_EMERGENCY = "refer_emergency", _("立即转诊")


class SuggestionReason(models.TextChoices):
    """Why the follow-up rule suggests a referral."""

    TWO_UNCONTROLLED = "two_uncontrolled", _("连续两次随访控制不满意")
    SIDE_EFFECTS = "side_effects", _("药物不良反应难以控制")
    COMPLICATIONS = "complications", _("出现新的并发症或原有并发症加重")
    DANGER = "danger", _("血压≥180/110 mmHg 且有危险征象")


class SuggestionState(models.TextChoices):
    """What became of a suggestion."""

    NONE = "", _("—")
    OPEN = "open", _("待处理")
    REFERRED = "referred", _("已转诊")
    DISMISSED = "dismissed", _("不转诊")


class Period(models.TextChoices):
    """Periods the rates are computed for."""

    YEAR = "year", _("年度")
    QUARTER = "quarter", _("季度")
