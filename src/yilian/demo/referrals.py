"""Two-way referral in the demo county: configuration, volumes, a year of referrals, inpatients.

What ``seed-demo`` adds for the referral pages, deterministically from the
seed and relative to today (so the demo stays fresh):

* the county consortium's referral settings, deductible difference
  subsidies and criteria catalogue, entered through the services by the
  consortium office;
* reserved capacity for the next 14 days at the lead hospital's main
  departments, published through the service by the referral coordinator;
* monthly service volumes (the denominators of the rates) of every member
  and of the lead and sub-lead hospitals' clinical departments;
* a year of referrals with their patients, timelines, attachments,
  closed-loop duties and inpatient stays, written in bulk (the timeline of
  each one is played forward from its submission and cut at "now", so its
  status, timestamps and steps always agree);
* current inpatients of the lead hospital, and about twenty open referrals
  made through the real services with the demo's clinician accounts, so the
  audit log and notifications are the real ones.

Settings, subsidies, criteria and capacity are skipped where they already
exist; the activity (patients, referrals, inpatients, volumes) is written
only when the county consortium has no referral yet, so a second run
changes nothing.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.utils import timezone

from yilian.accounts.models import User
from yilian.core.audit import record_event
from yilian.demo import content, generators
from yilian.demo import referral_content as rc
from yilian.demo.pdf import simple_pdf
from yilian.demo.plan import DemoPlan, PersonPlan
from yilian.demo.rows import person_row
from yilian.encounters import services as encounter_services
from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.institutions import services as registry
from yilian.institutions.choices import DepartmentSpecialty as S
from yilian.institutions.choices import (
    DepartmentSubject,
    HospitalClass,
    HospitalGrade,
    InstitutionCategory,
    Ownership,
    ProfitStatus,
)
from yilian.institutions.models import (
    Consortium,
    ConsortiumMember,
    Department,
    GridArea,
    Institution,
    Region,
)
from yilian.people.choices import InsuranceScheme, PersonLinkReason
from yilian.people.identifiers import hash_id_number
from yilian.people.models import Person, PersonInstitutionLink
from yilian.referrals import services as referral_services
from yilian.referrals.choices import (
    ADMITTING_KINDS,
    KIND_CAPACITY,
    SUMMARY_MATERIALS,
    CapacityKind,
    CriterionCategory,
    FollowUpTaskKind,
    Material,
    MissingMaterialAction,
    ReferralDirection,
    ReferralKind,
    ReferralPriority,
    ReferralSide,
    ReferralStatus,
)
from yilian.referrals.models import (
    DeductibleSubsidy,
    FollowUpTask,
    Referral,
    ReferralAttachment,
    ReferralCriterion,
    ReferralEvent,
    ReferralSettings,
    ReservedCapacity,
    default_answer_hours,
)
from yilian.referrals.services import criteria as criteria_check
from yilian.referrals.services._common import derive_direction, shared_consortium

HISTORY_MONTHS = 12
"""Full months of history before the current one."""

RECENT_DAYS = 14
"""Referrals submitted this recently are more often still open."""

CAPACITY_DAYS = 14
"""Days of reserved capacity published ahead, today included."""

PROVINCIAL_HOSPITAL = "安徽省立医院"
"""A tertiary hospital outside every demo consortium, for referrals out of the county."""

LEAD_MAIN_DEPARTMENTS = (
    "心血管内科",
    "神经内科",
    "呼吸内科",
    "内分泌科",
    "普外科",
    "骨科",
    "神经外科",
    "康复医学科",
)
"""Lead-hospital departments that publish reserved capacity."""

EXAM_DEPARTMENTS = ("心血管内科", "神经内科", "呼吸内科", "消化内科")
"""Departments that also reserve exam slots (echo, Holter, EEG, spirometry, endoscopy)."""

B, ST = ReferralStatus, ReferralSide
Log = Callable[[str], None]


# --- small helpers ------------------------------------------------------------------------------


def poisson(random_: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth; the means here stay below 60)."""
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, random_.random()
    while product > limit:
        k += 1
        product *= random_.random()
    return k


def month_starts(today: datetime.date, months: int) -> list[datetime.date]:
    """First days of the ``months`` full months before today's month, and of today's month."""
    first = today.replace(day=1)
    result = [first]
    for _step in range(months):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        result.insert(0, first)
    return result


def next_month(month: datetime.date) -> datetime.date:
    """First day of the following month."""
    return (month + datetime.timedelta(days=32)).replace(day=1)


def local(day: datetime.date, hour: float) -> datetime.datetime:
    """An aware local date-time on ``day`` at a fractional hour."""
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(hours=hour)
    return timezone.make_aware(naive)


def hours(value: float) -> datetime.timedelta:
    """A timedelta of fractional hours."""
    return datetime.timedelta(hours=value)


@contextmanager
def backdated(*fields: models.Field[Any, Any]) -> Iterator[None]:
    """Let bulk_create keep the timestamps we set on auto_now / auto_now_add fields.

    Django's pre_save overwrites them with "now"; a year of history needs its
    own dates. Only for this single-threaded loader: the flags are restored
    on exit.
    """
    saved = [(f, getattr(f, "auto_now", False), getattr(f, "auto_now_add", False)) for f in fields]
    try:
        for f, _now, _add in saved:
            f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add  # type: ignore[attr-defined]


def _timestamp_fields(*model_classes: type[models.Model]) -> list[Any]:
    names = ("created_at", "updated_at", "occurred_at", "since")
    return [
        model._meta.get_field(name)
        for model in model_classes
        for name in names
        if any(f.name == name for f in model._meta.get_fields())
    ]


# --- the data being built ---------------------------------------------------------------------------


@dataclass
class Staff:
    """Who acts at one end: a demo account, or a clinician named on the timeline only."""

    user: User | None
    label: str


@dataclass
class Patient:
    """A resident who is referred or admitted in the demo."""

    plan: PersonPlan
    township: str
    links: set[tuple[int, str]] = field(default_factory=set)
    first_seen: datetime.datetime | None = None
    person: Person | None = None


@dataclass
class Stay:
    """An inpatient stay (Encounter) at a hospital department."""

    patient: Patient
    institution: Institution
    department: Department
    dx: rc.Dx
    started_at: datetime.datetime
    ended_at: datetime.datetime | None = None
    recovery_phase: str = ""
    flagged_by: User | None = None
    flagged_at: datetime.datetime | None = None
    attending: User | None = None
    obj: Encounter | None = None


@dataclass
class Step:
    """One step of a referral's timeline."""

    at: datetime.datetime
    action: str
    from_status: str
    to_status: str
    side: str
    staff: Staff | None
    institution: Institution | None
    note: str = ""
    day: datetime.date | None = None
    note_params: dict[str, Any] = field(default_factory=dict)
    """Values of a system note's placeholders: the note is a msgid read in each reader's language."""


@dataclass
class Task:
    """A closed-loop duty after a down-referral's arrival."""

    kind: str
    due_at: datetime.datetime
    done_at: datetime.datetime | None
    done_by: User | None
    note: str
    notified_at: datetime.datetime | None


@dataclass
class Spec:
    """A referral being built: its content, ends, fate and (after ``play``) its timeline and fields."""

    rng: random.Random
    patient: Patient
    from_inst: Institution
    from_dept: Department | None
    to_inst: Institution
    to_dept: Department
    kind: str
    priority: str
    dx: rc.Dx
    reason: str
    submitted_at: datetime.datetime
    fate: str
    sender: Staff
    receiver: Staff
    arriver: Staff
    recovery_phase: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)
    consortium: Consortium | None = None
    inside: bool = False
    direction: str = ReferralDirection.UP
    steps: list[Step] = field(default_factory=list)
    status: str = B.DRAFT
    created_at: datetime.datetime | None = None
    answer_due_at: datetime.datetime | None = None
    answered_at: datetime.datetime | None = None
    answered_by: User | None = None
    decline_reason: str = ""
    scheduled_for: datetime.date | None = None
    arrived_at: datetime.datetime | None = None
    completed_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    planned_done: datetime.datetime | None = None
    outcome: dict[str, str] = field(default_factory=dict)
    subsidy: Decimal = Decimal("0")
    booking: ReservedCapacity | None = None
    tasks: list[Task] = field(default_factory=list)
    source_stay: Stay | None = None
    """The sender's inpatient stay the referral starts from (``Referral.encounter``)."""
    ward_stay: Stay | None = None
    """The receiver's inpatient stay after an admission or emergency arrival."""
    redirected_from: Spec | None = None
    redirect_to: Department | None = None
    redirect_staff: Staff | None = None
    number: str = ""
    obj: Referral | None = None


# --- the seeder ---------------------------------------------------------------------------------------


