"""The Excel exports and the prescription PDF open in their readers and hold the right content."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from yilian.prescriptions import documents, selectors
from yilian.prescriptions.tests.factories import make_drug, prescribe, stock

pytestmark = pytest.mark.django_db


def _gap_book(rw):
    formulary, gaps = selectors.gap_report(rw.world.office, rw.world.consortium)
    drugs, missing = selectors.missing_by_member(formulary, [gap.institution.pk for gap in gaps])
    content = documents.gap_workbook(rw.world.consortium, gaps, drugs, missing, selectors.category_label)
    return formulary, gaps, load_workbook(io.BytesIO(content))


def test_gap_workbook_has_a_summary_and_one_row_per_lacking_drug_with_a_column_per_member(rw):
    stocked_everywhere = make_drug("阿托伐他汀钙片", atc="C10AA", category="lipid_lowering", strength="20mg")
    stock(rw.world.hospital, stocked_everywhere)
    formulary, gaps, book = _gap_book(rw)
    assert book.sheetnames == ["缺口汇总", "缺少的药品"]
    summary, grid = book.worksheets
    members = [gap.institution for gap in gaps]
    assert rw.world.township in members
    assert [row[0] for row in summary.iter_rows(min_row=2, values_only=True)] == [m.name for m in members]
    township_row = next(
        row for row in summary.iter_rows(min_row=2, values_only=True) if row[0] == rw.world.township.name
    )
    assert township_row[1:5] == (5, 3, 2, 2)  # reference, stocked, missing, missing chronic

    header = [cell.value for cell in grid[1]]
    assert header[:8] == [
        "医保药品代码",
        "通用名",
        "规格",
        "剂型",
        "类别",
        "慢病用药",
        "国家基本药物",
        "缺少的机构数",
    ]
    assert header[8:] == [m.short_name or m.name for m in members]
    rows = list(grid.iter_rows(min_row=2, values_only=True))
    # each member's column marks exactly what the stock page lists as missing
    for offset, member in enumerate(members):
        marked = {row[0] for row in rows if row[8 + offset] == "缺"}
        assert marked == {drug.code for drug in selectors.missing_drugs(formulary, member)}
    assert {row[0] for row in rows} == set().union(
        *({d.code for d in selectors.missing_drugs(formulary, m)} for m in members)
    )
    assert all(row[7] == sum(1 for value in row[8:] if value == "缺") for row in rows)
    township_column = 8 + members.index(rw.world.township)
    assert {row[1] for row in rows if row[township_column] == "缺"} == {
        rw.clopidogrel.name,
        stocked_everywhere.name,
    }
    # chronic-disease drugs first, highlighted by one conditional format over the grid
    chronic = [row[5] == "是" for row in rows]
    assert chronic == sorted(chronic, reverse=True)
    assert len(grid.conditional_formatting) == 1
    assert grid.freeze_panes == "C2"


def test_stock_workbook_is_in_the_import_templates_columns(rw):
    content = documents.stock_workbook(rw.world.township, list(selectors.stock_list(rw.world.township)))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("医保药品代码", "通用名", "本地增补")
    assert sorted(row[1] for row in rows[1:]) == sorted(
        d.name for d in (rw.amlodipine, rw.metformin, rw.amoxicillin)
    )


def test_prescription_pdf_carries_its_title_institution_and_creator(rw):
    rx = prescribe(rw)
    content = documents.prescription_pdf(rx, list(rx.items.select_related("drug")), show_patient=True)
    metadata = PdfReader(io.BytesIO(content)).metadata
    assert metadata.title == f"处方笺 {rx.number}"
    assert metadata.author == rw.world.township.name
    assert metadata.subject == "处方笺 · 长处方"
    assert metadata.creator == "yilian 医联"
    assert rw.patient.name not in "".join(str(value) for value in metadata.values())


def test_prescription_slip_stays_chinese_when_the_reader_uses_english(rw):
    """The slip's labels are Chinese; its values read "性别：Female" when printed from an English page."""
    from django.utils import translation

    rx = prescribe(rw)
    with translation.override("en"):
        content = documents.prescription_pdf(rx, list(rx.items.select_related("drug")), show_patient=True)
        assert translation.get_language() == "en"  # the reader's language is left as it was
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Female" not in text and "Male" not in text and "Resident" not in text
    assert "性别：男" in text or "性别：女" in text
