"""A person's home grid lies in their county: the address region's, else the registering institution's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yilian.core.api.testing import error_of
from yilian.core.exceptions import Invalid
from yilian.core.models import AuditEvent
from yilian.institutions.tests.factories import GridFactory, cover
from yilian.people import services
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def grids(world):
    """A grid of 霍邱县, one of 裕安区 (the next county) and a city group's grid covering 河口镇 (霍邱县)."""
    city_grid = GridFactory(region=world.regions["city"], name="六安市城市网格")
    cover(city_grid, world.regions["town_b"])
    return {
        "county": GridFactory(region=world.regions["county"], name="霍邱县城关网格"),
        "district": GridFactory(region=world.regions["district"], name="裕安区网格"),
        "city": city_grid,
    }


def _register(world, **data):
    return services.person_register(
        actor=world.hospital_doctor, institution=world.hospital, name="王秀兰", **data
    )


# Service -------------------------------------------------------------------------------


def test_a_grid_of_another_county_is_refused_on_home_grid_and_nothing_is_saved(world, grids):
    with pytest.raises(Invalid) as caught:
        _register(world, address_region=world.regions["village_a1"], home_grid=grids["district"])
    assert list(caught.value.as_text()) == ["home_grid"]
    assert "裕安区网格" in caught.value.as_text()["home_grid"][0]
    assert not Person.objects.exists() and not PersonInstitutionLink.objects.exists()
    assert not AuditEvent.objects.filter(action="person.create").exists()


def test_grids_of_the_address_county_are_accepted_including_a_city_grid_covering_it(world, grids):
    first, _created = _register(world, address_region=world.regions["village_a1"], home_grid=grids["county"])
    second, _created = _register(world, address_region=world.regions["village_b1"], home_grid=grids["city"])
    assert first.home_grid == grids["county"] and second.home_grid == grids["city"]


def test_the_address_region_decides_before_the_institution(world, grids):
    # Registered at 霍邱县人民医院 but living in 裕安区: the 裕安区 grid is theirs, 霍邱县's is not.
    moved, _created = _register(world, address_region=world.regions["district"], home_grid=grids["district"])
    assert moved.home_grid == grids["district"]
    with pytest.raises(Invalid) as caught:
        _register(world, address_region=world.regions["district"], home_grid=grids["county"])
    assert list(caught.value.as_text()) == ["home_grid"]


def test_without_an_address_region_the_registering_institutions_county_decides(world, grids):
    with pytest.raises(Invalid) as caught:
        _register(world, home_grid=grids["district"])
    assert list(caught.value.as_text()) == ["home_grid"]
    created, _created = _register(world, home_grid=grids["county"])
    assert created.home_grid == grids["county"]


def test_update_refuses_another_countys_grid_and_a_move_that_keeps_the_old_grid(world, grids):
    target = person(
        "孙丽",
        institution=world.hospital,
        address_region=world.regions["village_a1"],
        home_grid=grids["county"],
    )
    for change in ({"home_grid": grids["district"]}, {"address_region": world.regions["district"]}):
        with pytest.raises(Invalid) as caught:
            services.person_update(actor=world.hospital_doctor, person=target, **change)
        assert list(caught.value.as_text()) == ["home_grid"]
        target.refresh_from_db()
        assert target.home_grid == grids["county"] and target.address_region == world.regions["village_a1"]
    services.person_update(
        actor=world.hospital_doctor,
        person=target,
        address_region=world.regions["district"],
        home_grid=grids["district"],
    )
    target.refresh_from_db()
    assert target.home_grid == grids["district"]


def test_update_without_an_address_region_uses_the_registering_institution(world, grids):
    target = person("孙丽", institution=world.hospital)
    with pytest.raises(Invalid):
        services.person_update(actor=world.hospital_doctor, person=target, home_grid=grids["district"])
    services.person_update(actor=world.hospital_doctor, person=target, home_grid=grids["city"])
    target.refresh_from_db()
    assert target.home_grid == grids["city"]


def test_other_changes_leave_a_grid_recorded_before_the_rule_alone(world, grids):
    target = person("孙丽", institution=world.hospital, home_grid=grids["district"])
    services.person_update(actor=world.hospital_doctor, person=target, phone="13800001111")
    target.refresh_from_db()
    assert target.phone == "13800001111" and target.home_grid == grids["district"]


# Pages ---------------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _grid_options(response):
    html = response.content.decode()
    start = html.index('name="home_grid"')
    return html[start : html.index("</select>", start)]


def test_register_page_offers_only_grids_of_the_users_institutions_counties(world, grids):
    options = _grid_options(_client(world.hospital_doctor).get(reverse("people:register")))
    assert "霍邱县城关网格" in options and "六安市城市网格" in options
    assert "裕安区网格" not in options


def test_register_page_refuses_another_countys_grid_and_offers_the_address_countys(world, grids):
    response = _client(world.hospital_doctor).post(
        reverse("people:register"),
        {
            "institution": str(world.hospital.public_id),
            "name": "王秀兰",
            "address_region": "341503",
            "insurance_scheme": "resident",
            "home_grid": str(grids["county"].public_id),
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-home_grid"' in html and "霍邱县城关网格" in html
    assert not Person.objects.exists()
    options = _grid_options(response)
    assert "裕安区网格" in options and "霍邱县城关网格" not in options


def test_edit_page_offers_the_persons_county_grids(world, grids):
    target = person("孙丽", institution=world.hospital, address_region=world.regions["district"])
    options = _grid_options(
        _client(world.hospital_doctor).get(reverse("people:edit", args=[target.public_id]))
    )
    assert "裕安区网格" in options
    assert "霍邱县城关网格" not in options and "六安市城市网格" not in options


# API -----------------------------------------------------------------------------------


def test_api_answers_400_on_home_grid_for_another_countys_grid(world, grids, api):
    client = api(world.hospital_doctor)
    response = client.post(
        "/api/v1/persons",
        {
            "institution": str(world.hospital.public_id),
            "name": "王秀兰",
            "address_region": "341522100201",
            "home_grid": str(grids["district"].public_id),
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["home_grid"]
    assert not Person.objects.exists()
    target = person("孙丽", institution=world.hospital, address_region=world.regions["village_a1"])
    response = client.patch(
        f"/api/v1/persons/{target.public_id}", {"home_grid": str(grids["district"].public_id)}, format="json"
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["home_grid"]
    target.refresh_from_db()
    assert target.home_grid is None