class ReferralSeeder:
    """Seeds the referral side of the demo county (see the module docstring)."""

    def __init__(
        self,
        *,
        plan: DemoPlan,
        admin: User,
        institutions: dict[str, Institution],
        consortia: dict[str, Consortium],
        regions: dict[str, Region],
        log: Log,
        months: int = HISTORY_MONTHS,
        now: datetime.datetime | None = None,
    ) -> None:
        self.plan = plan
        self.seed = plan.seed
        self.admin = admin
        self.institutions = institutions
        self.county = consortia["county"]
        self.regions = regions
        self.log = log
        self.months = months
        self.now = now or timezone.now()
        self.today = timezone.localtime(self.now).date()
        self.users: dict[str, User] = {}
        self.departments: dict[int, dict[str, Department]] = {}
        self.volumes: dict[tuple[int, int | None, datetime.date], tuple[int, int, int]] = {}
        self.patients: list[Patient] = []
        self.by_township: dict[str, list[Patient]] = defaultdict(list)
        self.stays: list[Stay] = []
        self.specs: list[Spec] = []
        self.capacity: dict[tuple[int, str, datetime.date], ReservedCapacity] = {}
        self.names: dict[tuple[int, int], list[str]] = {}
        self.pairs: dict[tuple[int, int], tuple[Consortium | None, bool, str]] = {}
        self.rules: dict[tuple[Any, ...], ReferralCriterion | None] = {}
        self.overdue_quota = 4
        self.files: dict[str, tuple[str, int]] = {}

    # Entry point -----------------------------------------------------------------------------------

    def run(self) -> None:
        """Configure, publish capacity, then (once) write the year of activity."""
        self._load_users()
        self.lead = self.institutions["county_hospital"]
        self.sub_lead = self.institutions["county_tcm"]
        office = self.users.get("office") or self.admin
        started = time.perf_counter()
        self._settings(office)
        self._criteria(office)
        self._capacity()
        self.log(f"  (configuration and capacity: {time.perf_counter() - started:.1f} s)")
        if self.months <= 0:
            return
        if Referral.objects.filter(consortium=self.county).exists():
            self.log("转诊演示数据已存在，跳过 / referral activity already seeded, skipped")
            return
        self.provincial = self._provincial_hospital()
        self._load_places()
        for phase in (
            self._volumes,
            self._history,
            self._write,
            self._standalone_inpatients,
            self._live_referrals,
        ):
            started = time.perf_counter()
            phase()
            self.log(f"  ({phase.__name__}: {time.perf_counter() - started:.1f} s)")

    # Accounts ----------------------------------------------------------------------------------------

    def _load_users(self) -> None:
        usernames = [account.username for account in self.plan.accounts]
        self.users = {user.username: user for user in User.objects.filter(username__in=usernames)}
        self.account_institution = {
            account.username: self.institutions[account.institution]
            for account in self.plan.accounts
            if account.institution and account.institution in self.institutions
        }
        self.account_department = {account.username: account.department for account in self.plan.accounts}

    def _user(self, username: str) -> User | None:
        return self.users.get(username)

    # Configuration -----------------------------------------------------------------------------------

    def _settings(self, office: User) -> None:
        if not ReferralSettings.objects.filter(consortium=self.county).exists():
            referral_services.referral_settings_update(
                actor=office,
                consortium=self.county,
                answer_hours=default_answer_hours(),
                arrival_grace_days=1,
                follow_up_hours=48,
                rehabilitation_days=7,
                grade_bounds=rc.GRADE_BOUNDS,
            )
        have = set(
            DeductibleSubsidy.objects.filter(consortium=self.county).values_list(
                "insurance_scheme", flat=True
            )
        )
        for scheme, amount in rc.SUBSIDIES.items():
            if scheme not in have:
                referral_services.subsidy_set(
                    actor=office, consortium=self.county, insurance_scheme=scheme, amount=amount
                )

    def _criteria(self, office: User) -> None:
        """The shipped hypertension scheme (its emergency threshold set to the county's 85 %), then the
        county's own rules for stroke, coronary syndromes, diabetes, COPD and femoral fractures."""
        loaded = referral_services.criteria_load_scheme(
            actor=office, consortium=self.county, scheme="hypertension"
        )
        for rule in loaded:
            if (
                rule.category == CriterionCategory.MUST_UP
                and rule.completeness_threshold != rc.HYPERTENSION_THRESHOLD
            ):
                referral_services.criterion_update(
                    actor=office, criterion=rule, completeness_threshold=rc.HYPERTENSION_THRESHOLD
                )
        have = set(ReferralCriterion.objects.filter(consortium=self.county).values_list("name", flat=True))
        created = len(loaded)
        for rule in rc.CRITERIA:
            if rule.name in have:
                continue
            referral_services.criterion_create(
                actor=office,
                consortium=self.county,
                name=rule.name,
                category=rule.category,
                icd_from=rule.icd_from,
                icd_to=rule.icd_to,
                triggers=list(rule.triggers),
                required_materials=[str(m) for m in rule.required_materials],
                completeness_threshold=rule.completeness_threshold,
                missing_action=rule.missing_action,
                min_stay_days=rule.min_stay_days,
                source=rule.source,
            )
            created += 1
        self.log(f"转诊标准 referral criteria: {created} created")

    def _departments_of(self, institution: Institution) -> dict[str, Department]:
        if institution.pk not in self.departments:
            self.departments[institution.pk] = {
                d.name: d for d in Department.objects.filter(institution=institution, is_active=True)
            }
        return self.departments[institution.pk]

    def _capacity(self) -> None:
        """Outpatient slots, beds and exam slots for the next days, some of them partly booked later."""
        publisher = self._user("coordinator") or self._user("hospital_admin") or self.admin
        departments = self._departments_of(self.institutions["county_hospital"])
        days = [self.today + datetime.timedelta(days=offset) for offset in range(CAPACITY_DAYS)]
        existing = {
            (row.department_id, row.kind, row.date): row
            for row in ReservedCapacity.objects.filter(
                department__in=departments.values(), date__gte=self.today
            )
        }
        random_ = generators.rng(self.seed, "capacity")
        published = 0
        for name in LEAD_MAIN_DEPARTMENTS:
            department = departments.get(name)
            if department is None:
                continue
            kinds = [CapacityKind.OUTPATIENT_SLOT, CapacityKind.BED]
            if name in EXAM_DEPARTMENTS:
                kinds.append(CapacityKind.EXAM_SLOT)
            for day in days:
                weekend = day.weekday() >= 5
                for kind in kinds:
                    key = (department.pk, kind, day)
                    if key in existing:
                        self.capacity[key] = existing[key]
                        continue
                    quantity = {
                        CapacityKind.OUTPATIENT_SLOT: random_.randint(2, 4)
                        if weekend
                        else random_.randint(5, 10),
                        CapacityKind.BED: random_.randint(1, 2) if weekend else random_.randint(2, 4),
                        CapacityKind.EXAM_SLOT: 0 if weekend else random_.randint(2, 5),
                    }[kind]
                    if quantity == 0:
                        continue
                    self.capacity[key] = referral_services.capacity_publish(
                        actor=publisher, department=department, kind=kind, date=day, quantity=quantity
                    )
                    published += 1
        self.log(f"预留号源 reserved capacity: {published} published")

    # The hospital outside the consortium ---------------------------------------------------------------

    def _provincial_hospital(self) -> Institution:
        existing = Institution.objects.filter(name=PROVINCIAL_HOSPITAL).first()
        if existing is None:
            code = generators.credit_code(
                generators.rng(self.seed, "credit", "provincial_hospital"), "340100"
            )
            existing = registry.institution_create(
                actor=self.admin,
                name=PROVINCIAL_HOSPITAL,
                short_name="省立医院",
                credit_code=code,
                category=InstitutionCategory.GENERAL_HOSPITAL,
                grade=HospitalGrade.TERTIARY,
                grade_class=HospitalClass.A,
                ownership=Ownership.PUBLIC,
                profit_status=ProfitStatus.NON_PROFIT,
                region=self.regions[content.PROVINCE_CODE],
                address="安徽省合肥市庐阳区庐江路17号",
                phone="0551-62283114",
                beds=4800,
                description="省级三级甲等综合医院，不属于任何演示医联体；县域疑难危重患者的上转去向。",
            )
        have = set(existing.departments.values_list("name", flat=True))
        for number, (name, specialty, subject) in enumerate(
            (
                ("心血管内科", S.INTERNAL_MEDICINE, DepartmentSubject.CARDIOLOGY),
                ("神经外科", S.SURGERY, DepartmentSubject.NEUROSURGERY),
                ("肿瘤科", S.ONCOLOGY, ""),
            ),
            start=1,
        ):
            if name not in have:
                registry.department_create(
                    actor=self.admin,
                    institution=existing,
                    name=name,
                    code=f"{specialty}{number:02d}",
                    specialty=specialty,
                    subject=subject,
                    beds=120,
                )
        self.departments.pop(existing.pk, None)
        return existing

    # Places --------------------------------------------------------------------------------------------

    def _load_places(self) -> None:
        self.villages: dict[str, list[Region]] = defaultdict(list)
        for region in Region.objects.filter(level="village", code__startswith=content.COUNTY_CODE).order_by(
            "code"
        ):
            self.villages[region.code[:9]].append(region)
        self.townships = {t.code: t for t in content.TOWNSHIPS}
        self.township_codes = list(self.villages)
        self.township_weights = [
            sum(v.population or 1000 for v in self.villages[c]) for c in self.township_codes
        ]
        self.grid_of = dict(
            GridArea.objects.filter(area__code__startswith=content.COUNTY_CODE).values_list(
                "area__code", "grid_id"
            )
        )
        members = list(
            ConsortiumMember.objects.filter(consortium=self.county, is_active=True).select_related(
                "institution__region"
            )
        )
        self.members = [m.institution for m in members]
        self.centres: dict[str, Institution] = {}
        for code, key in self.plan.township_centres.items():
            if key in self.institutions:
                self.centres[code] = self.institutions[key]
        self.taken_hashes = set(Person.objects.values_list("id_number_hash", flat=True))
        self.mabu = self.account_institution.get("township_doctor")
        self.village = self.account_institution.get("village_doctor")

    # Volumes --------------------------------------------------------------------------------------------

    def _institution_base(self, institution: Institution, random_: random.Random) -> tuple[float, float]:
        """Average monthly (outpatient visits, admissions) of an institution."""
        category = institution.category
        if institution.pk == self.lead.pk:
            return random_.uniform(28_000, 32_000), 0.0
        if institution.pk == self.sub_lead.pk:
            return random_.uniform(8_500, 10_000), 0.0
        if category == InstitutionCategory.CENTRAL_TOWNSHIP_HEALTH_CENTRE:
            return random_.uniform(2_500, 4_000), institution.beds * random_.uniform(1.8, 2.4)
        if category == InstitutionCategory.TOWNSHIP_HEALTH_CENTRE:
            return random_.uniform(1_500, 2_800), institution.beds * random_.uniform(1.4, 2.0)
        if category == InstitutionCategory.VILLAGE_CLINIC:
            return random_.uniform(200, 600), 0.0
        if category == InstitutionCategory.CDC:
            return random_.uniform(300, 500), 0.0
        return random_.uniform(5_000, 7_000), institution.beds * random_.uniform(1.8, 2.4)

    def _volumes(self) -> None:
        """Monthly volumes of every member and of the lead and sub-lead hospitals' clinical departments."""
        months = month_starts(self.today, self.months)
        this_month = months[-1]
        length = local(next_month(this_month), 0) - local(this_month, 0)
        # The current month so far, counting today as a whole day (visits are reported by day).
        elapsed = max((self.now - local(this_month, 0)) / length, datetime.timedelta(days=1) / length)
        table: dict[tuple[int, int | None, datetime.date], tuple[int, int, int]] = {}
        for institution in self.members:
            random_ = generators.rng(self.seed, "volume", institution.credit_code)
            visits, admissions = self._institution_base(institution, random_)
            departments = []
            if institution.pk in (self.lead.pk, self.sub_lead.pk):
                departments = sorted(
                    (d for d in self._departments_of(institution).values() if d.is_clinical and d.beds > 0),
                    key=lambda d: d.name,
                )
            total_beds = sum(d.beds for d in departments) or 1
            for month in months:
                share = elapsed if month == this_month else 1.0
                factor = rc.month_factor(month.month) * share
                month_visits = round(visits * factor * random_.uniform(0.94, 1.06))
                month_admissions = round(admissions * factor * random_.uniform(0.9, 1.1))
                month_discharges = round(month_admissions * random_.uniform(0.95, 1.02))
                if departments:
                    month_admissions = month_discharges = 0
                    for department in departments:
                        per_bed = rc.DISCHARGES_PER_BED * rc.LONG_STAY_DEPARTMENTS.get(
                            department.name, rc.SHORT_STAY_DEPARTMENTS.get(department.name, 1.0)
                        )
                        if institution.is_tcm:
                            per_bed *= 0.55  # longer stays in a TCM hospital
                        noise = generators.rng(
                            self.seed, "volume", institution.credit_code, department.name, month
                        )
                        discharges = round(department.beds * per_bed * factor * noise.uniform(0.88, 1.12))
                        dept_admissions = round(discharges * noise.uniform(0.97, 1.04))
                        dept_visits = round(
                            month_visits * department.beds / total_beds * noise.uniform(0.6, 1.0)
                        )
                        table[(institution.pk, department.pk, month)] = (
                            dept_visits,
                            dept_admissions,
                            discharges,
                        )
                        month_admissions += dept_admissions
                        month_discharges += discharges
                table[(institution.pk, None, month)] = (month_visits, month_admissions, month_discharges)
        self.volumes = table
        existing = set(
            ServiceVolume.objects.filter(institution__in=self.members, month__gte=months[0]).values_list(
                "institution_id", "department_id", "month"
            )
        )
        rows = [
            ServiceVolume(
                institution_id=institution_id,
                department_id=department_id,
                month=month,
                outpatient_visits=visits,
                admissions=admissions,
                discharges=discharges,
            )
            for (institution_id, department_id, month), (visits, admissions, discharges) in table.items()
            if (institution_id, department_id, month) not in existing
        ]
        ServiceVolume.objects.bulk_create(rows, batch_size=500)
        if rows:
            record_event(
                actor=self.admin,
                action="service_volume.bulk_create",
                obj=self.county,
                details={"count": len(rows), "source": "seed-demo", "seed": self.seed},
                consortium_public_id=self.county.public_id,
            )
        self.log(f"月度服务量 service volumes: {len(rows)} created")

    # Patients -------------------------------------------------------------------------------------------

    def _patient(
        self,
        random_: random.Random,
        township: str,
        *,
        village: Region | None = None,
        group: str = "",
        reuse: float = 0.0,
    ) -> Patient:
        """A resident of the township (or village) to refer: sometimes one already referred before."""
        known = self.by_township.get(township, [])
        if known and reuse and random_.random() < reuse:
            candidates = [p for p in known if village is None or p.plan.village_code == village.code]
            if candidates:
                return random_.choice(candidates)
        if village is None:
            villages = self.villages[township]
            village = random_.choices(villages, weights=[v.population or 1000 for v in villages])[0]
        gender = "2" if group == "gyn" else random_.choice("12")
        age = random_.randint(1, 13) if group == "peds" else int(random_.triangular(35, 92, 70))
        born = datetime.date(content.REFERENCE_DATE.year - age, 1, 1) + datetime.timedelta(
            days=random_.randrange(365)
        )
        while True:
            number = generators.resident_id(random_, born, gender)
            digest = hash_id_number(number)
            if digest not in self.taken_hashes:
                self.taken_hashes.add(digest)
                break
        roll = random_.random()
        if roll < 0.13:
            scheme = InsuranceScheme.EMPLOYEE
        elif roll < 0.15:
            scheme = InsuranceScheme.NONE
        else:
            scheme = InsuranceScheme.RESIDENT
        township_name = self.townships[township].name
        phone = generators.landline(random_) if age >= 80 and random_.random() < 0.3 else None
        patient = Patient(
            plan=PersonPlan(
                name=generators.person_name(random_, gender, born),
                id_number=number,
                gender=gender,
                birth_date=born,
                phone=phone or generators.mobile_phone(random_),
                address=(
                    f"安徽省六安市金寨县{township_name}{village.name}"
                    f"{generators.group_address(random_)}{random_.randint(1, 60)}号"
                ),
                village_code=village.code,
                township_code=township,
                insurance_scheme=scheme,
            ),
            township=township,
        )
        centre = self.centres.get(township)
        if centre is not None:
            patient.links.add((centre.pk, PersonLinkReason.REGISTERED))
        self.patients.append(patient)
        self.by_township[township].append(patient)
        return patient

    def _seen(self, patient: Patient, at: datetime.datetime, *links: tuple[Institution, str]) -> None:
        if patient.first_seen is None or at < patient.first_seen:
            patient.first_seen = at
        for institution, reason in links:
            patient.links.add((institution.pk, reason))

    # Staff ----------------------------------------------------------------------------------------------

    def _named(
        self, institution: Institution, department: Department | None, random_: random.Random
    ) -> Staff:
        key = (institution.pk, department.pk if department else 0)
        if key not in self.names:
            names_rng = generators.rng(
                self.seed, "staff", institution.credit_code, department.name if department else ""
            )
            self.names[key] = [
                generators.person_name(
                    names_rng,
                    names_rng.choice("12"),
                    datetime.date(names_rng.randint(1968, 1992), 6, 1),
                )
                for _index in range(3)
            ]
        return Staff(None, random_.choice(self.names[key]))

    def _staff(
        self, institution: Institution, department: Department | None, random_: random.Random, *, role: str
    ) -> Staff:
        """A demo account where one fits the institution and department, else a named clinician."""
        for username in ("doctor", "township_doctor", "village_doctor", "city_doctor"):
            user = self._user(username)
            if user is None or self.account_institution.get(username) != institution:
                continue
            wanted = self.account_department.get(username, "")
            if wanted and (department is None or department.name != wanted):
                continue  # the account works in another department
            if role == "arrive" and username == "doctor" and self._user("nurse") and random_.random() < 0.6:
                user = self.users["nurse"]
            return Staff(user, user.full_name)
        if institution.pk == self.lead.pk and self._user("coordinator"):
            share = {"receive": 0.55, "arrive": 0.3, "send": 0.12}.get(role, 0.0)
            if random_.random() < share:
                return Staff(self.users["coordinator"], self.users["coordinator"].full_name)
        return self._named(institution, department, random_)

    # Referral ends ----------------------------------------------------------------------------------------

    def _ends(self, from_inst: Institution, to_inst: Institution) -> tuple[Consortium | None, bool, str]:
        """(consortium, inside, direction) as the service derives them (memoised per pair)."""
        key = (from_inst.pk, to_inst.pk)
        if key not in self.pairs:
            consortium, roles = shared_consortium(from_inst, to_inst)
            self.pairs[key] = (consortium, len(roles) == 2, derive_direction(from_inst, to_inst, roles))
        return self.pairs[key]

    def _dept(self, institution: Institution, *names: str) -> Department | None:
        departments = self._departments_of(institution)
        for name in names:
            if name in departments:
                return departments[name]
        return None

    def _primary_dept(
        self, centre: Institution, dx: rc.Dx, random_: random.Random, *, receiving: bool
    ) -> Department:
        """The department of a township centre that sends or receives this patient."""
        if receiving and dx.group in ("stroke", "femur", "ortho", "neurosurgery", "icu"):
            found = self._dept(centre, "康复医学科", "全科医疗科")
        elif dx.group in ("surgery", "femur", "ortho", "uro") and random_.random() < 0.7:
            found = self._dept(centre, "外科", "全科医疗科")
        elif random_.random() < 0.4:
            found = self._dept(centre, "内科", "全科医疗科")
        else:
            found = self._dept(centre, "全科医疗科")
        assert found is not None, centre.name
        return found

    # The year of referrals -------------------------------------------------------------------------------

    def _history(self) -> None:
        months = month_starts(self.today, self.months)
        start = local(months[0], 0)
        random_ = generators.rng(self.seed, "referrals", "propensity")
        propensity: dict[int, float] = {}
        for institution in self.members:
            if institution.category == InstitutionCategory.VILLAGE_CLINIC:
                active = random_.random() < 0.45
                propensity[institution.pk] = (
                    math.exp(random_.uniform(math.log(0.03), math.log(0.15))) if active else 0.0
                )
            elif institution.category in (
                InstitutionCategory.CENTRAL_TOWNSHIP_HEALTH_CENTRE,
                InstitutionCategory.TOWNSHIP_HEALTH_CENTRE,
            ):
                propensity[institution.pk] = math.exp(random_.uniform(math.log(0.03), math.log(0.3)))
        for month in months:
            end = min(local(next_month(month), 0), self.now - hours(0.2))
            begin = max(local(month, 0), start)
            for institution in self.members:
                p = propensity.get(institution.pk)
                if not p:
                    continue
                visits, admissions, _discharges = self.volumes.get((institution.pk, None, month), (0, 0, 0))
                monthly = generators.rng(self.seed, "up", institution.credit_code, month)
                for _index in range(poisson(monthly, (visits + admissions) * p / 100)):
                    at = self._moment(monthly, begin, end)
                    if institution.category == InstitutionCategory.VILLAGE_CLINIC:
                        self._up_from_village(monthly, institution, at)
                    else:
                        self._up_from_centre(monthly, institution, at)
            self._other_flows(month, begin, end)
        self._downs(months, start)
        self.log(f"转诊单 referrals planned: {len(self.specs)}")

    def _moment(
        self, random_: random.Random, begin: datetime.datetime, end: datetime.datetime
    ) -> datetime.datetime:
        """A submission time between two moments, mostly in working hours."""
        span = (end - begin).total_seconds()
        at = begin + datetime.timedelta(seconds=random_.uniform(0, max(span, 1)))
        if random_.random() < 0.85:
            day = timezone.localtime(at).date()
            working = local(day, random_.uniform(8, 17.5))
            if begin <= working <= end:
                at = working
        return at

    def _up_from_village(self, random_: random.Random, clinic: Institution, at: datetime.datetime) -> None:
        village = clinic.region
        township = clinic.region.code[:9]
        centre = self.centres.get(township)
        if centre is None:
            return
        department = rc.pick(random_, rc.UP_DEPARTMENT_WEIGHTS)
        dx = rc.pick(random_, rc.UP_DIAGNOSES[department])
        group = "peds" if department == "儿科" else dx.group
        patient = self._patient(random_, township, village=village, group=group, reuse=0.15)
        kind = rc.pick(
            random_, ((ReferralKind.OUTPATIENT, 70), (ReferralKind.ADMISSION, 20), (ReferralKind.EXAM, 10))
        )
        to_dept = self._primary_dept(centre, dx, random_, receiving=False)
        self._add(
            random_,
            patient,
            clinic,
            None,
            to_dept,
            kind,
            dx,
            at,
            sender=self._staff(clinic, None, random_, role="send"),
        )

    def _up_from_centre(self, random_: random.Random, centre: Institution, at: datetime.datetime) -> None:
        township = centre.region.code[:9]
        if township not in self.villages:
            return
        department = rc.pick(random_, rc.UP_DEPARTMENT_WEIGHTS)
        dx = rc.pick(random_, rc.UP_DIAGNOSES[department])
        patient = self._patient(
            random_, township, group="peds" if department == "儿科" else dx.group, reuse=0.12
        )
        urgent_group = dx.group in ("acs", "stroke", "neurosurgery", "femur", "icu")
        if urgent_group and random_.random() < 0.45:
            kind = ReferralKind.EMERGENCY
        else:
            kind = rc.pick(
                random_,
                ((ReferralKind.OUTPATIENT, 45), (ReferralKind.ADMISSION, 38), (ReferralKind.EXAM, 12)),
            )
        under_tcm = self.townships[township].under_tcm
        roll = random_.random()
        target: Department | None = None
        if roll < 0.04 and dx.group in ("acs", "heart"):
            target = self._dept(self.institutions["city_hospital"], "心血管内科")
        elif roll < 0.03 and dx.group == "cancer":
            target = self._dept(self.provincial, "肿瘤科")
        elif under_tcm and department in rc.TCM_COUNTERPART and random_.random() < 0.6:
            target = self._dept(self.sub_lead, rc.TCM_COUNTERPART[department])
        if target is None:
            if kind == ReferralKind.EMERGENCY and random_.random() < 0.3:
                department = "急诊科"
            target = self._dept(self.lead, department)
        if target is None:
            return
        from_dept = self._primary_dept(centre, dx, random_, receiving=False)
        self._add(
            random_,
            patient,
            centre,
            from_dept,
            target,
            kind,
            dx,
            at,
            sender=self._staff(centre, from_dept, random_, role="send"),
        )

    def _other_flows(self, month: datetime.date, begin: datetime.datetime, end: datetime.datetime) -> None:
        """Sub-lead and maternal-child hospital up to the lead; lead out to the city and province; lateral."""
        random_ = generators.rng(self.seed, "other", month)
        share = (end - begin) / (local(next_month(month), 0) - local(month, 0))
        city = self.institutions["city_hospital"]
        mch = self.institutions.get("county_mch")
        flows: list[tuple[float, Callable[[datetime.datetime], None]]] = [
            (4.0, lambda at: self._hospital_up(random_, self.sub_lead, self.lead, at)),
            (3.0, lambda at: self._hospital_up(random_, self.lead, city, at)),
            (2.5, lambda at: self._hospital_up(random_, self.lead, self.provincial, at)),
        ]
        if mch is not None:
            flows.append((1.5, lambda at: self._hospital_up(random_, mch, self.lead, at)))
        ordinary = [c for code, c in sorted(self.centres.items()) if not self.townships[code].central]
        central = [c for code, c in sorted(self.centres.items()) if self.townships[code].central]
        if ordinary and central:
            flows.append((0.3 * len(ordinary), lambda at: self._lateral(random_, ordinary, central, at)))
        for mean, flow in flows:
            for _index in range(poisson(random_, mean * share)):
                flow(self._moment(random_, begin, end))

    def _hospital_up(
        self, random_: random.Random, source: Institution, target: Institution, at: datetime.datetime
    ) -> None:
        """An up-referral between hospitals: sub-lead or maternal-child → lead, lead → city or province."""
        if target == self.provincial:
            options = (
                ("神经外科", rc.MENINGIOMA, 3),
                ("肿瘤科", rc.LUNG_CA, 4),
                ("肿瘤科", rc.GASTRIC_CA, 3),
                ("心血管内科", rc.HF, 2),
            )
        elif target.pk != self.lead.pk:
            options = (
                ("心血管内科", rc.AMI, 3),
                ("心血管内科", rc.UA, 3),
                ("心血管内科", rc.AF, 2),
                ("心血管内科", rc.HF, 2),
            )
        elif source.is_tcm:
            options = (
                ("神经外科", rc.ICH, 3),
                ("心血管内科", rc.AMI, 3),
                ("普外科", rc.APPENDICITIS, 3),
                ("骨科", rc.FEMUR_NECK, 3),
                ("呼吸内科", rc.AECOPD, 2),
            )
        else:
            options = (("儿科", rc.PNEUMONIA, 4), ("妇产科", rc.FIBROID, 2), ("普外科", rc.APPENDICITIS, 1))
        name, dx, _w = random_.choices(options, weights=[o[2] for o in options])[0]
        to_dept = self._dept(target, name)
        if to_dept is None:
            return
        source_names = {
            "心血管内科": ("心血管内科", "心病科"),
            "神经外科": ("神经外科", "脑病科", "急诊科"),
            "肿瘤科": ("呼吸内科", "消化内科", "普外科", "中医内科"),
            "普外科": ("外科", "急诊科"),
            "骨科": ("中医骨伤科",),
            "呼吸内科": ("中医内科",),
            "儿科": ("儿科",),
            "妇产科": ("妇产科",),
        }[name]
        from_dept = self._dept(source, *source_names)
        township = random_.choices(self.township_codes, weights=self.township_weights)[0]
        patient = self._patient(random_, township, group="peds" if name == "儿科" else dx.group)
        kind = (
            ReferralKind.EMERGENCY
            if dx.group == "acs" and random_.random() < 0.6
            else rc.pick(random_, ((ReferralKind.ADMISSION, 60), (ReferralKind.OUTPATIENT, 40)))
        )
        stay = None
        admitted = at - datetime.timedelta(days=random_.uniform(1, 6))
        self._seen(patient, admitted, (source, PersonLinkReason.TREATED))
        if from_dept is not None and source.pk in (self.lead.pk, self.sub_lead.pk):
            # The patient is an inpatient of the sending hospital.
            stay = Stay(patient, source, from_dept, dx, admitted)
            self.stays.append(stay)
        spec = self._add(
            random_,
            patient,
            source,
            from_dept,
            to_dept,
            kind,
            dx,
            at,
            sender=self._staff(source, from_dept, random_, role="send"),
        )
        if stay is not None and spec is not None:
            stay.ended_at = spec.arrived_at or spec.ended_at or spec.completed_at
            if stay.ended_at is None and spec.status not in (
                B.SUBMITTED,
                B.ACCEPTED,
                B.SCHEDULED,
                B.CANCEL_REQUESTED,
            ):
                stay.ended_at = min(at + hours(random_.uniform(2, 30)), self.now)
            spec.source_stay = stay

    def _lateral(
        self,
        random_: random.Random,
        ordinary: list[Institution],
        central: list[Institution],
        at: datetime.datetime,
    ) -> None:
        source = random_.choice(ordinary)
        grid = self.townships[source.region.code[:9]].grid
        nearby = [c for c in central if self.townships[c.region.code[:9]].grid == grid] or central
        target = random_.choice(nearby)
        dx = rc.pick(
            random_, ((rc.GASTRITIS, 3), (rc.DISC, 3), (rc.PNEUMONIA, 2), (rc.KNEE_OA, 2), (rc.T2DM, 2))
        )
        patient = self._patient(random_, source.region.code[:9], group=dx.group)
        kind = rc.pick(random_, ((ReferralKind.EXAM, 60), (ReferralKind.OUTPATIENT, 40)))
        from_dept = self._dept(source, "全科医疗科")
        to_dept = self._dept(target, "内科", "全科医疗科")
        if to_dept is None:
            return
        self._add(
            random_,
            patient,
            source,
            from_dept,
            to_dept,
            kind,
            dx,
            at,
            sender=self._staff(source, from_dept, random_, role="send"),
            reason=random_.choice(rc.LATERAL_REASONS),
        )

    def _downs(self, months: list[datetime.date], start: datetime.datetime) -> None:
        """Down-referrals per lead / sub-lead department and month: after an up-referred stay, or direct."""
        follow_ups: Counter[tuple[int, datetime.date]] = Counter()
        for spec in list(self.specs):
            if spec.direction != ReferralDirection.UP or spec.to_inst.pk not in (
                self.lead.pk,
                self.sub_lead.pk,
            ):
                continue
            if spec.arrived_at is None or spec.kind not in (ReferralKind.ADMISSION, ReferralKind.EMERGENCY):
                continue
            random_ = spec.rng
            chance = {"stroke": 0.45, "femur": 0.5, "copd": 0.3, "htn": 0.25, "dm": 0.25, "heart": 0.2}.get(
                spec.dx.group, 0.08
            )
            if spec.to_dept.name == "急诊科" or random_.random() >= chance or spec.planned_done is None:
                continue
            at = spec.planned_done - hours(random_.uniform(20, 44))
            if at >= self.now - hours(0.2) or at <= spec.arrived_at:
                continue
            down = self._down(
                random_, spec.to_inst, spec.to_dept, spec.patient, spec.dx, at, stay=spec.ward_stay
            )
            if down is not None:
                follow_ups[(spec.to_dept.pk, self._month_of(at))] += 1
        random_ = generators.rng(self.seed, "downs", "rates")
        rates: dict[int, float] = {}
        for institution in (self.lead, self.sub_lead):
            for department in sorted(self._departments_of(institution).values(), key=lambda d: d.name):
                low, high = rc.DOWN_RATE_PERCENT.get(department.name, (0.0, 0.0))
                rates[department.pk] = random_.uniform(low, high)
        for month in months:
            end = min(local(next_month(month), 0), self.now - hours(0.2))
            begin = max(local(month, 0), start)
            for institution in (self.lead, self.sub_lead):
                for department in sorted(self._departments_of(institution).values(), key=lambda d: d.name):
                    rate = rates.get(department.pk, 0.0)
                    discharges = self.volumes.get((institution.pk, department.pk, month), (0, 0, 0))[2]
                    if not rate or not discharges:
                        continue
                    monthly = generators.rng(
                        self.seed, "down", institution.credit_code, department.name, month
                    )
                    wanted = poisson(monthly, discharges * rate / 100) - follow_ups[(department.pk, month)]
                    for _index in range(max(wanted, 0)):
                        self._direct_down(monthly, institution, department, self._moment(monthly, begin, end))

    def _month_of(self, at: datetime.datetime) -> datetime.date:
        return timezone.localtime(at).date().replace(day=1)

    def _direct_down(
        self, random_: random.Random, institution: Institution, department: Department, at: datetime.datetime
    ) -> None:
        """A patient admitted directly to a hospital department, sent down to their home township."""
        diagnoses = rc.DOWN_DIAGNOSES.get(department.name)
        if not diagnoses:
            return
        dx = rc.pick(random_, diagnoses)
        townships, weights = self.township_codes, self.township_weights
        if institution.is_tcm:
            weights = [
                w * (4 if self.townships[code].under_tcm else 1)
                for w, code in zip(weights, townships, strict=True)
            ]
        township = random_.choices(townships, weights=weights)[0]
        patient = self._patient(
            random_, township, group="peds" if department.name == "儿科" else dx.group, reuse=0.1
        )
        rule_days = {"stroke": 10, "femur": 7, "copd": 7, "dm": 7, "htn": 5}.get(dx.group, 4)
        admitted = at - datetime.timedelta(days=rule_days + random_.uniform(0, 7))
        stay = Stay(patient, institution, department, dx, admitted)
        if department.name == "心血管内科" and institution.pk == self.lead.pk:
            stay.attending = self._user("doctor")
        self._seen(patient, admitted, (institution, PersonLinkReason.TREATED))
        self.stays.append(stay)
        self._down(random_, institution, department, patient, dx, at, stay=stay)

    def _down(
        self,
        random_: random.Random,
        institution: Institution,
        department: Department,
        patient: Patient,
        dx: rc.Dx,
        at: datetime.datetime,
        *,
        stay: Stay | None,
    ) -> Spec | None:
        """A down-referral of an inpatient to their home township centre (sometimes the sub-lead's rehab)."""
        phase = rc.recovery_phase_for(dx, department.name)
        target: Department | None = None
        if institution.pk == self.lead.pk and random_.random() < 0.08:
            target = self._dept(self.sub_lead, "康复医学科" if dx.group != "ortho" else "针灸推拿科")
        if target is None:
            centre = self.centres.get(patient.township)
            if centre is None:
                return None
            target = self._primary_dept(centre, dx, random_, receiving=True)
        rehab = target.name in ("康复医学科", "针灸推拿科")
        kind = ReferralKind.ADMISSION if (rehab and random_.random() < 0.6) else ReferralKind.OUTPATIENT
        if stay is not None:
            stay.recovery_phase = phase
            stay.flagged_at = at - hours(random_.uniform(2, 30))
            if institution.pk == self.lead.pk:
                stay.flagged_by = self._user("doctor")  # the demo's lead-hospital doctor
        spec = self._add(
            random_,
            patient,
            institution,
            department,
            target,
            kind,
            dx,
            at,
            sender=self._staff(institution, department, random_, role="send"),
            reason=rc.down_reason(dx, phase),
            recovery_phase=phase,
        )
        if spec is not None and stay is not None:
            spec.source_stay = stay
            if spec.arrived_at is not None:
                stay.ended_at = spec.arrived_at
            elif spec.status in (B.SUBMITTED, B.ACCEPTED, B.SCHEDULED, B.CANCEL_REQUESTED):
                stay.ended_at = None
            else:
                end = (spec.ended_at or at) + hours(random_.uniform(4, 48))
                stay.ended_at = end if end <= self.now else None
        return spec

    # One referral ------------------------------------------------------------------------------------------

    def _add(
        self,
        random_: random.Random,
        patient: Patient,
        from_inst: Institution,
        from_dept: Department | None,
        to_dept: Department,
        kind: str,
        dx: rc.Dx,
        at: datetime.datetime,
        *,
        sender: Staff,
        reason: str = "",
        recovery_phase: str = "",
        redirected_from: Spec | None = None,
    ) -> Spec | None:
        """Plan one referral, play its timeline to now, and (for a redirect) its successor."""
        to_inst = to_dept.institution
        if from_inst.pk == to_inst.pk and from_dept == to_dept:
            return None
        consortium, inside, direction = self._ends(from_inst, to_inst)
        down = direction == ReferralDirection.DOWN
        if down and kind == ReferralKind.EMERGENCY:
            # The green channel (急诊, 急危重) takes patients up; a patient going down is stable.
            kind = ReferralKind.ADMISSION
        if kind == ReferralKind.EMERGENCY:
            priority = ReferralPriority.EMERGENCY
        else:
            priority = (
                ReferralPriority.URGENT
                if random_.random() < (0.08 if down else 0.2)
                else ReferralPriority.ROUTINE
            )
        rng = random.Random(random_.random())
        spec = Spec(
            rng=rng,
            patient=patient,
            from_inst=from_inst,
            from_dept=from_dept,
            to_inst=to_inst,
            to_dept=to_dept,
            kind=kind,
            priority=priority,
            dx=dx,
            reason=(reason or rc.up_reason(dx, kind))[:100],
            submitted_at=at,
            fate="",
            sender=sender,
            receiver=self._staff(to_inst, to_dept, rng, role="receive"),
            arriver=self._staff(to_inst, to_dept, rng, role="arrive"),
            recovery_phase=recovery_phase,
            consortium=consortium,
            inside=inside,
            direction=direction,
            redirected_from=redirected_from,
        )
        spec.fate = self._fate(spec)
        if redirected_from is None:
            self._content(spec)
            self._complete_for_blocking_rule(spec)
        else:
            # A redirect copies the content, the attachments and the criteria check (as the service does).
            spec.texts, spec.attachments = redirected_from.texts, redirected_from.attachments
        self._play(spec)
        self.specs.append(spec)
        self._seen(patient, at, (to_inst, PersonLinkReason.REFERRAL))
        if from_inst.category == InstitutionCategory.VILLAGE_CLINIC:
            self._seen(patient, at, (from_inst, PersonLinkReason.TREATED))
        admitted = kind in (ReferralKind.ADMISSION, ReferralKind.EMERGENCY) and spec.arrived_at
        hospital = to_inst.pk in (self.lead.pk, self.sub_lead.pk)
        if admitted and spec.arrived_at and hospital and spec.direction == ReferralDirection.UP:
            # The patient is now an inpatient of the receiving hospital.
            ward = to_dept
            if to_dept.name == "急诊科":
                ward = self._dept(to_inst, *self._ward_for(dx)) or to_dept
            spec.ward_stay = Stay(patient, to_inst, ward, dx, spec.arrived_at, spec.completed_at)
            if ward.name == "心血管内科" and to_inst.pk == self.lead.pk:
                spec.ward_stay.attending = self._user("doctor")
            self.stays.append(spec.ward_stay)
            self._seen(patient, spec.arrived_at, (to_inst, PersonLinkReason.TREATED))
        if spec.redirect_to is not None:
            successor = self._add(
                rng,
                patient,
                from_inst,
                from_dept,
                spec.redirect_to,
                kind,
                dx,
                spec.ended_at or at,
                sender=sender,
                reason=spec.reason,
                recovery_phase=recovery_phase,
                redirected_from=spec,
            )
            if successor is not None:
                successor.redirect_staff = spec.steps[-1].staff
        return spec

    @staticmethod
    def _ward_for(dx: rc.Dx) -> tuple[str, ...]:
        return {
            "acs": ("心血管内科",),
            "heart": ("心血管内科",),
            "htn": ("心血管内科",),
            "stroke": ("神经内科", "脑病科"),
            "neurosurgery": ("神经外科",),
            "femur": ("骨科", "中医骨伤科"),
            "icu": ("重症医学科",),
            "gi": ("消化内科",),
        }.get(dx.group, ("重症医学科",))

    def _fate(self, spec: Spec) -> str:
        """How the referral ends (before the cut at now turns recent ones into open states)."""
        random_ = spec.rng
        recent = spec.submitted_at > self.now - datetime.timedelta(days=RECENT_DAYS)
        if spec.redirected_from is not None:
            options = [
                ("closed", 85),
                ("completed", 6),
                ("declined", 4),
                ("cancel_before", 3),
                ("no_show", 2),
            ]
        elif recent:
            options = [
                ("closed", 48),
                ("completed", 10),
                ("declined", 6),
                ("redirected", 3),
                ("cancel_before", 3),
                ("cancel_after", 8),
                ("expired_unanswered", 3),
                ("expired_not_arrived", 2),
                ("no_show", 3),
            ]
        else:
            options = [
                ("closed", 76),
                ("completed", 3),
                ("declined", 6),
                ("redirected", 3),
                ("cancel_before", 2),
                ("cancel_after", 2),
                ("expired_unanswered", 2.5),
                ("expired_not_arrived", 1.5),
                ("no_show", 3),
            ]
        fate = random_.choices([o[0] for o in options], weights=[o[1] for o in options])[0]
        if fate == "redirected" and (
            spec.to_inst.pk not in (self.lead.pk, self.sub_lead.pk) or spec.direction != ReferralDirection.UP
        ):
            fate = "declined"
        if spec.kind == ReferralKind.EMERGENCY and fate in ("cancel_after", "expired_not_arrived", "no_show"):
            fate = "closed"
        # A few referrals nobody answered in time: still "submitted" until the deadline sweep runs.
        due = spec.submitted_at + hours(default_answer_hours()[spec.priority])
        if (
            self.overdue_quota > 0
            and spec.redirected_from is None
            and spec.kind != ReferralKind.EMERGENCY
            and self.now - datetime.timedelta(days=3) < due < self.now - hours(0.5)
            and random_.random() < 0.35
        ):
            self.overdue_quota -= 1
            fate = "overdue"
        return fate

    def _content(self, spec: Spec) -> None:
        """The WS 445.16 summary sections and the attachments the sender adds."""
        random_, dx = spec.rng, spec.dx
        down = spec.direction == ReferralDirection.DOWN
        age = content.REFERENCE_DATE.year - spec.patient.plan.birth_date.year
        texts = {
            "history": rc.history(dx, random_, age) if random_.random() < 0.96 else "",
            "exam_results": rc.exam_results(dx, random_) if random_.random() < 0.93 else "",
            "medications": rc.medications(dx, random_) if random_.random() < 0.92 else "",
            "treatment": rc.treatment(dx, random_, down=down)
            if random_.random() < (0.95 if down else 0.8)
            else "",
            "plan": rc.plan(dx, random_, down=down) if random_.random() < (0.95 if down else 0.5) else "",
            "procedures": rc.procedures(dx, random_)
            if down and dx.group in ("femur", "surgery", "neurosurgery", "uro", "gyn")
            else "",
        }
        spec.texts = texts
        attachments: list[str] = []
        if dx.group in ("htn", "acs", "heart", "stroke") and random_.random() < 0.65:
            attachments.append(Material.ECG)
        if dx.group in ("femur", "neurosurgery", "stroke", "cancer", "ortho") and random_.random() < 0.7:
            attachments.append(Material.IMAGING_REPORT)
        if random_.random() < 0.3:
            attachments.append(Material.LAB_REPORT)
        if down and random_.random() < 0.8:
            attachments.append(Material.DISCHARGE_SUMMARY)
        spec.attachments = attachments

    def _complete_for_blocking_rule(self, spec: Spec) -> None:
        """A rule that blocks submission without its materials: the sender added them before submitting."""
        check = self._check(spec)
        if not check.blocks:
            return
        for material in check.missing:
            if material in SUMMARY_MATERIALS:
                spec.texts[material] = spec.texts.get(material) or _SUMMARY_WRITERS[material](spec)
            elif material not in spec.attachments:
                spec.attachments.append(material)

    # Playing a timeline -------------------------------------------------------------------------------------

    def _play(self, spec: Spec) -> None:
        """Build the referral's whole intended timeline, then keep what happened before now."""
        r = spec.rng
        steps: list[Step] = []
        sender_inst, receiver_inst = spec.from_inst, spec.to_inst

        def add(
            at: datetime.datetime,
            action: str,
            source: str,
            target: str,
            side: str,
            staff: Staff | None,
            note: str = "",
        ) -> None:
            institution = (
                None if side == ST.SYSTEM else (receiver_inst if side == ST.RECEIVER else sender_inst)
            )
            steps.append(Step(at, action, source, target, side, staff, institution, note))

        submitted = spec.submitted_at
        if spec.redirected_from is None:
            created = submitted - hours(r.uniform(0.05, 0.4))
            add(created, "create", "", B.DRAFT, ST.SENDER, spec.sender)
            for offset, material in enumerate(spec.attachments, start=1):
                add(
                    created + hours(offset / 120),
                    "attach",
                    B.DRAFT,
                    B.DRAFT,
                    ST.SENDER,
                    spec.sender,
                    f"{Material(material).label}：{_FILES[material][0]}",
                )
            add(submitted, "submit", B.DRAFT, B.SUBMITTED, ST.SENDER, spec.sender)
        else:
            # The successor of a redirect is "submitted" by the receiver who redirected it.
            origin = spec.redirected_from
            steps.append(
                Step(
                    submitted,
                    "submit",
                    "",
                    B.SUBMITTED,
                    ST.RECEIVER,
                    origin.steps[-1].staff if origin.steps else None,
                    origin.to_inst,
                    "由 {number} 改派",
                )
            )
        answer_hours = default_answer_hours()[spec.priority]
        due = submitted + hours(answer_hours)
        spec.answer_due_at = due
        fate = spec.fate
        if fate == "overdue":
            self._cut(spec, steps)
            return
        if fate == "expired_unanswered":
            add(
                due + hours(r.uniform(0.02, 0.09)),
                "expire",
                B.SUBMITTED,
                B.EXPIRED,
                ST.SYSTEM,
                None,
                "接收方未在时限内响应",
            )
            self._cut(spec, steps)
            return
        if fate == "cancel_before":
            add(
                submitted + hours(r.uniform(0.1, min(answer_hours * 0.8, 20))),
                "cancel",
                B.SUBMITTED,
                B.CANCELLED,
                ST.SENDER,
                spec.sender,
                r.choice(rc.CANCEL_REASONS),
            )
            self._cut(spec, steps)
            return
        delay = {
            ReferralPriority.EMERGENCY: r.uniform(0.05, 0.6),
            ReferralPriority.URGENT: r.triangular(0.3, 20, 2),
        }.get(spec.priority, r.triangular(0.5, 66, 6))
        answered = submitted + hours(min(delay, answer_hours * 0.97))
        if fate == "declined":
            add(
                answered,
                "decline",
                B.SUBMITTED,
                B.DECLINED,
                ST.RECEIVER,
                spec.receiver,
                r.choice(rc.DECLINE_REASONS),
            )
            self._cut(spec, steps)
            return
        if fate == "redirected":
            target = self._redirect_target(spec)
            if target is not None:
                add(
                    answered,
                    "redirect",
                    B.SUBMITTED,
                    B.REDIRECTED,
                    ST.RECEIVER,
                    spec.receiver,
                    r.choice(rc.REDIRECT_REASONS),
                )
                self._cut(spec, steps)
                if spec.status == B.REDIRECTED:
                    spec.redirect_to = target
                return
            fate = spec.fate = "closed"
        add(answered, "accept", B.SUBMITTED, B.ACCEPTED, ST.RECEIVER, spec.receiver)
        down = spec.direction == ReferralDirection.DOWN
        if spec.kind == ReferralKind.EMERGENCY:
            arrive = answered + hours(r.uniform(0.2, 1.5))
            source = B.ACCEPTED
        else:
            recent = submitted > self.now - datetime.timedelta(days=RECENT_DAYS)
            wait = r.uniform(20, 110) if recent and r.random() < 0.4 else r.uniform(0.05, 0.6)
            scheduled_at = answered + hours(wait)
            lead_days = {
                ReferralKind.OUTPATIENT: r.randint(0, 4) if not down else r.randint(1, 4),
                ReferralKind.EXAM: r.randint(1, 5),
                ReferralKind.ADMISSION: r.randint(0, 3) if not down else r.randint(0, 2),
            }[spec.kind]
            if timezone.localtime(scheduled_at).hour >= 16:
                lead_days = max(lead_days, 1)  # too late in the day to be seen today
            day = timezone.localtime(scheduled_at).date() + datetime.timedelta(days=lead_days)
            add(
                scheduled_at,
                "schedule",
                B.ACCEPTED,
                B.SCHEDULED,
                ST.RECEIVER,
                spec.receiver,
                "预约 {day}",  # the msgid the schedule step writes (referrals.services)
            )
            steps[-1].day = day
            steps[-1].note_params = {"day": day.isoformat()}
            arrive = local(day, r.uniform(8, 11.5))
            if arrive <= scheduled_at:
                arrive = scheduled_at + hours(r.uniform(0.5, 3))
            source = B.SCHEDULED
            if fate == "no_show":
                add(
                    local(day, r.uniform(17.5, 18.5)),
                    "no_show",
                    B.SCHEDULED,
                    B.NO_SHOW,
                    ST.RECEIVER,
                    spec.receiver,
                )
                self._cut(spec, steps)
                return
            if fate == "expired_not_arrived":
                add(
                    local(day + datetime.timedelta(days=2), r.uniform(0.05, 0.3)),
                    "expire",
                    B.SCHEDULED,
                    B.EXPIRED,
                    ST.SYSTEM,
                    None,
                    "患者未在预约日期到诊",
                )
                self._cut(spec, steps)
                return
            if fate == "cancel_after":
                requested = scheduled_at + (arrive - scheduled_at) * r.uniform(0.2, 0.9)
                add(
                    requested,
                    "request_cancel",
                    B.SCHEDULED,
                    B.CANCEL_REQUESTED,
                    ST.SENDER,
                    spec.sender,
                    r.choice(rc.CANCEL_REQUEST_REASONS),
                )
                confirm = requested + hours(r.uniform(12, 120) if recent else r.uniform(0.5, 20))
                confirm = min(confirm, max(requested + hours(0.2), arrive - hours(0.5)))  # before the day
                add(confirm, "confirm_cancel", B.CANCEL_REQUESTED, B.CANCELLED, ST.RECEIVER, spec.receiver)
                self._cut(spec, steps)
                return
        add(arrive, "arrive", source, B.ARRIVED, ST.RECEIVER, spec.arriver)
        done = arrive + self._duration(spec)
        spec.planned_done = done
        add(done, "complete", B.ARRIVED, B.COMPLETED, ST.RECEIVER, spec.receiver)
        if fate != "completed":
            add(
                done + hours(r.triangular(1, 120, 16)), "close", B.COMPLETED, B.CLOSED, ST.SENDER, spec.sender
            )
        self._cut(spec, steps)

    def _duration(self, spec: Spec) -> datetime.timedelta:
        r = spec.rng
        if spec.direction == ReferralDirection.DOWN:
            days = r.uniform(7, 21) if spec.kind == ReferralKind.ADMISSION else r.uniform(0.05, 2)
            return datetime.timedelta(days=days)
        if spec.kind == ReferralKind.OUTPATIENT:
            return hours(r.uniform(1, 6))
        if spec.kind == ReferralKind.EXAM:
            return datetime.timedelta(days=r.uniform(1, 3))
        low, high = {
            "stroke": (11, 18),
            "femur": (9, 15),
            "htn": (6, 10),
            "copd": (8, 12),
            "dm": (8, 12),
        }.get(spec.dx.group, (4, 12))
        return datetime.timedelta(days=r.uniform(low, high))

    def _redirect_target(self, spec: Spec) -> Department | None:
        """Where a receiver sends a referral meant for another department (the lead's right department)."""
        wards = (*self._ward_for(spec.dx), "心血管内科", "神经内科", "内分泌科", "呼吸内科")
        wards = {
            "dm": ("内分泌科",),
            "copd": ("呼吸内科",),
            "surgery": ("普外科",),
            "uro": ("泌尿外科",),
        }.get(spec.dx.group, wards)
        for name in wards:
            target = self._dept(self.lead, name)
            if target is not None and target != spec.to_dept and target != spec.from_dept:
                return target
        return None

    def _cut(self, spec: Spec, steps: list[Step]) -> None:
        """Keep the steps before now and set the referral's status and fields from them."""
        kept = [step for step in steps if step.at <= self.now]
        r = spec.rng
        spec.steps = kept
        spec.created_at = kept[0].at
        down = spec.direction == ReferralDirection.DOWN
        for step in kept:
            spec.status = step.to_status
            user = step.staff.user if step.staff else None
            if step.action in ("accept", "decline", "redirect"):
                spec.answered_at, spec.answered_by = step.at, user
            if step.action in ("decline", "redirect", "cancel"):
                spec.decline_reason = step.note[:200]
            if step.action == "schedule":
                spec.scheduled_for = step.day
            if step.action == "arrive":
                spec.arrived_at = step.at
                if down:
                    self._tasks(spec, step.at)
            if step.action == "complete":
                spec.completed_at = step.at
                spec.outcome = {
                    "outcome_diagnosis_code": spec.dx.code,
                    "outcome_diagnosis_name": spec.dx.name,
                    "outcome_summary": rc.outcome_summary(spec.dx, spec.kind, r, down=down),
                    "discharge_summary": rc.discharge_summary(spec.dx, r)
                    if spec.kind in (ReferralKind.ADMISSION, ReferralKind.EMERGENCY)
                    else "",
                    "follow_up_plan": rc.follow_up_plan(spec.dx, down=down),
                }
                spec.subsidy = self._subsidy(spec)
            if step.action == "close":
                spec.closed_at = step.at
            if step.action in (
                "decline",
                "redirect",
                "cancel",
                "no_show",
                "close",
                "confirm_cancel",
                "expire",
            ):
                spec.ended_at = step.at

    def _subsidy(self, spec: Spec) -> Decimal:
        if (
            not spec.inside
            or spec.direction == ReferralDirection.LATERAL
            or spec.kind not in ADMITTING_KINDS
            or spec.consortium != self.county
        ):
            return Decimal("0")
        return Decimal(rc.SUBSIDIES.get(spec.patient.plan.insurance_scheme, 0))

    def _tasks(self, spec: Spec, arrived: datetime.datetime) -> None:
        """The two closed-loop duties of a down-referral: done on time, done late, or still open."""
        r = spec.rng
        doer = spec.arriver.user
        for kind, due in (
            (FollowUpTaskKind.FOLLOW_UP, arrived + hours(48)),
            (FollowUpTaskKind.REHABILITATION, arrived + datetime.timedelta(days=7)),
        ):
            roll = r.random()
            if roll < 0.82:
                window = 44 if kind == FollowUpTaskKind.FOLLOW_UP else 150
                done: datetime.datetime | None = due - hours(r.uniform(1, window))
            elif roll < 0.96:
                done = due + hours(r.uniform(2, 72))
            else:
                done = None
            if done is not None and done > self.now:
                done = None
            notified = None
            if due < self.now - hours(24) and (done is None or done > due):
                notified = due + hours(r.uniform(0.02, 0.09))  # the sweep warned both ends then
            spec.tasks.append(
                Task(
                    kind,
                    due,
                    done,
                    doer if done else None,
                    rc.follow_up_note(spec.dx, kind, r) if done else "",
                    notified,
                )
            )

    # Writing ------------------------------------------------------------------------------------------------

    def _write(self) -> None:
        """Write patients, links, stays, referrals, timelines, attachments and duties in bulk."""
        fields = _timestamp_fields(
            Person,
            PersonInstitutionLink,
            Encounter,
            Referral,
            ReferralEvent,
            ReferralAttachment,
            FollowUpTask,
        )
        self._numbers()
        self._bookings()
        with backdated(*fields):
            for phase in (self._write_patients, self._write_stays, self._write_referrals):
                started = time.perf_counter()
                phase()
                self.log(f"  ({phase.__name__}: {time.perf_counter() - started:.1f} s)")
        record_event(
            actor=self.admin,
            action="referral.bulk_create",
            obj=self.county,
            details={
                "referrals": len(self.specs),
                "patients": len(self.patients),
                "stays": len(self.stays),
                "source": "seed-demo",
                "seed": self.seed,
            },
            consortium_public_id=self.county.public_id,
        )
        counts = Counter(spec.status for spec in self.specs)
        self.log("转诊单 referrals by status: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    def _numbers(self) -> None:
        """ZZ + submission date + a sequence per day, in the order they were written."""
        per_day: Counter[str] = Counter()
        for spec in sorted(self.specs, key=lambda s: (s.created_at, s.submitted_at)):
            day = f"{timezone.localtime(spec.created_at):%Y%m%d}"
            per_day[day] += 1
            spec.number = f"ZZ{day}{per_day[day]:05d}"
        for spec in self.specs:
            if spec.redirected_from is not None and spec.steps:
                spec.steps[0].note_params = {"number": spec.redirected_from.number}

    def _bookings(self) -> None:
        """Open referrals scheduled on a published day hold one of its reserved places."""
        touched: dict[int, ReservedCapacity] = {}
        for spec in sorted(self.specs, key=lambda s: s.submitted_at):
            if spec.status not in (B.SCHEDULED, B.CANCEL_REQUESTED) or spec.scheduled_for is None:
                continue
            if not spec.inside or spec.kind not in KIND_CAPACITY:
                continue
            row = self.capacity.get((spec.to_dept.pk, KIND_CAPACITY[spec.kind], spec.scheduled_for))
            if row is None or row.booked >= row.quantity:
                continue
            row.booked += 1
            spec.booking = row
            touched[row.pk] = row
        for row in touched.values():
            ReservedCapacity.objects.filter(pk=row.pk).update(booked=row.booked)

    def _write_patients(self) -> None:
        rows = []
        for patient in self.patients:
            row = person_row(
                patient.plan,
                self.regions.get(patient.plan.village_code)
                or Region.objects.get(code=patient.plan.village_code),
                self.grid_of.get(patient.plan.village_code) or self.grid_of.get(patient.township),
            )
            seen = patient.first_seen or self.now
            row.created_at = row.updated_at = seen - datetime.timedelta(
                days=generators.rng(self.seed, "registered", patient.plan.id_number).uniform(30, 900)
            )
            patient.person = row
            rows.append(row)
        Person.objects.bulk_create(rows, batch_size=500)
        links = [
            PersonInstitutionLink(
                person=patient.person,
                institution_id=institution_id,
                reason=reason,
                since=patient.person.created_at
                if reason == PersonLinkReason.REGISTERED
                else (patient.first_seen or self.now),
            )
            for patient in self.patients
            for institution_id, reason in sorted(patient.links)
        ]
        PersonInstitutionLink.objects.bulk_create(links, batch_size=500, ignore_conflicts=True)
        record_event(
            actor=self.admin,
            action="person.bulk_create",
            obj=self.regions[content.COUNTY_CODE],
            details={"count": len(rows), "source": "seed-demo referrals", "seed": self.seed},
            region_code=content.COUNTY_CODE,
        )
        self.log(f"患者 patients: {len(rows)} created, {len(links)} links")

    def _write_stays(self) -> None:
        rows = []
        numbers: Counter[int] = Counter()
        for stay in sorted(self.stays, key=lambda s: s.started_at):
            numbers[stay.institution.pk] += 1
            ended = (
                stay.ended_at
                if stay.ended_at is None or stay.ended_at >= stay.started_at
                else stay.started_at
            )
            stay.obj = Encounter(
                person=stay.patient.person,
                institution=stay.institution,
                department=stay.department,
                kind=EncounterKind.INPATIENT,
                his_number=f"ZY{timezone.localtime(stay.started_at):%Y}{numbers[stay.institution.pk]:06d}",
                started_at=stay.started_at,
                ended_at=ended,
                diagnosis_code=stay.dx.code,
                diagnosis_name=stay.dx.name,
                attending=stay.attending,
                recovery_phase=stay.recovery_phase,
                recovery_flagged_by=stay.flagged_by if stay.recovery_phase else None,
                recovery_flagged_at=stay.flagged_at if stay.recovery_phase else None,
                created_at=stay.started_at,
                updated_at=ended or stay.flagged_at or stay.started_at,
            )
            rows.append(stay.obj)
        Encounter.objects.bulk_create(rows, batch_size=500)
        self.log(f"住院记录 inpatient stays: {len(rows)} created")

    def _check(self, spec: Spec) -> criteria_check.CriteriaCheck:
        """What ``criteria.evaluate`` says on submit, with the catalogue rule looked up once per diagnosis.

        Mirrors ``referrals.services.criteria.evaluate`` (the demo tests compare the two).
        """
        urgent = spec.priority != ReferralPriority.ROUTINE or spec.kind == ReferralKind.EMERGENCY
        key = (spec.consortium.pk if spec.consortium else None, spec.direction, spec.dx.code, urgent)
        if key not in self.rules:
            self.rules[key] = criteria_check.matching_criterion(
                spec.consortium, spec.dx.code, spec.direction, urgent=urgent
            )
        rule = self.rules[key]
        if rule is None:
            return criteria_check.CriteriaCheck()
        present = criteria_check.present_materials(spec.texts, set(spec.attachments))
        required = [str(m) for m in rule.required_materials]
        missing = [m for m in required if m not in present]
        completeness = round(100 * (len(required) - len(missing)) / len(required)) if required else 100
        fits = rule.category in criteria_check.CATEGORIES_FOR.get(spec.direction, ())
        enough = completeness >= rule.completeness_threshold
        return criteria_check.CriteriaCheck(
            criterion=rule,
            met=fits and enough,
            completeness=completeness,
            missing=missing,
            blocks=not enough and rule.missing_action == MissingMaterialAction.BLOCK,
            category_fits=fits,
        )

    def _write_referrals(self) -> None:
        firsts = [s for s in self.specs if s.redirected_from is None]
        successors = [s for s in self.specs if s.redirected_from is not None]
        for batch in (firsts, successors):
            rows = [self._referral_row(spec) for spec in batch]
            Referral.objects.bulk_create(rows, batch_size=400)
        events: list[tuple[Any, ...]] = []
        attachments, tasks = [], []
        adapt = connection.ops.adapt_datetimefield_value
        adapt_json = connection.ops.adapt_json_value
        for spec in self.specs:
            assert spec.obj is not None
            steps = list(spec.steps)
            for task in spec.tasks:
                if task.done_at is not None:
                    late = task.done_at > task.due_at
                    label = FollowUpTaskKind(task.kind).label
                    status = self._status_at(spec, task.done_at)
                    steps.append(
                        Step(
                            task.done_at,
                            "follow_up",
                            status,
                            status,
                            ST.RECEIVER,
                            spec.arriver,
                            spec.to_inst,
                            f"{label}{'（超时）' if late else ''}",
                        )
                    )
                tasks.append(
                    FollowUpTask(
                        referral=spec.obj,
                        kind=task.kind,
                        due_at=task.due_at,
                        done_at=task.done_at,
                        done_by=task.done_by,
                        note=task.note,
                        overdue_notified_at=task.notified_at,
                        created_at=spec.arrived_at,
                        updated_at=task.done_at or spec.arrived_at,
                    )
                )
            steps.sort(key=lambda step: step.at)
            for step in steps:
                user = step.staff.user if step.staff else None
                events.append(
                    (
                        spec.obj.pk,
                        step.action,
                        step.from_status,
                        step.to_status,
                        step.side,
                        user.pk if user else None,
                        step.staff.label if step.staff else "系统",
                        step.institution.name if step.institution else "",
                        step.note[:500],
                        adapt_json(step.note_params, None),
                        adapt(step.at),
                    )
                )
            for offset, material in enumerate(spec.attachments):
                name, size = self._file(material)
                attachments.append(
                    ReferralAttachment(
                        referral=spec.obj,
                        material=material,
                        file=name,
                        original_filename=_FILES[material][0],
                        size=size,
                        uploaded_by=spec.sender.user,
                        created_at=spec.created_at + hours((offset + 1) / 120),
                        updated_at=spec.created_at + hours((offset + 1) / 120),
                    )
                )
        _insert_events(events)
        ReferralAttachment.objects.bulk_create(attachments, batch_size=500)
        FollowUpTask.objects.bulk_create(tasks, batch_size=500)
        self.log(
            f"转诊进程 referral events: {len(events)}; 附件 attachments: {len(attachments)}; 闭环任务 tasks: {len(tasks)}"
        )

    def _status_at(self, spec: Spec, at: datetime.datetime) -> str:
        status = B.DRAFT
        for step in spec.steps:
            if step.at <= at:
                status = step.to_status
        return status

    def _referral_row(self, spec: Spec) -> Referral:
        check = self._check(spec.redirected_from or spec)
        last = spec.steps[-1].at
        version = 1 + sum(1 for step in spec.steps if step.action not in ("create", "attach"))
        if spec.redirected_from is not None:
            version -= 1
        sender_user = spec.sender.user
        spec.obj = Referral(
            number=spec.number,
            status=spec.status,
            version=max(version, 1),
            direction=spec.direction,
            kind=spec.kind,
            priority=spec.priority,
            consortium=spec.consortium,
            inside_consortium=spec.inside,
            person=spec.patient.person,
            from_institution=spec.from_inst,
            from_department=spec.from_dept,
            from_doctor=sender_user,
            to_institution=spec.to_inst,
            to_department=spec.to_dept,
            encounter=spec.source_stay.obj if spec.source_stay else None,
            diagnosis_code=spec.dx.code,
            diagnosis_name=spec.dx.name,
            reason=spec.reason,
            recovery_phase=spec.recovery_phase,
            patient_consented=True,
            criterion=check.criterion,
            criteria_met=check.met,
            completeness=check.completeness,
            missing_materials=list(check.missing),
            submitted_at=spec.submitted_at,
            answer_due_at=spec.answer_due_at,
            answered_at=spec.answered_at,
            answered_by=spec.answered_by,
            decline_reason=spec.decline_reason,
            scheduled_for=spec.scheduled_for,
            booking=spec.booking,
            arrived_at=spec.arrived_at,
            completed_at=spec.completed_at,
            closed_at=spec.closed_at,
            ended_at=spec.ended_at,
            redirected_from=spec.redirected_from.obj if spec.redirected_from else None,
            subsidy_amount=spec.subsidy,
            created_by=(spec.redirect_staff.user if spec.redirect_staff else None)
            if spec.redirected_from is not None
            else sender_user,
            created_at=spec.created_at,
            updated_at=last,
            **spec.texts,
            **spec.outcome,
        )
        return spec.obj

    def _file(self, material: str) -> tuple[str, int]:
        """One shared demo document per material kind, stored once."""
        if material not in self.files:
            title = _FILES[material][1]
            name = f"referrals/demo/{material}.pdf"
            data = simple_pdf(
                title, [title, "演示文档 / demo document", "本文件为演示数据，不对应任何真实患者。"]
            )
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(data))
            self.files[material] = (name, len(data))
        return self.files[material]

    # Through the services ---------------------------------------------------------------------------------

    def _standalone_inpatients(self) -> None:
        """Current inpatients of the lead hospital recorded through the encounter service; a third flagged."""
        recorder = self._user("doctor")
        admin = self._user("hospital_admin")
        if recorder is None:
            return
        random_ = generators.rng(self.seed, "inpatients")
        departments = self._departments_of(self.lead)
        plans = (
            ("心血管内科", 6), ("神经内科", 5), ("呼吸内科", 4), ("骨科", 4), ("内分泌科", 2),
            ("普外科", 2), ("神经外科", 1), ("消化内科", 1), ("康复医学科", 1),
        )  # fmt: skip
        made: list[Encounter] = []
        townships = sorted(code for code in self.centres if code in self.villages)
        for name, count in plans:
            department = departments.get(name)
            if department is None:
                continue
            for _index in range(count):
                dx = rc.pick(random_, rc.DOWN_DIAGNOSES[name])
                patient = self._patient(random_, random_.choice(townships), group=dx.group)
                patient.first_seen = self.now - datetime.timedelta(days=30)
                started = self.now - datetime.timedelta(days=random_.uniform(1, 20))
                made.append(
                    encounter_services.encounter_record(
                        actor=recorder if name == "心血管内科" or admin is None else admin,
                        institution=self.lead,
                        person=self._save_patient(patient),
                        kind=EncounterKind.INPATIENT,
                        department=department,
                        his_number=f"ZY{timezone.localtime(started):%Y}9{len(made):05d}",
                        started_at=started,
                        diagnosis_code=dx.code,
                        diagnosis_name=dx.name,
                        attending=recorder if name == "心血管内科" else None,
                    )
                )
        for index, stay in enumerate(made):
            if index % 3 == 0:
                department_name = stay.department.name if stay.department else ""
                dx = next(
                    (
                        d
                        for d, _w in rc.DOWN_DIAGNOSES.get(department_name, ())
                        if d.code == stay.diagnosis_code
                    ),
                    rc.HTN,
                )
                encounter_services.encounter_flag_recovery(
                    actor=recorder, encounter=stay, recovery_phase=rc.recovery_phase_for(dx, department_name)
                )
        self.inpatients = made
        self.log(f"在院患者 current inpatients recorded: {len(made)}")

    def _save_patient(self, patient: Patient) -> Person:
        """Save one patient (and their links) outside the bulk write, for the service-made records."""
        if patient.person is None or patient.person.pk is None:
            row = person_row(
                patient.plan,
                self.regions.get(patient.plan.village_code)
                or Region.objects.get(code=patient.plan.village_code),
                self.grid_of.get(patient.plan.village_code) or self.grid_of.get(patient.township),
            )
            row.save()
            patient.person = row
        PersonInstitutionLink.objects.bulk_create(
            [
                PersonInstitutionLink(person=patient.person, institution_id=institution_id, reason=reason)
                for institution_id, reason in sorted(patient.links)
            ],
            ignore_conflicts=True,
        )
        return patient.person

    def _live_referrals(self) -> None:
        """About twenty open referrals made through the real services by the demo's clinicians."""
        live = LiveReferrals(self)
        made = live.run()
        self.log(f"实时转诊 referrals made through the services: {made}")


