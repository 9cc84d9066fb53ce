"""Turn the demo plan into rows: idempotent, through the services, in one transaction.

Registry objects a user sees (regions, institutions, departments, consortia,
members, management bodies, agreements, grids, accounts, role grants) are
created by the apps' services with a platform administrator as the actor,
so validation and the audit log are the real ones. Persons are written in
bulk (thousands of rows) with the same invariants the people service keeps:
pinyin keys, keyed hash + ciphertext + masked form of the ID number, a
"registered" link to their township health centre, and one audit event for
the batch. Whatever already exists (matched by credit code or name,
username, grid code, ID-number hash…) is left alone, so a second run changes
nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction

from yilian.accounts import services as account_services
from yilian.accounts.models import Membership, User
from yilian.accounts.selectors import membership_visible_to, user_visible_to
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)
from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Invalid
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.demo import content
from yilian.demo.assessment import seed_assessment
from yilian.demo.capacity_building import CapacityBuildingSeeder
from yilian.demo.chronic_care import ChronicCareSeeder
from yilian.demo.diagnostics import DiagnosticsSeeder
from yilian.demo.encounters import EncounterSeeder
from yilian.demo.family_doctors import FamilyDoctorsSeeder
from yilian.demo.geometry import seed_boundaries
from yilian.demo.indicators import seed_indicators
from yilian.demo.outreach import OutreachSeeder
from yilian.demo.pdf import simple_pdf
from yilian.demo.plan import (
    DEFAULT_SEED,
    AccountPlan,
    ConsortiumPlan,
    DemoPlan,
    build_plan,
    region_rows_to_csv,
)
from yilian.demo.prescriptions import PrescriptionsSeeder
from yilian.demo.referrals import HISTORY_MONTHS, ReferralSeeder
from yilian.demo.rows import person_row
from yilian.demo.telemedicine import TelemedicineSeeder
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
)
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.family_doctors.models import CareTeam, CareTeamMember, FamilyDoctorContract, ServicePackage
from yilian.institutions import services as registry
from yilian.institutions.models import (
    Agreement,
    Consortium,
    ConsortiumMember,
    Department,
    Grid,
    GridArea,
    GridAssignment,
    Institution,
    ManagementBody,
    Region,
)
from yilian.insurance.models import Claim, GlobalBudget, SettlementRule
from yilian.outreach.models import ClinicBooking, ExpertClinicSession, OutreachBatch, OutreachVisit, Posting
from yilian.people.choices import PersonLinkReason
from yilian.people.identifiers import hash_id_number
from yilian.people.models import Person, PersonInstitutionLink
from yilian.prescriptions.models import Delivery, Drug, Prescription, StockItem
from yilian.referrals.models import (
    FollowUpTask,
    Referral,
    ReferralCriterion,
    ReferralEvent,
    ReservedCapacity,
)
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationAttachment,
    TeleconsultationCharge,
    TeleconsultationEvent,
    TeleconsultationFee,
)

BOOTSTRAP_ACTOR = "seed-demo"
"""Audit label of the very first platform administrator's creation (there is no actor yet)."""

