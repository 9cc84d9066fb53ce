"""End to end in Chromium: the shared diagnostic centres of the county.

- The lab loop: a township doctor orders 空腹血糖, collects and dispatches the specimen (with its barcode
  label); the hospital's lab staff receive it by typing the barcode; a centre doctor claims it from the
  reading list and signs the report with a critical value; the township doctor acknowledges the alert.
- The imaging loop: a township doctor orders 头颅CT and uploads the DICOM study; a centre doctor claims,
  saves a preliminary report and signs it asking for a second reader; a second doctor co-signs; the report
  is then amended, the page showing version 2 and keeping version 1.
- Two centre doctors on the same order: the second one's claim is refused (409) and the page shows who
  holds it, and the 409 message itself names the holder.
- Bad input: an unknown barcode, and a ``.dcm`` file whose content is not DICOM (nothing is saved).
- Recognition: a recent recognised result of the patient is shown on the order form; the doctor must give
  a reason to repeat, or uses it (a "used" decision with the money saved).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.diagnostics.choices import OrderStatus, RecognitionOutcome, ReportStatus
from yilian.diagnostics.models import (
    CriticalValueAlert,
    DiagnosticOrder,
    DiagnosticReport,
    OrderEvent,
    RecognitionDecision,
    StudyFile,
)
from yilian.diagnostics.tests.factories import (
    DiagWorld,
    diag_world,
    dicom_bytes,
    final_result,
    order,
    received_specimen,
    rule,
)

pytestmark = pytest.mark.django_db(transaction=True)

CRITICAL = "空腹血糖 1.8 mmol/L，严重低血糖"


@pytest.fixture
def dw(world: Any, settings: Any, tmp_path: Path) -> DiagWorld:
    """The diagnostics world, with uploads stored under the test's own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return diag_world(world)


def _status(page: Any) -> str:
    return page.get_attribute("h1 [data-testid=order-status]", "data-status")


def _offered(page: Any) -> list[str]:
    """The action forms the order page offers, in order."""
    return page.locator("form[data-testid^=action-]").evaluate_all(
        "forms => forms.map(f => f.dataset.testid)"
    )


def _act(page: Any, action: str, **fields: str | bool) -> None:
    """Fill an action form of the order page and send it; wait for the page to come back.

    True / False tick or clear a checkbox, a string is typed into the field.
    """
    form = page.locator(f"[data-testid=action-{action}]")
    for name, value in fields.items():
        field = form.locator(f"[name={action}-{name}]")
        if isinstance(value, bool):
            field.set_checked(value)
        else:
            field.fill(value)
    form.locator(f"[data-testid=action-{action}-submit]").click()
    page.wait_for_load_state("networkidle")
    # The message names what happened to which 申请单.
    assert re.search(r"申请单 \S+", page.inner_text(".messages")), page.inner_text("main")


def _timeline(page: Any) -> str:
    return page.inner_text("[data-testid=timeline]")


def _events(order_obj: DiagnosticOrder) -> list[str]:
    return list(OrderEvent.objects.filter(order=order_obj).values_list("action", flat=True))


