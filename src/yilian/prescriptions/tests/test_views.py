"""The prescription pages: who reaches what, writing a prescription in the form, voiding, the delivery
buttons, the formulary, stock list import, exports, PDF, the person-page section, and query counts that
do not grow with the rows."""

from __future__ import annotations

import io
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from yilian.prescriptions.models import Delivery, Drug, Prescription, PrescriptionItem, StockItem
from yilian.prescriptions.tests.factories import extend, prescribe, source_rx

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _users(rw) -> dict:
    return rw.users()


PAGES = {
    "list": "/prescriptions/",
    "new": "/prescriptions/new/",
    "deliveries": "/prescriptions/deliveries/",
    "formulary": "/prescriptions/formulary/",
    "drugs": "/prescriptions/drugs/",
    "statistics": "/prescriptions/statistics/",
}

# page → who → status (302 = to the login page)
MATRIX = {
    "anonymous": dict.fromkeys(PAGES, 302),
    "stranger": dict.fromkeys(PAGES, 403),
    "gp": {**dict.fromkeys(PAGES, 200), "statistics": 403},
    "nurse": {**dict.fromkeys(PAGES, 200), "new": 403, "statistics": 403},
    "pharmacist": {**dict.fromkeys(PAGES, 200), "new": 403, "statistics": 403},
    "office": {**dict.fromkeys(PAGES, 200), "new": 403},
    "regulator": {**dict.fromkeys(PAGES, 403), "statistics": 200},
    "admin": {**dict.fromkeys(PAGES, 200), "new": 403},
    "outsider_doctor": {**dict.fromkeys(PAGES, 200), "statistics": 403},
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_page_matrix(rw, who):
    extend(rw)
    client = client_for(_users(rw)[who])
    for page, url in PAGES.items():
        response = client.get(url)
        assert response.status_code == MATRIX[who][page], (who, page, response.status_code)


@pytest.mark.parametrize(
    ("who", "status", "masked"),
    [
        ("gp", 200, False),
        ("nurse", 200, False),
        ("township_admin", 200, False),
        ("pharmacist", 200, False),
        ("office", 200, True),
        ("admin", 200, True),
        ("hospital_doctor", 404, None),
        ("outsider_doctor", 404, None),
        ("regulator", 404, None),
        ("stranger", 404, None),
    ],
)
def test_detail_matrix(rw, who, status, masked):
    rx = extend(rw)
    client = client_for(_users(rw)[who])
    response = client.get(f"/prescriptions/{rx.public_id}/")
    assert response.status_code == status
    if status == 200:
        text = response.content.decode()
        assert ("王老汉" not in text) == masked
        assert ("王*" in text) == masked
        pdf = client.get(f"/prescriptions/{rx.public_id}/prescription.pdf")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")


def test_write_a_long_prescription_in_the_form(rw):
    client = client_for(rw.gp)
    page = client.get(f"/prescriptions/new/?kind=long&person={rw.patient.public_id}")
    text = page.content.decode()
    assert page.status_code == 200
    assert rw.amlodipine.code in text and rw.amoxicillin.code not in text  # only chronic stocked drugs
    # The dose is counted in the drug's dose unit: each option carries it and each row shows it.
    assert f'data-dose-unit="{rw.amlodipine.dose_unit}"' in text
    assert text.count('data-testid="rx-dose-unit" data-dose-unit-of="items-') == 5
    data = {
        "institution": str(rw.world.township.public_id),
        "kind": "long",
        "person": str(rw.patient.public_id),
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "items-TOTAL_FORMS": "5",
        "items-INITIAL_FORMS": "0",
        "items-0-drug": f"{rw.amlodipine.code} 苯磺酸氨氯地平片 5mg",
        "items-0-dose": "1",
        "items-0-frequency": "qd",
        "items-0-route": "oral",
        "items-0-days": "90",
        "save": "1",
    }
    reload = client.post("/prescriptions/new/", {**data, "save": ""})  # choosing the kind or patient
    assert reload.status_code == 200 and not Prescription.objects.exists()
    response = client.post("/prescriptions/new/", data)
    assert response.status_code == 400  # bad input, as the other apps' forms answer
    assert "84" in response.content.decode()  # the days limit, inline
    assert not Prescription.objects.exists()
    data["items-0-days"] = "84"
    response = client.post("/prescriptions/new/", data)
    assert response.status_code == 302
    rx = Prescription.objects.get()
    assert response["Location"] == f"/prescriptions/{rx.public_id}/"
    assert rx.items.get().quantity == 3
    # a second one overlaps: the conflict message comes back on the form page
    response = client.post("/prescriptions/new/", data)
    assert response.status_code == 400 and "有效长处方" in response.content.decode()
    assert Prescription.objects.count() == 1


def test_voiding_from_a_stale_page_answers_409_and_keeps_the_reason(rw):
    rx = prescribe(rw)
    client = client_for(rw.gp)
    stale_version = rx.version
    Prescription.objects.filter(pk=rx.pk).update(version=stale_version + 1)  # saved in another tab
    response = client.post(
        f"/prescriptions/{rx.public_id}/void/", {"reason": "患者过敏，停用", "version": stale_version}
    )
    text = response.content.decode()
    assert response.status_code == 409 and 'data-testid="rx-void-error"' in text
    assert 'value="患者过敏，停用"' in text and f'name="version" value="{stale_version + 1}"' in text
    assert Prescription.objects.get().status == "active"


def test_statistics_name_a_reversed_period(rw):
    office = client_for(rw.world.office)
    consortium = rw.world.consortium.public_id
    response = office.get(
        f"/prescriptions/statistics/?consortium={consortium}&first=2026-12-01&last=2025-01-01"
    )
    text = response.content.decode()
    assert 'data-testid="error-last"' in text and "结束日期不能早于开始日期" in text


def test_a_double_submitted_form_writes_one_prescription(rw):
    client = client_for(rw.gp)
    page = client.get(f"/prescriptions/new/?person={rw.patient.public_id}").content.decode()
    assert 'name="idempotency_key"' in page
    data = {
        "idempotency_key": "form-once-1",
        "institution": str(rw.world.township.public_id),
        "kind": "regular",
        "person": str(rw.patient.public_id),
        "diagnosis_code": "J06.9",
        "diagnosis_name": "急性上呼吸道感染",
        "items-TOTAL_FORMS": "5",
        "items-INITIAL_FORMS": "0",
        "items-0-drug": f"{rw.amoxicillin.code} 阿莫西林胶囊",
        "items-0-dose": "1",
        "items-0-frequency": "tid",
        "items-0-route": "oral",
        "items-0-days": "5",
        "save": "1",
    }
    first = client.post("/prescriptions/new/", data)
    second = client.post("/prescriptions/new/", data)  # a double click: the same form again
    assert first.status_code == second.status_code == 302
    rx = Prescription.objects.get()
    assert first["Location"] == second["Location"] == f"/prescriptions/{rx.public_id}/"
    # a new form (a new key) writes a new prescription
    data["idempotency_key"] = "form-once-2"
    assert client.post("/prescriptions/new/", data).status_code == 302
    assert Prescription.objects.count() == 2


def test_extended_form_prefills_from_the_source(rw):
    source = source_rx(rw)
    client = client_for(rw.gp)
    page = client.get(f"/prescriptions/new/?kind=extended&person={rw.patient.public_id}")
    text = page.content.decode()
    assert source.number in text
    assert rw.clopidogrel.code in text  # offered and prefilled
    assert f'value="{rw.amlodipine.code}' not in text  # stocked here: not offered


def test_void_in_the_page(rw):
    rx = prescribe(rw)
    client = client_for(rw.gp)
    response = client.post(f"/prescriptions/{rx.public_id}/void/", {"reason": "", "version": rx.version})
    assert response.status_code == 400
    assert 'data-testid="error-reason"' in response.content.decode()
    assert "请填写作废原因" in response.content.decode()
    response = client.post(
        f"/prescriptions/{rx.public_id}/void/",
        {"reason": "血压控制不佳，调整方案", "version": rx.version},
        follow=True,
    )
    assert "处方已作废" in response.content.decode()
    assert Prescription.objects.get().status == "voided"
    assert (
        client_for(rw.nurse)
        .post(f"/prescriptions/{rx.public_id}/void/", {"reason": "x", "version": 2})
        .status_code
        == 403
    )


def test_delivery_buttons(rw):
    delivery = extend(rw).delivery
    url = f"/prescriptions/deliveries/{delivery.public_id}/"
    pharmacy = client_for(rw.pharmacist)
    assert "王老汉" in pharmacy.get("/prescriptions/deliveries/?box=out").content.decode()
    office = client_for(rw.world.office).get("/prescriptions/deliveries/").content.decode()
    assert "王老汉" not in office and "王**" in office
    assert 'data-testid="delivery-dispatch"' in pharmacy.get(url).content.decode()
    assert 'data-testid="delivery-dispatch"' not in client_for(rw.gp).get(url).content.decode()
    assert client_for(rw.gp).post(f"{url}dispatch/").status_code == 403
    assert pharmacy.post(f"{url}dispatch/", {"note": "已装箱"}).status_code == 302
    assert f"配送单 {delivery.number}：药品已发出。" in pharmacy.get(url).content.decode()
    response = pharmacy.post(f"{url}dispatch/", follow=True)
    assert "状态已变化" in response.content.decode()
    client_for(rw.nurse).post(f"{url}receive/")
    client_for(rw.gp).post(f"{url}hand_over/")
    assert Delivery.objects.get().status == "handed"
    assert client_for(rw.gp).post(f"{url}teleport/").status_code == 404
    assert client_for(rw.world.hospital_doctor).get(url).status_code == 404


def test_formulary_page_limits_and_export(rw):
    office = client_for(rw.world.office)
    text = office.get("/prescriptions/formulary/").content.decode()
    assert rw.world.township.name in text and 'data-testid="limits-form"' in text
    assert (
        'data-testid="limits-form"'
        not in client_for(rw.world.township_admin).get("/prescriptions/formulary/").content.decode()
    )
    response = office.post(
        "/prescriptions/formulary/",
        {
            "long_max_days": "56",
            "extended_max_days": "84",
            "regular_max_days": "30",
            "source_recent_months": "6",
        },
    )
    assert response.status_code == 302
    assert (
        client_for(rw.world.township_admin)
        .post("/prescriptions/formulary/", {"long_max_days": "9"})
        .status_code
        == 403
    )
    export = office.get("/prescriptions/formulary/export.xlsx")
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames[0] == "缺口汇总"
    assert book.worksheets[0]["A2"].value == rw.world.township.name
    assert book.worksheets[1]["B2"].value == rw.clopidogrel.name


def test_the_gap_export_opens_when_nothing_is_lacking(rw):
    # the lead hospital's doctor is offered the export too; with no drug lacking it used to answer 500
    response = client_for(rw.world.hospital_doctor).get("/prescriptions/formulary/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["缺口汇总", "缺少的药品"]
    assert book.worksheets[1].max_row == 1  # the header alone


def test_the_lead_hospitals_staff_are_told_their_list_is_the_reference(rw):
    text = client_for(rw.world.hospital_doctor).get("/prescriptions/formulary/").content.decode()
    assert 'data-testid="at-reference"' in text and 'data-testid="gap-table"' not in text
    township = client_for(rw.world.township_admin).get("/prescriptions/formulary/").content.decode()
    assert 'data-testid="at-reference"' not in township and 'data-testid="gap-table"' in township


def test_stock_page_add_remove_import(rw):
    url = f"/prescriptions/stock/{rw.world.township.public_id}/"
    admin = client_for(rw.world.township_admin)
    text = admin.get(url).content.decode()
    assert rw.clopidogrel.name in text  # missing chronic-disease drug
    assert client_for(rw.gp).get(url).status_code == 200
    assert client_for(rw.gp).post(url, {"add": "1", "drug": rw.clopidogrel.code}).status_code == 403
    assert client_for(rw.world.outsider_doctor).get(url).status_code == 404
    assert admin.post(url, {"add": "1", "drug": rw.clopidogrel.code}).status_code == 302
    assert StockItem.objects.filter(institution=rw.world.township, drug=rw.clopidogrel).exists()
    assert admin.post(url, {"remove": str(rw.clopidogrel.public_id)}).status_code == 302
    assert not StockItem.objects.filter(institution=rw.world.township, drug=rw.clopidogrel).exists()
    book = Workbook()
    book.active.append(["医保药品代码", "通用名", "本地增补"])
    book.active.append(["XC08CAA999A001999999999", "", "否"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "stock.xlsx"
    response = admin.post(url, {"import": "1", "file": buffer})
    assert response.status_code == 400
    assert "第 2 行「医保药品代码」" in response.content.decode()
    unknown = admin.post(url, {"add": "1", "drug": "XNOSUCHCODE"})
    assert unknown.status_code == 400 and "药品目录中没有该代码。" in unknown.content.decode()
    template = admin.get("/prescriptions/templates/stock.xlsx")
    assert load_workbook(io.BytesIO(template.content)).active["A1"].value == "医保药品代码"
    export = admin.get(f"{url}export.xlsx")
    assert load_workbook(io.BytesIO(export.content)).active.max_row == 4


def test_person_page_section(rw):
    rx = prescribe(rw)
    text = client_for(rw.gp).get(f"/people/{rw.patient.public_id}/").content.decode()
    assert rx.number in text and 'data-testid="record-prescriptions"' in text


def _clone(rx: Prescription, count: int) -> None:
    items = list(rx.items.all())
    for _ in range(count):
        rx.pk = None
        rx.public_id = uuid.uuid4()
        rx.number = f"CF{uuid.uuid4().hex[:14]}"
        rx.save(force_insert=True)
        for line in items:
            PrescriptionItem.objects.create(
                prescription=rx,
                drug=line.drug,
                dose=line.dose,
                frequency=line.frequency,
                route=line.route,
                days=line.days,
                quantity=line.quantity,
                starts_on=line.starts_on,
                ends_on=line.ends_on,
                person=line.person,
                kind=line.kind,
                is_current=False,
            )


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("gp", "/prescriptions/"),
        ("office", "/prescriptions/"),
        ("gp", "/prescriptions/deliveries/?box=in"),
        ("pharmacist", "/prescriptions/deliveries/?box=out"),
        ("office", "/prescriptions/formulary/"),
    ],
)
def test_list_queries_do_not_grow(rw, who, url):
    rx = extend(rw)
    client = client_for(_users(rw)[who])
    few = _count(client, url)
    requested_at = rx.delivery.requested_at
    _clone(rx, 15)
    for clone in Prescription.objects.filter(kind="extended", delivery__isnull=True):
        Delivery.objects.create(
            number=f"PS{uuid.uuid4().hex[:14]}",
            prescription=clone,
            from_institution=rw.world.hospital,
            to_institution=rw.world.township,
            requested_at=requested_at,
        )
    assert _count(client, url) == few


def test_drug_count_reads_in_the_plural_in_english(rw):
    """“2 drug available.” was the English plural of the form's drug count."""
    page = client_for(rw.gp).get("/prescriptions/new/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "drugs available." in text and " drug available." not in text


def test_pages_in_english_use_plain_brackets(rw):
    """The diagnosis "name（code）", the void reason's time, the extensions and the delivery's prescription
    were set in full-width brackets outside any msgid, so English pages kept them."""
    extended = extend(rw)
    source = extended.source
    specialist = client_for(rw.specialist)
    page = specialist.get(f"/prescriptions/{source.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{source.diagnosis_name} ({source.diagnosis_code})" in page
    assert f"{source.diagnosis_name}（" not in page
    assert f"{extended.number}</a> ({rw.world.township.name}, {extended.prescribed_on:%Y-%m-%d})" in page
    chinese = specialist.get(f"/prescriptions/{source.public_id}/").content.decode()
    assert f"{source.diagnosis_name}（{source.diagnosis_code}）" in chinese
    assert f"（{rw.world.township.name}，{extended.prescribed_on:%Y-%m-%d}）" in chinese
    delivery = client_for(rw.pharmacist).get(
        f"/prescriptions/deliveries/{extended.delivery.public_id}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert f"{extended.number}</a> ({extended.prescriber_name}, " in delivery.content.decode()
    long = prescribe(rw)
    client = client_for(rw.gp)
    client.post(f"/prescriptions/{long.public_id}/void/", {"reason": "剂量调整", "version": long.version})
    voided = client.get(f"/prescriptions/{long.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "剂量调整 (" in voided and "剂量调整（" not in voided
    stock = client_for(rw.world.township_admin).get(
        f"/prescriptions/stock/{rw.world.township.public_id}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    headings = [line for line in stock.content.decode().splitlines() if "<h2>" in line]
    assert any("drugs missing (1" in line for line in headings), headings
    assert not any("（" in line or "种" in line for line in headings), headings


def test_refused_form_posts_answer_400_and_change_nothing(rw):
    """The formulary limits, the catalogue's add and import forms come back with 400 on bad input, as
    the other apps' forms do; a saved one redirects."""
    office = client_for(rw.world.office)
    limits = office.post("/prescriptions/formulary/", {"long_max_days": "many", "regular_max_days": "30"})
    assert limits.status_code == 400 and 'data-testid="limits-form"' in limits.content.decode()
    count = Drug.objects.count()
    added = office.post("/prescriptions/drugs/", {"add": "1", "code": ""})
    assert added.status_code == 400
    empty = io.BytesIO(b"not a workbook")
    empty.name = "drugs.xlsx"
    imported = office.post("/prescriptions/drugs/", {"import": "1", "file": empty})
    assert imported.status_code == 400
    assert Drug.objects.count() == count
