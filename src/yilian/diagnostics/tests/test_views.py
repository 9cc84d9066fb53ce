"""Diagnostics pages: every page renders for the right users and answers 403/404 for others; the order
form's recognition choice, actions, uploads, receipt by barcode, acknowledgement and configuration."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yilian.core.exceptions import Invalid
from yilian.diagnostics import services
from yilian.diagnostics.choices import OrderStatus
from yilian.diagnostics.models import CriticalValueAlert, DiagnosticOrder, RecognitionDecision, SharedCentre
from yilian.diagnostics.tests.factories import (
    PDF,
    PNG,
    corrupt_dicom_upload,
    diag_world,
    dicom_upload,
    final_result,
    order,
    received_specimen,
    rule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _users(dw):
    return {
        **dw.world.users(),
        "township_doctor": dw.township_doctor,
        "township_nurse": dw.township_nurse,
        "second_doctor": dw.second_doctor,
    }


def test_anonymous_is_sent_to_login(dw):
    response = client_for(None).get("/diagnostics/")
    assert response.status_code == 302 and "login" in response["Location"]


PAGES = {
    # page: users who get 200 (everyone else listed gets 403)
    "/diagnostics/": {
        "township_doctor",
        "hospital_doctor",
        "outsider_doctor",
        "office",
        "regulator",
        "admin",
    },
    "/diagnostics/new/": {"township_doctor", "hospital_doctor", "outsider_doctor"},
    "/diagnostics/centres/": {"township_doctor", "hospital_doctor", "outsider_doctor", "hospital_admin"},
    "/diagnostics/alerts/": {"township_doctor", "hospital_doctor", "outsider_doctor"},
    "/diagnostics/manage/": {"office", "admin"},
    "/diagnostics/dashboard/": {"office", "regulator", "admin"},
}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize(
    "who",
    ["stranger", "township_doctor", "hospital_doctor", "outsider_doctor", "office", "regulator", "admin"],
)
def test_pages_render_or_refuse(dw, page, who):
    received_specimen(dw)
    response = client_for(_users(dw)[who]).get(page)
    assert response.status_code == (200 if who in PAGES[page] else 403), response.status_code


@pytest.mark.parametrize(
    ("who", "status", "name"),
    [
        ("township_doctor", 200, "王五"),
        ("township_admin", 200, "王五"),
        ("hospital_doctor", 200, "王五"),
        ("hospital_admin", 200, "王*"),
        ("office", 200, "王*"),
        ("regulator", 200, "王*"),
        ("admin", 200, "王*"),
        ("outsider_doctor", 404, None),
        ("stranger", 404, None),
    ],
)
def test_order_page(dw, who, status, name):
    created = final_result(dw)
    response = client_for(_users(dw)[who]).get(f"/diagnostics/orders/{created.public_id}/")
    assert response.status_code == status
    if name:
        assert f'data-testid="patient-name">{name}<' in response.content.decode()
    report = client_for(_users(dw)[who]).get(f"/diagnostics/orders/{created.public_id}/report.pdf")
    assert report.status_code == {"township_doctor": 200, "township_admin": 200, "hospital_doctor": 200}.get(
        who, 403 if status == 200 else 404
    )


def test_reading_list_and_receive_pages(dw):
    created = order(dw)
    services.order_act(actor=dw.township_nurse, order=created, action="collect")
    services.order_act(actor=dw.township_nurse, order=created, action="dispatch")
    desk = client_for(dw.hospital_technician)
    url = f"/diagnostics/receive/{dw.lab.public_id}/"
    unknown = desk.post(url, {"barcode": "8000"})
    assert unknown.status_code == 400 and "8000" in unknown.content.decode()
    done = desk.post(url, {"barcode": created.barcode})
    assert done.status_code == 200 and 'data-testid="received"' in done.content.decode()
    services.order_act(actor=dw.hospital_doctor, order=created, action="claim")
    # Scanned again (the doctor has claimed it meanwhile): already received, when and by whom.
    again = desk.post(url, {"barcode": created.barcode})
    text = again.content.decode()
    assert again.status_code == 400 and 'data-testid="error-barcode"' in text
    assert f"标本 {created.barcode}（申请单 {created.number}）已于" in text
    assert f"由 {dw.hospital_technician.full_name} 接收" in text and "可能已被他人处理" not in text
    created.refresh_from_db()
    assert created.status == OrderStatus.READING
    reading = client_for(dw.second_doctor).get(f"/diagnostics/reading/{dw.lab.public_id}/")
    assert reading.status_code == 200 and dw.hospital_doctor.full_name in reading.content.decode()
    assert client_for(dw.township_doctor).get(f"/diagnostics/reading/{dw.lab.public_id}/").status_code == 403
    assert client_for(dw.township_doctor).get(url).status_code == 403
    assert client_for(dw.world.stranger).get(url).status_code == 404


def test_actions_from_the_order_page(dw):
    created = received_specimen(dw)
    doctor = client_for(dw.hospital_doctor)
    base = f"/diagnostics/orders/{created.public_id}"
    page = doctor.get(base + "/").content.decode()
    assert 'data-testid="action-claim"' in page
    assert doctor.post(base + "/act/claim/", {"claim-expected_version": created.version}).status_code == 302
    assert f"申请单 {created.number} 已由您领取诊断。" in doctor.get(base + "/").content.decode()
    other = client_for(dw.second_doctor).post(base + "/act/claim/", {})
    assert other.status_code == 409 and dw.hospital_doctor.full_name in other.content.decode()
    empty = doctor.post(base + "/act/sign/", {"sign-findings": "x"})
    assert empty.status_code == 400
    signed = doctor.post(base + "/act/sign/", {"sign-conclusion": "正常", "sign-critical_value": "GLU 1.5"})
    assert signed.status_code == 302
    created.refresh_from_db()
    assert created.status == "final"
    amend = doctor.post(base + "/act/amend/", {"amend-conclusion": "更正"})
    assert amend.status_code == 400 and "error-reason" in amend.content.decode()
    assert (
        client_for(dw.township_doctor)
        .post(base + "/act/amend/", {"amend-conclusion": "x", "amend-reason": "y"})
        .status_code
        == 403
    )
    alerts = client_for(dw.township_doctor).get("/diagnostics/alerts/")
    assert 'data-testid="acknowledge-form"' in alerts.content.decode()
    alert = CriticalValueAlert.objects.get(order=created)
    assert (
        client_for(dw.hospital_doctor).post(f"/diagnostics/alerts/{alert.public_id}/acknowledge/").status_code
        == 403
    )
    empty = client_for(dw.township_doctor).post(
        f"/diagnostics/alerts/{alert.public_id}/acknowledge/", {"note": " "}
    )
    assert empty.status_code == 400 and 'data-testid="error-note"' in empty.content.decode()
    assert "请填写处置记录" in empty.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    ack = client_for(dw.township_doctor).post(
        f"/diagnostics/alerts/{alert.public_id}/acknowledge/", {"note": "已处理"}
    )
    assert ack.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == dw.township_doctor


def test_upload_and_viewer(dw):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    nurse = client_for(dw.township_nurse)
    url = f"/diagnostics/orders/{created.public_id}/upload/"
    bad = nurse.post(url, {"files": [dicom_upload(), corrupt_dicom_upload()]})
    assert bad.status_code == 400 and "broken.dcm" in bad.content.decode()
    assert not created.files.exists()
    ok = nurse.post(
        url,
        {"files": [dicom_upload(), SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("r.pdf", PDF)]},
    )
    assert ok.status_code == 302
    assert f"申请单 {created.number}：已上传 3 个检查文件。" in nurse.get(ok["Location"]).content.decode()
    files = {f.kind: f for f in created.files.all()}
    doctor = client_for(dw.hospital_doctor)
    image = doctor.get(f"/diagnostics/files/{files['image'].public_id}/").content.decode()
    assert 'data-testid="viewer-image"' in image
    assert (
        'data-testid="viewer-pdf"'
        in doctor.get(f"/diagnostics/files/{files['pdf'].public_id}/").content.decode()
    )
    dicom = doctor.get(f"/diagnostics/files/{files['dicom'].public_id}/").content.decode()
    assert 'data-testid="viewer-metadata"' in dicom and "CT Image Storage" in dicom
    raw = doctor.get(f"/diagnostics/files/{files['dicom'].public_id}/raw")
    assert raw.status_code == 200 and "attachment" in raw["Content-Disposition"]
    assert (
        client_for(dw.world.office).get(f"/diagnostics/files/{files['image'].public_id}/").status_code == 404
    )


def test_order_form_with_recognition(dw):
    rule(dw)
    prior = final_result(dw)
    doctor = client_for(dw.township_doctor)
    search = doctor.get("/diagnostics/new/?q=王五")
    assert f"?person={dw.patient.public_id}" in search.content.decode()
    data = {
        "person": str(dw.patient.public_id),
        "institution": dw.world.township.pk,
        "item": str(dw.glucose.public_id),
        "priority": "routine",
        "diagnosis_code": "E11.9",
        "idempotency_key": "form-1",
    }
    shown = doctor.post("/diagnostics/new/", data)
    assert shown.status_code == 400
    body = shown.content.decode()
    assert 'data-testid="recognised-result"' in body and prior.number in body
    used = doctor.post("/diagnostics/new/", {**data, "use_recognised": "1"})
    assert used.status_code == 302 and RecognitionDecision.objects.filter(outcome="used").count() == 1
    # The page opens the prior order whose result is used, naming it.
    assert used["Location"] == f"/diagnostics/orders/{prior.public_id}/"
    assert f"申请单 {prior.number}" in doctor.get(used["Location"]).content.decode()
    repeated = doctor.post("/diagnostics/new/", {**data, "repeat_reason": "病情变化"})
    assert repeated.status_code == 302
    assert DiagnosticOrder.objects.filter(repeat_reason="病情变化").count() == 1
    bad = doctor.post(
        "/diagnostics/new/",
        {**data, "diagnosis_code": "I10.5", "idempotency_key": "form-2", "repeat_reason": "x"},
    )
    assert bad.status_code == 400 and "error-diagnosis_code" in bad.content.decode()


def test_label_pdf_page(dw):
    created = order(dw)
    response = client_for(dw.township_nurse).get(f"/diagnostics/orders/{created.public_id}/label.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_management_page_creates_and_toggles(dw):
    office = client_for(dw.world.office)
    response = office.post(
        "/diagnostics/manage/",
        {
            "form": "centre",
            "centre-consortium": str(dw.world.consortium.public_id),
            "centre-kind": "ecg",
            "centre-name": "县域心电中心",
            "centre-hub_institution": dw.world.hospital.pk,
            "centre-department": dw.department.pk,
            "centre-served_institutions": [dw.world.township.pk],
            "centre-critical_ack_minutes": 20,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "诊断中心“县域心电中心”已创建。" in office.get("/diagnostics/manage/").content.decode()
    centre = SharedCentre.objects.get(name="县域心电中心")
    assert list(centre.served_institutions.all()) == [dw.world.township]
    assert centre.department == dw.department
    item = office.post(
        "/diagnostics/manage/",
        {
            "form": "item",
            "item-centre": str(centre.public_id),
            "item-code": "ECG",
            "item-name": "心电图",
            "item-price": "25",
            "item-turnaround_hours": 2,
        },
    )
    assert item.status_code == 302
    assert "项目 ECG 心电图 已添加到“县域心电中心”。" in office.get("/diagnostics/manage/").content.decode()
    duplicate = office.post(
        "/diagnostics/manage/",
        {
            "form": "rule",
            "rule-consortium": str(dw.world.consortium.public_id),
            "rule-item_code": "ECG",
            "rule-name": "心电图",
            "rule-validity_days": 0,
            "rule-scope": "region",
        },
    )
    assert duplicate.status_code == 400
    assert office.post(f"/diagnostics/manage/centre/{centre.public_id}/toggle/").status_code == 302
    centre.refresh_from_db()
    assert not centre.is_active
    assert "诊断中心“县域心电中心”已停用。" in office.get("/diagnostics/manage/").content.decode()
    assert (
        client_for(dw.hospital_doctor)
        .post(f"/diagnostics/manage/centre/{centre.public_id}/toggle/")
        .status_code
        == 403
    )
    page = office.get("/diagnostics/manage/").content.decode()
    assert "县域心电中心" in page


def test_dashboard_page_shows_money_saved(dw):
    rule(dw)
    final_result(dw)
    services.recognition_use(
        actor=dw.township_doctor, person=dw.patient, institution=dw.world.township, item=dw.glucose
    )
    page = client_for(dw.world.office).get("/diagnostics/dashboard/").content.decode()
    assert 'data-testid="money-saved">8.00<' in page


def test_dashboard_names_a_bad_period_instead_of_showing_no_data(dw):
    final_result(dw)
    office = client_for(dw.world.office)
    reversed_period = office.get("/diagnostics/dashboard/?since=2026-12-01&until=2025-01-01")
    text = reversed_period.content.decode()
    assert reversed_period.status_code == 400 and 'data-testid="error-until"' in text
    assert "结束日期不能早于开始日期" in text
    assert 'value="2025-01-01"' in text  # what was typed stays in the field
    assert dw.lab.name in text  # the figures of the whole period, not "暂无数据"
    not_a_date = office.get("/diagnostics/dashboard/?since=2026-13-45")
    assert not_a_date.status_code == 400 and 'data-testid="error-since"' in not_a_date.content.decode()
    assert office.get("/diagnostics/dashboard/?since=2025-01-01").status_code == 200


def test_menu_entries(dw):
    page = client_for(dw.township_doctor).get("/diagnostics/").content.decode()
    assert "共享诊断" in page and "/diagnostics/new/" in page


@pytest.mark.parametrize("page", ["reading", "orders", "alerts"])
def test_page_query_counts_do_not_grow(dw, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = {
        "reading": f"/diagnostics/reading/{dw.lab.public_id}/",
        "orders": "/diagnostics/?box=centre",
        "alerts": "/diagnostics/alerts/",
    }[page]
    client = client_for(dw.hospital_doctor)
    counts = []
    for _round in range(2):
        for _index in range(3):
            received = received_specimen(dw)
            services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
            services.order_act(
                actor=dw.hospital_doctor, order=received, action="save_preliminary", conclusion="x"
            )
            services.critical_value_raise(actor=dw.hospital_doctor, order=received, description="K 7")
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        counts.append(len(context))
    assert counts[0] == counts[1], counts


def test_critical_value_form_and_person_filter(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    doctor = client_for(dw.hospital_doctor)
    page = doctor.get(f"/diagnostics/orders/{received.public_id}/").content.decode()
    assert 'data-testid="critical-form"' in page
    assert (
        'data-testid="critical-form"'
        not in client_for(dw.township_doctor)
        .get(f"/diagnostics/orders/{received.public_id}/")
        .content.decode()
    )
    empty = doctor.post(f"/diagnostics/orders/{received.public_id}/critical-value/", {"description": ""})
    assert empty.status_code == 400
    done = doctor.post(f"/diagnostics/orders/{received.public_id}/critical-value/", {"description": "K 7"})
    assert done.status_code == 302 and CriticalValueAlert.objects.filter(order=received).count() == 1
    assert f"申请单 {received.number} 已报告危急值" in doctor.get(done["Location"]).content.decode()
    listed = (
        client_for(dw.township_doctor).get(f"/diagnostics/?person={dw.patient.public_id}").content.decode()
    )
    assert 'data-testid="order-person">王五<' in listed and received.number in listed


def test_raw_file_may_be_framed_by_the_site_only(dw):
    """The viewer frames the PDF: its raw view answers SAMEORIGIN (inline, stored type, not cached, not
    sniffed); every other page of the app keeps DENY."""
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    nurse = client_for(dw.township_nurse)
    nurse.post(
        f"/diagnostics/orders/{created.public_id}/upload/", {"files": [SimpleUploadedFile("r.pdf", PDF)]}
    )
    pdf = created.files.get(kind="pdf")
    doctor = client_for(dw.hospital_doctor)
    raw = doctor.get(f"/diagnostics/files/{pdf.public_id}/raw")
    assert raw.status_code == 200
    assert raw["X-Frame-Options"] == "SAMEORIGIN"
    assert raw["Content-Type"] == pdf.content_type == "application/pdf"
    assert raw["Content-Disposition"].startswith("inline")
    assert raw["Cache-Control"] == "no-store"
    assert raw["X-Content-Type-Options"] == "nosniff"
    for url in (
        f"/diagnostics/files/{pdf.public_id}/",
        f"/diagnostics/orders/{created.public_id}/",
        "/diagnostics/",
        "/diagnostics/centres/",
    ):
        assert doctor.get(url)["X-Frame-Options"] == "DENY", url


def test_centre_navigation_only_for_staff_of_a_hosting_institution(dw):
    """Township staff (no centre at their institution) see neither the desk in the menu nor the centre tab;
    the hospital's radiologist sees both. The pages still answer as before."""
    township = client_for(dw.township_doctor).get("/diagnostics/").content.decode()
    assert "/diagnostics/centres/" not in township and 'data-testid="tab-centre"' not in township
    assert "诊断工作台" not in township
    hospital = client_for(dw.hospital_doctor).get("/diagnostics/").content.decode()
    assert "/diagnostics/centres/" in hospital and 'data-testid="tab-centre"' in hospital
    assert "诊断工作台" in hospital
    SharedCentre.objects.update(is_active=False)
    inactive = client_for(dw.hospital_doctor).get("/diagnostics/").content.decode()
    assert "/diagnostics/centres/" not in inactive and 'data-testid="tab-centre"' not in inactive
    assert client_for(dw.world.office).get("/diagnostics/centres/").status_code == 403
    assert client_for(dw.township_doctor).get(f"/diagnostics/reading/{dw.lab.public_id}/").status_code in (
        403,
        404,
    )


