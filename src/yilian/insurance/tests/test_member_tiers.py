"""Members' settlement tiers: defaults from the institution, an officer's recorded choice (service, page,
API), who may change them, bad input, and their effect on the what-if, the settlement and its reports."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from yilian.core.api.testing import api_client
from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.institutions.tests.factories import ConsortiumMemberFactory, HospitalFactory, InstitutionFactory
from yilian.insurance import calculation, documents, selectors, services
from yilian.insurance.models import MemberTier
from yilian.insurance.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db
D = Decimal


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def tcm(iw):
    """A county TCM hospital member of the consortium, with 100 000 of fund payments in March 2026."""
    hospital = HospitalFactory(name="霍邱县中医院", category="A210", region=iw.world.regions["county"])
    ConsortiumMemberFactory(consortium=iw.world.consortium, institution=hospital, role="sub_lead")
    ClaimFactory(
        person=iw.patient, provider_institution=hospital, fund_paid=D("100000"), total_cost=D("120000")
    )
    return hospital


def tiers_of(budget):
    return {row.name: (row.default_tier, row.tier, row.recorded) for row in selectors.member_tiers(budget)}


def test_defaults_put_county_hospitals_with_the_lead_and_primary_care_below(iw, tcm):
    cdc = InstitutionFactory(
        name="霍邱县疾病预防控制中心", category="J100", region=iw.world.regions["county"]
    )
    ConsortiumMemberFactory(consortium=iw.world.consortium, institution=cdc)
    assert tiers_of(iw.budget) == {
        "霍邱县人民医院": ("lead", "lead", False),
        "霍邱县中医院": ("lead", "lead", False),
        "霍邱县疾病预防控制中心": ("lead", "lead", False),
        "霍邱县城关镇卫生院": ("township", "township", False),
        "东湖村卫生室": ("village", "village", False),
    }
    # The lead first, then by default tier, each by name: the village clinics (hundreds in a county) last.
    rows = selectors.member_tiers(iw.budget)
    assert rows[0].name == "霍邱县人民医院"
    assert [row.default_tier for row in rows] == ["lead", "lead", "lead", "township", "village"]


def test_officer_records_a_tier_the_settlement_uses_and_can_return_it_to_the_default(iw, tcm):
    before = selectors.whatif_compare(iw.budget, [selectors.rule_parameters(iw.rule)])[0]
    changed = services.member_tiers_set(
        actor=iw.officer, budget=iw.budget, tiers={str(tcm.public_id): "township"}
    )
    assert changed == ["霍邱县中医院"]
    assert tiers_of(iw.budget)["霍邱县中医院"] == ("lead", "township", True)
    row = MemberTier.objects.get(budget=iw.budget, institution=tcm)
    assert (row.tier, row.decided_by) == ("township", iw.officer)
    event = AuditEvent.objects.get(action="settlement_tier.update")
    assert event.object_id == str(iw.budget.public_id)
    # The log shows the tiers' labels (the event is keyed by member, so no model field labels them).
    assert (event.before, event.after) == (
        {"霍邱县中医院": "默认（牵头医院）"},
        {"霍邱县中医院": "乡镇（社区）卫生院"},
    )
    assert event.details["tiers"] == {"霍邱县中医院": ["default", "township"]}

    after = selectors.whatif_compare(iw.budget, [selectors.rule_parameters(iw.rule)])[0]
    share = {s.name: s for s in after.shares}["霍邱县中医院"]
    assert share.tier == "township"
    # The TCM hospital now shares the township 3 parts with the township centre, by spend (100 000 : 80 000).
    assert after.tier_totals["township"] == before.tier_totals["township"]
    assert share.amount == calculation.split_to_cent(after.tier_totals["township"], [D(80000), D(100000)])[1]
    assert sum(s.amount for s in after.shares) == after.consortium_amount

    # Saving the same again changes and audits nothing; "" returns the member to its default.
    assert (
        services.member_tiers_set(actor=iw.officer, budget=iw.budget, tiers={str(tcm.public_id): "township"})
        == []
    )
    with translation.override("en"):  # stored in the source language whoever makes the change
        services.member_tiers_set(
            actor=iw.consortium_officer, budget=iw.budget, tiers={str(tcm.public_id): ""}
        )
    assert not MemberTier.objects.exists()
    assert tiers_of(iw.budget)["霍邱县中医院"] == ("lead", "lead", False)
    assert AuditEvent.objects.filter(action="settlement_tier.update").count() == 2
    back = AuditEvent.objects.filter(action="settlement_tier.update").order_by("-id").first()
    assert (back.before, back.after) == (
        {"霍邱县中医院": "乡镇（社区）卫生院"},
        {"霍邱县中医院": "默认（牵头医院）"},
    )


@pytest.mark.parametrize(
    "who", ["office", "regulator", "hospital_admin", "township_admin", "admin", "stranger"]
)
def test_only_insurance_officers_may_change_tiers(iw, tcm, who):
    with pytest.raises(NotAllowed):
        services.member_tiers_set(
            actor=getattr(iw.world, who), budget=iw.budget, tiers={str(tcm.public_id): "township"}
        )
    assert not MemberTier.objects.exists()
    assert not AuditEvent.objects.filter(action="settlement_tier.update").exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"tier": "county"},  # not a tier
        {"institution": "outsider"},  # in the county, not a member
        {"institution": "nonsense"},
    ],
)
def test_bad_input_saves_nothing(iw, tcm, bad):
    institution = {"outsider": str(iw.world.outsider.public_id), "nonsense": "nonsense"}.get(
        bad.get("institution", ""), str(iw.world.township.public_id)
    )
    tiers = {str(tcm.public_id): "township", institution: bad.get("tier", "lead")}
    with pytest.raises(Invalid) as caught:
        services.member_tiers_set(actor=iw.officer, budget=iw.budget, tiers=tiers)
    assert "tiers" in caught.value.errors
    assert not MemberTier.objects.exists()
    assert not AuditEvent.objects.filter(action="settlement_tier.update").exists()


def test_frozen_settlement_keeps_the_tiers_and_its_reports_say_which_were_chosen(iw, tcm):
    services.member_tiers_set(actor=iw.officer, budget=iw.budget, tiers={str(tcm.public_id): "village"})
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    shares = {share.institution_id: share for share in settlement.shares.all()}
    assert shares[tcm.pk].tier == "village" and shares[iw.world.hospital.pk].tier == "lead"
    assert settlement.figures["tiers_recorded"] == [str(tcm.pk)]
    # The service refuses a later change (the year's tiers are settled); one written past it does not
    # touch the frozen version either.
    with pytest.raises(Conflict):
        services.member_tiers_set(actor=iw.officer, budget=iw.budget, tiers={str(tcm.public_id): ""})
    MemberTier.objects.filter(budget=iw.budget, institution=tcm).delete()
    assert settlement.shares.get(institution=tcm).tier == "village"

    page = client_for(iw.officer).get(reverse("insurance:settlement", args=[settlement.public_id]))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="tier-recorded"') == 1
    ordered = list(selectors.settlement_shares(iw.officer, settlement))
    sheet = load_workbook(
        io.BytesIO(
            documents.settlement_workbook(settlement, ordered, selectors.settlement_monthly(settlement))
        )
    )["分配"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["霍邱县中医院"][1:2] == ("村卫生室",) and rows["霍邱县中医院"][4] == "医保专员指定"
    assert rows["霍邱县人民医院"][4] == "默认"
    assert documents.settlement_pdf(settlement, ordered).startswith(b"%PDF")


def test_a_new_years_budget_starts_from_the_chosen_tiers(iw, tcm):
    from yilian.insurance.tests.test_services import budget_data

    services.member_tiers_set(actor=iw.officer, budget=iw.budget, tiers={str(tcm.public_id): "township"})
    next_year = services.budget_create(actor=iw.officer, consortium=iw.world.consortium, data=budget_data())
    assert tiers_of(next_year)["霍邱县中医院"] == ("lead", "township", True)


def test_page_shows_and_officer_changes_tiers(iw, tcm, django_assert_max_num_queries):
    url = reverse("insurance:member_tiers", args=[iw.budget.public_id])
    services.member_tiers_set(
        actor=iw.officer, budget=iw.budget, tiers={str(iw.village.public_id): "village"}
    )
    officer = client_for(iw.officer)
    with django_assert_max_num_queries(12):
        page = officer.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and body.count('data-testid="member-tier-row"') == 4
    assert f'name="tier-{tcm.public_id}"' in body
    saved = client_for(iw.officer).post(
        url, {f"tier-{tcm.public_id}": "township", f"tier-{iw.village.public_id}": ""}
    )
    assert saved.status_code == 302
    assert tiers_of(iw.budget)["霍邱县中医院"][1:] == ("township", True)
    bad = client_for(iw.officer).post(url, {f"tier-{tcm.public_id}": "county"})
    assert bad.status_code == 200 and 'data-testid="form-errors"' in bad.content.decode()
    assert tiers_of(iw.budget)["霍邱县中医院"][1] == "township"
    # The office reads the page without a form and may not post.
    office = client_for(iw.world.office)
    read = office.get(url).content.decode()
    assert "霍邱县中医院" in read and "<select" not in read
    assert office.post(url, {f"tier-{tcm.public_id}": "lead"}).status_code == 403
    assert tiers_of(iw.budget)["霍邱县中医院"][1] == "township"
    assert client_for(iw.world.hospital_doctor).get(url).status_code == 404


def test_api_reads_and_sets_tiers(iw, tcm):
    url = f"/api/v1/budgets/{iw.budget.public_id}/tiers"
    read = api_client(iw.world.office).get(url)
    assert read.status_code == 200
    rows = {row["institution_name"]: row for row in read.json()["tiers"]}
    assert rows["霍邱县中医院"]["default_tier"] == "lead" and rows["霍邱县中医院"]["recorded"] is False
    body = {"tiers": [{"institution": str(tcm.public_id), "tier": "township"}]}
    assert api_client(iw.world.office).put(url, body, format="json").status_code == 403
    saved = api_client(iw.officer).put(url, body, format="json")
    assert saved.status_code == 200, saved.json()
    row = {r["institution_name"]: r for r in saved.json()["tiers"]}["霍邱县中医院"]
    assert (row["tier"], row["recorded"], row["decided_by"] is not None) == ("township", True, True)
    bad = api_client(iw.officer).put(
        url, {"tiers": [{"institution": str(tcm.public_id), "tier": "county"}]}, format="json"
    )
    assert bad.status_code == 400
    twice = {"tiers": [{"institution": str(tcm.public_id), "tier": "lead"}] * 2}
    assert api_client(iw.officer).put(url, twice, format="json").status_code == 400
    assert MemberTier.objects.get(institution=tcm).tier == "township"
    back = api_client(iw.officer).put(
        url, {"tiers": [{"institution": str(tcm.public_id), "tier": None}]}, format="json"
    )
    assert back.status_code == 200 and not MemberTier.objects.exists()
