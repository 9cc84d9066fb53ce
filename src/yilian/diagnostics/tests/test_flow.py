"""End-to-end domain flows: lab and imaging orders, second reader, rejection, critical values, bad input."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.diagnostics import selectors, services
from yilian.diagnostics.choices import OrderStatus, ReportStatus
from yilian.diagnostics.models import CriticalValueAlert, DiagnosticOrder, OrderEvent, StudyFile
from yilian.diagnostics.tests.factories import (
    PDF,
    PNG,
    corrupt_dicom_upload,
    diag_world,
    dicom_upload,
    order,
    received_specimen,
)
from yilian.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def test_lab_flow_order_collect_dispatch_receive_claim_sign(dw):
    created = order(dw)
    assert created.number.startswith("JC") and created.barcode and created.barcode.startswith("8")
    assert created.status == OrderStatus.ORDERED and created.price == dw.glucose.price
    services.order_act(actor=dw.township_nurse, order=created, action="collect")
    services.order_act(actor=dw.township_nurse, order=created, action="dispatch")
    received = services.order_receive_barcode(
        actor=dw.hospital_technician, centre=dw.lab, barcode=f"  {created.barcode} "
    )
    assert received.status == OrderStatus.RECEIVED and received.received_at
    assert received.due_at == received.received_at + datetime.timedelta(hours=4)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    signed = services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", findings="GLU 6.1 mmol/L", conclusion="正常"
    )
    assert signed.status == OrderStatus.FINAL and signed.final_at and signed.version == 6
    report = selectors.published_report(signed)
    assert report.status == ReportStatus.FINAL and report.author == dw.hospital_doctor
    actions = list(OrderEvent.objects.filter(order=signed).values_list("action", flat=True))
    assert actions == ["create", "collect", "dispatch", "receive", "claim", "sign"]
    assert AuditEvent.objects.filter(action="diagnostics.sign", object_id=str(signed.public_id)).exists()
    assert Notification.objects.filter(recipient=dw.township_doctor, topic="diagnostics.order").exists()
    # The ordering doctor reads it in the patient's record.
    assert list(selectors.patient_results(dw.township_doctor, dw.patient)) == [signed]


def test_imaging_flow_upload_claim_preliminary_sign_amend_keeps_v1(dw):
    created = order(dw, dw.ct, diagnosis_code="S06.0", diagnosis_name="脑震荡")
    assert created.barcode is None
    files = services.study_upload(
        actor=dw.township_nurse, order=created, files=[dicom_upload(), SimpleUploadedFile("note.pdf", PDF)]
    )
    assert [f.kind for f in files] == ["dicom", "pdf"]
    stored = StudyFile.objects.get(order=created, kind="dicom")
    assert stored.metadata["modality"] == "CT" and stored.metadata["sop_class"] == "CT Image Storage"
    assert default_storage.exists(stored.file.name)
    created.refresh_from_db()
    assert created.status == OrderStatus.RECEIVED and created.person == dw.patient
    services.order_act(actor=dw.hospital_doctor, order=created, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=created, action="save_preliminary", findings="草稿", conclusion="待定"
    )
    services.order_act(
        actor=dw.hospital_doctor,
        order=created,
        action="sign",
        findings="未见异常密度影",
        conclusion="颅脑CT未见异常",
    )
    with pytest.raises(Invalid) as error:
        services.order_act(actor=dw.hospital_doctor, order=created, action="amend", conclusion="更正")
    assert "reason" in error.value.errors
    amended = services.order_act(
        actor=dw.second_doctor,
        order=created,
        action="amend",
        findings="左侧额叶小片低密度影",
        conclusion="左额叶腔隙灶",
        reason="复阅发现病灶",
    )
    versions = list(selectors.order_reports(amended))
    assert [(r.version, r.status) for r in versions] == [(2, "final"), (1, "superseded")]
    assert versions[1].conclusion == "颅脑CT未见异常" and versions[0].amendment_reason == "复阅发现病灶"
    assert selectors.published_report(amended).version == 2


def test_second_reader_for_pathology(dw):
    received = received_specimen(dw, dw.biopsy, diagnosis_code="C16.9", diagnosis_name="胃癌？")
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    signed = services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="腺癌，中分化"
    )
    assert signed.status == OrderStatus.AWAITING_SECOND and signed.final_at is None
    assert selectors.published_report(signed) is None
    with pytest.raises(NotAllowed):
        services.order_act(actor=dw.hospital_doctor, order=signed, action="second_sign")
    final = services.order_act(actor=dw.second_doctor, order=signed, action="second_sign")
    report = selectors.published_report(final)
    assert final.status == OrderStatus.FINAL and report.second_reader == dw.second_doctor


def test_flagged_study_requires_second_reader(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    signed = services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="可疑", request_second_reader=True
    )
    assert signed.status == OrderStatus.AWAITING_SECOND


def test_rejection_reason_is_visible_to_the_sender(dw):
    created = order(dw)
    services.order_act(actor=dw.township_nurse, order=created, action="collect")
    services.order_act(actor=dw.township_nurse, order=created, action="dispatch")
    with pytest.raises(Invalid):
        services.order_act(actor=dw.hospital_technician, order=created, action="reject", reason="bogus")
    with pytest.raises(Invalid):
        services.order_act(actor=dw.hospital_technician, order=created, action="reject")
    rejected = services.order_act(
        actor=dw.hospital_technician, order=created, action="reject", reason="haemolysed", note="严重溶血"
    )
    seen = selectors.order_get_for(dw.township_doctor, rejected.public_id)
    assert seen.status == OrderStatus.REJECTED
    assert seen.get_rejection_reason_display() == "溶血" and seen.rejection_note == "严重溶血"
    assert Notification.objects.filter(recipient=dw.township_doctor, title__contains="拒收").exists()


def test_cancel_before_receipt_needs_reason(dw):
    created = order(dw)
    with pytest.raises(Invalid):
        services.order_act(actor=dw.township_doctor, order=created, action="cancel")
    cancelled = services.order_act(
        actor=dw.township_doctor, order=created, action="cancel", reason="患者拒绝"
    )
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancel_reason == "患者拒绝"


def test_critical_value_acknowledge(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor,
        order=received,
        action="sign",
        conclusion="低血糖",
        is_abnormal=True,
        critical_value="血糖 1.8 mmol/L",
    )
    alert = CriticalValueAlert.objects.get(order=received)
    assert alert.recipient == dw.township_doctor
    assert Notification.objects.filter(recipient=dw.township_doctor, topic="diagnostics.critical").exists()
    with pytest.raises(NotAllowed):
        services.critical_alert_acknowledge(actor=dw.hospital_doctor, alert=alert)
    acknowledged = services.critical_alert_acknowledge(
        actor=dw.township_doctor, alert=alert, note="已电话通知患者"
    )
    assert acknowledged.acknowledged_by == dw.township_doctor
    with pytest.raises(Conflict):
        services.critical_alert_acknowledge(actor=dw.township_doctor, alert=alert, note="再次确认")


@pytest.mark.parametrize("note", ["", "   "])
def test_critical_value_acknowledgement_needs_a_record_of_what_was_done(dw, note):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="x", critical_value="K 7.0"
    )
    alert = CriticalValueAlert.objects.get(order=received)
    events = OrderEvent.objects.filter(order=received).count()
    with pytest.raises(Invalid) as caught:
        services.critical_alert_acknowledge(actor=dw.township_doctor, alert=alert, note=note)
    assert list(caught.value.as_text()) == ["note"]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None and alert.acknowledged_by is None
    assert OrderEvent.objects.filter(order=received).count() == events
    assert not AuditEvent.objects.filter(action="diagnostics.critical_ack").exists()


def test_unacknowledged_critical_value_escalates(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="x", critical_value="K 7.0"
    )
    alert = CriticalValueAlert.objects.get(order=received)
    now = alert.raised_at
    assert services.critical_alerts_escalate(now=now + datetime.timedelta(minutes=14)) == {
        "institution": 0,
        "office": 0,
    }
    assert services.critical_alerts_escalate(now=now + datetime.timedelta(minutes=15)) == {
        "institution": 1,
        "office": 0,
    }
    assert Notification.objects.filter(
        recipient=dw.world.township_admin, topic="diagnostics.critical_escalated"
    ).exists()
    assert services.critical_alerts_escalate(now=now + datetime.timedelta(minutes=20)) == {
        "institution": 0,
        "office": 0,
    }
    assert services.critical_alerts_escalate(now=now + datetime.timedelta(minutes=31)) == {
        "institution": 0,
        "office": 1,
    }
    assert Notification.objects.filter(
        recipient=dw.world.office, topic="diagnostics.critical_escalated"
    ).exists()
    alert.refresh_from_db()
    assert alert.escalation_level == 2
    assert services.critical_alerts_escalate(now=now + datetime.timedelta(days=1)) == {
        "institution": 0,
        "office": 0,
    }


def test_sweep_command_runs(dw, capsys):
    call_command("diagnostics_sweep")
    assert "institution=0" in capsys.readouterr().out


def test_acknowledged_alert_does_not_escalate(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="x", critical_value="K 7.0"
    )
    alert = CriticalValueAlert.objects.get(order=received)
    services.critical_alert_acknowledge(actor=dw.township_doctor, alert=alert, note="已通知患者返院")
    counts = services.critical_alerts_escalate(now=timezone.now() + datetime.timedelta(hours=2))
    assert counts == {"institution": 0, "office": 0}


# --- bad input --------------------------------------------------------------------------------------


def _nothing_saved(created: DiagnosticOrder, tmp_path) -> None:
    created.refresh_from_db()
    assert created.status == OrderStatus.ORDERED and created.version == 1
    assert not StudyFile.objects.filter(order=created).exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_corrupt_dicom_refuses_the_whole_upload(dw, tmp_path):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    with pytest.raises(Invalid) as error:
        services.study_upload(
            actor=dw.township_nurse, order=created, files=[dicom_upload(), corrupt_dicom_upload()]
        )
    assert "broken.dcm" in error.value.errors["files"][0] and "损坏" in error.value.errors["files"][0]
    _nothing_saved(created, tmp_path)


def test_wrong_types_and_mismatched_content(dw, tmp_path):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    for upload in (
        SimpleUploadedFile("run.exe", b"MZ..."),
        SimpleUploadedFile("fake.pdf", PNG),
        SimpleUploadedFile("fake.png", PDF),
        SimpleUploadedFile("plain.dcm", b"not a dicom at all" * 20),
        SimpleUploadedFile("wave.xml", b"<?xml version='1.0'?><x/>"),
    ):
        with pytest.raises(Invalid):
            services.study_upload(actor=dw.township_nurse, order=created, files=[upload])
    _nothing_saved(created, tmp_path)


@override_settings(DIAGNOSTICS_MAX_FILE_BYTES=100, DIAGNOSTICS_MAX_DICOM_BYTES=200)
def test_oversized_uploads(dw, tmp_path):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    with pytest.raises(Invalid) as error:
        services.study_upload(
            actor=dw.township_nurse, order=created, files=[SimpleUploadedFile("big.png", PNG * 3)]
        )
    assert "上限" in error.value.errors["files"][0]
    with pytest.raises(Invalid):
        services.study_upload(actor=dw.township_nurse, order=created, files=[dicom_upload()])
    _nothing_saved(created, tmp_path)


def test_upload_only_for_study_centres_and_by_the_ordering_side(dw):
    lab_order = order(dw)
    with pytest.raises(Invalid):
        services.study_upload(
            actor=dw.township_nurse, order=lab_order, files=[SimpleUploadedFile("a.png", PNG)]
        )
    ct_order = order(dw, dw.ct, diagnosis_code="S06.0")
    with pytest.raises(NotAllowed):
        services.study_upload(
            actor=dw.hospital_doctor, order=ct_order, files=[SimpleUploadedFile("a.png", PNG)]
        )
    with pytest.raises(Invalid):
        services.study_upload(actor=dw.township_nurse, order=ct_order, files=[])


def test_unknown_barcode_is_a_clear_error(dw):
    created = order(dw)
    services.order_act(actor=dw.township_nurse, order=created, action="collect")
    with pytest.raises(Invalid) as error:
        services.order_receive_barcode(actor=dw.hospital_technician, centre=dw.lab, barcode="8000")
    assert "8000" in error.value.errors["barcode"][0]
    with pytest.raises(Invalid):  # a real barcode of another centre is unknown here
        services.order_receive_barcode(
            actor=dw.hospital_technician, centre=dw.imaging, barcode=created.barcode
        )
    with pytest.raises(NotAllowed):
        services.order_receive_barcode(actor=dw.township_nurse, centre=dw.lab, barcode=created.barcode)


def test_bad_icd10_and_inactive_item(dw):
    with pytest.raises(Invalid) as error:
        order(dw, diagnosis_code="I10.5")
    assert "diagnosis_code" in error.value.errors
    services.item_update(actor=dw.world.office, item=dw.glucose, is_active=False)
    dw.glucose.refresh_from_db()
    with pytest.raises(Invalid) as error:
        order(dw)
    assert "item" in error.value.errors


def test_signing_twice_conflicts_and_claims_name_the_holder(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    with pytest.raises(Conflict) as error:
        services.order_act(actor=dw.second_doctor, order=received, action="claim")
    assert dw.hospital_doctor.full_name in str(error.value)
    with pytest.raises(Conflict):
        services.order_act(actor=dw.second_doctor, order=received, action="sign", conclusion="x")
    services.order_act(actor=dw.hospital_doctor, order=received, action="sign", conclusion="x")
    with pytest.raises(Conflict):
        services.order_act(actor=dw.hospital_doctor, order=received, action="sign", conclusion="x")


def test_stale_version_conflicts(dw):
    created = order(dw)
    with pytest.raises(Conflict):
        services.order_act(actor=dw.township_nurse, order=created, action="collect", expected_version=9)


def test_release_lets_another_doctor_claim(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(actor=dw.hospital_doctor, order=received, action="release")
    claimed = services.order_act(actor=dw.second_doctor, order=received, action="claim")
    assert claimed.claimed_by == dw.second_doctor


def test_idempotent_order_create(dw):
    first, created = services.order_create(
        actor=dw.township_doctor,
        person=dw.patient,
        institution=dw.world.township,
        item=dw.glucose,
        diagnosis_code="E11.9",
        idempotency_key="abc",
    )
    again, created_again = services.order_create(
        actor=dw.township_doctor,
        person=dw.patient,
        institution=dw.world.township,
        item=dw.glucose,
        diagnosis_code="E11.9",
        idempotency_key="abc",
    )
    assert created and not created_again and first == again


def test_only_members_served_by_the_centre_may_order(dw):

    with pytest.raises(NotAllowed):
        services.order_create(
            actor=dw.outsider_doctor,
            person=dw.patient,
            institution=dw.world.outsider,
            item=dw.glucose,
            diagnosis_code="E11.9",
        )


def test_ecg_centre_takes_xml_waveforms_and_dicom_waveforms(dw):
    ecg = services.centre_create(
        actor=dw.world.office,
        consortium=dw.world.consortium,
        kind="ecg",
        name="县域心电中心",
        hub_institution=dw.world.hospital,
        department=dw.department,
        served_institutions=[dw.world.township],
    )
    item = services.item_create(
        actor=dw.world.office, centre=ecg, code="ECG12", name="心电图", price="25", turnaround_hours=2
    )
    created = order(dw, item, diagnosis_code="I10")
    files = services.study_upload(
        actor=dw.township_nurse,
        order=created,
        files=[
            SimpleUploadedFile("wave.xml", b"<?xml version='1.0'?><AnnotatedECG/>"),
            dicom_upload("wave.dcm"),
        ],
    )
    assert [f.kind for f in files] == ["ecg", "ecg"]
    assert files[1].metadata["modality"] == "CT"  # shown as read, never trusted
