"""Encounter rows from HIS files: the template's columns, the per-row check and the batch writer.

The ingestion app streams a file and hands each row (a dict of header →
text) to ``EncounterRows.validate``; valid rows are written in batches by
``EncounterRows.write``, which inserts with the database ignoring rows whose
(institution, source record id) already exists, so re-imports and two imports
of the same file at once create no duplicates. ``derive_service_volumes``
then recounts the monthly volumes of the months touched.
"""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.exceptions import Invalid
from yilian.core.icd10 import parse_icd10
from yilian.encounters.choices import VISIT_KINDS, EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.institutions.models import Department, Institution
from yilian.people.choices import PersonLinkReason
from yilian.people.identifiers import parse_resident_id
from yilian.people.importing import PersonResolver, db_moment, db_uuid, insert_ignoring_conflicts

CENT = Decimal("0.01")
TOLERANCE = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")
EARLIEST = datetime.date(2000, 1, 1)
LOCAL = zoneinfo.ZoneInfo(settings.TIME_ZONE)

RowError = tuple[str, str, str]
"""(column header, value as read, reason in Chinese)."""


@dataclass(frozen=True)
class Column:
    """One column of an import template: the Chinese header, an English key, required or not, an example."""

    header: str
    key: str
    required: bool
    example: str


COLUMNS: tuple[Column, ...] = (
    Column("机构统一社会信用代码", "institution_credit_code", True, "12341522000000001A"),
    Column("科室", "department", False, "心血管内科"),
    Column("源系统记录号", "source_record_id", True, "ZY2024000001"),
    Column("身份证号", "id_number", True, "342423198001011231"),
    Column("姓名", "name", True, "张三"),
    Column("类型", "kind", True, "住院"),
    Column("就诊/入院时间", "started_at", True, "2024-03-01 08:30"),
    Column("出院时间", "ended_at", False, "2024-03-08 10:00"),
    Column("主要诊断编码", "diagnosis_code", True, "I63.900"),
    Column("主要诊断名称", "diagnosis_name", True, "脑梗死"),
    Column("中医", "is_tcm", False, "否"),
    Column("手术分级", "surgery_grade", False, ""),
    Column("总费用", "total_cost", True, "8600.00"),
    Column("基金支付", "fund_paid", True, "6020.00"),
    Column("个人支付", "self_paid", True, "2580.00"),
)
"""The encounter template, in file order."""

KIND_LABELS = {
    "门诊": EncounterKind.OUTPATIENT,
    "急诊": EncounterKind.EMERGENCY,
    "住院": EncounterKind.INPATIENT,
}
YES = {"是": True, "否": False, "": False, "Y": True, "N": False, "1": True, "0": False}


# ---- shared parsing helpers (also used by insurance.importing) ---------------------------------------


def parse_moment(text: str) -> datetime.datetime | None:
    """A local date or date-time written as 2024-03-01, 2024/3/1, 2024-03-01 08:30[:00]; None if not one."""
    text = text.strip().replace("/", "-").replace("T", " ")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        parts = text.split(" ", 1)
        try:
            year, month, day = (int(p) for p in parts[0].split("-"))
            moment = datetime.datetime(year, month, day)
            if len(parts) == 2:
                clock = datetime.time.fromisoformat(parts[1].strip().zfill(5))
                moment = moment.replace(hour=clock.hour, minute=clock.minute, second=clock.second)
        except ValueError:
            return None
    return moment.replace(tzinfo=None)


def parse_amounts(
    row: dict[str, str], headers: tuple[str, str, str], errors: list[RowError]
) -> tuple[Decimal, Decimal, Decimal] | None:
    """Total, fund and self-paid amounts: non-negative, two places, fund + self = total within a cent."""
    values: list[Decimal] = []
    for header in headers:
        raw = row.get(header, "").strip().replace(",", "")
        try:
            amount = Decimal(raw or "x").quantize(CENT)
        except (InvalidOperation, ValueError):
            errors.append((header, raw, _("金额格式不正确。")))
            continue
        if amount < 0:
            errors.append((header, raw, _("金额不能为负数。")))
        elif amount > MAX_AMOUNT:
            errors.append((header, raw, _("金额过大。")))
        else:
            values.append(amount)
    if len(values) != 3:
        return None
    total, fund, own = values
    if abs(fund + own - total) > TOLERANCE:
        errors.append(
            (
                headers[0],
                str(total),
                _("基金支付与个人支付之和（{sum}）与总费用不符。").format(sum=fund + own),
            )
        )
        return None
    return total, fund, own


