"""Teleconsultation in the demo county: fees, experts' free times, a year of teleconsultations, live ones.

What ``seed-demo`` adds for the telemedicine pages, deterministically from
the seed and relative to today:

* the fee of every kind of remote service for the county consortium, set
  by its office (and, by the platform administrator, for the consortium the
  county and city hospitals share, per its telemedicine agreement);
* free times for the next two weeks of the county and city hospitals'
  experts, published through the service by their coordinators;
* a year of teleconsultations written in bulk: township centres invite the
  county hospital (cardiology, neurology, image reading), the county
  hospital invites the city hospital (consultations, multidisciplinary
  meetings, ward rounds) and both ask for remote teaching; each timeline
  (consent, invitation, answer with an expert, schedule, signed opinion
  with both ends' billing records, the inviting doctor's decision) is
  played forward and cut at "now"; about 96 % of concluded patient
  consultations keep the patient local;
* a dozen open or recent teleconsultations made through the real services
  by the demo accounts, one in every state, one concluded with a referral;
  those held today are then moved back together (consent, invitation,
  steps, session, opinion, decision) so their times read in order.

Configuration is skipped where it exists; the activity is written only when
the county consortium has no teleconsultation yet, so a second run changes nothing.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from yilian.accounts.models import User
from yilian.core.audit import record_event
from yilian.demo import content, generators
from yilian.demo import referral_content as rc
from yilian.demo import telemedicine_content as tc
from yilian.demo.diagnostics import working_hours
from yilian.demo.pdf import simple_pdf
from yilian.demo.plan import DemoPlan
from yilian.demo.referrals import backdated, hours, local, month_starts, next_month
from yilian.institutions.choices import AgreementKind
from yilian.institutions.models import Agreement, Consortium, Department, Institution
from yilian.people.models import Person
from yilian.telemedicine import services as tele
from yilian.telemedicine.choices import (
    ChargeDirection,
    ConsentRelationship,
    TeleconsultationKind,
    TeleconsultationOutcome,
    TeleconsultationSide,
    TeleconsultationStatus,
)
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationCharge,
    TeleconsultationEvent,
    TeleconsultationFee,
)
from yilian.telemedicine.selectors import consortium_between

Log = Callable[[str], None]
T = TeleconsultationStatus
K = TeleconsultationKind
INVITING, INVITED, EXPERT = (
    TeleconsultationSide.INVITING,
    TeleconsultationSide.INVITED,
    TeleconsultationSide.EXPERT,
)
AVAILABILITY_DAYS = 14
"""Days of experts' free times published ahead, today included."""

BUMPING = frozenset({"accept", "decline", "assign", "schedule", "sign_opinion", "conclude", "cancel"})
"""Actions that increment a teleconsultation's version."""


@dataclass
class Actor:
    """Who takes a step: a demo account, or a clinician named on the timeline only."""

    user: User | None
    label: str


@dataclass
class Step:
    """One step of a teleconsultation's timeline."""

    at: datetime.datetime
    action: str
    from_status: str
    to_status: str
    side: str
    actor: Actor
    note: str = ""


@dataclass
class Spec:
    """A teleconsultation being built; ``play`` fills its timeline and fields."""

    rng: random.Random
    kind: str
    inviting: Institution
    inviting_department: Department | None
    doctor: Actor
    invited: Institution
    invited_department: Department | None
    answerer: Actor
    expert: User | None
    specialty: str
    title: str
    case: tc.Case | None
    topic: str
    person_id: int | None
    person_name: str
    created_at: datetime.datetime
    consortium: Consortium | None = None
    fee: Decimal = Decimal("0")
    outside: bool = False
    status: str = T.REQUESTED
    steps: list[Step] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    number: str = ""
    obj: Teleconsultation | None = None


