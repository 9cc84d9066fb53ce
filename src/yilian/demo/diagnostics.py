"""Shared diagnostic centres in the demo county: configuration, a year of orders and reports, live orders.

What ``seed-demo`` adds for the diagnostics pages, deterministically from the
seed and relative to today:

* the county consortium's five shared centres at the county hospital
  (imaging, ECG, lab, pathology, sterilisation supply), their catalogues
  and the mutual-recognition rules, entered through the services by the
  consortium office (two county-hospital departments the centres need are
  added through the registry first);
* a year of orders from the townships (and village clinics, for blood
  tests and ECGs) for their residents, written in bulk: each order's
  timeline is played forward from its creation (collect, dispatch,
  receive or upload, claim, report, sign, a second reading for biopsies,
  amendments, critical values and their acknowledgement or escalation)
  and cut at "now", so status, timestamps, reports and steps agree (an
  upload step has its small PNG or PDF study file stored); orders
  for an item the patient already has a recognised result of become a
  "used" decision (money saved) or a repeat with a reason;
* a dozen recent orders made through the real services by the demo's
  township doctor and the centres' staff, so the reading lists, the
  specimens in transit, two unacknowledged critical values, the audit log
  and the notifications are the real ones.

Configuration is skipped where it exists; the activity is written only when
the county consortium has no order yet, so a second run changes nothing.
"""

from __future__ import annotations

import datetime
import math
import random
import struct
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from yilian.accounts.models import User
from yilian.core.audit import record_event
from yilian.demo import content, generators
from yilian.demo import diagnostics_content as dc
from yilian.demo import referral_content as rc
from yilian.demo.pdf import simple_pdf
from yilian.demo.plan import DemoPlan
from yilian.demo.referrals import backdated, hours, local, month_starts, next_month
from yilian.diagnostics import services as diag
from yilian.diagnostics.choices import (
    PRIORITY_RANK,
    SPECIMEN_KINDS,
    CentreKind,
    OrderPriority,
    OrderSide,
    OrderStatus,
    RecognitionOutcome,
    ReportStatus,
    StudyFileKind,
)
from yilian.diagnostics.models import (
    CriticalValueAlert,
    DiagnosticItem,
    DiagnosticOrder,
    DiagnosticReport,
    OrderEvent,
    RecognitionDecision,
    RecognitionRule,
    SharedCentre,
    StudyFile,
    study_upload_to,
)
from yilian.diagnostics.services import RecognisedResultExists
from yilian.diagnostics.services._common import barcode_for
from yilian.institutions import services as registry
from yilian.institutions.choices import InstitutionCategory
from yilian.institutions.models import Consortium, Department, Institution
from yilian.people.choices import PersonLinkReason
from yilian.people.models import Person, PersonInstitutionLink

Log = Callable[[str], None]
S = OrderStatus
ORDERING, CENTRE, SYSTEM = OrderSide.ORDERING, OrderSide.CENTRE, OrderSide.SYSTEM
BUMPING = frozenset(
    {"collect", "dispatch", "receive", "upload", "reject", "claim", "save_preliminary", "sign", "second_sign",
     "amend", "cancel"}
)  # fmt: skip
"""Actions that increment an order's version."""


# --- what is being built ------------------------------------------------------------------------------


@dataclass
class Actor:
    """Who takes a step: a demo account, or a clinician named on the timeline only."""

    user: User | None
    label: str


@dataclass
class Step:
    """One step of an order's timeline."""

    at: datetime.datetime
    action: str
    from_status: str
    to_status: str
    side: str
    actor: Actor | None
    note: str = ""


@dataclass
class Alert:
    """A critical value raised on an order's report."""

    description: str
    raised_at: datetime.datetime
    raised_by: User | None
    recipient: User | None
    acknowledged_at: datetime.datetime | None = None
    acknowledged_by: User | None = None
    note: str = ""
    level: int = 0
    escalated_at: datetime.datetime | None = None


@dataclass
class Spec:
    """An order being built: content, people at both ends, and (after ``play``) its fields and timeline."""

    institution: Institution
    department: Department | None
    person_id: int
    item: DiagnosticItem
    kind: str
    priority: str
    indication: dc.Indication
    ordered_at: datetime.datetime
    doctor: Actor
    handler: Actor
    rng: random.Random
    status: str = S.ORDERED
    steps: list[Step] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    alert: Alert | None = None
    prior: Spec | None = None
    repeat_reason: str = ""
    number: str = ""
    obj: DiagnosticOrder | None = None


@dataclass
class Decision:
    """A recognition decision found on order entry."""

    at: datetime.datetime
    person_id: int
    prior: Spec
    rule: RecognitionRule
    outcome: str
    institution: Institution
    decided_by: User | None
    reason: str = ""
    saved: Decimal = Decimal("0")
    new_order: Spec | None = None


# --- the seeder -----------------------------------------------------------------------------------------


