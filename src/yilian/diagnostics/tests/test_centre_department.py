"""A centre's clinical work belongs to its department: a doctor of the hub hospital's other departments (the
surgeon) may not read its worklist, receive its specimens, claim, sign or amend its reports, in the services,
on the pages or through the API; the centre department's staff may. The office and the ordering side keep
what they saw; the hub's administrators read the centre's orders as the office does, the patient masked."""

from __future__ import annotations

import pytest

from yilian.accounts.models import Membership
from yilian.accounts.selectors import forget_scope
from yilian.core.api.testing import api_client
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.core.permissions import Role
from yilian.diagnostics import data_items, policies, selectors, services
from yilian.diagnostics.models import DiagnosticOrder, DiagnosticReport, OrderEvent
from yilian.diagnostics.tests.factories import PNG, diag_world, order, received_specimen
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
    # The centre's staff, the office and the hub's administrator (who answers for it; both masked) still read it.
    assert selectors.patient_label(dw.hospital_doctor, township_order) == "王五"
    assert selectors.patient_label(dw.world.office, township_order) == "王*"
    assert selectors.patient_label(dw.world.hospital_admin, township_order) == "王*"
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


# --- the hub's administrator --------------------------------------------------------------------------


def _administrators_order(dw):
    """A township CT through to a final report, with a study file: everything a patient reader could see."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    created = order(dw, dw.ct, diagnosis_code="S06.0")
    (stored,) = services.study_upload(
        actor=dw.township_nurse, order=created, files=[SimpleUploadedFile("a.png", PNG)]
    )
    services.order_act(actor=dw.hospital_doctor, order=created, action="claim")
    created = services.order_act(
        actor=dw.hospital_doctor, order=created, action="sign", conclusion="未见异常"
    )
    assert created.status == "final"
    return created, stored


def test_hub_administrator_reads_the_centres_orders_masked_like_the_office(dw):
    created, stored = _administrators_order(dw)
    admin, office = dw.world.hospital_admin, dw.world.office
    for reader in (admin, office):
        seen = selectors.order_get_for(reader, created.public_id)
        assert not policies.sees_patient(reader, seen)
        assert selectors.patient_label(reader, seen) == "王*"
        assert selectors.available_actions(reader, seen) == []
        with pytest.raises(NotFound):
            selectors.file_get_for(reader, stored.public_id)
    assert [row.public_id for row in selectors.order_list(admin)] == [created.public_id]
    assert [row.public_id for row in selectors.order_list(admin, selectors.OrderFilters(box="centre"))] == [
        created.public_id
    ]
    assert not policies.works_at_centre(admin, dw.lab) and not policies.hosts_centre(admin)
    with pytest.raises(NotAllowed):
        selectors.reading_list(admin, dw.lab)


def test_hub_administrator_pages_mask_the_patient_and_refuse_the_documents(dw):
    created, stored = _administrators_order(dw)
    specimen = received_specimen(dw)
    for who in (dw.world.hospital_admin, dw.world.office):
        client = client_for(who)
        page = client.get(f"/diagnostics/orders/{created.public_id}/")
        text = page.content.decode()
        assert page.status_code == 200 and 'data-testid="patient-name">王*<' in text
        assert "王五" not in text and created.person.id_number_masked not in text
        assert "口干多饮" not in text and 'data-testid="order-label"' not in text
        listed = client.get("/diagnostics/?box=all").content.decode()
        assert 'data-testid="order-patient">王*<' in listed and "王五" not in listed
        assert client.get(f"/diagnostics/orders/{created.public_id}/report.pdf").status_code == 403
        assert client.get(f"/diagnostics/files/{stored.public_id}/").status_code == 404
        labelled = client.get(f"/diagnostics/orders/{specimen.public_id}/")
        assert labelled.status_code == 200 and 'data-testid="order-label"' not in labelled.content.decode()
        assert client.get(f"/diagnostics/orders/{specimen.public_id}/label.pdf").status_code == 403
    assert (
        client_for(dw.world.hospital_admin).get(f"/diagnostics/reading/{dw.lab.public_id}/").status_code
        == 403
    )


def test_hub_administrator_api_masks_the_patient_and_refuses_the_documents(dw):
    created, stored = _administrators_order(dw)
    specimen = received_specimen(dw)
    for who in (dw.world.hospital_admin, dw.world.office):
        client = api_client(who)
        body = client.get(f"/api/v1/diagnostic-orders/{created.public_id}").json()
        assert body["patient"] == {
            "visible": False,
            "public_id": None,
            "name": "王*",
            "id_number_masked": None,
            "gender": None,
            "gender_label": None,
            "age": None,
        }
        assert body["clinical_info"] == "" and body["reports"] == [] and body["files"] == []
        rows = client.get("/api/v1/diagnostic-orders").json()["results"]
        assert [row["patient"]["name"] for row in rows] == ["王*", "王*"]
        assert all(row["patient"]["id_number_masked"] is None for row in rows)
        assert client.get(f"/api/v1/diagnostic-orders/{created.public_id}/report.pdf").status_code == 403
        assert client.get(f"/api/v1/diagnostic-orders/{specimen.public_id}/label.pdf").status_code == 403
        download = client.get(f"/api/v1/diagnostic-files/{stored.public_id}/download")
        assert download.status_code == 404
    before = _snapshot(created)
    amend = {"conclusion": "改", "reason": "改"}
    assert _api_act(dw.world.hospital_admin, created, "amend", **amend).status_code == 403
    _unchanged(created, *before)


def test_hub_administrator_sees_the_patient_of_an_order_the_hub_placed(dw):
    """An order of the hub's own doctors is the institution's patient (the ordering side), as on referrals."""
    own = _hub_order(dw)
    assert selectors.patient_label(dw.world.hospital_admin, own) == "赵六"


def test_an_administrator_role_granted_in_the_centres_department_is_not_its_staff(dw):
    admin = dw.world.hospital_admin
    Membership.objects.filter(user=admin, role=Role.INSTITUTION_ADMIN).update(department=dw.department)
    forget_scope(admin)
    township_order = order(dw)
    assert selectors.patient_label(admin, township_order) == "王*"
    assert not policies.works_at_centre(admin, dw.lab) and list(selectors.working_centres(admin)) == []
    with pytest.raises(NotAllowed):
        selectors.reading_list(admin, dw.lab)


def test_indicator_drilldown_masks_the_hub_administrators_rows(dw, django_assert_num_queries):
    """The drill-down masks per reader: the hub's administrator reads some orders masked, so all are masked
    there; the office too; the ordering side's administrator and the centre's doctor see names."""
    sources = (data_items.ORDERED, data_items.REPORTED)
    for source in sources:
        assert source.shows_full(dw.world.hospital_admin) is False
        assert source.shows_full(dw.world.office) is False
        assert source.shows_full(dw.world.township_admin) is True
        assert source.shows_full(dw.hospital_doctor) is True
    with django_assert_num_queries(0):
        policies.sees_every_patient(dw.hospital_doctor)
    with django_assert_num_queries(1):
        policies.sees_every_patient(dw.world.hospital_admin)
    # An administrator who is also a clinician of every hosted centre's department sees every patient.
    Membership.objects.create(
        user=dw.world.hospital_admin,
        institution=dw.world.hospital,
        role=Role.DOCTOR,
        department=dw.department,
    )
    forget_scope(dw.world.hospital_admin)
    assert policies.sees_every_patient(dw.world.hospital_admin)