def _pdf(page: Any, selector: str) -> bytes:
    """Follow a PDF link of the page in the same session; it must answer a PDF."""
    href = page.get_attribute(selector, "href")
    response = page.context.request.get(f"{page.base_url}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    return body


def _new_order(page: Any, dw: DiagWorld, item_label: str, diagnosis_code: str, diagnosis_name: str) -> None:
    """On the new-order form: find the patient by name, choose them, the item and the diagnosis."""
    page.goto(f"{page.base_url}/diagnostics/")
    page.click("[data-testid=order-new]")
    page.wait_for_url(re.compile(r"/diagnostics/new/$"))
    page.fill("[data-testid=patient-search]", "王五")
    page.locator("[data-testid=patient-picker] button[type=submit]").click()
    page.locator("[data-testid=patient-candidates] a", has_text="王五").click()
    page.wait_for_url(re.compile(rf"/diagnostics/new/\?person={dw.patient.public_id}$"))
    assert "王五" in page.inner_text("[data-testid=chosen-patient]")
    # The doctor works at one institution: it is chosen already.
    assert page.input_value("#id_institution") == str(dw.world.township.pk)
    page.select_option("#id_item", label=item_label)
    page.fill("#id_diagnosis_code", diagnosis_code)
    page.fill("#id_diagnosis_name", diagnosis_name)


def _open_from_reading_list(page: Any, centre_name: str, number: str) -> Any:
    """The doctor's desk → the centre's reading list → the order's row (exactly one)."""
    page.goto(f"{page.base_url}/diagnostics/centres/")
    page.locator("[data-testid=centre-row]", has_text=centre_name).locator(
        "[data-testid=reading-link]"
    ).click()
    page.wait_for_url(re.compile(r"/diagnostics/reading/[0-9a-f-]{36}/$"))
    row = page.locator("[data-testid=reading-row]", has_text=number)
    expect(row).to_have_count(1)
    return row


def test_lab_order_from_township_to_centre_with_critical_value(browser, live_server, dw):
    # The township doctor orders the glucose test.
    township = logged_in_tab(browser, live_server, "township_doctor")
    _new_order(township, dw, "县域检验中心 · GLU 空腹血糖（8.00 元）", "E11.9", "2型糖尿病")
    township.fill("#id_clinical_info", "口干多饮一月，晨起乏力")
    township.click("[data-testid=order-submit]")
    township.wait_for_url(re.compile(r"/diagnostics/orders/[0-9a-f-]{36}/$"))
    lab_order = DiagnosticOrder.objects.get()
    assert f"已开单：{lab_order.number}" in township.inner_text(".messages")
    assert township.inner_text("[data-testid=order-number]") == lab_order.number
    assert _status(township) == OrderStatus.ORDERED
    assert township.inner_text("[data-testid=patient-name]") == "王五"
    barcode = township.inner_text("[data-testid=order-barcode]")
    assert barcode and barcode == lab_order.barcode
    assert _offered(township) == ["action-collect", "action-cancel"]

    # The specimen is collected and labelled (the label answers a PDF), then sent to the centre.
    _act(township, "collect")
    assert _status(township) == OrderStatus.COLLECTED
    _pdf(township, "[data-testid=order-label]")
    _act(township, "dispatch")
    assert _status(township) == OrderStatus.IN_TRANSIT
    assert township.inner_text("h1 [data-testid=order-status]") == "运送中"
    assert _offered(township) == []

    # The hospital's lab staff scan (type) the barcode on the receive page.
    desk = logged_in_tab(browser, live_server, "hospital_tech")
    desk.goto(f"{live_server.url}/diagnostics/centres/")
    desk.locator("[data-testid=centre-row]", has_text="县域检验中心").locator(
        "[data-testid=receive-link]"
    ).click()
    desk.wait_for_url(re.compile(rf"/diagnostics/receive/{dw.lab.public_id}/$"))
    desk.fill("#id_barcode", barcode)
    desk.click("[data-testid=receive-submit]")
    desk.wait_for_load_state("networkidle")
    assert f"已接收：{lab_order.number}（空腹血糖）" in desk.inner_text(".messages")
    assert lab_order.number in desk.inner_text("[data-testid=received]")
    # The field is emptied for the next specimen.
    assert desk.input_value("#id_barcode") == ""
    lab_order.refresh_from_db()
    assert lab_order.status == OrderStatus.RECEIVED and lab_order.received_at is not None

    # A centre doctor claims it from the reading list and signs the report with a critical value.
    doctor = logged_in_tab(browser, live_server, "hospital_doctor")
    row = _open_from_reading_list(doctor, "县域检验中心", lab_order.number)
    assert "待诊断" in row.inner_text() and "王五" in row.inner_text()
    assert row.locator("[data-testid=reading-holder]").inner_text() == "—"
    row.locator("a", has_text=lab_order.number).click()
    doctor.wait_for_url(re.compile(rf"/diagnostics/orders/{lab_order.public_id}/$"))
    assert _offered(doctor) == ["action-reject", "action-claim"]
    _act(doctor, "claim")
    assert _status(doctor) == OrderStatus.READING
    assert dw.hospital_doctor.full_name in doctor.inner_text("[data-testid=order-holder]")
    assert _offered(doctor) == ["action-release", "action-save_preliminary", "action-sign"]
    expect(doctor.locator("[data-testid=critical-form]")).to_be_visible()
    _act(
        doctor,
        "sign",
        findings="空腹血糖 1.8 mmol/L（参考 3.9–6.1）",
        conclusion="空腹血糖显著降低",
        is_abnormal=True,
        critical_value=CRITICAL,
    )
    assert _status(doctor) == OrderStatus.FINAL
    assert doctor.inner_text("h1 [data-testid=order-status]") == "已发布"
    report = doctor.locator("[data-testid=report-v1]")
    assert "正式报告" in report.inner_text() and "异常" in report.inner_text()
    assert "空腹血糖显著降低" in report.inner_text()
    assert CRITICAL in doctor.inner_text("[data-testid=alert-list]")
    assert "待确认" in doctor.inner_text("[data-testid=alert-list]")
    # Back on the reading list, the final order has left it.
    doctor.goto(f"{live_server.url}/diagnostics/reading/{dw.lab.public_id}/")
    expect(doctor.locator("[data-testid=reading-empty]")).to_be_visible()

    # The township doctor is notified, sees the critical value and acknowledges it.
    township.goto(f"{live_server.url}/diagnostics/alerts/")
    assert int(township.inner_text("[data-testid=notification-count]")) >= 1
    alert_row = township.locator("[data-testid=alert-row]", has_text=lab_order.number)
    expect(alert_row).to_have_count(1)
    assert CRITICAL in alert_row.inner_text() and "王五" in alert_row.inner_text()
    alert_row.locator("input[name=note]").fill("已电话通知患者立即返院，静推葡萄糖")
    alert_row.locator("[data-testid=acknowledge-submit]").click()
    township.wait_for_load_state("networkidle")
    assert "的危急值已确认" in township.inner_text(".messages")
    alert_row = township.locator("[data-testid=alert-row]", has_text=lab_order.number)
    expect(alert_row.locator("[data-testid=acknowledge-form]")).to_have_count(0)
    assert dw.township_doctor.full_name in alert_row.inner_text()
    assert "已电话通知患者立即返院" in alert_row.inner_text()

    # The order page shows the report (printable as PDF), the acknowledged alert and the whole timeline.
    township.goto(f"{live_server.url}/diagnostics/orders/{lab_order.public_id}/")
    assert _status(township) == OrderStatus.FINAL
    assert "已确认" in township.inner_text("[data-testid=alert-list]")
    _pdf(township, "[data-testid=order-report-pdf]")
    timeline = _timeline(township)
    for label in ("新开检查检验申请", "采集标本", "送出标本", "接收标本", "领取诊断", "签发报告"):
        assert label in timeline, label
    assert "报告危急值" in timeline and "确认危急值" in timeline
    assert f"条码 {barcode}" in timeline and CRITICAL in timeline

    # The record, as the pages left it.
    lab_order.refresh_from_db()
    assert lab_order.status == OrderStatus.FINAL and lab_order.is_abnormal
    assert lab_order.claimed_by == dw.hospital_doctor and lab_order.final_at is not None
    assert _events(lab_order) == [
        "create",
        "collect",
        "dispatch",
        "receive",
        "claim",
        "sign",
        "critical_value",
        "critical_ack",
    ]
    final = DiagnosticReport.objects.get(order=lab_order)
    assert final.status == ReportStatus.FINAL and final.author == dw.hospital_doctor
    alert = CriticalValueAlert.objects.get(order=lab_order)
    assert alert.description == CRITICAL and alert.recipient == dw.township_doctor
    assert alert.acknowledged_by == dw.township_doctor and alert.acknowledged_at is not None
    for tab in (township, desk, doctor):
        tab.context.close()


def test_imaging_study_upload_second_reader_and_amendment(browser, live_server, dw, tmp_path):
    study = tmp_path / "head-ct.dcm"
    study.write_bytes(dicom_bytes(modality="CT", description="头颅平扫"))

    # The township doctor orders the head CT and uploads the study.
    township = logged_in_tab(browser, live_server, "township_doctor")
    _new_order(township, dw, "县域医学影像中心 · CT-HEAD 头颅CT平扫（180.00 元）", "S06.0", "脑震荡")
    township.select_option("#id_priority", label="加急")
    township.click("[data-testid=order-submit]")
    township.wait_for_url(re.compile(r"/diagnostics/orders/[0-9a-f-]{36}/$"))
    ct_order = DiagnosticOrder.objects.get()
    assert _status(township) == OrderStatus.ORDERED
    # A study is uploaded, not collected: no barcode, no specimen actions.
    expect(township.locator("[data-testid=order-barcode]")).to_have_count(0)
    assert _offered(township) == ["action-cancel"]
    township.set_input_files("[data-testid=upload-files]", str(study))
    township.click("[data-testid=upload-submit]")
    township.wait_for_load_state("networkidle")
    assert "个检查文件" in township.inner_text(".messages")
    assert _status(township) == OrderStatus.RECEIVED
    files = township.locator("[data-testid=file-list]")
    assert "head-ct.dcm" in files.inner_text() and "CT" in files.inner_text()

    # The file viewer shows the DICOM header.
    township.click("[data-testid=file-link]")
    township.wait_for_url(re.compile(r"/diagnostics/files/[0-9a-f-]{36}/$"))
    metadata = township.inner_text("[data-testid=viewer-metadata]")
    for value in ("CT", "20261120", "HEAD", "头颅平扫", "CT Image Storage"):
        assert value in metadata, value
    download = township.context.request.get(
        f"{live_server.url}{township.get_attribute('[data-testid=file-download]', 'href')}"
    )
    assert download.status == 200 and "attachment" in download.headers["content-disposition"]
    assert download.body() == study.read_bytes()

    # A centre doctor claims it (urgent: first on the list), saves a preliminary report, then signs it
    # asking for a second reader.
    doctor = logged_in_tab(browser, live_server, "hospital_doctor")
    row = _open_from_reading_list(doctor, "县域医学影像中心", ct_order.number)
    assert "加急" in row.inner_text() and "待诊断" in row.inner_text()
    row.locator("a", has_text=ct_order.number).click()
    doctor.wait_for_url(re.compile(rf"/diagnostics/orders/{ct_order.public_id}/$"))
    _act(doctor, "claim")
    _act(doctor, "save_preliminary", findings="左侧颞骨线样低密度影", conclusion="左侧颞骨骨折？")
    assert _status(doctor) == OrderStatus.PRELIMINARY
    assert "初步报告" in doctor.inner_text("[data-testid=report-v1]")
    # The editor keeps what was written.
    assert doctor.input_value("[name=sign-findings]") == "左侧颞骨线样低密度影"
    _act(doctor, "sign", conclusion="左侧颞骨线形骨折，颅内未见出血", request_second_reader=True)
    assert _status(doctor) == OrderStatus.AWAITING_SECOND
    # The first signer may not co-sign.
    assert _offered(doctor) == []

    # The second doctor co-signs.
    second = logged_in_tab(browser, live_server, "second_doctor")
    second.goto(f"{live_server.url}/diagnostics/orders/{ct_order.public_id}/")
    assert _offered(second) == ["action-second_sign"]
    _act(second, "second_sign")
    assert _status(second) == OrderStatus.FINAL
    first_version = second.inner_text("[data-testid=report-v1]")
    assert "正式报告" in first_version and dw.second_doctor.full_name in first_version

    # The report is amended with a reason: version 2 is the report, version 1 is kept as superseded.
    doctor.goto(f"{live_server.url}/diagnostics/orders/{ct_order.public_id}/")
    assert _offered(doctor) == ["action-amend"]
    assert doctor.input_value("[name=amend-conclusion]") == "左侧颞骨线形骨折，颅内未见出血"
    _act(
        doctor,
        "amend",
        conclusion="左侧颞骨线形骨折，左颞叶少量硬膜外血肿",
        is_abnormal=True,
        reason="复阅发现硬膜外血肿",
    )
    assert _status(doctor) == OrderStatus.FINAL
    v2 = doctor.inner_text("[data-testid=report-v2]")
    assert "第 2 版" in v2 and "正式报告" in v2 and "硬膜外血肿" in v2
    assert "修订原因：复阅发现硬膜外血肿" in v2
    v1 = doctor.inner_text("[data-testid=report-v1]")
    assert "第 1 版" in v1 and "已被修订" in v1 and "颅内未见出血" in v1
    assert "修订为第 2 版：复阅发现硬膜外血肿" in _timeline(doctor)

    # The township doctor reads the amended report.
    township.goto(f"{live_server.url}/diagnostics/orders/{ct_order.public_id}/")
    assert "硬膜外血肿" in township.inner_text("[data-testid=report-v2]")
    _pdf(township, "[data-testid=order-report-pdf]")

    ct_order.refresh_from_db()
    assert ct_order.status == OrderStatus.FINAL and ct_order.needs_second_reader and ct_order.is_abnormal
    assert _events(ct_order) == [
        "create",
        "upload",
        "claim",
        "save_preliminary",
        "sign",
        "second_sign",
        "amend",
    ]
    reports = list(DiagnosticReport.objects.filter(order=ct_order).order_by("version"))
    assert [(r.version, r.status) for r in reports] == [
        (1, ReportStatus.SUPERSEDED),
        (2, ReportStatus.FINAL),
    ]
    assert reports[0].second_reader == dw.second_doctor and reports[0].conclusion.endswith("颅内未见出血")
    assert reports[1].amendment_reason == "复阅发现硬膜外血肿"
    stored = StudyFile.objects.get(order=ct_order)
    assert stored.kind == "dicom" and stored.metadata["modality"] == "CT"
    for tab in (township, doctor, second):
        tab.context.close()


def _stale_claim(browser: Any, live_server: Any, dw: DiagWorld) -> tuple[Any, Any, DiagnosticOrder, Any]:
    """Both centre doctors open the received order in their tabs; the first claims it, then the second
    (on the page they opened before) claims it too. Returns both tabs, the order and the second answer."""
    lab_order = received_specimen(dw)
    first = logged_in_tab(browser, live_server, "hospital_doctor")
    second = logged_in_tab(browser, live_server, "second_doctor")
    for tab in (first, second):
        tab.goto(f"{live_server.url}/diagnostics/orders/{lab_order.public_id}/")
        assert _offered(tab) == ["action-reject", "action-claim"]
    _act(first, "claim")
    with second.expect_response(lambda r: "/act/claim/" in r.url and r.request.method == "POST") as answer:
        second.click("[data-testid=action-claim-submit]")
    second.wait_for_load_state("networkidle")
    return first, second, lab_order, answer.value


def test_second_doctor_cannot_claim_a_claimed_order(browser, live_server, dw):
    first, second, lab_order, answer = _stale_claim(browser, live_server, dw)
    claimed = DiagnosticOrder.objects.get(pk=lab_order.pk)
    events_after_first_claim = ["create", "collect", "dispatch", "receive", "claim"]

    # The second doctor's claim is refused (409) with a message, and the page shows who holds the order.
    assert answer.status == 409
    expect(second.locator("[data-testid=action-error]")).to_be_visible()
    assert second.inner_text("[data-testid=action-error]") != ""
    assert second.locator(".messages").count() == 0
    assert _status(second) == OrderStatus.READING
    holder = second.inner_text("[data-testid=order-holder]")
    assert dw.hospital_doctor.full_name in holder and "领取" in holder
    # Nothing is offered to the other doctor any more (the holder alone may write the report).
    assert _offered(second) == []
    expect(second.locator("[data-testid=critical-form]")).to_be_visible()

    # Nothing changed: still held by the first doctor, same version, no new step.
    lab_order.refresh_from_db()
    assert lab_order.claimed_by == dw.hospital_doctor and lab_order.claimed_by_id == claimed.claimed_by_id
    assert lab_order.version == claimed.version and lab_order.status == OrderStatus.READING
    assert _events(lab_order) == events_after_first_claim
    # The first doctor still works on it.
    first.reload()
    assert _offered(first) == ["action-release", "action-save_preliminary", "action-sign"]
    for tab in (first, second):
        tab.context.close()


def test_claim_conflict_message_names_the_holder(browser, live_server, dw):
    first, second, _lab_order, answer = _stale_claim(browser, live_server, dw)
    assert answer.status == 409
    message = second.inner_text("[data-testid=action-error]")
    for tab in (first, second):
        tab.context.close()
    assert message == f"该检查已由 {dw.hospital_doctor.full_name} 领取诊断。"


def test_unknown_barcode_and_broken_dicom_are_refused(browser, live_server, dw, tmp_path):
    lab_order = order(dw)
    # An unknown barcode: a clear error on the field, nothing received.
    desk = logged_in_tab(browser, live_server, "hospital_tech")
    desk.goto(f"{live_server.url}/diagnostics/receive/{dw.lab.public_id}/")
    desk.fill("#id_barcode", "99999999")
    with desk.expect_response(
        lambda r: "/diagnostics/receive/" in r.url and r.request.method == "POST"
    ) as answer:
        desk.click("[data-testid=receive-submit]")
    desk.wait_for_load_state("networkidle")
    assert answer.value.status == 400
    assert desk.inner_text("[data-testid=error-barcode]") == "条码 99999999 不存在或不属于本中心。"
    expect(desk.locator("[data-testid=received]")).to_have_count(0)
    lab_order.refresh_from_db()
    assert lab_order.status == OrderStatus.ORDERED and lab_order.received_at is None

    # A file named .dcm that is not DICOM, sent with a good one: both refused, nothing saved.
    ct_order = order(dw, dw.ct, diagnosis_code="S06.0")
    good = tmp_path / "good.dcm"
    good.write_bytes(dicom_bytes())
    garbage = tmp_path / "scan.dcm"
    garbage.write_bytes(b"this is not a DICOM file, just some text\n" * 10)
    township = logged_in_tab(browser, live_server, "township_doctor")
    township.goto(f"{live_server.url}/diagnostics/orders/{ct_order.public_id}/")
    township.set_input_files("[data-testid=upload-files]", [str(good), str(garbage)])
    with township.expect_response(lambda r: r.url.endswith("/upload/")) as answer:
        township.click("[data-testid=upload-submit]")
    township.wait_for_load_state("networkidle")
    assert answer.value.status == 400
    errors = township.inner_text("[data-testid=upload-errors]")
    assert errors == "scan.dcm：不是有效的 DICOM 文件（缺少 DICM 标识）。"
    expect(township.locator("[data-testid=file-list]")).to_have_count(0)
    assert _status(township) == OrderStatus.ORDERED
    ct_order.refresh_from_db()
    assert ct_order.status == OrderStatus.ORDERED and ct_order.received_at is None
    assert not StudyFile.objects.exists()
    assert _events(ct_order) == ["create"]
    media = tmp_path / "media"
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]
    for tab in (desk, township):
        tab.context.close()


