"""Authorization matrix: who sees an order, its patient, its files and report, and who may act on it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yilian.core.exceptions import NotAllowed, NotFound
from yilian.diagnostics import selectors, services
from yilian.diagnostics.models import OrderEvent
from yilian.diagnostics.tests.factories import PNG, diag_world, order, received_specimen

pytestmark = pytest.mark.django_db

SEES = {
    "anonymous": False,
    "stranger": False,
    "outsider_doctor": False,
    "township_doctor": True,
    "township_admin": True,
    "hospital_doctor": True,
    "hospital_admin": True,
    "office": True,
    "regulator": True,
    "admin": True,
}
# The hub's administrator reads the centre's orders as the office does: the patient masked.
SEES_PATIENT = {"township_doctor", "township_admin", "hospital_doctor"}


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def _users(dw):
    return {**dw.world.users(), "township_doctor": dw.township_doctor}


@pytest.mark.parametrize("who", sorted(SEES))
def test_who_sees_an_order_and_its_patient(dw, who):
    created = order(dw)
    actor = _users(dw)[who]
    if not SEES[who]:
        with pytest.raises(NotFound):
            selectors.order_get_for(actor, created.public_id)
        assert not selectors.order_list(actor).exists()
        assert not selectors.critical_alert_list(actor).exists()
        return
    seen = selectors.order_get_for(actor, created.public_id)
    label = selectors.patient_label(actor, seen)
    assert label == ("王五" if who in SEES_PATIENT else "王*")


@pytest.mark.parametrize("who", sorted(SEES))
def test_only_the_centres_doctors_claim(dw, who):
    received = received_specimen(dw)
    actor = _users(dw)[who]
    steps = OrderEvent.objects.count()
    if who == "hospital_doctor":
        assert services.order_act(actor=actor, order=received, action="claim").claimed_by == actor
        return
    with pytest.raises(NotAllowed):
        services.order_act(actor=actor, order=received, action="claim")
    received.refresh_from_db()
    assert received.status == "received" and OrderEvent.objects.count() == steps


@pytest.mark.parametrize(
    "who", ["office", "regulator", "admin", "hospital_doctor", "outsider_doctor", "stranger"]
)
def test_only_the_ordering_side_uploads_and_cancels(dw, who):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    actor = _users(dw)[who]
    with pytest.raises(NotAllowed):
        services.study_upload(actor=actor, order=created, files=[SimpleUploadedFile("a.png", PNG)])
    with pytest.raises(NotAllowed):
        services.order_act(actor=actor, order=created, action="cancel", reason="x")
    created.refresh_from_db()
    assert created.status == "ordered" and not created.files.exists()


@pytest.mark.parametrize(
    "who", ["office", "regulator", "admin", "hospital_admin", "outsider_doctor", "stranger", "anonymous"]
)
def test_files_hidden_from_readers_without_patient_access(dw, who):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    (stored,) = services.study_upload(
        actor=dw.township_nurse, order=created, files=[SimpleUploadedFile("a.png", PNG)]
    )
    with pytest.raises(NotFound):
        selectors.file_get_for(_users(dw)[who], stored.public_id)
    assert selectors.file_get_for(dw.hospital_doctor, stored.public_id) == stored


@pytest.mark.parametrize(
    "who",
    ["township_doctor", "hospital_admin", "office", "regulator", "outsider_doctor", "stranger", "anonymous"],
)
def test_reading_list_only_for_centre_staff(dw, who):
    with pytest.raises(NotAllowed):
        selectors.reading_list(_users(dw)[who], dw.lab)
    assert list(selectors.reading_list(dw.hospital_doctor, dw.lab)) == []


@pytest.mark.parametrize(
    "who", ["township_doctor", "hospital_doctor", "hospital_admin", "regulator", "stranger"]
)
def test_only_the_office_configures(dw, who):
    actor = _users(dw)[who]
    with pytest.raises(NotAllowed):
        services.centre_create(
            actor=actor,
            consortium=dw.world.consortium,
            kind="ecg",
            name="心电中心",
            hub_institution=dw.world.hospital,
        )
    with pytest.raises(NotAllowed):
        services.item_create(actor=actor, centre=dw.lab, code="K", name="钾", price="5", turnaround_hours=2)
    with pytest.raises(NotAllowed):
        services.rule_create(
            actor=actor, consortium=dw.world.consortium, item_code="K", name="钾", validity_days=7
        )


def test_office_configuration_validates_members(dw):
    from yilian.core.exceptions import Conflict, Invalid

    with pytest.raises(Invalid) as error:
        services.centre_create(
            actor=dw.world.office,
            consortium=dw.world.consortium,
            kind="ecg",
            name="心电中心",
            hub_institution=dw.world.outsider,
            served_institutions=[dw.world.outsider],
        )
    assert {"hub_institution", "served_institutions"} <= set(error.value.errors)
    with pytest.raises(Conflict):
        services.item_create(
            actor=dw.world.office, centre=dw.lab, code="GLU", name="x", price="1", turnaround_hours=1
        )
    with pytest.raises(Invalid):
        services.item_create(
            actor=dw.world.office, centre=dw.lab, code="K", name="钾", price="-1", turnaround_hours=1
        )


@pytest.mark.parametrize(
    "who", ["township_doctor", "hospital_doctor", "outsider_doctor", "stranger", "anonymous"]
)
def test_dashboard_only_for_oversight(dw, who):
    with pytest.raises(NotAllowed):
        selectors.dashboard(_users(dw)[who])


@pytest.mark.parametrize("who", ["office", "regulator", "admin"])
def test_dashboard_for_oversight(dw, who):
    received_specimen(dw)
    figures = selectors.dashboard(_users(dw)[who])
    assert figures.per_centre[0]["total"] == 1 and figures.per_member[0]["total"] == 1