_SUMMARY_WRITERS: dict[str, Callable[[Spec], str]] = {
    "history": lambda spec: rc.history(spec.dx, spec.rng, 70),
    "exam_results": lambda spec: rc.exam_results(spec.dx, spec.rng),
    "medications": lambda spec: rc.medications(spec.dx, spec.rng),
    "procedures": lambda spec: rc.procedures(spec.dx, spec.rng),
    "treatment": lambda spec: rc.treatment(spec.dx, spec.rng, down=spec.direction == ReferralDirection.DOWN),
    "plan": lambda spec: rc.plan(spec.dx, spec.rng, down=spec.direction == ReferralDirection.DOWN),
}
"""Writers of the summary sections, for filling one a blocking rule asks for."""

EVENT_COLUMNS = (
    "referral",
    "action",
    "from_status",
    "to_status",
    "side",
    "actor",
    "actor_label",
    "institution_name",
    "note",
    "note_params",
    "occurred_at",
)


def _insert_events(rows: list[tuple[Any, ...]]) -> None:
    """Insert timeline rows with one executemany.

    A year of referrals has some 25 000 steps; building a model instance for
    each and preparing it field by field is most of the seeding time, and
    the steps need nothing but their values (no signals, no defaults beyond
    the id). Datetimes go through the backend's own adapter.
    """
    meta = ReferralEvent._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in EVENT_COLUMNS)
    placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


