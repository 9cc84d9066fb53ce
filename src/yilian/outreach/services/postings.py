"""Writes of long-term postings (派驻, ≥ 6 months): record, start, end (early with a reason), cancel."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.core.audit import record_event
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.institutions.models import Consortium, Department, Institution
from yilian.outreach import policies
from yilian.outreach.choices import LONG_TERM_DAYS, PostingStatus
from yilian.outreach.models import Posting
from yilian.outreach.services._common import check_date, raise_if, shared_consortium, too_long

LONGEST_POSTING_DAYS = 3 * 366
"""A posting is planned for at most three years."""


def _audit(actor: Any, posting: Posting, action: str, before: Any = None, after: Any = None) -> None:
    """The audit event of a posting change, filed under the sending institution and the consortium."""
    record_event(
        actor=actor,
        action=f"outreach_posting.{action}",
        obj=posting,
        before=before,
        after=after,
        institution_public_id=posting.home_institution.public_id,
        consortium_public_id=posting.consortium.public_id,
    )


def _locked(posting: Posting, expected_version: int | None) -> Posting:
    locked = (
        Posting.objects.select_for_update(of=("self",))
        .select_related("home_institution", "host_institution", "consortium", "expert")
        .get(pk=posting.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该派驻记录已被他人修改，请刷新后重试。"))
    return locked


def _save(posting: Posting, **changes: Any) -> None:
    changes["updated_at"] = timezone.now()
    Posting.objects.filter(pk=posting.pk).update(version=F("version") + 1, **changes)
    for key, value in changes.items():
        setattr(posting, key, value)
    posting.version += 1


def _check(
    *,
    expert: Any,
    home_institution: Institution,
    host_institution: Institution | None,
    planned_start: Any,
    planned_end: Any,
    home_department: Department | None,
    duties: str,
) -> tuple[dict[str, list[str]], Consortium | None, datetime.date | None, datetime.date | None]:
    """The field errors of a posting's values (no overlap check), its consortium and its dates."""
    errors: dict[str, list[str]] = {}
    if expert is None or not policies.may_be_posted(expert, home_institution.pk):
        errors["expert"] = [_("派驻医师必须是派出单位的医生，且具有医师系列职称。")]
    consortium = None
    if host_institution is None:
        errors["host_institution"] = [_("请选择派驻单位。")]
    elif host_institution.pk == home_institution.pk:
        errors["host_institution"] = [_("派驻单位不能是派出单位本身。")]
    elif not host_institution.is_primary:
        errors["host_institution"] = [_("长期派驻的接收单位应为基层医疗卫生机构。")]
    else:
        consortium = shared_consortium(home_institution, host_institution)
        if consortium is None:
            errors["host_institution"] = [_("派驻单位与派出单位不在同一医联体。")]
    if home_department is not None and home_department.institution_id != home_institution.pk:
        errors["home_department"] = [_("科室不属于派出单位。")]
    start = check_date(planned_start, "planned_start", errors, _("计划开始日期"))
    end = check_date(planned_end, "planned_end", errors, _("计划结束日期"))
    if start and end:
        days = (end - start).days + 1
        if end <= start:
            errors["planned_end"] = [_("结束日期必须晚于开始日期。")]
        elif days < LONG_TERM_DAYS:
            errors["planned_end"] = [
                _("长期派驻不少于 %(days)s 天（6 个月），当前为 %(actual)s 天；短期下沉请登记为派出批次。")
                % {"days": LONG_TERM_DAYS, "actual": days}
            ]
        elif days > LONGEST_POSTING_DAYS:
            errors["planned_end"] = [_("一次派驻最长三年。")]
    too_long({"duties": duties}, {"duties": 300}, errors)
    return errors, consortium, start, end


def _overlapping(
    expert: Any, start: datetime.date, end: datetime.date, ignore: Posting | None = None
) -> bool:
    """Whether the expert has another posting, not cancelled, touching the period."""
    rows = (
        Posting.objects.filter(expert=expert)
        .exclude(status=PostingStatus.CANCELLED)
        .filter(planned_start__lte=end)
        .filter(Q(actual_end__gte=start) | Q(actual_end__isnull=True, planned_end__gte=start))
    )
    if ignore is not None:
        rows = rows.exclude(pk=ignore.pk)
    return rows.exists()


OVERLAP_MESSAGE = gettext_noop("该医师在这段时间已有派驻安排。")


def posting_problems(
    *,
    expert: Any,
    home_institution: Institution,
    host_institution: Institution | None,
    planned_start: Any,
    planned_end: Any,
    home_department: Department | None = None,
    duties: str = "",
    ignore: Posting | None = None,
) -> dict[str, list[str]]:
    """The field errors ``posting_create`` would raise for these values (overlap with the expert's other
    postings included; ``ignore`` leaves one posting out, e.g. a saved posting checked again). Reads only,
    checks no permission: for code that writes postings by another way (``seed-demo``) and must obey the
    same rules."""
    errors, _consortium, start, end = _check(
        expert=expert,
        home_institution=home_institution,
        host_institution=host_institution,
        planned_start=planned_start,
        planned_end=planned_end,
        home_department=home_department,
        duties=(duties or "").strip(),
    )
    if not errors and start and end and _overlapping(expert, start, end, ignore):
        errors["planned_start"] = [_(OVERLAP_MESSAGE)]
    return errors


