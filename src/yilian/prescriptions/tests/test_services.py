"""Behaviour of the prescription services: the kinds and their checks, voiding, deliveries, stock lists
and their Excel import, the catalogue, the formulary limits and the gap."""

from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import Workbook

from yilian.core.audit import action_label
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.people.models import PersonInstitutionLink
from yilian.prescriptions import selectors, services
from yilian.prescriptions.codes import parse_drug_code
from yilian.prescriptions.models import ConsortiumFormulary, Delivery, Drug, Prescription, StockItem
from yilian.prescriptions.tests.factories import (
    extend,
    item,
    make_drug,
    prescribe,
    rx_world,
    source_rx,
    stock,
    today,
)

pytestmark = pytest.mark.django_db


def _errors(excinfo: pytest.ExceptionInfo[Invalid]) -> dict[str, list[str]]:
    return excinfo.value.as_text()


# --- drug codes ---------------------------------------------------------------------------------


def test_drug_code_shape():
    assert parse_drug_code(" xc08caa105a001010100031 ") == "XC08CAA105A001010100031"
    assert parse_drug_code("ZA01AAB0098010104418123")
    for bad in (
        "",
        "XC08CA",
        "YC08CAA105A001010100031",
        "X1234AA105A001010100031",
        "XC08CAA105A00101010003!",
    ):
        with pytest.raises(Invalid):
            parse_drug_code(bad)


# --- regular ------------------------------------------------------------------------------------


def test_regular_prescription_computes_quantity_links_and_audits(rw):
    rx = prescribe(rw, "regular", items=[item(rw.amoxicillin, days=7, dose="2", frequency="tid")])
    line = rx.items.get()
    assert line.quantity == 2  # 2 × 3 × 7 = 42 capsules, 24 a box
    assert rx.valid_until == rx.prescribed_on + datetime.timedelta(days=2)
    assert rx.number.startswith("CF")
    assert PersonInstitutionLink.objects.filter(
        person=rw.patient, institution=rw.world.township, reason="prescription"
    ).exists()
    event = AuditEvent.objects.get(action="prescription.create")
    assert event.institution_public_id == rw.world.township.public_id
    assert str(action_label("prescription.create")) == "开具处方"


def test_quantity_given_is_checked(rw):
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, "regular", items=[item(rw.amoxicillin, days=7, dose="2", frequency="tid", quantity=1)])
    assert "数量不足" in _errors(excinfo)["items.0.quantity"][0]
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, "regular", items=[item(rw.amoxicillin, days=7, quantity=9)])
    assert "超过" in _errors(excinfo)["items.0.quantity"][0]


def test_bad_input_saves_nothing(rw):
    with pytest.raises(Invalid) as excinfo:
        prescribe(
            rw,
            "regular",
            diagnosis_code="Q99.99.9",
            diagnosis_name="",
            items=[
                item(rw.amoxicillin, days=0),
                item(rw.amoxicillin, dose="-1"),
                {"drug": None, "dose": "1", "days": 3},
            ],
        )
    errors = _errors(excinfo)
    assert {"diagnosis_code", "diagnosis_name", "items.0.days", "items.1.drug", "items.2.drug"} <= set(errors)
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, "regular", items=[])
    assert "请至少开具一种药品" in _errors(excinfo)["items"][0]
    assert Prescription.objects.count() == 0
    assert not PersonInstitutionLink.objects.filter(reason="prescription").exists()


def test_regular_days_limit(rw):
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, "regular", items=[item(rw.amoxicillin, days=31)])
    assert "30" in _errors(excinfo)["items.0.days"][0]


def test_only_doctors_of_the_institution_prescribe(rw):
    for actor in (
        rw.nurse,
        rw.pharmacist,
        rw.world.office,
        rw.world.hospital_doctor,
        rw.world.township_admin,
    ):
        with pytest.raises(NotAllowed):
            prescribe(rw, "regular", actor=actor, items=[item(rw.amoxicillin, days=3)])


