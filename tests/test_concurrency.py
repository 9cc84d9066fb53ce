"""Concurrent conflicting actions end with one winner and clean conflicts for the rest.

Real threads, each with its own database connection, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yilian.core.exceptions import Conflict, Invalid
from yilian.core.testing import race
from yilian.institutions import services
from yilian.institutions.models import Consortium, ConsortiumMember, GridAssignment
from yilian.institutions.tests.factories import ConsortiumFactory, GridFactory, InstitutionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_administrators_add_the_same_member(world):
    version = world.consortium.version
    institution = InstitutionFactory(name="霍邱县新店镇卫生院", region=world.regions["county"])

    def add(actor: Any) -> Callable[[], Any]:
        return lambda: services.member_add(
            actor=actor,
            consortium=Consortium.objects.get(pk=world.consortium.pk),
            institution=institution,
            expected_version=version,
        )

    results = race(add(world.office), add(world.admin))
    winners = [r for r in results if isinstance(r, ConsortiumMember)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert "刷新" in str(losers[0].message)
    assert ConsortiumMember.objects.filter(institution=institution, is_active=True).count() == 1


def test_two_county_communities_claim_one_institution_at_once(world):
    institution = InstitutionFactory(name="霍邱县石店镇卫生院", region=world.regions["county"])
    other = ConsortiumFactory(name="霍邱县第二医共体", region=world.regions["county"])

    def add(consortium: Consortium) -> Callable[[], Any]:
        return lambda: services.member_add(actor=world.admin, consortium=consortium, institution=institution)

    results = race(add(world.consortium), add(other))
    winners = [r for r in results if isinstance(r, ConsortiumMember)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    # PostgreSQL lets both pass the check and the partial unique index stops the second (Conflict);
    # SQLite serialises the two transactions so the second sees the first (Invalid). Both are clean.
    assert len(losers) == 1 and isinstance(losers[0], (Conflict, Invalid)), results
    assert (
        ConsortiumMember.objects.filter(institution=institution, is_active=True, grid_form=True).count() == 1
    )


def test_two_regulators_assign_one_grid_at_once(world):
    grid = GridFactory(region=world.regions["county"])
    other = ConsortiumFactory(name="霍邱县第三医共体", region=world.regions["county"])

    def assign(consortium: Consortium) -> Callable[[], Any]:
        return lambda: services.grid_assign(actor=world.regulator, grid=grid, consortium=consortium)

    results = race(assign(world.consortium), assign(other))
    assert sum(isinstance(r, GridAssignment) for r in results) == 1, results
    assert sum(isinstance(r, (Conflict, Invalid)) for r in results) == 1, results
    assert GridAssignment.objects.filter(grid=grid, is_current=True).count() == 1


def test_two_receivers_accept_the_same_referral(world):
    from yilian.referrals import services as referral_services
    from yilian.referrals.models import Referral
    from yilian.referrals.tests.factories import referral_world, submitted

    rw = referral_world(world)
    referral = submitted(rw)

    def accept(actor: Any) -> Callable[[], Any]:
        return lambda: referral_services.referral_act(
            actor=actor, referral=Referral.objects.get(pk=referral.pk), action="accept"
        )

    results = race(accept(rw.hospital_doctor), accept(rw.hospital_coordinator))
    winners = [r for r in results if isinstance(r, Referral)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == "accepted" and stored.events.filter(action="accept").count() == 1


def test_two_senders_book_the_last_reserved_place(world):
    from yilian.referrals import services as referral_services
    from yilian.referrals.models import Referral, ReservedCapacity
    from yilian.referrals.tests.factories import capacity, draft, referral_world

    rw = referral_world(world)
    slot = capacity(rw.cardiology, quantity=1)
    first, second = draft(rw), draft(rw)

    def submit(referral: Referral) -> Callable[[], Any]:
        return lambda: referral_services.referral_submit(
            actor=rw.township_doctor, referral=Referral.objects.get(pk=referral.pk), booking_date=slot.date
        )

    results = race(submit(first), submit(second))
    winners = [r for r in results if isinstance(r, Referral)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert ReservedCapacity.objects.get(pk=slot.pk).booked == 1
    statuses = sorted(Referral.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
    assert statuses == ["draft", "submitted"]


def test_concurrent_creates_all_get_distinct_numbers(world):
    from yilian.referrals import services as referral_services
    from yilian.referrals.models import Referral
    from yilian.referrals.tests.factories import referral_world

    rw = referral_world(world)

    def create() -> Any:
        referral, _created = referral_services.referral_create(
            actor=rw.township_doctor,
            person=rw.patient,
            from_institution=world.township,
            to_department=rw.cardiology,
        )
        return referral

    results = race(*[create for _ in range(4)])
    assert all(isinstance(r, Referral) for r in results), results
    numbers = [r.number for r in results]
    assert len(set(numbers)) == 4 and Referral.objects.count() == 4
