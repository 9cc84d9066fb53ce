"""Writes of assessment: schemes (versioned), rounds, draft computation, evidence, judgements, freeze, publish.

Every function takes the ``actor``, checks the policy first, changes rows in
one transaction and records an audit event in it.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.assessment import computation, policies
from yilian.assessment.choices import (
    ROUND_KIND_PERIOD,
    SUBJECT_UNIT_KIND,
    GradingMethod,
    GroupBy,
    RoundKind,
    RoundStatus,
    SchemeSubject,
    ScoringRule,
    Verdict,
)
from yilian.assessment.models import (
    AssessmentRound,
    AssessmentScheme,
    EvidenceFile,
    Judgement,
    RoundResult,
    RoundTotal,
    SchemeItem,
)
from yilian.core.audit import record_event
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.indicators.choices import PERIOD_MONTHS, PeriodType

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
"""Largest evidence file accepted (10 MB)."""
EVIDENCE_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
"""Accepted evidence files by extension (the stored type comes from here, not from the client)."""
MAX_WEIGHT = Decimal(1000)


def _require(allowed: bool, message: str = "") -> None:
    if not allowed:
        raise NotAllowed(message or _("没有权限执行该操作"))


# --- schemes --------------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _clean_scheme(
    data: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate scheme fields and items; raises Invalid with field messages."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = str(data.get("name", "")).strip()
    if not name:
        errors["name"] = [_("请填写方案名称")]
    cleaned["name"] = name[:200]
    cleaned["description"] = str(data.get("description", "") or "")
    cleaned["code"] = str(data.get("code", "") or "")[:60]
    for key, choices, label in (
        ("subject", SchemeSubject, _("考核对象")),
        ("period_type", PeriodType, _("考核周期")),
        ("grading", GradingMethod, _("评级方式")),
        ("group_by", GroupBy, _("分组排名")),
    ):
        value = str(data.get(key, "") or "")
        if key == "grading" and not value:
            value = GradingMethod.BANDS
        if value not in choices.values:
            errors[key] = [_("%(label)s无效") % {"label": label}]
        cleaned[key] = value
    bands: dict[str, str] = {}
    for grade, minimum in dict(data.get("grade_bands") or {}).items():
        number = _decimal(minimum)
        if grade not in ("excellent", "good", "fair") or number is None or not 0 <= number <= 10000:
            errors["grade_bands"] = [_("等级分数线须为 0 到 10000 之间的数字")]
            break
        bands[grade] = str(number)
    if cleaned.get("grading") == GradingMethod.BANDS and not bands and "grade_bands" not in errors:
        errors["grade_bands"] = [_("按分数段评级时请填写等级分数线")]
    cleaned["grade_bands"] = bands
    cleaned["rewards"] = {
        str(grade): str(text)[:300]
        for grade, text in dict(data.get("rewards") or {}).items()
        if grade in ("excellent", "good", "fair", "poor") and text
    }
    cleaned["department_groups"] = {
        str(key): str(value)[:60] for key, value in dict(data.get("department_groups") or {}).items()
    }
    clean_items: list[dict[str, Any]] = []
    seen: set[int] = set()
    for position, item in enumerate(items):
        indicator = item.get("indicator")
        weight = _decimal(item.get("weight", 0))
        rule = str(item.get("rule") or ScoringRule.TARGET)
        if indicator is None:
            errors.setdefault("items", []).append(_("第 %(n)s 项：请选择指标") % {"n": position + 1})
            continue
        if indicator.pk in seen:
            errors.setdefault("items", []).append(_("第 %(n)s 项：指标重复") % {"n": position + 1})
        seen.add(indicator.pk)
        if weight is None or not 0 <= weight <= MAX_WEIGHT:
            errors.setdefault("items", []).append(
                _("第 %(n)s 项：分值须在 0 到 1000 之间") % {"n": position + 1}
            )
        if rule not in ScoringRule.values:
            errors.setdefault("items", []).append(_("第 %(n)s 项：计分规则无效") % {"n": position + 1})
        bands_in = item.get("bands") or []
        clean_bands = []
        for band in bands_in if isinstance(bands_in, list) else [None]:
            share = _decimal(band.get("share")) if isinstance(band, dict) else None
            if share is None or not 0 <= share <= 1:
                errors.setdefault("items", []).append(
                    _("第 %(n)s 项：分段须含 0 到 1 之间的得分比例") % {"n": position + 1}
                )
                break
            clean_bands.append(
                {"from": band.get("from"), "to": band.get("to"), "share": str(share)}  # type: ignore[union-attr]
            )
        clean_items.append(
            {
                "indicator": indicator,
                "weight": weight if weight is not None else Decimal(0),
                "rule": rule,
                "bands": clean_bands,
                "sort_order": int(item.get("sort_order", position) or position),
            }
        )
    if errors:
        raise Invalid(errors)
    return cleaned, clean_items


def scheme_definition(scheme: AssessmentScheme) -> dict[str, Any]:
    """Everything that shapes a scheme's scores, as JSON (for the audit trail)."""
    return {
        "name": scheme.name,
        "subject": scheme.subject,
        "period_type": scheme.period_type,
        "grading": scheme.grading,
        "grade_bands": scheme.grade_bands,
        "rewards": scheme.rewards,
        "group_by": scheme.group_by,
        "items": [
            {
                "indicator": item.indicator.code,
                "weight": str(item.weight),
                "rule": item.rule,
                "bands": item.bands,
            }
            for item in scheme.items.select_related("indicator").order_by("sort_order", "id")
        ],
    }