_FILES = {
    Material.ECG: ("心电图.pdf", "十二导联心电图报告"),
    Material.IMAGING_REPORT: ("影像检查报告.pdf", "影像检查报告（CT/MRI/X 线）"),
    Material.LAB_REPORT: ("检验报告.pdf", "检验报告（血常规、生化）"),
    Material.DISCHARGE_SUMMARY: ("出院小结.pdf", "出院小结"),
    Material.CONSENT: ("知情同意书.pdf", "转诊知情同意书"),
    Material.OTHER: ("其他资料.pdf", "其他资料"),
}


class LiveReferrals:
    """The open referrals of the last hours, made through ``referrals.services`` with the demo accounts."""

    def __init__(self, seeder: ReferralSeeder) -> None:
        self.s = seeder
        self.random = generators.rng(seeder.seed, "live")
        self.made = 0

    def run(self) -> int:
        s = self.s
        township_doctor = s._user("township_doctor")
        village_doctor = s._user("village_doctor")
        doctor = s._user("doctor")
        coordinator = s._user("coordinator")
        nurse = s._user("nurse") or coordinator
        city_doctor = s._user("city_doctor")
        if not (township_doctor and doctor and coordinator and s.mabu):
            return 0
        lead = s._departments_of(s.lead)
        mabu_gp = s._dept(s.mabu, "全科医疗科")
        mabu_rehab = s._dept(s.mabu, "康复医学科", "全科医疗科")
        township = s.mabu.region.code[:9]

        def mabu_patient(group: str = "") -> Person:
            return s._save_patient(s._patient(self.random, township, group=group))

        def up(to: str, dx: rc.Dx, **extra: Any) -> Referral:
            return self._create(
                township_doctor, s.mabu, mabu_gp, lead[to], dx, mabu_patient(dx.group), **extra
            )

        today = s.today
        day = datetime.timedelta(days=1)
        # 1. Waiting for the cardiology department.
        up("心血管内科", rc.HTN)
        # 2. A suspected stroke through the green channel: accepted and arrived.
        stroke = up("神经内科", rc.CI, kind=ReferralKind.EMERGENCY, priority=ReferralPriority.EMERGENCY)
        stroke = self._act(coordinator, stroke, "accept")
        self._act(nurse, stroke, "arrive")
        # 3. The sender booked a slot; accepting confirms it.
        booked = self._free_day(lead["心血管内科"], CapacityKind.OUTPATIENT_SLOT, today + 2 * day)
        chd = up("心血管内科", rc.CHD, booking_date=booked)
        self._act(doctor, chd, "accept")
        # 4. Accepted, no date yet.
        copd = up("呼吸内科", rc.AECOPD, kind=ReferralKind.ADMISSION, priority=ReferralPriority.URGENT)
        self._act(coordinator, copd, "accept")
        # 5. Accepted and a bed booked by the receiver.
        tia = up("神经内科", rc.TIA, kind=ReferralKind.ADMISSION)
        tia = self._act(coordinator, tia, "accept")
        bed_day = self._free_day(lead["神经内科"], CapacityKind.BED, today + day)
        self._act(
            coordinator, tia, "schedule", scheduled_for=bed_day or today + day, book=bed_day is not None
        )
        # 6. Scheduled, then the sender asks to cancel.
        disc = up("骨科", rc.DISC)
        disc = self._act(coordinator, disc, "accept")
        slot_day = self._free_day(lead["骨科"], CapacityKind.OUTPATIENT_SLOT, today + 3 * day)
        disc = self._act(
            coordinator,
            disc,
            "schedule",
            scheduled_for=slot_day or today + 3 * day,
            book=slot_day is not None,
        )
        self._act(township_doctor, disc, "request_cancel", reason=rc.CANCEL_REQUEST_REASONS[0])
        # 7. Chest pain with an ECG attached (the catalogue blocks it without one): arrived.
        ami = self._create(
            township_doctor, s.mabu, mabu_gp, lead["心血管内科"], rc.AMI, mabu_patient("acs"),
            kind=ReferralKind.EMERGENCY, priority=ReferralPriority.EMERGENCY, submit=False,
        )  # fmt: skip
        self._attach(township_doctor, ami, Material.ECG, "心电图.pdf", "十二导联心电图：V1–V4 ST 段抬高 3 mm")
        ami = referral_services.referral_submit(actor=township_doctor, referral=ami)
        ami = self._act(doctor, ami, "accept")
        self._act(nurse, ami, "arrive")
        # 8. Seen and the result sent back: the township doctor has to close it.
        hhd = up("心血管内科", rc.HHD)
        for actor, action, fields in (
            (doctor, "accept", {}),
            (nurse, "arrive", {}),
            (doctor, "complete", {
                "outcome_diagnosis_code": rc.HHD.code, "outcome_diagnosis_name": rc.HHD.name,
                "outcome_summary": "门诊心脏彩超示左室肥厚，调整为缬沙坦＋氨氯地平，血压 132/82 mmHg。",
                "follow_up_plan": "两周后回乡镇卫生院随访血压。",
            }),
        ):  # fmt: skip
            hhd = self._act(actor, hhd, action, **fields)
        # 9. Declined.
        gastritis = up("消化内科", rc.GASTRITIS)
        self._act(coordinator, gastritis, "decline", reason=rc.DECLINE_REASONS[1])
        # 10. Sent to the wrong department and redirected.
        diabetes = up("心血管内科", rc.T2DM)
        self._act(
            coordinator, diabetes, "redirect", to_department=lead["内分泌科"], reason=rc.REDIRECT_REASONS[0]
        )
        # 11. A draft the township doctor has not sent yet.
        up("心血管内科", rc.HTN, submit=False)
        # 12. Cancelled by the sender before anyone answered.
        gallstone = up("普外科", rc.GALLSTONE)
        self._act(township_doctor, gallstone, "cancel", reason=rc.CANCEL_REASONS[2])
        # 13–14. From the village clinic to the township centre.
        if village_doctor and s.village is not None:
            village_code = s.village.region.code
            region = s.regions.get(village_code) or s.village.region

            def village_patient() -> Person:
                patient = s._patient(self.random, township, village=region)
                patient.links.add((s.village.pk, PersonLinkReason.TREATED))
                return s._save_patient(patient)

            self._create(village_doctor, s.village, None, mabu_gp, rc.HTN, village_patient())
            loop = self._create(village_doctor, s.village, None, mabu_gp, rc.T2DM, village_patient())
            for actor, action, fields in (
                (township_doctor, "accept", {}),
                (township_doctor, "arrive", {}),
                (
                    township_doctor,
                    "complete",
                    {"outcome_summary": "调整降糖方案，空腹血糖 7.2 mmol/L，纳入慢病管理。"},
                ),
                (village_doctor, "close", {}),
            ):
                loop = self._act(actor, loop, action, **fields)
        # 15–17. Down from the lead hospital's cardiology: inpatients of this township.
        for number, dx in enumerate((rc.HTN, rc.HF, rc.CHD)):
            patient = s._patient(self.random, township, group=dx.group)
            stay = encounter_services.encounter_record(
                actor=doctor,
                institution=s.lead,
                person=s._save_patient(patient),
                kind=EncounterKind.INPATIENT,
                department=lead["心血管内科"],
                his_number=f"ZY{today:%Y}8{number:05d}",
                started_at=s.now - datetime.timedelta(days=6 + 2 * number),
                diagnosis_code=dx.code,
                diagnosis_name=dx.name,
                attending=doctor,
            )
            phase = rc.recovery_phase_for(dx, "心血管内科")
            stay = encounter_services.encounter_flag_recovery(
                actor=doctor, encounter=stay, recovery_phase=phase
            )
            down = self._create(
                doctor, s.lead, lead["心血管内科"], mabu_rehab if number == 0 else mabu_gp, dx, stay.person,
                kind=ReferralKind.ADMISSION if number == 0 else ReferralKind.OUTPATIENT,
                recovery_phase=phase, encounter=stay, reason=rc.down_reason(dx, phase), down=True,
                submit=False,
            )  # fmt: skip
            # The hypertension down rule blocks without a discharge summary: attach it, then send.
            self._attach(doctor, down, Material.DISCHARGE_SUMMARY, "出院小结.pdf", "出院小结")
            down = referral_services.referral_submit(actor=doctor, referral=down, acknowledge_missing=True)
            if number >= 1:
                down = self._act(township_doctor, down, "accept")
            if number == 1:
                self._act(township_doctor, down, "schedule", scheduled_for=today + day)
            if number == 2:
                down = self._act(township_doctor, down, "arrive")
                encounter_services.encounter_discharge(actor=doctor, encounter=stay)
                task = down.follow_up_tasks.order_by("due_at").first()
                if task is not None:
                    referral_services.follow_up_record(
                        actor=township_doctor,
                        task=task,
                        note="电话随访：已到家，按时服药，血压 128/78 mmHg。",
                    )
        # 18–20. Out of the county consortium: to the city hospital (chest pain alliance) and the province.
        city_cardiology = s._dept(s.institutions["city_hospital"], "心血管内科")
        for number, dx in enumerate((rc.HF, rc.AF)):
            if city_cardiology is None:
                break
            patient = s._patient(self.random, self.random.choice(sorted(s.villages)), group=dx.group)
            stay = encounter_services.encounter_record(
                actor=doctor,
                institution=s.lead,
                person=s._save_patient(patient),
                kind=EncounterKind.INPATIENT,
                department=lead["心血管内科"],
                started_at=s.now - datetime.timedelta(days=3 + number),
                diagnosis_code=dx.code,
                diagnosis_name=dx.name,
                attending=doctor,
            )
            out = self._create(
                doctor, s.lead, lead["心血管内科"], city_cardiology, dx, stay.person,
                kind=ReferralKind.ADMISSION, reason="需行导管消融/CRT 评估，本院无条件开展",
            )  # fmt: skip
            if number == 0 and city_doctor is not None:
                self._act(city_doctor, out, "accept")
        neurosurgery = s._dept(s.provincial, "神经外科")
        if neurosurgery is not None and "神经外科" in lead:
            patient = s._patient(self.random, self.random.choice(sorted(s.villages)), group="cancer")
            stay = encounter_services.encounter_record(
                actor=coordinator,
                institution=s.lead,
                person=s._save_patient(patient),
                kind=EncounterKind.INPATIENT,
                department=lead["神经外科"],
                started_at=s.now - datetime.timedelta(days=4),
                diagnosis_code=rc.MENINGIOMA.code,
                diagnosis_name=rc.MENINGIOMA.name,
            )
            self._create(
                coordinator, s.lead, lead["神经外科"], neurosurgery, rc.MENINGIOMA, stay.person,
                kind=ReferralKind.OUTPATIENT, reason="颅底脑膜瘤，手术难度大，建议省级医院神经外科手术",
            )  # fmt: skip
        return self.made

    def _create(
        self,
        actor: User,
        institution: Institution,
        department: Department | None,
        to_department: Department,
        dx: rc.Dx,
        person: Person,
        *,
        kind: str = ReferralKind.OUTPATIENT,
        priority: str = ReferralPriority.ROUTINE,
        submit: bool = True,
        down: bool = False,
        reason: str = "",
        **extra: Any,
    ) -> Referral:
        r = self.random
        age = content.REFERENCE_DATE.year - (person.birth_date.year if person.birth_date else 1960)
        referral, _created = referral_services.referral_create(
            actor=actor,
            person=person,
            from_institution=institution,
            from_department=department,
            to_department=to_department,
            kind=kind,
            priority=priority,
            diagnosis_code=dx.code,
            diagnosis_name=dx.name,
            reason=reason or rc.up_reason(dx, kind),
            history=rc.history(dx, r, age),
            exam_results=rc.exam_results(dx, r),
            medications=rc.medications(dx, r),
            treatment=rc.treatment(dx, r, down=down),
            plan=rc.plan(dx, r, down=down),
            patient_consented=True,
            submit=submit,
            acknowledge_missing=True,
            **extra,
        )
        self.made += 1
        return referral

    def _attach(self, actor: User, referral: Referral, material: str, filename: str, title: str) -> None:
        upload = SimpleUploadedFile(
            filename, simple_pdf(title, [title, "演示文档 / demo document"]), content_type="application/pdf"
        )
        referral_services.referral_attach(actor=actor, referral=referral, material=material, upload=upload)

    def _act(self, actor: User, referral: Referral, action: str, **fields: Any) -> Referral:
        return referral_services.referral_act(actor=actor, referral=referral, action=action, **fields)

    def _free_day(self, department: Department, kind: str, wanted: datetime.date) -> datetime.date | None:
        """The first day from ``wanted`` with a free reserved place of ``kind``, if any."""
        for row in ReservedCapacity.objects.filter(
            department=department, kind=kind, date__gte=wanted
        ).order_by("date"):
            if row.booked < row.quantity:
                return row.date
        return None
