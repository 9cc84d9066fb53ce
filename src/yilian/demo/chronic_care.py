"""Chronic-disease management in the demo county: a year of hypertension and diabetes follow-ups.

What ``seed-demo`` adds for the chronic-care pages, deterministically from the seed and relative to today:

* cases for the adult residents (35 and over) registered at the county consortium's primary
  institutions: about 25 % have hypertension and 10 % type 2 diabetes, of whom about 60 % are under
  management (建档); each case is attached to the resident's family-doctor team (their contract's team,
  else a team of the institution serving their grid; none when the family-doctor seeder made no teams);
* a year of follow-ups written in bulk, about four a year at the registry's interval with some jitter,
  some late, about one case in eight now overdue; control about 60 % (each case has its own propensity),
  blood pressure / glucose, weight, medication and adherence drawn to match; the control status, the
  referral rule's suggestion and the case's derived fields (last visit, run of uncontrolled visits,
  next due date) computed with the app's own pure rules, so the pages and the rates read true;
  suggestions older than a month were handled (dismissed with the doctor's note), recent ones are open;
* live records through the real services by ``township_doctor``: two follow-ups of one patient that
  trigger the rule, and the suggested referral sent in one action to the lead hospital's cardiology.

The history is written only when the consortium's primary institutions have no case yet, so a second
run changes nothing.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from yilian.accounts.models import User
from yilian.chronic_care import rules
from yilian.chronic_care import services as chronic
from yilian.chronic_care.choices import (
    CaseStatus,
    FollowUpMethod,
    Suggestion,
    SuggestionState,
)
from yilian.chronic_care.models import ChronicCase, ChronicRegistry, FollowUp
from yilian.chronic_care.selectors import referral_proposal
from yilian.demo.plan import DemoPlan
from yilian.family_doctors.choices import ACTIVE_STATUSES
from yilian.family_doctors.models import CareTeam, FamilyDoctorContract
from yilian.institutions.models import ConsortiumMember
from yilian.people.models import PersonInstitutionLink

HYPERTENSION_PREVALENCE = 0.25
DIABETES_PREVALENCE = 0.10
MANAGED_SHARE = 0.6
OVERDUE_SHARE = 0.12
MIN_AGE = 35

HYPERTENSION_DRUGS = [
    "氨氯地平片 5mg 每日一次",
    "硝苯地平控释片 30mg 每日一次",
    "厄贝沙坦片 150mg 每日一次",
    "缬沙坦胶囊 80mg 每日一次",
    "吲达帕胺缓释片 1.5mg 每日一次",
    "美托洛尔缓释片 47.5mg 每日一次",
]
DIABETES_DRUGS = [
    "二甲双胍片 0.5g 每日三次",
    "格列美脲片 2mg 每日一次",
    "阿卡波糖片 50mg 每日三次",
    "西格列汀片 100mg 每日一次",
]
ADVICE = [
    "低盐饮食（每日食盐<5g），戒烟限酒，每周运动 5 次、每次 30 分钟。",
    "控制体重，规律作息，按时服药，每日自测血压并记录。",
    "控制主食量，少吃甜食，餐后散步，定期监测血糖。",
]
DISMISS_NOTES = ["已调整用药，两周后复查，患者暂不愿转诊。", "电话咨询上级医院专科医生后调整方案，继续观察。"]
METHOD_WEIGHTS = [(FollowUpMethod.CLINIC, 0.55), (FollowUpMethod.HOME, 0.2), (FollowUpMethod.PHONE, 0.15),
                  (FollowUpMethod.ONLINE, 0.1)]  # fmt: skip


def _age(birth: datetime.date | None, day: datetime.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass
class ChronicCareSeeder:
    """Seeds the demo county's chronic care records; a second run changes nothing."""

    plan: DemoPlan
    admin: User
    institutions: dict[str, Any]
    consortia: dict[str, Any]
    log: Any
    months: int
    rng: random.Random = field(init=False)
    today: datetime.date = field(init=False)

    def run(self) -> None:
        """Write the year of cases and follow-ups once, then the live records through the services."""
        self.rng = random.Random(f"{self.plan.seed}-chronic-care")
        self.today = timezone.localdate()
        county = self.consortia.get("county")
        if county is None or self.months <= 0:
            return
        members = list(
            ConsortiumMember.objects.filter(consortium=county, is_active=True).select_related("institution")
        )
        primary = {m.institution_id: m.institution for m in members if m.institution.is_primary}
        if not primary:
            return
        if ChronicCase.objects.filter(institution_id__in=primary).exists():
            self.log("慢病管理演示数据已存在，跳过 / chronic care already seeded, skipped")
            return
        started = time.perf_counter()
        with transaction.atomic():
            cases, follow_ups = self._history(primary)
        self.log(
            f"慢病管理 chronic care: {cases} cases, {follow_ups} follow-ups "
            f"({time.perf_counter() - started:.1f} s)"
        )
        started = time.perf_counter()
        self._live()
        self.log(f"  (chronic care live records: {time.perf_counter() - started:.1f} s)")

    # History ----------------------------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _history(self, primary: dict[int, Any]) -> tuple[int, int]:
        registries = {
            r.code: r for r in ChronicRegistry.objects.filter(code__in=["hypertension", "diabetes_t2"])
        }
        if len(registries) < 2:
            return 0, 0
        cutoff = self.today.replace(year=self.today.year - MIN_AGE)
        # Prefer a township / community centre as the managing institution over a village clinic.
        links = (
            PersonInstitutionLink.objects.filter(institution_id__in=primary, person__birth_date__lte=cutoff)
            .order_by("person_id", "institution__category", "institution_id")
            .values_list("person_id", "institution_id", "person__birth_date", "person__home_grid_id")
        )
        people: dict[int, tuple[int, datetime.date | None, int | None]] = {}
        for person_id, institution_id, birth, grid in links:
            current = people.get(person_id)
            category = primary[institution_id].category
            if current is None or (
                category.startswith(("B", "C")) and not primary[current[0]].category.startswith(("B", "C"))
            ):
                people[person_id] = (institution_id, birth, grid)
        contracts = dict(
            FamilyDoctorContract.objects.filter(person_id__in=people, status__in=ACTIVE_STATUSES).values_list(
                "person_id", "team_id"
            )
        )
        teams = list(CareTeam.objects.filter(institution_id__in=primary, is_active=True).order_by("pk"))
        team_of_grid = {(t.institution_id, t.grid_id): t.pk for t in teams}
        first_team = {}
        for team in teams:
            first_team.setdefault(team.institution_id, team.pk)
        team_institution = {t.pk: t.institution_id for t in teams}
        doctors = self._doctors(primary)
        new_cases: list[ChronicCase] = []
        plans: list[tuple[ChronicCase, ChronicRegistry, datetime.date | None, float]] = []
        for person_id in sorted(people):
            institution_id, birth, grid = people[person_id]
            age = _age(birth, self.today) or 0
            # Prevalence rises with age; the averages stay near the targets among the ≥ 35s.
            lift = 0.6 + min(age - MIN_AGE, 40) / 40 * 0.9
            for code, prevalence, icd in (
                ("hypertension", HYPERTENSION_PREVALENCE, "I10.x00"),
                ("diabetes_t2", DIABETES_PREVALENCE, "E11.900"),
            ):
                if self.rng.random() >= prevalence * lift * MANAGED_SHARE:
                    continue
                registry = registries[code]
                team = contracts.get(person_id)
                if team is None or team_institution.get(team) != institution_id:
                    team = team_of_grid.get((institution_id, grid)) or first_team.get(institution_id)
                enrolled = self.today - datetime.timedelta(days=self.rng.randint(60, 6 * 365))
                case = ChronicCase(
                    public_id=self._uuid(),
                    person_id=person_id,
                    registry=registry,
                    institution_id=institution_id,
                    care_team_id=team,
                    diagnosis_code=icd,
                    diagnosis_name="原发性高血压" if code == "hypertension" else "2型糖尿病",
                    enrolled_on=enrolled,
                    enrolled_by_id=doctors.get(institution_id),
                    status=CaseStatus.ACTIVE,
                    next_due_on=enrolled + datetime.timedelta(days=chronic.FIRST_FOLLOW_UP_DAYS),
                )
                new_cases.append(case)
                propensity = min(0.95, max(0.1, self.rng.gauss(0.62, 0.22)))
                plans.append((case, registry, birth, propensity))
        ChronicCase.objects.bulk_create(new_cases, batch_size=1000)
        saved = dict(
            ChronicCase.objects.filter(public_id__in=[c.public_id for c in new_cases]).values_list(
                "public_id", "pk"
            )
        )
        follow_ups: list[FollowUp] = []
        for case, registry, birth, propensity in plans:
            case.pk = saved[case.public_id]
            follow_ups.extend(
                self._visits(case, registry, birth, propensity, doctors.get(case.institution_id))
            )
        FollowUp.objects.bulk_create(follow_ups, batch_size=1000)
        ChronicCase.objects.bulk_update(
            [p[0] for p in plans],
            [
                "last_follow_up_on",
                "last_control",
                "consecutive_uncontrolled",
                "follow_up_count",
                "next_due_on",
            ],
            batch_size=1000,
        )
        PersonInstitutionLink.objects.bulk_create(
            [
                PersonInstitutionLink(
                    person_id=c.person_id, institution_id=c.institution_id, reason="chronic_care"
                )
                for c in new_cases
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        return len(new_cases), len(follow_ups)

    def _doctors(self, primary: dict[int, Any]) -> dict[int, int]:
        """A doctor of each primary institution (the first by id), for 建档医生 and 随访医生."""
        from yilian.accounts.models import Membership

        result: dict[int, int] = {}
        for institution_id, user_id in (
            Membership.objects.filter(institution_id__in=primary, role="doctor", is_active=True)
            .order_by("institution_id", "user_id")
            .values_list("institution_id", "user_id")
        ):
            result.setdefault(institution_id, user_id)
        return result

    def _measure(self, registry: ChronicRegistry, controlled: bool, age: int | None) -> dict[str, Any]:
        rng = self.rng
        values: dict[str, Any] = {}
        elderly = age is not None and age >= 65
        if registry.code == "hypertension" or rng.random() < 0.7:
            if controlled or registry.code != "hypertension":
                sbp = rng.randint(112, 146 if elderly else 137)
                dbp = rng.randint(66, 86)
            else:
                sbp = rng.randint(142 if not elderly else 152, 176)
                dbp = rng.randint(84, 104)
            values.update(systolic=sbp, diastolic=min(dbp, sbp - 25), heart_rate=rng.randint(62, 92))
        if registry.code == "diabetes_t2":
            glucose = rng.uniform(5.2, 6.9) if controlled else rng.uniform(7.2, 11.8)
            values["fasting_glucose"] = Decimal(f"{glucose:.1f}")
            if rng.random() < 0.3:
                values["hba1c"] = Decimal(f"{(6.2 if controlled else 7.6) + rng.uniform(-0.4, 1.2):.1f}")
        return values

    def _visits(
        self,
        case: ChronicCase,
        registry: ChronicRegistry,
        birth: datetime.date | None,
        propensity: float,
        doctor: int | None,
    ) -> list[FollowUp]:
        rng = self.rng
        thresholds = rules.Thresholds.of(registry)
        interval = registry.interval_days
        start = max(case.enrolled_on, self.today - datetime.timedelta(days=365))
        day = start + datetime.timedelta(days=rng.randint(0, 30))
        due = case.next_due_on if case.enrolled_on >= start else day
        overdue = rng.random() < OVERDUE_SHARE
        weight = Decimal(f"{rng.uniform(52, 88):.1f}")
        height = Decimal(f"{rng.uniform(150, 178):.1f}")
        drugs = HYPERTENSION_DRUGS if registry.code == "hypertension" else DIABETES_DRUGS
        medication = "\n".join(rng.sample(drugs, k=rng.choice([1, 1, 2])))
        run = 0
        rows: list[FollowUp] = []
        while day <= self.today:
            age = _age(birth, day)
            method = rng.choices([m for m, _w in METHOD_WEIGHTS], [w for _m, w in METHOD_WEIGHTS])[0]
            measures = self._measure(registry, rng.random() < propensity, age)
            if method == FollowUpMethod.PHONE:
                measures = (
                    {k: v for k, v in measures.items() if k == "fasting_glucose"}
                    if rng.random() < 0.5
                    else {}
                )
            control = rules.control_status(
                thresholds,
                age=age,
                systolic=measures.get("systolic"),
                diastolic=measures.get("diastolic"),
                fasting_glucose=measures.get("fasting_glucose"),
            )
            side_effects = rng.choices(["none", "controlled", "uncontrolled"], [0.9, 0.08, 0.02])[0]
            complications = rng.choices(["none", "stable", "new", "worse"], [0.82, 0.14, 0.02, 0.02])[0]
            result = rules.referral_rule(
                control=control,
                previous_uncontrolled=run,
                side_effects=side_effects,
                complications=complications,
                danger_signs=[],
                systolic=measures.get("systolic"),
                diastolic=measures.get("diastolic"),
            )
            run = rules.next_uncontrolled_run(control, run)
            next_due = rules.default_next_due(day, interval, suggestion=result.suggestion)
            suggested = result.suggestion != Suggestion.NONE
            recent = (self.today - day).days <= 14
            state = SuggestionState.NONE
            if suggested:
                state = SuggestionState.OPEN if recent and rng.random() < 0.35 else SuggestionState.DISMISSED
            kg = weight + Decimal(f"{rng.uniform(-1.5, 1.5):.1f}")
            rows.append(
                FollowUp(
                    public_id=self._uuid(),
                    case_id=case.pk,
                    visited_on=day,
                    method=method,
                    institution_id=case.institution_id,
                    recorded_by_id=doctor,
                    weight_kg=kg if method != FollowUpMethod.PHONE else None,
                    height_cm=height if method != FollowUpMethod.PHONE else None,
                    bmi=rules.bmi(kg, height) if method != FollowUpMethod.PHONE else None,
                    medication=medication,
                    adherence=rng.choices(["regular", "intermittent", "not_taking"], [0.78, 0.18, 0.04])[0],
                    side_effects=side_effects,
                    complications=complications,
                    complications_note="视物模糊，眼底检查待查" if complications in ("new", "worse") else "",
                    lifestyle_advice=rng.choice(ADVICE),
                    control=control,
                    due_on=due,
                    next_due_on=next_due,
                    suggestion=result.suggestion,
                    suggestion_reasons=list(result.reasons),
                    suggestion_state=state,
                    suggestion_note=rng.choice(DISMISS_NOTES) if state == SuggestionState.DISMISSED else "",
                    outcome_check_due_on=day + datetime.timedelta(days=rules.OUTCOME_CHECK_DAYS)
                    if suggested
                    else None,
                    **measures,
                )
            )
            due = next_due
            # Visits happen around the due date (a few days early to three weeks late).
            # Most visits happen in the fortnight before the due date; about one in five is late.
            if rng.random() < 0.2:
                day = next_due + datetime.timedelta(days=rng.randint(1, 21))
            else:
                day = next_due - datetime.timedelta(days=rng.randint(0, 3 if suggested else 14))
            if overdue and day > self.today - datetime.timedelta(days=interval):
                break
        if rows:
            last = rows[-1]
            case.last_follow_up_on = last.visited_on
            case.last_control = last.control
            case.consecutive_uncontrolled = run
            case.follow_up_count = len(rows)
            case.next_due_on = last.next_due_on
        return rows

    def _enrol_live(self, doctor: User, institutions: set[int]) -> ChronicCase | None:
        """Enrol an adult resident of the doctor's institution through the service (small demos)."""
        registry = ChronicRegistry.objects.filter(code="hypertension").first()
        taken = ChronicCase.objects.filter(registry=registry, status=CaseStatus.ACTIVE).values("person_id")
        link = (
            PersonInstitutionLink.objects.filter(
                institution_id__in=institutions,
                institution__category__startswith="C",
                person__birth_date__lte=self.today.replace(year=self.today.year - 40),
            )
            .exclude(person_id__in=taken)
            .select_related("person", "institution")
            .order_by("person_id")
            .first()
        )
        if registry is None or link is None:
            return None
        return chronic.case_enrol(
            actor=doctor,
            person=link.person,
            registry=registry,
            institution=link.institution,
            diagnosis_code="I10.x00",
            diagnosis_name="原发性高血压",
            enrolled_on=self.today - datetime.timedelta(days=120),
        )

    # Live -------------------------------------------------------------------------------------------

    def _live(self) -> None:
        """``township_doctor`` records two uncontrolled follow-ups of one patient and sends the suggested
        referral through the real services (skipped when the account or a case is missing)."""
        doctor = User.objects.filter(username="township_doctor").first()
        if doctor is None:
            return
        from yilian.chronic_care import policies

        institutions = policies.enrolling_institutions(doctor)
        case = (
            ChronicCase.objects.filter(
                institution_id__in=institutions,
                status=CaseStatus.ACTIVE,
                registry__code="hypertension",
                last_follow_up_on__lte=self.today - datetime.timedelta(days=30),
            )
            .select_related("registry", "person", "institution")
            .order_by("pk")
            .first()
        )
        if case is None:
            case = self._enrol_live(doctor, institutions)
        if case is None:
            return
        for days, sbp, dbp in ((21, 168, 98), (0, 172, 102)):
            follow_up = chronic.follow_up_record(
                actor=doctor,
                case=ChronicCase.objects.select_related("registry", "person", "institution").get(pk=case.pk),
                visited_on=self.today - datetime.timedelta(days=days),
                method=FollowUpMethod.CLINIC,
                systolic=sbp,
                diastolic=dbp,
                heart_rate=84,
                weight_kg="72.5",
                height_cm="168",
                medication="氨氯地平片 5mg 每日一次\n厄贝沙坦片 150mg 每日一次",
                adherence="regular",
                symptoms="头晕，偶有头痛",
                lifestyle_advice="低盐饮食，戒烟限酒，每日自测血压并记录。",
            )
        if follow_up.suggestion_state != SuggestionState.OPEN:
            return
        proposal = referral_proposal(follow_up)
        if proposal.department is None:
            return
        chronic.suggestion_refer(
            actor=doctor,
            follow_up=follow_up,
            to_department=proposal.department,
            kind=proposal.kind,
            priority=proposal.priority,
            diagnosis_code=proposal.diagnosis_code,
            diagnosis_name=proposal.diagnosis_name,
            reason=proposal.reason,
            history=proposal.history,
            exam_results=proposal.exam_results,
            medications=proposal.medications,
            patient_consented=True,
            acknowledge_missing=True,
        )