class TelemedicineSeeder:
    """Seeds teleconsultation for the county consortium (see the module docstring)."""

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
        self.specs: list[Spec] = []
        self.pairs: dict[tuple[int, int], tuple[Consortium | None, bool]] = {}
        self.fees: dict[tuple[int, str], Decimal] = {}
        self.names: dict[int, list[str]] = {}
        self.departments: dict[int, dict[str, Department]] = {}

    # Entry point -----------------------------------------------------------------------------------------

    def run(self) -> None:
        """Fees and free times, then (once) the year of teleconsultations and the live ones."""
        usernames = [account.username for account in self.plan.accounts]
        self.users = {user.username: user for user in User.objects.filter(username__in=usernames)}
        self.account_institution = {
            account.username: self.institutions.get(account.institution)
            for account in self.plan.accounts
            if account.institution
        }
        self.hospital = self.institutions["county_hospital"]
        self.city = self.institutions["city_hospital"]
        started = time.perf_counter()
        self._fees()
        self._availability()
        self.log(f"  (telemedicine configuration: {time.perf_counter() - started:.1f} s)")
        if self.months <= 0:
            return
        if Teleconsultation.objects.filter(consortium=self.county).exists():
            self.log("远程会诊演示数据已存在，跳过 / teleconsultation activity already seeded, skipped")
            return
        for phase in (self._history, self._write, self._live):
            started = time.perf_counter()
            phase()
            self.log(f"  ({phase.__name__}: {time.perf_counter() - started:.1f} s)")

    def _user(self, username: str) -> User | None:
        """The demo account ``username``, if it exists."""
        return self.users.get(username)

    def _consortium(self, inviting: Institution, invited: Institution) -> Consortium | None:
        """The consortium the service files the pair under (memoised)."""
        return self._pair(inviting, invited)[0]

    def _pair(self, inviting: Institution, invited: Institution) -> tuple[Consortium | None, bool]:
        """The consortium the service files the pair under and whether both share it (memoised)."""
        key = (inviting.pk, invited.pk)
        if key not in self.pairs:
            self.pairs[key] = consortium_between(inviting, invited)
        return self.pairs[key]

    # Configuration ----------------------------------------------------------------------------------------

    def _fees(self) -> None:
        """The county consortium's fees (its office), and those of the consortium the hospitals share."""
        office = self._user("office") or self.admin
        targets: list[tuple[Consortium, User]] = [(self.county, office)]
        shared = self._consortium(self.hospital, self.city)
        if shared is not None and shared.pk != self.county.pk:
            targets.append((shared, self.admin))  # no demo office runs it: the platform administrator does
        set_count = 0
        for consortium, actor in targets:
            have = {fee.kind: fee.amount for fee in TeleconsultationFee.objects.filter(consortium=consortium)}
            agreement = Agreement.objects.filter(
                consortium=consortium, kind=AgreementKind.TELEMEDICINE
            ).first()
            for kind, amount in tc.FEES.items():
                if kind not in have:
                    fee = tele.fee_set(
                        actor=actor, consortium=consortium, kind=kind, amount=amount, agreement=agreement
                    )
                    have[kind] = fee.amount
                    set_count += 1
                self.fees[(consortium.pk, kind)] = Decimal(have[kind])
        self.log(f"远程会诊收费 teleconsultation fees: {set_count} set")

    def _availability(self) -> None:
        """The experts' weekly hours for the next two weeks, published by their coordinators."""
        published = 0
        for hours_ in tc.EXPERT_HOURS:
            expert = self._user(hours_.username)
            institution = self.account_institution.get(hours_.username)
            if expert is None or institution is None:
                continue
            publisher = (
                self._user("coordinator" if institution == self.hospital else "city_coordinator") or expert
            )
            existing = list(
                ExpertAvailability.objects.filter(expert=expert, ends_at__gt=self.now).values_list(
                    "starts_at", "ends_at"
                )
            )
            for offset in range(AVAILABILITY_DAYS):
                day = self.today + datetime.timedelta(days=offset)
                if day.weekday() not in hours_.weekdays:
                    continue
                starts = local(day, hours_.start)
                ends = starts + hours(hours_.length)
                if starts <= self.now + datetime.timedelta(minutes=5):
                    continue
                if any(start < ends and end > starts for start, end in existing):
                    continue
                tele.availability_publish(
                    actor=publisher, expert=expert, institution=institution, starts_at=starts, ends_at=ends
                )
                existing.append((starts, ends))
                published += 1
        self.log(f"专家可预约时间 expert free times: {published} published")

    # Staff ------------------------------------------------------------------------------------------------

    def _named(self, institution: Institution, random_: random.Random) -> Actor:
        """A clinician of the institution named on the timeline (three per institution, stable per seed)."""
        if institution.pk not in self.names:
            names = generators.rng(self.seed, "tele-staff", institution.credit_code)
            self.names[institution.pk] = [
                generators.person_name(
                    names, names.choice("12"), datetime.date(names.randint(1968, 1992), 6, 1)
                )
                for _index in range(3)
            ]
        return Actor(None, random_.choice(self.names[institution.pk]))

    def _account(self, username: str) -> Actor | None:
        """The demo account as a timeline actor, if it exists."""
        user = self._user(username)
        return Actor(user, user.full_name) if user else None

    def _department(self, institution: Institution, *names: str) -> Department | None:
        """The first of ``names`` the institution has (departments read once per institution)."""
        if institution.pk not in self.departments:
            self.departments[institution.pk] = {
                d.name: d for d in Department.objects.filter(institution=institution, is_active=True)
            }
        for name in names:
            if name in self.departments[institution.pk]:
                return self.departments[institution.pk][name]
        return None

    # The year of teleconsultations -------------------------------------------------------------------------

    def _history(self) -> None:
        """Each month's teleconsultations: township centres to the county hospital (a rate per centre),
        the county hospital to the city hospital, and remote teaching."""
        months = month_starts(self.today, self.months)
        first = local(months[0], 0)
        rates = generators.rng(self.seed, "tele", "rates")
        self.patients: dict[str, list[tuple[int, str]]] = {}
        for pk, code, name in (
            Person.objects.filter(
                address_region__code__startswith=content.COUNTY_CODE,
                birth_date__lte=datetime.date(content.REFERENCE_DATE.year - 18, 1, 1),
            )
            .order_by("pk")
            .values_list("pk", "address_region__code", "name")
        ):
            self.patients.setdefault(code[:9], []).append((pk, name))
        townships = [
            (self.institutions[key], code, rates.uniform(0.6, 2.4))
            for code, key in sorted(self.plan.township_centres.items())
            if key in self.institutions and code in self.patients
        ]
        for month in months:
            begin = max(local(month, 0), first)
            end = min(local(next_month(month), 0), self.now - hours(0.2))
            share = (end - begin) / (local(next_month(month), 0) - local(month, 0))
            factor = rc.month_factor(month.month) * share
            monthly = generators.rng(self.seed, "tele", month)
            for centre, code, rate in townships:
                for _index in range(_poisson(monthly, rate * factor)):
                    self._from_township(
                        random.Random(monthly.random()), centre, code, self._moment(monthly, begin, end)
                    )
            for _index in range(_poisson(monthly, 5.5 * factor)):
                self._to_city(random.Random(monthly.random()), self._moment(monthly, begin, end))
            for _index in range(_poisson(monthly, 2.0 * factor)):
                self._teaching(random.Random(monthly.random()), self._moment(monthly, begin, end))
        counts = Counter(spec.status for spec in self.specs)
        self.log(
            f"远程会诊 teleconsultations planned: {len(self.specs)} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            + ")"
        )

    @staticmethod
    def _moment(
        random_: random.Random, begin: datetime.datetime, end: datetime.datetime
    ) -> datetime.datetime:
        """A creation time in the working day when it falls inside the period."""
        span = max((end - begin).total_seconds(), 1)
        at = begin + datetime.timedelta(seconds=random_.uniform(0, span))
        day = timezone.localtime(at).date()
        working = local(day, random_.uniform(8.5, 17))
        return working if begin <= working <= end else at

    def _patient(self, random_: random.Random, township: str) -> tuple[int, str] | None:
        """An adult resident of the township (with their name, for the consent)."""
        pool = self.patients.get(township)
        return random_.choice(pool) if pool else None

    def _from_township(
        self, r: random.Random, centre: Institution, township: str, at: datetime.datetime
    ) -> None:
        """A township doctor asks the county hospital (cardiology, neurology or image reading)."""
        field_: tc.Field = r.choices(
            [f for f, _w in tc.COUNTY_FIELDS], weights=[w for _f, w in tc.COUNTY_FIELDS]
        )[0]
        patient = self._patient(r, township)
        expert = self._user(field_.experts[0])
        if patient is None or expert is None:
            return
        doctor = None
        if self.account_institution.get("township_doctor") == centre:
            doctor = self._account("township_doctor")
        self._add(
            r,
            kind=K.READING if field_.department == "医学影像科" else K.CONSULTATION,
            inviting=centre,
            inviting_department=self._department(centre, "全科医疗科", "内科"),
            doctor=doctor or self._named(centre, r),
            invited=self.hospital,
            field_=field_,
            expert=expert,
            title="associate_chief_physician",
            patient=patient,
            at=at,
        )

    def _to_city(self, r: random.Random, at: datetime.datetime) -> None:
        """The county hospital asks the city hospital (consultation, multidisciplinary meeting, ward round)."""
        field_: tc.Field = r.choices(
            [f for f, _w in tc.CITY_FIELDS], weights=[w for _f, w in tc.CITY_FIELDS]
        )[0]
        expert = self._user(field_.experts[0])
        township = r.choice(sorted(self.patients))
        patient = self._patient(r, township)
        if expert is None or patient is None:
            return
        kind = r.choices((K.CONSULTATION, K.MULTIDISCIPLINARY, K.WARD_ROUND), weights=(55, 20, 25))[0]
        cases = {K.MULTIDISCIPLINARY: tc.MULTIDISCIPLINARY, K.WARD_ROUND: tc.WARD_ROUND}.get(
            kind, field_.cases
        )
        inviting_username = "doctor" if field_.department == "心血管内科" else "neurologist"
        self._add(
            r,
            kind=kind,
            inviting=self.hospital,
            inviting_department=self._department(self.hospital, field_.department),
            doctor=self._account(inviting_username) or self._named(self.hospital, r),
            invited=self.city,
            field_=field_,
            expert=expert,
            title="chief_physician",
            patient=patient,
            at=at,
            cases=cases,
        )

    def _teaching(self, r: random.Random, at: datetime.datetime) -> None:
        """Remote teaching: the county hospital for the townships, the city hospital for the county."""
        if r.random() < 0.5:
            inviting = self.hospital
            invited, expert_name = self.city, r.choice(("city_doctor", "city_neurologist"))
            doctor = self._account("coordinator") or self._named(inviting, r)
        else:
            inviting = self.institutions[r.choice(sorted(self.plan.township_centres.values()))]
            invited, expert_name = self.hospital, r.choice(("doctor", "neurologist", "radiologist"))
            doctor = self._named(inviting, r)
        expert = self._user(expert_name)
        if expert is None:
            return
        department = Department.objects.filter(
            pk__in=expert.memberships.filter(is_active=True).values("department")
        ).first()
        field_ = tc.Field(
            department.name if department else "", department.specialty if department else "", (), ()
        )
        self._add(
            r, kind=K.TEACHING, inviting=inviting, inviting_department=None, doctor=doctor, invited=invited,
            field_=field_, expert=expert, title="associate_chief_physician", patient=None, at=at,
        )  # fmt: skip

    def _add(
        self,
        r: random.Random,
        *,
        kind: str,
        inviting: Institution,
        inviting_department: Department | None,
        doctor: Actor,
        invited: Institution,
        field_: tc.Field,
        expert: User,
        title: str,
        patient: tuple[int, str] | None,
        at: datetime.datetime,
        cases: tuple[tc.Case, ...] | None = None,
    ) -> None:
        """Plan one teleconsultation between the two ends and play its timeline."""
        cases = cases if cases is not None else field_.cases
        consortium, shared = self._pair(inviting, invited)
        outside = not shared
        answerer = self._account("coordinator" if invited == self.hospital else "city_coordinator")
        spec = Spec(
            rng=r,
            kind=kind,
            inviting=inviting,
            inviting_department=inviting_department,
            doctor=doctor,
            invited=invited,
            invited_department=self._department(invited, field_.department) if field_.department else None,
            answerer=answerer or self._named(invited, r),
            expert=expert,
            specialty=field_.specialty,
            title=title,
            case=r.choice(cases) if cases else None,
            topic=r.choice(tc.TEACHING_TOPICS),
            person_id=patient[0] if patient else None,
            person_name=patient[1] if patient else "",
            created_at=at,
            consortium=consortium,
            # Outside a shared consortium the fee is the pair's agreed one, as the requester types it.
            fee=self.fees.get((consortium.pk, kind), Decimal("0"))
            if consortium and not outside
            else (Decimal(tc.FEES[kind]) if outside and kind in tc.FEES else Decimal("0")),
            outside=outside,
        )
        self._play(spec)
        self.specs.append(spec)

    def _play(self, spec: Spec) -> None:
        """Build the whole intended timeline, then keep what happened before now."""
        r = spec.rng
        steps: list[Step] = []
        expert = Actor(spec.expert, spec.expert.full_name) if spec.expert else spec.answerer

        def add(at: datetime.datetime, action: str, to: str, side: str, actor: Actor, note: str = "") -> None:
            source = steps[-1].to_status if steps else ""
            steps.append(Step(at, action, source, to, side, actor, note))

        t = spec.created_at
        day = timezone.localtime(t).date() + datetime.timedelta(days=r.choice((1, 1, 2, 2, 3)))
        proposed = local(day, r.choice((9.0, 10.0, 14.5, 15.5)))
        spec.values.update(proposed_at=proposed, version=1)
        add(t, "create", T.REQUESTED, INVITING, spec.doctor)
        roll = r.random()
        answered = working_hours(t + hours(r.triangular(0.2, 20, 2)), r)
        if roll < 0.04:
            add(answered, "decline", T.DECLINED, INVITED, spec.answerer, r.choice(tc.DECLINE_REASONS))
            return self._cut(spec, steps)
        if roll < 0.055:
            add(
                t + hours(r.uniform(0.5, 12)),
                "cancel",
                T.CANCELLED,
                INVITING,
                spec.doctor,
                r.choice(tc.CANCEL_REASONS),
            )
            return self._cut(spec, steps)
        add(answered, "accept", T.ACCEPTED, INVITED, spec.answerer)
        session = (
            proposed
            if proposed > answered + hours(4)
            else local(timezone.localtime(answered).date() + datetime.timedelta(days=1), 15.0)
        )
        scheduled = answered + hours(r.uniform(0.1, 3))
        add(scheduled, "schedule", T.SCHEDULED, INVITED, spec.answerer)
        spec.values["session"] = session
        if roll < 0.075:
            cancelled = scheduled + (session - scheduled) * r.uniform(0.3, 0.9)
            add(cancelled, "cancel", T.CANCELLED, INVITING, spec.doctor, r.choice(tc.CANCEL_REASONS))
            return self._cut(spec, steps)
        signed = session + hours(r.uniform(0.5, 2))
        add(signed, "sign_opinion", T.OPINION_SIGNED, EXPERT, expert)
        outcome = TeleconsultationOutcome.OTHER
        if spec.person_id is not None:
            outcome = (
                TeleconsultationOutcome.REFERRED
                if r.random() < 0.04
                else TeleconsultationOutcome.STAYED_LOCAL
            )
        spec.values["outcome"] = outcome
        concluded = working_hours(signed + hours(r.triangular(0.3, 30, 3)), r)
        add(concluded, "conclude", T.CONCLUDED, INVITING, spec.doctor)
        return self._cut(spec, steps)

    def _cut(self, spec: Spec, steps: list[Step]) -> None:
        """Keep the steps before now and set the teleconsultation's status and fields from them."""
        kept = [step for step in steps if step.at <= self.now]
        spec.steps = kept
        v = spec.values
        case = spec.case
        for step in kept:
            spec.status = step.to_status
            if step.action in BUMPING:
                v["version"] += 1
            if step.action == "accept":
                v.update(answered_at=step.at, answered_by=step.actor.user, expert=spec.expert)
            elif step.action == "decline":
                v.update(
                    answered_at=step.at,
                    answered_by=step.actor.user,
                    decline_reason=step.note,
                    ended_at=step.at,
                )
            elif step.action == "schedule":
                v.update(
                    scheduled_at=v["session"],
                    meeting_link=f"{tc.MEETING_HOST}{spec.rng.randrange(10**8, 10**9)}",
                )
            elif step.action == "sign_opinion":
                opinion = case.opinion if case else f"完成远程教学《{spec.topic}》，课件已共享。"
                v.update(opinion=opinion, opinion_signed_at=step.at, opinion_signed_by=spec.expert)
            elif step.action == "conclude":
                outcome = v["outcome"]
                if case is None:
                    decision = f"组织本院医务人员参加《{spec.topic}》远程教学，已完成签到。"
                elif outcome == TeleconsultationOutcome.REFERRED:
                    decision = f"{case.referral_reason}，与家属沟通后转上级医院。"
                else:
                    decision = case.decision
                v.update(decision=decision, decided_at=step.at, ended_at=step.at)
            elif step.action == "cancel":
                v.update(decline_reason=step.note, ended_at=step.at)
        if spec.status != T.CONCLUDED:
            v.pop("outcome", None)  # the decision is not taken yet

    # Writing ---------------------------------------------------------------------------------------------

    def _write(self) -> None:
        """Teleconsultations, both ends' billing records and timelines in bulk."""
        self.specs.sort(key=lambda spec: spec.created_at)
        per_day: Counter[str] = Counter()
        for spec in self.specs:
            day = f"{timezone.localtime(spec.created_at):%Y%m%d}"
            per_day[day] += 1
            spec.number = f"YC{day}{per_day[day]:05d}"
        rows = [self._row(spec) for spec in self.specs]
        charges = []
        for spec in self.specs:
            signed = spec.values.get("opinion_signed_at")
            if signed is None or spec.fee <= 0:
                continue
            for institution, counterpart, direction in (
                (spec.inviting, spec.invited, ChargeDirection.PAYABLE),
                (spec.invited, spec.inviting, ChargeDirection.RECEIVABLE),
            ):
                charges.append(
                    TeleconsultationCharge(
                        teleconsultation=spec.obj, institution=institution, counterpart=counterpart,
                        consortium=None if spec.outside else spec.consortium,  # as the service writes it
                        direction=direction, amount=spec.fee, kind=spec.kind,
                        created_at=signed, updated_at=signed,
                    )
                )  # fmt: skip
        fields = [
            model._meta.get_field(name)
            for model in (Teleconsultation, TeleconsultationCharge)
            for name in ("created_at", "updated_at")
        ]
        with backdated(*fields):
            Teleconsultation.objects.bulk_create(rows, batch_size=500)
            for charge in charges:
                charge.teleconsultation_id = charge.teleconsultation.pk
            TeleconsultationCharge.objects.bulk_create(charges, batch_size=500)
        self._events()
        record_event(
            actor=self.admin,
            action="teleconsultation.bulk_create",
            obj=self.county,
            details={
                "teleconsultations": len(rows),
                "charges": len(charges),
                "source": "seed-demo",
                "seed": self.seed,
            },
            consortium_public_id=self.county.public_id,
        )
        self.log(f"远程会诊 teleconsultations: {len(rows)}; 费用记录 charges: {len(charges)}")

    def _row(self, spec: Spec) -> Teleconsultation:
        """The unsaved teleconsultation of a played spec (consent signed shortly before the invitation)."""
        v = dict(spec.values)
        v.pop("session", None)
        case = spec.case
        consent = spec.created_at - hours(spec.rng.uniform(0.1, 1.5)) if spec.person_id else None
        relationship = (
            ConsentRelationship.PATIENT if spec.rng.random() < 0.7 else ConsentRelationship.RELATIVE
        )
        signer = spec.person_name
        if spec.person_id and relationship == ConsentRelationship.RELATIVE:
            signer = generators.person_name(spec.rng, spec.rng.choice("12"), datetime.date(1985, 6, 1))
        spec.obj = Teleconsultation(
            number=spec.number,
            status=spec.status,
            kind=spec.kind,
            consortium=spec.consortium,
            person_id=spec.person_id,
            inviting_institution=spec.inviting,
            inviting_department=spec.inviting_department,
            inviting_doctor=spec.doctor.user,
            invited_institution=spec.invited,
            invited_department=spec.invited_department,
            required_specialty=spec.specialty,
            required_title=spec.title,
            reason=(case.reason if case else f"远程教学：{spec.topic}")[:200],
            purpose=(case.purpose if case else "提升基层诊疗能力")[:50],
            case_summary=case.summary if case else f"远程教学《{spec.topic}》，面向本院医务人员。",
            exam_results=case.exam if case else "",
            diagnosis_code=case.code if case else "",
            diagnosis_name=case.name if case else "",
            consent_signer_name=signer if spec.person_id else "",
            consent_relationship=relationship if spec.person_id else "",
            consent_signed_at=consent,
            fee_amount=spec.fee,
            outside_consortium=spec.outside,
            created_by=spec.doctor.user,
            created_at=spec.created_at,
            updated_at=spec.steps[-1].at,
            **v,
        )
        return spec.obj

    def _events(self) -> None:
        """Timeline rows with one executemany (see referrals._insert_events)."""
        adapt = connection.ops.adapt_datetimefield_value
        rows: list[tuple[Any, ...]] = []
        for spec in self.specs:
            assert spec.obj is not None
            for step in spec.steps:
                institution = spec.inviting if step.side == INVITING else spec.invited
                rows.append(
                    (
                        spec.obj.pk, step.action, step.from_status, step.to_status, step.side,
                        step.actor.user.pk if step.actor.user else None, step.actor.label,
                        institution.name, step.note[:500], adapt(step.at),
                    )
                )  # fmt: skip
        meta = TeleconsultationEvent._meta
        quote = connection.ops.quote_name
        names = ("teleconsultation", "action", "from_status", "to_status", "side", "actor", "actor_label",
                 "institution_name", "note", "occurred_at")  # fmt: skip
        columns = ", ".join(quote(meta.get_field(name).column) for name in names)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start : start + 5000])
        self.log(f"会诊进程 teleconsultation events: {len(rows)}")

    # Through the services --------------------------------------------------------------------------------

    def _live(self) -> None:
        """A dozen teleconsultations made through the services by the demo accounts."""
        made = LiveTeleconsultations(self).run()
        self.log(f"实时远程会诊 teleconsultations made through the services: {made}")