def posting_create(
    *,
    actor: Any,
    expert: Any,
    home_institution: Institution,
    host_institution: Institution,
    planned_start: Any,
    planned_end: Any,
    home_department: Department | None = None,
    duties: str = "",
) -> Posting:
    """Record a planned long-term posting of a staff member to a primary member institution.

    The sending institution's administrator. The expert's current
    professional title is copied onto the posting. Audited
    ``outreach_posting.create``. Raises NotAllowed, Invalid (not a physician
    of the sender — the doctor role there and a physician title, see
    ``policies.may_be_posted`` —, department of another institution, host not a primary institution or not in a shared
    consortium, planned period shorter than 183 days or longer than three
    years, overlapping another posting of the expert; ``posting_problems``
    gives the same errors without writing).
    """
    if home_institution is None or not policies.is_sending_manager(actor, home_institution.pk):
        raise NotAllowed(_("只有派出单位的管理员可以登记长期派驻。"))
    duties = (duties or "").strip()
    errors, consortium, start, end = _check(
        expert=expert,
        home_institution=home_institution,
        host_institution=host_institution,
        planned_start=planned_start,
        planned_end=planned_end,
        home_department=home_department,
        duties=duties,
    )
    raise_if(errors)
    assert consortium is not None and start is not None and end is not None
    with transaction.atomic():
        # Two postings of one expert recorded at once would each miss the other's uncommitted row;
        # locking the expert's user row puts them one after the other.
        get_user_model().objects.select_for_update().filter(pk=expert.pk).exists()
        if _overlapping(expert, start, end):
            raise Invalid({"planned_start": [_(OVERLAP_MESSAGE)]})
        posting = Posting.objects.create(
            consortium=consortium,
            expert=expert,
            home_institution=home_institution,
            home_department=home_department,
            host_institution=host_institution,
            title_at_posting=expert.professional_title,
            planned_start=start,
            planned_end=end,
            duties=duties,
            created_by=actor,
        )
        _audit(
            actor,
            posting,
            "create",
            after={
                "expert": str(expert.public_id),
                "host_institution": str(host_institution.public_id),
                "planned_start": str(start),
                "planned_end": str(end),
                "title_at_posting": expert.professional_title,
            },
        )
    return posting


def posting_start(
    *, actor: Any, posting: Posting, actual_start: Any, expected_version: int | None = None
) -> Posting:
    """Record the day the posted physician started at the host (not in the future).

    Either end's administrator. Audited ``outreach_posting.start``. Raises
    NotAllowed, Conflict (not planned, stale), Invalid (date).
    """
    if not policies.can_manage_posting(actor, posting):
        raise NotAllowed(_("您不能修改该派驻记录。"))
    errors: dict[str, list[str]] = {}
    day = check_date(actual_start, "actual_start", errors, _("实际开始日期"))
    if day and day > timezone.localdate():
        errors["actual_start"] = [_("实际开始日期不能晚于今天。")]
    raise_if(errors)
    with transaction.atomic():
        locked = _locked(posting, expected_version)
        if locked.status != PostingStatus.PLANNED:
            raise Conflict(_("该派驻已开始或已结束。"))
        _save(locked, status=PostingStatus.ACTIVE, actual_start=day)
        _audit(
            actor, locked, "start", before={"status": PostingStatus.PLANNED}, after={"actual_start": str(day)}
        )
    return locked


def posting_end(
    *,
    actor: Any,
    posting: Posting,
    actual_end: Any,
    reason: str = "",
    expected_version: int | None = None,
) -> Posting:
    """Record the last day of an active posting: before the planned end it ends early and needs a reason.

    Either end's administrator. Audited ``outreach_posting.end``. Raises
    NotAllowed, Conflict (not active, stale), Invalid (date before the
    start or after today, missing reason).
    """
    if not policies.can_manage_posting(actor, posting):
        raise NotAllowed(_("您不能修改该派驻记录。"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    day = check_date(actual_end, "actual_end", errors, _("实际结束日期"))
    too_long({"reason": reason}, {"reason": 200}, errors)
    raise_if(errors)
    assert day is not None
    with transaction.atomic():
        locked = _locked(posting, expected_version)
        if locked.status != PostingStatus.ACTIVE:
            raise Conflict(_("只有派驻中的记录可以结束。"))
        if locked.actual_start and day < locked.actual_start:
            errors["actual_end"] = [_("结束日期不能早于实际开始日期。")]
        elif day > timezone.localdate():
            errors["actual_end"] = [_("实际结束日期不能晚于今天。")]
        early = day < locked.planned_end
        if early and not reason:
            errors["reason"] = [_("提前结束请填写原因。")]
        raise_if(errors)
        status = PostingStatus.ENDED_EARLY if early else PostingStatus.COMPLETED
        _save(locked, status=status, actual_end=day, early_end_reason=reason if early else "")
        _audit(
            actor,
            locked,
            "end",
            before={"status": PostingStatus.ACTIVE},
            after={"status": status, "actual_end": str(day), "reason": reason},
        )
    return locked


def posting_cancel(
    *, actor: Any, posting: Posting, reason: str, expected_version: int | None = None
) -> Posting:
    """Cancel a posting that never started (the sending administrator). Audited ``outreach_posting.cancel``.

    Raises NotAllowed, Conflict (already started), Invalid (missing reason).
    """
    if not policies.is_sending_manager(actor, posting.home_institution_id):
        raise NotAllowed(_("只有派出单位的管理员可以取消派驻。"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("请填写原因。")]
    too_long({"reason": reason}, {"reason": 200}, errors)
    raise_if(errors)
    with transaction.atomic():
        locked = _locked(posting, expected_version)
        if locked.status != PostingStatus.PLANNED:
            raise Conflict(_("派驻已开始，不能取消；请登记提前结束。"))
        _save(locked, status=PostingStatus.CANCELLED, early_end_reason=reason)
        _audit(actor, locked, "cancel", before={"status": PostingStatus.PLANNED}, after={"reason": reason})
    return locked


def posting_days(start: datetime.date, end: datetime.date) -> int:
    """Days of a period counting both ends."""
    return (end - start).days + 1