class DiagnosticsSeeder:
    """Seeds the shared diagnostic centres of the county consortium (see the module docstring)."""

    def __init__(
        self,
        *,
        plan: DemoPlan,
        admin: User,
        institutions: dict[str, Institution],
        consortia: dict[str, Consortium],
        log: Log,
        months: int = 12,
        now: datetime.datetime | None = None,
    ) -> None:
        self.plan = plan
        self.seed = plan.seed
        self.admin = admin
        self.institutions = institutions
        self.county = consortia["county"]
        self.log = log
        self.months = months
        self.now = now or timezone.now()
        self.today = timezone.localtime(self.now).date()
        self.users: dict[str, User] = {}
        self.centres: dict[str, SharedCentre] = {}
        self.items: dict[str, DiagnosticItem] = {}
        self.rules: dict[str, RecognitionRule] = {}
        self.specs: list[Spec] = []
        self.decisions: list[Decision] = []
        self.finals: dict[tuple[int, str], list[Spec]] = defaultdict(list)
        self.names: dict[int, list[str]] = {}
        self.links: dict[tuple[int, int, str], datetime.datetime] = {}
        self.ordering_departments: dict[int, Department | None] = {}

    # Entry point -----------------------------------------------------------------------------------------

    def run(self) -> None:
        """Configure the centres, then (once) write the year of orders and the live ones."""
        usernames = [account.username for account in self.plan.accounts]
        self.users = {user.username: user for user in User.objects.filter(username__in=usernames)}
        self.account_institution = {
            account.username: self.institutions.get(account.institution)
            for account in self.plan.accounts
            if account.institution
        }
        self.hub = self.institutions["county_hospital"]
        office = self.users.get("office") or self.admin
        started = time.perf_counter()
        self._departments()
        self._centres(office)
        self._catalogue(office)
        self._rules(office)
        self.log(f"  (diagnostics configuration: {time.perf_counter() - started:.1f} s)")
        if self.months <= 0:
            return
        if DiagnosticOrder.objects.filter(consortium=self.county).exists():
            self.log("检查检验演示数据已存在，跳过 / diagnostic activity already seeded, skipped")
            return
        for phase in (self._load_people, self._history, self._write, self._live):
            started = time.perf_counter()
            phase()
            self.log(f"  ({phase.__name__}: {time.perf_counter() - started:.1f} s)")

    def _user(self, username: str) -> User | None:
        """The demo account ``username``, if it exists."""
        return self.users.get(username)

    # Configuration ----------------------------------------------------------------------------------------

    def _departments(self) -> None:
        """The ECG room and the sterilisation supply centre of the county hospital (not in the registry plan)."""
        have = set(Department.objects.filter(institution=self.hub).values_list("name", flat=True))
        for name, specialty, code in dc.EXTRA_DEPARTMENTS:
            if name not in have:
                registry.department_create(
                    actor=self.admin,
                    institution=self.hub,
                    name=name,
                    code=code,
                    specialty=specialty,
                    is_clinical=False,
                )
        self.departments = {d.name: d for d in Department.objects.filter(institution=self.hub)}

    def _served(self, plan: dc.CentrePlan) -> list[Institution]:
        """The consortium members a centre serves: every township centre, plus villages or hospitals."""
        keys = list(self.plan.township_centres.values())
        if plan.serves_villages:
            keys += list(self.plan.village_clinics.values())
        if plan.serves_hospitals:
            keys += ["county_tcm", "county_mch"]
        return [self.institutions[key] for key in keys if key in self.institutions]

    def _centres(self, office: User) -> None:
        """The five shared centres at the county hospital (served members widened on a larger scale)."""
        existing = {centre.name: centre for centre in SharedCentre.objects.filter(consortium=self.county)}
        created = 0
        for plan in dc.CENTRES:
            served = self._served(plan)
            centre = existing.get(plan.name)
            if centre is None:
                centre = diag.centre_create(
                    actor=office,
                    consortium=self.county,
                    kind=plan.kind,
                    name=plan.name,
                    hub_institution=self.hub,
                    department=self.departments.get(plan.department),
                    served_institutions=served,
                    critical_ack_minutes=plan.critical_ack_minutes,
                )
                created += 1
            else:
                department = self.departments.get(plan.department)
                if department is not None and centre.department_id != department.pk:
                    # Only the department's staff work at the centre: a database seeded before that rule
                    # gets the planned department (the demo's readers belong to it).
                    centre = diag.centre_update(actor=office, centre=centre, department=department)
                have = set(centre.served_institutions.values_list("pk", flat=True))
                if not {i.pk for i in served} <= have:
                    # A larger --scale brought new village clinics into the consortium.
                    centre = diag.centre_update(
                        actor=office,
                        centre=centre,
                        served_institutions=[*centre.served_institutions.all(), *served],
                    )
            self.centres[plan.kind] = centre
        self.log(f"共享诊断中心 shared centres: {created} created")

    def _catalogue(self, office: User) -> None:
        """Every centre's catalogue items (codes, names, prices, turnaround targets)."""
        existing = {
            (item.centre_id, item.code): item
            for item in DiagnosticItem.objects.filter(centre__in=self.centres.values())
        }
        created = 0
        for kind, items in dc.CATALOGUE.items():
            centre = self.centres[kind]
            for plan in items:
                item = existing.get((centre.pk, plan.code))
                if item is None:
                    item = diag.item_create(
                        actor=office,
                        centre=centre,
                        code=plan.code,
                        name=plan.name,
                        price=plan.price,
                        turnaround_hours=plan.turnaround_hours,
                        specimen=plan.specimen,
                        requires_second_reader=plan.second_reader,
                    )
                    created += 1
                item.centre = centre
                self.items[plan.code] = item
        self.log(f"检查检验项目 catalogue items: {created} created")

    def _rules(self, office: User) -> None:
        """The consortium's mutual-recognition entries."""
        existing = {rule.item_code: rule for rule in RecognitionRule.objects.filter(consortium=self.county)}
        created = 0
        for plan in dc.RULES:
            rule = existing.get(plan.item_code)
            if rule is None:
                rule = diag.rule_create(
                    actor=office,
                    consortium=self.county,
                    item_code=plan.item_code,
                    name=plan.name,
                    validity_days=plan.validity_days,
                    scope=plan.scope,
                )
                created += 1
            self.rules[plan.item_code] = rule
        self.log(f"互认项目 recognition rules: {created} created")

    # People ----------------------------------------------------------------------------------------------

    def _load_people(self) -> None:
        """Residents by township and by village (older residents are tested more often)."""
        self.by_township: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.by_village: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for pk, code, born in (
            Person.objects.filter(address_region__code__startswith=content.COUNTY_CODE)
            .order_by("pk")
            .values_list("pk", "address_region__code", "birth_date")
        ):
            age = self.today.year - born.year if born else 50
            weight = 0.3 if age < 15 else 1 + max(age - 30, 0) / 12
            self.by_township[code[:9]].append((pk, weight))
            self.by_village[code].append((pk, weight))
        self.township_codes = sorted(self.by_township)
        self.mabu = self.account_institution.get("township_doctor")
        self.village_clinic = self.account_institution.get("village_doctor")

    def _named(self, institution: Institution, random_: random.Random) -> Actor:
        """A clinician of the institution named on the timeline (three per institution, stable per seed)."""
        if institution.pk not in self.names:
            names = generators.rng(self.seed, "diag-staff", institution.credit_code)
            self.names[institution.pk] = [
                generators.person_name(
                    names, names.choice("12"), datetime.date(names.randint(1970, 1995), 6, 1)
                )
                for _index in range(3)
            ]
        return Actor(None, random_.choice(self.names[institution.pk]))

    def _account(self, username: str) -> Actor | None:
        """The demo account as a timeline actor, if it exists."""
        user = self._user(username)
        return Actor(user, user.full_name) if user else None

    def _ordering_staff(self, institution: Institution, random_: random.Random) -> tuple[Actor, Actor]:
        """(the ordering doctor, who collects or uploads) at an ordering institution."""
        for username in ("township_doctor", "village_doctor"):
            account = self._account(username)
            if account and self.account_institution.get(username) == institution:
                handler = account if username == "village_doctor" or random_.random() < 0.3 else None
                return account, handler or self._named(institution, random_)
        return self._named(institution, random_), self._named(institution, random_)

    # The year of orders -------------------------------------------------------------------------------------

    def _history(self) -> None:
        """Who orders how much: every township centre, some village clinics, the TCM and maternal-child
        hospitals; each month's orders drawn around their rate, then played in order of time (so a
        recognised earlier result is found as the order-entry check would find it)."""
        months = month_starts(self.today, self.months)
        first = local(months[0], 0)
        random_ = generators.rng(self.seed, "diag", "rates")
        sources: list[tuple[Institution, str, dict[str, float]]] = []
        for code, key in sorted(self.plan.township_centres.items()):
            institution = self.institutions.get(key)
            if institution is None or code not in self.by_township:
                continue
            central = institution.category == InstitutionCategory.CENTRAL_TOWNSHIP_HEALTH_CENTRE
            monthly = random_.uniform(9, 16) * (1.4 if central else 1.0)
            sources.append(
                (institution, code, {kind: monthly * share / 100 for kind, share in dc.KIND_SHARE})
            )
        for village_code, key in sorted(self.plan.village_clinics.items()):
            institution = self.institutions.get(key)
            if institution is None or village_code not in self.by_village or random_.random() < 0.6:
                continue  # some village clinics send blood and ECGs to the county
            sources.append(
                (
                    institution,
                    village_code,
                    {CentreKind.LAB: random_.uniform(0.6, 1.6), CentreKind.ECG: random_.uniform(0.3, 0.8)},
                )
            )
        for key, rates in (
            ("county_tcm", {CentreKind.IMAGING: 6.0, CentreKind.PATHOLOGY: 2.0}),
            ("county_mch", {CentreKind.IMAGING: 2.0, CentreKind.PATHOLOGY: 5.0}),
        ):
            if key in self.institutions:
                sources.append((self.institutions[key], "", rates))
        demands: list[tuple[datetime.datetime, int, Institution, str, str, random.Random]] = []
        for month in months:
            begin = max(local(month, 0), first)
            end = min(local(next_month(month), 0), self.now - hours(0.1))
            share = (end - begin) / (local(next_month(month), 0) - local(month, 0))
            for institution, place, rates in sources:
                monthly = generators.rng(self.seed, "diag", institution.credit_code, month)
                for kind, rate in rates.items():
                    mean = rate * rc.month_factor(month.month) * share
                    count = max(0, round(monthly.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0
                    for _index in range(count):
                        at = self._moment(monthly, begin, end, kind)
                        demands.append(
                            (at, len(demands), institution, place, kind, random.Random(monthly.random()))
                        )
        demands.sort(key=lambda demand: (demand[0], demand[1]))
        for at, _index, institution, place, kind, rng in demands:
            self._demand(rng, at, institution, place, kind)
        counts = Counter(spec.status for spec in self.specs)
        self.log(
            f"检查检验申请 orders planned: {len(self.specs)} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            + f"); 互认 recognition decisions: {len(self.decisions)}"
        )

    def _moment(
        self, random_: random.Random, begin: datetime.datetime, end: datetime.datetime, kind: str
    ) -> datetime.datetime:
        """An order time: blood mostly drawn fasting in the morning, other orders in working hours."""
        span = max((end - begin).total_seconds(), 1)
        at = begin + datetime.timedelta(seconds=random_.uniform(0, span))
        if random_.random() < 0.9:
            day = timezone.localtime(at).date()
            hour = random_.uniform(7.3, 10.5) if kind == CentreKind.LAB else random_.uniform(8, 17)
            working = local(day, hour)
            if begin <= working <= end:
                at = working
        return at

    def _patient(self, random_: random.Random, institution: Institution, place: str) -> int | None:
        """A resident of the village or township the institution serves (anywhere in the county for the
        county hospitals)."""
        if len(place) == 12:
            pool = self.by_village.get(place) or self.by_township.get(place[:9], [])
        elif place:
            pool = self.by_township.get(place, [])
        else:
            pool = self.by_township[random_.choice(self.township_codes)]
        if not pool:
            return None
        return random_.choices([pk for pk, _w in pool], weights=[w for _pk, w in pool])[0]

    def _demand(
        self, rng: random.Random, at: datetime.datetime, institution: Institution, place: str, kind: str
    ) -> None:
        """A doctor wants an item for a patient: a recognised result is used or repeated, or an order starts."""
        person_id = self._patient(rng, institution, place)
        if person_id is None:
            return
        plans = dc.CATALOGUE[kind]
        plan = rng.choices(plans, weights=[p.weight for p in plans])[0]
        item = self.items[plan.code]
        doctor, handler = self._ordering_staff(institution, rng)
        prior = self._recognised(person_id, plan.code, at)
        reason = ""
        if prior is not None:
            rule = self.rules[plan.code]
            if rng.random() < 0.72:
                self.decisions.append(
                    Decision(at, person_id, prior, rule, RecognitionOutcome.USED, institution, doctor.user,
                             saved=item.price)
                )  # fmt: skip
                return
            reason = str(dc.pick_weighted(rng, dc.REPEAT_REASONS))
        roll = rng.random()
        priority = (
            OrderPriority.STAT
            if roll < 0.03
            else OrderPriority.URGENT
            if roll < 0.13
            else OrderPriority.ROUTINE
        )
        department = None
        if institution.category != InstitutionCategory.VILLAGE_CLINIC:
            department = self._department_of(institution)
        spec = Spec(
            institution=institution,
            department=department,
            person_id=person_id,
            item=item,
            kind=kind,
            priority=priority,
            indication=rng.choice(dc.INDICATIONS[plan.code]),
            ordered_at=at,
            doctor=doctor,
            handler=handler,
            rng=rng,
            prior=prior,
            repeat_reason=reason,
        )
        self._play(spec)
        self.specs.append(spec)
        if prior is not None:
            self.decisions.append(
                Decision(at, person_id, prior, self.rules[plan.code], RecognitionOutcome.REPEATED, institution,
                         doctor.user, reason=reason, new_order=spec)
            )  # fmt: skip
        if spec.status == S.FINAL and plan.code in self.rules:
            self.finals[(person_id, plan.code)].append(spec)
        self.links.setdefault((person_id, self.hub.pk, PersonLinkReason.ORDER), at)
        if institution.category == InstitutionCategory.VILLAGE_CLINIC:
            self.links.setdefault((person_id, institution.pk, PersonLinkReason.TREATED), at)

    def _department_of(self, institution: Institution) -> Department | None:
        """The department that orders at a township centre or hospital (general practice, gynaecology…)."""
        if institution.pk not in self.ordering_departments:
            departments = {d.name: d for d in Department.objects.filter(institution=institution)}
            self.ordering_departments[institution.pk] = (
                departments.get("全科医疗科") or departments.get("妇产科") or departments.get("中医内科")
            )
        return self.ordering_departments[institution.pk]

    def _recognised(self, person_id: int, code: str, at: datetime.datetime) -> Spec | None:
        """The patient's newest final result of ``code`` still valid at ``at`` (as the selector finds it)."""
        rule = self.rules.get(code)
        if rule is None:
            return None
        for prior in reversed(self.finals.get((person_id, code), [])):
            final_at = prior.fields["values"].get("final_at")
            if final_at and final_at <= at <= final_at + datetime.timedelta(days=rule.validity_days):
                return prior
        return None

    # Playing a timeline --------------------------------------------------------------------------------------

    def _play(self, spec: Spec) -> None:
        """Build the order's whole intended timeline, then keep what happened before now."""
        r = spec.rng
        kind, target = spec.kind, spec.item.turnaround_hours
        speed = {OrderPriority.STAT: 0.3, OrderPriority.URGENT: 0.6}.get(spec.priority, 1.0)
        staff = dc.STAFF[kind]
        reader = self._account(staff.readers[0]) or Actor(None, "诊断医师")
        receiver = self._account(staff.receivers[0]) if staff.receivers else None
        receiver = receiver if receiver and r.random() < 0.7 else self._named(self.hub, r)
        steps: list[Step] = []

        def add(
            at: datetime.datetime, action: str, to: str, side: str, actor: Actor | None, note: str = ""
        ) -> None:
            source = steps[-1].to_status if steps else ""
            steps.append(Step(at, action, source, to, side, actor, note))

        t = spec.ordered_at
        add(t, "create", S.ORDERED, ORDERING, spec.doctor,
            f"重复检查：{spec.repeat_reason}" if spec.repeat_reason else "")  # fmt: skip
        if r.random() < 0.008:
            add(
                t + hours(r.uniform(0.2, 3)),
                "cancel",
                S.CANCELLED,
                ORDERING,
                spec.doctor,
                r.choice(dc.CANCEL_REASONS),
            )
            self._cut(spec, steps)
            return
        if kind in SPECIMEN_KINDS:
            collected = t + hours(r.uniform(0.05, 0.5))
            add(collected, "collect", S.COLLECTED, ORDERING, spec.handler)
            # The county's specimen courier leaves the townships at 11:00 and 15:00 (pathology once a day).
            runs = (15,) if kind == CentreKind.PATHOLOGY else (11, 15)
            day = timezone.localtime(collected).date()
            departure = next(
                (local(day + datetime.timedelta(days=d), h) for d in range(3) for h in runs
                 if local(day + datetime.timedelta(days=d), h) > collected + hours(0.2)),
            )  # fmt: skip
            if spec.priority != OrderPriority.ROUTINE:
                departure = collected + hours(r.uniform(0.2, 0.6))  # sent by the township's own car
            add(departure, "dispatch", S.IN_TRANSIT, ORDERING, spec.handler)
            received = departure + hours(r.uniform(0.8, 2.5))
            barcode = "条码 {barcode}"
            add(received, "receive", S.RECEIVED, CENTRE, receiver, barcode)
        else:
            received = t + hours(
                r.uniform(0.1, 0.5) if kind == CentreKind.ECG else r.uniform(0.3, 2.5) * speed
            )
            add(received, "upload", S.RECEIVED, ORDERING, spec.handler, "上传 1 个文件")  # see _study_files
        spec.fields["received_at"] = received
        if r.random() < 0.015:
            reason, note, _weight = r.choices(
                dc.REJECTIONS[kind], weights=[x[2] for x in dc.REJECTIONS[kind]]
            )[0]
            spec.fields["rejection"] = (reason, note)
            add(received + hours(r.uniform(0.05, 0.6)), "reject", S.REJECTED, CENTRE, receiver,
                f"{reason.label}：{note}")  # fmt: skip
            self._cut(spec, steps)
            return
        # When the report is final, counted from receipt against the target (most within it).
        spent = target * speed * r.triangular(0.12, 1.3, 0.4 if kind != CentreKind.PATHOLOGY else 0.6)
        final = received + hours(max(spent, 0.15))
        claimed = received + (final - received) * r.uniform(0.05, 0.35)
        if kind == CentreKind.PATHOLOGY:
            # Unlike the lab, radiology and ECG rooms, pathologists read in the daytime only.
            claimed = working_hours(claimed, r)
            final = working_hours(max(final, claimed + hours(2)), r)
        add(claimed, "claim", S.READING, CENTRE, reader)
        wording: dc.Finding = dc.pick_weighted(r, dc.REPORTS[spec.item.code])  # type: ignore[assignment]
        spec.fields["wording"] = wording
        if kind == CentreKind.IMAGING and r.random() < 0.3:
            add(claimed + (final - claimed) * 0.4, "save_preliminary", S.PRELIMINARY, CENTRE, reader)
            spec.fields["preliminary_at"] = steps[-1].at
        second = self._account(staff.second[0]) if staff.second and spec.item.requires_second_reader else None
        if second is not None:
            signed = claimed + (final - claimed) * r.uniform(0.55, 0.9)
            add(signed, "sign", S.AWAITING_SECOND, CENTRE, reader, "待第二位医生复核")
            add(final, "second_sign", S.FINAL, CENTRE, second)
            spec.fields["second"] = second.user
        else:
            add(final, "sign", S.FINAL, CENTRE, reader)
        spec.fields["reader"] = reader.user
        if wording.critical:
            self._critical(spec, steps, final, reader, wording.critical)
        if r.random() < 0.006:
            amended = final + hours(r.uniform(2, 72))
            reason = r.choice(dc.AMEND_REASONS)
            spec.fields["amendment"] = (amended, reason)
            add(amended, "amend", S.FINAL, CENTRE, reader, f"修订为第 2 版：{reason}")
        self._cut(spec, steps)

    def _critical(
        self, spec: Spec, steps: list[Step], raised: datetime.datetime, reader: Actor, description: str
    ) -> None:
        """The critical value and what follows: acknowledged within minutes, or escalated first."""
        r = spec.rng
        status = steps[-1].to_status
        steps.append(
            Step(raised + hours(1 / 600), "critical_value", status, status, CENTRE, reader, description)
        )
        limit = self.centres[spec.kind].critical_ack_minutes
        minutes = r.uniform(2, limit * 0.8) if r.random() < 0.88 else r.uniform(limit * 1.1, limit * 2.6)
        alert = Alert(description, raised + hours(1 / 600), reader.user, spec.doctor.user)
        for level in (1, 2):
            if minutes > limit * level:
                alert.level, alert.escalated_at = (
                    level,
                    alert.raised_at + datetime.timedelta(minutes=limit * level),
                )
                steps.append(
                    Step(alert.escalated_at, "critical_escalate", status, status, SYSTEM, None,
                         f"危急值超时未确认，已上报（第 {level} 级）")
                )  # fmt: skip
        acknowledged = alert.raised_at + datetime.timedelta(minutes=minutes)
        note = r.choice(dc.ACK_NOTES)
        steps.append(Step(acknowledged, "critical_ack", status, status, ORDERING, spec.doctor, note))
        alert.acknowledged_at, alert.acknowledged_by, alert.note = acknowledged, spec.doctor.user, note
        spec.alert = alert

    def _cut(self, spec: Spec, steps: list[Step]) -> None:
        """Keep the steps before now and set the order's status, fields, reports and alert from them."""
        kept = [step for step in sorted(steps, key=lambda s: s.at) if step.at <= self.now]
        spec.steps = kept
        f = spec.fields
        values: dict[str, Any] = {
            "due_at": spec.ordered_at + hours(spec.item.turnaround_hours),
            "version": 1,
        }
        wording: dc.Finding | None = f.get("wording")
        for step in kept:
            if step.action in BUMPING:
                values["version"] += 1  # as the services' ``bump``
            spec.status = step.to_status
            action = step.action
            if action == "collect":
                values["collected_at"] = step.at
            elif action == "dispatch":
                values["dispatched_at"] = step.at
            elif action in ("receive", "upload"):
                if action == "upload":
                    f["uploaded"] = step  # the step promises a file: written by _study_files
                values["received_at"] = step.at
                values["due_at"] = step.at + hours(spec.item.turnaround_hours)
            elif action == "reject":
                reason, note = f["rejection"]
                values.update(rejected_at=step.at, rejection_reason=reason, rejection_note=note)
            elif action == "claim":
                values.update(claimed_by=step.actor.user if step.actor else None, claimed_at=step.at)
            elif action == "sign":
                values["reported_at"] = step.at
                values["is_abnormal"] = bool(wording and wording.abnormal)
                if step.to_status == S.FINAL:
                    values["final_at"] = step.at
            elif action == "second_sign":
                values["final_at"] = step.at
            elif action == "cancel":
                values["cancel_reason"] = step.note
        # Reports as the services leave them.
        reports: list[dict[str, Any]] = []
        actions = {step.action: step for step in kept}
        if wording is not None and ("save_preliminary" in actions or "sign" in actions):
            first = actions.get("save_preliminary") or actions["sign"]
            report: dict[str, Any] = {
                "version": 1,
                "status": ReportStatus.PRELIMINARY,
                "findings": wording.findings,
                "conclusion": wording.conclusion,
                "is_abnormal": wording.abnormal,
                "author": f.get("reader"),
                "created_at": first.at,
                "updated_at": first.at,
            }
            if "sign" in actions:
                signed = actions["sign"].at
                report.update(signed_at=signed, updated_at=signed)
                report["status"] = ReportStatus.AWAITING_SECOND if "second" in f else ReportStatus.FINAL
            if "second_sign" in actions:
                second_at = actions["second_sign"].at
                report.update(
                    status=ReportStatus.FINAL, second_reader=f["second"], second_signed_at=second_at,
                    updated_at=second_at,
                )  # fmt: skip
            reports.append(report)
            if "amend" in actions:
                amended, reason = f["amendment"]
                report.update(status=ReportStatus.SUPERSEDED, superseded_at=amended, updated_at=amended)
                conclusion = wording.conclusion + (
                    "（已与既往片对比，较前无明显变化）" if "对比" in reason else ""
                )
                reports.append(
                    {
                        "version": 2,
                        "status": ReportStatus.FINAL,
                        "findings": wording.findings + ("" if "对比" in reason else "（已复核）"),
                        "conclusion": conclusion,
                        "is_abnormal": wording.abnormal,
                        "author": f.get("reader"),
                        "signed_at": amended,
                        "amendment_reason": reason,
                        "created_at": amended,
                        "updated_at": amended,
                    }
                )
        spec.reports = reports
        if spec.alert is not None:
            alert = spec.alert
            if alert.raised_at > self.now:
                spec.alert = None
            else:
                if alert.acknowledged_at and alert.acknowledged_at > self.now:
                    alert.acknowledged_at, alert.acknowledged_by, alert.note = None, None, ""
                if alert.escalated_at and alert.escalated_at > self.now:
                    alert.level, alert.escalated_at = 0, None
                    limit = self.centres[spec.kind].critical_ack_minutes
                    passed = (self.now - alert.raised_at) / datetime.timedelta(minutes=limit)
                    if passed >= 1:
                        alert.level = min(int(passed), 2)
                        alert.escalated_at = alert.raised_at + datetime.timedelta(minutes=limit * alert.level)
        spec.fields["values"] = values

    # Writing ---------------------------------------------------------------------------------------------

    def _write(self) -> None:
        """Orders, timelines, reports, alerts, recognition decisions and person links in bulk."""
        per_day: Counter[str] = Counter()
        for spec in self.specs:  # already in order of ordering time
            day = f"{timezone.localtime(spec.ordered_at):%Y%m%d}"
            per_day[day] += 1
            spec.number = f"JC{day}{per_day[day]:05d}"
        self.hub_region = self.hub.region.code
        rows = [self._order_row(spec) for spec in self.specs]
        fields = (
            [DiagnosticOrder._meta.get_field(name) for name in ("created_at", "updated_at")]
            + [
                model._meta.get_field(name)
                for model in (DiagnosticReport, CriticalValueAlert, RecognitionDecision)
                for name in ("created_at", "updated_at")
            ]
            + [PersonInstitutionLink._meta.get_field("since")]
            + [StudyFile._meta.get_field(name) for name in ("created_at", "updated_at")]
        )
        with backdated(*fields):
            DiagnosticOrder.objects.bulk_create(rows, batch_size=500)
            repeats = [spec.obj for spec in self.specs if spec.prior is not None and spec.obj is not None]
            for spec in self.specs:
                if spec.prior is not None and spec.obj is not None:
                    spec.obj.recognised_prior = spec.prior.obj
            DiagnosticOrder.objects.bulk_update(repeats, ["recognised_prior"], batch_size=500)
            reports: list[DiagnosticReport] = []
            for spec in self.specs:
                assert spec.obj is not None
                for values in spec.reports:
                    row = dict(values)
                    author, second = row.pop("author", None), row.pop("second_reader", None)
                    reports.append(
                        DiagnosticReport(
                            order_id=spec.obj.pk,
                            author_id=author.pk if author else None,
                            second_reader_id=second.pk if second else None,
                            **row,
                        )
                    )
            DiagnosticReport.objects.bulk_create(reports, batch_size=500)
            final_report = {report.order_id: report for report in reports if report.version == 1}
            alerts = [
                CriticalValueAlert(
                    order=spec.obj,
                    report=final_report.get(spec.obj.pk) if spec.obj else None,
                    description=spec.alert.description,
                    recipient=spec.alert.recipient,
                    raised_by=spec.alert.raised_by,
                    raised_at=spec.alert.raised_at,
                    acknowledged_at=spec.alert.acknowledged_at,
                    acknowledged_by=spec.alert.acknowledged_by,
                    acknowledgement_note=spec.alert.note,
                    escalation_level=spec.alert.level,
                    escalated_at=spec.alert.escalated_at,
                    created_at=spec.alert.raised_at,
                    updated_at=spec.alert.acknowledged_at or spec.alert.escalated_at or spec.alert.raised_at,
                )
                for spec in self.specs
                if spec.alert is not None
            ]
            CriticalValueAlert.objects.bulk_create(alerts, batch_size=500)
            decisions = [
                RecognitionDecision(
                    person_id=d.person_id,
                    item_code=d.prior.item.code,
                    prior_order=d.prior.obj,
                    rule=d.rule,
                    outcome=d.outcome,
                    reason=d.reason,
                    saved_amount=d.saved,
                    decided_by=d.decided_by,
                    institution=d.institution,
                    consortium=self.county,
                    new_order=d.new_order.obj if d.new_order else None,
                    created_at=d.at,
                    updated_at=d.at,
                )
                for d in self.decisions
            ]
            RecognitionDecision.objects.bulk_create(decisions, batch_size=500)
            links = [
                PersonInstitutionLink(
                    person_id=person_id, institution_id=institution_id, reason=reason, since=at
                )
                for (person_id, institution_id, reason), at in sorted(self.links.items())
            ]
            PersonInstitutionLink.objects.bulk_create(links, batch_size=500, ignore_conflicts=True)
            files = self._study_files()
        self._events()
        record_event(
            actor=self.admin,
            action="diagnostics.bulk_create",
            obj=self.county,
            details={
                "orders": len(rows),
                "reports": len(reports),
                "critical_alerts": len(alerts),
                "recognition_decisions": len(decisions),
                "study_files": files,
                "source": "seed-demo",
                "seed": self.seed,
            },
            consortium_public_id=self.county.public_id,
        )
        self.log(
            f"检查检验申请 orders: {len(rows)}; 报告 reports: {len(reports)}; 危急值 alerts: {len(alerts)}; "
            f"互认 decisions: {len(decisions)}; 检查文件 study files: {files}"
        )

    def _study_files(self) -> int:
        """The file each history upload step announces: a small PNG for imaging, a PDF for ECG.

        A handful of distinct contents is made once and written under each order's own path (as
        the service stores them), then the rows go in with one bulk insert."""
        images = [tiny_png(seed=index) for index in range(6)]
        rows: list[StudyFile] = []
        for spec in self.specs:
            step: Step | None = spec.fields.get("uploaded")
            if step is None or spec.obj is None:
                continue
            ecg = spec.kind == CentreKind.ECG
            name = f"{spec.item.name}.{'pdf' if ecg else 'png'}"
            data = self._ecg_pdf(spec.item.name) if ecg else images[len(rows) % len(images)]
            row = StudyFile(
                order=spec.obj,
                kind=StudyFileKind.PDF if ecg else StudyFileKind.IMAGE,
                original_filename=name,
                size=len(data),
                content_type="application/pdf" if ecg else "image/png",
                uploaded_by=step.actor.user if step.actor else None,
                created_at=step.at,
                updated_at=step.at,
            )
            row.file.name = default_storage.save(study_upload_to(row, name), ContentFile(data))
            rows.append(row)
        StudyFile.objects.bulk_create(rows, batch_size=500)
        return len(rows)

    def _ecg_pdf(self, title: str) -> bytes:
        """The demo ECG report of an item (made once per item)."""
        cache: dict[str, bytes] = self.__dict__.setdefault("_ecg_pdfs", {})
        if title not in cache:
            cache[title] = simple_pdf(title, ["演示心电图 / demo ECG", "本文件为演示数据。"])
        return cache[title]

    def _order_row(self, spec: Spec) -> DiagnosticOrder:
        """The unsaved order of a played spec, with the fields its kept steps set."""
        values = dict(spec.fields["values"])
        last = spec.steps[-1].at
        specimen = spec.kind in SPECIMEN_KINDS
        doctor = spec.doctor.user.pk if spec.doctor.user else None
        claimed = values.pop("claimed_by", None)
        values["claimed_by_id"] = claimed.pk if claimed else None
        # Foreign keys by id: thousands of rows, and the descriptors' checks cost more than the insert.
        spec.obj = DiagnosticOrder(
            number=spec.number,
            status=spec.status,
            person_id=spec.person_id,
            ordering_institution_id=spec.institution.pk,
            ordering_department_id=spec.department.pk if spec.department else None,
            ordering_doctor_id=doctor,
            centre_id=spec.item.centre_id,
            item_id=spec.item.pk,
            item_code=spec.item.code,
            item_name=spec.item.name,
            price=spec.item.price,
            consortium_id=self.county.pk,
            region_code=self.hub_region,
            priority=spec.priority,
            priority_rank=PRIORITY_RANK[OrderPriority(spec.priority)],
            clinical_info=spec.indication.info,
            diagnosis_code=spec.indication.code,
            diagnosis_name=spec.indication.name,
            barcode=barcode_for(spec.number) if specimen else None,
            ordered_at=spec.ordered_at,
            needs_second_reader=spec.item.requires_second_reader,
            repeat_reason=spec.repeat_reason,
            created_by_id=doctor,
            created_at=spec.ordered_at,
            updated_at=last,
            **values,
        )
        return spec.obj

    def _events(self) -> None:
        """Timeline rows with one executemany (tens of thousands of steps; see referrals._insert_events)."""
        adapt = connection.ops.adapt_datetimefield_value
        hub_name = self.hub.name
        rows: list[tuple[Any, ...]] = []
        for spec in self.specs:
            assert spec.obj is not None
            for step in spec.steps:
                user = step.actor.user if step.actor else None
                institution = (
                    "" if step.side == SYSTEM else hub_name if step.side == CENTRE else spec.institution.name
                )
                note = (
                    step.note.format(barcode=spec.obj.barcode or "")
                    if "{barcode}" in step.note
                    else step.note
                )
                rows.append(
                    (
                        spec.obj.pk,
                        step.action,
                        step.from_status,
                        step.to_status,
                        step.side,
                        user.pk if user else None,
                        step.actor.label if step.actor else "系统",
                        institution,
                        note[:500],
                        adapt(step.at),
                    )
                )
        meta = OrderEvent._meta
        quote = connection.ops.quote_name
        names = ("order", "action", "from_status", "to_status", "side", "actor", "actor_label",
                 "institution_name", "note", "occurred_at")  # fmt: skip
        columns = ", ".join(quote(meta.get_field(name).column) for name in names)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start : start + 5000])
        self.log(f"检查进程 order events: {len(rows)}")

    # Through the services --------------------------------------------------------------------------------

    def _live(self) -> None:
        """A dozen recent orders of the demo's township doctor, handled by the centres' demo staff."""
        made = LiveOrders(self).run()
        self.log(f"实时检查申请 orders made through the services: {made}")


