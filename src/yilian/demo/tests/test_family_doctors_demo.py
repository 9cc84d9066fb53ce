"""The family-doctor side of ``seed-demo``: teams, contracts and slots agree with the rules, pages have
content for the demo accounts, a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yilian.accounts.models import User
from yilian.family_doctors.choices import ACTIVE_STATUSES, ContractStatus
from yilian.family_doctors.models import (
    CareTeam,
    CareTeamMember,
    ContractTerm,
    FamilyDoctorContract,
    ServicePackage,
)
from yilian.people.models import PersonInstitutionLink
from yilian.referrals.models import ReservedCapacity

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "300", "--village-limit", "2", "--referral-months", "2")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded() -> str:
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def test_demo_team_packages_and_contracts(seeded):
    doctor = User.objects.get(username="township_doctor")
    team = CareTeam.objects.get(members__user=doctor, members__is_leader=True)
    roles = {m.user.username: m.role for m in CareTeamMember.objects.filter(team=team).select_related("user")}
    assert roles == {
        "township_doctor": "general_practitioner",
        "township_nurse": "nurse",
        "public_health": "public_health",
        "endocrinologist": "specialist",
        "doctor": "specialist",
        "village_doctor": "general_practitioner",
    }
    assert ServicePackage.objects.filter(kind="basic", annual_price=0).exists()
    assert ServicePackage.objects.filter(kind="personalised").count() >= 3
    contracts = list(FamilyDoctorContract.objects.select_related("person"))
    assert contracts
    today = timezone.localdate()
    statuses = {c.status for c in contracts}
    assert ContractStatus.SIGNED in statuses
    for contract in contracts:
        assert contract.person.home_grid_id == contract.team.grid_id
        assert ContractTerm.objects.filter(contract=contract).count() == contract.terms
        if contract.status in ACTIVE_STATUSES:
            assert contract.ends_on >= today
        assert PersonInstitutionLink.objects.filter(
            person=contract.person, institution=contract.institution, reason="contract"
        ).exists()
    active = [c.person_id for c in contracts if c.status in ACTIVE_STATUSES]
    assert len(active) == len(set(active))
    assert ReservedCapacity.objects.filter(signed_residents_only=True).exists()


def test_second_run_changes_nothing(seeded):
    counts = (CareTeam.objects.count(), FamilyDoctorContract.objects.count(), ServicePackage.objects.count())
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert (
        CareTeam.objects.count(),
        FamilyDoctorContract.objects.count(),
        ServicePackage.objects.count(),
    ) == counts


@pytest.mark.parametrize(
    ("username", "url_name", "row"),
    [
        ("township_admin", "family_doctors:teams", "team-row"),
        ("township_doctor", "family_doctors:contracts", "panel-row"),
        ("endocrinologist", "family_doctors:contracts", "panel-row"),
        ("office", "family_doctors:packages", "package-row"),
        ("office", "family_doctors:coverage", "coverage-row"),
        ("regulator", "family_doctors:coverage", "coverage-row"),
        ("township_doctor", "family_doctors:sign", "resident-search"),
    ],
)
def test_pages_have_content_for_demo_accounts(seeded, username, url_name, row):
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert f'data-testid="{row}"' in response.content.decode()