COUNTED: tuple[tuple[str, type[models.Model]], ...] = (
    ("行政区划 regions", Region),
    ("医疗卫生机构 institutions", Institution),
    ("科室 departments", Department),
    ("医联体 consortia", Consortium),
    ("医联体成员 members", ConsortiumMember),
    ("管理机构 management bodies", ManagementBody),
    ("章程与协议 agreements", Agreement),
    ("网格 grids", Grid),
    ("网格区域 grid areas", GridArea),
    ("网格责任 grid assignments", GridAssignment),
    ("用户 users", User),
    ("角色授权 role grants", Membership),
    ("居民 persons", Person),
    ("居民关联机构 person links", PersonInstitutionLink),
    ("转诊标准 referral criteria", ReferralCriterion),
    ("预留号源 reserved capacity", ReservedCapacity),
    ("月度服务量 service volumes", ServiceVolume),
    ("诊疗记录 encounters", Encounter),
    ("转诊单 referrals", Referral),
    ("转诊进程 referral events", ReferralEvent),
    ("下转闭环任务 follow-up tasks", FollowUpTask),
    ("共享诊断中心 shared centres", SharedCentre),
    ("检查检验项目 catalogue items", DiagnosticItem),
    ("互认项目 recognition rules", RecognitionRule),
    ("检查检验申请 diagnostic orders", DiagnosticOrder),
    ("检查进程 order events", OrderEvent),
    ("检查文件 study files", StudyFile),
    ("诊断报告 reports", DiagnosticReport),
    ("危急值 critical alerts", CriticalValueAlert),
    ("互认记录 recognition decisions", RecognitionDecision),
    ("远程会诊收费 teleconsultation fees", TeleconsultationFee),
    ("专家可预约时间 expert availability", ExpertAvailability),
    ("远程会诊 teleconsultations", Teleconsultation),
    ("会诊进程 teleconsultation events", TeleconsultationEvent),
    ("会诊资料 teleconsultation files", TeleconsultationAttachment),
    ("会诊费用记录 teleconsultation charges", TeleconsultationCharge),
    ("签约团队 care teams", CareTeam),
    ("团队成员 team members", CareTeamMember),
    ("服务包 service packages", ServicePackage),
    ("签约 contracts", FamilyDoctorContract),
    ("慢病档案 chronic cases", ChronicCase),
    ("随访 follow-ups", FollowUp),
    ("药品 drugs", Drug),
    ("机构药品目录 stock items", StockItem),
    ("处方 prescriptions", Prescription),
    ("配送 deliveries", Delivery),
    ("下沉批次 outreach batches", OutreachBatch),
    ("下沉工作 outreach visits", OutreachVisit),
    ("派驻 postings", Posting),
    ("专家门诊 expert clinic sessions", ExpertClinicSession),
    ("专家号预约 clinic bookings", ClinicBooking),
    ("培训 training courses", TrainingCourse),
    ("培训签到 attendance", TrainingAttendance),
    ("进修 fellowships", Fellowship),
    ("新技术新项目 techniques", TechniqueTransfer),
    ("支援设备 supported devices", SupportedDevice),
    ("维修 maintenance requests", MaintenanceRequest),
    ("医保结算记录 claims", Claim),
    ("医保总额预算 global budgets", GlobalBudget),
    ("结算方案 settlement rules", SettlementRule),
    ("审计事件 audit events", AuditEvent),
)

Log = Callable[[str], None]


@dataclass
class SeedReport:
    """What a run did: counts before/after per object type, the accounts, the time taken."""

    seed: int
    scale: int
    seconds: float = 0.0
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    accounts: list[AccountPlan] = field(default_factory=list)
    password: str = content.PASSWORD

    @property
    def created(self) -> dict[str, int]:
        """Rows added per object type by this run."""
        return {label: self.after[label] - self.before.get(label, 0) for label in self.after}


def count_rows() -> dict[str, int]:
    """Current row count of every object type the demo creates."""
    return {label: model._default_manager.count() for label, model in COUNTED}


def seed_demo(
    *,
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    persons: int | None = None,
    village_limit: int | None = None,
    referral_months: int = HISTORY_MONTHS,
    encounter_population: int | None = None,
    log: Log | None = None,
) -> SeedReport:
    """Build the demo county for ``seed`` and ``scale`` (idempotent, deterministic).

    ``persons`` and ``village_limit`` shrink the demo for tests;
    ``referral_months`` is how many full months of referral, diagnostic-order
    and teleconsultation history precede the current one (0 = configuration
    only). ``encounter_population`` is the size of the catchment population
    whose year of encounters and claims is generated (default: scale × 20 000;
    none when a test shrinks the registry with ``persons``). Raises the
    services' exceptions (Invalid, NotAllowed, Conflict) if the database holds
    something that contradicts the plan; nothing is saved then.
    """
    started = time.perf_counter()
    plan = build_plan(seed, scale, persons=persons, village_limit=village_limit)
    report = SeedReport(seed=seed, scale=scale, accounts=plan.accounts, before=count_rows())
    if encounter_population is None and persons is not None:
        # A test that shrinks the registry gets no catchment population unless it asks for one.
        encounter_population = 0
    with transaction.atomic():
        _Seeder(plan, log or (lambda _message: None), referral_months, encounter_population).run()
    report.after = count_rows()
    report.seconds = time.perf_counter() - started
    return report