def _poisson(random_: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth; small means)."""
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, random_.random()
    while product > limit:
        k += 1
        product *= random_.random()
    return k


class LiveTeleconsultations:
    """Open and recent teleconsultations made through ``telemedicine.services`` by the demo accounts."""

    def __init__(self, seeder: TelemedicineSeeder) -> None:
        self.s = seeder
        self.random = generators.rng(seeder.seed, "tele-live")
        self.made = 0

    def run(self) -> int:
        """Make one teleconsultation in each state; returns how many were created."""
        s = self.s
        township_doctor = s._user("township_doctor")
        coordinator = s._user("coordinator")
        doctor = s._user("doctor")
        neurologist = s._user("neurologist")
        radiologist = s._user("radiologist")
        city_coordinator = s._user("city_coordinator")
        city_doctor = s._user("city_doctor")
        city_neurologist = s._user("city_neurologist")
        mabu = s.account_institution.get("township_doctor")
        needed = (township_doctor, coordinator, doctor, neurologist, radiologist, city_coordinator, city_doctor,
                  city_neurologist, mabu)  # fmt: skip
        if any(item is None for item in needed):
            return 0
        assert mabu is not None and township_doctor and coordinator and doctor and neurologist and radiologist
        assert city_coordinator and city_doctor and city_neurologist
        people = list(
            Person.objects.filter(
                institution_links__institution=mabu,
                birth_date__lte=datetime.date(content.REFERENCE_DATE.year - 18, 1, 1),
            )
            .distinct()
            .order_by("pk")[:60]
        )
        inpatients = list(
            Person.objects.filter(
                institution_links__institution=s.hospital,
                birth_date__lte=datetime.date(content.REFERENCE_DATE.year - 18, 1, 1),
            )
            .distinct()
            .order_by("pk")[:60]
        )
        if len(people) < 8 or len(inpatients) < 2:
            return 0
        self.random.shuffle(people)
        self.random.shuffle(inpatients)
        act = tele.teleconsultation_act
        gp = s._department(mabu, "全科医疗科")
        cardiology = s._department(s.hospital, "心血管内科")
        neurology = s._department(s.hospital, "神经内科")
        imaging = s._department(s.hospital, "医学影像科")
        link = f"{tc.MEETING_HOST}{self.random.randrange(10**8, 10**9)}"

        def invite(
            actor: User, inviting: Institution, invited: Institution, department: Department | None,
            case: tc.Case | None, person: Person | None, *, kind: str = K.CONSULTATION,
            specialty: str = "03", title: str = "associate_chief_physician", proposed: datetime.datetime | None = None,
            slot: ExpertAvailability | None = None, inviting_department: Department | None = None,
        ) -> Teleconsultation:  # fmt: skip
            """Send an invitation (with the patient's consent) through the service."""
            data: dict[str, Any] = {
                "inviting_department": inviting_department if inviting_department is not None else gp,
                "invited_department": department,
                "required_specialty": specialty,
                "required_title": title,
                "reason": case.reason if case else "远程教学：基层心电图常见异常判读",
                "purpose": case.purpose if case else "提升基层诊疗能力",
                "case_summary": case.summary if case else "面向本院医务人员的远程教学。",
                "exam_results": case.exam if case else "",
                "diagnosis_code": case.code if case else "",
                "diagnosis_name": case.name if case else "",
                "proposed_at": proposed or local(s.today + datetime.timedelta(days=2), 15.5),
            }
            if slot is not None:
                data["proposed_slot"] = slot
            if not consortium_between(inviting, invited)[1]:
                data["agreed_fee"] = tc.FEES.get(kind, "0")  # the pair's cooperation agreement
            if person is not None:
                data.update(
                    consent_signer_name=person.name,
                    consent_relationship=ConsentRelationship.PATIENT,
                    consent_signed_at=timezone.now() - datetime.timedelta(minutes=20),
                )
            created, _new = tele.teleconsultation_create(
                actor=actor, inviting_institution=inviting, invited_institution=invited, kind=kind, person=person,
                **data,
            )  # fmt: skip
            self.made += 1
            return created

        def consent(actor: User, consultation: Teleconsultation, person: Person) -> None:
            """Attach the signed consent form as a PDF."""
            document = simple_pdf(
                "远程医疗服务知情同意书",
                [f"患者：{person.name}", f"会诊单号：{consultation.number}", f"费用：{consultation.fee_amount} 元",
                 "本人已知悉远程会诊的目的、方式、费用及隐私保护措施，同意接受远程会诊。", "演示文档 / demo document"],
            )  # fmt: skip
            tele.teleconsultation_attach(
                actor=actor, teleconsultation=consultation, kind="consent",
                upload=SimpleUploadedFile("知情同意书.pdf", document, content_type="application/pdf"),
            )  # fmt: skip

        def held(consultation: Teleconsultation, expert: User) -> Teleconsultation:
            """Accept, schedule and have the session: the opinion is signed.

            The service only schedules sessions in the future and only signs opinions once the
            session has begun, so the session is booked a minute ahead and then let begin;
            ``settle`` later moves the whole timeline back to earlier today."""
            consultation = act(
                actor=coordinator, teleconsultation=consultation, action="accept", expert=expert
            )
            consultation = act(actor=coordinator, teleconsultation=consultation, action="schedule",
                               scheduled_at=timezone.now() + datetime.timedelta(minutes=1), meeting_link=link)  # fmt: skip
            Teleconsultation.objects.filter(pk=consultation.pk).update(scheduled_at=timezone.now())
            case = _case_of(consultation)
            return act(actor=expert, teleconsultation=consultation, action="sign_opinion",
                       opinion=case.opinion if case else "同意邀请方处理意见。")  # fmt: skip

        cardio, neuro, reading = tc.CARDIOLOGY, tc.NEUROLOGY, tc.READING
        slots = list(
            ExpertAvailability.objects.filter(
                expert=doctor, taken_by__isnull=True, starts_at__gt=timezone.now()
            ).order_by("starts_at")[:2]
        )
        # 1. Waiting for the county hospital's answer, on the cardiologist's published time.
        first = invite(township_doctor, mabu, s.hospital, cardiology, cardio[0], people[0],
                       slot=slots[0] if slots else None)  # fmt: skip
        consent(township_doctor, first, people[0])
        # 2. Accepted with the neurologist, no time yet.
        second = invite(
            township_doctor, mabu, s.hospital, neurology, neuro[0], people[1], title="chief_physician"
        )
        act(actor=coordinator, teleconsultation=second, action="accept", expert=neurologist)
        # 3. Accepted and booked on the cardiologist's free time.
        third = invite(township_doctor, mabu, s.hospital, cardiology, cardio[2], people[2])
        consent(township_doctor, third, people[2])
        third = act(actor=coordinator, teleconsultation=third, action="accept", expert=doctor)
        if len(slots) > 1:
            act(
                actor=coordinator,
                teleconsultation=third,
                action="schedule",
                availability=slots[1],
                meeting_link=link,
            )
        else:
            act(actor=coordinator, teleconsultation=third, action="schedule",
                scheduled_at=local(s.today + datetime.timedelta(days=3), 14.5), meeting_link=link)  # fmt: skip
        # 4. Image reading done: the opinion waits for the township doctor's decision.
        fourth = invite(township_doctor, mabu, s.hospital, imaging, reading[0], people[3], kind=K.READING,
                        specialty="32")  # fmt: skip
        self.settle(held(fourth, radiologist), ago=95)
        # 5. Concluded, the patient stays local.
        fifth = invite(township_doctor, mabu, s.hospital, cardiology, cardio[1], people[4])
        consent(township_doctor, fifth, people[4])
        fifth = held(fifth, doctor)
        act(actor=township_doctor, teleconsultation=fifth, action="conclude", decision=cardio[1].decision,
            outcome=TeleconsultationOutcome.STAYED_LOCAL)  # fmt: skip
        self.settle(fifth, ago=40)
        # 6. Concluded with a referral to the county hospital's cardiology.
        sixth = invite(township_doctor, mabu, s.hospital, cardiology, cardio[3], people[5])
        sixth = held(sixth, doctor)
        if cardiology is not None:
            act(actor=township_doctor, teleconsultation=sixth, action="conclude",
                decision=f"{cardio[3].referral_reason}，转县医院心内科住院。",
                outcome=TeleconsultationOutcome.REFERRED, referral_to_department=cardiology,
                referral_kind="admission", acknowledge_missing=True)  # fmt: skip
        self.settle(sixth, ago=2)  # the referral the decision sent is dated now
        # 7. Declined, 8. cancelled by the township doctor.
        seventh = invite(township_doctor, mabu, s.hospital, neurology, neuro[2], people[6])
        act(actor=coordinator, teleconsultation=seventh, action="decline", reason=tc.DECLINE_REASONS[0])
        eighth = invite(township_doctor, mabu, s.hospital, cardiology, cardio[0], people[7])
        act(actor=township_doctor, teleconsultation=eighth, action="cancel", reason=tc.CANCEL_REASONS[0])
        # 9. The county cardiologist asks the city hospital for a multidisciplinary meeting.
        city_cardiology = s._department(s.city, "心血管内科")
        city_neurology = s._department(s.city, "神经内科")
        invite(doctor, s.hospital, s.city, city_cardiology, tc.MULTIDISCIPLINARY[0], inpatients[0],
               kind=K.MULTIDISCIPLINARY, title="chief_physician", inviting_department=cardiology)  # fmt: skip
        # 10. The county neurologist's ward round with the city neurologist, scheduled.
        tenth = invite(neurologist, s.hospital, s.city, city_neurology, tc.WARD_ROUND[0], inpatients[1],
                       kind=K.WARD_ROUND, title="chief_physician", inviting_department=neurology)  # fmt: skip
        tenth = act(actor=city_coordinator, teleconsultation=tenth, action="accept", expert=city_neurologist)
        act(actor=city_coordinator, teleconsultation=tenth, action="schedule",
            scheduled_at=local(s.today + datetime.timedelta(days=1), 10.0), meeting_link=link)  # fmt: skip
        # 11. Remote teaching from the city cardiologist for the county hospital.
        teaching = invite(coordinator, s.hospital, s.city, city_cardiology, None, None, kind=K.TEACHING,
                          title="chief_physician", inviting_department=cardiology)  # fmt: skip
        act(actor=city_coordinator, teleconsultation=teaching, action="accept", expert=city_doctor)
        return self.made

    def settle(self, consultation: Teleconsultation, *, ago: float) -> None:
        """Move a teleconsultation that was held through the services back to earlier today.

        The services stamp every step "now" and only accept a proposed or session time in the
        future, so a consultation played through them at once would show its session after the
        opinion and its consent after the invitation. This rewrites consent, invitation, timeline
        steps, proposed and session time, answer, opinion, billing records and decision together,
        in that order, ending ``ago`` minutes before now (squeezed to fit after midnight, so the
        number's date stays the day's). The audit log keeps the real times."""
        events = list(
            TeleconsultationEvent.objects.filter(teleconsultation=consultation).order_by("occurred_at", "id")
        )
        gaps = [LIVE_GAPS.get(event.action, 2.0) for event in events]
        now = timezone.now()
        total = CONSENT_BEFORE + sum(gaps) + ago
        available = max((now - local(timezone.localdate(now), 0)).total_seconds() / 60 - 1, 0.0)
        scale = min(1.0, available / total)

        def minutes(value: float) -> datetime.timedelta:
            return datetime.timedelta(minutes=value * scale)

        at = now - minutes(total)
        changes: dict[str, Any] = {"consent_signed_at": at if consultation.consent_signed_at else None}
        at += minutes(CONSENT_BEFORE)
        for event, gap in zip(events, gaps, strict=True):
            at += minutes(gap)
            TeleconsultationEvent.objects.filter(pk=event.pk).update(occurred_at=at)
            if event.action == "create":
                changes["created_at"] = at
            elif event.action == "attach":
                consultation.attachments.update(created_at=at, updated_at=at)
            elif event.action == "accept":
                changes["answered_at"] = at
            elif event.action == "schedule":
                session = at + minutes(SESSION_AFTER_SCHEDULE)
                changes.update(scheduled_at=session, proposed_at=session)
            elif event.action == "sign_opinion":
                changes["opinion_signed_at"] = at
                consultation.charges.update(created_at=at, updated_at=at)
            elif event.action == "conclude":
                changes.update(decided_at=at, ended_at=at)
        changes["updated_at"] = at
        Teleconsultation.objects.filter(pk=consultation.pk).update(**changes)


CONSENT_BEFORE = 20.0
"""Minutes between the patient's consent and the invitation of a live teleconsultation."""
SESSION_AFTER_SCHEDULE = 40.0
"""Minutes between booking a live session and holding it."""
LIVE_GAPS = {"create": 0.0, "attach": 3.0, "accept": 25.0, "schedule": 5.0, "sign_opinion": 75.0,
             "conclude": 30.0}  # fmt: skip
"""Minutes from the previous timeline step of a live teleconsultation (the opinion includes the session)."""


def _case_of(consultation: Teleconsultation) -> tc.Case | None:
    """The demo case an invitation was written from (matched by its reason)."""
    for cases in (tc.CARDIOLOGY, tc.NEUROLOGY, tc.READING, tc.MULTIDISCIPLINARY, tc.WARD_ROUND):
        for case in cases:
            if case.reason == consultation.reason:
                return case
    return None
