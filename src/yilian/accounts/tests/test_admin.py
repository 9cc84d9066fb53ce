"""The Django admin: platform administrators only, read-only, no ID-number secrets."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from yilian.accounts.models import Membership
from yilian.accounts.tests.factories import UserFactory
from yilian.core.models import AuditEvent
from yilian.people.identifiers import hash_id_number
from yilian.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttle(db):
    """The login throttle lives in the cache: every test starts and ends with no failures counted."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db):
    """A test client logged in as the given user (anonymous for None)."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


CHANGELISTS = [
    "admin:core_auditevent_changelist",
    "admin:accounts_user_changelist",
    "admin:accounts_membership_changelist",
    "admin:institutions_region_changelist",
    "admin:institutions_institution_changelist",
    "admin:institutions_department_changelist",
    "admin:institutions_consortium_changelist",
    "admin:institutions_agreement_changelist",
    "admin:institutions_grid_changelist",
    "admin:people_person_changelist",
]


def _refused(response):
    """Refused: 403, or a redirect to the admin login, which in turn refuses (403) or asks to log in."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    )


def test_platform_admin_sees_the_read_only_index(client_for, world):
    response = client_for(world.admin).get(reverse("admin:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "只读" in html and "审计日志" in html
    assert "认证和授权" not in html  # Django groups are not used


@pytest.mark.parametrize("url_name", CHANGELISTS)
def test_platform_admin_opens_every_changelist(client_for, world, url_name):
    person("张三", institution=world.hospital)
    response = client_for(world.admin).get(reverse(url_name))
    assert response.status_code == 200
    assert "addlink" not in response.content.decode()


@pytest.mark.parametrize("who", ["hospital_admin", "hospital_doctor", "stranger", "regulator", "office"])
@pytest.mark.parametrize(
    "url_name", ["admin:index", "admin:accounts_user_changelist", "admin:core_auditevent_changelist"]
)
def test_everyone_else_is_refused(client_for, world, who, url_name):
    client = client_for(getattr(world, who))
    response = client.get(reverse(url_name))
    assert _refused(response)
    followed = client.get(reverse(url_name), follow=True)
    assert followed.status_code == 403
    assert "hospital_doctor" not in followed.content.decode()


def test_is_staff_and_superuser_flags_are_not_enough(client_for, world):
    boss = UserFactory(username="old-superuser", is_staff=True, is_superuser=True)
    client = client_for(boss)
    assert client.get(reverse("admin:index"), follow=True).status_code == 403
    assert client.get(reverse("admin:accounts_user_changelist"), follow=True).status_code == 403


def test_revoked_platform_admin_is_refused(client_for, world):
    Membership.objects.filter(user=world.admin).update(is_active=False)
    assert client_for(world.admin).get(reverse("admin:index"), follow=True).status_code == 403


def test_anonymous_goes_to_the_throttled_site_login(client):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert response.status_code == 200


def test_admin_login_form_is_not_offered(client_for, client, world):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    # Posting credentials to the admin login does not log in either.
    client.post(reverse("admin:login"), {"username": "platform", "password": "x"})
    assert "_auth_user_id" not in client.session
    signed_in = client_for(world.admin).get(reverse("admin:login"))
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("admin:index")


def test_audit_events_cannot_be_added_changed_or_deleted(client_for, world):
    from yilian.accounts import services

    services.user_update(actor=world.admin, user=world.hospital_doctor, phone="13900000000")
    event = AuditEvent.objects.get()
    client = client_for(world.admin)
    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    change_url = reverse("admin:core_auditevent_change", args=[event.pk])
    view = client.get(change_url)
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert client.post(change_url, {"action": "tampered"}).status_code == 403
    assert (
        client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.action == "user.update"
    model_admin = admin.site._registry[AuditEvent]
    request = type("R", (), {"user": world.admin})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_registry_objects_are_read_only_in_the_admin(client_for, world):
    client = client_for(world.admin)
    url = reverse("admin:institutions_institution_change", args=[world.hospital.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "改名医院"}).status_code == 403
    assert client.get(reverse("admin:institutions_institution_add")).status_code == 403
    world.hospital.refresh_from_db()
    assert world.hospital.name == "霍邱县人民医院"


def test_person_admin_shows_only_the_masked_number(client_for, world):
    number = resident_id()
    patient = person("李四", institution=world.hospital, id_number=number)
    client = client_for(world.admin)
    for url in (
        reverse("admin:people_person_changelist"),
        reverse("admin:people_person_change", args=[patient.pk]),
    ):
        html = client.get(url).content.decode()
        assert patient.id_number_masked in html
        assert number not in html
        assert hash_id_number(number) not in html
        assert patient.id_number_encrypted not in html


def test_user_admin_shows_no_password_hash(client_for, world):
    html = client_for(world.admin).get(reverse("admin:accounts_user_change", args=[world.hospital_doctor.pk]))
    text = html.content.decode()
    assert html.status_code == 200 and "hospital_doctor" in text
    assert world.hospital_doctor.password not in text


def test_admin_password_change_goes_to_the_audited_page(client_for, world):
    response = client_for(world.admin).get(reverse("admin:password_change"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password")


def test_change_views_with_read_only_inlines_render(client_for, world):
    from yilian.institutions.tests.factories import DepartmentFactory, GridFactory, assign, cover

    department = DepartmentFactory(institution=world.hospital)
    grid = GridFactory(region=world.regions["county"])
    cover(grid, world.regions["town_a"])
    assign(grid, world.consortium)
    client = client_for(world.admin)
    for name, obj in (
        ("institutions_consortium", world.consortium),
        ("institutions_institution", world.hospital),
        ("institutions_department", department),
        ("institutions_grid", grid),
        ("institutions_region", world.regions["county"]),
        ("accounts_user", world.hospital_doctor),
        ("accounts_membership", Membership.objects.get(user=world.hospital_doctor)),
    ):
        response = client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name
        assert 'name="_save"' not in response.content.decode(), name
    consortium_page = client.get(reverse("admin:institutions_consortium_change", args=[world.consortium.pk]))
    assert "霍邱县城关镇卫生院" in consortium_page.content.decode()
