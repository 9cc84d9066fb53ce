"""Indicator pages: catalogue, detail, create/edit with positioned formula errors and 409, data items,
figures with Excel and drill-down, refresh runs, ranking policy; who may do each; query counts."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.encounters.models import Encounter
from yilian.indicators import evaluation, services
from yilian.indicators.models import Indicator, IndicatorCatalogue, RankingPolicy, RefreshRun
from yilian.institutions.tests.factories import DepartmentFactory, region
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)


@dataclass
class Figures:
    """The world with encounters in March 2025 (and March 2024), two indicators and a refresh."""

    world: Any
    share: Indicator
    visits: Indicator
    department: Any
    far_regulator: Any


def _encounter(institution: Any, patient: Any, kind: str, day: datetime.date, department: Any = None) -> None:
    Encounter.objects.create(
        person=patient,
        institution=institution,
        department=department,
        kind=kind,
        started_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9))),
        ended_at=None,
        diagnosis_code="I10",
        diagnosis_name="高血压",
    )


def make_figures(world: Any) -> Figures:
    """Encounters at the hospital (one department), the township and the outsider; refreshed."""
    department = DepartmentFactory(institution=world.hospital, name="内科")
    patient = person("王小明", institution=world.hospital)
    day = datetime.date(2025, 3, 10)
    for _index in range(3):
        _encounter(world.hospital, patient, "outpatient", day, department)
    _encounter(world.hospital, patient, "inpatient", day, department)
    _encounter(world.hospital, patient, "outpatient", day)
    for _index in range(2):
        _encounter(world.township, patient, "outpatient", day)
    _encounter(world.outsider, patient, "outpatient", day)
    _encounter(world.hospital, patient, "outpatient", datetime.date(2024, 3, 5), department)
    catalogue = IndicatorCatalogue.objects.create(code="local", name="本地指标")
    share = services.indicator_create(
        actor=world.regulator,
        catalogue=catalogue,
        code="visit_share",
        name="门急诊占比",
        area="服务能力",
        numerator="encounters_visits",
        denominator="encounters_visits + encounters_admissions",
        factor="100",
        unit="%",
        decimals=1,
        legend=[
            {"from": "90", "to": None, "color": "green", "label": "好"},
            {"from": None, "to": "90", "color": "red", "label": "差"},
        ],
        is_working_definition=True,
    )
    visits = services.indicator_create(
        actor=world.regulator,
        catalogue=catalogue,
        code="visit_count",
        name="门急诊人次",
        numerator="encounters_visits",
    )
    evaluation.refresh(evaluation.months_between(datetime.date(2024, 3, 1), MARCH))
    far = user_with_role(
        Role.REGULATOR, username="far_regulator", region=region("320000", "江苏省", "province")
    )
    return Figures(world, share, visits, department, far)


@pytest.fixture
def figures_world(world: Any) -> Figures:
    return make_figures(world)


def queries_of(call: Callable[[], Any]) -> tuple[int, Any]:
    """How many SQL queries ``call`` runs, and its result (the query log is cleared first: it is capped)."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as context:
        result = call()
    return len(context.captured_queries), result


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _figures_url(fw: Figures, kind: str = "institution", **extra: str) -> str:
    params = {
        "indicator": str(fw.share.public_id),
        "unit_kind": kind,
        "period_type": "month",
        "period": "2025-03-01",
    }
    params.update(extra)
    return reverse("indicators:figures") + "?" + "&".join(f"{k}={v}" for k, v in params.items())


# --- catalogue -------------------------------------------------------------------------------------------


def test_catalogue_groups_and_marks_working_definitions(figures_world: Figures) -> None:
    response = client_for(figures_world.world.township_admin).get(reverse("indicators:catalogue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "门急诊占比" in body and "服务能力" in body
    assert body.count('data-testid="working-definition"') == 1
    assert 'data-testid="indicator-new"' not in body


def test_catalogue_search(figures_world: Figures) -> None:
    response = client_for(figures_world.world.regulator).get(
        reverse("indicators:catalogue") + "?q=visit_count"
    )
    assert "门急诊人次" in response.content.decode()
    assert "门急诊占比" not in response.content.decode()


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("stranger", 403), ("township_admin", 200)])
def test_catalogue_needs_a_role(figures_world: Figures, who: str, status: int) -> None:
    user = figures_world.world.users()[who]
    assert client_for(user).get(reverse("indicators:catalogue")).status_code == status


