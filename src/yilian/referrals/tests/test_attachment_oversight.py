"""The consortium office (and regulators, platform administrators) read a referral without the patient's
details: of its attachments they learn what was sent — each material and how many — on the page and in the
API, never a file's name (it can name the patient or the finding) nor its content; the timeline's upload
steps name the material only. The two ends still see the names and download the files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from yilian.core.api.testing import api_client
from yilian.referrals import services
from yilian.referrals.models import ReferralEvent
from yilian.referrals.tests.factories import referral_world, submitted

pytestmark = pytest.mark.django_db

NAMES = ("李四_肺癌_病理报告.pdf", "李四_HIV检测.pdf", "李四_胸片.png")


@pytest.fixture
def rw(world: Any, settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return referral_world(world)


@pytest.fixture
def referral(rw: Any) -> Any:
    referral = submitted(rw)
    for name, material in zip(NAMES, ("lab_report", "lab_report", "imaging_report"), strict=True):
        content_type = "image/png" if name.endswith(".png") else "application/pdf"
        services.referral_attach(
            actor=rw.township_doctor,
            referral=referral,
            material=material,
            upload=SimpleUploadedFile(
                name, b"%PDF-1.4" if content_type.endswith("pdf") else b"\x89PNG", content_type
            ),
        )
    return referral


def _page(user: Any, referral: Any) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    response = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["office", "regulator", "admin"])
def test_oversight_sees_the_kinds_and_counts_but_no_names_on_the_page(rw, referral, who):
    html = _page(getattr(rw.world, who), referral)
    assert 'data-testid="attachments-summary"' in html
    assert "检验报告 2 份" in html and "影像报告 1 份" in html
    assert 'data-testid="attachment-row"' not in html
    for name in NAMES:
        assert name not in html and name.rsplit(".", 1)[0] not in html
    # The timeline still shows the three uploads, by material only.
    assert html.count('data-action="attach"') == 3
    # No link to a file either.
    assert "/referrals/attachments/" not in html


def test_the_two_ends_still_see_the_names(rw, referral):
    for user in (rw.township_doctor, rw.hospital_doctor):
        html = _page(user, referral)
        assert all(name in html for name in NAMES)
        assert 'data-testid="attachments-summary"' not in html


@pytest.mark.parametrize("who", ["office", "regulator", "admin"])
def test_oversight_gets_kinds_and_counts_but_no_names_from_the_api(rw, referral, who):
    client = api_client(getattr(rw.world, who))
    response = client.get(f"/api/v1/referrals/{referral.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["attachments"] == []
    kinds = {row["material"]: row["count"] for row in body["attachment_kinds"]}
    assert kinds == {"lab_report": 2, "imaging_report": 1}
    text = response.content.decode()
    for name in NAMES:
        assert name not in text and name.rsplit(".", 1)[0] not in text
    attach_steps = [step for step in body["timeline"] if step["action"] == "attach"]
    assert len(attach_steps) == 3 and all(step["note"] for step in attach_steps)
    # Nor a file.
    attachment = referral.attachments.first()
    assert client.get(f"/api/v1/referral-attachments/{attachment.public_id}/download").status_code == 404


def test_the_ends_get_names_and_kinds_from_the_api(rw, referral):
    body = api_client(rw.hospital_doctor).get(f"/api/v1/referrals/{referral.public_id}").json()
    assert sorted(row["original_filename"] for row in body["attachments"]) == sorted(NAMES)
    assert {row["material"]: row["count"] for row in body["attachment_kinds"]} == {
        "lab_report": 2,
        "imaging_report": 1,
    }
    notes = [step["note"] for step in body["timeline"] if step["action"] == "attach"]
    assert any(NAMES[0] in note for note in notes)


def test_an_old_upload_step_without_parameters_is_cut_to_its_material(rw, referral):
    ReferralEvent.objects.filter(referral=referral, action="attach").update(
        note="检验报告：李四_肺癌_病理报告.pdf", note_params={}
    )
    html = _page(rw.world.office, referral)
    assert "肺癌" not in html and "检验报告" in html
