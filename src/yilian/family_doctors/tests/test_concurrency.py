"""Concurrent signings of one resident: one contract, the other signer gets 409 (real threads)."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.family_doctors import services
from yilian.family_doctors.choices import ACTIVE_STATUSES
from yilian.family_doctors.models import CareTeam, FamilyDoctorContract
from yilian.family_doctors.tests.factories import second_team, sign
from yilian.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_teams_sign_the_same_resident_at_once(fw):
    other = second_team(fw)

    def signing(actor: Any, team: CareTeam) -> Any:
        return lambda: services.contract_sign(
            actor=actor,
            team=CareTeam.objects.select_related("institution", "grid").get(pk=team.pk),
            person=Person.objects.get(pk=fw.resident.pk),
            package=fw.basic,
        )

    results = race(signing(fw.gp, fw.team), signing(fw.world.township_admin, other))
    winners = [r for r in results if isinstance(r, FamilyDoctorContract)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert FamilyDoctorContract.objects.filter(person=fw.resident, status__in=ACTIVE_STATUSES).count() == 1


def test_two_members_terminate_and_renew_at_once(fw):
    import datetime

    from django.utils import timezone

    contract = sign(fw, ends_on=timezone.localdate() + datetime.timedelta(days=20))

    def terminate() -> Any:
        return services.contract_terminate(
            actor=fw.gp,
            contract=FamilyDoctorContract.objects.get(pk=contract.pk),
            reason="resident_request",
            expected_version=1,
        )

    def renew() -> Any:
        return services.contract_renew(
            actor=fw.nurse, contract=FamilyDoctorContract.objects.get(pk=contract.pk), expected_version=1
        )

    results = race(terminate, renew)
    winners = [r for r in results if isinstance(r, FamilyDoctorContract)]
    assert len(winners) == 1, results
    assert isinstance(next(r for r in results if isinstance(r, Exception)), Conflict), results
    assert FamilyDoctorContract.objects.get(pk=contract.pk).version == 2