def test_catalogue_queries_do_not_grow_with_indicators(figures_world: Figures) -> None:
    client = client_for(figures_world.world.regulator)
    client.get(reverse("indicators:catalogue"))
    before, _response = queries_of(lambda: client.get(reverse("indicators:catalogue")))
    assert 0 < before <= 12
    for index in range(5):
        services.indicator_create(
            actor=figures_world.world.regulator,
            catalogue=figures_world.share.catalogue,
            code=f"extra_{index}",
            name=f"附加{index}",
            numerator="encounters_visits",
        )
    after, response = queries_of(lambda: client.get(reverse("indicators:catalogue")))
    assert after == before
    assert response.content.decode().count('data-testid="indicator-row"') == 7


def test_detail_shows_items_legend_and_version_diff(figures_world: Figures) -> None:
    fw = figures_world
    services.indicator_update(actor=fw.world.regulator, indicator=fw.share, expected_version=1, unit="‰")
    response = client_for(fw.world.hospital_doctor).get(
        reverse("indicators:indicator", args=[fw.share.public_id])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "门急诊人次（诊疗人次）" in body  # the data item's name beside the formula
    assert "v2" in body and "<del>%</del> → ‰" in body
    assert 'data-testid="indicator-edit"' not in body
    assert "<dd>100</dd>" in body and "E+" not in body  # the factor, without an exponent


def test_detail_of_another_consortiums_indicator_is_404(figures_world: Figures) -> None:
    from yilian.institutions.tests.factories import ConsortiumFactory

    other = ConsortiumFactory(region=figures_world.world.regions["county"])
    office = user_with_role(Role.CONSORTIUM_OFFICE, username="other_office", consortium=other)
    own = services.indicator_create(
        actor=office,
        catalogue=figures_world.share.catalogue,
        consortium=other,
        code="own_one",
        name="自定义",
        numerator="encounters_visits",
    )
    url = reverse("indicators:indicator", args=[own.public_id])
    assert client_for(figures_world.world.office).get(url).status_code == 404
    assert client_for(office).get(url).status_code == 200
    assert client_for(figures_world.world.regulator).get(url).status_code == 200


# --- create and edit -------------------------------------------------------------------------------------


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "catalogue": "",
        "consortium": "shared",
        "code": "new_one",
        "name": "新指标",
        "kind": "quantitative",
        "numerator": "encounters_visits",
        "denominator": "",
        "factor": "1",
        "direction": "higher",
        "period_type": "month",
        "decimals": "2",
        "weight": "0",
        "legend": "0,50,red,差\n50,,green,好",
    }
    data.update(overrides)
    return data


def test_regulator_creates_a_shared_indicator(figures_world: Figures) -> None:
    fw = figures_world
    response = client_for(fw.world.regulator).post(
        reverse("indicators:indicator_new"), _form(catalogue=str(fw.share.catalogue.public_id))
    )
    assert response.status_code == 302, response.content.decode()
    created = Indicator.objects.get(code="new_one")
    assert created.consortium is None
    assert created.legend[1] == {"from": "50", "to": None, "color": "green", "label": "好"}


def test_office_creates_only_for_its_consortium(figures_world: Figures) -> None:
    fw = figures_world
    client = client_for(fw.world.office)
    data = _form(catalogue=str(fw.share.catalogue.public_id))
    response = client.post(reverse("indicators:indicator_new"), data)
    assert response.status_code == 200  # "shared" is not among its choices
    assert not Indicator.objects.filter(code="new_one").exists()
    data["consortium"] = str(fw.world.consortium.public_id)
    assert client.post(reverse("indicators:indicator_new"), data).status_code == 302
    assert Indicator.objects.get(code="new_one").consortium == fw.world.consortium