def _write_items(scheme: AssessmentScheme, items: list[dict[str, Any]]) -> None:
    scheme.items.all().delete()
    SchemeItem.objects.bulk_create(SchemeItem(scheme=scheme, **item) for item in items)


def scheme_create(
    *,
    actor: Any,
    consortium: Any | None,
    data: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    is_shipped: bool = False,
) -> AssessmentScheme:
    """Create a scheme (version 1) with its items; audit ``assessment_scheme.create``.

    Raises NotAllowed (not an assessor of that scope), Invalid.
    """
    _require(policies.can_create_scheme(actor) and policies.can_edit_scheme(actor, consortium))
    cleaned, clean_items = _clean_scheme(data, items)
    with transaction.atomic():
        scheme = AssessmentScheme.objects.create(
            consortium=consortium, created_by=actor, is_shipped=is_shipped, **cleaned
        )
        _write_items(scheme, clean_items)
        record_event(
            actor=actor,
            action="assessment_scheme.create",
            obj=scheme,
            after=scheme_definition(scheme),
            consortium_public_id=getattr(consortium, "public_id", None),
        )
    return scheme


def scheme_update(
    *,
    actor: Any,
    scheme: AssessmentScheme,
    expected_version: int | None,
    data: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
) -> AssessmentScheme:
    """Replace a scheme's fields and items as version n + 1; frozen rounds keep their snapshots.

    What ``data`` leaves out is kept: the code, the department groups, and the
    bands of an item whose indicator stays (the page's form edits neither; the
    API may). Raises NotAllowed, Invalid, Conflict (somebody saved since
    ``expected_version``).
    """
    _require(policies.can_edit_scheme(actor, scheme.consortium))
    data = {"code": scheme.code, "department_groups": scheme.department_groups, **data}
    kept_bands = {item.indicator_id: item.bands for item in scheme.items.all()}
    items = [
        item
        if "bands" in item or getattr(item.get("indicator"), "pk", None) not in kept_bands
        else {**item, "bands": kept_bands[item["indicator"].pk]}
        for item in items
    ]
    cleaned, clean_items = _clean_scheme(data, items)
    with transaction.atomic():
        locked = AssessmentScheme.objects.select_for_update().get(pk=scheme.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该方案已被他人修改（当前第 %(v)s 版），请刷新后重试") % {"v": locked.version})
        before = scheme_definition(locked)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.save()
        _write_items(locked, clean_items)
        record_event(
            actor=actor,
            action="assessment_scheme.update",
            obj=locked,
            before=before,
            after=scheme_definition(locked),
            consortium_public_id=getattr(locked.consortium, "public_id", None),
        )
    return locked


# --- rounds ---------------------------------------------------------------------------------------------


def _period_start(value: Any, period_type: str) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value if len(value) > 7 else f"{value}-01")
        except ValueError:
            raise Invalid({"period_start": [_("周期开始须为日期")]}) from None
    if not isinstance(value, datetime.date):
        raise Invalid({"period_start": [_("周期开始须为日期")]})
    months = PERIOD_MONTHS[PeriodType(period_type)]
    if value.day != 1 or (value.month - 1) % months:
        raise Invalid({"period_start": [_("周期开始须为该周期的第一天")]})
    return value


