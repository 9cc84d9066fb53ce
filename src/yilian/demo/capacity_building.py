"""Capacity building in the demo county: a year of training, fellowships, new techniques, equipment support.

What ``seed-demo`` adds for the 能力建设 pages, deterministically from the
seed and relative to today:

* about fifty courses of the county hospital over the past year (teaching
  rounds, joint film reading, nursing training, lectures, skills contests),
  some held at township centres, some online, a few coming up and one
  cancelled, with sign-ins of the township demo accounts and of named staff
  of the township centres and village clinics;
* fellowships of the township and village demo accounts at the county
  hospital in every state (completed with certificates, in progress,
  planned, withdrawn);
* a dozen techniques introduced at township centres with the county
  hospital's departments (most confirmed by the office, two waiting, one
  returned) and their case reports;
* devices donated or lent by the county hospital: an electrocardiograph in
  most village clinics (the 2024 indicator "village ECG coverage"), blood
  and biochemistry analysers, ultrasound, DR and defibrillators at township
  centres; a year of repair requests in every state worked by the
  ``engineer`` account;
* a few live records through the real services: a teaching round published
  and signed in today by ``doctor``, a fellowship applied for by
  ``township_admin``, a technique waiting for the office, a device lent by
  ``hospital_admin``, fault reports taken by ``engineer``.

The history is written in bulk only while the county consortium has no
course yet, so a second run changes nothing.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yilian.accounts.models import Membership, User
from yilian.capacity_building import services as capacity
from yilian.capacity_building.choices import (
    AssessmentResult,
    CourseKind,
    CourseMode,
    CourseStatus,
    DeviceType,
    FellowshipStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueCategory,
    TechniqueStatus,
)
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueCaseUpdate,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)
from yilian.demo import generators
from yilian.demo.plan import DemoPlan
from yilian.institutions.models import ConsortiumMember, Department, Institution

Log = Callable[[str], None]

COURSES: tuple[tuple[str, str, str, str], ...] = (
    # kind, department, title, trainer
    (CourseKind.TEACHING_ROUND, "心血管内科", "急性胸痛的识别与转诊教学查房", "程立新 主任医师"),
    (CourseKind.TEACHING_ROUND, "内分泌科", "2 型糖尿病胰岛素起始治疗教学查房", "胡志明 副主任医师"),
    (CourseKind.TEACHING_ROUND, "神经内科", "急性脑卒中早期识别（FAST）教学查房", "神经内科 主任医师"),
    (CourseKind.TEACHING_ROUND, "呼吸与危重症医学科", "慢阻肺急性加重期管理教学查房", "呼吸科 副主任医师"),
    (CourseKind.FILM_READING, "医学影像科", "胸部 DR 常见病联合读片", "影像科 主任医师"),
    (CourseKind.FILM_READING, "心血管内科", "常见心律失常心电图联合读片", "心电图室 主治医师"),
    (CourseKind.FILM_READING, "医学影像科", "腹部超声联合读片", "超声科 副主任医师"),
    (CourseKind.NURSING_TRAINING, "心血管内科", "高血压患者居家护理与随访技巧", "陈雪梅 主管护师"),
    (CourseKind.NURSING_TRAINING, "急诊科", "心肺复苏与 AED 使用培训", "急诊科 护士长"),
    (CourseKind.NURSING_TRAINING, "内分泌科", "糖尿病足护理与胰岛素注射规范", "内分泌科 主管护师"),
    (CourseKind.LECTURE, "心血管内科", "《国家基层高血压防治管理指南》解读", "程立新 主任医师"),
    (CourseKind.LECTURE, "内分泌科", "基层糖尿病分级诊疗与转诊标准", "胡志明 副主任医师"),
    (CourseKind.LECTURE, "中医科", "中医适宜技术在基层的推广应用", "中医科 主任医师"),
    (CourseKind.COURSE, "急诊科", "基层急诊急救能力提升培训班", "急诊科 团队"),
    (CourseKind.COURSE, "检验科", "基层检验质量控制培训班", "检验科 主任技师"),
    (CourseKind.SKILLS_CONTEST, "急诊科", "医共体基层医务人员急救技能竞赛", "急诊科 评委组"),
)

TECHNIQUES: tuple[tuple[str, str, str], ...] = (
    # name, category, supporting department
    ("十二导联心电图远程诊断", TechniqueCategory.DIAGNOSTIC, "心血管内科"),
    ("动态血压监测", TechniqueCategory.DIAGNOSTIC, "心血管内科"),
    ("胰岛素泵强化治疗", TechniqueCategory.THERAPEUTIC, "内分泌科"),
    ("糖尿病足早期筛查", TechniqueCategory.DIAGNOSTIC, "内分泌科"),
    ("腹部超声检查", TechniqueCategory.DIAGNOSTIC, "医学影像科"),
    ("无痛胃镜检查", TechniqueCategory.DIAGNOSTIC, "消化内科"),
    ("清创缝合与浅表肿物切除", TechniqueCategory.SURGICAL, "普外科"),
    ("PICC 置管维护", TechniqueCategory.NURSING, "心血管内科"),
    ("针刺治疗颈肩腰腿痛", TechniqueCategory.TCM, "中医科"),
    ("艾灸与穴位贴敷", TechniqueCategory.TCM, "中医科"),
    ("小针刀疗法", TechniqueCategory.TCM, "中医科"),
    ("脑卒中康复训练", TechniqueCategory.THERAPEUTIC, "康复医学科"),
    ("肺功能检查", TechniqueCategory.DIAGNOSTIC, "呼吸与危重症医学科"),
)

DEVICES: dict[str, tuple[str, str, Decimal]] = {
    # type: name, model, value
    DeviceType.ECG: ("十二导心电图机", "ECG-1200G", Decimal("18600")),
    DeviceType.BLOOD_ANALYSER: ("三分类血细胞分析仪", "BC-2800", Decimal("42000")),
    DeviceType.BIOCHEMISTRY: ("全自动生化分析仪", "BS-240", Decimal("168000")),
    DeviceType.ULTRASOUND: ("便携式彩色多普勒超声诊断仪", "M7", Decimal("286000")),
    DeviceType.XRAY: ("数字化 X 线摄影系统（DR）", "DigiEye 330", Decimal("620000")),
    DeviceType.DEFIBRILLATOR: ("自动体外除颤器（AED）", "BeneHeart C2", Decimal("21800")),
}

FAULTS = {
    DeviceType.ECG: ("打印纸走纸不畅，波形打印不全", "导联线接触不良，胸导联信号干扰大", "开机后屏幕无显示"),
    DeviceType.BLOOD_ANALYSER: ("白细胞计数偏低，质控失控", "吸样针堵塞报警"),
    DeviceType.BIOCHEMISTRY: ("比色杯清洗报警", "反应盘温度异常"),
    DeviceType.ULTRASOUND: ("探头图像出现暗带", "系统频繁死机"),
    DeviceType.XRAY: ("平板探测器无法连接", "曝光后无图像"),
    DeviceType.DEFIBRILLATOR: ("自检报警，电池电量低",),
}
REPAIRS = {
    DeviceType.ECG: ("更换热敏打印头并校准走纸", "更换导联线", "更换电源板"),
    DeviceType.BLOOD_ANALYSER: ("清洗管路并重新质控", "疏通吸样针，更换密封圈"),
    DeviceType.BIOCHEMISTRY: ("更换清洗泵", "更换温控传感器"),
    DeviceType.ULTRASOUND: ("探头晶片老化，返厂更换", "重装系统并升级软件"),
    DeviceType.XRAY: ("更换探测器通信线缆", "更换高压发生器保险并校准"),
    DeviceType.DEFIBRILLATOR: ("更换电池组",),
}


@dataclass
class CapacityBuildingSeeder:
    """Seeds the demo county's capacity building records; a second run changes nothing."""

    plan: DemoPlan
    admin: User
    institutions: dict[str, Any]
    consortia: dict[str, Any]
    log: Any
    months: int

    def run(self) -> None:
        """The year of history in bulk, then the live records through the services (once)."""
        county = self.consortia.get("county")
        hospital = self.institutions.get("county_hospital")
        if county is None or hospital is None or self.months <= 0:
            return
        if TrainingCourse.objects.filter(consortium=county).exists():
            self.log("能力建设演示数据已存在，跳过 / capacity building already seeded, skipped")
            return
        self.county, self.hospital = county, hospital
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.rng = generators.rng(self.plan.seed, "capacity")
        usernames = [account.username for account in self.plan.accounts]
        self.users = {user.username: user for user in User.objects.filter(username__in=usernames)}
        self.account_home = {
            account.username: self.institutions.get(account.institution)
            for account in self.plan.accounts
            if account.institution
        }
        self.departments = {d.name: d for d in Department.objects.filter(institution=hospital)}
        members = set(
            ConsortiumMember.objects.filter(consortium=county, is_active=True).values_list(
                "institution_id", flat=True
            )
        )
        self.townships = [
            self.institutions[key]
            for key in sorted(self.plan.township_centres.values())
            if key in self.institutions and self.institutions[key].pk in members
        ]
        self.villages = [
            self.institutions[key]
            for key in sorted(self.plan.village_clinics.values())
            if key in self.institutions and self.institutions[key].pk in members
        ]
        # Staff accounts of the members made by other seeders (the family-doctor teams' roster GPs and
        # nurses), signed in by account like the demo accounts.
        demo_names = set(self.users)
        self.roster: dict[int, list[User]] = {}
        for membership in (
            Membership.objects.filter(
                is_active=True, institution__in=self.townships + self.villages, user__is_active=True
            )
            .exclude(user__username__in=demo_names)
            .select_related("user")
            .order_by("user__username")
        ):
            self.roster.setdefault(membership.institution_id, []).append(membership.user)
        for phase in (self._courses, self._fellowships, self._techniques, self._devices, self._live):
            started = time.perf_counter()
            phase()
            self.log(f"  ({phase.__name__}: {time.perf_counter() - started:.1f} s)")

    # Helpers ----------------------------------------------------------------------------------------

    def _user(self, username: str) -> User | None:
        return self.users.get(username)

    def _names(self, institution: Institution, count: int) -> list[str]:
        """Stable names of an institution's staff (not accounts), for sign-ins."""
        names = generators.rng(self.plan.seed, "capacity-staff", institution.credit_code)
        found: list[str] = []
        while len(found) < count:
            name = generators.person_name(
                names, names.choice("12"), datetime.date(names.randint(1965, 1998), 6, 1)
            )
            if name not in found:
                found.append(name)
        return found

    def _moment(self, day: datetime.date, hour: int) -> datetime.datetime:
        return timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(hour, self.rng.randint(0, 50)))
        )

    # Courses ----------------------------------------------------------------------------------------

    def _courses(self) -> None:
        r = self.rng
        creator = self._user("doctor")
        rows: list[TrainingCourse] = []
        venues: list[Institution | None] = []
        days = 365
        count = 48
        for index in range(count):
            kind, department, title, trainer = COURSES[index % len(COURSES)]
            offset = days - int(index * days / count) - r.randint(0, 4)
            starts_on = self.today - datetime.timedelta(days=offset)
            venue = r.choice(self.townships) if self.townships and r.random() < 0.35 else None
            online = (
                venue is None and kind in (CourseKind.LECTURE, CourseKind.FILM_READING) and r.random() < 0.5
            )
            length = 2 if kind == CourseKind.COURSE else 0
            rows.append(
                TrainingCourse(
                    consortium=self.county,
                    organiser=self.hospital,
                    organiser_department=self.departments.get(department),
                    kind=kind,
                    title=title,
                    topic=f"面向医共体成员单位医务人员：{title}。",
                    trainers=trainer,
                    mode=CourseMode.ONLINE if online else CourseMode.ON_SITE,
                    place="医共体远程教学平台" if online else ("" if venue else "县人民医院学术报告厅"),
                    venue=venue,
                    starts_on=starts_on,
                    ends_on=starts_on + datetime.timedelta(days=length),
                    hours=Decimal(str(12 if kind == CourseKind.COURSE else r.choice((1.5, 2, 2, 3)))),
                    credits=Decimal("1" if kind in (CourseKind.COURSE, CourseKind.LECTURE) else "0.5"),
                    status=CourseStatus.HELD,
                    created_by=creator,
                )
            )
            venues.append(venue)
        # Coming up, and one cancelled.
        for days_ahead, (kind, department, title, trainer) in (
            (6, COURSES[0]),
            (13, COURSES[7]),
            (20, COURSES[4]),
        ):
            rows.append(
                TrainingCourse(
                    consortium=self.county,
                    organiser=self.hospital,
                    organiser_department=self.departments.get(department),
                    kind=kind,
                    title=title,
                    trainers=trainer,
                    mode=CourseMode.ON_SITE,
                    place="县人民医院学术报告厅",
                    starts_on=self.today + datetime.timedelta(days=days_ahead),
                    ends_on=self.today + datetime.timedelta(days=days_ahead),
                    hours=Decimal("2"),
                    credits=Decimal("0.5"),
                    status=CourseStatus.PLANNED,
                    created_by=creator,
                )
            )
        rows[len(rows) // 2].status = CourseStatus.CANCELLED
        rows[len(rows) // 2].cancel_reason = "授课专家临时承担援外任务，改期举办"
        TrainingCourse.objects.bulk_create(rows)
        attendances: list[TrainingAttendance] = []
        accounts = [
            name
            for name in ("township_doctor", "township_nurse", "public_health", "village_doctor")
            if self._user(name)
        ]
        pool = self.townships + self.villages[: max(4, len(self.villages) // 3)]
        members_by_pk = {i.pk: i for i in self.townships + self.villages}
        for course, venue in zip(rows, venues + [None] * (len(rows) - len(venues)), strict=False):
            if course.status != CourseStatus.HELD:
                continue
            signed_at = self._moment(course.starts_on, 9 if r.random() < 0.6 else 14)
            for username in accounts:
                if r.random() < 0.45:
                    user = self.users[username]
                    home = self.account_home.get(username)
                    attendances.append(
                        TrainingAttendance(
                            course=course,
                            user=user,
                            name=user.full_name or username,
                            institution=home,
                            institution_name=home.name if home else "",
                            signed_in_at=signed_at,
                        )
                    )
            signed_users = {row.user_id for row in attendances if row.course is course and row.user_id}
            for institution_pk, staff in self.roster.items():
                for user in staff:
                    if user.pk not in signed_users and r.random() < 0.3:
                        signed_users.add(user.pk)
                        home = members_by_pk[institution_pk]
                        attendances.append(
                            TrainingAttendance(
                                course=course,
                                user=user,
                                name=user.full_name or user.username,
                                institution=home,
                                institution_name=home.name,
                                signed_in_at=signed_at,
                            )
                        )
            chosen = ([venue] if venue else []) + r.sample(pool, k=min(len(pool), r.randint(3, 7)))
            for institution in dict.fromkeys(chosen):
                for name in r.sample(self._names(institution, 8), k=r.randint(1, 4)):
                    attendances.append(
                        TrainingAttendance(
                            course=course,
                            name=name,
                            institution=institution,
                            institution_name=institution.name,
                            signed_in_at=signed_at,
                        )
                    )
        TrainingAttendance.objects.bulk_create(attendances)
        self.log(f"培训 courses: {len(rows)}, 签到 sign-ins: {len(attendances)}")

    # Fellowships ------------------------------------------------------------------------------------

    def _fellowships(self) -> None:
        teacher = self._user("doctor")
        rows: list[Fellowship] = []

        def add(
            username: str, department: str, start_ago: int, months: int, status: str, **extra: Any
        ) -> None:
            trainee, home = self._user(username), self.account_home.get(username)
            if trainee is None or home is None or department not in self.departments:
                return
            planned = self.today - datetime.timedelta(days=start_ago)
            rows.append(
                Fellowship(
                    consortium=self.county,
                    trainee=trainee,
                    home_institution=home,
                    host_institution=self.hospital,
                    host_department=self.departments[department],
                    supervisor=teacher if department == "心血管内科" else self._user("endocrinologist"),
                    specialty_goal=f"{department}常见病诊疗与基层适宜技术",
                    planned_start=planned,
                    planned_months=months,
                    status=status,
                    **extra,
                )
            )

        year = self.today.year
        add(
            "township_doctor",
            "心血管内科",
            340,
            6,
            FellowshipStatus.COMPLETED,
            started_on=self.today - datetime.timedelta(days=338),
            ended_on=self.today - datetime.timedelta(days=155),
            assessment=AssessmentResult.EXCELLENT,
            certificate_number=f"JZ-JX-{year - 1}-0107",
            assessment_note="熟练掌握常见心律失常心电图判读",
        )
        add(
            "public_health",
            "内分泌科",
            150,
            3,
            FellowshipStatus.COMPLETED,
            started_on=self.today - datetime.timedelta(days=148),
            ended_on=self.today - datetime.timedelta(days=57),
            assessment=AssessmentResult.GOOD,
            certificate_number=f"JZ-JX-{year}-0032",
        )
        add(
            "township_nurse",
            "心血管内科",
            200,
            3,
            FellowshipStatus.WITHDRAWN,
            withdraw_reason="卫生院人手紧张，推迟选派",
        )
        add(
            "township_nurse",
            "内分泌科",
            45,
            3,
            FellowshipStatus.IN_PROGRESS,
            started_on=self.today - datetime.timedelta(days=43),
        )
        add("village_doctor", "心血管内科", -25, 2, FellowshipStatus.PLANNED)
        # Roster GPs and nurses of other township centres: completed last year, some under way now.
        departments = [
            d for d in ("心血管内科", "内分泌科", "神经内科", "急诊科", "中医科") if d in self.departments
        ]
        roster = [(pk, user) for pk, staff in sorted(self.roster.items()) for user in staff]
        institutions = {i.pk: i for i in self.townships + self.villages}
        for index, (institution_pk, user) in enumerate(roster[:12]):
            if not departments:
                break
            department = departments[index % len(departments)]
            start_ago = 60 + index * 25
            months = 3 if index % 2 else 6
            done = start_ago > months * 31 + 10
            rows.append(
                Fellowship(
                    consortium=self.county,
                    trainee=user,
                    home_institution=institutions[institution_pk],
                    host_institution=self.hospital,
                    host_department=self.departments[department],
                    specialty_goal=f"{department}常见病诊疗",
                    planned_start=self.today - datetime.timedelta(days=start_ago),
                    planned_months=months,
                    status=FellowshipStatus.COMPLETED if done else FellowshipStatus.IN_PROGRESS,
                    started_on=self.today - datetime.timedelta(days=start_ago),
                    ended_on=self.today - datetime.timedelta(days=start_ago - months * 30) if done else None,
                    assessment=(AssessmentResult.GOOD if index % 3 else AssessmentResult.PASS)
                    if done
                    else "",
                    certificate_number=f"JZ-JX-{self.today.year}-{200 + index:04d}" if done else "",
                )
            )
        Fellowship.objects.bulk_create(rows)
        self.log(f"进修 fellowships: {len(rows)}")

    # Techniques -------------------------------------------------------------------------------------

    def _techniques(self) -> None:
        r = self.rng
        if not self.townships:
            return
        experts = {
            "心血管内科": self._user("doctor"),
            "内分泌科": self._user("endocrinologist"),
            "神经内科": self._user("neurologist"),
        }
        rows: list[TechniqueTransfer] = []
        for index, (name, category, department) in enumerate(TECHNIQUES[:12]):
            institution = self.townships[index % len(self.townships)]
            introduced = self.today - datetime.timedelta(days=r.randint(20, 360))
            status = TechniqueStatus.CONFIRMED
            note = ""
            if index in (3, 7):
                status = TechniqueStatus.RECORDED
            elif index == 10:
                status, note = TechniqueStatus.REJECTED, "请补充开展人员资质和操作规范后重新登记"
            cases = 0 if status != TechniqueStatus.CONFIRMED else r.randint(8, 160)
            rows.append(
                TechniqueTransfer(
                    consortium=self.county,
                    institution=institution,
                    name=name,
                    category=category,
                    description=f"在县人民医院{department}指导下开展{name}，让群众在家门口享受县级服务。",
                    supporting_institution=self.hospital,
                    supporting_department=self.departments.get(department),
                    expert=experts.get(department),
                    introduced_on=introduced,
                    status=status,
                    review_note=note,
                    reviewed_at=None if status == TechniqueStatus.RECORDED else self.now,
                    cases_to_date=cases,
                )
            )
        TechniqueTransfer.objects.bulk_create(rows)
        updates = []
        for row in rows:
            if row.cases_to_date:
                elapsed = (self.today - row.introduced_on).days
                for step, share in ((3, 0.4), (2, 0.75), (1, 1.0)):
                    as_of = self.today - datetime.timedelta(days=elapsed * (step - 1) // 3)
                    updates.append(
                        TechniqueCaseUpdate(
                            technique=row, as_of=as_of, cases_to_date=int(row.cases_to_date * share)
                        )
                    )
        TechniqueCaseUpdate.objects.bulk_create(updates)
        self.log(f"新技术新项目 techniques: {len(rows)}")

    # Devices and repairs ----------------------------------------------------------------------------

    def _devices(self) -> None:
        r = self.rng
        registrar = self._user("hospital_admin")
        devices: list[SupportedDevice] = []

        def add(
            recipient: Institution, kind: str, lent: bool = False, *, days_ago: int | None = None
        ) -> None:
            name, model, value = DEVICES[kind]
            delivered = self.today - datetime.timedelta(
                days=days_ago if days_ago is not None else r.randint(30, 700)
            )
            lent_until = delivered + datetime.timedelta(days=r.choice((365, 730))) if lent else None
            returned = None
            if lent and lent_until and lent_until < self.today:
                returned = lent_until - datetime.timedelta(days=r.randint(0, 20))
            devices.append(
                SupportedDevice(
                    consortium=self.county,
                    donor=self.hospital,
                    recipient=recipient,
                    device_type=kind,
                    name=name,
                    model=model,
                    serial_number=f"JZ{kind[:3].upper()}{len(devices) + 1:05d}",
                    value=value,
                    support_kind=SupportKind.LENT if lent else SupportKind.DONATED,
                    delivered_on=delivered,
                    lent_until=lent_until,
                    returned_on=returned,
                    registered_by=registrar,
                    notes="医共体统一采购、免费配置" if not lent else "医共体设备调配，按期归还",
                )
            )

        for index, village in enumerate(self.villages):
            if index % 5 != 4:  # about four villages in five have an electrocardiograph
                add(village, DeviceType.ECG)
        for index, township in enumerate(self.townships):
            add(township, DeviceType.ECG)
            add(township, DeviceType.BLOOD_ANALYSER)
            add(township, DeviceType.DEFIBRILLATOR)
            if index % 2 == 0:
                add(township, DeviceType.BIOCHEMISTRY)
            if index % 3 == 0:
                add(township, DeviceType.ULTRASOUND, lent=True)
            if index % 4 == 1:
                add(township, DeviceType.XRAY)
        SupportedDevice.objects.bulk_create(devices)

        engineer = self._user("engineer")
        requesters = {
            self.account_home.get(name): self._user(name) for name in ("township_doctor", "village_doctor")
        }
        repairs: list[MaintenanceRequest] = []
        open_devices: set[int] = set()
        candidates = [d for d in devices if d.returned_on is None]
        total = min(40, len(candidates) * 2)
        for index in range(total):
            item = r.choice(candidates)
            # The last few are this week's, so some are still open on the engineers' worklist.
            asked_ago = r.randint(1, 6) if index >= total - 4 else r.randint(7, 330)
            requested_at = self._moment(self.today - datetime.timedelta(days=asked_ago), r.randint(8, 16))
            status = r.choices(
                [MaintenanceStatus.REPAIRED, MaintenanceStatus.NOT_REPAIRABLE, MaintenanceStatus.CANCELLED],
                weights=[85, 7, 8],
            )[0]
            if asked_ago <= 6 and item.pk not in open_devices:
                status = MaintenanceStatus.ASSIGNED if index % 2 else MaintenanceStatus.REQUESTED
            if status in (MaintenanceStatus.REQUESTED, MaintenanceStatus.ASSIGNED):
                if item.pk in open_devices:
                    continue
                open_devices.add(item.pk)
            taken = status not in (MaintenanceStatus.REQUESTED, MaintenanceStatus.CANCELLED)
            done = status in (MaintenanceStatus.REPAIRED, MaintenanceStatus.NOT_REPAIRABLE)
            completed = min(self.today, requested_at.date() + datetime.timedelta(days=r.randint(1, 5)))
            repairs.append(
                MaintenanceRequest(
                    device=item,
                    number=f"WX{requested_at:%Y%m%d}{index:04d}",
                    fault_description=r.choice(FAULTS[item.device_type]),
                    requested_by=requesters.get(item.recipient),
                    requested_at=requested_at,
                    status=status,
                    engineer=engineer if taken and engineer else None,
                    assigned_at=requested_at + datetime.timedelta(hours=r.randint(1, 20)) if taken else None,
                    completed_on=completed if done else None,
                    work_done=(
                        r.choice(REPAIRS[item.device_type])
                        if status == MaintenanceStatus.REPAIRED
                        else (
                            "主板损坏，厂家已停产配件，建议报废更新"
                            if status == MaintenanceStatus.NOT_REPAIRABLE
                            else ""
                        )
                    ),
                    parts="" if not done or r.random() < 0.4 else "原厂配件",
                    cost=Decimal("0"),
                    cancel_reason="设备重启后恢复正常" if status == MaintenanceStatus.CANCELLED else "",
                )
            )
        if engineer is None:
            repairs = [
                m
                for m in repairs
                if m.engineer_id or m.status in (MaintenanceStatus.REQUESTED, MaintenanceStatus.CANCELLED)
            ]
        MaintenanceRequest.objects.bulk_create(repairs)
        self.log(f"支援设备 devices: {len(devices)}, 维修 repairs: {len(repairs)}")

    # Live records through the services --------------------------------------------------------------

    def _live(self) -> None:
        doctor, township_admin, hospital_admin = (
            self._user("doctor"),
            self._user("township_admin"),
            self._user("hospital_admin"),
        )
        engineer, township_doctor, township_nurse = (
            self._user("engineer"),
            self._user("township_doctor"),
            self._user("township_nurse"),
        )
        township = self.account_home.get("township_doctor")
        cardiology = self.departments.get("心血管内科")
        if doctor and cardiology:
            today_round = capacity.course_create(
                actor=doctor,
                organiser=self.hospital,
                organiser_department=cardiology,
                kind=CourseKind.TEACHING_ROUND,
                title="高血压合并冠心病患者用药调整教学查房",
                topic="结合病例讲解基层高血压合并冠心病患者的用药调整与转诊时机。",
                trainers="程立新 主任医师",
                starts_on=self.today,
                place="心血管内科病区示教室",
                hours=Decimal("2"),
                credits=Decimal("0.5"),
            )
            attendees = [u for u in (township_doctor, township_nurse) if u is not None]
            if attendees:
                capacity.attendance_record_many(actor=doctor, course=today_round, users=attendees)
        if township_admin and township_doctor and township and cardiology:
            capacity.fellowship_apply(
                actor=township_admin,
                trainee=township_doctor,
                home_institution=township,
                host_department=cardiology,
                supervisor=doctor,
                planned_start=self.today + datetime.timedelta(days=30),
                planned_months=6,
                specialty_goal="胸痛中心基层网点建设：心电图判读与胸痛早期识别",
            )
            capacity.technique_record(
                actor=township_admin,
                institution=township,
                name="心电图远程实时传输与诊断",
                category=TechniqueCategory.DIAGNOSTIC,
                supporting_department=cardiology,
                expert=doctor,
                introduced_on=self.today - datetime.timedelta(days=10),
                description="卫生院心电图实时上传县医院心电诊断中心，30 分钟内出具报告。",
                cases_to_date=6,
            )
        villages_without_ecg = [
            v
            for v in self.villages
            if not SupportedDevice.objects.filter(recipient=v, device_type=DeviceType.ECG).exists()
        ]
        if hospital_admin and villages_without_ecg:
            capacity.device_register(
                actor=hospital_admin,
                donor=self.hospital,
                recipient=villages_without_ecg[0],
                device_type=DeviceType.ECG,
                name="单导心电图机",
                model="ECG-300G",
                serial_number="JZECGLIVE0001",
                value=Decimal("9800"),
                support_kind=SupportKind.LENT,
                delivered_on=self.today,
                lent_until=self.today + datetime.timedelta(days=365),
                notes="村卫生室心电图覆盖，借用一年",
            )
        if township and township_doctor and township_nurse:
            free = list(
                SupportedDevice.objects.filter(recipient=township, returned_on__isnull=True)
                .exclude(maintenance__status__in=[MaintenanceStatus.REQUESTED, MaintenanceStatus.ASSIGNED])
                .order_by("pk")[:2]
            )
            if free:
                taken = capacity.maintenance_request(
                    actor=township_doctor,
                    device=free[0],
                    fault_description="心电图机开机自检报错 E03，无法采集",
                )
                if engineer:
                    capacity.maintenance_take(actor=engineer, request=taken)
            if len(free) > 1:
                capacity.maintenance_request(
                    actor=township_nurse, device=free[1], fault_description=FAULTS[free[1].device_type][-1]
                )
        self.log("能力建设实时记录 live records: teaching round, fellowship, technique, device, repairs")