def test_recognised_result_is_shown_and_used(browser, live_server, dw):
    rule(dw, days=30)
    prior = final_result(dw)

    township = logged_in_tab(browser, live_server, "township_doctor")
    _new_order(township, dw, "县域检验中心 · GLU 空腹血糖（8.00 元）", "E11.9", "2型糖尿病")
    township.click("[data-testid=order-submit]")
    township.wait_for_load_state("networkidle")
    assert re.search(rf"/diagnostics/new/\?person={dw.patient.public_id}$", township.url)

    # The prior result is shown, and the reason to repeat is asked for.
    recognised = township.locator("[data-testid=recognised-result]")
    expect(recognised).to_be_visible()
    assert prior.number in recognised.inner_text() and "县域检验中心" in recognised.inner_text()
    assert "正常" in recognised.inner_text()
    error = township.inner_text("[data-testid=error-repeat_reason]")
    assert "已有可互认的“空腹血糖”结果" in error and prior.number in error
    # What was typed is kept.
    assert township.input_value("#id_diagnosis_code") == "E11.9"
    assert DiagnosticOrder.objects.count() == 1

    # The doctor uses the prior result: no order, a "used" decision with the money saved.
    township.click("[data-testid=use-recognised]")
    # It opens the prior order whose result now stands.
    township.wait_for_url(re.compile(rf"/diagnostics/orders/{prior.public_id}/$"))
    assert f"已采用既往互认结果（申请单 {prior.number}），未重复开单" in township.inner_text(".messages")
    assert DiagnosticOrder.objects.count() == 1
    decision = RecognitionDecision.objects.get()
    assert decision.outcome == RecognitionOutcome.USED and decision.saved_amount == Decimal("8.00")
    assert decision.prior_order == prior and decision.new_order is None
    assert decision.decided_by == dw.township_doctor and decision.institution == dw.world.township
    township.context.close()