def _check_kind_period(kind: str, scheme: AssessmentScheme) -> None:
    """A monthly ranking needs a monthly scheme, a half-year target assessment a half-yearly one and the
    annual assessment a yearly one: the round reads the figures of the scheme's period type."""
    wanted = ROUND_KIND_PERIOD.get(RoundKind(kind))
    if wanted is not None and scheme.period_type != wanted:
        raise Invalid(
            {
                "kind": [
                    _(
                        "“%(kind)s”须使用考核周期为“%(wanted)s”的方案；所选方案“%(scheme)s”的考核周期为“%(actual)s”"
                    )
                    % {
                        "kind": RoundKind(kind).label,
                        "wanted": wanted.label,
                        "scheme": scheme.name,
                        "actual": scheme.get_period_type_display(),
                    }
                ]
            }
        )


def _audit_scope(round_: AssessmentRound) -> dict[str, Any]:
    if round_.consortium_id:
        return {"consortium_public_id": round_.consortium.public_id}
    return {"region_code": round_.region.code if round_.region_id else ""}


def round_create(
    *,
    actor: Any,
    scheme: AssessmentScheme,
    kind: str,
    period_start: Any,
    consortium: Any | None = None,
    region: Any | None = None,
    title: str = "",
) -> AssessmentRound:
    """Open a draft round of ``scheme`` for a consortium (or, assessing consortia, a region) and period.

    Raises NotAllowed, Invalid (kind, a kind whose period differs from the
    scheme's (a monthly ranking of a yearly scheme), a period start that is
    not the first day of one of the scheme's periods, a consortium scheme
    used for another consortium, neither consortium nor region), with every
    field's error at once.
    """
    # Every field is checked before raising, so one submit shows all of the form's errors.
    errors: dict[str, list[str]] = {}
    if kind not in RoundKind.values:
        errors["kind"] = [_("考核类型无效")]
    if consortium is None and region is None:
        errors["consortium"] = [_("请选择医联体或行政区划")]
    elif consortium is None and scheme.subject != SchemeSubject.CONSORTIA:
        errors["consortium"] = [_("该方案考核医联体内的单位，请选择医联体")]
    if "kind" not in errors:
        try:
            _check_kind_period(kind, scheme)
        except Invalid as error:
            errors.update(error.as_text())
    start = None
    try:
        start = _period_start(period_start, scheme.period_type)
    except Invalid as error:
        errors.update(error.as_text())
    if errors or start is None:
        raise Invalid(errors)
    _require(policies.can_create_round(actor, kind, consortium, region))
    if scheme.consortium_id is not None and scheme.consortium_id != getattr(consortium, "pk", None):
        raise Invalid({"scheme": [_("该方案属于其他医联体")]})
    with transaction.atomic():
        round_ = AssessmentRound.objects.create(
            scheme=scheme,
            consortium=consortium,
            region=region if consortium is None else None,
            kind=kind,
            period_type=scheme.period_type,
            period_start=start,
            title=str(title or "")[:200],
            created_by=actor,
        )
        record_event(
            actor=actor,
            action="assessment_round.create",
            obj=round_,
            after={"scheme": scheme.name, "kind": kind, "period_start": start.isoformat()},
            **_audit_scope(round_),
        )
    return round_


def _store(round_: AssessmentRound, version: int, outcome: computation.Outcome) -> None:
    RoundResult.objects.bulk_create(
        RoundResult(
            round=round_,
            version=version,
            subject_kind=row.subject.kind,
            subject_id=row.subject.id,
            subject_name=row.subject.name[:300],
            group=row.subject.group,
            indicator=row.item.indicator,
            indicator_code=row.item.indicator.code,
            indicator_name=row.item.indicator.name,
            indicator_name_en=row.item.indicator.name_en,
            indicator_version=row.indicator_version,
            is_working_definition=row.item.indicator.is_working_definition,
            is_qualitative=row.item.indicator.is_qualitative,
            unit=row.item.indicator.unit,
            numerator=row.numerator,
            denominator=row.denominator,
            value=row.value,
            verdict=row.verdict,
            weight=row.item.weight,
            score=row.score,
            rank=row.rank,
        )
        for row in outcome.items
    )
    RoundTotal.objects.bulk_create(
        RoundTotal(
            round=round_,
            version=version,
            subject_kind=total.subject.kind,
            subject_id=total.subject.id,
            subject_name=total.subject.name[:300],
            group=total.subject.group,
            score=total.score,
            grade=total.grade,
            rank=total.rank,
            reward=total.reward[:300],
        )
        for total in outcome.totals
    )


