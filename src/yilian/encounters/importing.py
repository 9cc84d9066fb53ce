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
import re
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.core.exceptions import Invalid, required_message
from yilian.core.icd10 import parse_icd10
from yilian.core.messages import Message, message
from yilian.encounters.choices import VISIT_KINDS, EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.institutions.models import Department, Institution
from yilian.people.choices import PersonLinkReason
from yilian.people.identifiers import hash_id_number
from yilian.people.importing import (
    PersonResolver,
    ResidentIdChecker,
    db_moment,
    db_uuid,
    insert_ignoring_conflicts,
    person_tables,
)

CENT = Decimal("0.01")
TOLERANCE = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")
EARLIEST = datetime.date(2000, 1, 1)
LOCAL = zoneinfo.ZoneInfo(settings.TIME_ZONE)

RowError = tuple[str, str, "str | Message"]
"""(column header, value as read, reason in Chinese: a msgid, or a Message when it names a value)."""

UNKNOWN_CODE = gettext_noop("ICD-10 编码 {code} 不存在。")
"""core.icd10's reason for a well-formed code that does not exist, kept as a msgid with its code."""


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
            if not amount.is_finite():  # "NaN" quantizes to itself, and comparing it raises
                raise InvalidOperation
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
                message(gettext_noop("基金支付与个人支付之和（{sum}）与总费用不符。"), sum=fund + own),
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
        self._checker = ResidentIdChecker()

    def parse(self, raw: str) -> tuple[str, datetime.date, str] | str:
        """The parsed number, or the reason in Chinese."""
        found = self._parsed.get(raw)
        if found is None:
            found = self._checker.parse(raw)
            if len(self._parsed) >= 250_000:
                self._parsed.clear()  # bounded: memory stays flat however many persons the file holds
            self._parsed[raw] = found
        return found


class DiagnosisCache:
    """Checked ICD-10 codes of one job: raw → normalised code, or the reason it failed."""

    def __init__(self) -> None:
        self._codes: dict[str, tuple[bool, str | Message]] = {}

    def parse(self, raw: str) -> tuple[bool, str | Message]:
        """(True, code) or (False, reason)."""
        found = self._codes.get(raw)
        if found is None:
            try:
                found = (True, parse_icd10(raw).code)
            except Invalid as error:
                found = (False, _unknown_code_reason(raw, str(next(iter(error.errors.values()))[0])))
            self._codes[raw] = found
        return found


def _unknown_code_reason(raw: str, reason: str) -> str | Message:
    """core.icd10 formats the unknown code into its reason; a row error keeps the msgid and the code instead,
    so that a reader in another language than the worker's reads it translated."""
    code = "".join(str(raw).split()).upper().replace("．", ".")
    if reason == _(UNKNOWN_CODE).format(code=code):
        return message(UNKNOWN_CODE, code=code)
    return reason


# ---- encounters -------------------------------------------------------------------------------------


class EncounterRows:
    """Validates and writes encounter rows for one import job, with its caches.

    ``allowed_institution_ids`` are the institutions the uploader may send
    data for (his own, or his consortium's members); rows of any other
    registered institution are rejected.
    """

    columns = COLUMNS
    fact_models = ("encounters.Encounter", "encounters.ServiceVolume")
    """Models whose records an import writes (the volumes are recounted after it): named in ``facts_changed``."""

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
            errors.append(("机构统一社会信用代码", code, required_message()))
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
            errors.append(("源系统记录号", "", required_message()))
        elif len(source) > 64:
            errors.append(("源系统记录号", source[:100], _("不能超过 64 个字符。")))
        raw_id = get("身份证号", "").strip().upper()
        identity = self.identities.parse(raw_id)
        if isinstance(identity, str):
            errors.append(("身份证号", "", identity))  # the number itself is never stored in errors
        name = get("姓名", "").strip()
        if not name:
            errors.append(("姓名", "", required_message()))
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
            errors.append(("主要诊断名称", "", required_message()))
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

    def staged(self, stage: Any) -> StagedEncounters:
        """The set-based checks and writes of this job over a filled staging table (ADR 0017)."""
        return StagedEncounters(self, stage)

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


