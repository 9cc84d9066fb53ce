"""A centre's clinical work belongs to its department: a doctor of the hub hospital's other departments (the
surgeon) may not read its worklist, receive its specimens, claim, sign or amend its reports, in the services,
on the pages or through the API; the centre department's staff may. The office, the ordering side and the
hub's administrators keep what they saw."""

from __future__ import annotations

import pytest

from yilian.core.api.testing import api_client
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.diagnostics import policies, selectors, services
from yilian.diagnostics.models import DiagnosticOrder, DiagnosticReport, OrderEvent
from yilian.diagnostics.tests.factories import diag_world, order, received_specimen
from yilian.diagnostics.tests.test_views import client_for
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.notifications.models import Notification
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def _hub_order(dw):
    """A glucose test the surgeon orders for an inpatient of the hub and sends to the hub's own lab: the
    surgeon sees the order (the ordering side) without being the lab's staff."""
    inpatient = person("赵六", institution=dw.world.hospital)
    created, _new = services.order_create(
        actor=dw.hub_surgeon,
        person=inpatient,
        institution=dw.world.hospital,
        item=dw.glucose,
        diagnosis_code="E11.9",
    )
    services.order_act(actor=dw.hub_surgeon, order=created, action="collect")
    return services.order_act(actor=dw.hub_surgeon, order=created, action="dispatch")


def _received(dw):
    in_transit = _hub_order(dw)
    return services.order_receive_barcode(
        actor=dw.hospital_technician, centre=dw.lab, barcode=in_transit.barcode
    )


