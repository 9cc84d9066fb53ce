"""Reopening the settlement in force for a correction (重新开放): insurance officers only, with a reason; the
version stays as history with its figures, the budget becomes editable, the correction is frozen as the next
version. Two reopens, or a reopen and a freeze, at once: one wins, the other 409."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from yilian.core.api.testing import api_client
from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.testing import race
from yilian.insurance import selectors, services
from yilian.insurance.models import GlobalBudget, Settlement
from yilian.insurance.tests.test_frozen_budget import stored

pytestmark = pytest.mark.django_db

REASON = "参保人数录入错误：居民参保人数应为9800人"


def client_for(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def frozen(iw: Any) -> Settlement:
    return services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)


def _fresh(settlement: Settlement) -> Settlement:
    return Settlement.objects.select_related("budget").get(pk=settlement.pk)


def test_reopen_keeps_the_version_as_history_and_the_correction_is_the_next_version(iw, frozen):
    figures, pool, shares = frozen.figures, frozen.pool, list(frozen.shares.values_list("amount", flat=True))
    services.settlement_reopen(actor=iw.officer, settlement=frozen, reason=f"  {REASON}  ")
    kept = _fresh(frozen)
    assert kept.is_reopened and kept.reopened_by == iw.officer and kept.reopen_reason == REASON
    assert (kept.figures, kept.pool, list(kept.shares.values_list("amount", flat=True))) == (
        figures,
        pool,
        shares,
    )
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    assert budget.version == 2
    assert selectors.frozen_settlement(budget) is None and selectors.reopened_settlement(budget) == kept
    event = AuditEvent.objects.get(action="settlement.reopen")
    assert event.actor == iw.officer and event.details["reason"] == REASON
    assert event.details["version"] == 1 and event.details["pool"] == str(pool)

    # The budget's figures and the tiers can be corrected now, then the year is frozen again as v2.
    services.budget_update(
        actor=iw.officer,
        budget=budget,
        version=2,
        data=stored(
            budget, headcounts=[{"scheme": "resident", "insured_count": 9800, "per_capita_fund": "1000"}]
        ),
    )
    services.member_tiers_set(
        actor=iw.officer, budget=budget, tiers={str(iw.world.township.public_id): "village"}
    )
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    corrected = services.settlement_freeze(actor=iw.officer, budget=budget, rule=iw.rule)
    assert (
        corrected.version == 2 and corrected.pool == Decimal("9310000.00") and frozen.pool != corrected.pool
    )
    assert selectors.frozen_settlement(budget) == corrected
    assert selectors.settlement_status(_fresh(frozen), 2) == "reopened"
    assert selectors.settlement_status(corrected, 2) == "in_force"
    # Settled again: a figure change is refused once more.
    with pytest.raises(Conflict):
        services.budget_update(actor=iw.officer, budget=budget, version=3, data=stored(budget, year=2027))


@pytest.mark.parametrize("reason", ["", "   ", None, "长" * 301])
def test_a_reason_is_required_and_bounded_and_nothing_is_saved(iw, frozen, reason):
    events = AuditEvent.objects.count()
    with pytest.raises(Invalid) as refused:
        services.settlement_reopen(actor=iw.officer, settlement=frozen, reason=reason)
    assert list(refused.value.as_text()) == ["reason"]
    assert not _fresh(frozen).is_reopened and GlobalBudget.objects.get(pk=iw.budget.pk).version == 1
    assert AuditEvent.objects.count() == events


def test_a_reason_of_300_characters_is_kept(iw, frozen):
    services.settlement_reopen(actor=iw.officer, settlement=frozen, reason="长" * 300)
    assert _fresh(frozen).reopen_reason == "长" * 300


def test_only_the_version_in_force_can_be_reopened_once(iw, frozen):
    services.settlement_reopen(actor=iw.officer, settlement=frozen, reason=REASON)
    with pytest.raises(Conflict) as twice:
        services.settlement_reopen(actor=iw.officer, settlement=_fresh(frozen), reason="再次")
    assert "已于" in str(twice.value.message) and "重新开放" in str(twice.value.message)
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    services.settlement_freeze(actor=iw.officer, budget=budget, rule=iw.rule)
    # A version frozen over another (a second rule) supersedes it: only the latest is in force.
    third = services.settlement_freeze(actor=iw.officer, budget=budget, rule=iw.rule_433)
    second = Settlement.objects.get(budget=budget, version=2)
    with pytest.raises(Conflict) as superseded:
        services.settlement_reopen(actor=iw.officer, settlement=second, reason=REASON)
    assert "已被第3版取代" in str(superseded.value.message)
    assert not _fresh(second).is_reopened and not _fresh(third).is_reopened


@pytest.mark.parametrize(
    "who", ["consortium_officer", "office", "regulator", "lead_admin", "member_admin", "platform_admin"]
)
def test_denial_matrix_of_the_service(iw, frozen, who):
    """Only insurance officers (of the region or of the consortium) reopen; everybody else is refused."""
    actors = _actors(iw)
    if who == "consortium_officer":
        services.settlement_reopen(actor=actors[who], settlement=frozen, reason=REASON)
        assert _fresh(frozen).is_reopened
        return
    with pytest.raises(NotAllowed):
        services.settlement_reopen(actor=actors[who], settlement=frozen, reason=REASON)
    assert not _fresh(frozen).is_reopened


def _actors(iw: Any) -> dict[str, Any]:
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role

    county = iw.world.regions["county"]
    return {
        "consortium_officer": iw.consortium_officer,
        "office": user_with_role(Role.CONSORTIUM_OFFICE, username="office_r", consortium=iw.world.consortium),
        "regulator": user_with_role(Role.REGULATOR, username="regulator_r", region=county),
        "lead_admin": user_with_role(
            Role.INSTITUTION_ADMIN, username="lead_r", institution=iw.world.hospital
        ),
        "member_admin": user_with_role(Role.INSTITUTION_ADMIN, username="member_r", institution=iw.village),
        "platform_admin": user_with_role(Role.PLATFORM_ADMIN, username="platform_r"),
        "stranger": user_with_role(
            Role.INSTITUTION_ADMIN, username="stranger_r", institution=iw.world.outsider
        ),
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("office", 403),
        ("regulator", 403),
        ("lead_admin", 403),
        ("member_admin", 403),
        ("stranger", 404),
    ],
)
def test_denial_matrix_of_the_page_and_the_api(iw, frozen, who, status):
    actor = _actors(iw)[who]
    page = client_for(actor).post(f"/insurance/settlements/{frozen.public_id}/reopen/", {"reason": REASON})
    assert page.status_code == status
    api = api_client(actor).post(
        f"/api/v1/settlements/{frozen.public_id}/reopen", {"reason": REASON}, format="json"
    )
    assert api.status_code == status
    if status == 403:
        detail = client_for(actor).get(f"/insurance/settlements/{frozen.public_id}/").content.decode()
        assert 'data-testid="settlement-reopen"' not in detail
    assert not _fresh(frozen).is_reopened


def test_the_page_reopens_keeps_a_bad_reason_and_answers_409_over_a_newer_state(iw, frozen):
    officer = client_for(iw.officer)
    url = f"/insurance/settlements/{frozen.public_id}/"
    page = officer.get(url).content.decode()
    assert 'data-testid="settlement-reopen"' in page and "生效" in page

    empty = officer.post(f"{url}reopen/", {"reason": "  "})
    assert empty.status_code == 200 and "请填写重新开放的原因" in empty.content.decode()
    assert not _fresh(frozen).is_reopened

    done = officer.post(f"{url}reopen/", {"reason": REASON})
    assert done.status_code == 302 and done["Location"] == f"/insurance/budgets/{iw.budget.public_id}/"
    budget_page = officer.get(done["Location"]).content.decode()
    assert 'data-testid="budget-reopened"' in budget_page and REASON in budget_page
    assert 'data-testid="budget-frozen"' not in budget_page
    form = officer.get(f"/insurance/budgets/{iw.budget.public_id}/edit/").content.decode()
    assert 'name="year" id="id_year" value="2026">' in form  # editable again

    again = officer.post(f"{url}reopen/", {"reason": "第二位专员的原因"})
    assert again.status_code == 409
    body = again.content.decode()
    assert 'data-testid="reopen-conflict"' in body and "已重新开放" in body
    assert 'data-testid="settlement-reopen"' not in body  # the version is no longer in force
    assert _fresh(frozen).reopen_reason == REASON

    versions = officer.get(f"/insurance/budgets/{iw.budget.public_id}/settlements/").content.decode()
    assert "已重新开放" in versions and REASON in versions


def test_the_api_reopens_and_shows_the_status(iw, frozen):
    client = api_client(iw.officer)
    empty = client.post(f"/api/v1/settlements/{frozen.public_id}/reopen", {"reason": ""}, format="json")
    assert empty.status_code == 400 and "reason" in empty.json()["error"]["fields"]
    unknown = client.post(
        f"/api/v1/settlements/{frozen.public_id}/reopen", {"reason": REASON, "version": 1}, format="json"
    )
    assert unknown.status_code == 400
    assert client.get(f"/api/v1/settlements/{frozen.public_id}").json()["status"] == "in_force"

    done = client.post(f"/api/v1/settlements/{frozen.public_id}/reopen", {"reason": REASON}, format="json")
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["reopen_reason"], body["version"]) == ("reopened", REASON, 1)
    assert body["reopened_by"] and body["reopened_at"] and body["shares"]

    again = client.post(f"/api/v1/settlements/{frozen.public_id}/reopen", {"reason": REASON}, format="json")
    assert again.status_code == 409
    listed = client.get(f"/api/v1/budgets/{iw.budget.public_id}/settlements").json()["results"]
    assert [(row["version"], row["status"]) for row in listed] == [(1, "reopened")]


@pytest.mark.django_db(transaction=True)
def test_two_reopens_at_once_one_wins(world):
    from yilian.insurance.tests.factories import InsuranceWorld

    iw = InsuranceWorld(world)
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)

    def reopen() -> Any:
        return services.settlement_reopen(
            actor=iw.officer, settlement=Settlement.objects.get(pk=settlement.pk), reason=REASON
        )

    results = race(reopen, reopen)
    assert sum(isinstance(r, Settlement) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert AuditEvent.objects.filter(action="settlement.reopen").count() == 1
    assert GlobalBudget.objects.get(pk=iw.budget.pk).version == 2


@pytest.mark.django_db(transaction=True)
def test_a_reopen_and_a_freeze_at_once_one_wins(world):
    from yilian.insurance.tests.factories import InsuranceWorld

    iw = InsuranceWorld(world)
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)

    def reopen() -> Any:
        return services.settlement_reopen(
            actor=iw.officer, settlement=Settlement.objects.get(pk=settlement.pk), reason=REASON
        )

    def freeze() -> Any:
        return services.settlement_freeze(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=iw.rule_433
        )

    results = race(reopen, freeze)
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    winners = [r for r in results if not isinstance(r, Exception)]
    versions = list(Settlement.objects.filter(budget=iw.budget).order_by("version"))
    if len(winners) == 2:
        # No overlap after all: the reopen committed before the freeze read the budget, so the freeze
        # is the correction it opened the way for — v1 reopened, v2 in force. Never the other order.
        assert [s.version for s in versions] == [1, 2], results
        assert versions[0].is_reopened and not versions[1].is_reopened
        assert versions[0].reopened_at <= versions[1].frozen_at  # reopened first, then frozen anew
        return
    assert len(winners) == 1, results
    if winners[0].version == 1:
        # The reopen won: the freeze computed before it is refused; v1 is reopened, no v2.
        assert [s.version for s in versions] == [1] and versions[0].is_reopened
    else:
        # The freeze won: v2 supersedes v1, which can no longer be reopened.
        assert [s.version for s in versions] == [1, 2] and not any(s.is_reopened for s in versions)


def test_a_reopened_versions_reports_say_so_with_their_figures_as_frozen(iw, frozen):
    import io

    from openpyxl import load_workbook

    officer = client_for(iw.officer)
    before = load_workbook(
        io.BytesIO(officer.get(f"/insurance/settlements/{frozen.public_id}/report.xlsx").content)
    )
    rows_before = {row[0].value: row[1].value for row in before.worksheets[0].iter_rows(max_col=2)}
    assert "状态" not in rows_before
    services.settlement_reopen(actor=iw.officer, settlement=frozen, reason=REASON)
    after = load_workbook(
        io.BytesIO(officer.get(f"/insurance/settlements/{frozen.public_id}/report.xlsx").content)
    )
    rows_after = {row[0].value: row[1].value for row in after.worksheets[0].iter_rows(max_col=2)}
    assert "已重新开放" in rows_after["状态"] and REASON in rows_after["状态"]
    assert {k: v for k, v in rows_after.items() if k != "状态"} == rows_before
    pdf = officer.get(f"/insurance/settlements/{frozen.public_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("参保人数录入错误。", "原因：参保人数录入错误。本版本"),
        ("参保人数录入错误！", "原因：参保人数录入错误！本版本"),
        ("Enrolment typo.", "原因：Enrolment typo.本版本"),
        ("参保人数录入错误", "原因：参保人数录入错误。本版本"),
    ],
)
def test_a_reason_with_its_own_full_stop_is_not_shown_with_a_second_one(iw, frozen, reason, shown):
    import io

    from openpyxl import load_workbook

    services.settlement_reopen(actor=iw.officer, settlement=frozen, reason=reason)
    officer = client_for(iw.officer)
    page = officer.get(f"/insurance/settlements/{frozen.public_id}/").content.decode()
    budget_page = officer.get(f"/insurance/budgets/{iw.budget.public_id}/").content.decode()
    report = load_workbook(
        io.BytesIO(officer.get(f"/insurance/settlements/{frozen.public_id}/report.xlsx").content)
    )
    status = {row[0].value: row[1].value for row in report.worksheets[0].iter_rows(max_col=2)}["状态"]
    expected_note = shown.removesuffix("本版本")
    assert shown in page and f"{expected_note}预算" in budget_page and shown in status
    for text in (page, budget_page, status):
        assert "。。" not in text and "！。" not in text and ".。" not in text
