"""Only centres that serve patients take orders for a resident: the sterilisation supply centre's
instrument packages are neither offered (form, API) nor accepted (service)."""

from __future__ import annotations

import pytest
from django.test import Client

from yilian.core.api.testing import api_client, error_of
from yilian.core.exceptions import Invalid
from yilian.diagnostics import selectors, services
from yilian.diagnostics.models import DiagnosticOrder, RecognitionDecision
from yilian.diagnostics.tests.factories import diag_world, sterilisation_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world):
    return diag_world(world)


def test_sterilisation_items_are_not_orderable_for_a_patient(dw):
    package = sterilisation_item(dw)
    offered = set(selectors.orderable_items(dw.township_doctor, dw.world.township.pk))
    assert package not in offered and dw.glucose in offered
    with pytest.raises(Invalid) as caught:
        services.order_create(
            actor=dw.township_doctor,
            person=dw.patient,
            institution=dw.world.township,
            item=package,
            diagnosis_code="E11.9",
        )
    assert list(caught.value.as_text()) == ["item"]
    assert "消毒供应中心" in caught.value.as_text()["item"][0]
    with pytest.raises(Invalid):
        services.recognition_use(
            actor=dw.township_doctor, person=dw.patient, institution=dw.world.township, item=package
        )
    assert not DiagnosticOrder.objects.exists() and not RecognitionDecision.objects.exists()


def test_order_form_and_api_do_not_offer_sterilisation_items(dw):
    package = sterilisation_item(dw)
    client = Client()
    client.force_login(dw.township_doctor)
    page = client.get(f"/diagnostics/new/?person={dw.patient.public_id}").content.decode()
    assert "XG001" not in page and "GLU" in page
    posted = client.post(
        "/diagnostics/new/",
        {
            "person": dw.patient.public_id,
            "institution": dw.world.township.pk,
            "item": package.public_id,
            "priority": "routine",
            "diagnosis_code": "E11.9",
        },
    )
    assert posted.status_code == 400 and not DiagnosticOrder.objects.exists()
    doctor = api_client(dw.township_doctor)
    codes = {row["code"] for row in doctor.get("/api/v1/diagnostic-items?orderable=true").json()["results"]}
    assert "XG001" not in codes and "GLU" in codes
    refused = doctor.post(
        "/api/v1/diagnostic-orders",
        {
            "person": str(dw.patient.public_id),
            "institution": str(dw.world.township.public_id),
            "item": str(package.public_id),
            "diagnosis_code": "E11.9",
        },
        format="json",
    )
    assert refused.status_code == 400 and "item" in error_of(refused)["fields"]
    assert not DiagnosticOrder.objects.exists()