def test_management_page_folds_served_institutions_with_constant_queries(dw):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yilian.institutions.tests.factories import InstitutionFactory

    office = client_for(dw.world.office)
    counts = []
    for size in (2, 12):
        for index in range(size):
            dw.lab.served_institutions.add(InstitutionFactory(name=f"卫生院{size:02d}-{index:02d}"))
        with CaptureQueriesContext(connection) as context:
            response = office.get("/diagnostics/manage/")
        assert response.status_code == 200
        counts.append(len(context))
    assert counts[0] == counts[1], counts
    page = response.content.decode()
    total = dw.lab.served_institutions.count()
    assert f"共 {total} 家" in page
    assert 'data-testid="centre-served-all"' in page and "<details" in page
    names = sorted(dw.lab.served_institutions.values_list("name", flat=True))
    assert all(name in page for name in names)


def test_critical_value_form_is_a_labelled_textarea(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    doctor = client_for(dw.hospital_doctor)
    page = doctor.get(f"/diagnostics/orders/{received.public_id}/").content.decode()
    assert '<label for="id_description">危急值内容</label>' in page
    assert '<textarea name="description"' in page
    empty = doctor.post(f"/diagnostics/orders/{received.public_id}/critical-value/", {"description": " "})
    assert empty.status_code == 400
    assert 'data-testid="error-description"' in empty.content.decode()
    assert not CriticalValueAlert.objects.filter(order=received).exists()


def test_order_page_sends_the_centre_to_the_barcode_desk_instead_of_a_receive_form(dw):
    """The order page must not offer a receive form whose action view refuses it (404)."""
    created = order(dw)
    services.order_act(actor=dw.township_nurse, order=created, action="collect")
    services.order_act(actor=dw.township_nurse, order=created, action="dispatch")
    page = client_for(dw.hospital_technician).get(f"/diagnostics/orders/{created.public_id}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f"/diagnostics/orders/{created.public_id}/act/receive/" not in body
    assert 'data-testid="receive-at-desk"' in body
    assert f'href="/diagnostics/receive/{dw.lab.public_id}/"' in body
    assert 'data-testid="action-reject"' in body


def test_order_page_in_english_has_no_chinese_brackets_around_its_own_words(dw):
    """The reading doctor's claim time and the history's institutions were set in full-width
    brackets, and the claim was not translated."""
    created = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=created, action="claim")
    page = client_for(dw.hospital_doctor).get(
        f"/diagnostics/orders/{created.public_id}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    text = page.content.decode()
    assert page.status_code == 200
    holder = text.split('data-testid="order-holder">', 1)[1].split("</dd>", 1)[0]
    assert "claimed" in holder and "（" not in holder and "领取" not in holder
    assert f"（{created.ordering_institution.name}）" not in text


def test_specimen_reception_only_for_centres_that_receive_specimens(dw):
    desk = client_for(dw.hospital_technician)
    page = desk.get("/diagnostics/centres/").content.decode()
    rows = page.split('data-testid="centre-row"')[1:]
    by_name = {row.split("<td>")[1].split("</td>")[0]: row for row in rows}
    assert 'data-testid="receive-link"' in by_name[dw.lab.name]
    assert 'data-testid="receive-link"' in by_name[dw.pathology.name]
    assert 'data-testid="receive-link"' not in by_name[dw.imaging.name]
    reading = desk.get(f"/diagnostics/reading/{dw.imaging.public_id}/").content.decode()
    assert 'data-testid="receive-link"' not in reading
    assert desk.get(f"/diagnostics/receive/{dw.imaging.public_id}/").status_code == 404
    assert desk.get(f"/diagnostics/receive/{dw.lab.public_id}/").status_code == 200


def test_a_stale_report_page_answers_409_and_keeps_what_was_typed(dw):
    created = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=created, action="claim")
    created.refresh_from_db()
    stale_version = created.version
    base = f"/diagnostics/orders/{created.public_id}"
    doctor = client_for(dw.hospital_doctor)
    # the first tab saves a preliminary report
    first = doctor.post(
        base + "/act/save_preliminary/",
        {"save_preliminary-expected_version": stale_version, "save_preliminary-conclusion": "第一页的意见"},
    )
    assert first.status_code == 302
    # the second tab, opened before, signs with its own text: refused, and the text is still in the form
    second = doctor.post(
        base + "/act/sign/",
        {
            "sign-expected_version": stale_version,
            "sign-findings": "第二页输入的所见",
            "sign-conclusion": "第二页输入的意见",
        },
    )
    text = second.content.decode()
    assert second.status_code == 409 and 'data-testid="action-error"' in text
    assert 'data-testid="input-kept"' in text
    assert "第二页输入的所见" in text and "第二页输入的意见" in text
    created.refresh_from_db()
    assert created.status == OrderStatus.PRELIMINARY
    assert f'name="sign-expected_version" value="{created.version}"' in text
    # resubmitted from the kept form (current version), it signs
    again = doctor.post(
        base + "/act/sign/",
        {"sign-expected_version": created.version, "sign-conclusion": "第二页输入的意见"},
    )
    assert again.status_code == 302


def test_a_conflict_on_an_action_no_longer_offered_shows_the_unsaved_text(dw):
    created = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=created, action="claim")
    created.refresh_from_db()
    stale_version = created.version
    services.order_act(
        actor=dw.hospital_doctor, order=created, action="sign", conclusion="已签发", expected_version=None
    )
    response = client_for(dw.hospital_doctor).post(
        f"/diagnostics/orders/{created.public_id}/act/save_preliminary/",
        {"save_preliminary-expected_version": stale_version, "save_preliminary-conclusion": "没保存的意见"},
    )
    text = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="unsaved-input"' in text and "没保存的意见" in text


def test_over_long_clinical_information_is_refused_under_the_field_not_cut(dw):
    doctor = client_for(dw.township_doctor)
    data = {
        "person": str(dw.patient.public_id),
        "institution": dw.world.township.pk,
        "item": str(dw.glucose.public_id),
        "priority": "routine",
        "diagnosis_code": "E11.9",
        "clinical_info": "口干多饮" * 1001,  # 4004 characters
        "idempotency_key": "long-info",
    }
    response = doctor.post("/diagnostics/new/", data)
    text = response.content.decode()
    assert response.status_code == 400 and 'data-testid="error-clinical_info"' in text
    assert not DiagnosticOrder.objects.filter(idempotency_key="long-info").exists()
    # the service refuses it too (the API and imports call it directly)
    with pytest.raises(Invalid) as error:
        services.order_create(
            actor=dw.township_doctor,
            person=dw.patient,
            institution=dw.world.township,
            item=dw.glucose,
            diagnosis_code="E11.9",
            clinical_info="口干多饮" * 1001,
        )
    assert "clinical_info" in error.value.as_text()
