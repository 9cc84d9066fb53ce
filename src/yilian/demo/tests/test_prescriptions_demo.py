"""The prescriptions side of ``seed-demo``: the catalogue and stock lists show the seeds' gap, a year of
long and extended prescriptions agrees with the rules, deliveries sit in every state, live records were
made through the services by the demo accounts, and a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from yilian.accounts.models import User
from yilian.institutions.models import Consortium
from yilian.prescriptions import selectors
from yilian.prescriptions.models import Delivery, Drug, Prescription, PrescriptionItem, StockItem

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "40", "--village-limit", "2", "--referral-months", "2")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded() -> str:
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def county() -> Consortium:
    return Consortium.objects.get(type="county_community")


def test_catalogue_and_gap(seeded):
    assert 1300 <= Drug.objects.count() <= 1600
    for drug in Drug.objects.all()[:200]:
        assert len(drug.code) == 23 and drug.code[0] in "XZ"
    formulary, gaps = selectors.gap_report(User.objects.get(username="office"), county())
    assert formulary is not None and formulary.long_max_days == 84
    reference = StockItem.objects.filter(institution=formulary.reference_institution).count()
    assert reference >= 1300
    townships = [g for g in gaps if g.institution.category.startswith("C")]
    villages = [g for g in gaps if g.institution.category.startswith("D")]
    assert townships and villages
    for gap in townships:
        assert 300 <= gap.stocked - gap.local_additions <= 500 and gap.missing_chronic > 0
    for gap in villages:
        assert 80 <= gap.stocked <= 150


def test_prescriptions_follow_the_rules(seeded):
    rows = Prescription.objects.filter(consortium=county())
    kinds = dict(rows.values_list("kind").annotate(n=Count("id")))
    assert kinds.get("long", 0) > 0 and kinds.get("extended", 0) > 0
    for rx in rows.filter(kind="extended").select_related("source")[:50]:
        assert rx.source.institution_id == county().members.get(role="lead").institution_id
        assert rx.source.person_id == rx.person_id
        assert rx.delivery.to_institution_id == rx.institution_id
    for item in PrescriptionItem.objects.filter(kind="long").select_related("drug", "prescription")[:200]:
        assert item.drug.is_chronic and item.days <= 84
        assert StockItem.objects.filter(institution=item.prescription.institution, drug=item.drug).exists()
    states = set(Delivery.objects.values_list("status", flat=True))
    assert {"requested", "handed"} <= states


def test_live_records_by_demo_accounts(seeded):
    written = set(
        Prescription.objects.filter(prescriber__isnull=False).values_list("prescriber__username", "kind")
    )
    assert ("township_doctor", "extended") in written
    assert ("doctor", "regular") in written


def test_second_run_changes_nothing(seeded):
    counts = (
        Drug.objects.count(),
        StockItem.objects.count(),
        Prescription.objects.count(),
        Delivery.objects.count(),
    )
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert (
        Drug.objects.count(),
        StockItem.objects.count(),
        Prescription.objects.count(),
        Delivery.objects.count(),
    ) == counts


PAGES = (
    ("township_doctor", "/prescriptions/"),
    ("township_doctor", "/prescriptions/deliveries/?box=in"),
    ("pharmacist", "/prescriptions/deliveries/?box=out"),
    ("office", "/prescriptions/formulary/"),
    ("office", "/prescriptions/statistics/"),
    ("township_admin", "/prescriptions/drugs/"),
)


def test_pages_open_for_demo_accounts(seeded):
    for username, url in PAGES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        response = client.get(url)
        assert response.status_code == 200, (username, url)