def working_hours(at: datetime.datetime, random_: random.Random) -> datetime.datetime:
    """``at`` if it falls in the working day (08:00–17:30 local), else a moment early in the next one."""
    moment = timezone.localtime(at)
    if 8 <= moment.hour + moment.minute / 60 <= 17.5:
        return at
    day = moment.date() if moment.hour < 8 else moment.date() + datetime.timedelta(days=1)
    return local(day, random_.uniform(8, 9.5))


def tiny_png(width: int = 96, height: int = 64, seed: int = 0) -> bytes:
    """A small valid grey-scale PNG (a soft gradient with noise, like a thumbnail of a radiograph)."""
    random_ = random.Random(seed)
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type "none" for the row
        for x in range(width):
            centre = 1 - (((x - width / 2) / width) ** 2 + ((y - height / 2) / height) ** 2) * 2.5
            raw.append(max(0, min(255, int(40 + 170 * centre + random_.uniform(-12, 12)))))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


class LiveOrders:
    """Recent orders made through ``diagnostics.services`` with the demo accounts (real audit and notifications)."""

    def __init__(self, seeder: DiagnosticsSeeder) -> None:
        self.s = seeder
        self.random = generators.rng(seeder.seed, "diag-live")
        self.made = 0

    def run(self) -> int:
        """Make the orders in the order a working morning would; returns how many were created."""
        s = self.s
        doctor = s._user("township_doctor")
        centre_doctor = s._user("doctor")
        radiologist = s._user("radiologist")
        lab_tech = s._user("lab_tech")
        lab_doctor = s._user("lab_doctor")
        pathologist = s._user("pathologist")
        if not (
            doctor and s.mabu and radiologist and lab_tech and lab_doctor and pathologist and centre_doctor
        ):
            return 0
        self.doctor, self.institution = doctor, s.mabu
        self.department = s._department_of(s.mabu)
        patients = list(
            Person.objects.filter(
                institution_links__institution=s.mabu,
                institution_links__reason=PersonLinkReason.REGISTERED,
                birth_date__lte=self.s.today - datetime.timedelta(days=365 * 30),
            ).order_by("pk")[:200]
        )
        if len(patients) < 16:
            return 0
        self.random.shuffle(patients)
        self.patients = iter(patients)
        act = diag.order_act
        # 1–2. Blood drawn this morning: one on the courier's van, one waiting for it.
        cbc = self._order("JY001")
        act(actor=doctor, order=cbc, action="collect")
        act(actor=doctor, order=cbc, action="dispatch")
        lft = self._order("JY003")
        act(actor=doctor, order=lft, action="collect")
        # 3. Ordered, the patient comes back fasting tomorrow.
        self._order("JY002")
        # 4. A chest radiograph uploaded and claimed by the radiologist.
        chest = self._order("YX001")
        self._upload(chest, "胸部DR正位.png")
        act(actor=radiologist, order=chest, action="claim")
        # 5. A head CT uploaded as a stat order: on top of the reading list.
        head = self._order("YX003", priority=OrderPriority.STAT)
        self._upload(head, "头颅CT平扫.png")
        # 6. An ECG with a critical finding, not yet acknowledged.
        ecg = self._order("XD001", priority=OrderPriority.URGENT)
        self._upload(ecg, "十二导联心电图.pdf", pdf=True)
        act(actor=centre_doctor, order=ecg, action="claim")
        wording = dc.REPORTS["XD001"][-1][0]
        act(actor=centre_doctor, order=ecg, action="sign", findings=wording.findings, conclusion=wording.conclusion,
            is_abnormal=True, critical_value=wording.critical)  # fmt: skip
        # 7. Potassium critical value from the lab, not yet acknowledged.
        potassium = self._received("JY007", priority=OrderPriority.URGENT)
        act(actor=lab_doctor, order=potassium, action="claim")
        wording = dc.REPORTS["JY007"][-1][0]
        act(actor=lab_doctor, order=potassium, action="sign", findings=wording.findings,
            conclusion=wording.conclusion, is_abnormal=True, critical_value=wording.critical)  # fmt: skip
        # 8. A glucose critical value the township doctor acknowledged at once.
        glucose = self._received("JY002")
        act(actor=lab_doctor, order=glucose, action="claim")
        wording = dc.REPORTS["JY002"][-1][0]
        act(actor=lab_doctor, order=glucose, action="sign", findings=wording.findings,
            conclusion=wording.conclusion, is_abnormal=True, critical_value=wording.critical)  # fmt: skip
        alert = glucose.critical_alerts.get()
        diag.critical_alert_acknowledge(actor=doctor, alert=alert, note=dc.ACK_NOTES[0])
        # 9. A blood count reported, then amended; the patient's result is used once and repeated once.
        blood = self._received("JY001")
        act(actor=lab_doctor, order=blood, action="claim")
        normal = dc.REPORTS["JY001"][0][0]
        act(
            actor=lab_doctor,
            order=blood,
            action="sign",
            findings=normal.findings,
            conclusion=normal.conclusion,
        )
        act(actor=lab_doctor, order=blood, action="amend", findings=normal.findings + "（已复核）",
            conclusion=normal.conclusion, reason=dc.AMEND_REASONS[0])  # fmt: skip
        person = blood.person
        diag.recognition_use(actor=doctor, person=person, institution=s.mabu, item=s.items["JY001"])
        self._order("JY001", person=person, repeat_reason=dc.REPEAT_REASONS[0][0])
        # 10. A gastric biopsy received and read by the pathologist (only 病理科 staff work at the pathology
        # centre), waiting for the chief's second reading.
        biopsy = self._received("BL001", receiver=pathologist)
        act(actor=pathologist, order=biopsy, action="claim")
        wording = dc.REPORTS["BL001"][1][0]
        act(actor=pathologist, order=biopsy, action="sign", findings=wording.findings,
            conclusion=wording.conclusion, is_abnormal=True)  # fmt: skip
        # 11. A haemolysed specimen refused on arrival.
        refused = self._order("JY007")
        act(actor=doctor, order=refused, action="collect")
        act(actor=doctor, order=refused, action="dispatch")
        diag.order_receive_barcode(actor=lab_tech, centre=refused.centre, barcode=refused.barcode or "")
        act(actor=lab_tech, order=refused, action="reject", reason=dc.REJECTIONS[CentreKind.LAB][0][0],
            note=dc.REJECTIONS[CentreKind.LAB][0][1])  # fmt: skip
        # 12. An abdominal ultrasound uploaded and waiting.
        ultrasound = self._order("YX006")
        self._upload(ultrasound, "腹部彩超.png")
        # 13. A Holter recording uploaded for the ECG centre, 14. an HbA1c specimen received at the lab:
        # every reading list has something waiting.
        holter = self._order("XD002")
        self._upload(holter, "动态心电图报告.pdf", pdf=True)
        self._received("JY006")
        return self.made

    def _order(
        self,
        code: str,
        *,
        priority: str = OrderPriority.ROUTINE,
        person: Person | None = None,
        repeat_reason: str = "",
    ) -> DiagnosticOrder:
        """Order ``code`` for ``person``, or for the next patient without a recognised result of it."""
        indication = dc.INDICATIONS[code][0]
        while True:
            try:
                order, _created = diag.order_create(
                    actor=self.doctor,
                    person=person or next(self.patients),
                    institution=self.institution,
                    item=self.s.items[code],
                    department=self.department,
                    priority=priority,
                    clinical_info=indication.info,
                    diagnosis_code=indication.code,
                    diagnosis_name=indication.name,
                    repeat_reason=repeat_reason,
                )
            except RecognisedResultExists:
                if person is not None:
                    raise
                continue  # this patient's earlier result still counts: the doctor would use it instead
            self.made += 1
            return order

    def _received(
        self, code: str, *, priority: str = OrderPriority.ROUTINE, receiver: User | None = None
    ) -> DiagnosticOrder:
        """An order collected and dispatched by the township doctor and received at the centre."""
        order = self._order(code, priority=priority)
        diag.order_act(actor=self.doctor, order=order, action="collect")
        diag.order_act(actor=self.doctor, order=order, action="dispatch")
        return diag.order_receive_barcode(
            actor=receiver or self.s._user("lab_tech"), centre=order.centre, barcode=order.barcode or ""
        )

    def _upload(self, order: DiagnosticOrder, name: str, *, pdf: bool = False) -> None:
        """Upload a small PNG image or PDF as the study (DICOM is not needed for the demo)."""
        if pdf:
            data = simple_pdf(name.rsplit(".", 1)[0], ["演示心电图 / demo ECG", "本文件为演示数据。"])
            upload = SimpleUploadedFile(name, data, content_type="application/pdf")
        else:
            upload = SimpleUploadedFile(name, tiny_png(seed=self.made), content_type="image/png")
        diag.study_upload(actor=self.doctor, order=order, files=[upload])
