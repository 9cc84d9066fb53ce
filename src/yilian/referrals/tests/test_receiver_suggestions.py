"""Receiving departments suggested for a diagnosis: the department of the diagnosis's own subject
(ICD-10 block → 诊疗科目 second level), the broader subject where an institution has none, most specific first."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yilian.core.api.testing import api_client
from yilian.institutions.models import Department
from yilian.institutions.tests.factories import ConsortiumMemberFactory, DepartmentFactory, HospitalFactory
from yilian.referrals import selectors
from yilian.referrals.tests.factories import draft, referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(db):
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def rw(world):
    """The referral world's lead hospital with several 内科 departments, and a second member hospital
    with one undivided 内科 (no 心血管内科 and no 神经内科 there)."""
    rw = referral_world(world)  # the lead hospital's 心血管内科 (03) and 普外科 (04)
    for name in ("呼吸与危重症医学科", "神经内科", "内分泌科", "消化内科"):
        DepartmentFactory(institution=world.hospital, name=name, specialty="03")
    DepartmentFactory(institution=world.hospital, name="神经外科", specialty="04")
    second = HospitalFactory(name="霍邱县第二人民医院", region=world.hospital.region)
    ConsortiumMemberFactory(consortium=world.consortium, institution=second)
    DepartmentFactory(institution=second, name="大内科", specialty="03")
    DepartmentFactory(institution=second, name="呼吸内科", specialty="03")
    DepartmentFactory(institution=second, name="外科", specialty="04")
    return rw


def _suggested(rw, code):
    """(institution, department, match) of the recommended receivers, in the order offered."""
    departments = selectors.receiving_options(rw.township_doctor, rw.world.township, code)
    matches = selectors.diagnosis_matches(departments, code)
    return [
        (d.institution.name, d.name, str(matches[d.pk]))
        for d in departments
        if matches[d.pk] != selectors.ReceiverMatch.NONE
    ]


LEAD, SECOND = "霍邱县人民医院", "霍邱县第二人民医院"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # I20–I25 ischaemic heart disease → 03.04 心血管内科专业; the second hospital has only 大内科
        ("I20.0", [(LEAD, "心血管内科", "subject"), (SECOND, "大内科", "specialty")]),
        # I60–I69 cerebrovascular → 03.03 神经内科专业, never the 神经外科 (a 外科 department)
        ("I63.9", [(LEAD, "神经内科", "subject"), (SECOND, "大内科", "specialty")]),
        # J → 03.01 呼吸内科专业: both hospitals have one, so neither 大内科 is offered
        ("J18.9", [(LEAD, "呼吸与危重症医学科", "subject"), (SECOND, "呼吸内科", "subject")]),
        # E → 03.07 内分泌专业
        ("E11.9", [(LEAD, "内分泌科", "subject"), (SECOND, "大内科", "specialty")]),
        # A national-edition extension keeps its block
        ("I20.000", [(LEAD, "心血管内科", "subject"), (SECOND, "大内科", "specialty")]),
    ],
)
def test_the_most_specific_department_is_suggested_first(rw, code, expected):
    assert _suggested(rw, code) == expected


def test_a_block_without_a_subject_falls_back_to_the_chapters_departments(rw):
    # I80 (phlebitis, I80–I89 diseases of veins) has no second-level subject here: chapter IX → 内科
    assert {name for _institution, name, _match in _suggested(rw, "I80.2")} == {
        "心血管内科",
        "呼吸与危重症医学科",
        "神经内科",
        "内分泌科",
        "消化内科",
        "大内科",
        "呼吸内科",
    }
    assert {match for *_rest, match in _suggested(rw, "I80.2")} == {"specialty"}


def test_an_unmapped_diagnosis_suggests_nothing_and_keeps_the_lead_first(rw):
    assert _suggested(rw, "R51") == []
    departments = selectors.receiving_options(rw.township_doctor, rw.world.township, "R51")
    assert departments[0].institution.name == LEAD
    assert _suggested(rw, "") == []


def test_the_receivers_api_orders_and_marks_the_suggestions(rw):
    response = api_client(rw.township_doctor).get(
        "/api/v1/referral-receivers",
        {"from_institution": str(rw.world.township.public_id), "diagnosis_code": "I20.0"},
    )
    assert response.status_code == 200, response.content
    rows = [(row["institution"]["name"], row["name"], row["match"]) for row in response.json()]
    assert rows[:2] == [(LEAD, "心血管内科", "subject"), (SECOND, "大内科", "specialty")]
    assert {match for *_rest, match in rows[2:]} == {"none"}
    assert (LEAD, "呼吸与危重症医学科", "none") in rows


def _optgroup(html: str, label: str) -> str:
    start = html.index(f'label="{label}"')
    return html[start : html.index("</optgroup>", start)]


def test_the_draft_form_recommends_cardiology_not_every_internal_medicine_department(client_for, rw):
    client = client_for(rw.township_doctor)
    options = client.get(
        reverse("referrals:department-options"),
        {"from_institution": str(rw.world.township.public_id), "diagnosis_code": "I20.0"},
    ).content.decode()
    recommended = _optgroup(options, "推荐（与诊断相符的专科）")
    assert recommended.index("心血管内科") < recommended.index("大内科")
    assert "呼吸与危重症医学科" not in recommended and "神经内科" not in recommended
    assert "呼吸与危重症医学科" in _optgroup(options, "其他科室")
    # A saved draft's form, opened again, offers the same group for the draft's diagnosis.
    referral = draft(rw, diagnosis_code="I20.0", diagnosis_name="不稳定型心绞痛")
    page = client.get(reverse("referrals:edit", args=[referral.public_id])).content.decode()
    recommended = _optgroup(page, "推荐（与诊断相符的专科）")
    assert recommended.index("心血管内科") < recommended.index("大内科") and "神经内科" not in recommended


def test_redirecting_recommends_the_diagnosis_subject(client_for, rw):
    referral = submitted(rw, diagnosis_code="I63.9", diagnosis_name="脑梗死")
    page = client_for(rw.hospital_doctor).get(reverse("referrals:detail", args=[referral.public_id]))
    recommended = _optgroup(page.content.decode(), "推荐（与诊断相符的专科）")
    assert "神经内科" in recommended and "心血管内科" not in recommended


def test_a_recorded_subject_wins_over_the_name(rw):
    second = rw.world.consortium.members.get(institution__name=SECOND).institution
    # The second hospital's cardiology ward is named for neither subject nor specialty: recorded, it is found
    DepartmentFactory(institution=second, name="胸痛中心", specialty="03", subject="03.04")
    # The lead's ward is named like cardiology but records 老年病: the name no longer counts
    DepartmentFactory(institution=rw.world.hospital, name="老年心血管病区", specialty="03", subject="03.10")
    suggested = _suggested(rw, "I20.0")
    assert suggested == [(LEAD, "心血管内科", "subject"), (SECOND, "胸痛中心", "subject")]
    # unrecorded, 胸痛中心's name says nothing: it counts as one more undivided 内科, a fallback only
    Department.objects.filter(name="胸痛中心").update(subject="")
    assert _suggested(rw, "I20.0") == [
        (LEAD, "心血管内科", "subject"),
        (SECOND, "大内科", "specialty"),
        (SECOND, "胸痛中心", "specialty"),
    ]


@pytest.fixture
def women_and_rheumatology(rw):
    """The lead hospital's 妇科, 产科 (by name) and 风湿免疫科 (recorded); the second's undivided 妇产科."""
    second = rw.world.consortium.members.get(institution__name=SECOND).institution
    DepartmentFactory(institution=rw.world.hospital, name="妇科", specialty="05")
    DepartmentFactory(institution=rw.world.hospital, name="产科", specialty="05")
    DepartmentFactory(institution=rw.world.hospital, name="风湿免疫科", specialty="03", subject="03.08")
    DepartmentFactory(institution=second, name="妇产科", specialty="05")
    return rw


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # N70–N98 diseases of the female genital organs → 05.01 妇科专业
        ("N83.2", [(LEAD, "妇科", "subject"), (SECOND, "妇产科", "specialty")]),
        # O → 05.02 产科专业
        ("O80.0", [(LEAD, "产科", "subject"), (SECOND, "妇产科", "specialty")]),
        ("O24.4", [(LEAD, "产科", "subject"), (SECOND, "妇产科", "specialty")]),
        # M05–M14 inflammatory polyarthropathies and M30–M36 connective tissue → 03.08 免疫学专业 (风湿免疫)
        ("M06.9", [(LEAD, "风湿免疫科", "subject"), (SECOND, "大内科", "specialty")]),
        ("M32.9", [(LEAD, "风湿免疫科", "subject"), (SECOND, "大内科", "specialty")]),
    ],
)
def test_gynaecology_obstetrics_and_rheumatology(women_and_rheumatology, code, expected):
    assert _suggested(women_and_rheumatology, code) == expected


def test_other_musculoskeletal_and_genitourinary_blocks_keep_their_chapters(women_and_rheumatology):
    # M16 (coxarthrosis) is outside M05–M14: chapter XIII → 外科 and 康复, not 风湿免疫
    assert "风湿免疫科" not in {name for _i, name, _m in _suggested(women_and_rheumatology, "M16.1")}
    # N40 (prostatic hyperplasia) is outside N70–N98: never 妇科
    assert "妇科" not in {name for _i, name, _m in _suggested(women_and_rheumatology, "N40")}
