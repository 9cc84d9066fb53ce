"""Writes of the indicator engine: indicators (versioned), refresh runs, stale marks, ranking policy."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core import generations
from yilian.core.audit import record_event
from yilian.core.exceptions import Conflict, Invalid, NotAllowed, required_message
from yilian.indicators import evaluation, expressions, policies, registry
from yilian.indicators.choices import Direction, IndicatorKind, PeriodType, RefreshKind, RefreshStatus
from yilian.indicators.models import (
    Indicator,
    IndicatorCatalogue,
    IndicatorVersion,
    RankingPolicy,
    RefreshRun,
    StaleMark,
)
from yilian.indicators.selectors import FIGURES_GENERATION

DEFINITION_FIELDS = (
    "code",
    "name",
    "name_en",
    "area",
    "description",
    "kind",
    "numerator",
    "numerator_description",
    "denominator",
    "denominator_description",
    "factor",
    "unit",
    "direction",
    "period_type",
    "decimals",
    "legend",
    "target",
    "weight",
    "checklist",
    "source_document",
    "is_working_definition",
)
"""Fields that shape an indicator's figures or reading; each edit of them is a new version."""


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


def indicator_definition(indicator: Indicator) -> dict[str, Any]:
    """The definition of ``indicator`` as JSON-ready values (decimals as strings)."""
    definition: dict[str, Any] = {}
    for name in DEFINITION_FIELDS:
        value = getattr(indicator, name)
        # Normalised so that 100 and 100.00 (before and after a database round trip) read the same.
        definition[name] = format(value.normalize(), "f") if isinstance(value, Decimal) else value
    return definition


def _decimal(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("请输入数字"))
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(_("请输入数字"))
        return None
    return number