def test_person_must_be_visible(rw):
    from yilian.people.tests.factories import person

    stranger = person("陌生人", institution=rw.world.outsider)
    with pytest.raises(NotAllowed):
        prescribe(rw, "regular", person=stranger, items=[item(rw.amoxicillin, days=3)])


# --- long ---------------------------------------------------------------------------------------


def test_long_prescription_for_stable_patient(rw):
    rx = prescribe(rw)
    assert rx.kind == "long" and rx.days == 84
    assert rx.valid_until == rx.prescribed_on + datetime.timedelta(days=83)
    assert rx.items.get().quantity == 3


def test_long_checks_each_drug(rw):
    lonely = make_drug("瑞舒伐他汀钙片", atc="C10AA", category="lipid_lowering")
    stock(rw.world.township, lonely, local=True)
    with pytest.raises(Invalid) as excinfo:
        prescribe(
            rw,
            items=[item(rw.amoxicillin), item(rw.clopidogrel), item(lonely)],
        )
    errors = _errors(excinfo)
    assert "不是慢病用药" in errors["items.0.drug"][0]
    assert "未配备" in errors["items.1.drug"][0] and "延伸处方" in errors["items.1.drug"][0]
    assert "不在医联体用药目录" in errors["items.2.drug"][0]


def test_long_days_limit_is_the_consortium_setting(rw):
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, items=[item(rw.amlodipine, days=85)])
    assert "84" in _errors(excinfo)["items.0.days"][0]
    services.formulary_update(actor=rw.world.office, consortium=rw.world.consortium, long_max_days=56)
    with pytest.raises(Invalid):
        prescribe(rw, items=[item(rw.amlodipine, days=60)])
    assert prescribe(rw, items=[item(rw.amlodipine, days=56)]).days == 56


def test_long_needs_a_stable_chronic_case(world):
    unstable = rx_world(world, stable=False)
    with pytest.raises(Invalid) as excinfo:
        prescribe(unstable)
    assert "病情稳定" in _errors(excinfo)["person"][0]
    assert Prescription.objects.count() == 0


def test_no_overlapping_long_prescription_of_the_same_drug(rw):
    first = prescribe(rw)
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, items=[item(rw.metformin, days=28), item(rw.amlodipine, days=28)])
    errors = _errors(excinfo)
    assert list(errors) == ["items.1.drug"]
    assert first.number in errors["items.1.drug"][0]
    assert prescribe(rw, items=[item(rw.metformin, days=28)]).kind == "long"
    services.prescription_void(actor=rw.gp, prescription=first, reason="剂量调整")
    assert prescribe(rw).kind == "long"


def test_no_overlapping_long_prescription_of_the_same_generic_drug_in_another_strength(rw):
    enalapril_5 = make_drug("马来酸依那普利片", atc="C09AA", strength="5mg")
    enalapril_10 = make_drug("马来酸依那普利片", atc="C09AA", strength="10mg")
    stock(rw.world.hospital, enalapril_5, enalapril_10)
    stock(rw.world.township, enalapril_5, enalapril_10)
    first = prescribe(rw, items=[item(enalapril_5, days=84)])
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, items=[item(enalapril_10, days=84)])
    message = _errors(excinfo)["items.0.drug"][0]
    assert first.number in message
    assert first.prescribed_on.isoformat() in message and first.valid_until.isoformat() in message
    assert Prescription.objects.count() == 1
    # another generic drug is fine, and so is the same one once the first is voided
    assert prescribe(rw, items=[item(rw.amlodipine, days=84)]).kind == "long"
    services.prescription_void(actor=rw.gp, prescription=first, reason="剂量调整")
    assert prescribe(rw, items=[item(enalapril_10, days=84)]).kind == "long"


# --- extended -----------------------------------------------------------------------------------


