"""Bulk resolution of persons by resident ID number for file imports (encounters, claims).

One query per batch finds the known persons by the keyed hash of their ID
number; the unknown ones are created in one ``bulk_create`` (name, gender and
birth date taken from the number) and re-selected, so two imports that meet
the same new person at once end with one row. ID numbers are never logged.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.fernet import Fernet
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from yilian.core.exceptions import Invalid
from yilian.core.text import pinyin_full, pinyin_initials
from yilian.people.choices import InsuranceScheme
from yilian.people.identifiers import (
    _key,
    address_code_in_use_since,
    hash_id_number,
    mask_id_number,
    parse_resident_id,
)
from yilian.people.models import Person, PersonInstitutionLink

CACHE_LIMIT = 250_000
"""Persons remembered per job before the caches start over."""

PERSON_CONSTANTS: dict[str, Any] = {
    "phone": "",
    "address": "",
    "insurance_scheme": InsuranceScheme.RESIDENT.value,
}
PERSON_COLUMNS = (
    "public_id",
    "created_at",
    "updated_at",
    "name",
    "name_initials",
    "name_pinyin",
    "id_number_hash",
    "id_number_encrypted",
    "id_number_masked",
    "gender",
    "birth_date",
    *PERSON_CONSTANTS,
)


def insert_ignoring_conflicts(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of already-prepared rows into ``model``'s table.

    Values must be what the backend stores (see ``db_value``); skipping model
    instances is what makes imports of millions of rows affordable. Rows that
    hit a unique constraint are dropped by the database (SQLite ≥ 3.24, PostgreSQL).
    """
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = ", ".join(["%s"] * len(columns))
    # One short statement run many times: psycopg pipelines it and parses it once; a
    # statement with thousands of placeholders costs more to parse than to insert.
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({one}) ON CONFLICT DO NOTHING", rows)


def person_tables() -> tuple[str, str]:
    """The quoted table names of persons and of their institution links (for set-based imports' SQL)."""
    quote = connection.ops.quote_name
    return quote(Person._meta.db_table), quote(PersonInstitutionLink._meta.db_table)


def db_uuid(value: uuid.UUID) -> Any:
    """A UUID as the backend stores it (SQLite: 32 hex characters)."""
    return value if connection.features.has_native_uuid_field else value.hex


def db_moment(moment: datetime.datetime | None) -> Any:
    """An aware datetime as the backend stores it (SQLite: naive UTC text, like Django's own adapter)."""
    if moment is None or connection.features.supports_timezones:
        return moment
    return str(moment.astimezone(datetime.UTC).replace(tzinfo=None))


def db_date(day: datetime.date | None) -> Any:
    """A date as the backend stores it (SQLite: ISO text)."""
    if day is None or connection.vendor != "sqlite":
        return day
    return day.isoformat()


class ResidentIdChecker:
    """Checks resident ID numbers exactly as ``parse_resident_id`` (python-stdnum ``cn.ric``), fast.

    The address-code check (``address_code_in_use_since``) looks the 6-digit
    region code up in stdnum's table of counties: by far the slowest step, and
    it depends on (region code, birth year) only, so its answer is cached per
    pair. Numbers that fail any step go through ``parse_resident_id`` itself
    for the reason in Chinese. Returns (number, birth date, gender) or the reason.
    """

    def __init__(self) -> None:
        self._places: dict[tuple[str, int], bool] = {}

    def parse(self, raw: str) -> tuple[str, datetime.date, str] | str:
        """The parsed number, or the reason in Chinese it is invalid."""
        try:
            number = ric.compact(raw or "")
            body = number[:-1]
            if (
                len(number) == 18
                and body.isdigit()
                and body.isascii()
                and number[-1] == ric.calc_check_digit(number)
            ):
                birth = ric.get_birth_date(number)
                key = (number[:6], birth.year)
                placed = self._places.get(key)
                if placed is None:
                    placed = address_code_in_use_since(number, birth.year)
                    if len(self._places) >= CACHE_LIMIT:
                        self._places.clear()
                    self._places[key] = placed
                if placed:
                    return number, birth, "1" if int(number[14:17]) % 2 else "2"
        except (ValidationError, ValueError):
            pass
        try:
            parsed = parse_resident_id(raw)
        except Invalid as error:
            return str(next(iter(error.errors.values()))[0])
        return parsed.number, parsed.birth_date, parsed.gender


