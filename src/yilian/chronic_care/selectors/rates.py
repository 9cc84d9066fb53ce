"""Management rates per team, institution and consortium, computed in SQL (aggregates only, no names).

Working definitions (R — shown on the page; the national specification's exact wording was not read):

* cases under management: enrolled on or before the period's end and not closed by then;
* standardised-management rate (规范管理率): cases with at least the required number of follow-ups in the
  period (the registry's yearly number pro-rated to the elapsed part of the period, rounded up) ÷ cases
  under management;
* control rate (控制率): cases whose last follow-up in the period is controlled ÷ cases under management;
* follow-up on-time rate (随访及时率): follow-ups done on or before their due date ÷ follow-ups that fell due
  in the period (done, plus those still outstanding past their due date).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yilian.accounts.selectors import scope_for
from yilian.chronic_care import policies
from yilian.chronic_care.choices import CaseStatus, Control
from yilian.chronic_care.models import ChronicCase, ChronicRegistry, FollowUp
from yilian.institutions.models import ConsortiumMember

GROUPS = ("team", "institution", "consortium")

DEFINITIONS = {
    "standard_rate": _(
        "规范管理率 = 周期内随访次数达到要求（年度要求次数按已过时间折算、向上取整）的管理人数 ÷ 管理人数（工作定义）"
    ),
    "control_rate": _("控制率 = 周期内最近一次随访控制满意的管理人数 ÷ 管理人数（工作定义）"),
    "on_time_rate": _(
        "随访及时率 = 在应随访日期当日或之前完成的随访次数 ÷ 周期内到期的随访次数（含逾期未随访）（工作定义）"
    ),
    "managed": _("管理人数 = 周期结束（或今天）前纳入管理且未结案的档案数"),
}
"""The definitions shown with the rates (page, API, Excel)."""


@dataclass(frozen=True)
class Period:
    """A year or a quarter; ``until`` is the end or today, whichever comes first."""

    start: datetime.date
    end: datetime.date
    until: datetime.date
    label: str

    @property
    def fraction(self) -> float:
        """Elapsed share of a year the period stands for (pro-rates the required follow-ups)."""
        return max(0, (self.until - self.start).days + 1) / 365.25


def period_of(year: int, quarter: int | None = None, *, today: datetime.date | None = None) -> Period:
    """The period of a year, or of one of its quarters (1–4)."""
    today = today or timezone.localdate()
    if quarter:
        start = datetime.date(year, 3 * quarter - 2, 1)
        end = (
            datetime.date(year, 3 * quarter + 1, 1) - datetime.timedelta(days=1)
            if quarter < 4
            else datetime.date(year, 12, 31)
        )
        label = f"{year}Q{quarter}"
    else:
        start, end, label = datetime.date(year, 1, 1), datetime.date(year, 12, 31), str(year)
    return Period(start=start, end=end, until=min(end, today), label=label)


@dataclass
class RateRow:
    """One group's numerators and denominators; the rates are derived (None when nothing to divide)."""

    key: Any
    label: str
    parent: str = ""
    managed: int = 0
    standard: int = 0
    controlled: int = 0
    due: int = 0
    on_time: int = 0

    @staticmethod
    def _ratio(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def standard_rate(self) -> float | None:
        """规范管理率, percent."""
        return self._ratio(self.standard, self.managed)

    @property
    def control_rate(self) -> float | None:
        """控制率, percent."""
        return self._ratio(self.controlled, self.managed)

    @property
    def on_time_rate(self) -> float | None:
        """随访及时率, percent."""
        return self._ratio(self.on_time, self.due)

    def add(self, other: RateRow) -> None:
        """Roll another row's counts into this one (numerators and denominators, never ratios)."""
        self.managed += other.managed
        self.standard += other.standard
        self.controlled += other.controlled
        self.due += other.due
        self.on_time += other.on_time


def _scope(actor: Any) -> Q | None:
    """Cases whose aggregates the actor reads."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return Q()
    parts: list[Q] = []
    institutions = policies.patient_institutions(actor)
    if institutions:
        parts.append(Q(institution_id__in=institutions))
    teams = policies.team_ids_of(actor)
    if teams:
        parts.append(Q(care_team_id__in=teams))
    consortia = policies.overseen_consortia(actor)
    if consortia:
        members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values(
            "institution_id"
        )
        parts.append(Q(institution_id__in=members))
    for prefix in policies.regulated_prefixes(actor):
        parts.append(Q(institution__region__code__startswith=prefix))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def rate_cases(actor: Any, *, registry: str = "") -> QuerySet[ChronicCase]:
    """Cases the actor's rates cover (no names leave this module)."""
    scope = _scope(actor)
    if scope is None:
        return ChronicCase.objects.none()
    cases = ChronicCase.objects.filter(scope)
    if registry:
        cases = cases.filter(registry__code=registry)
    return cases


ROUNDING = 0.05
"""A quarter is 92 days, a bit more than a quarter of a year: don't round 1.007 required visits up to 2."""


def _required(period: Period) -> Case:
    """The required follow-ups of each registry in the period, as a SQL CASE on registry_id."""
    whens = [
        When(registry_id=pk, then=Value(max(1, math.ceil(per_year * period.fraction - ROUNDING))))
        for pk, per_year in ChronicRegistry.objects.values_list("pk", "follow_ups_per_year")
    ]
    return Case(*whens, default=Value(1), output_field=IntegerField())


GROUP_FIELDS = {
    "team": ("care_team_id", "care_team__name", "institution__name"),
    "institution": ("institution_id", "institution__name", "institution__region__name"),
}


def rates(actor: Any, *, period: Period, group: str = "institution", registry: str = "") -> list[RateRow]:
    """Rates for the period grouped by care team, institution or consortium (a roll-up of the
    institutions by their active memberships). Three aggregate queries (plus one for the registries and
    one for the consortium roll-up), whatever the number of cases."""
    by = "institution" if group == "consortium" else group
    key, label, parent = GROUP_FIELDS[by]
    cases = (
        rate_cases(actor, registry=registry)
        .filter(enrolled_on__lte=period.until)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=period.until))
    )
    in_period = FollowUp.objects.filter(case=OuterRef("pk"), visited_on__range=(period.start, period.until))
    counted = in_period.order_by().values("case").annotate(n=Count("id")).values("n")[:1]
    last_control = in_period.order_by("-visited_on", "-id").values("control")[:1]
    rows = (
        cases.annotate(
            visits=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
            required=_required(period),
            period_control=Subquery(last_control),
        )
        .values(key, label, parent)
        .annotate(
            managed=Count("id"),
            standard=Count("id", filter=Q(visits__gte=F("required"))),
            controlled=Count("id", filter=Q(period_control=Control.CONTROLLED)),
        )
        .order_by(parent, label)
    )
    result: dict[Any, RateRow] = {}
    for row in rows:
        result[row[key]] = RateRow(
            key=row[key],
            label=row[label] or "",
            parent=row[parent] or "",
            managed=row["managed"],
            standard=row["standard"],
            controlled=row["controlled"],
        )
    visible = rate_cases(actor, registry=registry)
    done = (
        FollowUp.objects.filter(case__in=visible.values("pk"), due_on__range=(period.start, period.until))
        .values(f"case__{key}", f"case__{label}", f"case__{parent}")
        .annotate(due=Count("id"), on_time=Count("id", filter=Q(visited_on__lte=F("due_on"))))
        .order_by()
    )
    missed = (
        visible.filter(
            status=CaseStatus.ACTIVE,
            next_due_on__gte=period.start,
            next_due_on__lt=min(period.until, timezone.localdate()),
        )
        .values(key, label, parent)
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in done:
        target = result.setdefault(
            row[f"case__{key}"],
            RateRow(
                key=row[f"case__{key}"],
                label=row[f"case__{label}"] or "",
                parent=row[f"case__{parent}"] or "",
            ),
        )
        target.due += row["due"]
        target.on_time += row["on_time"]
    for row in missed:
        target = result.setdefault(
            row[key], RateRow(key=row[key], label=row[label] or "", parent=row[parent] or "")
        )
        target.due += row["n"]
    rows_out = sorted(result.values(), key=lambda r: (r.parent, r.label))
    if group == "consortium":
        return _by_consortium(rows_out)
    return rows_out


def _by_consortium(rows: list[RateRow]) -> list[RateRow]:
    memberships = ConsortiumMember.objects.filter(
        institution_id__in=[row.key for row in rows], is_active=True, grid_form=True
    ).values_list("institution_id", "consortium_id", "consortium__name")
    of = {institution: (consortium, name) for institution, consortium, name in memberships}
    rolled: dict[Any, RateRow] = {}
    for row in rows:
        consortium, name = of.get(row.key, (None, ""))
        target = rolled.setdefault(consortium, RateRow(key=consortium, label=name or "—"))
        target.add(row)
    return sorted(rolled.values(), key=lambda r: r.label)


def total(rows: list[RateRow]) -> RateRow:
    """The sum of the rows (numerators and denominators added)."""
    result = RateRow(key=None, label="")
    for row in rows:
        result.add(row)
    return result
