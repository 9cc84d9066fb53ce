"""Rejection reasons follow the centre kind: specimens keep theirs, an uploaded study gets study reasons."""

from __future__ import annotations

import pytest
from django.test import Client

from yilian.core.exceptions import Invalid
from yilian.diagnostics import forms, services
from yilian.diagnostics.choices import OrderStatus, RejectionReason
from yilian.diagnostics.tests.factories import diag_world, dicom_upload, order, received_specimen

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def _uploaded_study(dw):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    services.study_upload(actor=dw.township_nurse, order=created, files=[dicom_upload()])
    created.refresh_from_db()
    assert created.status == OrderStatus.RECEIVED
    return created


def test_form_offers_the_reasons_of_the_centre_kind():
    study = {value for value, _label in forms.action_form("reject", kind="imaging").fields["reason"].choices}
    ecg = {value for value, _label in forms.action_form("reject", kind="ecg").fields["reason"].choices}
    lab = {value for value, _label in forms.action_form("reject", kind="lab").fields["reason"].choices}
    assert study == ecg == {"image_quality", "wrong_body_part", "incomplete", "patient_mismatch", "other"}
    assert "haemolysed" in lab and "wrong_tube" in lab and "image_quality" not in lab


def test_a_specimen_reason_on_an_imaging_order_is_a_field_error(dw):
    study = _uploaded_study(dw)
    with pytest.raises(Invalid) as caught:
        services.order_act(actor=dw.hospital_technician, order=study, action="reject", reason="haemolysed")
    assert list(caught.value.as_text()) == ["reason"]
    study.refresh_from_db()
    assert study.status == OrderStatus.RECEIVED and study.rejection_reason == ""
    rejected = services.order_act(
        actor=dw.hospital_technician, order=study, action="reject", reason="image_quality", note="运动伪影"
    )
    assert rejected.status == OrderStatus.REJECTED
    assert rejected.rejection_reason == RejectionReason.IMAGE_QUALITY


def test_a_study_reason_on_a_specimen_is_a_field_error(dw):
    specimen = received_specimen(dw)
    with pytest.raises(Invalid) as caught:
        services.order_act(actor=dw.hospital_technician, order=specimen, action="reject", reason="incomplete")
    assert list(caught.value.as_text()) == ["reason"]


def test_imaging_order_page_offers_study_reasons_only(dw):
    study = _uploaded_study(dw)
    client = Client()
    client.force_login(dw.hospital_technician)
    page = client.get(f"/diagnostics/orders/{study.public_id}/").content.decode()
    assert 'value="image_quality"' in page and 'value="haemolysed"' not in page
    refused = client.post(
        f"/diagnostics/orders/{study.public_id}/act/reject/",
        {"reject-reason": "haemolysed", "reject-expected_version": study.version},
    )
    assert refused.status_code == 400
    study.refresh_from_db()
    assert study.status == OrderStatus.RECEIVED