def check_day(
    day: datetime.date, header: str, raw: str, errors: list[RowError], today: datetime.date
) -> bool:
    """Dates must lie between 2000-01-01 and today."""
    if day < EARLIEST:
        errors.append((header, raw, _("日期早于 2000 年。")))
        return False
    if day > today:
        errors.append((header, raw, _("日期晚于今天。")))
        return False
    return True


class IdentityCache:
    """Parsed resident ID numbers of one job: number → (number, birth date, gender) or the reason it failed."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[str, datetime.date, str] | str] = {}

    def parse(self, raw: str) -> tuple[str, datetime.date, str] | str:
        """The parsed number, or the reason in Chinese."""
        found = self._parsed.get(raw)
        if found is None:
            try:
                parsed = parse_resident_id(raw)
            except Invalid as error:
                found = str(next(iter(error.errors.values()))[0])
            else:
                found = (parsed.number, parsed.birth_date, parsed.gender)
            if len(self._parsed) >= 250_000:
                self._parsed.clear()  # bounded: memory stays flat however many persons the file holds
            self._parsed[raw] = found
        return found


class DiagnosisCache:
    """Checked ICD-10 codes of one job: raw → normalised code, or the reason it failed."""

    def __init__(self) -> None:
        self._codes: dict[str, tuple[bool, str]] = {}

    def parse(self, raw: str) -> tuple[bool, str]:
        """(True, code) or (False, reason)."""
        found = self._codes.get(raw)
        if found is None:
            try:
                found = (True, parse_icd10(raw).code)
            except Invalid as error:
                found = (False, str(next(iter(error.errors.values()))[0]))
            self._codes[raw] = found
        return found


# ---- encounters -------------------------------------------------------------------------------------


class EncounterRows:
    """Validates and writes encounter rows for one import job, with its caches.

    ``allowed_institution_ids`` are the institutions the uploader may send
    data for (his own, or his consortium's members); rows of any other
    registered institution are rejected.
    """

    columns = COLUMNS

    def __init__(self, *, allowed_institution_ids: set[int], today: datetime.date | None = None) -> None:
        self.allowed_institution_ids = allowed_institution_ids
        self.today = today or datetime.date.today()
        self.latest = datetime.datetime.combine(self.today, datetime.time.max)
        self.identities = IdentityCache()
        self.diagnoses = DiagnosisCache()
        self.persons = PersonResolver()
        self._institutions: dict[str, int | None] = {}
        self._departments: dict[int, dict[str, int]] = {}
        self.months: set[tuple[int, datetime.date]] = set()

    def _institution(self, code: str) -> int | None:
        if code not in self._institutions:
            self._institutions[code] = (
                Institution.objects.filter(credit_code=code).values_list("id", flat=True).first()
            )
        return self._institutions[code]

    def _department(self, institution_id: int, text: str) -> int | None:
        known = self._departments.get(institution_id)
        if known is None:
            known = {}
            for pk, name, code in Department.objects.filter(institution_id=institution_id).values_list(
                "id", "name", "code"
            ):
                known[name] = pk
                if code:
                    known.setdefault(code, pk)
            self._departments[institution_id] = known
        return known.get(text)

    def validate(self, row: dict[str, str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        """Check one row; returns (typed values, []) or (None, errors)."""
        errors: list[RowError] = []
        get = row.get
        code = get("机构统一社会信用代码", "").strip().upper()
        institution_id = self._institution(code) if code else None
        if not code:
            errors.append(("机构统一社会信用代码", code, _("必填。")))
        elif institution_id is None:
            errors.append(("机构统一社会信用代码", code, _("未登记的机构。")))
        elif institution_id not in self.allowed_institution_ids:
            errors.append(("机构统一社会信用代码", code, _("无权导入该机构的数据。")))
        department_id = None
        department = get("科室", "").strip()
        if department and institution_id is not None:
            department_id = self._department(institution_id, department)
            if department_id is None:
                errors.append(("科室", department, _("该机构没有此科室。")))
        source = get("源系统记录号", "").strip()
        if not source:
            errors.append(("源系统记录号", "", _("必填。")))
        elif len(source) > 64:
            errors.append(("源系统记录号", source[:100], _("不能超过 64 个字符。")))
        raw_id = get("身份证号", "").strip().upper()
        identity = self.identities.parse(raw_id)
        if isinstance(identity, str):
            errors.append(("身份证号", "", identity))  # the number itself is never stored in errors
        name = get("姓名", "").strip()
        if not name:
            errors.append(("姓名", "", _("必填。")))
        elif len(name) > 50:
            errors.append(("姓名", name[:100], _("不能超过 50 个字符。")))
        kind_text = get("类型", "").strip()
        kind = KIND_LABELS.get(kind_text)
        if kind is None:
            errors.append(("类型", kind_text, _("应为 门诊、急诊 或 住院。")))
        raw_start = get("就诊/入院时间", "")
        started = parse_moment(raw_start)
        if started is None:
            errors.append(("就诊/入院时间", raw_start, _("日期时间格式不正确（例如 2024-03-01 08:30）。")))
        elif not check_day(started.date(), "就诊/入院时间", raw_start, errors, self.today):
            started = None
        raw_end = get("出院时间", "").strip()
        ended = None
        if raw_end:
            ended = parse_moment(raw_end)
            if ended is None:
                errors.append(("出院时间", raw_end, _("日期时间格式不正确（例如 2024-03-08 10:00）。")))
            elif (
                check_day(ended.date(), "出院时间", raw_end, errors, self.today)
                and started is not None
                and ended < started
            ):
                errors.append(("出院时间", raw_end, _("出院时间早于入院时间。")))
        raw_code = get("主要诊断编码", "")
        ok, diagnosis = self.diagnoses.parse(raw_code)
        if not ok:
            errors.append(("主要诊断编码", raw_code.strip()[:100], diagnosis))
        diagnosis_name = get("主要诊断名称", "").strip()
        if not diagnosis_name:
            errors.append(("主要诊断名称", "", _("必填。")))
        tcm_text = get("中医", "").strip()
        is_tcm = YES.get(tcm_text)
        if is_tcm is None:
            errors.append(("中医", tcm_text, _("应为 是 或 否。")))
        grade_text = get("手术分级", "").strip()
        grade = None
        if grade_text:
            if grade_text in ("1", "2", "3", "4"):
                grade = int(grade_text)
            else:
                errors.append(("手术分级", grade_text, _("应为空或 1–4。")))
        amounts = parse_amounts(row, ("总费用", "基金支付", "个人支付"), errors)
        if errors:
            return None, errors
        assert started is not None and amounts is not None and institution_id is not None
        assert not isinstance(identity, str)
        return {
            "institution_id": institution_id,
            "department_id": department_id,
            "source_record_id": source,
            "identity": identity,
            "name": name,
            "kind": kind,
            "started_at": started.replace(tzinfo=LOCAL),
            "ended_at": ended.replace(tzinfo=LOCAL) if ended is not None else None,
            "diagnosis_code": diagnosis,
            "diagnosis_name": diagnosis_name[:50],
            "is_tcm": is_tcm,
            "surgery_grade": grade,
            "total_cost": amounts[0],
            "fund_paid": amounts[1],
            "self_paid": amounts[2],
        }, []

    def remember(self, values: dict[str, Any]) -> None:
        """Note the (institution, month) a valid row touches (volumes are recounted for those)."""
        self.months.add((values["institution_id"], values["started_at"].date().replace(day=1)))
        if values["ended_at"] is not None:
            self.months.add((values["institution_id"], values["ended_at"].date().replace(day=1)))

    def write(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Insert a batch of valid rows; returns (inserted, duplicates). Runs inside the caller's transaction.

        Rows whose (institution, source record id) exists already, or repeats
        inside the batch, are duplicates. Persons are resolved (created when
        new) and linked to the treating institution.
        """
        if not rows:
            return 0, 0
        person_ids = self.persons.resolve(
            (r["identity"][0], r["name"], r["identity"][1], r["identity"][2]) for r in rows
        )
        by_institution: dict[int, list[str]] = defaultdict(list)
        for r in rows:
            by_institution[r["institution_id"]].append(r["source_record_id"])
        existing: set[tuple[int, str]] = set()
        for institution_id, sources in by_institution.items():
            existing.update(
                (institution_id, s)
                for s in Encounter.objects.filter(institution_id=institution_id, source_record_id__in=sources)
                # Repeats the partial unique index's condition so PostgreSQL uses the index
                # (it cannot prove it from an IN list of thousands of values).
                .exclude(source_record_id="")
                .values_list("source_record_id", flat=True)
            )
        fresh: list[tuple[Any, ...]] = []
        public_ids: list[Any] = []
        links: set[tuple[int, int]] = set()
        now = db_moment(timezone.now())
        constants = tuple(_CONSTANT_COLUMNS.values())
        for r in rows:
            key = (r["institution_id"], r["source_record_id"])
            if key in existing:
                continue
            existing.add(key)
            person_id = person_ids[r["identity"][0]]
            links.add((person_id, r["institution_id"]))
            public_id = uuid.uuid4()
            public_ids.append(db_uuid(public_id))
            fresh.append(
                (
                    public_ids[-1],
                    now,
                    now,
                    person_id,
                    r["institution_id"],
                    r["department_id"],
                    r["kind"],
                    db_moment(r["started_at"]),
                    db_moment(r["ended_at"]),
                    r["diagnosis_code"],
                    r["diagnosis_name"],
                    r["source_record_id"],
                    r["is_tcm"],
                    r["surgery_grade"],
                    r["total_cost"],
                    r["fund_paid"],
                    r["self_paid"],
                    *constants,
                )
            )
        inserted = 0
        if fresh:
            # A concurrent import of the same file may insert some of these first: the unique
            # (institution, source record id) index drops them (ON CONFLICT DO NOTHING), and we
            # count what really landed by the public ids we generated.
            insert_ignoring_conflicts(Encounter, (*_INSERT_COLUMNS, *_CONSTANT_COLUMNS), fresh)
            inserted = Encounter.objects.filter(public_id__in=public_ids).count()
            self.persons.link_treated(links, PersonLinkReason.TREATED)
        return inserted, len(rows) - inserted


_INSERT_COLUMNS = (
    "public_id",
    "created_at",
    "updated_at",
    "person_id",
    "institution_id",
    "department_id",
    "kind",
    "started_at",
    "ended_at",
    "diagnosis_code",
    "diagnosis_name",
    "source_record_id",
    "is_tcm",
    "surgery_grade",
    "total_cost",
    "fund_paid",
    "self_paid",
)
_CONSTANT_COLUMNS = {"his_number": "", "recovery_phase": ""}


def _month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime(month.year, month.month, 1, tzinfo=LOCAL)
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start, datetime.datetime(following.year, following.month, 1, tzinfo=LOCAL)


def derive_service_volumes(months: Iterable[tuple[int, datetime.date]]) -> int:
    """Recount ServiceVolume rows from Encounter for each (institution, first day of month).

    Visits = outpatient + emergency encounters started in the month,
    admissions = inpatient stays started in it, discharges = stays ended in
    it; one row per department with encounters and one for the whole
    institution. Reported rows of departments without any encounter that
    month are left as reported. Returns the number of rows written.
    """
    written = 0
    for institution_id, month in sorted(set(months)):
        start, end = _month_bounds(month)
        counts: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0])
        started = (
            Encounter.objects.filter(institution_id=institution_id, started_at__gte=start, started_at__lt=end)
            .values_list("department_id", "kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        for department_id, kind, n in started:
            slot = 0 if kind in VISIT_KINDS else 1
            counts[department_id][slot] += n
            if department_id is not None:
                counts[None][slot] += n
        ended = (
            Encounter.objects.filter(
                institution_id=institution_id,
                kind=EncounterKind.INPATIENT,
                ended_at__gte=start,
                ended_at__lt=end,
            )
            .values_list("department_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for department_id, n in ended:
            counts[department_id][2] += n
            if department_id is not None:
                counts[None][2] += n
        with transaction.atomic():
            for department_id, (visits, admissions, discharges) in counts.items():
                ServiceVolume.objects.update_or_create(
                    institution_id=institution_id,
                    department_id=department_id,
                    month=month,
                    defaults={
                        "outpatient_visits": visits,
                        "admissions": admissions,
                        "discharges": discharges,
                    },
                )
                written += 1
    return written
