"""Mutual recognition: a valid prior result asks for a reason to repeat; use vs repeat is recorded with money saved."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from yilian.accounts.models import Membership
from yilian.accounts.selectors import forget_scope
from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import Invalid
from yilian.core.permissions import Role
from yilian.diagnostics import selectors, services
from yilian.diagnostics.choices import RecognitionOutcome
from yilian.diagnostics.models import DiagnosticOrder, RecognitionDecision
from yilian.diagnostics.tests.factories import diag_world, final_result, order, rule
from yilian.institutions.tests.factories import ConsortiumFactory, DepartmentFactory
from yilian.people.services import person_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world):
    return diag_world(world)


def test_valid_window_hit_asks_for_a_reason(dw):
    rule(dw, days=30)
    prior = final_result(dw)
    with pytest.raises(services.RecognisedResultExists) as error:
        order(dw)
    assert isinstance(error.value, Invalid)
    assert prior.number in error.value.errors["repeat_reason"][0]
    assert error.value.recognition.order == prior
    repeated = order(dw, repeat_reason="病情变化需复查")
    assert repeated.recognised_prior == prior and repeated.repeat_reason == "病情变化需复查"
    decision = RecognitionDecision.objects.get(new_order=repeated)
    assert decision.outcome == RecognitionOutcome.REPEATED and decision.saved_amount == 0


def test_use_records_money_saved_without_an_order(dw):
    rule(dw)
    final_result(dw)
    before = DiagnosticOrder.objects.count()
    decision = services.recognition_use(
        actor=dw.township_doctor, person=dw.patient, institution=dw.world.township, item=dw.glucose
    )
    assert decision.outcome == RecognitionOutcome.USED and decision.saved_amount == Decimal("8.00")
    assert DiagnosticOrder.objects.count() == before
    figures = selectors.dashboard(dw.world.office).recognition
    assert figures["used"] == 1 and figures["money_saved"] == "8.00" and figures["recognition_rate"] == 100.0


def test_use_without_a_valid_result_is_invalid(dw):
    with pytest.raises(Invalid):
        services.recognition_use(
            actor=dw.township_doctor, person=dw.patient, institution=dw.world.township, item=dw.glucose
        )


def test_expired_window_is_no_hit(dw):
    rule(dw, days=7)
    prior = final_result(dw)
    DiagnosticOrder.objects.filter(pk=prior.pk).update(final_at=timezone.now() - datetime.timedelta(days=8))
    assert selectors.recognised_result_for(dw.patient, "GLU", dw.world.township) is None
    assert order(dw).recognised_prior is None


def test_no_rule_or_inactive_rule_is_no_hit(dw):
    final_result(dw)
    assert selectors.recognised_result_for(dw.patient, "GLU", dw.world.township) is None
    entry = rule(dw)
    assert selectors.recognised_result_for(dw.patient, "GLU", dw.world.township) is not None
    services.rule_update(actor=dw.world.office, rule=entry, is_active=False)
    assert selectors.recognised_result_for(dw.patient, "GLU", dw.world.township) is None


def _other_consortium_result(dw):
    """A final GLU result of the same patient at a centre of another consortium in the same county."""
    other = ConsortiumFactory(
        name="霍邱县第二医共体", region=dw.world.regions["county"], lead=dw.world.outsider
    )
    office = user_with_role(Role.CONSORTIUM_OFFICE, username="office2", consortium=other)
    lab = DepartmentFactory(institution=dw.world.outsider, name="检验科", specialty="30")
    # The outsider's doctor orders and, as the lab's staff, receives and signs.
    Membership.objects.filter(user=dw.outsider_doctor, institution=dw.world.outsider).update(department=lab)
    forget_scope(dw.outsider_doctor)
    centre = services.centre_create(
        actor=office,
        consortium=other,
        kind="lab",
        name="河口检验中心",
        hub_institution=dw.world.outsider,
        department=lab,
    )
    item = services.item_create(
        actor=office, centre=centre, code="GLU", name="血糖", price="9.00", turnaround_hours=4
    )
    person_link(actor=None, person=dw.patient, institution=dw.world.outsider, reason="treated")
    created, _ = services.order_create(
        actor=dw.outsider_doctor,
        person=dw.patient,
        institution=dw.world.outsider,
        item=item,
        diagnosis_code="E11.9",
    )
    services.order_act(actor=dw.outsider_doctor, order=created, action="collect")
    services.order_act(actor=dw.outsider_doctor, order=created, action="receive")
    services.order_act(actor=dw.outsider_doctor, order=created, action="claim")
    return services.order_act(actor=dw.outsider_doctor, order=created, action="sign", conclusion="正常")


def test_consortium_scope_ignores_other_consortia(dw):
    rule(dw, scope="consortium")
    _other_consortium_result(dw)
    assert selectors.recognised_result_for(dw.patient, "GLU", dw.world.township) is None


def test_region_scope_hits_across_consortia(dw):
    rule(dw, scope="region")
    prior = _other_consortium_result(dw)
    hit = selectors.recognised_result_for(dw.patient, "GLU", dw.world.township)
    assert hit is not None and hit.order == prior


def test_lookup_is_one_query(dw, django_assert_num_queries):
    rule(dw)
    final_result(dw)
    with django_assert_num_queries(1):
        hit = selectors.recognised_result_for(dw.patient, "GLU", dw.world.township)
        assert hit.order.centre.name and hit.order.ordering_institution.name


def test_dashboard_counts_repeats_and_rate(dw):
    rule(dw)
    final_result(dw)
    services.recognition_use(
        actor=dw.township_doctor, person=dw.patient, institution=dw.world.township, item=dw.glucose
    )
    order(dw, repeat_reason="结果存疑")
    figures = selectors.dashboard(dw.world.office).recognition
    assert (figures["used"], figures["repeated"], figures["recognition_rate"]) == (1, 1, 50.0)
    assert figures["repeat_reasons"] == [{"reason": "结果存疑", "total": 1}]