# ---- set-based checks and writes over a staging table (ADR 0017) --------------------------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_TRIMS = {
    "t_dept": "科室",
    "t_source": "源系统记录号",
    "t_name": "姓名",
    "t_kind": "类型",
    "t_started": "就诊/入院时间",
    "t_ended": "出院时间",
    "t_diag_name": "主要诊断名称",
    "t_tcm": "中医",
    "t_grade": "手术分级",
    "t_total": "总费用",
    "t_fund": "基金支付",
    "t_own": "个人支付",
}
"""Columns the SQL check reads trimmed (as the Python rules strip them), by their name in the check table."""
_NUMBER_PG = r"'^[0-9]{1,10}(\.[0-9]{1,2})?$'"
_MOMENT_PG = r"'^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$'"
_DIGIT4 = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


class StagedEncounters:
    """The rows of a staging table checked and written with SQL, range by range of positions.

    A row passes the SQL check only when every column is in the plain form
    the template asks for (dates ``2024-03-01[ 08:30[:00]]``, amounts
    ``1234.56``, no stray spaces …) and every code is known; its values are
    then exactly what ``EncounterRows.validate`` would give. Codes
    (institution, department, resident ID, ICD-10) are checked in Python once
    per distinct value of the file and the answers kept in lookup tables
    beside the staging table. Every other row is handed back for
    ``EncounterRows.validate``, which gives the same row errors as before or,
    for a valid row in a looser form ("2024/3/1"), its values: so the SQL
    never accepts a row the Python rules reject, and the reasons stay the
    Python ones.
    """

    def __init__(self, rows: EncounterRows, stage: Any) -> None:
        self.rows = rows
        self.stage = stage
        self.postgres = connection.vendor == "postgresql"
        self.checker = ResidentIdChecker()
        table = stage.table
        self.tables = {name: f"{table}_{name}" for name in ("inst", "dept", "ids", "diag", "days", "chk")}
        stage.lookups.update(self.tables)
        self._create_lookups()

    # -- lookups -------------------------------------------------------------------------------------

    def _create_lookups(self) -> None:
        t = self.tables
        with connection.cursor() as cursor:
            for name in t.values():
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TEMP TABLE {t['inst']} (raw text PRIMARY KEY, institution_id integer)")
            cursor.execute(
                f"CREATE TEMP TABLE {t['dept']} (institution_id integer, raw text, department_id integer, "
                "PRIMARY KEY (institution_id, raw))"
            )
            cursor.execute(
                f"CREATE TEMP TABLE {t['ids']} (raw text PRIMARY KEY, number text, hash text, birth text, gender text)"
            )
            cursor.execute(f"CREATE TEMP TABLE {t['diag']} (raw text PRIMARY KEY, code text)")
            cursor.execute(f"CREATE TEMP TABLE {t['days']} (day text PRIMARY KEY, shift text)")
            trimmed = ", ".join(f"{alias} text" for alias in _TRIMS)
            cursor.execute(
                f"CREATE TEMP TABLE {t['chk']} (ordinal bigint, {trimmed}, inst_id integer, dept_id integer, "
                "hash text, number text, birth text, gender text, code text, d1_day text, d1_shift text, "
                f"d2_day text, d2_shift text, ok {'boolean' if self.postgres else 'integer'})"
            )
            days: list[tuple[str, str | None]] = []
            day = EARLIEST
            while day <= self.rows.today:
                first = datetime.datetime.combine(day, datetime.time.min, tzinfo=LOCAL).utcoffset()
                last = datetime.datetime.combine(day, datetime.time.max, tzinfo=LOCAL).utcoffset()
                # SQLite converts local text to UTC by the day's offset; a day with a DST change goes to Python.
                shift = f"{-int(first.total_seconds() // 60)} minutes" if first == last and first else None
                days.append((day.isoformat(), shift))
                day += datetime.timedelta(days=1)
            cursor.executemany(f"INSERT INTO {t['days']} VALUES (%s, %s)", days)

    def _distinct(self, sql: str, lo: int, hi: int) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [lo, hi])
            return cursor.fetchall()

    def prepare(self, lo: int, hi: int) -> None:
        """Check, in Python, the codes first seen in positions (lo, hi], then the range's rows in SQL.

        Every other method works on the range last prepared.
        """
        st, t, rows = self.stage, self.tables, self.rows
        where = f"FROM {st.table} s WHERE s.ordinal > %s AND s.ordinal <= %s"
        inst_col = st.column("机构统一社会信用代码")
        found = self._distinct(
            f"SELECT DISTINCT {inst_col} {where} AND NOT EXISTS "
            f"(SELECT 1 FROM {t['inst']} l WHERE l.raw = {inst_col})",
            lo,
            hi,
        )
        answers: list[tuple[Any, ...]] = []
        for (raw,) in found:
            code = raw.strip().upper()
            pk = rows._institution(code) if code else None
            answers.append((raw, pk if pk in rows.allowed_institution_ids else None))
        self._insert(t["inst"], answers)
        dept_col = st.column("科室")
        found = self._distinct(
            f"SELECT DISTINCT l.institution_id, {dept_col} FROM {st.table} s "
            f"JOIN {t['inst']} l ON l.raw = {inst_col} WHERE s.ordinal > %s AND s.ordinal <= %s "
            f"AND l.institution_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {t['dept']} d "
            f"WHERE d.institution_id = l.institution_id AND d.raw = {dept_col})",
            lo,
            hi,
        )
        self._insert(
            t["dept"],
            [(pk, raw, rows._department(pk, raw.strip()) if raw.strip() else None) for pk, raw in found],
        )
        id_col = st.column("身份证号")
        found = self._distinct(
            f"SELECT DISTINCT {id_col} {where} AND NOT EXISTS (SELECT 1 FROM {t['ids']} l WHERE l.raw = {id_col})",
            lo,
            hi,
        )
        answers = []
        for (raw,) in found:
            # Not through the job's caches: each distinct number comes here once, and its answer is kept
            # in the lookup table, so Python memory does not grow with the persons of the file.
            identity = self.checker.parse(raw.strip().upper())
            if isinstance(identity, str):
                answers.append((raw, None, None, None, None))
            else:
                number, birth, gender = identity
                answers.append((raw, number, hash_id_number(number), birth.isoformat(), gender))
        self._insert(t["ids"], answers)
        diag_col = st.column("主要诊断编码")
        found = self._distinct(
            f"SELECT DISTINCT {diag_col} {where} AND NOT EXISTS "
            f"(SELECT 1 FROM {t['diag']} l WHERE l.raw = {diag_col})",
            lo,
            hi,
        )
        answers = []
        for (raw,) in found:
            ok, code = rows.diagnoses.parse(raw)
            answers.append((raw, code if ok else None))
        self._insert(t["diag"], answers)
        self._check(lo, hi)

    def _insert(self, table: str, values: list[tuple[Any, ...]]) -> None:
        if values:
            marks = ", ".join(["%s"] * len(values[0]))
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", values)

    # -- the check, in SQL ---------------------------------------------------------------------------

    def _check(self, lo: int, hi: int) -> None:
        """Fill the check table with positions (lo, hi]: trimmed values, lookup answers, then ``ok``.

        Trimming and looking up once per row into a table (rather than in
        each statement) is what keeps the checks cheap: every expression of
        the SQL check then reads plain columns.
        """
        st, t = self.stage, self.tables
        trimmed = ", ".join(st.trimmed(header) for header in _TRIMS.values())
        accept = re.sub(r"\bs\.", "", self._accept())
        with connection.cursor() as cursor:
            cursor.execute(f"{'TRUNCATE' if self.postgres else 'DELETE FROM'} {t['chk']}")
            cursor.execute(
                f"INSERT INTO {t['chk']} SELECT s.ordinal, {trimmed}, li.institution_id, ld.department_id, "
                "lp.hash, lp.number, lp.birth, lp.gender, lx.code, d1.day, d1.shift, d2.day, d2.shift, FALSE "
                f"FROM {st.table} s "
                f"LEFT JOIN {t['inst']} li ON li.raw = {st.column('机构统一社会信用代码')} "
                f"LEFT JOIN {t['dept']} ld ON ld.institution_id = li.institution_id "
                f"AND ld.raw = {st.column('科室')} "
                f"LEFT JOIN {t['ids']} lp ON lp.raw = {st.column('身份证号')} "
                f"LEFT JOIN {t['diag']} lx ON lx.raw = {st.column('主要诊断编码')} "
                f"LEFT JOIN {t['days']} d1 ON d1.day = substr({st.trimmed('就诊/入院时间')}, 1, 10) "
                f"LEFT JOIN {t['days']} d2 ON d2.day = substr({st.trimmed('出院时间')}, 1, 10) "
                "WHERE s.ordinal > %s AND s.ordinal <= %s",
                [lo, hi],
            )
            cursor.execute(f"UPDATE {t['chk']} SET ok = coalesce(({accept}), FALSE)")

    def _c(self, sql: str) -> str:
        """Compare text bytewise (PostgreSQL's collation could order punctuation otherwise)."""
        return f'{sql} COLLATE "C"' if self.postgres else sql

    def _moment_ok(self, v: str, day: str) -> str:
        if self.postgres:
            shape = f"{v} ~ {_MOMENT_PG}"
        else:
            shape = (
                f"((length({v}) = 10 AND {v} GLOB '{_DIGIT4}') OR "
                f"(length({v}) = 16 AND {v} GLOB '{_DIGIT4} [0-9][0-9]:[0-9][0-9]') OR "
                f"(length({v}) = 19 AND {v} GLOB '{_DIGIT4} [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'))"
            )
        shift = "" if self.postgres else f" AND {day}shift IS NOT NULL"
        return (
            f"({shape} AND {day}day IS NOT NULL{shift} AND (length({v}) = 10 OR "
            f"({self._c(f'substr({v}, 12, 2)')} <= '23' AND {self._c(f'substr({v}, 15, 2)')} <= '59' "
            f"AND (length({v}) = 16 OR {self._c(f'substr({v}, 18, 2)')} <= '59'))))"
        )

    @staticmethod
    def _normal(v: str) -> str:
        return f"(CASE length({v}) WHEN 10 THEN {v} || ' 00:00:00' WHEN 16 THEN {v} || ':00' ELSE {v} END)"

    def _amount_ok(self, v: str) -> str:
        if self.postgres:
            return f"({v} ~ {_NUMBER_PG})"
        dot = f"instr({v}, '.')"
        return (
            f"({v} GLOB '[0-9]*' AND {v} NOT GLOB '*[^0-9.]*' "
            f"AND length({v}) - length(replace({v}, '.', '')) <= 1 "
            f"AND ({dot} = 0 OR length({v}) - {dot} BETWEEN 1 AND 2) "
            f"AND (CASE WHEN {dot} = 0 THEN length({v}) ELSE {dot} - 1 END) <= 10)"
        )

    def _cents(self, v: str) -> str:
        return f"CAST(round(CAST({v} AS REAL) * 100) AS INTEGER)"

    def _accept(self) -> str:
        kinds = ", ".join(_literal(k) for k in KIND_LABELS)
        yes = ", ".join(_literal(k) for k in YES)
        if self.postgres:
            sums = (
                "(CASE WHEN {a} AND {b} AND {c} THEN abs(s.t_fund::numeric + s.t_own::numeric "
                "- s.t_total::numeric) <= 0.01 ELSE FALSE END)"
            )
        else:
            sums = (
                "(CASE WHEN {a} AND {b} AND {c} THEN abs("
                + self._cents("s.t_fund")
                + " + "
                + self._cents("s.t_own")
                + " - "
                + self._cents("s.t_total")
                + ") <= 1 ELSE 0 END)"
            )
        amounts = [self._amount_ok(f"s.t_{n}") for n in ("total", "fund", "own")]
        return " AND ".join(
            [
                "s.inst_id IS NOT NULL",
                "(s.t_dept = '' OR s.dept_id IS NOT NULL)",
                "s.t_source <> '' AND length(s.t_source) <= 64",
                "s.hash IS NOT NULL",
                "s.t_name <> '' AND length(s.t_name) <= 50",
                f"s.t_kind IN ({kinds})",
                self._moment_ok("s.t_started", "s.d1_"),
                f"(s.t_ended = '' OR ({self._moment_ok('s.t_ended', 's.d2_')} AND "
                f"{self._c(self._normal('s.t_ended'))} >= {self._c(self._normal('s.t_started'))}))",
                "s.code IS NOT NULL",
                "s.t_diag_name <> ''",
                f"s.t_tcm IN ({yes})",
                "s.t_grade IN ('', '1', '2', '3', '4')",
                *amounts,
                sums.format(a=amounts[0], b=amounts[1], c=amounts[2]),
            ]
        )

    def _moment(self, v: str, day: str) -> str:
        if self.postgres:
            return f"({self._normal(v)}::timestamp AT TIME ZONE {_literal(str(settings.TIME_ZONE))})"
        return f"datetime({self._normal(v)}, {day}shift)"

    # -- per range -----------------------------------------------------------------------------------

    def rejected(self, lo: int, hi: int) -> list[tuple[int, dict[str, str]]]:
        """(row number, header → value) of the rows in (lo, hi] the SQL check does not pass."""
        st = self.stage
        with connection.cursor() as cursor:
            cursor.execute(
                # The check table drives (SQLite keeps CROSS JOIN order), and the range bounds the
                # staging table's side, so a batch never scans the whole file.
                f"SELECT coalesce(s.line, s.ordinal + 1), {st.select_columns()} FROM {self.tables['chk']} c "
                f"CROSS JOIN {st.table} s WHERE s.ordinal = c.ordinal AND s.ordinal > %s AND s.ordinal <= %s "
                "AND NOT c.ok ORDER BY c.ordinal",
                [lo, hi],
            )
            return [(row[0], st.record(row[1:])) for row in cursor.fetchall()]

    def write(self, lo: int, hi: int) -> int:
        """Create the new persons of the passing rows in (lo, hi], insert the rows; returns rows inserted.

        Runs inside the caller's transaction. Rows whose (institution, source
        record id) exists already, or repeats one earlier in the range, are
        dropped by the unique index (ON CONFLICT DO NOTHING). Persons are
        linked to the treating institution.
        """
        accept, source = "s.ok", f"FROM {self.tables['chk']} s"
        person, link = person_tables()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.hash, s.number, s.t_name, s.birth, s.gender {source} "
                f"LEFT JOIN {person} p ON p.id_number_hash = s.hash WHERE {accept} AND p.id IS NULL "
                "ORDER BY s.ordinal"
            )
            new: dict[str, tuple[str, str, datetime.date, str]] = {}
            for digest, number, name, birth, gender in cursor.fetchall():
                if digest not in new:
                    new[digest] = (number, name, datetime.date.fromisoformat(str(birth)), gender)
        if new:
            self.rows.persons.create(new)
        if self.postgres:
            public_id = "gen_random_uuid()"
        else:
            public_id = (
                "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) || "
                "substr('89AB', 1 + (abs(random()) %% 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6)))"
            )
        kind = (
            "CASE s.t_kind "
            + " ".join(
                f"WHEN {_literal(label)} THEN {_literal(str(value))}" for label, value in KIND_LABELS.items()
            )
            + " END"
        )
        truthy = ", ".join(_literal(k) for k, v in YES.items() if v)
        if self.postgres:
            amounts = "s.t_total::numeric(12, 2), s.t_fund::numeric(12, 2), s.t_own::numeric(12, 2)"
        else:
            amounts = "s.t_total, s.t_fund, s.t_own"
        columns = ", ".join((*_INSERT_COLUMNS, *_CONSTANT_COLUMNS))
        constants = ", ".join(_literal(str(v)) for v in _CONSTANT_COLUMNS.values())
        now = db_moment(timezone.now())
        table = connection.ops.quote_name(Encounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {public_id}, %s, %s, p.id, s.inst_id, "
                "CASE WHEN s.t_dept = '' THEN NULL ELSE s.dept_id END, "
                f"{kind}, {self._moment('s.t_started', 's.d1_')}, "
                f"CASE WHEN s.t_ended = '' THEN NULL ELSE {self._moment('s.t_ended', 's.d2_')} END, "
                "s.code, substr(s.t_diag_name, 1, 50), s.t_source, "
                f"CASE WHEN s.t_tcm IN ({truthy}) THEN TRUE ELSE FALSE END, "
                "CASE WHEN s.t_grade = '' THEN NULL ELSE CAST(s.t_grade AS integer) END, "
                # CROSS JOIN: SQLite must read the batch's rows first, not scan every person.
                f"{amounts}, {constants} {source} CROSS JOIN {person} p "
                f"WHERE p.id_number_hash = s.hash AND {accept} ORDER BY s.ordinal ON CONFLICT DO NOTHING",
                [now, now],
            )
            inserted = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {link} (person_id, institution_id, reason, since) "
                f"SELECT DISTINCT p.id, s.inst_id, %s, %s {source} "
                f"CROSS JOIN {person} p WHERE p.id_number_hash = s.hash AND {accept} ON CONFLICT DO NOTHING",
                [PersonLinkReason.TREATED.value, now],
            )
        return inserted

    def remember(self, lo: int, hi: int) -> None:
        """Note the (institution, month) of every passing row in (lo, hi] (volumes are recounted for those)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT s.inst_id, substr(s.t_started, 1, 7), "
                f"CASE WHEN s.t_ended = '' THEN NULL ELSE substr(s.t_ended, 1, 7) END FROM {self.tables['chk']} s "
                "WHERE s.ok"
            )
            for institution_id, started, ended in cursor.fetchall():
                for month in (started, ended):
                    if month:
                        self.rows.months.add((institution_id, datetime.date.fromisoformat(f"{month}-01")))
