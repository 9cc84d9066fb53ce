"""Reads of people, scoped to what the actor needs to know."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import Invalid, NotFound
from yilian.core.search import name_search_q
from yilian.people.choices import PersonLinkReason
from yilian.people.identifiers import hash_id_number, parse_resident_id
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.policies import institutions_seeing_patients


def person_visible_to(actor: Any) -> QuerySet[Person]:
    """Persons linked to an institution where the actor sees patients; all for platform admins."""
    scope = scope_for(actor)
    people = Person.objects.select_related("address_region", "home_grid")
    if scope.is_platform_admin:
        return people
    institutions = institutions_seeing_patients(actor)
    if not institutions:
        return people.none()
    links = PersonInstitutionLink.objects.filter(person=OuterRef("pk"), institution_id__in=institutions)
    return people.filter(Exists(links))


def person_list(actor: Any, *, query: str = "", id_number: str = "") -> QuerySet[Person]:
    """Visible persons, searched by name / pinyin initials, or by exact resident ID number.

    Raises Invalid for a malformed ID number.
    """
    people = person_visible_to(actor)
    if id_number:
        parsed = parse_resident_id(id_number)
        people = people.filter(id_number_hash=hash_id_number(parsed.number))
    if query:
        people = people.filter(name_search_q(query, extra_fields=("phone",)))
    return people.order_by("name", "id")


def person_get_for(actor: Any, public_id: Any) -> Person:
    """One person by public id, if visible to the actor; NotFound otherwise."""
    try:
        return person_visible_to(actor).get(public_id=public_id)
    except (Person.DoesNotExist, ValueError, TypeError, ValidationError, Invalid) as error:
        raise NotFound("person") from error


def person_links(person: Person) -> QuerySet[PersonInstitutionLink]:
    """Institutions linked to a person, oldest first."""
    return person.institution_links.select_related("institution").order_by("since")


def acting_institution_public_id(actor: Any, person: Person) -> uuid.UUID | None:
    """The institution on whose behalf the actor deals with the person, for the audit log.

    The first (lowest id) of the institutions where the actor sees patients
    that is linked to the person, so that institution's administrators read
    the event in their audit log. None when there is none (a platform
    admin acting from outside). One query.
    """
    institutions = institutions_seeing_patients(actor)
    if not institutions:
        return None
    return (
        PersonInstitutionLink.objects.filter(person=person, institution_id__in=institutions)
        .order_by("institution_id")
        .values_list("institution__public_id", flat=True)
        .first()
    )


def registration_region(person: Person) -> Any:
    """The region of the institution that registered the person first (None when none did). One query.

    Where a person without an address region lives, as far as the record knows: their home grid
    must lie in that county.
    """
    link = (
        PersonInstitutionLink.objects.filter(person=person, reason=PersonLinkReason.REGISTERED)
        .select_related("institution__region")
        .order_by("since", "id")
        .first()
    )
    return link.institution.region if link is not None else None
