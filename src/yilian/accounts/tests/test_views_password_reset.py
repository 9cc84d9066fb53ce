"""Password resets by administrators (staff page, user page), and HEAD on the login page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from yilian.accounts import selectors, services
from yilian.accounts.models import ApiToken, Membership
from yilian.accounts.tests.factories import PASSWORD
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role

pytestmark = pytest.mark.django_db

TEMPORARY = "Linshi-mima-2026!"


@pytest.fixture
def client_for(db):
    """A test client logged in as the given user (anonymous for None)."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def _staff_url(world):
    return reverse("accounts:institution-staff", args=[world.hospital.public_id])


def _staff_reset_url(world, user, institution=None):
    institution = institution or world.hospital
    return reverse("accounts:staff-password-reset", args=[institution.public_id, user.public_id])


def _user_reset_url(user):
    return reverse("accounts:user-password-reset", args=[user.public_id])


def _reset(client, url, password=TEMPORARY, again=None):
    return client.post(url, {"password": password, "password_again": again or password})


def _unchanged(world, user=None):
    user = user or world.hospital_doctor
    user.refresh_from_db()
    return user.check_password(PASSWORD) and not AuditEvent.objects.filter(action="user.password").exists()


# Login page ----------------------------------------------------------------------------


def test_head_on_the_login_page_is_answered_like_get(client, client_for, world):
    response = client.head(reverse("accounts:login"))
    assert response.status_code == 200
    assert response.content == b""
    assert client_for(world.hospital_doctor).head(reverse("accounts:login")).status_code == 302
    assert client.put(reverse("accounts:login")).status_code == 405


# Staff page -----------------------------------------------------------------------------


def test_staff_page_offers_a_reset_for_others_only(client_for, world):
    html = client_for(world.hospital_admin).get(_staff_url(world)).content.decode()
    assert 'data-testid="reset-password-hospital_doctor"' in html
    assert _staff_reset_url(world, world.hospital_doctor) in html
    assert 'data-testid="reset-password-hospital_admin"' not in html


def test_institution_admin_resets_a_staff_password(client_for, world):
    key = services.api_token_issue(user=world.hospital_doctor)
    doctor_session = Client()
    doctor_session.force_login(world.hospital_doctor)
    client = client_for(world.hospital_admin)
    url = _staff_reset_url(world, world.hospital_doctor)
    form = client.get(url)
    assert form.status_code == 200
    assert 'data-testid="password-reset-form"' in form.content.decode()
    response = _reset(client, url)
    assert response.status_code == 302 and response["Location"] == _staff_url(world)
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.check_password(TEMPORARY)
    event = AuditEvent.objects.get(action="user.password")
    assert event.actor == world.hospital_admin
    assert event.object_id == str(world.hospital_doctor.public_id)
    assert event.details == {"changed": True, "reset": True}
    assert TEMPORARY not in str(list(AuditEvent.objects.values("before", "after", "details")))
    # The doctor's API token and open session end with the old password.
    assert selectors.api_token_user(key) is None
    assert not ApiToken.objects.filter(user=world.hospital_doctor).exists()
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=world.hospital_admin).count() == 1
    me = doctor_session.get(reverse("accounts:me"))
    assert me.status_code == 302 and urlsplit(me["Location"]).path == reverse("accounts:login")
    page = client.get(_staff_url(world)).content.decode()
    assert "已重置" in page


def test_reset_form_errors_are_inline_and_nothing_changes(client_for, world):
    client = client_for(world.hospital_admin)
    url = _staff_reset_url(world, world.hospital_doctor)
    mismatch = _reset(client, url, again="Something-else-2026")
    assert mismatch.status_code == 400
    assert 'data-testid="error-password_again"' in mismatch.content.decode()
    weak = _reset(client, url, password="12345678")
    html = weak.content.decode()
    assert weak.status_code == 400
    assert 'data-testid="error-password"' in html and "这个密码太常见了。" in html
    assert _unchanged(world)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("township_admin", 403),  # another institution's admin
        ("hospital_doctor", 403),  # same institution, no admin role
        ("outsider_doctor", 403),
        ("regulator", 403),
        ("office", 403),
        ("stranger", 403),
    ],
)
def test_staff_reset_matrix(client_for, world, who, status):
    client = client_for(getattr(world, who))
    url = _staff_reset_url(world, world.hospital_admin if who == "hospital_doctor" else world.hospital_doctor)
    assert client.get(url).status_code == status
    assert _reset(client, url).status_code == status
    assert _unchanged(world) and _unchanged(world, world.hospital_admin)


def test_anonymous_reset_goes_to_login(client, world):
    url = _staff_reset_url(world, world.hospital_doctor)
    response = _reset(client, url)
    assert response.status_code == 302 and urlsplit(response["Location"]).path == reverse("accounts:login")
    assert _unchanged(world)


def test_admin_cannot_reach_another_institutions_staff_through_own_page(client_for, world):
    url = _staff_reset_url(world, world.township_admin)
    assert _reset(client_for(world.hospital_admin), url).status_code == 404
    assert _unchanged(world, world.township_admin)


def test_admin_cannot_reset_someone_who_also_works_elsewhere(client_for, world):
    # The doctor also works at the township hospital, which the hospital's admin does not administer.
    Membership.objects.create(user=world.hospital_doctor, role=Role.DOCTOR, institution=world.township)
    response = _reset(client_for(world.hospital_admin), _staff_reset_url(world, world.hospital_doctor))
    assert response.status_code == 403
    assert _unchanged(world)


def test_own_password_is_changed_on_its_own_page(client_for, world):
    client = client_for(world.hospital_admin)
    response = _reset(client, _staff_reset_url(world, world.hospital_admin))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password")
    assert _unchanged(world, world.hospital_admin)


# User page (platform administrators) ------------------------------------------------------


def test_platform_admin_resets_any_password_from_the_user_page(client_for, world):
    client = client_for(world.admin)
    detail = reverse("accounts:user-detail", args=[world.regulator.public_id])
    assert _user_reset_url(world.regulator) in client.get(detail).content.decode()
    assert client.get(_user_reset_url(world.regulator)).status_code == 200
    response = _reset(client, _user_reset_url(world.regulator))
    assert response.status_code == 302 and response["Location"] == detail
    world.regulator.refresh_from_db()
    assert world.regulator.check_password(TEMPORARY)
    assert AuditEvent.objects.get(action="user.password").actor == world.admin
    # No reset link on one's own page.
    own = client.get(reverse("accounts:user-detail", args=[world.admin.public_id])).content.decode()
    assert 'data-testid="account-reset-password"' not in own


@pytest.mark.parametrize(
    "who", ["hospital_admin", "township_admin", "hospital_doctor", "regulator", "stranger"]
)
def test_user_page_reset_is_for_platform_admins_only(client_for, world, who):
    client = client_for(getattr(world, who))
    url = _user_reset_url(world.hospital_doctor)
    assert client.get(url).status_code == 403
    assert _reset(client, url).status_code == 403
    assert _unchanged(world)