@pytest.mark.parametrize(
    "who", ["anonymous", "stranger", "hospital_admin", "township_admin", "hospital_doctor"]
)
def test_create_denied(figures_world: Figures, who: str) -> None:
    fw = figures_world
    response = client_for(fw.world.users()[who]).post(
        reverse("indicators:indicator_new"), _form(catalogue=str(fw.share.catalogue.public_id))
    )
    assert response.status_code in (302, 403) and (who == "anonymous") == (response.status_code == 302)
    assert not Indicator.objects.filter(code="new_one").exists()


def test_formula_error_is_shown_under_the_field_with_its_position(figures_world: Figures) -> None:
    fw = figures_world
    response = client_for(fw.world.regulator).post(
        reverse("indicators:indicator_new"),
        _form(catalogue=str(fw.share.catalogue.public_id), numerator="encounters_visits + nope"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="error-numerator"' in body
    assert "第 21 个字符" in body and "nope" in body
    assert not Indicator.objects.filter(code="new_one").exists()


def test_live_formula_check(figures_world: Figures) -> None:
    client = client_for(figures_world.world.regulator)
    url = reverse("indicators:formula_check")
    bad = client.get(url, {"numerator": "(encounters_visits"}).content.decode()
    assert 'data-ok="0"' in bad and "第 19 个字符" in bad
    good = client.get(url, {"denominator": "encounters_visits * 2"}).content.decode()
    assert 'data-ok="1"' in good and "门急诊人次" in good
    assert client_for(figures_world.world.stranger).get(url, {"numerator": "x"}).status_code == 403


def _edit_data(indicator: Indicator, **overrides: str) -> dict[str, str]:
    from yilian.indicators.forms import indicator_initial

    data = {
        k: ("on" if v is True else "" if v in (None, False) else str(v))
        for k, v in indicator_initial(indicator).items()
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_edit_saves_a_new_version_and_a_stale_form_is_409(figures_world: Figures) -> None:
    fw = figures_world
    client = client_for(fw.world.regulator)
    url = reverse("indicators:indicator_edit", args=[fw.share.public_id])
    stale = _edit_data(fw.share, unit="‰")
    assert client.post(url, _edit_data(fw.share, unit="人")).status_code == 302
    assert Indicator.objects.get(pk=fw.share.pk).version == 2
    response = client.post(url, stale)
    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.content.decode()
    assert Indicator.objects.get(pk=fw.share.pk).unit == "人"


@pytest.mark.parametrize("who", ["office", "hospital_admin", "stranger"])
def test_edit_of_shared_indicator_denied(figures_world: Figures, who: str) -> None:
    fw = figures_world
    url = reverse("indicators:indicator_edit", args=[fw.share.public_id])
    response = client_for(fw.world.users()[who]).post(url, _edit_data(fw.share, unit="人"))
    assert response.status_code in (403, 404)
    assert Indicator.objects.get(pk=fw.share.pk).version == 1


def test_deactivate_and_activate(figures_world: Figures) -> None:
    fw = figures_world
    url = reverse("indicators:indicator_active", args=[fw.visits.public_id])
    assert client_for(fw.world.office).post(url, {"active": "0"}).status_code == 403
    assert client_for(fw.world.regulator).post(url, {"active": "0"}).status_code == 302
    assert not Indicator.objects.get(pk=fw.visits.pk).is_active
    client_for(fw.world.regulator).post(url, {"active": "1"})
    assert Indicator.objects.get(pk=fw.visits.pk).is_active


def test_data_items_list_the_indicators_using_them(figures_world: Figures) -> None:
    response = client_for(figures_world.world.hospital_doctor).get(reverse("indicators:data_items"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "encounters_visits" in body and "门急诊占比" in body
    assert client_for(figures_world.world.stranger).get(reverse("indicators:data_items")).status_code == 403


# --- figures -----------------------------------------------------------------------------------------------


def _names(response: Any) -> list[str]:
    rows = response.context["rows"]
    return [row.unit.name for row in rows]


def test_figures_table_values_legend_and_growth(figures_world: Figures) -> None:
    fw = figures_world
    response = client_for(fw.world.regulator).get(_figures_url(fw))
    assert response.status_code == 200
    rows = {row.unit.name: row for row in response.context["rows"]}
    hospital = rows["霍邱县人民医院"]
    assert hospital.numerator == 4 and hospital.denominator == 5
    assert hospital.display == "80.0%" and hospital.color == "red"
    assert hospital.previous_display == "100.0%" and hospital.growth == Decimal("-20.00")
    assert rows["霍邱县城关镇卫生院"].display == "100.0%" and rows["霍邱县城关镇卫生院"].color == "green"
    assert "霍邱县河口镇卫生院" in rows


def test_the_figures_page_opens_on_an_indicator_with_values(figures_world: Figures) -> None:
    fw = figures_world
    # Listed first (its code sorts first) but without a single value: created after the refresh.
    empty = services.indicator_create(
        actor=fw.world.regulator,
        catalogue=fw.share.catalogue,
        code="aaa_empty",
        name="无数据",
        numerator="encounters_visits",
    )
    response = client_for(fw.world.office).get(reverse("indicators:figures"))
    assert response.status_code == 200
    assert response.context["indicators"][0] == empty
    assert response.context["indicator"] == fw.visits  # the first listed with values
    # asked for by name, it is shown all the same
    asked = client_for(fw.world.office).get(reverse("indicators:figures") + f"?indicator={empty.public_id}")
    assert asked.context["indicator"] == empty


def test_shipped_band_labels_read_in_english_and_others_as_typed(figures_world: Figures) -> None:
    body = client_for(figures_world.world.regulator).get(
        _figures_url(figures_world), HTTP_ACCEPT_LANGUAGE="en"
    )
    text = body.content.decode()
    assert 'data-testid="legend-red">Poor<' in text  # "差", a shipped label
    assert 'data-testid="legend-green">好<' in text  # typed by an assessor: as typed


def test_fractional_numerators_show_two_decimals(figures_world: Figures) -> None:
    fw = figures_world
    from yilian.indicators.models import IndicatorValue

    IndicatorValue.objects.filter(
        indicator=fw.share, unit_kind="consortium", period_type="month", period_start=MARCH
    ).update(numerator=Decimal("0.666667"))
    url = reverse("indicators:parts") + (
        f"?indicator={fw.share.public_id}&unit_kind=consortium&unit={fw.world.consortium.public_id}"
        "&period_type=month&period=2025-03-01"
    )
    body = client_for(fw.world.office).get(url).content.decode()
    assert 'data-testid="whole-numerator">0.67<' in body and "0.666667" not in body


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("regulator", {"霍邱县人民医院", "霍邱县城关镇卫生院", "霍邱县河口镇卫生院"}),
        ("far_regulator", set()),
        ("office", {"霍邱县人民医院", "霍邱县城关镇卫生院"}),
        ("township_admin", {"霍邱县人民医院", "霍邱县城关镇卫生院"}),
        ("township_admin_hidden", {"霍邱县城关镇卫生院"}),
        ("outsider_doctor", {"霍邱县河口镇卫生院"}),
    ],
)
def test_figures_are_scoped(figures_world: Figures, who: str, expected: set[str]) -> None:
    fw = figures_world
    if who == "township_admin_hidden":
        RankingPolicy.objects.create(
            consortium=fw.world.consortium, members_see_ranking=False, members_see_others_values=False
        )
        who = "township_admin"
    user = fw.far_regulator if who == "far_regulator" else fw.world.users()[who]
    response = client_for(user).get(_figures_url(fw))
    assert response.status_code == 200
    assert set(_names(response)) == expected


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("stranger", 403)])
def test_figures_denied(figures_world: Figures, who: str, status: int) -> None:
    assert client_for(figures_world.world.users()[who]).get(_figures_url(figures_world)).status_code == status


def test_figures_queries_are_constant(figures_world: Figures) -> None:
    fw = figures_world
    client = client_for(fw.world.regulator)
    client.get(_figures_url(fw))
    before, _response = queries_of(lambda: client.get(_figures_url(fw)))
    assert 0 < before <= 20
    for index in range(4):
        _encounter(fw.world.outsider, person(f"甲{index}"), "outpatient", datetime.date(2025, 3, 2))
    from yilian.institutions.tests.factories import InstitutionFactory

    for index in range(4):
        extra = InstitutionFactory(name=f"乡镇卫生院{index}", region=fw.world.regions["town_b"])
        _encounter(extra, person(f"乙{index}"), "outpatient", datetime.date(2025, 3, 2))
    evaluation.refresh([MARCH])
    after, response = queries_of(lambda: client.get(_figures_url(fw)))
    assert after == before
    assert len(response.context["rows"]) == 7


def test_figures_sort_by_name(figures_world: Figures) -> None:
    response = client_for(figures_world.world.regulator).get(_figures_url(figures_world, sort="name"))
    names = _names(response)
    assert names == sorted(names)


def test_excel_export_is_a_real_workbook(figures_world: Figures) -> None:
    fw = figures_world
    url = _figures_url(fw).replace(reverse("indicators:figures"), reverse("indicators:figures_export"))
    response = client_for(fw.world.office).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {"霍邱县人民医院", "霍邱县城关镇卫生院"}
    assert by_name["霍邱县人民医院"][1] == 4 and by_name["霍邱县人民医院"][3] == 80


def test_drill_to_parts_sums_to_the_whole(figures_world: Figures) -> None:
    fw = figures_world
    url = reverse("indicators:parts") + (
        f"?indicator={fw.share.public_id}&unit_kind=consortium&unit={fw.world.consortium.public_id}"
        "&period_type=month&period=2025-03-01"
    )
    response = client_for(fw.world.office).get(url)
    assert response.status_code == 200
    parts = response.context["parts"]
    assert parts.whole.numerator == 6 and parts.whole.denominator == 7
    assert parts.numerator_sum == 6 and parts.denominator_sum == 7 and parts.adds_up
    assert 'data-testid="adds-up"' in response.content.decode()
    # institution → departments: the visit without a department is what no part holds
    url = reverse("indicators:parts") + (
        f"?indicator={fw.share.public_id}&unit_kind=institution&unit={fw.world.hospital.public_id}"
        "&period_type=month&period=2025-03-01"
    )
    parts = client_for(fw.world.office).get(url).context["parts"]
    assert parts.numerator_sum == 3 and parts.numerator_rest == 1


def test_drill_to_a_unit_not_visible_is_404(figures_world: Figures) -> None:
    fw = figures_world
    url = reverse("indicators:parts") + (
        f"?indicator={fw.share.public_id}&unit_kind=institution&unit={fw.world.outsider.public_id}"
        "&period_type=month&period=2025-03-01"
    )
    assert client_for(fw.world.office).get(url).status_code == 404
    assert client_for(fw.world.regulator).get(url).status_code == 200


def _records_url(fw: Figures, unit: Any, kind: str = "institution") -> str:
    return reverse("indicators:records") + (
        f"?indicator={fw.share.public_id}&unit_kind={kind}&unit={unit.public_id}"
        "&period_type=month&period=2025-03-01&item=encounters_visits"
    )


def test_records_follow_the_source_policy_and_mask_names(figures_world: Figures) -> None:
    fw = figures_world
    doctor = client_for(fw.world.hospital_doctor).get(_records_url(fw, fw.world.hospital))
    assert doctor.status_code == 200
    assert len(doctor.context["table"]) == 4  # visits in March only, not the inpatient, not 2024
    body = doctor.content.decode()
    assert ("王小明" not in body and "王*" in body) or "王＊" in body or "王" in body
    # the office sees the figure but encounters are not its to read: no rows
    office = client_for(fw.world.office).get(_records_url(fw, fw.world.hospital))
    assert office.status_code == 200 and office.context["table"] == []


def test_records_of_a_consortium_are_its_institutions_records_in_the_same_order(
    figures_world: Figures,
) -> None:
    # On PostgreSQL a consortium's records are read institution by institution, then merged.
    fw = figures_world
    client = client_for(fw.world.hospital_doctor)
    whole = client.get(_records_url(fw, fw.world.consortium, kind="consortium"))
    own = client.get(_records_url(fw, fw.world.hospital))
    assert whole.status_code == own.status_code == 200
    assert len(own.context["table"]) == 4
    assert list(whole.context["table"]) == list(own.context["table"])


def test_records_queries_are_constant(figures_world: Figures) -> None:
    fw = figures_world
    client = client_for(fw.world.hospital_doctor)
    client.get(_records_url(fw, fw.world.hospital))
    before, _response = queries_of(lambda: client.get(_records_url(fw, fw.world.hospital)))
    assert 0 < before <= 30
    for index in range(10):
        _encounter(fw.world.hospital, person(f"丙{index}"), "outpatient", datetime.date(2025, 3, 3))
    after, response = queries_of(lambda: client.get(_records_url(fw, fw.world.hospital)))
    assert after == before
    assert len(response.context["table"]) == 14


# --- refresh runs and ranking policy ----------------------------------------------------------------------


def test_assessor_requests_a_refresh_which_is_queued(figures_world: Figures) -> None:
    from django_tasks_db.models import DBTaskResult

    client = client_for(figures_world.world.office)
    response = client.post(
        reverse("indicators:refresh_runs"), {"first_month": "2025-03", "last_month": "2025-03"}
    )
    assert response.status_code == 302
    run = RefreshRun.objects.get()
    assert run.first_month == MARCH and run.requested_by == figures_world.world.office
    assert DBTaskResult.objects.count() in (0, 1)  # enqueued on commit (tests run inside a transaction)
    page = client.get(reverse("indicators:refresh_runs"))
    assert page.status_code == 200 and 'data-testid="refresh-row"' in page.content.decode()


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("stranger", 403), ("hospital_admin", 403)])
def test_refresh_denied(figures_world: Figures, who: str, status: int) -> None:
    client = client_for(figures_world.world.users()[who])
    assert client.post(reverse("indicators:refresh_runs"), {}).status_code == status
    assert client.get(reverse("indicators:refresh_runs")).status_code == status
    assert not RefreshRun.objects.exists()