def test_extended_prescription_requests_a_delivery(rw):
    source = source_rx(rw)
    rx = extend(rw, source)
    assert rx.source == source and rx.kind == "extended"
    delivery = rx.delivery
    assert delivery.status == "requested"
    assert delivery.from_institution == rw.world.hospital and delivery.to_institution == rw.world.township
    assert rx.items.get().delivered_by_consortium
    assert delivery.events.get().action == "request"
    assert AuditEvent.objects.filter(action="delivery.request").exists()


def test_extended_checks(rw):
    source = source_rx(rw)
    with pytest.raises(Invalid) as excinfo:
        extend(rw, source, items=[item(rw.amlodipine)])
    assert "请直接开具普通处方或长处方" in _errors(excinfo)["items.0.drug"][0]
    with pytest.raises(Invalid) as excinfo:
        extend(rw, source, items=[item(rw.metformin)])
    assert "不在原处方上" in _errors(excinfo)["items.0.drug"][0]
    with pytest.raises(Invalid) as excinfo:
        extend(rw, source, items=[item(rw.clopidogrel, days=90)])
    assert "items.0.days" in _errors(excinfo)
    with pytest.raises(Invalid) as excinfo:
        prescribe(rw, "extended", items=[item(rw.clopidogrel)])
    assert "source" in _errors(excinfo)
    own = prescribe(rw, "regular", items=[item(rw.amoxicillin, days=3)])
    with pytest.raises(Invalid) as excinfo:
        extend(rw, own)
    assert "牵头医院" in _errors(excinfo)["source"][0]
    old = source_rx(rw, on=today() - datetime.timedelta(days=220))
    with pytest.raises(Invalid) as excinfo:
        extend(rw, old)
    assert "6 个月" in _errors(excinfo)["source"][0]
    assert not Delivery.objects.exists()


def test_lead_hospital_does_not_write_extended(rw):
    source = source_rx(rw)
    with pytest.raises(Invalid) as excinfo:
        extend(rw, source, actor=rw.specialist, institution=rw.world.hospital)
    assert "牵头医院无需" in _errors(excinfo)["kind"][0]


# --- void ---------------------------------------------------------------------------------------


def test_void_needs_reason_and_cancels_the_requested_delivery(rw):
    rx = extend(rw)
    with pytest.raises(Invalid):
        services.prescription_void(actor=rw.gp, prescription=rx, reason=" ")
    with pytest.raises(NotAllowed):
        services.prescription_void(actor=rw.nurse, prescription=rx, reason="x")
    services.prescription_void(actor=rw.gp, prescription=rx, reason="患者改用其他药物")
    rx.refresh_from_db()
    assert rx.status == "voided" and rx.void_reason == "患者改用其他药物"
    assert rx.delivery.status == "cancelled"
    with pytest.raises(Conflict):
        services.prescription_void(actor=rw.gp, prescription=rx, reason="again")


def test_void_after_dispatch_is_refused(rw):
    rx = extend(rw)
    services.delivery_step(actor=rw.pharmacist, delivery=rx.delivery, action="dispatch")
    with pytest.raises(Conflict):
        services.prescription_void(actor=rw.gp, prescription=rx, reason="x")


def test_void_with_stale_version(rw):
    rx = prescribe(rw)
    with pytest.raises(Conflict):
        services.prescription_void(actor=rw.gp, prescription=rx, reason="x", expected_version=rx.version + 1)


# --- deliveries ---------------------------------------------------------------------------------


def test_delivery_runs_through_its_steps(rw):
    delivery = extend(rw).delivery
    with pytest.raises(NotAllowed):
        services.delivery_step(actor=rw.gp, delivery=delivery, action="dispatch")
    services.delivery_step(actor=rw.pharmacist, delivery=delivery, action="dispatch", note="冷链箱 3 号")
    with pytest.raises(Conflict):
        services.delivery_step(actor=rw.pharmacist, delivery=delivery, action="dispatch")
    with pytest.raises(NotAllowed):
        services.delivery_step(actor=rw.pharmacist, delivery=delivery, action="receive")
    services.delivery_step(actor=rw.nurse, delivery=delivery, action="receive")
    services.delivery_step(actor=rw.gp, delivery=delivery, action="hand_over")
    delivery.refresh_from_db()
    assert delivery.status == "handed" and delivery.handed_at and delivery.dispatched_at
    assert [e.action for e in selectors.delivery_timeline(delivery)] == [
        "request",
        "dispatch",
        "receive",
        "hand_over",
    ]
    with pytest.raises(Invalid):
        services.delivery_step(actor=rw.gp, delivery=delivery, action="fly")