class PersonResolver:
    """Maps validated resident ID numbers to person ids for one import job, caching what it has seen.

    The cache holds hashes (not numbers) → person id; one resolver lives as
    long as the job, so a person met in many rows costs one lookup.
    """

    def __init__(self) -> None:
        self._ids_by_hash: dict[str, int] = {}
        self._hash_by_number: dict[str, str] = {}
        self._pinyin: dict[str, tuple[str, str]] = {}
        self._links: set[tuple[int, int]] = set()
        # One cipher for the job (the same key encrypt_id_number derives on every call).
        self._fernet = Fernet(base64.urlsafe_b64encode(_key(b"encrypt")))

    def hash_of(self, number: str) -> str:
        """The keyed hash of a (validated, upper-case) ID number, memoised."""
        digest = self._hash_by_number.get(number)
        if digest is None:
            digest = hash_id_number(number)
            self._hash_by_number[number] = digest
        return digest

    def _pinyin_of(self, name: str) -> tuple[str, str]:
        keys = self._pinyin.get(name)
        if keys is None:
            keys = (pinyin_initials(name)[:200], pinyin_full(name)[:600])
            self._pinyin[name] = keys
        return keys

    def resolve(self, people: Iterable[tuple[str, str, datetime.date, str]]) -> dict[str, int]:
        """Person ids for ``(number, name, birth_date, gender)`` tuples; creates the missing persons.

        Returns number → person id. Side effects: inserts Person rows for
        unknown numbers (at most two queries per call beyond the lookup).
        """
        if len(self._ids_by_hash) > CACHE_LIMIT:
            # Bounded caches keep memory flat on files of millions of persons; a miss costs one lookup.
            self._ids_by_hash.clear()
            self._hash_by_number.clear()
            self._pinyin.clear()
            self._links.clear()
        wanted: dict[str, tuple[str, str, datetime.date, str]] = {}
        for entry in people:
            wanted.setdefault(entry[0], entry)
        result: dict[str, int] = {}
        missing: dict[str, tuple[str, str, datetime.date, str]] = {}
        for number, entry in wanted.items():
            digest = self.hash_of(number)
            known = self._ids_by_hash.get(digest)
            if known is None:
                missing[digest] = entry
            else:
                result[number] = known
        if missing:
            found = dict(
                Person.objects.filter(id_number_hash__in=list(missing)).values_list("id_number_hash", "id")
            )
            new = {digest: entry for digest, entry in missing.items() if digest not in found}
            if new:
                self.create(new)
                # A concurrent import may insert the same person between our select and insert:
                # the unique hash drops the second row, and we read back the ids that won.
                found.update(
                    Person.objects.filter(id_number_hash__in=list(new)).values_list("id_number_hash", "id")
                )
            self._ids_by_hash.update(found)
            for digest, entry in missing.items():
                result[entry[0]] = found[digest]
        return result

    def create(self, people: dict[str, tuple[str, str, datetime.date, str]]) -> None:
        """Insert persons not yet known: keyed hash → (number, name, birth date, gender).

        Only here does a person cost Python work (pinyin of the name, the
        encrypted number). Conflicts on the hash (a concurrent import created
        the person first) are ignored.
        """
        if len(self._pinyin) > CACHE_LIMIT:
            self._pinyin.clear()  # bounded: memory stays flat however many persons a file brings
        rows: list[tuple[Any, ...]] = []
        now = db_moment(timezone.now())
        for digest, (number, name, birth_date, gender) in people.items():
            initials, full = self._pinyin_of(name)
            rows.append(
                (
                    db_uuid(uuid.uuid4()),
                    now,
                    now,
                    name,
                    initials,
                    full,
                    digest,
                    self._fernet.encrypt(number.encode()).decode(),
                    mask_id_number(number),
                    gender,
                    db_date(birth_date),
                    *PERSON_CONSTANTS.values(),
                )
            )
        insert_ignoring_conflicts(Person, PERSON_COLUMNS, rows)

    def link_treated(self, pairs: Iterable[tuple[int, int]], reason: str) -> None:
        """Record that institutions treated persons (``(person_id, institution_id)``), once per pair and job.

        The link is what lets the institution's staff see the person afterwards.
        """
        fresh = [pair for pair in set(pairs) if pair not in self._links]
        if not fresh:
            return
        now = db_moment(timezone.now())
        insert_ignoring_conflicts(
            PersonInstitutionLink,
            ("person_id", "institution_id", "reason", "since"),
            [(p, i, reason, now) for p, i in fresh],
        )
        self._links.update(fresh)


def resolver() -> Any:
    """A new resolver for one import job."""
    return PersonResolver()
