"""Freezing a new version while one is in force supersedes it in the same transaction (the guide: the latest
version is in force, earlier ones read 已被新版本取代). A freeze confirmed against an older state — another
version frozen since — is refused with 409, so two freezes at once end with one winner."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yilian.core.api.testing import api_client
from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.insurance import selectors, services
from yilian.insurance.choices import SettlementStatus
from yilian.insurance.models import GlobalBudget, Settlement
from yilian.insurance.tests.factories import InsuranceWorld


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_new_version_supersedes_the_one_in_force_and_says_so(iw):
    v1 = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule, expected_latest=0)
    v2 = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule_433, expected_latest=1)
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    assert selectors.frozen_settlement(budget) == v2
    latest = selectors.latest_version(budget)
    assert selectors.settlement_status(v1, latest) == SettlementStatus.SUPERSEDED
    assert selectors.settlement_status(v2, latest) == SettlementStatus.IN_FORCE
    event = AuditEvent.objects.filter(action="settlement.freeze").order_by("-pk").first()
    assert event.details["supersedes"] == 1 and event.details["superseded_status"] == "in_force"
    first = AuditEvent.objects.filter(action="settlement.freeze").order_by("pk").first()
    assert first.details["supersedes"] is None


@pytest.mark.django_db
def test_a_freeze_confirmed_before_another_was_frozen_is_refused(iw):
    services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule, expected_latest=0)
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule_433, expected_latest=0)
    assert "第1版结算已于" in str(refused.value.message) and "取代" in str(refused.value.message)
    assert Settlement.objects.filter(budget=iw.budget).count() == 1 and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_the_rules_page_warns_and_a_stale_page_is_refused_with_the_message(iw):
    officer = _client(iw.officer)
    rules_url = f"/insurance/budgets/{iw.budget.public_id}/rules/"
    freeze_url = f"/insurance/budgets/{iw.budget.public_id}/freeze/"
    page = officer.get(rules_url).content.decode()
    assert 'name="latest" value="0"' in page and 'data-testid="freeze-supersedes"' not in page
    post = {"rule": str(iw.rule.public_id), "confirm": "yes", "latest": "0"}
    assert officer.post(freeze_url, post).status_code == 302
    page = officer.get(rules_url).content.decode()
    assert 'name="latest" value="1"' in page and 'data-testid="freeze-supersedes"' in page
    assert "冻结新版本将取代它" in page
    # Another tab still showing "no version yet": refused, nothing saved.
    stale = officer.post(freeze_url, post)
    assert stale.status_code == 302 and stale["Location"] == rules_url
    shown = officer.get(rules_url).content.decode()
    assert "第1版结算已于" in shown and "新版本将取代它" in shown
    assert Settlement.objects.filter(budget=iw.budget).count() == 1
    done = officer.post(freeze_url, {**post, "latest": "1"}, follow=True)
    assert "结算已冻结为第2版，取代第1版" in done.content.decode()


@pytest.mark.django_db
def test_the_api_refuses_a_stale_expected_version(iw):
    client = api_client(iw.officer)
    url = f"/api/v1/budgets/{iw.budget.public_id}/settlements"
    body = {"rule": str(iw.rule.public_id), "expected_latest_version": 0}
    assert client.post(url, body, format="json").status_code == 201
    assert client.post(url, body, format="json").status_code == 409
    assert client.post(url, {**body, "expected_latest_version": -1}, format="json").status_code == 400
    assert client.post(url, {**body, "expected_latest_version": 1}, format="json").json()["version"] == 2


@pytest.mark.django_db(transaction=True)
def test_two_freezes_confirmed_at_once_one_wins_the_other_409(world):
    iw = InsuranceWorld(world)
    # Both officers read the budget with no version frozen and confirm at the same moment.
    budgets = [GlobalBudget.objects.get(pk=iw.budget.pk) for _ in range(2)]

    def freeze(index: int) -> Any:
        return lambda: services.settlement_freeze(
            actor=iw.officer, budget=budgets[index], rule=iw.rule, expected_latest=0
        )

    results = race(freeze(0), freeze(1))
    assert sum(isinstance(r, Settlement) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert list(Settlement.objects.filter(budget=iw.budget).values_list("version", flat=True)) == [1]
    assert AuditEvent.objects.filter(action="settlement.freeze").count() == 1


@pytest.mark.django_db
def test_a_refused_freeze_follows_through_to_the_rules_page_with_the_message(iw):
    # The freeze URL answers only POST: the general Conflict redirect (core.ui.http.domain_errors) goes to
    # the page the view names, not back to the action (a 405) nor to the Referer.
    officer = _client(iw.officer)
    freeze_url = f"/insurance/budgets/{iw.budget.public_id}/freeze/"
    post = {"rule": str(iw.rule.public_id), "confirm": "yes", "latest": "0"}
    officer.post(freeze_url, post)
    assert officer.get(freeze_url).status_code == 405
    stale = officer.post(
        freeze_url,
        post,
        follow=True,
        HTTP_REFERER=f"http://testserver/insurance/budgets/{iw.budget.public_id}/",
    )
    assert stale.redirect_chain == [(f"/insurance/budgets/{iw.budget.public_id}/rules/", 302)]
    assert stale.status_code == 200 and "第1版结算已于" in stale.content.decode()