def test_cancel_needs_a_reason_and_only_before_dispatch(rw):
    delivery = extend(rw).delivery
    with pytest.raises(Invalid):
        services.delivery_step(actor=rw.gp, delivery=delivery, action="cancel")
    services.delivery_step(actor=rw.pharmacist, delivery=delivery, action="dispatch")
    with pytest.raises(Conflict):
        services.delivery_step(actor=rw.gp, delivery=delivery, action="cancel", note="不要了")


# --- stock lists, catalogue, formulary ----------------------------------------------------------


def _workbook(rows: list[list[object]], header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header or ["医保药品代码", "通用名", "本地增补"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_stock_import_all_or_nothing_with_row_errors(rw):
    before = set(StockItem.objects.filter(institution=rw.world.township).values_list("drug_id", flat=True))
    content = _workbook(
        [
            [rw.clopidogrel.code, rw.clopidogrel.name, "否"],
            ["XC08CAA999A001999999999", "", ""],
            ["bad", "", ""],
            [rw.metformin.code, "阿司匹林肠溶片", "否"],
            [rw.clopidogrel.code, "", "也许"],
        ]
    )
    with pytest.raises(Invalid) as excinfo:
        services.stock_import(actor=rw.world.township_admin, institution=rw.world.township, content=content)
    messages = _errors(excinfo)["file"]
    assert any(m.startswith("第 3 行「医保药品代码」") and "没有该代码" in m for m in messages)
    assert any(m.startswith("第 4 行「医保药品代码」") for m in messages)
    assert any(m.startswith("第 5 行「通用名」") for m in messages)
    assert any(m.startswith("第 6 行") and "重复" in m for m in messages)
    after = set(StockItem.objects.filter(institution=rw.world.township).values_list("drug_id", flat=True))
    assert after == before


def test_stock_import_and_replace(rw):
    content = _workbook([[rw.clopidogrel.code, rw.clopidogrel.name, "否"], [rw.amlodipine.code, "", "否"]])
    result = services.stock_import(
        actor=rw.world.office, institution=rw.world.township, content=content, replace=True
    )
    assert (result.created, result.unchanged, result.removed) == (1, 1, 2)
    assert set(StockItem.objects.filter(institution=rw.world.township).values_list("drug_id", flat=True)) == {
        rw.clopidogrel.pk,
        rw.amlodipine.pk,
    }
    with pytest.raises(Invalid):
        services.stock_import(actor=rw.world.office, institution=rw.world.township, content=b"not excel")
    with pytest.raises(Invalid) as excinfo:
        services.stock_import(
            actor=rw.world.office, institution=rw.world.township, content=_workbook([], header=["代码"])
        )
    assert "表头缺少列" in _errors(excinfo)["file"][0]


def test_stock_rights(rw):
    for actor in (rw.gp, rw.world.hospital_admin, rw.world.outsider_doctor, rw.world.regulator):
        with pytest.raises(NotAllowed):
            services.stock_add(actor=actor, institution=rw.world.township, drug=rw.clopidogrel)
    services.stock_add(actor=rw.world.township_admin, institution=rw.world.township, drug=rw.clopidogrel)
    services.stock_remove(actor=rw.world.office, institution=rw.world.township, drug=rw.clopidogrel)
    assert not StockItem.objects.filter(institution=rw.world.township, drug=rw.clopidogrel).exists()


def test_gap_report(rw):
    extra = make_drug("阿托伐他汀钙片", atc="C10AA", category="lipid_lowering", chronic=False)
    local = make_drug("复方丹参滴丸", atc="C01EB", category="tcm", chronic=True)
    stray = make_drug("硝苯地平控释片", atc="C08CA")
    stock(rw.world.hospital, extra)
    stock(rw.world.township, local, local=True)
    stock(rw.world.township, stray)
    formulary, gaps = selectors.gap_report(rw.world.office, rw.world.consortium)
    assert formulary.reference_institution == rw.world.hospital
    (gap,) = gaps
    assert (gap.reference, gap.missing, gap.missing_chronic) == (5, 2, 1)
    assert gap.missing_by_category == {"antiplatelet": 1, "lipid_lowering": 1}
    assert (gap.local_additions, gap.unaligned, gap.aligned) == (1, 1, False)
    missing = list(selectors.missing_drugs(formulary, rw.world.township))
    assert missing[0] == rw.clopidogrel  # chronic-disease drugs first
    assert selectors.gap_report(rw.world.township_admin, rw.world.consortium)[1][0].missing == 2
    assert selectors.gap_report(rw.world.hospital_doctor, rw.world.consortium)[1] == []


def test_formulary_update_rules(rw):
    with pytest.raises(NotAllowed):
        services.formulary_update(
            actor=rw.world.hospital_admin, consortium=rw.world.consortium, long_max_days=56
        )
    with pytest.raises(Invalid) as excinfo:
        services.formulary_update(actor=rw.world.office, consortium=rw.world.consortium, long_max_days=400)
    assert "long_max_days" in _errors(excinfo)
    formulary = services.formulary_update(
        actor=rw.world.office, consortium=rw.world.consortium, long_max_days=56
    )
    assert formulary.version == 2
    with pytest.raises(Conflict):
        services.formulary_update(
            actor=rw.world.office, consortium=rw.world.consortium, expected_version=1, long_max_days=70
        )
    assert ConsortiumFormulary.objects.get().long_max_days == 56


def test_catalogue(rw):
    with pytest.raises(NotAllowed):
        services.drug_save(actor=rw.gp, code="XC09AAL093A001010104425", name="x")
    with pytest.raises(Invalid) as excinfo:
        services.drug_save(actor=rw.pharmacist, code=rw.amlodipine.code, name="", dosage_form="x")
    assert {"name", "dosage_form", "strength", "category", "package_size"} <= set(_errors(excinfo))
    with pytest.raises(Invalid) as excinfo:
        services.drug_save(
            actor=rw.pharmacist,
            code=rw.amlodipine.code,
            name="苯磺酸氨氯地平片",
            dosage_form="tablet",
            strength="5mg",
            package_size=28,
            category="antihypertensive",
        )
    assert "已在目录中" in _errors(excinfo)["code"][0]
    drug = services.drug_save(
        actor=rw.pharmacist,
        code="XC09AAL093A001010104425",
        name="马来酸依那普利片",
        dosage_form="tablet",
        strength="10mg",
        package_size=16,
        category="antihypertensive",
        is_chronic=True,
    )
    assert drug.name_initials == "mlsynplp"
    assert list(selectors.drug_list(rw.gp, query="mlsyn")) == [drug]


def test_drug_import(rw):
    header = list(services.DRUG_COLUMNS)
    good = ["XC09CAL001A001010100001", "缬沙坦胶囊", "胶囊剂", "80mg", "粒", 14, "盒", "降压药", "是", "是"]
    bad = ["XC09CAL002", "", "丸子", "", "粒", 0, "盒", "未知", "也许", "否"]
    with pytest.raises(Invalid) as excinfo:
        services.drug_import(actor=rw.world.office, content=_workbook([good, bad], header=header))
    messages = _errors(excinfo)["file"]
    assert all(m.startswith("第 3 行") for m in messages) and len(messages) >= 5
    assert not Drug.objects.filter(name="缬沙坦胶囊").exists()
    result = services.drug_import(actor=rw.world.office, content=_workbook([good], header=header))
    assert result.created == 1
    assert Drug.objects.get(code="XC09CAL001A001010100001").dosage_form == "capsule"
