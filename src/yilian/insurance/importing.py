"""Claim rows from the insurance bureau's files: the template's columns, the per-row check, the batch writer.

``ClaimRows.validate`` checks one row (a dict of header → text);
``ClaimRows.write`` inserts a batch, the database ignoring settlement numbers
already present, and derives each claim's ``provider_place`` from the
consortium membership and the regions.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from yilian.core.exceptions import required_message
from yilian.encounters.importing import (
    Column,
    DiagnosisCache,
    IdentityCache,
    RowError,
    check_day,
    parse_amounts,
    parse_moment,
)
from yilian.institutions.selectors import (
    institution_id_by_credit_code,
    member_consortium_region_prefixes,
    region_id_by_code,
)
from yilian.insurance.choices import ClaimKind, ProviderPlace
from yilian.insurance.models import Claim
from yilian.people.choices import InsuranceScheme
from yilian.people.importing import PersonResolver

COLUMNS: tuple[Column, ...] = (
    Column("结算流水号", "source_record_id", True, "JS2024000001"),
    Column("身份证号", "id_number", True, "342423198001011231"),
    Column("姓名", "name", True, "张三"),
    Column("险种", "scheme", True, "城乡居民"),
    Column("参保地区划代码", "insured_region_code", True, "341522"),
    Column("类别", "kind", True, "住院"),
    Column("定点机构统一社会信用代码", "provider_credit_code", False, "12341522000000001A"),
    Column("定点机构名称", "provider_name", True, "霍邱县人民医院"),
    Column("机构所在地区划代码", "provider_region_code", True, "341522"),
    Column("就诊/入院日期", "started_on", True, "2024-03-01"),
    Column("出院/结束日期", "ended_on", True, "2024-03-08"),
    Column("结算日期", "settled_on", True, "2024-03-08"),
    Column("主要诊断编码", "diagnosis_code", False, "I63.900"),
    Column("总费用", "total_cost", True, "8600.00"),
    Column("基金支付", "fund_paid", True, "6020.00"),
    Column("个人支付", "self_paid", True, "2580.00"),
)
"""The claim template, in file order."""

SCHEME_LABELS = {
    "城乡居民": InsuranceScheme.RESIDENT,
    "城乡居民医保": InsuranceScheme.RESIDENT,
    "职工": InsuranceScheme.EMPLOYEE,
    "职工医保": InsuranceScheme.EMPLOYEE,
}
KIND_LABELS = {
    "门急诊": ClaimKind.OUTPATIENT,
    "门诊": ClaimKind.OUTPATIENT,
    "住院": ClaimKind.INPATIENT,
    "药店": ClaimKind.PHARMACY,
    "定点药店": ClaimKind.PHARMACY,
}


def provider_place(
    *, kind: str, insured_code: str, provider_code: str, member_prefixes: Iterable[str]
) -> str:
    """Where the provider stands for the insured's county: pharmacy, consortium member, in county, out.

    ``member_prefixes`` are the region prefixes of the consortia the provider
    is an active member of; a consortium whose region covers the insured
    region makes it a member for this claim.
    """
    if kind == ClaimKind.PHARMACY:
        return ProviderPlace.PHARMACY
    if any(insured_code.startswith(prefix) for prefix in member_prefixes):
        return ProviderPlace.MEMBER
    if provider_code.startswith(insured_code[:6]):
        return ProviderPlace.IN_COUNTY
    return ProviderPlace.OUT_OF_COUNTY


class ClaimRows:
    """Validates and writes claim rows for one import job; insured regions must lie under ``region_prefix``."""

    columns = COLUMNS
    fact_models = ("insurance.Claim",)
    """Models whose records an import writes: named in ``facts_changed``."""

    def __init__(self, *, region_prefix: str, today: datetime.date | None = None) -> None:
        self.region_prefix = region_prefix
        self.today = today or datetime.date.today()
        self.identities = IdentityCache()
        self.diagnoses = DiagnosisCache()
        # The people app's import resolver creates persons in bulk; its person_register service writes
        # one person and one audit event per call, which an import of many thousand rows cannot afford.
        self.persons = PersonResolver()
        self._regions: dict[str, int | None] = {}
        self.regional_months: set[datetime.date] = set()
        """Months of the settlement dates written: the claims' facts are counted by the insured's region."""
        self._institutions: dict[str, int | None] = {}
        self._member_prefixes: dict[int, tuple[str, ...]] = {}

    def _region(self, code: str) -> int | None:
        if code not in self._regions:
            self._regions[code] = region_id_by_code(code)
        return self._regions[code]

    def _institution(self, code: str) -> int | None:
        if code not in self._institutions:
            self._institutions[code] = institution_id_by_credit_code(code)
        return self._institutions[code]

    def _prefixes(self, institution_id: int) -> tuple[str, ...]:
        if institution_id not in self._member_prefixes:
            self._member_prefixes[institution_id] = member_consortium_region_prefixes(institution_id)
        return self._member_prefixes[institution_id]

    def _day(self, row: dict[str, str], header: str, errors: list[RowError]) -> datetime.date | None:
        raw = row.get(header, "").strip()
        moment = parse_moment(raw) if raw else None
        if moment is None:
            errors.append((header, raw, _("日期格式不正确（例如 2024-03-01）。")))
            return None
        day = moment.date()
        return day if check_day(day, header, raw, errors, self.today) else None

    def validate(self, row: dict[str, str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        """Check one row; returns (typed values, []) or (None, errors)."""
        errors: list[RowError] = []
        get = row.get
        source = get("结算流水号", "").strip()
        if not source:
            errors.append(("结算流水号", "", required_message()))
        elif len(source) > 64:
            errors.append(("结算流水号", source[:100], _("不能超过 64 个字符。")))
        identity = self.identities.parse(get("身份证号", "").strip().upper())
        if isinstance(identity, str):
            errors.append(("身份证号", "", identity))
        name = get("姓名", "").strip()
        if not name or len(name) > 50:
            errors.append(("姓名", name[:100], _("必填，不超过 50 个字符。")))
        scheme_text = get("险种", "").strip()
        scheme = SCHEME_LABELS.get(scheme_text)
        if scheme is None:
            errors.append(("险种", scheme_text, _("应为 城乡居民 或 职工。")))
        insured_code = get("参保地区划代码", "").strip()
        insured_id = self._region(insured_code) if insured_code else None
        if insured_id is None:
            errors.append(("参保地区划代码", insured_code, _("未知的行政区划代码。")))
        elif not insured_code.startswith(self.region_prefix):
            errors.append(("参保地区划代码", insured_code, _("不在本次导入的参保地范围内。")))
        kind_text = get("类别", "").strip()
        kind = KIND_LABELS.get(kind_text)
        if kind is None:
            errors.append(("类别", kind_text, _("应为 门急诊、住院 或 药店。")))
        credit_code = get("定点机构统一社会信用代码", "").strip().upper()
        provider_id = None
        if credit_code:
            provider_id = self._institution(credit_code)
            if provider_id is None:
                errors.append(("定点机构统一社会信用代码", credit_code, _("未登记的机构。")))
        provider_name = get("定点机构名称", "").strip()
        if not provider_name or len(provider_name) > 200:
            errors.append(("定点机构名称", provider_name[:100], _("必填，不超过 200 个字符。")))
        provider_code = get("机构所在地区划代码", "").strip()
        provider_region_id = self._region(provider_code) if provider_code else None
        if provider_region_id is None:
            errors.append(("机构所在地区划代码", provider_code, _("未知的行政区划代码。")))
        started = self._day(row, "就诊/入院日期", errors)
        ended = self._day(row, "出院/结束日期", errors)
        settled = self._day(row, "结算日期", errors)
        if started and ended and ended < started:
            errors.append(("出院/结束日期", str(ended), _("结束日期早于开始日期。")))
        raw_code = get("主要诊断编码", "").strip()
        diagnosis = ""
        if raw_code:
            ok, diagnosis = self.diagnoses.parse(raw_code)
            if not ok:
                errors.append(("主要诊断编码", raw_code[:100], diagnosis))
        amounts = parse_amounts(row, ("总费用", "基金支付", "个人支付"), errors)
        if errors:
            return None, errors
        assert amounts is not None and kind is not None and not isinstance(identity, str)
        place = provider_place(
            kind=kind,
            insured_code=insured_code,
            provider_code=provider_code,
            member_prefixes=self._prefixes(provider_id) if provider_id else (),
        )
        return {
            "source_record_id": source,
            "identity": identity,
            "name": name,
            "scheme": scheme,
            "insured_region_id": insured_id,
            "kind": kind,
            "provider_institution_id": provider_id,
            "provider_name": provider_name,
            "provider_region_id": provider_region_id,
            "provider_place": place,
            "started_on": started,
            "ended_on": ended,
            "settled_on": settled,
            "diagnosis_code": diagnosis,
            "total_cost": amounts[0],
            "fund_paid": amounts[1],
            "self_paid": amounts[2],
        }, []

    def remember(self, values: dict[str, Any]) -> None:
        """Note the month of the row's settlement date (its facts change with the import)."""
        self.regional_months.add(values["settled_on"].replace(day=1))

    def write(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Insert a batch of valid rows; returns (inserted, duplicates). Runs inside the caller's transaction.

        Settlement numbers already present, or repeated in the batch, are duplicates.
        """
        if not rows:
            return 0, 0
        person_ids = self.persons.resolve(
            (r["identity"][0], r["name"], r["identity"][1], r["identity"][2]) for r in rows
        )
        sources = [r["source_record_id"] for r in rows]
        existing = set(
            Claim.objects.filter(source_record_id__in=sources).values_list("source_record_id", flat=True)
        )
        fresh: list[Claim] = []
        for r in rows:
            if r["source_record_id"] in existing:
                continue
            existing.add(r["source_record_id"])
            values = {k: v for k, v in r.items() if k not in ("identity", "name")}
            fresh.append(Claim(person_id=person_ids[r["identity"][0]], **values))
        if not fresh:
            return 0, len(rows)
        before = Claim.objects.filter(source_record_id__in=[c.source_record_id for c in fresh]).count()
        Claim.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
        after = Claim.objects.filter(source_record_id__in=[c.source_record_id for c in fresh]).count()
        inserted = after - before
        return inserted, len(rows) - inserted
