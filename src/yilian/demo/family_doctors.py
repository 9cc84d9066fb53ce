"""Family-doctor contracting in the demo county: packages, teams, a year of contracts, reserved slots.

What ``seed-demo`` adds for the family-doctor pages, deterministically from
the seed and relative to today:

* the county consortium's service packages, set by its office through the
  service: the free basic package and three paid personalised ones;
* the contract team of township 341524101 formed through the services by
  ``township_admin``: ``township_doctor`` (GP, leader), ``township_nurse``,
  ``public_health``, the county hospital's ``endocrinologist`` and
  ``doctor`` as specialists, and ``village_doctor`` (GP at the village
  clinic); the other township centres of the county consortium get one team
  each, written in bulk, led by a GP of their own (an account made through
  the accounts service) with the county hospital's specialists;
* contracts for the residents of each team's grid written in bulk: about a
  third of all residents, two thirds of the priority groups (elderly,
  children, and the chronic and other groups drawn from age), signed over
  the last two years, so some were renewed, some expired and a few
  terminated; each with its terms, priority groups and the ``contract`` link
  of the resident to the township centre;
* two live contracts signed through the service by ``township_doctor``;
* outpatient slots the county hospital keeps for signed residents for the
  next two weeks (cardiology and endocrinology), published by its
  coordinator, and the green-channel flag on the referrals of residents
  signed when they were submitted.

Everything is skipped when the county consortium's township centres already
have teams, so a second run changes nothing.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.services import staff_account_create
from yilian.core.permissions import Role
from yilian.demo import content
from yilian.demo.plan import DemoPlan
from yilian.family_doctors import services as fd
from yilian.family_doctors.choices import (
    ACTIVE_STATUSES,
    ContractStatus,
    PackageKind,
    PriorityGroup,
    TeamMemberRole,
    TerminationReason,
)
from yilian.family_doctors.models import (
    CareTeam,
    CareTeamMember,
    ContractPriorityGroup,
    ContractTerm,
    FamilyDoctorContract,
    ServicePackage,
)
from yilian.institutions.models import ConsortiumMember, Department, GridArea, Institution
from yilian.people.choices import PersonLinkReason
from yilian.people.models import Person, PersonInstitutionLink

PACKAGES = (
    (
        "基础服务包",
        PackageKind.BASIC,
        Decimal("0"),
        "全体签约居民",
        "建立和管理居民健康档案\n一般常见病、多发病诊疗与健康咨询\n国家基本公共卫生服务（慢病随访每年至少4次、老年人年度体检等）"
        "\n转诊绿色通道：优先上转牵头医院、预约专家号源\n家庭医生电话或上门随访（行动不便者）",
    ),
    (
        "高血压糖尿病个性化服务包",
        PackageKind.PERSONALISED,
        Decimal("120"),
        "高血压、2型糖尿病患者",
        "每月血压/血糖监测与用药指导\n每年一次糖化血红蛋白、尿微量白蛋白检查\n牵头医院专科医生年度评估\n长处方与延伸处方",
    ),
    (
        "老年人健康管理服务包",
        PackageKind.PERSONALISED,
        Decimal("100"),
        "65岁及以上老年人",
        "年度体检加做心电图、腹部彩超\n中医体质辨识与调养指导\n季度上门随访\n跌倒风险评估",
    ),
    (
        "孕产妇与儿童服务包",
        PackageKind.PERSONALISED,
        Decimal("80"),
        "孕产妇、0–6岁儿童",
        "孕期随访与高危筛查\n产后访视两次\n儿童生长发育评估与预防接种提醒",
    ),
)

SIGN_SHARE = 0.25
"""Share of residents outside the priority groups who sign (national overall rate ≈ 30–40 %)."""
PRIORITY_SIGN_SHARE = 0.6
"""Share of priority-group residents who sign (≈ 60–70 %)."""
RESERVED_DAYS = 14
RESERVED_PER_DAY = 3


def _age(birth: datetime.date | None, day: datetime.date) -> int:
    if birth is None:
        return 40
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _one_year(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1) - datetime.timedelta(days=1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass
class FamilyDoctorsSeeder:
    """Seeds the demo county's family-doctor contracting; a second run changes nothing."""

    plan: DemoPlan
    admin: User
    institutions: dict[str, Any]
    consortia: dict[str, Any]
    log: Any
    months: int

    def run(self) -> None:
        """Packages, teams, contracts, live signings, reserved slots and the green-channel flags."""
        consortium = self.consortia.get("county")
        if consortium is None:
            return
        self.rng = random.Random(f"{self.plan.seed}-family-doctors")
        self.today = timezone.localdate()
        self.users = {u.username: u for u in User.objects.filter(username__in=self._usernames())}
        centres = self._township_centres(consortium)
        if not centres or CareTeam.objects.filter(institution__in=centres).exists():
            self.log("家庭医生签约 family doctors: already seeded")
            return
        packages = self._packages(consortium)
        teams = self._teams(centres)
        counts = self._contracts(teams, packages)
        live = self._live(teams, packages)
        slots = self._reserved_slots()
        flagged = self._green_channel()
        self.log(
            f"家庭医生签约 family doctors: {len(packages)} packages, {len(teams)} teams, "
            f"{counts} contracts, {live} live, {slots} reserved slot days, {flagged} green-channel referrals"
        )

    # Actors ------------------------------------------------------------------

    @staticmethod
    def _usernames() -> list[str]:
        return [
            "office",
            "township_admin",
            "township_doctor",
            "township_nurse",
            "public_health",
            "endocrinologist",
            "doctor",
            "village_doctor",
            "coordinator",
        ]

    def _township_centres(self, consortium: Any) -> list[Institution]:
        members = set(
            ConsortiumMember.objects.filter(consortium=consortium, is_active=True).values_list(
                "institution_id", flat=True
            )
        )
        centres = [
            institution
            for key, institution in sorted(self.institutions.items())
            if key.startswith("township:") and institution.pk in members
        ]
        return centres

    # Packages ----------------------------------------------------------------

    def _packages(self, consortium: Any) -> dict[str, ServicePackage]:
        office = self.users.get("office") or self.admin
        existing = {p.name: p for p in ServicePackage.objects.filter(consortium=consortium)}
        for name, kind, price, groups, contents in PACKAGES:
            if name not in existing:
                existing[name] = fd.package_create(
                    actor=office,
                    consortium=consortium,
                    name=name,
                    kind=kind,
                    annual_price=price,
                    target_groups=groups,
                    contents=contents,
                )
        return existing

    # Teams -------------------------------------------------------------------

    def _grid_of(self, institution: Institution) -> int | None:
        code = institution.region.code if institution.region_id else ""
        areas = (
            GridArea.objects.filter(area__code__startswith=code[:9])
            .values_list("grid_id", flat=True)
            .order_by("grid_id")
        )
        counted: dict[int, int] = defaultdict(int)
        for grid_id in areas:
            counted[grid_id] += 1
        return max(counted, key=lambda g: counted[g]) if counted else None

    def _teams(self, centres: list[Institution]) -> list[CareTeam]:
        teams: list[CareTeam] = []
        home = self.institutions.get("township:341524101")
        for centre in centres:
            grid_id = self._grid_of(centre)
            if grid_id is None:
                continue
            if home is not None and centre.pk == home.pk and "township_admin" in self.users:
                teams.append(self._live_team(centre, grid_id))
            else:
                teams.append(self._bulk_team(centre, grid_id))
        return teams

    def _live_team(self, centre: Institution, grid_id: int) -> CareTeam:
        """The demo accounts' team, formed through the services as its admin would."""
        from yilian.institutions.models import Grid

        u = self.users
        admin = u["township_admin"]
        street = centre.short_name or centre.name.removesuffix("卫生院")
        team = fd.team_create(
            actor=admin,
            institution=centre,
            name=f"{street}家庭医生团队（何俊团队）",
            grid=Grid.objects.get(pk=grid_id),
            description="全科医生牵头，县医院内分泌科、心内科专家加入，负责本镇及所辖村居民签约服务。",
            leader=u["township_doctor"],
        )
        for username, role in (
            ("township_nurse", TeamMemberRole.NURSE),
            ("public_health", TeamMemberRole.PUBLIC_HEALTH),
            ("endocrinologist", TeamMemberRole.SPECIALIST),
            ("doctor", TeamMemberRole.SPECIALIST),
            ("village_doctor", TeamMemberRole.GENERAL_PRACTITIONER),
        ):
            if username in u:
                fd.team_member_add(
                    actor=admin,
                    team=team,
                    user=u[username],
                    role=role,
                    joined_on=self.today - datetime.timedelta(days=700),
                )
        CareTeamMember.objects.filter(team=team).update(joined_on=self.today - datetime.timedelta(days=730))
        return team

    def _bulk_team(self, centre: Institution, grid_id: int) -> CareTeam:
        """A team of another township centre led by a GP of its own (a staff account made through the
        accounts service) with the county hospital's specialists."""
        code = centre.region.code if centre.region_id else f"{centre.pk}"
        street = centre.short_name or centre.name.removesuffix("卫生院")
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        given = "建国志强秀英海燕玉兰明华春梅国庆红霞文军"
        # One GP per centre, through the accounts service (audited like every demo account).
        username = f"fd_{code}_gp"
        gp = User.objects.filter(username=username).first()
        if gp is None:
            name = self.rng.choice(surnames) + self.rng.choice(given[::2]) + self.rng.choice(given[1::2])
            gp, _membership = staff_account_create(
                actor=self.admin,
                institution=centre,
                role=Role.DOCTOR,
                password=content.PASSWORD,
                username=username,
                full_name=name,
                professional_title="attending_physician",
            )
        team = CareTeam.objects.create(
            institution=centre,
            name=f"{street}家庭医生团队",
            grid_id=grid_id,
            name_initials="",
            name_pinyin="",
            description="全科医生、护士与县医院专科医生组成的签约团队。",
        )
        from yilian.core.text import pinyin_full, pinyin_initials

        CareTeam.objects.filter(pk=team.pk).update(
            name_initials=pinyin_initials(team.name), name_pinyin=pinyin_full(team.name)
        )
        joined = self.today - datetime.timedelta(days=730)
        hospital = self.institutions.get("county_hospital")
        rows = [
            CareTeamMember(
                team=team,
                user=gp,
                institution=centre,
                role=TeamMemberRole.GENERAL_PRACTITIONER,
                is_leader=True,
                joined_on=joined,
            ),
        ]
        if hospital is not None:
            for username in ("endocrinologist", "doctor"):
                if username in self.users:
                    rows.append(
                        CareTeamMember(
                            team=team,
                            user=self.users[username],
                            institution=hospital,
                            role=TeamMemberRole.SPECIALIST,
                            joined_on=joined,
                        )
                    )
        CareTeamMember.objects.bulk_create(rows)
        return team

    # Contracts ---------------------------------------------------------------

    def _groups_of(self, birth: datetime.date | None, gender: str) -> list[str]:
        age = _age(birth, self.today)
        groups = []
        if age >= 65:
            groups.append(PriorityGroup.ELDERLY)
        if age <= 6:
            groups.append(PriorityGroup.CHILDREN)
        if age >= 35 and self.rng.random() < 0.12 + 0.004 * max(age - 35, 0):
            groups.append(PriorityGroup.HYPERTENSION)
        if age >= 35 and self.rng.random() < 0.05 + 0.002 * max(age - 35, 0):
            groups.append(PriorityGroup.DIABETES)
        if gender == "2" and 20 <= age <= 40 and self.rng.random() < 0.05:
            groups.append(PriorityGroup.PREGNANT)
        if self.rng.random() < 0.02:
            groups.append(PriorityGroup.DISABLED)
        if self.rng.random() < 0.05:
            groups.append(PriorityGroup.POOR)
        return groups

    def _package_for(self, groups: list[str], packages: dict[str, ServicePackage]) -> ServicePackage:
        basic = packages["基础服务包"]
        if self.rng.random() > 0.15:
            return basic
        if PriorityGroup.HYPERTENSION in groups or PriorityGroup.DIABETES in groups:
            return packages["高血压糖尿病个性化服务包"]
        if PriorityGroup.ELDERLY in groups:
            return packages["老年人健康管理服务包"]
        if PriorityGroup.PREGNANT in groups or PriorityGroup.CHILDREN in groups:
            return packages["孕产妇与儿童服务包"]
        return basic

    def _residents_by_team(self, teams: list[CareTeam]) -> list[tuple[CareTeam, int, Any, str]]:
        """Each resident of a team's grid once, with the team of their township (several township
        centres may share a grid), else one of the grid's teams."""
        by_grid: dict[int, list[CareTeam]] = defaultdict(list)
        for team in teams:
            by_grid[team.grid_id].append(team)
        prefixes = {team.pk: team.institution.region.code[:9] for team in teams if team.institution.region_id}
        rows = (
            Person.objects.filter(home_grid_id__in=list(by_grid))
            .order_by("pk")
            .values_list("pk", "birth_date", "gender", "home_grid_id", "address_region__code")
        )
        assigned = []
        for person_id, birth, gender, grid_id, region_code in rows:
            candidates = by_grid[grid_id]
            team = next(
                (t for t in candidates if region_code and region_code.startswith(prefixes.get(t.pk, "-"))),
                candidates[person_id % len(candidates)],
            )
            assigned.append((team, person_id, birth, gender))
        return assigned

    def _contracts(self, teams: list[CareTeam], packages: dict[str, ServicePackage]) -> int:
        """A year (and a bit) of contracts per team's grid, in bulk."""
        signers = dict(
            CareTeamMember.objects.filter(team__in=teams, is_leader=True).values_list("team_id", "user_id")
        )
        taken = set(
            FamilyDoctorContract.objects.filter(status__in=ACTIVE_STATUSES).values_list(
                "person_id", flat=True
            )
        )
        sequence: dict[datetime.date, int] = defaultdict(int)
        contracts: list[FamilyDoctorContract] = []
        extras: list[tuple[FamilyDoctorContract, list[str], list[tuple[datetime.date, datetime.date]]]] = []
        for team, person_id, birth, gender in self._residents_by_team(teams):
            if person_id in taken:
                continue
            groups = self._groups_of(birth, gender)
            share = PRIORITY_SIGN_SHARE if groups else SIGN_SHARE
            if self.rng.random() >= share:
                continue
            taken.add(person_id)
            start = self.today - datetime.timedelta(days=self.rng.randint(0, 700))
            terms = [(start, _one_year(start))]
            status = ContractStatus.SIGNED
            if terms[-1][1] < self.today:
                roll = self.rng.random()
                if roll < 0.72:
                    next_start = terms[-1][1] + datetime.timedelta(days=1)
                    terms.append((next_start, _one_year(next_start)))
                    status = ContractStatus.RENEWED
                else:
                    status = ContractStatus.EXPIRED
            terminated_on = None
            reason = ""
            if status != ContractStatus.EXPIRED and self.rng.random() < 0.035:
                status = ContractStatus.TERMINATED
                terminated_on = min(
                    self.today, terms[-1][0] + datetime.timedelta(days=self.rng.randint(20, 300))
                )
                reason = self.rng.choice(
                    [
                        TerminationReason.MOVED_AWAY,
                        TerminationReason.RESIDENT_REQUEST,
                        TerminationReason.DECEASED,
                    ]
                )
            if status not in ACTIVE_STATUSES:
                taken.discard(person_id)
            package = self._package_for(groups, packages)
            sequence[start] += 1
            contract = FamilyDoctorContract(
                public_id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                number=f"QY{start:%Y%m%d}{sequence[start] + 50000:05d}",
                person_id=person_id,
                team=team,
                institution_id=team.institution_id,
                package=package,
                annual_price=package.annual_price,
                status=status,
                starts_on=start,
                term_starts_on=terms[-1][0],
                ends_on=terms[-1][1],
                terms=len(terms),
                signed_by_id=signers.get(team.pk),
                terminated_on=terminated_on,
                termination_reason=reason,
                terminated_by_id=signers.get(team.pk) if terminated_on else None,
            )
            contracts.append(contract)
            extras.append((contract, groups, terms))
        with transaction.atomic():
            FamilyDoctorContract.objects.bulk_create(contracts, batch_size=1000)
            ids = dict(
                FamilyDoctorContract.objects.filter(number__in=[c.number for c in contracts]).values_list(
                    "number", "pk"
                )
            )
            term_rows = []
            group_rows = []
            for contract, groups, terms in extras:
                pk = ids[contract.number]
                for index, (first, last) in enumerate(terms, 1):
                    term_rows.append(
                        ContractTerm(
                            contract_id=pk,
                            sequence=index,
                            package=contract.package,
                            annual_price=contract.annual_price,
                            starts_on=first,
                            ends_on=last,
                            recorded_by_id=contract.signed_by_id,
                        )
                    )
                group_rows += [ContractPriorityGroup(contract_id=pk, group=g) for g in groups]
            ContractTerm.objects.bulk_create(term_rows, batch_size=2000)
            ContractPriorityGroup.objects.bulk_create(group_rows, batch_size=2000)
            PersonInstitutionLink.objects.bulk_create(
                [
                    PersonInstitutionLink(
                        person_id=c.person_id,
                        institution_id=c.institution_id,
                        reason=PersonLinkReason.CONTRACT,
                    )
                    for c in contracts
                ],
                batch_size=1000,
                ignore_conflicts=True,
            )
        return len(contracts)

    def _live(self, teams: list[CareTeam], packages: dict[str, ServicePackage]) -> int:
        """Two residents signed today through the service by the team's GP."""
        doctor = self.users.get("township_doctor")
        team = next(
            (t for t in teams if doctor and t.members.filter(user=doctor, left_on__isnull=True).exists()),
            None,
        )
        if team is None:
            return 0
        signed = set(
            FamilyDoctorContract.objects.filter(
                person__home_grid_id=team.grid_id, status__in=ACTIVE_STATUSES
            ).values_list("person_id", flat=True)
        )
        candidates = [
            p
            for p in Person.objects.filter(home_grid_id=team.grid_id).order_by("-birth_date", "pk")[:200]
            if p.pk not in signed
        ]
        done = 0
        for person in candidates[:2]:
            groups = [
                g
                for g in (PriorityGroup.ELDERLY, PriorityGroup.CHILDREN)
                if g in fd.selectors.suggested_groups(person)
            ]
            fd.contract_sign(
                actor=doctor,
                team=team,
                person=person,
                package=packages["基础服务包"],
                priority_groups=groups,
                notes="门诊签约",
            )
            done += 1
        return done

    # Referral priority ---------------------------------------------------------

    def _reserved_slots(self) -> int:
        """Outpatient slots the county hospital keeps for signed residents, through the referral service."""
        from yilian.referrals.services import capacity_publish

        hospital = self.institutions.get("county_hospital")
        coordinator = self.users.get("coordinator")
        if hospital is None or coordinator is None:
            return 0
        departments = list(
            Department.objects.filter(institution=hospital, name__in=["内分泌科", "心血管内科"])
        )
        published = 0
        for offset in range(1, RESERVED_DAYS + 1):
            day = self.today + datetime.timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for department in departments:
                capacity_publish(
                    actor=coordinator,
                    department=department,
                    kind="outpatient_slot",
                    date=day,
                    quantity=RESERVED_PER_DAY,
                    signed_residents_only=True,
                )
                published += 1
        return published

    def _green_channel(self) -> int:
        """Up-referrals submitted while their patient had a contract in force carry the green-channel flag
        (a priority into the hospital: down- and lateral referrals never do, as in the service)."""
        from django.db.models import Exists, OuterRef

        from yilian.referrals.models import Referral

        contracts = FamilyDoctorContract.objects.filter(
            person_id=OuterRef("person_id"),
            starts_on__lte=OuterRef("submitted_at__date"),
            ends_on__gte=OuterRef("submitted_at__date"),
        ).exclude(status=ContractStatus.TERMINATED, terminated_on__lt=OuterRef("submitted_at__date"))
        return (
            Referral.objects.filter(submitted_at__isnull=False, signed_resident=False, direction="up")
            .filter(Exists(contracts))
            .update(signed_resident=True)
        )
