"""Writes of people: registration, profile changes, revealing an ID number (audited)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import apply_changes, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.text import pinyin_full, pinyin_initials
from yilian.institutions import selectors as institution_selectors
from yilian.people import policies
from yilian.people.choices import Gender, InsuranceScheme, PersonLinkReason
from yilian.people.identifiers import (
    decrypt_id_number,
    encrypt_id_number,
    hash_id_number,
    mask_id_number,
    parse_resident_id,
)
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.selectors import acting_institution_public_id, person_visible_to, registration_region

PERSON_FIELDS = (
    "name",
    "id_number_masked",
    "gender",
    "birth_date",
    "phone",
    "address",
    "address_region",
    "insurance_scheme",
    "home_grid",
)
EDITABLE_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "phone",
    "address",
    "address_region",
    "insurance_scheme",
    "home_grid",
)


def _validate(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = [_("请填写姓名。")]
    if "gender" in data and data["gender"] not in Gender.values:
        errors["gender"] = [_("无效的性别代码（GB/T 2261.1）。")]
    if "insurance_scheme" in data and data["insurance_scheme"] not in InsuranceScheme.values:
        errors["insurance_scheme"] = [_("无效的参保类型。")]
    if data.get("phone"):
        phone = str(data["phone"]).strip()
        if not (phone.isdigit() and 7 <= len(phone) <= 12):
            errors["phone"] = [_("联系电话应为 7–12 位数字。")]
    birth = data.get("birth_date")
    if birth is not None and birth > timezone.localdate():
        errors["birth_date"] = [_("出生日期不能晚于今天。")]
    return errors


def home_grid_problems(grid: Any, home_region: Any) -> dict[str, list[str]]:
    """The problem of ``grid`` as the home grid of a person living in ``home_region``, if any.

    A home grid must lie in the person's county (``institutions.selectors.county_prefix``): their
    address region when set, otherwise the registering institution's region, is ``home_region``.
    No grid, or no known region, has no problem. One query when both are given.
    """
    if grid is None or home_region is None:
        return {}
    prefix = institution_selectors.county_prefix(home_region)
    if institution_selectors.grids_in_areas({prefix}).filter(pk=grid.pk).exists():
        return {}
    return {
        "home_grid": [
            _(
                "网格“%(grid)s”不在该居民所在的县（市、区）。所属网格须在现住址区划所在县；"
                "未填现住址区划时，须在登记机构所在县。"
            )
            % {"grid": grid.name}
        ]
    }


def _assign(person: Person, key: str, value: Any) -> None:
    """Set one field; a name is trimmed and its pinyin keys refreshed."""
    if key == "name":
        person.name = value.strip()
        person.name_initials = pinyin_initials(person.name)
        person.name_pinyin = pinyin_full(person.name)
    else:
        setattr(person, key, value)


def _same_name(first: str, second: str) -> bool:
    """Names compared without any spaces (ASCII or full-width), as staff type them differently."""
    return "".join(first.split()) == "".join(second.split())


def _link(person: Person, institution: Any, reason: str) -> bool:
    _link_row, created = PersonInstitutionLink.objects.get_or_create(
        person=person, institution=institution, reason=reason
    )
    return created


def _registration_problems(data: dict[str, Any], id_number: str) -> tuple[dict[str, list[str]], Any]:
    """Every field problem of a registration at once, and the parsed ID number (None if blank or bad)."""
    errors = _validate(data)
    parsed = None
    if id_number:
        try:
            parsed = parse_resident_id(id_number)
        except Invalid as error:
            errors.update(error.as_text())
    if parsed is not None:
        if data.get("birth_date") and data["birth_date"] != parsed.birth_date:
            errors["birth_date"] = [_("出生日期与身份证号不一致。")]
        if data.get("gender") in (Gender.MALE, Gender.FEMALE) and data["gender"] != parsed.gender:
            errors["gender"] = [_("性别与身份证号不一致。")]
    return errors, parsed


def registration_problems(*, id_number: str = "", **data: Any) -> dict[str, list[str]]:
    """The field problems ``person_register`` would raise for these values, without saving anything.

    Only the fields given are checked (a form passes the ones it accepted, so its own errors are not
    repeated); the existing-person name check needs the database and stays in ``person_register``.
    No side effects; raises nothing.
    """
    data = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    return _registration_problems(data, id_number)[0]


def person_register(*, actor: Any, institution: Any, id_number: str = "", **data: Any) -> tuple[Person, bool]:
    """Register a person at an institution, or link the existing person with the same ID number.

    Birth date and gender are taken from the ID number and must agree with
    what was entered. A known ID number links the existing person only when
    the entered name is theirs (spaces ignored); otherwise nothing changes
    and Invalid is raised on ``name``. A home grid must lie in the person's
    county (``home_grid_problems``; without an address region, the
    institution's). Returns (person, created). Raises
    NotAllowed, Invalid, Conflict (registered concurrently by someone else:
    retry finds them).
    """
    if not policies.can_register_person(actor, institution):
        raise NotAllowed(_("您没有在该机构登记居民的权限。"))
    data = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    data.setdefault("name", "")
    errors, parsed = _registration_problems(data, id_number)
    errors.update(home_grid_problems(data.get("home_grid"), data.get("address_region") or institution.region))
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        if parsed is not None:
            existing = Person.objects.filter(id_number_hash=hash_id_number(parsed.number)).first()
            if existing is not None:
                if not _same_name(existing.name, data["name"]):
                    raise Invalid({"name": [_("该身份证号已登记，但姓名与登记信息不一致，请核对。")]})
                if _link(existing, institution, PersonLinkReason.REGISTERED):
                    record_event(
                        actor=actor,
                        action="person.link",
                        obj=existing,
                        details={"reason": PersonLinkReason.REGISTERED},
                        institution_public_id=institution.public_id,
                    )
                return existing, False
            data["birth_date"] = parsed.birth_date
            if data.get("gender") not in (Gender.MALE, Gender.FEMALE):
                data["gender"] = parsed.gender
        person = Person(**{k: v for k, v in data.items() if k != "name"})
        person.name = data["name"].strip()
        person.name_initials = pinyin_initials(person.name)
        person.name_pinyin = pinyin_full(person.name)
        if parsed is not None:
            person.id_number_hash = hash_id_number(parsed.number)
            person.id_number_encrypted = encrypt_id_number(parsed.number)
            person.id_number_masked = mask_id_number(parsed.number)
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError as error:
            raise Conflict(_("该身份证号刚被他人登记，请重新查询。")) from error
        _link(person, institution, PersonLinkReason.REGISTERED)
        record_event(
            actor=actor,
            action="person.create",
            obj=person,
            after=snapshot(person, PERSON_FIELDS),
            institution_public_id=institution.public_id,
        )
    return person, True


def person_update(
    *, actor: Any, person: Person, seen_updated_at: datetime.datetime | None = None, **data: Any
) -> Person:
    """Change a visible person's contact and insurance details.

    ``seen_updated_at`` is the ``updated_at`` of the record the caller edited;
    when someone saved the person since, nothing changes (an edit form carries
    every field, so saving it would silently undo the other change). A change
    of home grid or address region is refused on ``home_grid`` when the grid
    would lie outside the person's county (``home_grid_problems``). Audited
    as ``person.update`` under the actor's institution linked to the person
    (``acting_institution_public_id``). Raises NotAllowed, Invalid, Conflict.
    """
    if not person_visible_to(actor).filter(pk=person.pk).exists():
        raise NotAllowed(_("您没有修改该居民信息的权限。"))
    data = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    if person.id_number_hash:
        # The ID number fixes both; they change only with the number itself.
        data.pop("birth_date", None)
        data.pop("gender", None)
    errors = _validate(data)
    if "home_grid" in data or "address_region" in data:
        # A move to another county with the old grid kept is refused too; other changes leave it be.
        region = data.get("address_region", person.address_region)
        grid = data.get("home_grid", person.home_grid)
        errors.update(home_grid_problems(grid, region or registration_region(person)))
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        if seen_updated_at is not None:
            current = Person.objects.select_for_update().only("updated_at").get(pk=person.pk)
            if current.updated_at != seen_updated_at:
                raise Conflict(_("该居民信息在您编辑期间已被他人修改；请核对后再次保存（以本页内容为准）。"))
        old, new = apply_changes(person, data, PERSON_FIELDS, assign=_assign)
        if new:
            record_event(
                actor=actor,
                action="person.update",
                obj=person,
                before=old,
                after=new,
                institution_public_id=acting_institution_public_id(actor, person),
            )
    return person


def person_link(*, actor: Any, person: Person, institution: Any, reason: str) -> None:
    """Record that an institution is involved with a person (called by referral, order, contract services).

    Audited as ``person.link`` under that institution, once per institution
    and reason. Raises Invalid (unknown reason).
    """
    if reason not in PersonLinkReason.values:
        raise Invalid({"reason": [_("无效的关联原因。")]})
    # No savepoint: callers run inside their own transaction, and a failure here fails theirs.
    with transaction.atomic(savepoint=False):
        if _link(person, institution, reason):
            record_event(
                actor=actor,
                action="person.link",
                obj=person,
                details={"reason": reason},
                institution_public_id=institution.public_id,
            )


def person_reveal_id_number(*, actor: Any, person: Person, purpose: str) -> str:
    """Return the full ID number of a visible person to clinical staff, auditing who asked and why.

    The ``person.reveal_id`` event carries the actor's institution linked to
    the person, so its administrators see their staff's reveals. Raises
    NotAllowed, Invalid (no purpose given, or no number stored).
    """
    if (
        not policies.can_view_full_id_number(actor)
        or not person_visible_to(actor).filter(pk=person.pk).exists()
    ):
        raise NotAllowed(_("您没有查看完整身份证号的权限。"))
    if not purpose.strip():
        raise Invalid({"purpose": [_("请说明查看用途。")]})
    if not person.id_number_encrypted:
        raise Invalid({"__all__": [_("该居民没有登记身份证号。")]})
    with transaction.atomic():
        record_event(
            actor=actor,
            action="person.reveal_id",
            obj=person,
            details={"purpose": purpose.strip()[:200]},
            institution_public_id=acting_institution_public_id(actor, person),
        )
    return decrypt_id_number(person.id_number_encrypted)


def age_on(person: Person, day: datetime.date | None = None) -> int | None:
    """Age in whole years on ``day`` (today by default)."""
    if person.birth_date is None:
        return None
    day = day or timezone.localdate()
    years = day.year - person.birth_date.year
    return years - ((day.month, day.day) < (person.birth_date.month, person.birth_date.day))
