"""The pages: the main flow as a doctor, the authorization matrix, bad input and query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.chronic_care.tests.factories import care_world, days_ago, enrol, visit
from yilian.core.models import AuditEvent
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_enrol_record_and_refer_in_the_browser_flow(world):
    cw = care_world(world)
    gp = client_for(cw.gp)
    response = gp.get(reverse("chronic_care:enrol") + f"?person={cw.patient.public_id}")
    assert response.status_code == 200
    response = gp.post(
        reverse("chronic_care:enrol"),
        {
            "person": str(cw.patient.public_id),
            "registry": "hypertension",
            "diagnosis_code": "I10.x00",
            "institution": str(world.township.public_id),
            "care_team": str(cw.team.public_id),
            "enrolled_on": days_ago(100).isoformat(),
        },
    )
    case = ChronicCase.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/cases/{case.public_id}/follow-up/"
    )
    url = reverse("chronic_care:follow-up-new", args=[case.public_id])
    assert gp.get(url).status_code == 200
    bad = gp.post(
        url,
        {
            "visited_on": days_ago(40).isoformat(),
            "method": "clinic",
            "systolic": "400",
            "diastolic": "90",
            "adherence": "regular",
            "side_effects": "none",
            "complications": "none",
        },
    )
    assert bad.status_code == 400
    assert "收缩压 400 mmHg 超出允许范围" in bad.content.decode()
    assert not FollowUp.objects.exists()
    for days, sbp in ((40, 162), (5, 166)):
        response = gp.post(
            url,
            {
                "visited_on": days_ago(days).isoformat(),
                "method": "clinic",
                "systolic": str(sbp),
                "diastolic": "96",
                "adherence": "regular",
                "side_effects": "none",
                "complications": "none",
            },
        )
        assert response.status_code == 302
    follow_up = FollowUp.objects.order_by("-visited_on").first()
    assert follow_up.suggestion == "refer"
    detail = gp.get(reverse("chronic_care:follow-up", args=[follow_up.public_id]))
    assert "连续两次随访控制不满意" in detail.content.decode()
    assert gp.get(reverse("chronic_care:suggestions")).status_code == 200
    confirm = gp.get(reverse("chronic_care:refer", args=[follow_up.public_id]))
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "心血管内科" in page and "166/96" in page
    form = confirm.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.update(patient_consented="on", acknowledge_missing="on")
    sent = gp.post(reverse("chronic_care:refer", args=[follow_up.public_id]), data)
    assert sent.status_code == 302, sent.content.decode()[:2000]
    follow_up.refresh_from_db()
    assert follow_up.referral is not None and follow_up.suggestion_state == "referred"
    assert follow_up.referral.priority == "urgent" and follow_up.referral.to_department == cw.cardiology
    assert AuditEvent.objects.filter(action="chronic_follow_up.refer").count() == 1
    # The case page, person page section and lists render, with every placeholder filled in.
    for url in (
        reverse("chronic_care:case", args=[case.public_id]),
        reverse("chronic_care:follow-up-new", args=[case.public_id]),
        reverse("chronic_care:follow-up", args=[follow_up.public_id]),
        reverse("chronic_care:list"),
        reverse("chronic_care:overdue") + "?within=30",
        reverse("chronic_care:registries"),
    ):
        page = gp.get(url)
        assert page.status_code == 200 and "%(" not in page.content.decode(), url
    record = gp.get(reverse("people:detail", args=[cw.patient.public_id]))
    assert record.status_code == 200 and "record-chronic-case" in record.content.decode()


PAGES = [
    "chronic_care:list",
    "chronic_care:overdue",
    "chronic_care:suggestions",
    "chronic_care:rates",
    "chronic_care:registries",
]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", {"chronic_care:list": 302, "chronic_care:overdue": 302, "chronic_care:rates": 302}),
        ("stranger", {"chronic_care:list": 403, "chronic_care:overdue": 403, "chronic_care:rates": 403}),
        ("gp", {"chronic_care:list": 200, "chronic_care:overdue": 200, "chronic_care:rates": 200}),
        ("specialist", {"chronic_care:list": 200, "chronic_care:overdue": 200, "chronic_care:rates": 200}),
        ("office", {"chronic_care:list": 302, "chronic_care:overdue": 403, "chronic_care:rates": 200}),
        ("regulator", {"chronic_care:list": 302, "chronic_care:overdue": 403, "chronic_care:rates": 200}),
    ],
)
def test_page_matrix(world, who, expected):
    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=120)
    client = client_for(cw.users()[who])
    for name, status in expected.items():
        assert client.get(reverse(name)).status_code == status, (who, name)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("gp", 200),
        ("nurse", 200),
        ("township_admin", 200),
        ("specialist", 200),  # lead-hospital specialist in the case's team
        ("outsider_specialist", 404),  # specialist of another team
        ("hospital_doctor", 404),
        ("outsider_doctor", 404),
        ("office", 404),
        ("regulator", 404),
        ("admin", 404),
    ],
)
def test_case_page_visibility(world, who, status):
    cw = care_world(world)
    case = enrol(cw)
    assert (
        client_for(cw.users()[who]).get(reverse("chronic_care:case", args=[case.public_id])).status_code
        == status
    )


def test_only_managing_staff_or_team_record_follow_ups(world):
    cw = care_world(world)
    case = enrol(cw)
    url = reverse("chronic_care:follow-up-new", args=[case.public_id])
    assert client_for(cw.nurse).get(url).status_code == 200
    assert client_for(cw.specialist).get(url).status_code == 200
    assert client_for(world.township_admin).get(url).status_code == 403
    assert client_for(world.outsider_doctor).get(url).status_code == 404


def test_office_rates_show_no_names(world):
    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=3)
    response = client_for(world.office).get(reverse("chronic_care:rates") + "?group=team")
    content = response.content.decode()
    assert response.status_code == 200 and "王老汉" not in content and "城关一队" in content
    xlsx = client_for(world.office).get(reverse("chronic_care:rates") + "?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_list_pages_constant_queries(world, django_assert_max_num_queries):
    cw = care_world(world)
    for index in range(3):
        case = enrol(
            cw, patient=person(f"患者{index}", institution=world.township), enrolled_on=days_ago(300)
        )
        visit(cw, case, days=200, sbp=170, dbp=100)
        visit(cw, case, days=150, sbp=165, dbp=100)
    client = client_for(cw.gp)
    counts = {}
    for name in ("chronic_care:list", "chronic_care:overdue", "chronic_care:suggestions"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            assert client.get(reverse(name)).status_code == 200
        counts[name] = len(few)
    for index in range(6):
        case = enrol(
            cw, patient=person(f"新患者{index}", institution=world.township), enrolled_on=days_ago(300)
        )
        visit(cw, case, days=200, sbp=170, dbp=100)
        visit(cw, case, days=150, sbp=165, dbp=100)
    for name, count in counts.items():
        with django_assert_max_num_queries(count):
            assert client.get(reverse(name)).status_code == 200


def test_close_and_dismiss_through_the_pages(world):
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, complications="worse", complications_note="肾功能下降")
    gp = client_for(cw.gp)
    empty = gp.post(reverse("chronic_care:dismiss", args=[follow_up.public_id]), {"note": ""})
    assert empty.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.suggestion_state == "open"
    gp.post(reverse("chronic_care:dismiss", args=[follow_up.public_id]), {"note": "患者拒绝，已告知风险"})
    follow_up.refresh_from_db()
    assert follow_up.suggestion_state == "dismissed"
    assert client_for(cw.nurse).post(
        reverse("chronic_care:case-close", args=[case.public_id]),
        {"reason": "moved", "closed_on": days_ago(0).isoformat()},
    ).status_code in (302, 403)
    case.refresh_from_db()
    assert case.status == "active"
    gp.post(
        reverse("chronic_care:case-close", args=[case.public_id]),
        {"reason": "moved", "closed_on": days_ago(0).isoformat()},
    )
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "moved"
    assert gp.get(reverse("chronic_care:follow-up-new", args=[case.public_id])).status_code == 403


def test_office_adds_a_registry_in_the_page(world):
    care_world(world)
    office = client_for(world.office)
    assert client_for(world.regulator).get(reverse("chronic_care:registry-new")).status_code == 403
    bad = office.post(
        reverse("chronic_care:registry-new"),
        {
            "code": "copd",
            "name": "慢阻肺",
            "icd10_ranges": "J44",
            "measures": ["blood_pressure"],
            "follow_ups_per_year": "2",
        },
    )
    assert bad.status_code == 400
    good = office.post(
        reverse("chronic_care:registry-new"),
        {
            "code": "copd",
            "name": "慢阻肺",
            "icd10_ranges": "J44",
            "measures": ["blood_pressure"],
            "follow_ups_per_year": "4",
            "systolic_below": "140",
            "diastolic_below": "90",
            "is_active": "on",
        },
    )
    assert good.status_code == 302
    edit = office.get(reverse("chronic_care:registry-edit", args=["copd"]))
    assert edit.status_code == 200 and "J44" in edit.content.decode()


def test_suggestions_offer_the_referral_only_to_those_who_may_send_it(world):
    """A nurse of the managing institution sees the suggestion, but 'send referral' would answer 403."""
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, complications="worse", complications_note="肾功能下降")
    refer_url = reverse("chronic_care:refer", args=[follow_up.public_id])
    nurse_page = client_for(cw.nurse).get(reverse("chronic_care:suggestions")).content.decode()
    assert 'data-testid="suggestion-row"' in nurse_page
    assert client_for(cw.nurse).get(refer_url).status_code == 403
    assert refer_url not in nurse_page
    doctor_page = client_for(cw.gp).get(reverse("chronic_care:suggestions")).content.decode()
    assert refer_url in doctor_page


def test_managing_institution_is_not_called_management_bodies_in_english(world):
    """管理机构 shares its msgid with the consortium's management bodies; a case's is its institution."""
    cw = care_world(world)
    case = enrol(cw)
    gp = client_for(cw.gp)
    enrol_page = gp.get(reverse("chronic_care:enrol"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    case_page = gp.get(reverse("chronic_care:case", args=[case.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    for text in (enrol_page, case_page.content.decode()):
        assert "Managing institution" in text and "Management bodies" not in text


def test_english_care_team_option_and_follow_up_units(world):
    """The care-team option carries the institution once, without a second bracket; measurements
    show their units."""
    from yilian.family_doctors.models import CareTeam

    cw = care_world(world)
    CareTeam.objects.filter(pk=cw.team.pk).update(name=f"{world.township.name}家庭医生团队（何俊团队）")
    world.township.short_name = "城关镇卫生院"
    world.township.save()
    CareTeam.objects.filter(pk=cw.other_team.pk).update(name="城关镇卫生院家庭医生二队")
    gp = client_for(cw.gp)
    page = gp.get(reverse("chronic_care:enrol"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{world.township.name}家庭医生团队（何俊团队）</option>" in page
    assert "城关镇卫生院家庭医生二队</option>" in page and "）（" not in page
    follow_up = visit(cw, enrol(cw), heart_rate=88)
    page = gp.get(reverse("chronic_care:follow-up", args=[follow_up.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    assert "88 bpm" in page.content.decode()
    from yilian.family_doctors.selectors import team_label

    assert team_label(CareTeam(institution=world.township, name="一队")) == f"一队 · {world.township.name}"


def test_a_double_submitted_follow_up_form_records_one_visit(world):
    cw = care_world(world)
    case = enrol(cw)
    gp = client_for(cw.gp)
    url = reverse("chronic_care:follow-up-new", args=[case.public_id])
    page = gp.get(url).content.decode()
    assert 'name="idempotency_key"' in page and "Idempotency" not in page
    data = {
        "idempotency_key": "visit-form-1",
        "visited_on": days_ago(1).isoformat(),
        "method": "clinic",
        "systolic": "132",
        "diastolic": "84",
        "adherence": "regular",
        "side_effects": "none",
        "complications": "none",
    }
    first = gp.post(url, data)
    second = gp.post(url, data)  # a double click posts the same form again
    assert first.status_code == second.status_code == 302
    follow_up = FollowUp.objects.get(case=case)
    assert first["Location"] == second["Location"] == f"/chronic-care/follow-ups/{follow_up.public_id}/"
    case.refresh_from_db()
    assert case.follow_up_count == 1
    data["idempotency_key"] = "visit-form-2"  # a new form is a new visit
    assert gp.post(url, data).status_code == 302
    assert FollowUp.objects.filter(case=case).count() == 2


def test_the_registries_page_in_english_separates_the_targets_with_a_plain_semicolon(world):
    cw = care_world(world)
    gp = client_for(cw.gp)
    text = gp.get(reverse("chronic_care:registries"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "mmHg; 65 and over" in text and "mmHg；" not in text
    chinese = gp.get(reverse("chronic_care:registries")).content.decode()
    assert "mmHg；65 岁及以上" in chinese
