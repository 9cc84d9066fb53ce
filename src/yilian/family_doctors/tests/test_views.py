"""The family-doctor pages: who sees what, the signing flow, renew / terminate, exports, query counts."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from yilian.family_doctors.models import CareTeamMember, FamilyDoctorContract, ServicePackage
from yilian.family_doctors.tests.factories import resident, sign, today

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _html(response):
    return response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("stranger", 404),  # the team is not theirs to see at all
        ("office", 403),  # sees the team (aggregates), not its residents
        ("regulator", 403),
        ("hospital_admin", 404),
        ("hospital_other_doctor", 404),
        ("outsider_doctor", 404),
        ("specialist", 200),
        ("gp", 200),
        ("township_admin", 200),
        ("admin", 200),
    ],
)
def test_panel_matrix(fw, who, status):
    sign(fw)
    response = client_for(fw.users()[who]).get(reverse("family_doctors:panel", args=[fw.team.public_id]))
    assert response.status_code == status
    assert ("王芳" in _html(response)) == (status == 200)


@pytest.mark.parametrize("who", ["office", "regulator", "township_admin", "gp", "specialist"])
def test_team_pages_and_coverage_render(fw, who):
    sign(fw, who=fw.elder, priority_groups=["elderly"])
    client = client_for(fw.users()[who])
    listing = client.get(reverse("family_doctors:teams"))
    assert listing.status_code == 200 and "城关一队" in _html(listing)
    detail = client.get(reverse("family_doctors:team", args=[fw.team.public_id]))
    assert detail.status_code == 200 and "何俊" in _html(detail)
    assert "赵大爷" not in _html(detail)
    coverage = client.get(reverse("family_doctors:coverage"), {"by": "institution"})
    assert coverage.status_code == 200 and "赵大爷" not in _html(coverage)
    assert client.get(reverse("family_doctors:packages")).status_code == 200


def test_coverage_exports_excel(fw):
    sign(fw, who=fw.elder, priority_groups=["elderly"])
    response = client_for(fw.world.office).get(
        reverse("family_doctors:coverage"), {"by": "team", "format": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A3"].value == "城关一队" and sheet["D3"].value == 1


def test_admin_adds_and_removes_members_on_the_team_page(fw):
    client = client_for(fw.world.township_admin)
    url = reverse("family_doctors:team", args=[fw.team.public_id])
    response = client.post(url, {"user": str(fw.hospital_other_doctor.public_id), "role": "specialist"})
    assert response.status_code == 302
    assert CareTeamMember.objects.filter(
        team=fw.team, user=fw.hospital_other_doctor, left_on__isnull=True
    ).exists()
    bad = client.post(url, {"user": str(fw.hospital_other_doctor.public_id), "role": "nurse"})
    assert bad.status_code == 200  # no longer offered: a form error, nothing changed
    remove = reverse(
        "family_doctors:member-action", args=[fw.team.public_id, fw.hospital_other_doctor.public_id, "remove"]
    )
    assert client.post(remove).status_code == 302
    assert CareTeamMember.objects.get(team=fw.team, user=fw.hospital_other_doctor).left_on == today()
    # a member may not manage the team
    assert (
        client_for(fw.gp)
        .post(url, {"user": str(fw.hospital_other_doctor.public_id), "role": "specialist"})
        .status_code
        == 403
    )


def test_admin_forms_a_team(fw):
    client = client_for(fw.world.township_admin)
    page = client.get(reverse("family_doctors:team-new"))
    assert page.status_code == 200 and "何俊" in _html(page)
    response = client.post(
        reverse("family_doctors:team-new"),
        {
            "institution": str(fw.world.township.public_id),
            "name": "城关二队",
            "grid": str(fw.grid.public_id),
            "leader": str(fw.public_health.public_id),
            "leader_role": "public_health",
        },
    )
    assert response.status_code == 302
    assert client_for(fw.gp).get(reverse("family_doctors:team-new")).status_code == 403


def test_signing_flow_finds_picks_and_signs(fw):
    client = client_for(fw.gp)
    url = reverse("family_doctors:sign")
    found = client.get(url, {"team": str(fw.team.public_id), "q": "赵"})
    assert found.status_code == 200 and "赵大爷" in _html(found) and "钱多多" not in _html(found)
    picked = client.get(url, {"team": str(fw.team.public_id), "person": str(fw.elder.public_id)})
    html = _html(picked)
    assert 'value="elderly" ' in html and "checked" in html.split('value="elderly"')[1][:40]
    response = client.post(
        url,
        {
            "team": str(fw.team.public_id),
            "person": str(fw.elder.public_id),
            "package": str(fw.basic.public_id),
            "priority_groups": ["elderly", "hypertension"],
        },
    )
    contract = FamilyDoctorContract.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "family_doctors:contract", args=[contract.public_id]
    )
    again = client.get(url, {"team": str(fw.team.public_id), "person": str(fw.elder.public_id)})
    assert 'data-testid="sign-existing"' in _html(again)
    # someone outside the grid cannot be picked
    assert (
        client.get(
            url, {"team": str(fw.team.public_id), "person": str(fw.outside_resident.public_id)}
        ).status_code
        == 404
    )


def test_signing_form_shows_errors_and_saves_nothing(fw):
    response = client_for(fw.gp).post(
        reverse("family_doctors:sign"),
        {
            "team": str(fw.team.public_id),
            "person": str(fw.resident.public_id),
            "package": str(fw.basic.public_id),
            "priority_groups": ["children"],
            "ends_on": "2000-01-01",
        },
    )
    assert response.status_code == 200
    assert 'data-testid="error-priority_groups"' in _html(
        response
    ) and 'data-testid="error-ends_on"' in _html(response)
    assert not FamilyDoctorContract.objects.exists()


def test_register_and_sign_a_new_resident(fw):
    from yilian.people.tests.factories import resident_id

    response = client_for(fw.nurse).post(
        reverse("family_doctors:sign") + f"?team={fw.team.public_id}&new=1",
        {
            "team": str(fw.team.public_id),
            "new": "1",
            "new_name": "孙新",
            "new_id_number": resident_id(birth=datetime.date(1990, 3, 3)),
            "package": str(fw.basic.public_id),
        },
    )
    assert response.status_code == 302
    assert FamilyDoctorContract.objects.get().person.name == "孙新"


def test_signing_page_is_for_signing_members_only(fw):
    for who in ("specialist", "office", "hospital_admin"):
        assert client_for(fw.users()[who]).get(reverse("family_doctors:sign")).status_code == 403


def test_contract_page_renews_terminates_and_prints(fw):
    contract = sign(fw, ends_on=today() + datetime.timedelta(days=20))
    client = client_for(fw.gp)
    url = reverse("family_doctors:contract", args=[contract.public_id])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="renew-form"' in _html(page)
    assert 'data-testid="renew-form"' not in _html(client_for(fw.specialist).get(url))
    response = client.post(
        url, {"action": "renew", "package": str(fw.premium.public_id), "version": contract.version}
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == "renewed" and contract.terms == 2
    stale = client.post(url, {"action": "terminate", "reason": "resident_request", "version": 1})
    assert stale.status_code == 409 and FamilyDoctorContract.objects.get().status == "renewed"
    client.post(url, {"action": "terminate", "reason": "moved_away", "version": contract.version})
    assert FamilyDoctorContract.objects.get().status == "terminated"
    pdf = client.get(reverse("family_doctors:contract-pdf", args=[contract.public_id]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client_for(fw.world.office).get(url).status_code == 404
    assert (
        client_for(fw.specialist)
        .post(url, {"action": "terminate", "reason": "other", "note": "x", "version": 3})
        .status_code
        == 403
    )


def test_office_adds_a_package(fw):
    response = client_for(fw.world.office).post(
        reverse("family_doctors:packages"),
        {
            "consortium": str(fw.world.consortium.public_id),
            "name": "儿童服务包",
            "kind": "personalised",
            "annual_price": "30",
            "contents": "生长发育评估\n预防接种提醒",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert ServicePackage.objects.filter(name="儿童服务包").exists()
    assert (
        client_for(fw.world.township_admin)
        .post(reverse("family_doctors:packages"), {"name": "x"})
        .status_code
        == 403
    )


def test_person_page_shows_the_contract(fw):
    sign(fw, who=fw.elder)
    page = client_for(fw.gp).get(reverse("people:detail", args=[fw.elder.public_id]))
    assert page.status_code == 200 and 'data-testid="record-contract"' in _html(page)
    assert "城关一队" in _html(page)


def _queries(user, url, params=None):
    client = client_for(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries), _html(response).count('data-testid="panel-row"')


def test_panel_and_team_list_query_counts_are_constant(fw):
    for n in range(2):
        sign(fw, who=resident(f"居民{n}", fw.grid), priority_groups=["poor"])
    panel = reverse("family_doctors:panel", args=[fw.team.public_id])
    few = _queries(fw.gp, panel)
    few_contracts = _queries(fw.world.township_admin, reverse("family_doctors:contracts"))
    few_filtered = _queries(fw.gp, panel, {"q": "jm", "group": "poor", "expiring": ""})
    for n in range(10):
        sign(fw, who=resident(f"新居民{n}", fw.grid), priority_groups=["poor", "disabled"])
    assert _queries(fw.gp, panel) == (few[0], 12)
    assert _queries(fw.world.township_admin, reverse("family_doctors:contracts")) == (few_contracts[0], 12)
    assert _queries(fw.gp, panel, {"q": "jm", "group": "poor", "expiring": ""})[0] == few_filtered[0]


def _options(html):
    import re

    return re.findall(r"<option[^>]*>([^<]*)</option>", html)


def test_english_pages_set_options_and_notes_in_ascii_brackets(fw):
    """The grid, member and package options and a termination note were wrapped in full-width brackets
    （…） on English pages (and the package price read “元/年”)."""
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    admin = client_for(fw.world.township_admin)
    team_form = _html(admin.get(reverse("family_doctors:team-new"), **english))
    team_page = _html(admin.get(reverse("family_doctors:team", args=[fw.team.public_id]), **english))
    signing = _html(
        client_for(fw.gp).get(
            reverse("family_doctors:sign"),
            {"team": str(fw.team.public_id), "person": str(fw.elder.public_id)},
            **english,
        )
    )
    options = _options(team_form) + _options(team_page) + _options(signing)
    assert f"城关网格 ({fw.grid.code})" in options
    assert any("(Doctor) · " in o for o in options)
    assert "高血压个性化服务包 (120.00 CNY a year)" in options
    assert not [o for o in options if "（" in o or "）" in o or "元/年" in o]
    contract = sign(fw)
    url = reverse("family_doctors:contract", args=[contract.public_id])
    client_for(fw.gp).post(
        url, {"action": "terminate", "reason": "other", "note": "搬去外省", "version": contract.version}
    )
    assert FamilyDoctorContract.objects.get().termination_note == "搬去外省"
    page = _html(client_for(fw.gp).get(url, **english))
    assert " (搬去外省)" in page and "（搬去外省）" not in page
    chinese = _html(client_for(fw.gp).get(url))
    assert "（搬去外省）" in chinese


def test_coverage_names_its_base_the_registered_residents_not_the_grid_population(fw):
    """The coverage page, the team page and the Excel headed the grid's registered residents
    “服务人口”, the label the grid page gives its planned population: two different figures, one name."""
    sign(fw, who=fw.elder, priority_groups=["elderly"])
    client = client_for(fw.world.office)
    coverage = _html(client.get(reverse("family_doctors:coverage"), {"by": "team"}))
    team = _html(client.get(reverse("family_doctors:team", args=[fw.team.public_id])))
    assert "网格登记居民数" in coverage and "网格登记居民数" in team
    assert "服务人口" not in coverage and "服务人口" not in team
    english = _html(client.get(reverse("family_doctors:coverage"), {"by": "team"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Registered residents in the grid" in english
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("family_doctors:coverage"), {"by": "team", "format": "xlsx"}).content)
    ).active
    assert "网格登记居民数" in [cell.value for row in sheet.iter_rows(max_row=2) for cell in row]


def _seen(response):
    import re

    return re.search(r'name="seen_updated_at" value="([^"]+)"', _html(response)).group(1)


def test_saving_a_stale_package_is_refused_and_keeps_the_newer_price(fw):
    """Two office users editing one package: the second save silently put back the old price."""
    from yilian.family_doctors import services

    url = reverse("family_doctors:package-edit", args=[fw.premium.public_id])
    client = client_for(fw.world.office)
    seen = _seen(client.get(url))
    services.package_update(actor=fw.world.office, package=fw.premium, annual_price=150)
    stale = {
        "name": fw.premium.name,
        "kind": fw.premium.kind,
        "annual_price": "120",
        "target_groups": "高血压患者（修改）",
        "contents": fw.premium.contents,
        "is_active": "on",
        "seen_updated_at": seen,
    }

    response = client.post(url, stale)

    assert response.status_code == 409
    assert "该服务包在您编辑期间已被他人修改" in _html(response)
    fw.premium.refresh_from_db()
    assert fw.premium.annual_price == 150 and fw.premium.target_groups != "高血压患者（修改）"
    again = client.post(url, dict(stale, seen_updated_at=_seen(response)))
    assert again.status_code == 302
    fw.premium.refresh_from_db()
    assert fw.premium.target_groups == "高血压患者（修改）"


def test_english_coverage_keeps_the_unit_column_readable_and_counts_signed(fw):
    """In English the long headers squeezed the unit column to one character a line, and the count
    under each group read “Sign” (the verb) instead of “Signed”."""
    import re

    sign(fw, who=fw.elder, priority_groups=["elderly"])
    html = _html(
        client_for(fw.world.office).get(
            reverse("family_doctors:coverage"), {"by": "team"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    )
    assert re.search(r'<td class="name">城关一队', html)
    assert '<th class="num">Signed</th>' in html and '<th class="num">Sign</th>' not in html
    assert '<th rowspan="2" class="num wrap">Registered residents in the grid</th>' in html


def test_a_search_too_long_to_run_lists_no_contracts(fw):
    """A 51-character search showed its error above every contract of the panel and the contracts list."""
    sign(fw, who=fw.elder, priority_groups=["elderly"])
    client = client_for(fw.gp)
    for url in (
        reverse("family_doctors:panel", args=[fw.team.public_id]),
        reverse("family_doctors:contracts"),
    ):
        assert 'data-testid="panel-row"' in _html(client.get(url))
        body = _html(client.get(url, {"q": "赵" * 51}))
        assert "51" in body and 'data-testid="panel-row"' not in body


def test_saving_a_stale_team_is_refused_and_keeps_the_newer_change(fw):
    """Two admins editing one team: the second save silently undid the first (a rename, a deactivation)."""
    from yilian.family_doctors import services

    url = reverse("family_doctors:team-edit", args=[fw.team.public_id])
    client = client_for(fw.world.township_admin)
    seen = _seen(client.get(url))
    services.team_update(actor=fw.world.township_admin, team=fw.team, name="城关一队（新）")
    stale = {"name": "城关一队", "grid": str(fw.grid.public_id), "description": "改简介", "is_active": "on"}

    response = client.post(url, dict(stale, seen_updated_at=seen))

    assert response.status_code == 409
    assert "该签约团队在您编辑期间已被他人修改" in _html(response)
    fw.team.refresh_from_db()
    assert fw.team.name == "城关一队（新）" and fw.team.description != "改简介"
    assert client.post(url, dict(stale, seen_updated_at=_seen(response))).status_code == 302
    fw.team.refresh_from_db()
    assert fw.team.description == "改简介"


def test_a_stale_renewal_or_termination_is_refused_with_409_and_keeps_the_input(fw):
    """A renewal or termination over a newer save answered with a redirect (200 after it), the typed
    reason and note lost; other pages answer 409 and keep what was typed."""
    from yilian.family_doctors import services

    contract = sign(fw, ends_on=today() + datetime.timedelta(days=20))
    client = client_for(fw.gp)
    url = reverse("family_doctors:contract", args=[contract.public_id])
    seen = contract.version
    # Someone else renews the contract while the page is open.
    services.contract_renew(actor=fw.gp, contract=contract, package=fw.premium, expected_version=seen)
    contract.refresh_from_db()
    typed = {"action": "terminate", "reason": "other", "note": "搬去外省居住", "version": seen}

    response = client.post(url, typed)

    assert response.status_code == 409
    body = _html(response)
    assert "该签约协议已被他人修改" in body and "搬去外省居住" in body
    assert f'name="version" value="{contract.version}"' in body
    assert FamilyDoctorContract.objects.get().status == "renewed"
    assert client.post(url, dict(typed, version=contract.version)).status_code == 302
    assert FamilyDoctorContract.objects.get().status == "terminated"
    # Renewing the ended contract: no form to show it on, the reason stands above the page.
    stale_renewal = client.post(
        url, {"action": "renew", "package": str(fw.premium.public_id), "version": seen}
    )
    assert stale_renewal.status_code == 409 and "该签约协议已被他人修改" in _html(stale_renewal)
