"""Assessment pages and API: authorization matrix, bad input, downloads (real PDF, real workbook), query counts."""

from __future__ import annotations

import base64
import io
import re
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from yilian.assessment import services
from yilian.assessment.models import AssessmentRound, AssessmentScheme, Judgement
from yilian.assessment.tests.factories import AssessmentWorld
from yilian.core.api.testing import error_of

pytestmark = pytest.mark.django_db


def _pdf_strings(pdf: bytes) -> str:
    """Strings drawn with Tj, decoded from the UCS-2 literals of the (a85 + zlib) content streams."""
    text = b""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            text += zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>")))
        except (ValueError, zlib.error):
            continue
    drawn = []
    for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", text, re.S):
        raw = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit() else m.group(1),
            literal,
        )
        drawn.append(
            raw.decode("utf-16-be", errors="replace") if len(raw) % 2 == 0 else raw.decode("latin-1")
        )
    return "\n".join(drawn)


def _client(client, user):
    if user is not None:
        client.force_login(user)
    return client


def _published(aw: AssessmentWorld) -> AssessmentRound:
    services.round_freeze(actor=aw.world.office, round_=aw.round)
    return services.round_publish(actor=aw.world.office, round_=aw.fresh_round())


# who: expected status for GET of a draft round page, and for POST freeze
MATRIX = {
    "anonymous": (302, 302),
    "stranger": (403, 403),
    "outsider_doctor": (404, 404),
    "township_admin": (404, 404),
    "hospital_doctor": (404, 404),
    "regulator": (200, 302),
    "office": (200, 302),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_round_page_and_freeze_matrix(aw, client, who):
    user = aw.world.users()[who]
    c = _client(client, user)
    page, freeze = MATRIX[who]
    response = c.get(reverse("assessment:round", args=[aw.round.public_id]))
    assert response.status_code == page
    response = c.post(
        reverse("assessment:round_action", args=[aw.round.public_id, "freeze"]), {"version": "0"}
    )
    assert response.status_code == freeze
    frozen = AssessmentRound.objects.get(pk=aw.round.pk).version
    assert frozen == (1 if who in ("regulator", "office") else 0)


def test_member_reads_published_round_but_cannot_freeze(aw, client):
    _published(aw)
    c = _client(client, aw.world.township_admin)
    response = c.get(reverse("assessment:round", args=[aw.round.public_id]))
    assert response.status_code == 200
    assert "霍邱县冯井镇卫生院" in response.content.decode()  # ranking visible by default
    assert b"round-freeze" not in response.content
    response = c.post(reverse("assessment:round_action", args=[aw.round.public_id, "freeze"]))
    assert response.status_code == 403
    assert AssessmentRound.objects.get(pk=aw.round.pk).version == 1


def test_the_lead_units_administrator_is_offered_a_new_round(aw, client):
    # The self-assessment is theirs to run; a member's administrator runs none.
    lead = _client(client, aw.world.hospital_admin).get(reverse("assessment:rounds"))
    assert b'data-testid="round-new"' in lead.content
    member = _client(client, aw.world.township_admin).get(reverse("assessment:rounds"))
    assert b'data-testid="round-new"' not in member.content


def test_round_form_refuses_a_kind_that_contradicts_the_schemes_period(aw, client):
    """The walkthrough's case: a monthly scheme submitted as 年度综合绩效考核 is refused next to the kind."""
    c = _client(client, aw.world.office)
    before = AssessmentRound.objects.count()
    response = c.post(
        reverse("assessment:round_new"),
        {
            "scheme": str(aw.scheme.public_id),
            "consortium": str(aw.world.consortium.public_id),
            "kind": "regulator_annual",
            "period_start": "2025-01-01",
            "title": "2025 年度考核",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-kind"' in body
    assert "“年度综合绩效考核”须使用考核周期为“年”的方案" in body
    # What was typed stays in the form.
    assert 'value="2025 年度考核"' in body
    assert AssessmentRound.objects.count() == before


def test_round_list_query_count(aw, client, django_assert_num_queries):
    for month in ("2025-04-01", "2025-05-01", "2025-06-01"):
        services.round_create(
            actor=aw.world.office,
            scheme=aw.scheme,
            kind="monthly_ranking",
            period_start=month,
            consortium=aw.world.consortium,
        )
    c = _client(client, aw.world.office)
    c.get(reverse("assessment:rounds"))
    with django_assert_num_queries(6):
        response = c.get(reverse("assessment:rounds"))
    assert response.content.decode().count('data-testid="round-row"') == 4


def test_round_detail_query_count_is_constant(aw, client, django_assert_num_queries):
    _published(aw)
    c = _client(client, aw.world.office)
    url = reverse("assessment:round", args=[aw.round.public_id])
    c.get(url)
    with django_assert_num_queries(11) as first:
        c.get(url)
    # Four more members: the same number of queries.
    from yilian.assessment.tests.factories import figure
    from yilian.institutions.tests.factories import ConsortiumMemberFactory, InstitutionFactory

    for index in range(4):
        member = InstitutionFactory(name=f"新成员{index}", region=aw.world.regions["town_a"])
        ConsortiumMemberFactory(consortium=aw.world.consortium, institution=member)
        figure(aw.rate, member.pk, "3")
    services.round_freeze(actor=aw.world.office, round_=aw.fresh_round())
    with django_assert_num_queries(len(first.captured_queries)):
        response = c.get(url)
    assert response.content.decode().count('data-testid="round-total"') == 7


def test_draft_page_lists_the_computed_totals(aw, client):
    """The draft is version 0: its totals table is filled like a frozen version's (it used to be empty)."""
    services.round_compute(actor=aw.world.office, round_=aw.round)
    c = _client(client, aw.world.office)
    url = reverse("assessment:round", args=[aw.round.public_id])
    for query in ("", "?v=0"):
        body = c.get(url + query).content.decode()
        assert body.count('data-testid="round-total"') == 3, query
        assert "霍邱县冯井镇卫生院" in body and "约谈" in body


def test_pdf_is_a_pdf_with_chinese_text(aw, client):
    _published(aw)
    response = _client(client, aw.world.township_admin).get(
        reverse("assessment:round_pdf", args=[aw.round.public_id])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = response.content
    assert content.startswith(b"%PDF-")
    assert b"STSong-Light" in content
    text = _pdf_strings(content)
    assert "上转率月度排名" in text
    assert "霍邱县城关镇卫生院" in text


def test_excel_is_a_workbook(aw, client):
    _published(aw)
    response = _client(client, aw.world.office).get(
        reverse("assessment:round_xlsx", args=[aw.round.public_id])
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["总分", "分项指标", "同比"]
    names = [row[1] for row in workbook["总分"].iter_rows(min_row=4, values_only=True)]
    assert names == ["霍邱县城关镇卫生院", "霍邱县周集镇卫生院", "霍邱县冯井镇卫生院"]


def test_a_typed_title_heads_the_round_page_breadcrumb_and_exports(aw, client):
    """The 标题 typed on the round form names the round everywhere, not only in the list."""
    c = _client(client, aw.world.office)
    response = c.post(
        reverse("assessment:round_new"),
        {
            "scheme": str(aw.scheme.public_id),
            "consortium": str(aw.world.consortium.public_id),
            "kind": "monthly_ranking",
            "period_start": "2025-04-01",
            "title": "二季度首月上转率通报",
        },
    )
    assert response.status_code == 302
    round_ = AssessmentRound.objects.get(title="二季度首月上转率通报")
    body = c.get(response["Location"]).content.decode()
    heading = re.search(r'data-testid="round-heading">(.*?)</h1>', body, re.S).group(1)
    crumb = re.search(r'data-testid="round-crumb">(.*?)</span>', body, re.S).group(1)
    assert (heading, crumb) == ("二季度首月上转率通报", "二季度首月上转率通报")
    # What the round assesses still reads under the title.
    assert "上转率月度排名（2025年4月）" in body
    services.round_freeze(actor=aw.world.office, round_=round_)
    pdf = _pdf_strings(c.get(reverse("assessment:round_pdf", args=[round_.public_id])).content)
    assert pdf.splitlines()[0] == "二季度首月上转率通报"
    workbook = load_workbook(
        io.BytesIO(c.get(reverse("assessment:round_xlsx", args=[round_.public_id])).content)
    )
    assert workbook["总分"]["A1"].value == "二季度首月上转率通报"
    # Untitled rounds keep the scheme name.
    body = c.get(reverse("assessment:round", args=[aw.round.public_id])).content.decode()
    crumb = re.search(r'data-testid="round-crumb">(.*?)</span>', body, re.S).group(1)
    assert crumb == "上转率月度排名"


def _figures_round(aw: AssessmentWorld) -> AssessmentRound:
    """A frozen round of a rate (%, two decimals) and a count (人次, no decimals) with raw-looking values."""
    from decimal import Decimal

    from yilian.assessment.tests.factories import figure, indicator

    count = indicator("teleconsultations", name="远程会诊人次", unit="人次", factor=Decimal(1), decimals=0)
    figure(aw.rate, aw.members[0].pk, "0.208106")
    for member, value in zip(aw.members, ("1234", "7", "0"), strict=True):
        figure(count, member.pk, value)
    scheme = services.scheme_create(
        actor=aw.world.office,
        consortium=aw.world.consortium,
        data={"name": "格式方案", "subject": "members", "period_type": "month", "grading": "quartile"},
        items=[
            {"indicator": aw.rate, "weight": "60", "rule": "rank"},
            {"indicator": count, "weight": "40", "rule": "rank"},
        ],
    )
    round_ = services.round_create(
        actor=aw.world.office,
        scheme=scheme,
        kind="monthly_ranking",
        period_start="2025-03-01",
        consortium=aw.world.consortium,
    )
    return services.round_freeze(actor=aw.world.office, round_=round_)


def test_figures_read_with_their_unit_and_decimals_on_the_page_and_in_the_pdf(aw, client):
    round_ = _figures_round(aw)
    c = _client(client, aw.world.office)
    body = c.get(reverse("assessment:round", args=[round_.public_id])).content.decode()
    shown = re.findall(r'data-testid="figure-value">(.*?)</span>', body)
    # 城关 (0.208106 %, 1234), 冯井 (4 %, 0), 周集 (8 %, 7), by subject name.
    assert sorted(shown) == sorted(["0.21%", "1,234人次", "4.00%", "0人次", "8.00%", "7人次"])
    assert "0.208106" not in body and ".000000" not in body
    pdf = _pdf_strings(c.get(reverse("assessment:round_pdf", args=[round_.public_id])).content)
    assert "0.21%" in pdf and "1,234人次" in pdf
    assert "0.208106" not in pdf and "1,234.00" not in pdf


def test_workbook_figures_are_numbers_with_a_number_format(aw, client):
    from decimal import Decimal

    round_ = _figures_round(aw)
    response = _client(client, aw.world.office).get(reverse("assessment:round_xlsx", args=[round_.public_id]))
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["分项指标"]
    header = [cell.value for cell in sheet[1]]
    column = {name: index for index, name in enumerate(header)}
    rows = {(row[0].value, row[column["指标编码"]].value): row for row in sheet.iter_rows(min_row=2)}
    rate = rows[("霍邱县城关镇卫生院", "up_referral_rate")][column["指标值"]]
    # Excel's own percentage: the cell holds the fraction and shows 0.21%.
    assert isinstance(rate.value, float) and abs(Decimal(str(rate.value)) - Decimal("0.00208106")) < Decimal(
        "1e-12"
    )
    assert rate.number_format == "0.00%"
    count = rows[("霍邱县城关镇卫生院", "teleconsultations")]
    assert (count[column["指标值"]].value, count[column["指标值"]].number_format) == (1234, "#,##0")
    assert count[column["计量单位"]].value == "人次"
    assert count[column["分子"]].number_format == "#,##0"
    assert count[column["得分"]].number_format == "0.00"
    assert isinstance(count[column["得分"]].value, (int, float))
    totals = workbook["总分"]
    assert all(row[3].number_format == "0.00" for row in totals.iter_rows(min_row=4))


def test_outsider_gets_no_downloads(aw, client):
    _published(aw)
    c = _client(client, aw.world.outsider_doctor)
    assert c.get(reverse("assessment:round_pdf", args=[aw.round.public_id])).status_code == 404
    assert c.get(reverse("assessment:round_xlsx", args=[aw.round.public_id])).status_code == 404


def test_scheme_pages(aw, client):
    c = _client(client, aw.world.office)
    assert c.get(reverse("assessment:schemes")).status_code == 200
    assert c.get(reverse("assessment:scheme", args=[aw.scheme.public_id])).status_code == 200
    response = c.post(
        reverse("assessment:scheme_edit", args=[aw.scheme.public_id]),
        {"version": "1", "name": "", "subject": "members", "period_type": "month", "grading": "quartile"},
    )
    assert response.status_code == 400
    assert "请填写方案名称" in response.content.decode()
    response = c.post(
        reverse("assessment:scheme_edit", args=[aw.scheme.public_id]),
        {
            "version": "1",
            "name": "改名",
            "subject": "members",
            "period_type": "month",
            "grading": "quartile",
            "item_indicator_0": "up_referral_rate",
            "item_weight_0": "100",
            "item_rule_0": "rank",
        },
    )
    assert response.status_code == 302
    assert AssessmentScheme.objects.get(pk=aw.scheme.pk).version == 2
    member = _client(client, aw.world.township_admin)
    assert member.get(reverse("assessment:scheme_edit", args=[aw.scheme.public_id])).status_code == 403


def test_judgement_and_evidence_from_the_page(aw, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = _client(client, aw.world.office)
    url = reverse("assessment:round_judge", args=[aw.round.public_id])
    c.post(url, {"indicator": "unified_management", "subject_id": aw.members[0].pk, "verdict": "met"})
    assert Judgement.objects.get().verdict == "met"
    c.post(url, {"indicator": "up_referral_rate", "subject_id": aw.members[0].pk, "verdict": "met"})
    assert Judgement.objects.count() == 1
    upload = SimpleUploadedFile("证明.pdf", b"%PDF-1.4", content_type="application/pdf")
    c.post(
        reverse("assessment:round_evidence", args=[aw.round.public_id]),
        {"indicator": "unified_management", "subject_id": aw.members[0].pk, "file": upload},
    )
    services.round_compute(actor=aw.world.office, round_=aw.round)
    response = c.get(reverse("assessment:round", args=[aw.round.public_id]) + "?v=0")
    assert "证明.pdf" in response.content.decode()


# --- API ----------------------------------------------------------------------------------------------


def test_api_flow_with_if_match(aw, client):
    c = _client(client, aw.world.office)
    base = f"/api/v1/assessment/rounds/{aw.round.public_id}"
    response = c.get(base)
    assert response.status_code == 200 and response["ETag"] == '"0"'
    assert c.post(f"{base}/compute").status_code == 200
    first = c.get(f"{base}/totals?version=0").json()["results"][0]
    assert first["subject_name"] == "霍邱县城关镇卫生院"
    assert first["subject"] == str(aw.world.township.public_id) and "subject_id" not in first
    response = c.post(f"{base}/freeze", content_type="application/json", data={}, HTTP_IF_MATCH='"0"')
    assert response.status_code == 201 and response.json()["version"] == 1
    response = c.post(f"{base}/freeze", content_type="application/json", data={}, HTTP_IF_MATCH='"0"')
    assert response.status_code == 409
    response = c.post(f"{base}/publish", content_type="application/json", data={"expected_version": 1})
    assert response.status_code == 200 and response.json()["published_version"] == 1
    results = c.get(f"{base}/results").json()["results"]
    assert {r["indicator_version"] for r in results} == {1}
    assert c.get(f"{base}/report.pdf").content.startswith(b"%PDF-")
    assert c.get(f"{base}/report.xlsx").status_code == 200
    assert c.get(f"{base}/compare").json()["earlier_round"] is None


def test_api_bad_input(aw, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = _client(client, aw.world.office)
    base = f"/api/v1/assessment/rounds/{aw.round.public_id}"
    response = c.post(
        f"{base}/judgements",
        content_type="application/json",
        data={"indicator": "up_referral_rate", "subject": str(aw.members[0].public_id), "verdict": "met"},
    )
    assert response.status_code == 400
    # A malformed id, and a real institution outside the consortium the office sees.
    for unknown in ("no-such-unit", str(aw.world.outsider.public_id)):
        response = c.post(
            f"{base}/judgements",
            content_type="application/json",
            data={"indicator": "unified_management", "subject": unknown, "verdict": "met"},
        )
        assert response.status_code == 400 and "subject" in error_of(response)["fields"], response.content
    response = c.post(
        f"{base}/evidence",
        {
            "indicator": "unified_management",
            "subject": str(aw.members[0].public_id),
            "file": SimpleUploadedFile("x.exe", b"MZ"),
        },
    )
    assert response.status_code == 400
    assert c.get(f"{base}/totals?version=-1").status_code == 400
    assert c.get(f"{base}/totals?version=7").status_code == 404
    response = c.post(
        "/api/v1/assessment/schemes",
        content_type="application/json",
        data={
            "name": "x",
            "subject": "members",
            "period_type": "month",
            "grading": "quartile",
            "items": [{"indicator": "no_such", "weight": "1", "rule": "target"}],
        },
    )
    assert response.status_code == 400


def test_api_matrix(aw, client):
    base = f"/api/v1/assessment/rounds/{aw.round.public_id}"
    expected = {
        "anonymous": 401,
        "stranger": 403,
        "outsider_doctor": 404,
        "township_admin": 404,
        "office": 201,
    }
    for who, status in expected.items():
        client.logout()
        c = _client(client, aw.world.users()[who])
        assert c.post(f"{base}/freeze", content_type="application/json", data={}).status_code == status, who


def test_api_scheme_create_and_update(aw, client):
    c = _client(client, aw.world.regulator)
    response = c.post(
        "/api/v1/assessment/schemes",
        content_type="application/json",
        data={
            "name": "年度",
            "subject": "consortia",
            "period_type": "year",
            "grading": "quartile",
            "items": [{"indicator": "up_referral_rate", "weight": "10", "rule": "rank"}],
        },
    )
    assert response.status_code == 201, response.content
    scheme_id = response.json()["public_id"]
    assert response.json()["items"][0]["indicator"] == "up_referral_rate"
    body = {"name": "年度2", "subject": "consortia", "period_type": "year", "grading": "quartile"}
    url = f"/api/v1/assessment/schemes/{scheme_id}"
    assert c.put(url, content_type="application/json", data=body).status_code == 400  # no version
    assert c.put(url, content_type="application/json", data=body, HTTP_IF_MATCH='"1"').status_code == 200
    assert c.put(url, content_type="application/json", data=body, HTTP_IF_MATCH='"1"').status_code == 409
    list_response = c.get("/api/v1/assessment/schemes")
    assert list_response.status_code == 200


def test_api_lists_query_counts(aw, client, django_assert_num_queries):
    for month in ("2025-04-01", "2025-05-01"):
        services.round_create(
            actor=aw.world.office,
            scheme=aw.scheme,
            kind="monthly_ranking",
            period_start=month,
            consortium=aw.world.consortium,
        )
    services.round_compute(actor=aw.world.office, round_=aw.round)
    c = _client(client, aw.world.office)
    c.get("/api/v1/assessment/rounds")
    with django_assert_num_queries(5):
        response = c.get("/api/v1/assessment/rounds")
    assert response.json()["count"] == 3
    with django_assert_num_queries(5):
        response = c.get("/api/v1/assessment/schemes")
    assert response.json()["count"] == 1
    # The subjects' public ids: one query for the page, whatever its length.
    with django_assert_num_queries(7):
        response = c.get(f"/api/v1/assessment/rounds/{aw.round.public_id}/totals?version=0")
    assert response.json()["count"] == 3
    assert {row["subject"] for row in response.json()["results"]} == {str(m.public_id) for m in aw.members}
    with django_assert_num_queries(7):
        response = c.get(f"/api/v1/assessment/rounds/{aw.round.public_id}/results?version=0")
    assert {row["subject"] for row in response.json()["results"]} == {str(m.public_id) for m in aw.members}


def test_qualitative_items_filter_page_and_bring_the_assessor_back(aw, client, monkeypatch):
    """A county self-assessment has a row per member and item: the assessor filters to the pending ones
    of one unit, pages through them, and a judgement returns to the same filtered page."""
    from yilian.assessment.views import pages

    monkeypatch.setattr(pages, "QUALITATIVE_PAGE_SIZE", 2)
    services.round_compute(actor=aw.world.office, round_=aw.round)
    c = _client(client, aw.world.office)
    url = reverse("assessment:round", args=[aw.round.public_id])
    response = c.get(url, {"v": 0})
    assert "待评判 3 / 共 3 项" in response.content.decode()
    assert len(response.context["qualitative_page"]) == 2
    assert response.context["qualitative_page"].paginator.num_pages == 2
    assert len(c.get(url, {"v": 0, "page": 2}).context["qualitative_page"]) == 1

    back = "v=0&state=pending&q=周集&next=https://evil.example/"
    judged = c.post(
        reverse("assessment:round_judge", args=[aw.round.public_id]),
        {"indicator": "unified_management", "subject_id": aw.members[1].pk, "verdict": "met", "back": back},
    )
    assert judged.status_code == 302
    assert judged["Location"] == f"{url}?v=0&state=pending&q=%E5%91%A8%E9%9B%86"  # nothing else travels

    def names(**query: str) -> list[str]:
        return [row.subject_name for row in c.get(url, {"v": 0, **query}).context["qualitative_page"]]

    assert names(state="pending", q="周集") == []
    assert names(state="judged") == ["霍邱县周集镇卫生院"]
    assert sorted(names(state="pending")) == sorted([aw.members[0].name, aw.members[2].name])
    assert names(indicator="no_such") == []


def test_round_form_lists_every_field_error_in_one_submit(aw, client):
    """No consortium and no period start: the form named only the consortium, then on the next submit
    the period start; both are field errors of the one submit now, and nothing is saved."""
    c = _client(client, aw.world.office)
    before = AssessmentRound.objects.count()
    response = c.post(
        reverse("assessment:round_new"),
        {"scheme": str(aw.scheme.public_id), "consortium": "", "kind": "monthly_ranking", "period_start": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-consortium"' in body and 'data-testid="error-period_start"' in body
    assert AssessmentRound.objects.count() == before


def test_round_pages_read_as_english_in_english(aw, client, settings, tmp_path):
    """The create button read "Created", the single scheme and consortium fields had plural labels, and
    the heading, the published status and the PDF's judgement lines kept full-width parentheses; the
    PDF header read "Version: Version 1"."""
    settings.MEDIA_ROOT = tmp_path
    c = _client(client, aw.world.office)
    form = c.get(reverse("assessment:round_new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Create</button>" in form and "Created" not in form
    assert "Assessment scheme <select" in form and "Medical consortium <select" in form
    c.post(
        reverse("assessment:round_judge", args=[aw.round.public_id]),
        {
            "indicator": "unified_management",
            "subject_id": aw.members[0].pk,
            "verdict": "met",
            "comment": "ok",
        },
    )
    _published(aw)
    page = c.get(reverse("assessment:round", args=[aw.round.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    heading = page.content.decode().split('data-testid="round-heading">')[1].split("</h1>")[0]
    status = page.content.decode().split('data-testid="round-status">')[1].split("</dd>")[0]
    assert "（" not in heading and "(" in heading
    assert status.endswith(" (version 1 published)")
    pdf = c.get(reverse("assessment:round_pdf", args=[aw.round.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    text = _pdf_strings(pdf.content)
    assert "Version: 1" in text and "Version: Version" not in text
    assert ": Met (score 20.00) ok" in text
    assert "（" not in text
    chinese = _pdf_strings(c.get(reverse("assessment:round_pdf", args=[aw.round.public_id])).content)
    assert "版本：第 1 版" in chinese and "：达到（得分 20.00）ok" in chinese


def test_the_pdf_charts_bars_are_told_apart_by_their_labels():
    """Labels were each name's last six characters: five township centres all read "镇中心卫生院"."""
    from types import SimpleNamespace

    from reportlab.lib.units import mm

    from yilian.assessment.documents import _totals_chart

    names = ["金寨县南溪镇中心卫生院", "金寨县双河镇中心卫生院", "金寨县古碑镇中心卫生院", "金寨县中医医院"]
    totals = [SimpleNamespace(subject_name=name, score=80, grade="good") for name in names]
    drawing = _totals_chart(totals, 180 * mm)
    labels = drawing.contents[0].categoryAxis.categoryNames
    assert labels == ["南溪镇中心卫生院", "双河镇中心卫生院", "古碑镇中心卫生院", "中医医院"]


def test_freezing_with_unjudged_qualitative_items_warns_that_they_count_as_zero(aw, client):
    """A round frozen before its qualitative items were judged said only "已冻结为第 1 版": its totals
    silently scored every unjudged item 0."""
    c = _client(client, aw.world.office)
    freeze = reverse("assessment:round_action", args=[aw.round.public_id, "freeze"])
    body = c.post(freeze, {"version": "0"}, follow=True).content.decode()
    assert "已冻结为第 1 版" in body
    assert "第 1 版有 3 项定性指标尚未评判，按 0 分计入总分" in body
    english = c.post(freeze, {"version": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Version 2 has 3 qualitative items not judged yet" in english
    judge = reverse("assessment:round_judge", args=[aw.round.public_id])
    for member in aw.members:
        c.post(judge, {"indicator": "unified_management", "subject_id": member.pk, "verdict": "met"})
    body = c.post(freeze, {"version": "2"}, follow=True).content.decode()
    assert "已冻结为第 3 版" in body and "尚未评判" not in body


def test_english_readers_see_the_indicators_english_name_on_the_page_and_in_the_exports(aw, client):
    from yilian.indicators.models import Indicator

    # The checklist indicator has no English name (typed by an office): it reads in Chinese.
    Indicator.objects.filter(pk=aw.rate.pk).update(name_en="Up-referral rate")
    _published(aw)
    c = _client(client, aw.world.office)
    url = reverse("assessment:round", args=[aw.round.public_id])
    english = c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Up-referral rate" in english and "上转率<" not in english and "统一管理" in english
    assert "Up-referral rate" not in c.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    workbook = load_workbook(
        io.BytesIO(
            c.get(
                reverse("assessment:round_xlsx", args=[aw.round.public_id]), HTTP_ACCEPT_LANGUAGE="en"
            ).content
        )
    )
    cells = {cell for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row}
    assert "Up-referral rate" in cells and "上转率" not in cells and "统一管理" in cells
    pdf = c.get(reverse("assessment:round_pdf", args=[aw.round.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Up-referral rate" in _pdf_strings(pdf.content)
    scheme = c.get(
        reverse("assessment:scheme", args=[aw.round.scheme.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Up-referral rate" in scheme


def _annual_round(aw):
    """A regulator's annual round over the consortia of the county (two of them), computed, not published."""
    import datetime

    from yilian.accounts.tests.factories import user_with_role
    from yilian.assessment.tests.factories import figure, indicator
    from yilian.core.permissions import Role
    from yilian.institutions.tests.factories import ConsortiumFactory, region

    annual = indicator("inside_share", target=50, period_type="year")
    second = ConsortiumFactory(
        name="霍邱县中医院医共体", region=aw.world.regions["county"], lead=aw.world.outsider
    )
    elsewhere = ConsortiumFactory(name="外省医共体", region=region("320000", "江苏省", "province"))
    for consortium, value in ((aw.world.consortium, "45"), (second, "60")):
        figure(
            annual,
            consortium.pk,
            value,
            kind="consortium",
            period_type="year",
            start=datetime.date(2025, 1, 1),
        )
    scheme = services.scheme_create(
        actor=aw.world.regulator,
        consortium=None,
        data={
            "name": "年度综合绩效考核",
            "description": "结果公开",
            "subject": "consortia",
            "period_type": "year",
            "grading": "bands",
            "grade_bands": {"excellent": "90", "good": "70", "fair": "60"},
        },
        items=[{"indicator": annual, "weight": "100", "rule": "target"}],
    )
    round_ = services.round_create(
        actor=aw.world.regulator,
        scheme=scheme,
        kind="regulator_annual",
        period_start="2025-01-01",
        region=aw.world.regions["county"],
    )
    services.round_freeze(actor=aw.world.regulator, round_=round_)
    users = {
        "second_office": user_with_role(Role.CONSORTIUM_OFFICE, consortium=second),
        "elsewhere_office": user_with_role(Role.CONSORTIUM_OFFICE, consortium=elsewhere),
    }
    return round_, second, users


def test_the_assessed_consortia_read_their_own_published_annual_result(aw, client):
    round_, second, users = _annual_round(aw)
    url = reverse("assessment:round", args=[round_.public_id])
    readers = {
        "office": aw.world.office,
        "hospital_admin": aw.world.hospital_admin,
        "township_admin": aw.world.township_admin,
        "second_office": users["second_office"],
    }
    for who, user in readers.items():  # not published yet: nobody assessed reads it
        client.force_login(user)
        assert client.get(url).status_code == 404, who
    services.round_publish(actor=aw.world.regulator, round_=AssessmentRound.objects.get(pk=round_.pk))
    for who, user in readers.items():
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, who
        names = {total.subject_name for total in response.context["totals"]}
        own = second.name if who == "second_office" else aw.world.consortium.name
        assert names == {own}, who  # its own consortium's row, never the other's
        assert client.get(reverse("assessment:round_xlsx", args=[round_.public_id])).status_code == 200
        assert round_.public_id in {r.public_id for r in services_round_list(user)}
    # Neither a doctor of a member, nor another region's consortium, nor someone without a role.
    for who, user in (
        ("hospital_doctor", aw.world.hospital_doctor),
        ("elsewhere_office", users["elsewhere_office"]),
        ("outsider_doctor", aw.world.outsider_doctor),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404, who
        assert client.get(reverse("assessment:round_pdf", args=[round_.public_id])).status_code == 404, who


def services_round_list(user):
    from yilian.assessment import selectors

    return list(selectors.round_list(user))


def _in_units_of_visits(aw: AssessmentWorld) -> None:
    """The rate counted in 人次 with an English name; the checklist item keeps only its Chinese name."""
    from yilian.indicators.models import Indicator

    Indicator.objects.filter(pk=aw.rate.pk).update(name_en="Up-referral rate", unit="人次")
    services.round_compute(actor=aw.world.office, round_=aw.round)


def test_api_results_give_the_name_and_unit_in_the_requests_language_beside_the_stored_ones(aw, client):
    _in_units_of_visits(aw)
    c = _client(client, aw.world.office)
    url = f"/api/v1/assessment/rounds/{aw.round.public_id}/results?version=0"
    english = c.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    chinese = c.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    for rows, label, unit_label in (
        (english, "Up-referral rate", "person-times"),
        (chinese, "上转率", "人次"),
    ):
        rate = next(row for row in rows if row["indicator_code"] == "up_referral_rate")
        # The stored fields keep their meaning whatever the language: the contract of existing clients.
        assert (rate["indicator_name"], rate["indicator_name_en"], rate["unit"]) == (
            "上转率",
            "Up-referral rate",
            "人次",
        )
        assert (rate["indicator_label"], rate["unit_label"]) == (label, unit_label)
        checklist = next(row for row in rows if row["indicator_code"] == "unified_management")
        assert checklist["indicator_name_en"] == "" and checklist["indicator_label"] == "统一管理"
    scheme = f"/api/v1/assessment/schemes/{aw.scheme.public_id}"
    items = c.get(scheme, HTTP_ACCEPT_LANGUAGE="en").json()["items"]
    assert [(i["indicator_name"], i["indicator_label"]) for i in items] == [
        ("上转率", "Up-referral rate"),
        ("统一管理", "统一管理"),
    ]
    items = c.get(scheme, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["items"]
    assert [i["indicator_label"] for i in items] == ["上转率", "统一管理"]


def test_units_read_in_the_readers_language_on_the_round_page_and_in_the_exports(aw, client):
    _in_units_of_visits(aw)
    c = _client(client, aw.world.office)
    url = reverse("assessment:round", args=[aw.round.public_id]) + "?v=0"
    english = c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "12.00 person-times" in english and "12.00人次" not in english
    assert "12.00人次" in c.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    _published(aw)
    xlsx = reverse("assessment:round_xlsx", args=[aw.round.public_id])
    for language, unit in (("en", "person-times"), ("zh-hans", "人次")):
        workbook = load_workbook(io.BytesIO(c.get(xlsx, HTTP_ACCEPT_LANGUAGE=language).content))
        figures = list(workbook.worksheets[1].iter_rows(values_only=True))
        rate_rows = [row for row in figures if row[2] == "up_referral_rate"]
        assert rate_rows and {row[9] for row in rate_rows} == {unit}, language
    pdf = reverse("assessment:round_pdf", args=[aw.round.public_id])
    assert "12.00 person-times" in _pdf_strings(c.get(pdf, HTTP_ACCEPT_LANGUAGE="en").content)
    assert "12.00人次" in _pdf_strings(c.get(pdf, HTTP_ACCEPT_LANGUAGE="zh-hans").content)


def test_the_workbook_of_the_draft_says_draft_not_version_0(aw, client):
    services.round_compute(actor=aw.world.office, round_=aw.round)
    url = reverse("assessment:round_xlsx", args=[aw.round.public_id]) + "?v=0"
    c = _client(client, aw.world.office)
    chinese = load_workbook(io.BytesIO(c.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content))["总分"]
    english = load_workbook(io.BytesIO(c.get(url, HTTP_ACCEPT_LANGUAGE="en").content))["Total"]
    assert next(chinese.iter_rows(min_row=2, max_row=2, values_only=True))[:2] == ("版本", "草稿")
    assert next(english.iter_rows(min_row=2, max_row=2, values_only=True))[:2] == ("Version", "Draft")
    english_figures = load_workbook(io.BytesIO(c.get(url, HTTP_ACCEPT_LANGUAGE="en").content)).worksheets[1]
    assert (
        next(english_figures.iter_rows(max_row=1, values_only=True))[8] == "Value"
    )  # one figure, not a page
    _published(aw)
    published = load_workbook(
        io.BytesIO(c.get(reverse("assessment:round_xlsx", args=[aw.round.public_id])).content)
    )["总分"]
    assert next(published.iter_rows(min_row=2, max_row=2, values_only=True))[:2] == ("版本", 1)


def test_the_new_round_form_brackets_the_schemes_period_in_the_readers_language(aw, client):
    c = _client(client, aw.world.office)
    url = reverse("assessment:round_new")
    english = c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = c.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    name = aw.round.scheme.name
    assert re.search(re.escape(name) + r" \([A-Z][a-z-]+\)</option>", english), english
    assert re.search(re.escape(name) + r"（[^）]+）</option>", chinese)
    assert "（Month）" not in english and "（Year）" not in english


def test_the_pdf_cuts_long_names_by_their_width_not_by_a_character_count(aw, client):
    from yilian.assessment.documents import FONT, fit
    from yilian.indicators.models import Indicator

    long_name = "Monthly up-referral rate of a member institution"  # 48 characters
    Indicator.objects.filter(pk=aw.rate.pk).update(name_en=long_name)
    _published(aw)
    c = _client(client, aw.world.office)
    pdf = c.get(reverse("assessment:round_pdf", args=[aw.round.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    text = _pdf_strings(pdf.content)
    # More than the 16 characters it used to keep; cut where the column ends, with an ellipsis.
    assert "Monthly up-referral rate" in text and long_name not in text and "…※ v1" in text
    from reportlab.pdfbase import pdfmetrics

    chinese = "金寨县麻埠镇储庄村卫生室金寨县麻埠镇储庄村卫生室"
    cut = fit(chinese, 100, 8)
    assert cut.endswith("…") and pdfmetrics.stringWidth(cut, FONT, 8) <= 100
    assert fit("short", 100, 8) == "short"