def _validate_legend(legend: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if legend in (None, ""):
        return []
    if not isinstance(legend, list):
        errors.setdefault("legend", []).append(_("分段应为列表"))
        return []
    cleaned = []
    for index, band in enumerate(legend, start=1):
        if not isinstance(band, dict) or band.get("color") not in {"green", "yellow", "red"}:
            errors.setdefault("legend", []).append(
                _("第 %(n)s 段：颜色应为 green、yellow 或 red") % {"n": index}
            )
            continue
        low = _decimal(band.get("from"), "legend", errors)
        high = _decimal(band.get("to"), "legend", errors)
        if low is not None and high is not None and low > high:
            errors.setdefault("legend", []).append(_("第 %(n)s 段：下限大于上限") % {"n": index})
        cleaned.append(
            {
                "from": None if low is None else str(low),
                "to": None if high is None else str(high),
                "color": band["color"],
                "label": str(band.get("label", ""))[:40],
            }
        )
    return cleaned


def _clean(data: dict[str, Any], current: Indicator | None) -> dict[str, Any]:
    """Validated field values (formulas parsed against the registered data items); raises Invalid."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    known = registry.data_items().keys()

    def text(name: str, limit: int, required: bool = False) -> None:
        if name not in data:
            return
        value = str(data[name] or "").strip()
        if required and not value:
            errors.setdefault(name, []).append(required_message())
        elif len(value) > limit:
            errors.setdefault(name, []).append(_("最多 %(n)s 个字符") % {"n": limit})
        cleaned[name] = value

    text("code", 60, required=True)
    if "code" in cleaned and cleaned["code"] and not expressions.ITEM_CODE.match(cleaned["code"]):
        errors.setdefault("code", []).append(_("编码只能由小写字母、数字和下划线组成，且以字母开头"))
    text("name", 200, required=True)
    text("name_en", 200)
    text("area", 60)
    text("description", 4000)
    text("numerator_description", 300)
    text("denominator_description", 300)
    text("unit", 30)
    text("source_document", 300)
    for choice_field, choices in (
        ("kind", IndicatorKind.values),
        ("direction", Direction.values),
        ("period_type", PeriodType.values),
    ):
        if choice_field in data:
            if data[choice_field] not in choices:
                errors.setdefault(choice_field, []).append(_("选项无效"))
            else:
                cleaned[choice_field] = data[choice_field]
    kind = cleaned.get("kind", current.kind if current else IndicatorKind.QUANTITATIVE)
    for formula in ("numerator", "denominator"):
        if formula not in data:
            continue
        value = str(data[formula] or "").strip()
        cleaned[formula] = value
        if not value:
            if formula == "numerator" and kind == IndicatorKind.QUANTITATIVE:
                errors.setdefault(formula, []).append(_("定量指标必须填写分子公式"))
            continue
        try:
            expressions.validate(value, known)
        except expressions.ExpressionError as error:
            errors.setdefault(formula, []).append(str(error))
    if "factor" in data:
        factor = _decimal(data["factor"], "factor", errors)
        if factor is not None and factor <= 0:
            errors.setdefault("factor", []).append(_("系数必须大于零"))
        if factor is not None:
            cleaned["factor"] = factor
    for number_field in ("target", "weight"):
        if number_field in data:
            number = _decimal(data[number_field], number_field, errors)
            if number_field == "weight" and number is not None and number < 0:
                errors.setdefault(number_field, []).append(_("权重不能为负"))
            cleaned[number_field] = number if number is not None or number_field == "target" else Decimal(0)
    if "decimals" in data:
        try:
            decimals = int(data["decimals"])
        except (TypeError, ValueError):
            decimals = -1
        if not 0 <= decimals <= 6:
            errors.setdefault("decimals", []).append(_("小数位数应在 0 到 6 之间"))
        cleaned["decimals"] = decimals
    if "legend" in data:
        cleaned["legend"] = _validate_legend(data["legend"], errors)
    if "checklist" in data:
        checklist = data["checklist"] or []
        if isinstance(checklist, str):
            checklist = [line.strip() for line in checklist.splitlines() if line.strip()]
        if not isinstance(checklist, list) or not all(isinstance(point, str) for point in checklist):
            errors.setdefault("checklist", []).append(_("评判要点应为文字列表"))
        else:
            cleaned["checklist"] = [point.strip()[:300] for point in checklist if point.strip()]
    if "is_working_definition" in data:
        cleaned["is_working_definition"] = bool(data["is_working_definition"])
    if errors:
        raise Invalid(errors)
    return cleaned


def _write_version(indicator: Indicator, actor: Any) -> None:
    IndicatorVersion.objects.create(
        indicator=indicator,
        version=indicator.version,
        definition=indicator_definition(indicator),
        changed_by=actor if getattr(actor, "pk", None) else None,
    )


def indicator_create(
    *, actor: Any, catalogue: IndicatorCatalogue, consortium: Any | None = None, **data: Any
) -> Indicator:
    """Create an indicator (version 1) after parsing its formulas; audit ``indicator.create``.

    Raises NotAllowed (not an assessor of that scope), Invalid (field errors,
    a formula error with its position), Conflict (the code is taken).
    """
    _require(policies.can_create_indicator(actor) and policies.can_edit_indicator(actor, consortium))
    cleaned = _clean(data, None)
    with transaction.atomic():
        if Indicator.objects.filter(code=cleaned["code"]).exists():
            raise Invalid({"code": [_("指标编码已存在")]})
        indicator = Indicator(catalogue=catalogue, consortium=consortium, created_by=actor, **cleaned)
        indicator.save()
        _write_version(indicator, actor)
        generations.bump(FIGURES_GENERATION)
        record_event(
            actor=actor,
            action="indicator.create",
            obj=indicator,
            after=indicator_definition(indicator),
            consortium_public_id=getattr(consortium, "public_id", None),
        )
    return indicator


def indicator_update(
    *, actor: Any, indicator: Indicator, expected_version: int | None = None, **data: Any
) -> Indicator:
    """Change an indicator's definition: a new version, published figures keep theirs; audit ``indicator.update``.

    ``expected_version`` is the version the editor loaded; a different current
    version means somebody saved first (Conflict). Raises NotAllowed,
    Invalid, Conflict. The code cannot change.
    """
    _require(policies.can_edit_indicator(actor, indicator.consortium))
    data.pop("code", None)
    cleaned = _clean(data, indicator)
    with transaction.atomic():
        locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该指标已被他人修改（当前第 %(v)s 版），请刷新后重试") % {"v": locked.version})
        before = indicator_definition(locked)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        after = indicator_definition(locked)
        if after == before:
            return locked
        locked.version += 1
        locked.save()
        _write_version(locked, actor)
        generations.bump(FIGURES_GENERATION)
        record_event(
            actor=actor,
            action="indicator.update",
            obj=locked,
            before=before,
            after=after,
            details={"version": locked.version},
            consortium_public_id=getattr(locked.consortium, "public_id", None),
        )
    return locked


def indicator_set_active(*, actor: Any, indicator: Indicator, active: bool) -> Indicator:
    """Switch an indicator on or off (off: no longer computed or offered to new schemes); audit it."""
    _require(policies.can_edit_indicator(actor, indicator.consortium))
    with transaction.atomic():
        locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        generations.bump(FIGURES_GENERATION)
        record_event(
            actor=actor,
            action="indicator.deactivate" if not active else "indicator.update",
            obj=locked,
            before={"is_active": not active},
            after={"is_active": active},
        )
    return locked


def mark_stale(
    institution_ids: Iterable[int],
    days: Iterable[datetime.date],
    *,
    regional_days: Iterable[datetime.date] = (),
    models: Iterable[str] = (),
) -> int:
    """Note that these institutions' records changed in the months of ``days``; returns the marks asked for.

    A mark already there is kept (one per institution, month and model, one
    regional mark per month and model). ``regional_days`` name months whose
    regional facts changed (claims by the insured's region). ``models`` are the
    labels of the models written (``encounters.Encounter``); without them every
    source is recomputed. Called after a bulk write commits (through the
    ``facts_changed`` signal); the incremental refresh job recomputes only
    what is marked.
    """
    labels = sorted(set(models)) or [""]
    months = {evaluation.month_start(day) for day in days}
    marks = [
        StaleMark(institution_id=pk, month=month, model=label)
        for pk in set(institution_ids)
        for month in months
        for label in labels
    ]
    marks += [
        StaleMark(institution_id=None, month=month, model=label)
        for month in {evaluation.month_start(d) for d in regional_days}
        for label in labels
    ]
    StaleMark.objects.bulk_create(marks, ignore_conflicts=True)
    return len(marks)


def refresh_request(
    *, actor: Any, first_month: datetime.date | None = None, last_month: datetime.date | None = None
) -> RefreshRun:
    """Queue a full refresh of ``first_month``..``last_month`` (default: every month with data); audit it.

    The caller enqueues the job (``tasks.enqueue_refresh``). Raises NotAllowed,
    Invalid (last before first), Conflict (the same months are already queued: a second click would
    only compute everything twice).
    """
    _require(policies.can_request_refresh(actor))
    if first_month and last_month and last_month < first_month:
        raise Invalid({"last_month": [_("截止月份不能早于起始月份")]})
    first = evaluation.month_start(first_month) if first_month else None
    last = evaluation.month_start(last_month) if last_month else None
    with transaction.atomic():
        if RefreshRun.objects.filter(
            kind=RefreshKind.FULL, status=RefreshStatus.QUEUED, first_month=first, last_month=last
        ).exists():
            raise Conflict(_("同样月份的计算任务已在排队，请稍后刷新本页查看结果"))
        run = RefreshRun.objects.create(
            kind=RefreshKind.FULL, first_month=first, last_month=last, requested_by=actor
        )
        record_event(
            actor=actor,
            action="indicator_refresh.request",
            obj=run,
            after={"first_month": str(run.first_month or ""), "last_month": str(run.last_month or "")},
        )
    return run


def refresh_execute(run: RefreshRun) -> RefreshRun:
    """Run a queued refresh (full, or incremental over the stale marks it consumes); record status and counts.

    A failure leaves the figures as they were and the run ``failed`` with
    the error. Returns the run.
    """
    claimed = RefreshRun.objects.filter(pk=run.pk, status=RefreshStatus.QUEUED).update(
        status=RefreshStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        run.refresh_from_db()
        return run
    started = time.perf_counter()
    try:
        if run.kind == RefreshKind.INCREMENTAL:
            result = _refresh_marked(run)
        else:
            months = evaluation.data_months()
            if run.first_month:
                months = [m for m in months if m >= run.first_month] or [run.first_month]
            if run.last_month:
                months = [m for m in months if m <= run.last_month] or [run.last_month]
            result = evaluation.refresh(months)
            run.months = [m.isoformat() for m in result.months]
        run.counts = {**result.counts, "seconds": result.seconds}
        run.status = RefreshStatus.DONE
    except Exception as error:
        run.status = RefreshStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"[:2000]
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    run.save(
        update_fields=["status", "counts", "months", "institution_ids", "error", "finished_at", "duration_ms"]
    )
    return run


def _refresh_marked(run: RefreshRun) -> evaluation.RefreshResult:
    with transaction.atomic():
        marks = list(
            StaleMark.objects.select_for_update().values_list("pk", "institution_id", "month", "model")
        )
        if not marks:
            return evaluation.RefreshResult(months=[], institution_ids=[])
        institution_ids = sorted(
            {institution for _pk, institution, _m, _l in marks if institution is not None}
        )
        regional = any(institution is None for _pk, institution, _m, _l in marks)
        months = sorted({month for _pk, _i, month, _l in marks})
        labels = {label for _pk, _i, _m, label in marks}
        # One mark without a model (the demo, a manual mark) recomputes every source.
        models = None if "" in labels else labels
        result = evaluation.refresh(months, institution_ids, regional=regional, models=models)
        StaleMark.objects.filter(pk__in=[pk for pk, _i, _m, _l in marks]).delete()
    run.months = [m.isoformat() for m in months]
    run.institution_ids = institution_ids
    return result


def refresh_incremental_queue() -> RefreshRun | None:
    """Queue an incremental refresh when there are stale marks and none is already queued; returns it or None."""
    if not StaleMark.objects.exists():
        return None
    if RefreshRun.objects.filter(kind=RefreshKind.INCREMENTAL, status=RefreshStatus.QUEUED).exists():
        return None
    return RefreshRun.objects.create(kind=RefreshKind.INCREMENTAL)


def ranking_policy_update(
    *, actor: Any, consortium: Any, members_see_ranking: bool, members_see_others_values: bool
) -> RankingPolicy:
    """Decide what members see of each other's figures; audit ``ranking_policy.update``. Raises NotAllowed."""
    _require(policies.can_edit_ranking_policy(actor, consortium))
    with transaction.atomic():
        policy, _created = RankingPolicy.objects.select_for_update().get_or_create(consortium=consortium)
        before = {
            "members_see_ranking": policy.members_see_ranking,
            "members_see_others_values": policy.members_see_others_values,
        }
        policy.members_see_ranking = members_see_ranking
        policy.members_see_others_values = members_see_others_values
        policy.save()
        record_event(
            actor=actor,
            action="ranking_policy.update",
            obj=consortium,
            before=before,
            after={
                "members_see_ranking": members_see_ranking,
                "members_see_others_values": members_see_others_values,
            },
            consortium_public_id=consortium.public_id,
        )
    return policy