def test_office_sets_the_ranking_policy(figures_world: Figures) -> None:
    fw = figures_world
    url = reverse("indicators:ranking_policy")
    assert client_for(fw.world.office).get(url).status_code == 200
    response = client_for(fw.world.office).post(url, {"members_see_ranking": "on"})
    assert response.status_code == 302
    policy = RankingPolicy.objects.get(consortium=fw.world.consortium)
    assert policy.members_see_ranking and not policy.members_see_others_values
    township = client_for(fw.world.township_admin).get(_figures_url(fw))
    assert set(_names(township)) == {"霍邱县城关镇卫生院"}


@pytest.mark.parametrize("who", ["anonymous", "stranger", "regulator", "hospital_admin", "township_admin"])
def test_ranking_policy_denied(figures_world: Figures, who: str) -> None:
    response = client_for(figures_world.world.users()[who]).post(reverse("indicators:ranking_policy"), {})
    assert response.status_code in (302, 403) and (who == "anonymous") == (response.status_code == 302)
    assert not RankingPolicy.objects.exists()


def test_menu_entries_follow_roles(figures_world: Figures) -> None:
    office = client_for(figures_world.world.office).get(reverse("indicators:catalogue")).content.decode()
    assert reverse("indicators:ranking_policy") in office and reverse("indicators:refresh_runs") in office
    doctor = (
        client_for(figures_world.world.hospital_doctor).get(reverse("indicators:catalogue")).content.decode()
    )
    assert reverse("indicators:figures") in doctor and reverse("indicators:refresh_runs") not in doctor