def round_compute(*, actor: Any, round_: AssessmentRound) -> AssessmentRound:
    """Recompute the draft (version 0) from the current figures and judgements; frozen versions stay.

    Raises NotAllowed.
    """
    _require(policies.can_manage_round(actor, round_))
    with transaction.atomic():
        locked = AssessmentRound.objects.select_for_update().select_related("scheme").get(pk=round_.pk)
        outcome = computation.compute(locked)
        locked.results.filter(version=0).delete()
        locked.totals.filter(version=0).delete()
        _store(locked, 0, outcome)
        locked.computed_at = timezone.now()
        locked.save(update_fields=["computed_at", "updated_at"])
        record_event(
            actor=actor,
            action="assessment_round.compute",
            obj=locked,
            details={"subjects": len(outcome.totals)},
            **_audit_scope(locked),
        )
    return locked


def round_freeze(
    *, actor: Any, round_: AssessmentRound, expected_version: int | None = None
) -> AssessmentRound:
    """Snapshot every figure, judgement, score and grade as version n + 1 (status frozen).

    The round row is locked (SELECT … FOR UPDATE) and all figures are read
    in one statement inside the same transaction, so a refresh committing
    meanwhile cannot mix old and new values. ``expected_version`` is the
    version the caller saw: a different one means another freeze won
    (Conflict). Freezing a published round keeps the published version
    readable. Raises NotAllowed, Conflict.
    """
    _require(policies.can_manage_round(actor, round_))
    try:
        with transaction.atomic():
            locked = AssessmentRound.objects.select_for_update().select_related("scheme").get(pk=round_.pk)
            if expected_version is not None and locked.version != expected_version:
                raise Conflict(
                    _("该考核已被他人冻结（当前第 %(v)s 版），请刷新后重试") % {"v": locked.version}
                )
            outcome = computation.compute(locked)
            locked.version += 1
            locked.status = RoundStatus.FROZEN
            locked.frozen_at = timezone.now()
            locked.frozen_by = actor
            locked.save()
            _store(locked, locked.version, outcome)
            record_event(
                actor=actor,
                action="assessment_round.freeze",
                obj=locked,
                details={"version": locked.version, "subjects": len(outcome.totals)},
                **_audit_scope(locked),
            )
    except IntegrityError as error:
        raise Conflict(_("另一冻结正在进行，请刷新后重试")) from error
    return locked


