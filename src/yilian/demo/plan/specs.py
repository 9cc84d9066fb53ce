"""The plan's data types and the region list's CSV form."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from importlib import resources

from yilian.demo import content
from yilian.demo.content import Dept
from yilian.institutions.choices import HospitalClass, HospitalGrade, MemberRole, Ownership, ProfitStatus


@dataclass(frozen=True)
class RegionRow:
    """One row of the region list: a GB/T 2260 code (or its extension), a name, a population."""

    code: str
    name: str
    population: int | None


@dataclass(frozen=True)
class InstitutionPlan:
    """An institution to register, keyed by a stable ``key`` the rest of the plan refers to."""

    key: str
    name: str
    short_name: str
    credit_code: str
    category: str
    region_code: str
    ownership: str = Ownership.PUBLIC
    profit_status: str = ProfitStatus.NON_PROFIT
    grade: str = HospitalGrade.UNGRADED
    grade_class: str = HospitalClass.UNRATED
    is_tcm: bool = False
    beds: int = 0
    address: str = ""
    phone: str = ""
    description: str = ""
    departments: tuple[Dept, ...] = ()


@dataclass(frozen=True)
class MemberPlan:
    """A membership: institution key, role, parent institution key, dates, notes."""

    institution: str
    role: str = MemberRole.MEMBER
    parent: str = ""
    joined_on: datetime.date = datetime.date(2020, 7, 1)
    notes: str = ""
    left_on: datetime.date | None = None
    leave_reason: str = ""


@dataclass(frozen=True)
class BodyPlan:
    """A management body of a consortium."""

    kind: str
    name: str
    head_name: str
    host: str
    duties: str
    phone: str = ""


@dataclass(frozen=True)
class AgreementPlan:
    """A charter or agreement, uploaded as a generated PDF."""

    kind: str
    title: str
    filename: str
    signed_on: datetime.date
    effective_from: datetime.date
    effective_to: datetime.date | None
    parties: tuple[str, ...]
    body: tuple[str, ...]
    notes: str = ""


@dataclass(frozen=True)
class ConsortiumPlan:
    """A consortium with its lead (first member), other members, bodies and agreements."""

    key: str
    name: str
    type: str
    integration: str
    region_code: str
    established_on: datetime.date
    description: str
    members: tuple[MemberPlan, ...]
    bodies: tuple[BodyPlan, ...] = ()
    agreements: tuple[AgreementPlan, ...] = ()

    @property
    def lead(self) -> MemberPlan:
        """The first member, which must be a lead (the consortium is created with it)."""
        return self.members[0]


@dataclass(frozen=True)
class GridPlan:
    """A grid, the townships/villages it covers and the consortium key serving it ("" = none)."""

    code: str
    name: str
    region_code: str
    area_codes: tuple[str, ...]
    consortium: str
    description: str
    population: int | None


@dataclass(frozen=True)
class AccountPlan:
    """A demo account and its one role grant."""

    username: str
    full_name: str
    role: str
    scope_label: str
    institution: str = ""
    department: str = ""
    consortium: str = ""
    region_code: str = ""
    professional_title: str = ""
    phone: str = ""


@dataclass(frozen=True)
class PersonPlan:
    """A resident of the county with a valid resident ID number."""

    name: str
    id_number: str
    gender: str
    birth_date: datetime.date
    phone: str
    address: str
    village_code: str
    township_code: str
    insurance_scheme: str


@dataclass
class DemoPlan:
    """Everything the demo consists of, for one seed and scale."""

    seed: int
    scale: int
    region_csv: str
    extra_regions: list[RegionRow]
    institutions: list[InstitutionPlan]
    consortia: list[ConsortiumPlan]
    grids: list[GridPlan]
    accounts: list[AccountPlan]
    persons: list[PersonPlan]
    township_centres: dict[str, str] = field(default_factory=dict)
    """Township code → key of its health centre."""
    village_clinics: dict[str, str] = field(default_factory=dict)
    """Village code → key of its clinic."""
    _by_key: dict[str, InstitutionPlan] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_key = {item.key: item for item in self.institutions}

    def institution(self, key: str) -> InstitutionPlan:
        """The planned institution with this key."""
        return self._by_key[key]


def region_csv_text() -> str:
    """The shipped region list (``yilian/institutions/data/demo_regions.csv``)."""
    return (
        resources.files("yilian.institutions")
        .joinpath("data", content.REGIONS_CSV)
        .read_text(encoding="utf-8")
    )


def parse_region_rows(text: str) -> list[RegionRow]:
    """Rows of a ``code,name,population`` CSV (header skipped)."""
    rows: list[RegionRow] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip().isdigit():
            continue
        population = row[2].strip() if len(row) > 2 else ""
        rows.append(RegionRow(row[0].strip(), row[1].strip(), int(population) if population else None))
    return rows


def region_rows_to_csv(rows: list[RegionRow]) -> str:
    """Render region rows as the CSV the registry's import reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "population"])
    for row in rows:
        writer.writerow([row.code, row.name, "" if row.population is None else row.population])
    return out.getvalue()