def test_english_readers_see_the_english_name_and_a_blank_one_falls_back_to_chinese(
    figures_world: Figures,
) -> None:
    fw = figures_world
    Indicator.objects.filter(pk=fw.share.pk).update(name_en="Share of visits")
    client = client_for(fw.world.office)
    english = client.get(_figures_url(fw), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Share of visits" in english and "门急诊占比" not in english
    assert "门急诊人次" in english  # no English name: the Chinese one, not an empty option
    assert (
        "Share of visits" not in client.get(_figures_url(fw), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    )
    catalogue = client.get(reverse("indicators:catalogue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Share of visits" in catalogue and "门急诊人次" in catalogue
    url = _figures_url(fw).replace(reverse("indicators:figures"), reverse("indicators:figures_export"))
    sheet = load_workbook(io.BytesIO(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content)).active
    assert next(sheet.iter_rows(values_only=True))[0] == "Share of visits (visit_share)"
    parts = client.get(
        reverse("indicators:parts"),
        {
            "indicator": str(fw.share.public_id),
            "unit_kind": "consortium",
            "unit": str(fw.world.consortium.public_id),
            "period_type": "month",
            "period": "2025-03-01",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert parts.status_code == 200 and "Share of visits" in parts.content.decode()


def test_period_types_read_as_capitalised_labels_in_english() -> None:
    from django.utils import translation

    from yilian.indicators.choices import PeriodType

    with translation.override("en"):
        # "月" read "month" beside "Quarter", "Half-year" and "Year" in the same select.
        assert [str(label) for _value, label in PeriodType.choices] == [
            "Month",
            "Quarter",
            "Half-year",
            "Year",
        ]


def test_records_say_why_a_reader_sees_none_apart_from_a_period_without_records(
    figures_world: Figures,
) -> None:
    fw = figures_world
    office = client_for(fw.world.office)
    # The office sees the figure (4 visits) but encounters are patient data of the treating institutions.
    hidden = office.get(_records_url(fw, fw.world.hospital), HTTP_ACCEPT_LANGUAGE="en")
    empty = hidden.content.decode().split('data-testid="records-empty">')[1].split("</td>")[0]
    assert hidden.context["table"] == [] and hidden.context["hidden_by_policy"]
    assert "patient data" in empty and "institutions that see patients" in empty and "aggregate" in empty
    chinese = office.get(_records_url(fw, fw.world.hospital)).content.decode()
    assert "明细只对接诊患者的机构开放" in chinese
    # A month without a visit is no secret: the doctor, who may read visits, is told there are none.
    april = _records_url(fw, fw.world.hospital).replace("2025-03-01", "2025-04-01")
    none = client_for(fw.world.hospital_doctor).get(april, HTTP_ACCEPT_LANGUAGE="en")
    assert none.status_code == 200 and not none.context["hidden_by_policy"]
    text = none.content.decode().split('data-testid="records-empty">')[1].split("</td>")[0]
    assert text == "No records in this period."
    # The office is told the same for a month without records: nothing is hidden from it there.
    office_april = office.get(april, HTTP_ACCEPT_LANGUAGE="en")
    assert not office_april.context["hidden_by_policy"]


def test_known_units_read_in_the_readers_language_and_typed_ones_as_typed(figures_world: Figures) -> None:
    fw = figures_world
    Indicator.objects.filter(pk=fw.visits.pk).update(unit="人次")
    Indicator.objects.filter(pk=fw.share.pk).update(unit="床日")  # typed by an office: no English form
    client = client_for(fw.world.regulator)
    url = _figures_url(fw, indicator=str(fw.visits.public_id))
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    rows = {row.unit.name: row for row in english.context["rows"]}
    # A word follows the number after a space; a Chinese unit and a symbol follow it directly.
    assert rows["霍邱县人民医院"].display == "4.00 person-times"
    assert "4.00 person-times" in english.content.decode() and "4.00人次" not in english.content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert {row.unit.name: row for row in chinese.context["rows"]}["霍邱县人民医院"].display == "4.00人次"
    typed = client.get(_figures_url(fw), HTTP_ACCEPT_LANGUAGE="en")
    assert {row.unit.name: row for row in typed.context["rows"]}["霍邱县人民医院"].display == "80.0床日"
    catalogue = client.get(reverse("indicators:catalogue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<td>person-times</td>" in catalogue and "<td>床日</td>" in catalogue
    detail = client.get(
        reverse("indicators:indicator", args=[fw.visits.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "<dd>person-times</dd>" in detail.content.decode()
    export_url = url.replace(reverse("indicators:figures"), reverse("indicators:figures_export"))
    english_sheet = load_workbook(
        io.BytesIO(client.get(export_url, HTTP_ACCEPT_LANGUAGE="en").content)
    ).active
    chinese_sheet = load_workbook(
        io.BytesIO(client.get(export_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content)
    ).active
    assert english_sheet.cell(row=3, column=4).value == "Value (person-times)"
    assert english_sheet.cell(row=1, column=1).value == f"{fw.visits.display_name} (visit_count)"
    assert chinese_sheet.cell(row=1, column=1).value == "门急诊人次（visit_count）"
    assert chinese_sheet.cell(row=3, column=4).value == "指标值（人次）"


def test_the_indicator_form_offers_the_units_that_read_in_english(figures_world: Figures) -> None:
    body = client_for(figures_world.world.regulator).get(reverse("indicators:indicator_new")).content.decode()
    assert 'list="indicator-units"' in body and '<datalist id="indicator-units">' in body
    assert '<option value="人次">' in body and '<option value="%">' in body


def test_shipped_areas_read_in_the_readers_language_and_typed_ones_as_typed(figures_world: Figures) -> None:
    fw = figures_world
    Indicator.objects.filter(pk=fw.visits.pk).update(area="资源下沉")
    Indicator.objects.filter(pk=fw.share.pk).update(area="自定领域")  # typed by an office: no English form
    client = client_for(fw.world.regulator)
    english = client.get(reverse("indicators:catalogue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h3>Resources sent down</h3>" in english and "<h3>资源下沉</h3>" not in english
    assert "<h3>自定领域</h3>" in english
    chinese = client.get(reverse("indicators:catalogue"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h3>资源下沉</h3>" in chinese
    detail = client.get(
        reverse("indicators:indicator", args=[fw.visits.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "<dd>Resources sent down</dd>" in detail.content.decode()


def test_the_parts_growth_reads_with_english_brackets_in_english(figures_world: Figures) -> None:
    fw = figures_world
    url = reverse("indicators:parts") + (
        f"?indicator={fw.share.public_id}&unit_kind=institution&unit={fw.world.hospital.public_id}"
        "&period_type=month&period=2025-03-01"
    )
    client = client_for(fw.world.regulator)
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "100.0% (-20.00%)</dd>" in english and "（-20.00%）" not in english
    assert "100.0%（-20.00%）</dd>" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_the_indicator_form_names_catalogues_and_units_in_the_readers_language(
    figures_world: Figures,
) -> None:
    fw = figures_world
    IndicatorCatalogue.objects.filter(pk=fw.share.catalogue_id).update(name_en="Local indicators")
    client = client_for(fw.world.regulator)
    english = client.get(reverse("indicators:indicator_new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Local indicators</option>" in english
    assert '<option value="人次" label="person-times">' in english and '<option value="%">' in english
    chinese = client.get(reverse("indicators:indicator_new"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">Local indicators</option>" not in chinese and '<option value="人次">' in chinese


def test_the_activation_button_names_the_action_in_english(figures_world: Figures) -> None:
    fw = figures_world
    client = client_for(fw.world.regulator)
    url = reverse("indicators:indicator", args=[fw.visits.public_id])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="indicator-toggle">Deactivate</button>' in english
    assert 'data-testid="indicator-toggle">停用</button>' in client.get(url).content.decode()
    Indicator.objects.filter(pk=fw.visits.pk).update(is_active=False)
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="indicator-toggle">Activate</button>' in english