def round_publish(
    *, actor: Any, round_: AssessmentRound, expected_version: int | None = None
) -> AssessmentRound:
    """Publish the latest frozen version to the members; it is read-only from then on.

    Raises NotAllowed, Conflict (nothing frozen, already published, or a newer version than expected).
    """
    _require(policies.can_manage_round(actor, round_))
    with transaction.atomic():
        locked = AssessmentRound.objects.select_for_update().get(pk=round_.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该考核已被他人冻结（当前第 %(v)s 版），请刷新后重试") % {"v": locked.version})
        if locked.status != RoundStatus.FROZEN:
            raise Conflict(_("只有已冻结的考核可以发布"))
        locked.status = RoundStatus.PUBLISHED
        locked.published_version = locked.version
        locked.published_at = timezone.now()
        locked.published_by = actor
        locked.save()
        record_event(
            actor=actor,
            action="assessment_round.publish",
            obj=locked,
            details={"version": locked.version},
            **_audit_scope(locked),
        )
    return locked


# --- qualitative items ----------------------------------------------------------------------------------


def _qualitative_target(round_: AssessmentRound, indicator: Any, subject_id: Any) -> tuple[str, int]:
    """Check the indicator is a qualitative item of the round's scheme and the subject one of the round's."""
    errors: dict[str, list[str]] = {}
    if not SchemeItem.objects.filter(scheme_id=round_.scheme_id, indicator=indicator).exists():
        errors["indicator"] = [_("该指标不在本考核方案中")]
    elif not indicator.is_qualitative:
        errors["indicator"] = [_("定量指标由系统计算，不能评判或上传佐证")]
    try:
        subject = int(subject_id)
    except (TypeError, ValueError):
        subject = -1
    if subject not in {unit.id for unit in computation.subjects(round_)}:
        errors["subject"] = [_("该单位不是本轮考核对象")]
    if errors:
        raise Invalid(errors)
    return SUBJECT_UNIT_KIND[SchemeSubject(round_.scheme.subject)], subject


def _require_open(round_: AssessmentRound) -> None:
    if round_.status == RoundStatus.PUBLISHED:
        raise Conflict(_("考核已发布，不能再修改；如需更正请重新冻结"))


def evidence_upload(
    *, actor: Any, round_: AssessmentRound, indicator: Any, subject_id: Any, upload: UploadedFile
) -> EvidenceFile:
    """Store an evidence file (PDF, image, Word, Excel; at most 10 MB) for a qualitative item and subject.

    Assessors running the round, and the administrator of the assessed
    institution, may upload. Raises NotAllowed, Invalid (type, size, not a
    qualitative item, not a subject), Conflict (published).
    """
    allowed = policies.can_manage_round(actor, round_)
    if not allowed and round_.scheme.subject == SchemeSubject.MEMBERS:
        from yilian.accounts.selectors import scope_for
        from yilian.core.permissions import Role

        try:
            allowed = scope_for(actor).holds_at_institution(int(subject_id), Role.INSTITUTION_ADMIN)
        except (TypeError, ValueError):
            allowed = False
    _require(allowed)
    kind, subject = _qualitative_target(round_, indicator, subject_id)
    extension = os.path.splitext(upload.name or "")[1].lower()
    if extension not in EVIDENCE_TYPES:
        raise Invalid({"file": [_("只接受 PDF、JPG、PNG、Word（docx）或 Excel（xlsx）文件")]})
    if not upload.size or upload.size > EVIDENCE_MAX_BYTES:
        raise Invalid({"file": [_("文件须大于 0 且不超过 10 MB")]})
    _require_open(round_)
    with transaction.atomic():
        evidence = EvidenceFile(
            round=round_,
            indicator=indicator,
            subject_kind=kind,
            subject_id=subject,
            original_name=os.path.basename(upload.name or "")[:255],
            content_type=EVIDENCE_TYPES[extension],
            size=upload.size,
            uploaded_by=actor,
        )
        evidence.file.save(f"evidence{extension}", upload, save=False)
        evidence.save()
        record_event(
            actor=actor,
            action="assessment_evidence.upload",
            obj=evidence,
            details={"indicator": indicator.code, "subject": subject, "name": evidence.original_name},
            **_audit_scope(round_),
        )
    return evidence


def judgement_record(
    *, actor: Any, round_: AssessmentRound, indicator: Any, subject_id: Any, verdict: str, comment: str = ""
) -> Judgement:
    """Record (or replace) the judgement of a qualitative item for one subject; counts at the next compute.

    Raises NotAllowed, Invalid (verdict, not a qualitative item, not a subject), Conflict (published).
    """
    _require(policies.can_manage_round(actor, round_))
    if verdict not in Verdict.values:
        raise Invalid({"verdict": [_("评判结果无效")]})
    kind, subject = _qualitative_target(round_, indicator, subject_id)
    _require_open(round_)
    with transaction.atomic():
        judgement, created = Judgement.objects.select_for_update().get_or_create(
            round=round_,
            indicator=indicator,
            subject_kind=kind,
            subject_id=subject,
            defaults={
                "verdict": verdict,
                "comment": comment,
                "judged_by": actor,
                "judged_at": timezone.now(),
            },
        )
        before = None if created else {"verdict": judgement.verdict, "comment": judgement.comment}
        if not created:
            judgement.verdict, judgement.comment = verdict, comment
            judgement.judged_by, judgement.judged_at = actor, timezone.now()
            judgement.save()
        record_event(
            actor=actor,
            action="assessment_judgement.record",
            obj=judgement,
            before=before,
            after={"verdict": verdict, "comment": comment, "indicator": indicator.code, "subject": subject},
            **_audit_scope(round_),
        )
    return judgement
