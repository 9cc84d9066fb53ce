"""Expert outreach (专家下沉) in the demo county: a year of dispatch batches, long-term postings, and
expert clinic sessions for the next two weeks.

What ``seed-demo`` adds, deterministically from the seed and relative to today:

* a few physicians of the county and city hospitals generated for outreach
  (no password: they never log in), recorded with their ``user.create`` and
  ``membership.grant`` audit events like every account;
* a year of dispatch batches written in bulk: every township health centre
  of the county consortium gets two to four visits a month from the county
  hospital's experts (the demo accounts ``doctor``, ``endocrinologist``,
  ``neurologist`` and the generated physicians), the city hospital's
  experts visit the community centres of its city group; each batch holds
  one to three experts' work (clinic sessions, ward rounds, bedside
  teaching, lectures, quality supervision, record and prescription reviews,
  surgery guidance, free clinics) with workload, findings, hazards found and
  fixed, and its timeline (recorded, completed, confirmed by the member) —
  older batches confirmed, the last fortnight's done and waiting, the next
  fortnight's planned;
* a dozen long-term postings to township centres: cross-year ones, an early
  end with a reason, a cancelled and a planned one, and postings of
  resident physicians, which the national indicator must not count — every
  one a physician the posting service would accept (``posting_problems``);
* expert clinic sessions of ``doctor``, ``endocrinologist`` and
  ``neurologist`` at township centres over the next two weeks, published by
  the experts through the service, with slots booked through the real
  service by ``township_doctor`` and ``township_admin``; one batch recorded
  live by ``doctor`` and completed, waiting for ``township_admin`` to confirm.

Everything is written only when the county consortium has no batch yet, so a
second run changes nothing.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from yilian.accounts.models import Membership, User
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.demo import generators
from yilian.demo.plan import DemoPlan
from yilian.demo.referrals import backdated, local, month_starts, next_month
from yilian.institutions.models import Consortium, ConsortiumMember, Department, Institution
from yilian.outreach import services as outreach
from yilian.outreach.choices import BatchSide, BatchStatus, OutreachKind, PostingStatus
from yilian.outreach.models import (
    ExpertClinicSession,
    OutreachBatch,
    OutreachEvent,
    OutreachVisit,
    Posting,
)
from yilian.people.models import PersonInstitutionLink

Log = Callable[[str], None]
D = datetime.date

GENERATED = (
    # username, institution key, department, title, gender
    ("od_county_01", "county_hospital", "心血管内科", "attending_physician", "1"),
    ("od_county_02", "county_hospital", "内分泌科", "resident_physician", "2"),
    ("od_county_03", "county_hospital", "普外科", "associate_chief_physician", "1"),
    ("od_county_04", "county_hospital", "儿科", "attending_physician", "2"),
    ("od_county_05", "county_hospital", "呼吸内科", "chief_physician", "1"),
    ("od_county_06", "county_hospital", "妇产科", "resident_physician", "2"),
    ("od_county_07", "county_hospital", "骨科", "attending_physician", "1"),
    ("od_city_01", "city_hospital", "心血管内科", "chief_physician", "1"),
    ("od_city_02", "city_hospital", "神经内科", "associate_chief_physician", "2"),
)
"""Physicians generated for outreach (department names are matched when the hospital has them)."""

KIND_WEIGHTS = (
    (OutreachKind.CLINIC, 34),
    (OutreachKind.WARD_ROUND, 20),
    (OutreachKind.TEACHING, 12),
    (OutreachKind.LECTURE, 10),
    (OutreachKind.QUALITY, 8),
    (OutreachKind.RECORD_REVIEW, 5),
    (OutreachKind.PRESCRIPTION_REVIEW, 5),
    (OutreachKind.SURGERY, 4),
    (OutreachKind.FREE_CLINIC, 2),
)
PURPOSES = {
    OutreachKind.CLINIC: "专家坐诊",
    OutreachKind.WARD_ROUND: "业务查房",
    OutreachKind.TEACHING: "临床带教",
    OutreachKind.LECTURE: "业务讲座",
    OutreachKind.QUALITY: "医疗质量督导",
    OutreachKind.RECORD_REVIEW: "归档病历质控",
    OutreachKind.PRESCRIPTION_REVIEW: "处方点评",
    OutreachKind.SURGERY: "手术指导",
    OutreachKind.FREE_CLINIC: "免费义诊",
}
FINDINGS = {
    OutreachKind.CLINIC: (
        "高血压患者用药方案调整 {n} 例，指导基层医师规范使用降压药。",
        "糖尿病患者血糖控制不佳者建议转诊 {n} 例。",
    ),
    OutreachKind.WARD_ROUND: (
        "查房 {n} 名住院患者，纠正慢阻肺患者抗菌药物使用不规范。",
        "指导心衰患者容量管理，床旁讲解出入量记录。",
    ),
    OutreachKind.TEACHING: ("床旁带教心电图判读，{n} 名医师参加。", "带教胸腔穿刺操作规范。"),
    OutreachKind.LECTURE: (
        "讲座：难治性高血压诊治指南解读。",
        "讲座：急诊急救相关知识与心肺复苏。",
        "讲座：病历书写规范。",
    ),
    OutreachKind.QUALITY: (
        "发现：门诊手术室无独立窗户、呈开放式；抢救车药品未按基数管理。",
        "发现：住院部无吸痰器；院感手卫生依从性不足。",
    ),
    OutreachKind.RECORD_REVIEW: ("抽查归档病历 {n} 份，病程记录不及时、不规范。",),
    OutreachKind.PRESCRIPTION_REVIEW: ("点评处方 {n} 张，抗菌药物联用不合理。",),
    OutreachKind.SURGERY: ("指导开展腹股沟疝修补术。", "指导清创缝合与阑尾切除术。"),
    OutreachKind.FREE_CLINIC: ("集市义诊，测血压、血糖，发放健康教育资料。",),
}


@dataclass
class _Trip:
    """One batch being written: its row, visits and timeline."""

    batch: OutreachBatch
    visits: list[OutreachVisit] = field(default_factory=list)
    events: list[OutreachEvent] = field(default_factory=list)


class OutreachSeeder:
    """Seeds the demo county's outreach records; a second run changes nothing."""

    def __init__(
        self,
        *,
        plan: DemoPlan,
        admin: User,
        institutions: dict[str, Any],
        consortia: dict[str, Any],
        log: Any,
        months: int = 12,
        now: datetime.datetime | None = None,
    ) -> None:
        self.plan = plan
        self.admin = admin
        self.institutions = institutions
        self.consortia = consortia
        self.log = log
        self.months = months
        self.now = now or timezone.now()
        self.today = timezone.localtime(self.now).date()
        self.users: dict[str, User] = {}

    def run(self) -> None:
        """Generated physicians, then (once) the year of batches, the postings and the live records."""
        county: Consortium | None = self.consortia.get("county")
        if county is None or self.months <= 0:
            return
        if OutreachBatch.objects.filter(consortium=county).exists():
            self.log("专家下沉演示数据已存在，跳过 / outreach already seeded, skipped")
            return
        started = time.perf_counter()
        usernames = [a.username for a in self.plan.accounts] + [g[0] for g in GENERATED]
        self._physicians()
        self.users = {u.username: u for u in User.objects.filter(username__in=usernames)}
        with transaction.atomic():
            batches = self._history(county)
            postings = self._postings(county)
        sessions, bookings = self._live()
        self.log(
            f"专家下沉 outreach: {batches} batches, {postings} postings, {sessions} expert clinic sessions, "
            f"{bookings} bookings ({time.perf_counter() - started:.1f} s)"
        )

    # Physicians ------------------------------------------------------------------------------

    def _physicians(self) -> None:
        """The generated physicians (bulk, with their audit events), when missing."""
        existing = set(
            User.objects.filter(username__in=[g[0] for g in GENERATED]).values_list("username", flat=True)
        )
        random_ = generators.rng(self.plan.seed, "outreach-physicians")
        events: list[AuditEvent] = []
        for username, key, department_name, title, gender in GENERATED:
            name = generators.person_name(random_, gender, D(random_.randint(1966, 1992), 6, 1))
            institution = self.institutions.get(key)
            if username in existing or institution is None:
                continue
            user = User(username=username, full_name=name, professional_title=title)
            user.set_unusable_password()
            user.save()
            department = Department.objects.filter(institution=institution, name=department_name).first()
            grant = Membership.objects.create(
                user=user,
                role=Role.DOCTOR,
                institution=institution,
                department=department,
                granted_by=self.admin,
            )
            events += [
                AuditEvent(
                    actor=self.admin,
                    actor_label=self.admin.full_name or self.admin.username,
                    action="user.create",
                    object_type="accounts.user",
                    object_id=str(user.public_id),
                    object_label=str(user)[:300],
                    after={"username": username, "full_name": name, "professional_title": title},
                    details={"source": "seed-demo outreach"},
                ),
                AuditEvent(
                    actor=self.admin,
                    actor_label=self.admin.full_name or self.admin.username,
                    action="membership.grant",
                    object_type="accounts.membership",
                    object_id=str(grant.public_id),
                    object_label=str(grant)[:300],
                    institution_public_id=institution.public_id,
                    after={"user": username, "role": Role.DOCTOR},
                    details={"source": "seed-demo outreach"},
                ),
            ]
        AuditEvent.objects.bulk_create(events)

    def _experts(self, institution: Institution) -> list[tuple[User, Department | None]]:
        """Physicians of a hospital (demo accounts with the doctor role and the generated ones)."""
        rows = (
            Membership.objects.filter(
                institution=institution, role=Role.DOCTOR, is_active=True, user__is_active=True
            )
            .select_related("user", "department")
            .order_by("user__username")
        )
        return [(m.user, m.department) for m in rows if m.user.professional_title.endswith("physician")]

    # The year of batches -----------------------------------------------------------------------

    def _hosts(self, consortium: Consortium | None, sender: Institution) -> list[Institution]:
        """Township / community health centres of the consortium (village clinics are visited by them)."""
        if consortium is None:
            return []
        members = (
            ConsortiumMember.objects.filter(consortium=consortium, is_active=True)
            .exclude(institution=sender)
            .select_related("institution")
            .order_by("institution__region__code", "institution__name")
        )
        return [
            m.institution
            for m in members
            if m.institution.category.startswith("C") or m.institution.category == "B100"
        ]

    def _history(self, county: Consortium) -> int:
        """Batches for every month and host, written in bulk with their visits and timelines."""
        trips: list[_Trip] = []
        numbers: dict[str, int] = defaultdict(int)
        plans = [
            ("county_hospital", county, (2, 4)),
            ("city_hospital", self.consortia.get("city"), (1, 2)),
        ]
        hospital_admin = self.users.get("hospital_admin")
        for key, consortium, (low, high) in plans:
            sender = self.institutions.get(key)
            if sender is None or consortium is None:
                continue
            experts = self._experts(sender)
            if not experts:
                continue
            recorder = hospital_admin if key == "county_hospital" else None
            for host in self._hosts(consortium, sender):
                random_ = generators.rng(self.plan.seed, "outreach", host.credit_code)
                confirmer = (
                    self.users.get("township_admin")
                    if host == self.institutions.get("township:341524101")
                    else None
                )
                for month in month_starts(self.today, self.months):
                    last = min(
                        next_month(month) - datetime.timedelta(days=1),
                        self.today + datetime.timedelta(days=14),
                    )
                    if last < month:
                        continue
                    for _index in range(random_.randint(low, high)):
                        day = month + datetime.timedelta(days=random_.randint(0, (last - month).days))
                        trips.append(
                            self._trip(
                                random_, consortium, sender, host, day, experts, recorder, confirmer, numbers
                            )
                        )
        batch_fields = [OutreachBatch._meta.get_field(n) for n in ("created_at", "updated_at")]
        with backdated(*batch_fields):
            OutreachBatch.objects.bulk_create([t.batch for t in trips], batch_size=500)
        visits = [v for t in trips for v in t.visits]
        for trip in trips:
            for v in trip.visits:
                v.batch = trip.batch
            for e in trip.events:
                e.batch = trip.batch
        with backdated(*[OutreachVisit._meta.get_field(n) for n in ("created_at", "updated_at")]):
            OutreachVisit.objects.bulk_create(visits, batch_size=1000)
        with backdated(OutreachEvent._meta.get_field("occurred_at")):
            OutreachEvent.objects.bulk_create([e for t in trips for e in t.events], batch_size=1000)
        return len(trips)

    def _trip(
        self,
        random_: random.Random,
        consortium: Consortium,
        sender: Institution,
        host: Institution,
        day: datetime.date,
        experts: list[tuple[User, Department | None]],
        recorder: User | None,
        confirmer: User | None,
        numbers: dict[str, int],
    ) -> _Trip:
        """One batch on ``day``: its status by age, one to three experts' work, its timeline."""
        span = 1 if random_.random() < 0.8 else 2
        ends = day + datetime.timedelta(days=span - 1)
        latest = self.now - datetime.timedelta(hours=2)
        created = min(
            local(day - datetime.timedelta(days=random_.randint(3, 10)), 9 + random_.random() * 6), latest
        )
        age = (self.today - ends).days
        if ends >= self.today:
            status = BatchStatus.PLANNED
        elif random_.random() < 0.02:
            status = BatchStatus.CANCELLED
        elif age > 14:
            status = BatchStatus.CONFIRMED if random_.random() < 0.93 else BatchStatus.DONE
        else:
            status = BatchStatus.DONE if random_.random() < 0.6 else BatchStatus.CONFIRMED
        team = random_.sample(experts, k=min(len(experts), random_.choice((1, 1, 1, 2, 2, 3))))
        kinds: list[str] = []
        visits: list[OutreachVisit] = []
        for expert, department in team:
            for _n in range(1 if random_.random() < 0.7 else 2):
                kind = random_.choices([k for k, _w in KIND_WEIGHTS], [w for _k, w in KIND_WEIGHTS])[0]
                kinds.append(kind)
                visits.append(
                    self._visit(
                        random_, expert, department, kind, day, ends, done=status != BatchStatus.PLANNED
                    )
                )
        stamp = f"{created:%Y%m%d}"
        numbers[stamp] += 1
        recorder_label = (recorder.full_name if recorder else "") or (
            team[0][0].full_name or team[0][0].username
        )
        purpose = "、".join(dict.fromkeys(PURPOSES[k] for k in kinds))
        # Completion the day after the trip, confirmation a few days later — never after "now".
        completed_at = max(
            min(local(ends + datetime.timedelta(days=1), 10 + random_.random() * 6), latest), created
        )
        confirmed_at = completed_at + datetime.timedelta(
            days=random_.randint(1, 5), hours=random_.random() * 5
        )
        confirmed_at = max(min(confirmed_at, self.now - datetime.timedelta(minutes=30)), completed_at)
        batch = OutreachBatch(
            number=f"XC{stamp}{9000 - numbers[stamp]:04d}",
            status=status,
            version=2
            + len(visits)
            + (status in (BatchStatus.DONE, BatchStatus.CONFIRMED))
            + (status == BatchStatus.CONFIRMED),
            consortium=consortium,
            sending_institution=sender,
            host_institution=host,
            starts_on=day,
            ends_on=ends,
            purpose=purpose[:200],
            summary="按计划完成帮扶任务，成员单位反馈良好。"
            if status in (BatchStatus.DONE, BatchStatus.CONFIRMED)
            else "",
            confirmed_at=confirmed_at if status == BatchStatus.CONFIRMED else None,
            confirmed_by=confirmer if status == BatchStatus.CONFIRMED else None,
            cancel_reason="专家临时有急诊手术，改期。" if status == BatchStatus.CANCELLED else "",
            created_by=recorder or team[0][0],
            created_at=created,
            updated_at=confirmed_at if status == BatchStatus.CONFIRMED else created,
        )
        for v in visits:
            v.created_at = v.updated_at = created
        events = [
            self._event(
                created, "create", "", BatchStatus.PLANNED, BatchSide.SENDING, recorder, recorder_label
            )
        ]
        for index, (v, kind) in enumerate(zip(visits, kinds, strict=True)):
            events.append(
                self._event(
                    created + datetime.timedelta(minutes=2 + index),
                    "visit_add",
                    BatchStatus.PLANNED,
                    BatchStatus.PLANNED,
                    BatchSide.SENDING,
                    recorder,
                    recorder_label,
                    f"{v.expert.full_name or v.expert.username} {OutreachKind(kind).label}",
                )
            )
        if status == BatchStatus.CANCELLED:
            events.append(
                self._event(
                    created + datetime.timedelta(days=1),
                    "cancel",
                    BatchStatus.PLANNED,
                    status,
                    BatchSide.SENDING,
                    recorder,
                    recorder_label,
                    batch.cancel_reason,
                )
            )
        if status in (BatchStatus.DONE, BatchStatus.CONFIRMED):
            events.append(
                self._event(
                    completed_at,
                    "complete",
                    BatchStatus.PLANNED,
                    BatchStatus.DONE,
                    BatchSide.SENDING,
                    recorder,
                    recorder_label,
                )
            )
        if status == BatchStatus.CONFIRMED:
            label = (confirmer.full_name if confirmer else "") or f"{host.short_name or host.name}管理员"
            events.append(
                self._event(
                    confirmed_at, "confirm", BatchStatus.DONE, status, BatchSide.HOST, confirmer, label
                )
            )
        return _Trip(batch=batch, visits=visits, events=events)

    @staticmethod
    def _event(
        at: datetime.datetime,
        action: str,
        from_status: str,
        to_status: str,
        side: str,
        actor: User | None,
        label: str,
        note: str = "",
    ) -> OutreachEvent:
        return OutreachEvent(
            action=action,
            from_status=from_status,
            to_status=to_status,
            side=side,
            actor=actor,
            actor_label=label,
            note=note[:500],
            occurred_at=at,
        )

    @staticmethod
    def _visit(
        random_: random.Random,
        expert: User,
        department: Department | None,
        kind: str,
        day: datetime.date,
        ends: datetime.date,
        *,
        done: bool,
    ) -> OutreachVisit:
        """One expert's work of one kind, with the workload the seeds' reports count."""
        on = day + datetime.timedelta(days=random_.randint(0, (ends - day).days))
        values = {
            "sessions": 1,
            "patients_seen": 0,
            "attendees": 0,
            "surgeries": 0,
            "records_reviewed": 0,
            "hazards_found": 0,
            "hazards_fixed": 0,
        }
        n = 0
        if kind == OutreachKind.CLINIC:
            values["sessions"] = random_.choice((1, 1, 2))
            values["patients_seen"] = n = sum(random_.randint(12, 35) for _s in range(values["sessions"]))
        elif kind == OutreachKind.WARD_ROUND:
            values["patients_seen"] = n = random_.randint(4, 12)
        elif kind == OutreachKind.TEACHING:
            values["attendees"] = n = random_.randint(3, 9)
        elif kind == OutreachKind.LECTURE:
            values["attendees"] = n = random_.randint(18, 60)
        elif kind == OutreachKind.QUALITY:
            found = random_.randint(1, 4)
            values.update(hazards_found=found, hazards_fixed=random_.randint(0, found))
        elif kind in (OutreachKind.RECORD_REVIEW, OutreachKind.PRESCRIPTION_REVIEW):
            values["records_reviewed"] = n = (
                random_.randint(20, 50) if kind == OutreachKind.RECORD_REVIEW else random_.randint(50, 120)
            )
            found = random_.choice((0, 0, 1, 2))
            values.update(hazards_found=found, hazards_fixed=found if random_.random() < 0.7 else 0)
        elif kind == OutreachKind.SURGERY:
            values["surgeries"] = random_.randint(1, 3)
        elif kind == OutreachKind.FREE_CLINIC:
            values["patients_seen"] = n = random_.randint(40, 120)
        if not done:
            values = {k: (1 if k == "sessions" else 0) for k in values}
        findings = random_.choice(FINDINGS[kind]).format(n=max(n, 1)) if done else ""
        return OutreachVisit(
            expert=expert,
            home_department=department,
            title_at_visit=expert.professional_title,
            kind=kind,
            visit_on=on,
            findings=findings,
            **values,
        )

    # Postings --------------------------------------------------------------------------------

    def _postings(self, county: Consortium) -> int:
        """A dozen postings to township centres (cross-year ones, early end, cancelled, planned, resident
        physicians the indicator does not count), written directly as their history — each checked first
        with the service's own rules (``posting_problems``: a physician of the sender, a primary host,
        the length, no overlap), so the demo holds nothing the posting form would refuse.

        Raises RuntimeError when a specification breaks those rules (a bug of this module)."""
        hospital = self.institutions.get("county_hospital")
        if hospital is None:
            return 0
        hosts = self._hosts(county, hospital)
        if not hosts:
            return 0
        y = self.today.year
        u = self.users.get
        specs: list[tuple[str, int, D, int, str]] = [
            # username, host index, planned start, planned days, special
            ("od_county_01", 0, D(y - 2, 10, 1), 365, ""),
            ("od_county_02", 1, D(y - 1, 3, 1), 240, ""),
            ("od_county_03", 2, D(y - 1, 9, 1), 365, ""),
            ("od_county_04", 3, D(y - 1, 5, 1), 300, "early"),
            ("od_county_06", 4, D(y, 1, 10), 200, ""),
            ("od_county_05", 5, D(y, 3, 1), 366, ""),
            ("od_county_06", 6, D(y - 1, 7, 1), 190, ""),
            ("od_county_07", 7, D(y - 1, 1, 15), 365, ""),
            ("od_county_07", 0, D(y, 6, 1), 183, ""),
            ("od_county_01", 8, self.today + datetime.timedelta(days=20), 200, ""),
            ("od_county_02", 2, D(y, 2, 1), 200, "cancel"),
            ("od_county_04", 1, D(y, 4, 1), 240, ""),
        ]
        rows: list[Posting] = []
        for username, host_index, start, days, special in specs:
            expert = u(username)
            if expert is None:
                continue
            membership = (
                Membership.objects.filter(user=expert, institution=hospital, is_active=True)
                .select_related("department")
                .first()
            )
            if membership is None:
                continue
            end = start + datetime.timedelta(days=days - 1)
            host = hosts[host_index % len(hosts)]
            problems = outreach.posting_problems(
                expert=expert,
                home_institution=hospital,
                host_institution=host,
                planned_start=start,
                planned_end=end,
                home_department=membership.department,
            )
            if problems:
                raise RuntimeError(f"demo posting of {username} breaks the posting rules: {problems}")
            values: dict[str, Any] = {"status": PostingStatus.PLANNED}
            if special == "cancel":
                values.update(status=PostingStatus.CANCELLED, early_end_reason="科室人员紧张，暂缓派驻。")
            elif start <= self.today:
                values.update(status=PostingStatus.ACTIVE, actual_start=start)
                if special == "early":
                    early = start + datetime.timedelta(days=119)
                    if early <= self.today:
                        values.update(
                            status=PostingStatus.ENDED_EARLY,
                            actual_end=early,
                            early_end_reason="本人身体原因申请提前结束。",
                        )
                elif end <= self.today:
                    values.update(status=PostingStatus.COMPLETED, actual_end=end)
            # Saved one by one so that the next specification's overlap check sees this one.
            rows.append(
                Posting.objects.create(
                    consortium=county,
                    expert=expert,
                    home_institution=hospital,
                    home_department=membership.department,
                    host_institution=host,
                    title_at_posting=expert.professional_title,
                    planned_start=start,
                    planned_end=end,
                    duties="常驻卫生院开展门诊、查房与带教，帮助建设特色科室。",
                    created_by=u("hospital_admin") or self.admin,
                    **values,
                )
            )
        return len(rows)

    # Live records ----------------------------------------------------------------------------

    def _live(self) -> tuple[int, int]:
        """Expert clinic sessions for the next two weeks and bookings, a batch waiting for confirmation —
        all through the real services by the demo accounts."""
        township = self.institutions.get("township:341524101")
        hospital = self.institutions.get("county_hospital")
        sessions = bookings = 0
        if township is None or hospital is None:
            return 0, 0
        county = self.consortia["county"]
        hosts = self._hosts(county, hospital)
        others = [h for h in hosts if h != township][:2]
        schedule = (
            ("doctor", township, 1, 8.5),
            ("endocrinologist", township, 3, 8.5),
            ("neurologist", township, 8, 14.0),
            ("doctor", township, 10, 8.5),
            *[("endocrinologist", host, 2 + i * 5, 14.0) for i, host in enumerate(others)],
            *[("neurologist", host, 4 + i * 4, 8.5) for i, host in enumerate(others)],
        )
        published: list[ExpertClinicSession] = []
        for username, host, offset, hour in schedule:
            expert = self.users.get(username)
            if expert is None:
                continue
            day = self.today + datetime.timedelta(days=offset)
            while day.weekday() >= 5:
                day += datetime.timedelta(days=1)
            starts = local(day, hour)
            try:
                published.append(
                    outreach.session_publish(
                        actor=expert,
                        expert=expert,
                        host_institution=host,
                        starts_at=starts,
                        ends_at=starts + datetime.timedelta(hours=3),
                        slot_minutes=15,
                        note="请携带既往检查资料",
                    )
                )
                sessions += 1
            except Exception as error:  # a demo account without the expected role: skip, say why
                self.log(f"  outreach: session of {username} skipped ({error})")
        persons = list(
            PersonInstitutionLink.objects.filter(institution=township, reason="registered")
            .select_related("person")
            .order_by("person__id")[:12]
        )
        bookers = [u for u in (self.users.get("township_doctor"), self.users.get("township_admin")) if u]
        at_township = [s for s in published if s.host_institution_id == township.pk]
        if bookers and persons and at_township:
            index = 0
            for number, s in enumerate(at_township):
                slots = list(s.slots.order_by("starts_at"))
                for slot in slots[: 4 if number < 2 else 2]:
                    if index >= len(persons):
                        break
                    outreach.booking_create(
                        actor=bookers[index % len(bookers)],
                        slot=slot,
                        person=persons[index].person,
                        note="门诊随访",
                    )
                    index += 1
                    bookings += 1
        self._live_batch(township, hospital)
        return sessions, bookings

    def _live_batch(self, township: Institution, hospital: Institution) -> None:
        """``doctor`` records yesterday's trip to the demo township and completes it; ``township_admin``
        has it to confirm."""
        doctor = self.users.get("doctor")
        if doctor is None:
            return
        day = self.today - datetime.timedelta(days=1)
        batch = outreach.batch_create(
            actor=doctor,
            sending_institution=hospital,
            host_institution=township,
            starts_on=day,
            ends_on=day,
            purpose="心内科专家坐诊、业务查房",
        )
        department = (
            Membership.objects.filter(user=doctor, institution=hospital)
            .values_list("department", flat=True)
            .first()
        )
        outreach.visit_add(
            actor=doctor,
            batch=batch,
            expert=doctor,
            kind=OutreachKind.CLINIC,
            visit_on=day,
            sessions=1,
            patients_seen=26,
            home_department=Department.objects.filter(pk=department).first(),
            findings="高血压患者 6 例调整用药；2 例疑似冠心病建议上转。",
        )
        outreach.visit_add(
            actor=doctor,
            batch=batch,
            expert=doctor,
            kind=OutreachKind.WARD_ROUND,
            visit_on=day,
            sessions=1,
            patients_seen=8,
            hazards_found=2,
            hazards_fixed=1,
            findings="住院部抢救车药品未按基数管理（已整改）；心电监护仪报警阈值设置不当（待整改）。",
        )
        outreach.batch_act(actor=doctor, batch=batch, action="complete", summary="完成坐诊与查房。")