class _Seeder:
    """One run of the seeder over a plan."""

    def __init__(
        self,
        plan: DemoPlan,
        log: Log,
        referral_months: int = HISTORY_MONTHS,
        encounter_population: int | None = None,
    ) -> None:
        self.plan = plan
        self.log = log
        self.referral_months = referral_months
        self.encounter_population = encounter_population
        self.actor: User | None = None
        self.regions: dict[str, Region] = {}
        self.institutions: dict[str, Institution] = {}
        self.consortia: dict[str, Consortium] = {}
        self.grids: dict[str, Grid] = {}

    @property
    def admin(self) -> User:
        """The acting platform administrator."""
        assert self.actor is not None
        return self.actor

    def run(self) -> None:
        """Create everything in dependency order."""
        self.actor = self._platform_admin()
        self._regions()
        self._institutions()
        self._departments()
        for consortium in self.plan.consortia:
            self._consortium(consortium)
        self._grids()
        self._accounts()
        self._persons()
        ReferralSeeder(
            plan=self.plan,
            admin=self.admin,
            institutions=self.institutions,
            consortia=self.consortia,
            regions=self.regions,
            log=self.log,
            months=self.referral_months,
        ).run()
        # The shared centres and teleconsultation come after referrals: they use its patients and the
        # accounts, and a teleconsultation may end in a referral.
        DiagnosticsSeeder(
            plan=self.plan,
            admin=self.admin,
            institutions=self.institutions,
            consortia=self.consortia,
            log=self.log,
            months=self.referral_months,
        ).run()
        TelemedicineSeeder(
            plan=self.plan,
            admin=self.admin,
            institutions=self.institutions,
            consortia=self.consortia,
            log=self.log,
            months=self.referral_months,
        ).run()
        # Primary care after teleconsultation: teams sign the referral patients too; chronic cases follow
        # the teams, prescriptions the chronic cases; outreach and capacity building stand on their own.
        for seeder in (
            FamilyDoctorsSeeder,
            ChronicCareSeeder,
            PrescriptionsSeeder,
            OutreachSeeder,
            CapacityBuildingSeeder,
        ):
            seeder(
                plan=self.plan,
                admin=self.admin,
                institutions=self.institutions,
                consortia=self.consortia,
                log=self.log,
                months=self.referral_months,
            ).run()
        # The HIS year and the insurance bureau's claims last: the cost stories cost the referrals' stays.
        EncounterSeeder(
            plan=self.plan,
            admin=self.admin,
            institutions=self.institutions,
            consortia=self.consortia,
            log=self.log,
            population=self.encounter_population,
        ).run()
        # Figures last: they count everything above. The outlines draw the cockpit's township map.
        seed_boundaries(actor=self.actor)
        figures = seed_indicators(self.actor)
        self.log(
            f"指标 indicators: {figures['counts'].get('indicator_values', 0)} values over "
            f"{len(figures['months'])} months in {figures['seconds']} s"
        )
        rounds = seed_assessment(self.actor)
        self.log(f"考核 assessment: {len(rounds['schemes'])} schemes, {len(rounds['rounds'])} rounds")

    # Actor -------------------------------------------------------------------

    def _platform_admin(self) -> User:
        """The first active platform admin, or the demo's ``admin`` created as the bootstrap account."""
        existing = (
            User.objects.filter(
                is_active=True, memberships__role=Role.PLATFORM_ADMIN, memberships__is_active=True
            )
            .order_by("date_joined", "pk")
            .first()
        )
        if existing is not None:
            return existing
        plan = self.plan.accounts[0]
        user = User.objects.filter(username=plan.username).first()
        if user is None:
            user = User(username=plan.username, full_name=plan.full_name)
            validate_password(content.PASSWORD, user=user)
            user.set_password(content.PASSWORD)
            user.save()
            record_event(
                actor=BOOTSTRAP_ACTOR,
                action="user.create",
                obj=user,
                after=snapshot(user, account_services.USER_FIELDS),
                details={"source": "seed-demo bootstrap"},
            )
        grant = Membership.objects.create(user=user, role=Role.PLATFORM_ADMIN)
        record_event(
            actor=BOOTSTRAP_ACTOR,
            action="membership.grant",
            obj=grant,
            after={"user": user.username, "role": Role.PLATFORM_ADMIN},
            details={"source": "seed-demo bootstrap"},
        )
        self.log(f"平台管理员 {user.username} 已建立 / bootstrap platform admin created")
        return user

    # Regions -----------------------------------------------------------------

    def _regions(self) -> None:
        result = registry.region_import_csv(actor=self.admin, content=self.plan.region_csv)
        self.log(
            f"行政区划 regions: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
        if self.plan.extra_regions:
            extra = registry.region_import_csv(
                actor=self.admin, content=region_rows_to_csv(self.plan.extra_regions)
            )
            self.log(f"附加行政村 extra villages (scale {self.plan.scale}): {extra.created} created")
        self.regions = {
            region.code: region
            for region in Region.objects.filter(code__startswith=content.PREFECTURE_CODE[:4])
        }
        self.regions.update(
            {region.code: region for region in Region.objects.filter(code=content.PROVINCE_CODE)}
        )

    # Institutions ------------------------------------------------------------

    def _institutions(self) -> None:
        plans = self.plan.institutions
        existing = [
            *_objects_in(Institution.objects.all(), "credit_code", [item.credit_code for item in plans]),
            *_objects_in(Institution.objects.all(), "name", [item.name for item in plans]),
        ]
        by_code = {institution.credit_code: institution for institution in existing}
        by_name = {institution.name: institution for institution in existing}
        created = 0
        for item in plans:
            institution = by_code.get(item.credit_code) or by_name.get(item.name)
            if institution is None:
                institution = registry.institution_create(
                    actor=self.admin,
                    name=item.name,
                    short_name=item.short_name,
                    credit_code=item.credit_code,
                    category=item.category,
                    grade=item.grade,
                    grade_class=item.grade_class,
                    ownership=item.ownership,
                    profit_status=item.profit_status,
                    is_tcm=item.is_tcm,
                    region=self.regions[item.region_code],
                    address=item.address,
                    phone=item.phone,
                    beds=item.beds,
                    description=item.description,
                )
                created += 1
            self.institutions[item.key] = institution
        self.log(f"医疗卫生机构 institutions: {created} created")

    def _departments(self) -> None:
        planned = [item for item in self.plan.institutions if item.departments]
        ids = [self.institutions[item.key].pk for item in planned]
        existing = set(
            Department.objects.filter(institution_id__in=ids).values_list("institution_id", "name")
        )
        created = 0
        for item in planned:
            institution = self.institutions[item.key]
            numbers: Counter[str] = Counter()
            for department in item.departments:
                numbers[department.specialty] += 1
                if (institution.pk, department.name) in existing:
                    continue
                registry.department_create(
                    actor=self.admin,
                    institution=institution,
                    name=department.name,
                    code=f"{department.specialty}{numbers[department.specialty]:02d}",
                    specialty=department.specialty,
                    subject=department.subject,
                    is_clinical=department.clinical,
                    beds=department.beds,
                )
                created += 1
        self.log(f"科室 departments: {created} created")

    # Consortia ---------------------------------------------------------------

    def _consortium(self, plan: ConsortiumPlan) -> None:
        consortium = Consortium.objects.select_related("region").filter(name=plan.name).first()
        lead = self.institutions[plan.lead.institution]
        if consortium is None:
            consortium = registry.consortium_create(
                actor=self.admin,
                name=plan.name,
                type=plan.type,
                region=self.regions[plan.region_code],
                lead_institution=lead,
                integration=plan.integration,
                established_on=plan.established_on,
                description=plan.description,
                joined_on=plan.lead.joined_on,
            )
        self.consortia[plan.key] = consortium
        rows = list(ConsortiumMember.objects.filter(consortium=consortium))
        known = {row.institution_id for row in rows}
        active = {row.institution_id: row for row in rows if row.is_active}
        added = 0
        for member in plan.members[1:]:
            institution = self.institutions[member.institution]
            parent = active.get(self.institutions[member.parent].pk) if member.parent else None
            if institution.pk in known or (member.parent and parent is None):
                continue  # already there (or was), or its planned parent has since left
            row = registry.member_add(
                actor=self.admin,
                consortium=consortium,
                institution=institution,
                role=member.role,
                parent=parent,
                joined_on=member.joined_on,
                notes=member.notes,
            )
            known.add(institution.pk)
            added += 1
            if member.left_on is not None:
                registry.member_remove(
                    actor=self.admin, member=row, left_on=member.left_on, reason=member.leave_reason
                )
            else:
                active[institution.pk] = row
        self._bodies(plan, consortium)
        self._agreements(plan, consortium)
        self.log(f"医联体 {plan.name}: {added} members added")

    def _bodies(self, plan: ConsortiumPlan, consortium: Consortium) -> None:
        existing = set(consortium.management_bodies.values_list("kind", "name"))
        for body in plan.bodies:
            if (body.kind, body.name) in existing:
                continue
            registry.management_body_save(
                actor=self.admin,
                consortium=consortium,
                kind=body.kind,
                name=body.name,
                head_name=body.head_name,
                host_institution=self.institutions[body.host] if body.host else None,
                phone=body.phone,
                duties=body.duties,
            )

    def _agreements(self, plan: ConsortiumPlan, consortium: Consortium) -> None:
        existing = set(consortium.agreements.values_list("title", flat=True))
        for agreement in plan.agreements:
            if agreement.title in existing:
                continue
            lines = [
                f"{consortium.name}",
                f"签署日期：{agreement.signed_on:%Y年%m月%d日}    生效日期：{agreement.effective_from:%Y年%m月%d日}"
                + (f"    失效日期：{agreement.effective_to:%Y年%m月%d日}" if agreement.effective_to else ""),
                "",
                *agreement.body,
                "",
                f"Demo document of yilian ({agreement.filename}).",
            ]
            document = simple_pdf(agreement.title, lines, author=consortium.name)
            registry.agreement_create(
                actor=self.admin,
                consortium=consortium,
                kind=agreement.kind,
                title=agreement.title,
                file=SimpleUploadedFile(agreement.filename, document, content_type="application/pdf"),
                effective_from=agreement.effective_from,
                effective_to=agreement.effective_to,
                signed_on=agreement.signed_on,
                parties=[self.institutions[key] for key in agreement.parties],
                notes=agreement.notes,
            )

    # Grids -------------------------------------------------------------------

    def _grids(self) -> None:
        existing = {
            grid.code: grid for grid in Grid.objects.filter(code__in=[g.code for g in self.plan.grids])
        }
        current = set(
            GridAssignment.objects.filter(grid__in=existing.values(), is_current=True).values_list(
                "grid_id", flat=True
            )
        )
        created = 0
        for plan in self.plan.grids:
            grid = existing.get(plan.code)
            if grid is None:
                grid = registry.grid_create(
                    actor=self.admin,
                    region=self.regions[plan.region_code],
                    code=plan.code,
                    name=plan.name,
                    area_codes=plan.area_codes,
                    population=plan.population,
                    description=plan.description,
                )
                created += 1
            else:
                covered = set(grid.area_links.values_list("area__code", flat=True))
                if not set(plan.area_codes) <= covered:
                    # A larger --scale brought new villages into a village-by-village grid.
                    grid = registry.grid_update(
                        actor=self.admin, grid=grid, area_codes=sorted(covered | set(plan.area_codes))
                    )
            self.grids[plan.code] = grid
            if plan.consortium and grid.pk not in current:
                registry.grid_assign(
                    actor=self.admin,
                    grid=grid,
                    consortium=self.consortia[plan.consortium],
                    assigned_from=content.GRID_ASSIGNED_FROM,
                )
        self.log(f"网格 grids: {created} created")

    # Accounts ----------------------------------------------------------------

    def _accounts(self) -> None:
        users = {
            user.username: user
            for user in user_visible_to(self.admin).filter(
                username__in=[a.username for a in self.plan.accounts]
            )
        }
        grants = set(
            membership_visible_to(self.admin)
            .filter(user__in=users.values(), is_active=True)
            .values_list("user_id", "role", "institution_id", "consortium_id", "region__code")
        )
        created = 0
        for account in self.plan.accounts:
            user = users.get(account.username)
            if user is None:
                user = account_services.user_create(
                    actor=self.admin,
                    password=content.PASSWORD,
                    username=account.username,
                    full_name=account.full_name,
                    phone=account.phone,
                    professional_title=account.professional_title,
                )
                created += 1
            target = self._target(account)
            key = (
                user.pk,
                account.role,
                target["institution"].pk if target["institution"] else None,
                target["consortium"].pk if target["consortium"] else None,
                target["region"].code if target["region"] else None,
            )
            if key in grants:
                continue
            department = None
            if account.department:
                department = Department.objects.get(
                    institution=target["institution"], name=account.department
                )
            account_services.membership_grant(
                actor=self.admin, user=user, role=account.role, department=department, **target
            )
        self.log(f"演示账号 demo accounts: {created} created")

    def _target(self, account: AccountPlan) -> dict[str, Any]:
        return {
            "institution": self.institutions[account.institution] if account.institution else None,
            "consortium": self.consortia[account.consortium] if account.consortium else None,
            "region": self.regions[account.region_code] if account.region_code else None,
        }

    # Persons -----------------------------------------------------------------

    def _persons(self) -> None:
        plans = self.plan.persons
        hashes = [hash_id_number(person.id_number) for person in plans]
        existing = set(_values_in(Person.objects.all(), "id_number_hash", hashes))
        grid_of = dict(
            GridArea.objects.filter(area__code__startswith=content.COUNTY_CODE).values_list(
                "area__code", "grid_id"
            )
        )
        new: list[Person] = []
        for person, digest in zip(plans, hashes, strict=True):
            if digest in existing:
                continue
            existing.add(digest)
            new.append(
                person_row(
                    person,
                    self.regions[person.village_code],
                    grid_of.get(person.village_code) or grid_of.get(person.township_code),
                )
            )
        Person.objects.bulk_create(new, batch_size=500)
        ids = dict(_values_in(Person.objects.all(), "id_number_hash", hashes, "id"))
        links = [
            PersonInstitutionLink(
                person_id=ids[digest],
                institution=self.institutions[self.plan.township_centres[person.township_code]],
                reason=PersonLinkReason.REGISTERED,
            )
            for person, digest in zip(plans, hashes, strict=True)
        ]
        PersonInstitutionLink.objects.bulk_create(links, batch_size=500, ignore_conflicts=True)
        if new:
            record_event(
                actor=self.admin,
                action="person.bulk_create",
                obj=self.regions[content.COUNTY_CODE],
                details={"count": len(new), "source": "seed-demo", "seed": self.plan.seed},
                region_code=content.COUNTY_CODE,
            )
        self.log(f"居民 persons: {len(new)} created")


def _objects_in(queryset: Any, field_name: str, values: Iterable[str]) -> list[Any]:
    """Objects with ``field_name IN values``, chunked below SQLite's parameter limit."""
    values = list(values)
    rows: list[Any] = []
    for start in range(0, len(values), 500):
        rows += list(queryset.filter(**{f"{field_name}__in": values[start : start + 500]}))
    return rows


def _values_in(queryset: Any, field_name: str, values: Iterable[str], *others: str) -> list[Any]:
    """``values_list`` over ``field_name IN values``, chunked below SQLite's parameter limit."""
    values = list(values)
    rows: list[Any] = []
    for start in range(0, len(values), 500):
        chunk = queryset.filter(**{f"{field_name}__in": values[start : start + 500]})
        rows += list(chunk.values_list(field_name, *others, flat=not others))
    return rows


def describe_error(error: Invalid) -> str:
    """One line per field message of an Invalid raised while seeding."""
    return "; ".join(
        f"{name}: {message}" for name, messages in error.as_text().items() for message in messages
    )