def _final(dw):
    received = _received(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    return services.order_act(actor=dw.hospital_doctor, order=received, action="sign", conclusion="正常")


def _unchanged(created: DiagnosticOrder, status: str, version: int, steps: int, reports: int) -> None:
    created.refresh_from_db()
    assert (created.status, created.version) == (status, version)
    assert OrderEvent.objects.filter(order=created).count() == steps
    assert DiagnosticReport.objects.filter(order=created).count() == reports


def _snapshot(created: DiagnosticOrder) -> tuple[str, int, int, int]:
    created.refresh_from_db()
    return (
        created.status,
        created.version,
        OrderEvent.objects.filter(order=created).count(),
        DiagnosticReport.objects.filter(order=created).count(),
    )


# --- policies and services ------------------------------------------------------------------------------


def test_only_the_centre_department_staffs_the_centre(dw):
    assert policies.works_at_centre(dw.hospital_doctor, dw.lab)
    assert policies.works_at_centre(dw.hospital_technician, dw.lab)
    assert not policies.works_at_centre(dw.hub_surgeon, dw.lab)
    assert not policies.works_at_centre(dw.world.hospital_admin, dw.lab)
    assert policies.hosts_centre(dw.hospital_doctor) and not policies.hosts_centre(dw.hub_surgeon)
    assert list(selectors.working_centres(dw.hub_surgeon)) == []
    with pytest.raises(NotAllowed):
        selectors.reading_list(dw.hub_surgeon, dw.lab)


def test_surgeon_of_the_hub_cannot_receive_claim_sign_or_amend(dw):
    in_transit = _hub_order(dw)
    before = _snapshot(in_transit)
    with pytest.raises(NotAllowed):
        services.order_receive_barcode(actor=dw.hub_surgeon, centre=dw.lab, barcode=in_transit.barcode)
    with pytest.raises(NotAllowed):
        services.order_act(actor=dw.hub_surgeon, order=in_transit, action="receive")
    _unchanged(in_transit, *before)

    received = services.order_receive_barcode(
        actor=dw.hospital_technician, centre=dw.lab, barcode=in_transit.barcode
    )
    before = _snapshot(received)
    with pytest.raises(NotAllowed):
        services.order_act(actor=dw.hub_surgeon, order=received, action="claim")
    with pytest.raises(NotAllowed):
        services.order_act(actor=dw.hub_surgeon, order=received, action="reject", reason="haemolysed")
    _unchanged(received, *before)

    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    signed = services.order_act(actor=dw.hospital_doctor, order=received, action="sign", conclusion="正常")
    assert signed.status == "final"
    before = _snapshot(signed)
    with pytest.raises(NotAllowed):
        services.order_act(actor=dw.hub_surgeon, order=signed, action="amend", conclusion="改", reason="改")
    with pytest.raises(NotAllowed):
        services.critical_value_raise(actor=dw.hub_surgeon, order=signed, description="血钾 6.8")
    _unchanged(signed, *before)
    amended = services.order_act(
        actor=dw.second_doctor, order=signed, action="amend", conclusion="更正", reason="复核"
    )
    assert amended.status == "final" and DiagnosticReport.objects.filter(order=signed).count() == 2


def test_surgeon_no_longer_reads_orders_sent_to_the_centre_from_elsewhere(dw):
    township_order = order(dw)
    with pytest.raises(NotFound):
        selectors.order_get_for(dw.hub_surgeon, township_order.public_id)
    # The centre's staff, the office (masked) and the hub's administrator (who answers for it) still read it.
    assert selectors.patient_label(dw.hospital_doctor, township_order) == "王五"
    assert selectors.patient_label(dw.world.office, township_order) == "王*"
    assert selectors.patient_label(dw.world.hospital_admin, township_order) == "王五"
    assert selectors.available_actions(dw.world.hospital_admin, township_order) == []
    # The surgeon's own order is his (ordering side), but offers no centre action.
    received = _received(dw)
    assert "claim" not in selectors.available_actions(dw.hub_surgeon, received)
    assert "claim" in selectors.available_actions(dw.hospital_doctor, received)


def test_urgent_orders_notify_the_department_not_the_whole_hub(dw):
    order(dw, priority="urgent")
    assert Notification.objects.filter(recipient=dw.hospital_technician).exists()
    assert not Notification.objects.filter(recipient=dw.hub_surgeon).exists()


def test_a_centre_needs_a_department_of_its_hub(dw):
    with pytest.raises(Invalid) as error:
        services.centre_create(
            actor=dw.world.office,
            consortium=dw.world.consortium,
            kind="ecg",
            name="心电中心",
            hub_institution=dw.world.hospital,
        )
    assert "department" in error.value.errors
    elsewhere = DepartmentFactory(institution=dw.world.township, name="检验科", specialty="30")
    with pytest.raises(Invalid) as error:
        services.centre_update(actor=dw.world.office, centre=dw.lab, department=elsewhere)
    assert "department" in error.value.errors
    # Moving the centre to another hub without naming that hub's department is refused too.
    with pytest.raises(Invalid) as error:
        services.centre_update(actor=dw.world.office, centre=dw.lab, hub_institution=dw.world.township)
    assert "department" in error.value.errors
    dw.lab.refresh_from_db()
    assert (dw.lab.hub_institution, dw.lab.department) == (dw.world.hospital, dw.department)


def test_a_centre_without_department_has_no_staff(dw):
    type(dw.lab).objects.filter(pk=dw.lab.pk).update(department=None)
    dw.lab.refresh_from_db()
    assert not policies.works_at_centre(dw.hospital_doctor, dw.lab)
    assert policies.centre_roles(dw.hospital_doctor, dw.lab) == frozenset()


# --- pages --------------------------------------------------------------------------------------------


def _act_page(user, created, action, **data):
    fields = {"expected_version": created.version, **data}
    return client_for(user).post(
        f"/diagnostics/orders/{created.public_id}/act/{action}/",
        {f"{action}-{name}": value for name, value in fields.items()},
    )


def test_pages_refuse_the_surgeon_and_serve_the_department(dw):
    surgeon = client_for(dw.hub_surgeon)
    assert surgeon.get(f"/diagnostics/reading/{dw.lab.public_id}/").status_code == 403
    assert client_for(dw.hospital_doctor).get(f"/diagnostics/reading/{dw.lab.public_id}/").status_code == 200

    in_transit = _hub_order(dw)
    before = _snapshot(in_transit)
    refused = surgeon.post(f"/diagnostics/receive/{dw.lab.public_id}/", {"barcode": in_transit.barcode})
    assert refused.status_code == 403
    _unchanged(in_transit, *before)
    received = client_for(dw.hospital_technician).post(
        f"/diagnostics/receive/{dw.lab.public_id}/", {"barcode": in_transit.barcode}
    )
    assert received.status_code == 200

    in_transit.refresh_from_db()
    before = _snapshot(in_transit)
    assert _act_page(dw.hub_surgeon, in_transit, "claim").status_code == 403
    _unchanged(in_transit, *before)
    assert _act_page(dw.hospital_doctor, in_transit, "claim").status_code == 302
    in_transit.refresh_from_db()
    before = _snapshot(in_transit)
    assert _act_page(dw.hub_surgeon, in_transit, "sign", conclusion="正常").status_code == 403
    _unchanged(in_transit, *before)
    assert _act_page(dw.hospital_doctor, in_transit, "sign", conclusion="正常").status_code == 302
    in_transit.refresh_from_db()
    assert in_transit.status == "final"

    before = _snapshot(in_transit)
    amend = {"conclusion": "更正", "reason": "复核"}
    assert _act_page(dw.hub_surgeon, in_transit, "amend", **amend).status_code == 403
    _unchanged(in_transit, *before)
    assert _act_page(dw.second_doctor, in_transit, "amend", **amend).status_code == 302
    assert DiagnosticReport.objects.filter(order=in_transit).count() == 2


# --- API ----------------------------------------------------------------------------------------------


def _api_act(user, created, action, **data):
    return api_client(user).post(
        f"/api/v1/diagnostic-orders/{created.public_id}/{action}", data, format="json"
    )


def test_api_refuses_the_surgeon_and_serves_the_department(dw):
    surgeon = api_client(dw.hub_surgeon)
    reading = surgeon.get("/api/v1/reading-list", {"centre": str(dw.lab.public_id)})
    assert reading.status_code == 403
    ok = api_client(dw.hospital_doctor).get("/api/v1/reading-list", {"centre": str(dw.lab.public_id)})
    assert ok.status_code == 200

    in_transit = _hub_order(dw)
    before = _snapshot(in_transit)
    body = {"centre": str(dw.lab.public_id), "barcode": in_transit.barcode}
    assert surgeon.post("/api/v1/diagnostic-orders/receive", body, format="json").status_code == 403
    _unchanged(in_transit, *before)
    received = api_client(dw.hospital_technician).post(
        "/api/v1/diagnostic-orders/receive", body, format="json"
    )
    assert received.status_code == 200

    before = _snapshot(in_transit)
    assert _api_act(dw.hub_surgeon, in_transit, "claim").status_code == 403
    _unchanged(in_transit, *before)
    assert _api_act(dw.hospital_doctor, in_transit, "claim").status_code == 200
    before = _snapshot(in_transit)
    assert _api_act(dw.hub_surgeon, in_transit, "sign", conclusion="正常").status_code == 403
    _unchanged(in_transit, *before)
    assert _api_act(dw.hospital_doctor, in_transit, "sign", conclusion="正常").status_code == 200

    before = _snapshot(in_transit)
    assert _api_act(dw.hub_surgeon, in_transit, "amend", conclusion="改", reason="改").status_code == 403
    _unchanged(in_transit, *before)
    amended = _api_act(dw.second_doctor, in_transit, "amend", conclusion="更正", reason="复核")
    assert amended.status_code == 200 and DiagnosticReport.objects.filter(order=in_transit).count() == 2


def test_api_hides_orders_from_elsewhere_from_the_surgeon(dw):
    township_order = received_specimen(dw)
    response = _api_act(dw.hub_surgeon, township_order, "claim")
    assert response.status_code == 404
    township_order.refresh_from_db()
    assert township_order.status == "received" and township_order.claimed_by is None
