"""Accounts pages: login and throttle, my account, staff, users and roles, audit log, menu, error pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from yilian.accounts.models import Membership, User
from yilian.accounts.tests.factories import PASSWORD, UserFactory
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.institutions.tests.factories import DepartmentFactory

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


@pytest.fixture
def cardiology(world):
    """A department of the county hospital."""
    return DepartmentFactory(institution=world.hospital, name="心血管内科")


NEW_PASSWORD = "Xin-mima-2026!"


def _login_redirect(response, url):
    if response.status_code != 302:
        return False
    location = urlsplit(response["Location"])
    return location.path == reverse("accounts:login") and parse_qs(location.query)["next"] == [url]


# Login -------------------------------------------------------------------------


def test_login_page_renders_in_chinese(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "医联 · 医联体管理平台" in html
    assert 'data-testid="login-username"' in html and 'data-testid="login-submit"' in html


def test_login_and_safe_next(client, world):
    session_before = client.session.session_key
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/me/",
        {"username": "hospital_doctor", "password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    assert client.session["_auth_user_id"] == str(world.hospital_doctor.pk)
    assert client.session.session_key != session_before


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_refuses_offsite_next(client, world, target):
    response = client.post(
        reverse("accounts:login"), {"username": "hospital_doctor", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_session_fixation_is_prevented(client, world):
    client.get(reverse("accounts:login"))
    client.session["marker"] = "x"
    client.cookies["sessionid"] = "attacker-chosen-session-key"
    client.post(reverse("accounts:login"), {"username": "hospital_doctor", "password": PASSWORD})
    assert client.cookies["sessionid"].value != "attacker-chosen-session-key"


def test_wrong_credentials_show_one_generic_message(client, world):
    wrong = client.post(reverse("accounts:login"), {"username": "hospital_doctor", "password": "bad"})
    unknown = client.post(reverse("accounts:login"), {"username": "no-such-user", "password": "bad"})
    assert wrong.status_code == unknown.status_code == 400
    assert 'data-testid="login-error"' in wrong.content.decode()
    assert "用户名或密码错误" in wrong.content.decode() and "用户名或密码错误" in unknown.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_login_throttle_through_the_page(client, world):
    for _attempt in range(3):
        client.post(reverse("accounts:login"), {"username": "hospital_doctor", "password": "bad"})
    response = client.post(reverse("accounts:login"), {"username": "hospital_doctor", "password": PASSWORD})
    assert response.status_code == 400
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only(client_for, world):
    client = client_for(world.hospital_doctor)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_log_in_through_the_page(client, world):
    world.hospital_doctor.is_active = False
    world.hospital_doctor.save()
    response = client.post(reverse("accounts:login"), {"username": "hospital_doctor", "password": PASSWORD})
    assert response.status_code == 400


# Anonymous users ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name_and_args",
    [
        ("accounts:me", {}),
        ("accounts:password", {}),
        ("accounts:my-staff", {}),
        ("accounts:users", {}),
        ("accounts:user-create", {}),
        ("accounts:audit", {}),
    ],
)
def test_anonymous_is_sent_to_login(client, world, name_and_args):
    name, kwargs = name_and_args
    url = reverse(name, kwargs=kwargs)
    assert _login_redirect(client.get(url), url)


def test_anonymous_is_sent_to_login_from_object_pages(client, world):
    for url in (
        reverse("accounts:institution-staff", args=[world.hospital.public_id]),
        reverse("accounts:staff-create", args=[world.hospital.public_id]),
        reverse("accounts:user-detail", args=[world.hospital_doctor.public_id]),
    ):
        assert _login_redirect(client.get(url), url)
    membership = Membership.objects.get(user=world.hospital_doctor)
    url = reverse("accounts:membership-revoke", args=[membership.public_id])
    assert _login_redirect(client.post(url), url)
    membership.refresh_from_db()
    assert membership.is_active


# My account -------------------------------------------------------------------------


def test_my_account_shows_profile_and_roles(client_for, world):
    response = client_for(world.hospital_doctor).get(reverse("accounts:me"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "hospital_doctor" in html and "霍邱县人民医院" in html and "医生" in html


def test_profile_edit(client_for, world):
    client = client_for(world.hospital_doctor)
    bad = client.post(
        reverse("accounts:me"), {"full_name": "王医生", "phone": "13x", "professional_title": ""}
    )
    assert bad.status_code == 400 and 'data-testid="error-phone"' in bad.content.decode()
    response = client.post(
        reverse("accounts:me"),
        {"full_name": "王医生", "phone": "13900001111", "professional_title": "attending_physician"},
    )
    assert response.status_code == 302
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.full_name == "王医生"
    assert world.hospital_doctor.professional_title == "attending_physician"


def test_password_change_keeps_the_session(client_for, world):
    client = client_for(world.hospital_doctor)
    wrong_old = client.post(
        reverse("accounts:password"),
        {"old_password": "bad", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert wrong_old.status_code == 400
    weak = client.post(
        reverse("accounts:password"), {"old_password": PASSWORD, "password": "123", "password_again": "123"}
    )
    assert weak.status_code == 400 and 'data-testid="error-password"' in weak.content.decode()
    response = client.post(
        reverse("accounts:password"),
        {"old_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.check_password(NEW_PASSWORD)
    assert client.get(reverse("accounts:me")).status_code == 200  # still logged in
    assert AuditEvent.objects.filter(action="user.password").count() == 1


# Staff of an institution ----------------------------------------------------------------


def _staff_url(world, institution="hospital"):
    return reverse("accounts:institution-staff", args=[getattr(world, institution).public_id])


def test_my_staff_redirects_to_the_administered_institution(client_for, world):
    response = client_for(world.hospital_admin).get(reverse("accounts:my-staff"))
    assert response.status_code == 302 and response["Location"] == _staff_url(world)
    assert client_for(world.hospital_doctor).get(reverse("accounts:my-staff")).status_code == 403
    admin = client_for(world.admin).get(reverse("accounts:my-staff"))
    assert admin["Location"] == reverse("accounts:users")


def test_admin_of_several_institutions_can_switch(client_for, world):
    Membership.objects.create(
        user=world.hospital_admin, role=Role.INSTITUTION_ADMIN, institution=world.township
    )
    client = client_for(world.hospital_admin)
    first = client.get(reverse("accounts:my-staff"))["Location"]
    html = client.get(first).content.decode()
    other = world.township if first == _staff_url(world) else world.hospital
    assert reverse("accounts:institution-staff", args=[other.public_id]) in html
    assert client.get(reverse("accounts:institution-staff", args=[other.public_id])).status_code == 200


def test_staff_page_lists_staff_with_roles_and_departments(client_for, world, cardiology):
    Membership.objects.filter(user=world.hospital_doctor).update(department=cardiology)
    response = client_for(world.hospital_admin).get(_staff_url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="staff-row"') == 2
    assert "hospital_doctor" in html and "心血管内科" in html and "机构管理员" in html
    assert "township_admin" not in html and "outsider_doctor" not in html


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("township_admin", 403),
        ("outsider_doctor", 403),
        ("regulator", 403),
        ("office", 403),
        ("hospital_admin", 200),
        ("admin", 200),
    ],
)
def test_staff_page_authorization(client_for, world, who, status):
    client = client_for(getattr(world, who))
    response = client.get(_staff_url(world))
    assert response.status_code == status
    if status == 403:
        assert "hospital_doctor" not in response.content.decode()
    create = client.get(reverse("accounts:staff-create", args=[world.hospital.public_id]))
    assert create.status_code == status


def test_staff_page_of_unknown_institution_is_404(client_for, world):
    response = client_for(world.admin).get(
        reverse("accounts:institution-staff", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404


def _new_staff(**overrides):
    data = {
        "username": "nurse.chen",
        "full_name": "陈护士",
        "phone": "13811112222",
        "professional_title": "nurse",
        "password": NEW_PASSWORD,
        "role": Role.NURSE,
        "department": "",
    }
    data.update(overrides)
    return data


def test_institution_admin_creates_staff_with_a_role(client_for, world, cardiology):
    client = client_for(world.hospital_admin)
    url = reverse("accounts:staff-create", args=[world.hospital.public_id])
    response = client.post(url, _new_staff(department=str(cardiology.public_id)))
    assert response.status_code == 302 and response["Location"] == _staff_url(world)
    user = User.objects.get(username="nurse.chen")
    membership = user.memberships.get()
    assert (membership.role, membership.institution, membership.department) == (
        Role.NURSE,
        world.hospital,
        cardiology,
    )
    assert user.check_password(NEW_PASSWORD)
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"user.create", "membership.grant"}


def test_staff_create_errors_are_inline_and_nothing_is_saved(client_for, world):
    client = client_for(world.hospital_admin)
    url = reverse("accounts:staff-create", args=[world.hospital.public_id])
    response = client.post(url, _new_staff(username="hospital_doctor", password="123"))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-username"' in html and 'data-testid="error-password"' in html
    assert not User.objects.filter(full_name="陈护士").exists()
    assert not AuditEvent.objects.exists()


def test_staff_cannot_get_a_department_of_another_institution(client_for, world):
    foreign = DepartmentFactory(institution=world.township)
    client = client_for(world.hospital_admin)
    url = reverse("accounts:staff-create", args=[world.hospital.public_id])
    response = client.post(url, _new_staff(department=str(foreign.public_id)))
    assert response.status_code == 400
    assert not User.objects.filter(username="nurse.chen").exists()


def test_staff_role_choices_are_institution_roles_only(client_for, world):
    url = reverse("accounts:staff-create", args=[world.hospital.public_id])
    response = client_for(world.hospital_admin).post(url, _new_staff(role=Role.REGULATOR))
    assert response.status_code == 400
    assert not User.objects.filter(username="nurse.chen").exists()


def test_other_institution_admin_cannot_create_staff_here(client_for, world):
    url = reverse("accounts:staff-create", args=[world.hospital.public_id])
    response = client_for(world.township_admin).post(url, _new_staff())
    assert response.status_code == 403
    assert not User.objects.filter(username="nurse.chen").exists()


def test_grant_another_role_to_existing_staff(client_for, world, cardiology):
    client = client_for(world.hospital_admin)
    response = client.post(
        _staff_url(world),
        {"user": str(world.hospital_doctor.public_id), "role": Role.QUALITY_OFFICER, "department": ""},
    )
    assert response.status_code == 302
    assert world.hospital_doctor.memberships.filter(role=Role.QUALITY_OFFICER, is_active=True).exists()
    duplicate = client.post(
        _staff_url(world),
        {"user": str(world.hospital_doctor.public_id), "role": Role.DOCTOR, "department": ""},
    )
    assert duplicate.status_code == 400 and "该用户已有此授权" in duplicate.content.decode()


def test_grant_form_only_offers_own_staff(client_for, world):
    response = client_for(world.hospital_admin).post(
        _staff_url(world),
        {"user": str(world.township_admin.public_id), "role": Role.DOCTOR, "department": ""},
    )
    assert response.status_code == 400
    assert not world.township_admin.memberships.filter(role=Role.DOCTOR).exists()


def test_deactivate_and_reactivate_staff(client_for, world):
    client = client_for(world.hospital_admin)
    url = reverse(
        "accounts:staff-set-active", args=[world.hospital.public_id, world.hospital_doctor.public_id]
    )
    assert client.post(url, {"active": "0"}).status_code == 302
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.is_active is False
    assert "已停用" in client.get(_staff_url(world)).content.decode()
    client.post(url, {"active": "1"})
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.is_active is True


@pytest.mark.parametrize(
    ("who", "status"), [("township_admin", 403), ("hospital_doctor", 403), ("stranger", 403)]
)
def test_deactivate_refused_for_others(client_for, world, who, status):
    url = reverse(
        "accounts:staff-set-active", args=[world.hospital.public_id, world.hospital_doctor.public_id]
    )
    assert client_for(getattr(world, who)).post(url, {"active": "0"}).status_code == status
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.is_active


def test_deactivate_someone_of_another_institution_via_own_page_is_404(client_for, world):
    url = reverse(
        "accounts:staff-set-active", args=[world.hospital.public_id, world.township_admin.public_id]
    )
    assert client_for(world.hospital_admin).post(url, {"active": "0"}).status_code == 404
    world.township_admin.refresh_from_db()
    assert world.township_admin.is_active


def test_revoke_role_from_staff_page(client_for, world):
    membership = Membership.objects.get(user=world.hospital_doctor)
    url = reverse("accounts:membership-revoke", args=[membership.public_id])
    response = client_for(world.hospital_admin).post(url, {"next": _staff_url(world)})
    assert response.status_code == 302 and response["Location"] == _staff_url(world)
    membership.refresh_from_db()
    assert membership.is_active is False
    # Revoking again: a message, not an error page.
    again = client_for(world.hospital_admin).post(url, {"next": _staff_url(world)}, follow=True)
    assert again.status_code == 200 and "该授权已被撤销" in again.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("township_admin", 404), ("hospital_doctor", 404), ("stranger", 404)]
)
def test_revoke_refused_for_others(client_for, world, who, status):
    membership = Membership.objects.get(user=world.hospital_admin)
    url = reverse("accounts:membership-revoke", args=[membership.public_id])
    assert client_for(getattr(world, who)).post(url).status_code == status
    membership.refresh_from_db()
    assert membership.is_active


def test_revoke_redirect_ignores_offsite_next(client_for, world):
    membership = Membership.objects.get(user=world.hospital_doctor)
    url = reverse("accounts:membership-revoke", args=[membership.public_id])
    response = client_for(world.hospital_admin).post(url, {"next": "https://evil.example/"})
    assert response["Location"] == _staff_url(world)


# Users and roles -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["stranger", "hospital_admin", "hospital_doctor", "regulator", "office"])
def test_user_pages_are_for_platform_admins_only(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get(reverse("accounts:users")).status_code == 403
    assert client.get(reverse("accounts:user-create")).status_code == 403
    assert (
        client.get(reverse("accounts:user-detail", args=[world.hospital_doctor.public_id])).status_code == 403
    )
    response = client.post(
        reverse("accounts:user-grant", args=[world.stranger.public_id]), {"role": Role.PLATFORM_ADMIN}
    )
    assert response.status_code == 403
    assert not world.stranger.memberships.exists()


def test_user_list_search_and_role_filter(client_for, world):
    client = client_for(world.admin)
    html = client.get(reverse("accounts:users")).content.decode()
    assert html.count('data-testid="user-row"') == User.objects.count()
    assert "霍邱县人民医院" in html and "平台管理员" in html
    only = client.get(reverse("accounts:users"), {"q": "township"}).content.decode()
    assert only.count('data-testid="user-row"') == 1 and "township_admin" in only
    doctors = client.get(reverse("accounts:users"), {"role": Role.DOCTOR}).content.decode()
    assert doctors.count('data-testid="user-row"') == 2


def test_user_create_and_detail(client_for, world):
    client = client_for(world.admin)
    response = client.post(
        reverse("accounts:user-create"),
        {"username": "wjw.zhang", "full_name": "张科长", "password": NEW_PASSWORD, "email": "z@example.org"},
    )
    user = User.objects.get(username="wjw.zhang")
    assert response["Location"] == reverse("accounts:user-detail", args=[user.public_id])
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and "张科长" in detail.content.decode()


def test_platform_admin_grants_roles_on_every_kind_of_target(client_for, world):
    client = client_for(world.admin)
    url = reverse("accounts:user-grant", args=[world.stranger.public_id])
    assert client.post(url, {"role": Role.REGULATOR, "region_code": "341522"}).status_code == 302
    consortium = {"role": Role.CONSORTIUM_OFFICE, "consortium": str(world.consortium.public_id)}
    assert client.post(url, consortium).status_code == 302
    institution = {"role": Role.DOCTOR, "institution": str(world.outsider.public_id)}
    assert client.post(url, institution).status_code == 302
    assert client.post(url, {"role": Role.PLATFORM_ADMIN}).status_code == 302
    assert set(world.stranger.memberships.values_list("role", flat=True)) == {
        Role.REGULATOR,
        Role.CONSORTIUM_OFFICE,
        Role.DOCTOR,
        Role.PLATFORM_ADMIN,
    }


@pytest.mark.parametrize(
    ("data", "error_field"),
    [
        ({"role": Role.REGULATOR, "region_code": "999999"}, "region_code"),
        ({"role": Role.REGULATOR, "region_code": "34a"}, "region_code"),
        ({"role": Role.REGULATOR, "institution": "HOSPITAL"}, "role"),
        ({"role": Role.DOCTOR}, None),
    ],
)
def test_grant_errors_are_shown_inline(client_for, world, data, error_field):
    if data.get("institution") == "HOSPITAL":
        data = {**data, "institution": str(world.hospital.public_id)}
    response = client_for(world.admin).post(
        reverse("accounts:user-grant", args=[world.stranger.public_id]), data
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert (f'data-testid="error-{error_field}"' if error_field else 'data-testid="form-errors"') in html
    assert not world.stranger.memberships.exists()


def test_user_detail_revoke_and_deactivate(client_for, world):
    client = client_for(world.admin)
    membership = Membership.objects.get(user=world.regulator)
    detail = reverse("accounts:user-detail", args=[world.regulator.public_id])
    client.post(reverse("accounts:membership-revoke", args=[membership.public_id]), {"next": detail})
    membership.refresh_from_db()
    assert not membership.is_active
    html = client.get(detail).content.decode()
    assert "已撤销" in html
    client.post(reverse("accounts:user-set-active", args=[world.regulator.public_id]), {"active": "0"})
    world.regulator.refresh_from_db()
    assert not world.regulator.is_active


def test_platform_admin_cannot_revoke_own_platform_role_via_page(client_for, world):
    membership = Membership.objects.get(user=world.admin)
    response = client_for(world.admin).post(
        reverse("accounts:membership-revoke", args=[membership.public_id]), follow=True
    )
    assert "不能撤销自己的平台管理员身份" in response.content.decode()
    membership.refresh_from_db()
    assert membership.is_active


# Audit log ------------------------------------------------------------------------------


def _make_events(world, count=1):
    from yilian.accounts import services

    for index in range(count):
        user = UserFactory(username=f"audit-user-{index}")
        services.membership_grant(actor=world.admin, user=user, role=Role.NURSE, institution=world.hospital)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("outsider_doctor", 403),
        ("hospital_admin", 200),
        ("township_admin", 200),
        ("regulator", 200),
        ("office", 200),
        ("admin", 200),
    ],
)
def test_audit_page_authorization_and_scope(client_for, world, who, status):
    _make_events(world)
    response = client_for(getattr(world, who)).get(reverse("accounts:audit"))
    assert response.status_code == status
    html = response.content.decode()
    visible = who in ("admin", "hospital_admin")
    assert ("audit-user-0" in html) is visible
    assert html.count('data-testid="audit-row"') == (1 if visible else 0)


def test_audit_page_shows_diff_request_id_and_filters(client_for, world):
    from yilian.accounts import services

    services.user_update(actor=world.admin, user=world.hospital_doctor, phone="13900000000")
    _make_events(world)
    client = client_for(world.admin)
    html = client.get(reverse("accounts:audit")).content.decode()
    assert "修改账号" in html and "手机号" in html and "13900000000" in html
    assert "护士" in html  # the granted role shows as its label, not its code
    event = AuditEvent.objects.get(action="user.update")
    history = client.get(
        reverse("accounts:audit"),
        {"object_type": "accounts.user", "object_id": str(world.hospital_doctor.public_id)},
    ).content.decode()
    assert history.count('data-testid="audit-row"') == 1 and 'data-testid="audit-object-filter"' in history
    assert f"object_id={event.object_id}" in html
    by_action = client.get(reverse("accounts:audit"), {"action": "membership.grant"}).content.decode()
    assert by_action.count('data-testid="audit-row"') == 1
    by_actor = client.get(reverse("accounts:audit"), {"actor": "nobody"}).content.decode()
    assert 'data-testid="audit-empty"' in by_actor
    by_text = client.get(reverse("accounts:audit"), {"q": "护士"}).content.decode()
    assert by_text.count('data-testid="audit-row"') == 1
    today = event.occurred_at.astimezone().date().isoformat()
    by_date = client.get(reverse("accounts:audit"), {"since": today, "until": today}).content.decode()
    assert by_date.count('data-testid="audit-row"') == 2
    bad_range = client.get(reverse("accounts:audit"), {"since": "2026-02-02", "until": "2026-01-01"})
    assert bad_range.status_code == 400


def test_audit_page_names_a_reverse_relation_after_its_rows(client_for, world):
    # A prescription's audit event lists its items: a reverse relation, which has no verbose name.
    AuditEvent.objects.create(
        action="prescription.create",
        object_type="prescriptions.prescription",
        object_id="x",
        after={"items": [{"drug": "氨氯地平", "quantity": 28}], "notes": "长期处方"},
    )
    response = client_for(world.admin).get(reverse("accounts:audit"))
    assert response.status_code == 200
    assert "处方明细" in response.content.decode() and "氨氯地平" in response.content.decode()


def test_audit_request_id_is_recorded_from_the_page(client_for, world):
    client = client_for(world.hospital_admin)
    client.post(
        _staff_url(world),
        {"user": str(world.hospital_doctor.public_id), "role": Role.NURSE, "department": ""},
        HTTP_X_REQUEST_ID="req-1234567890",
    )
    event = AuditEvent.objects.get(action="membership.grant")
    assert event.request_id == "req-1234567890"
    assert "req-1234567890" in client.get(reverse("accounts:audit")).content.decode()


def test_audit_paginates_by_fifty(client_for, world):
    _make_events(world, 51)
    client = client_for(world.admin)
    first = client.get(reverse("accounts:audit")).content.decode()
    assert first.count('data-testid="audit-row"') == 50
    second = client.get(reverse("accounts:audit"), {"page": 2}).content.decode()
    assert second.count('data-testid="audit-row"') == 1


# Menu and error pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "present", "absent"),
    [
        ("admin", ["用户与授权", "审计日志", "我的账号", "居民"], ["本机构人员"]),
        ("hospital_admin", ["本机构人员", "审计日志", "我的账号", "居民"], ["用户与授权"]),
        ("hospital_doctor", ["我的账号", "居民"], ["本机构人员", "审计日志", "用户与授权"]),
        ("regulator", ["审计日志", "我的账号"], ["本机构人员", "用户与授权", "居民<"]),
        ("stranger", ["我的账号"], ["本机构人员", "审计日志", "用户与授权", "居民<"]),
    ],
)
def test_menu_follows_roles(client_for, world, who, present, absent):
    html = client_for(getattr(world, who)).get(reverse("home")).content.decode()
    menu = html.split('class="sidemenu"', 1)[1].split("</nav>", 1)[0]
    for label in present:
        assert label in menu, label
    for label in absent:
        assert label not in menu, label


def test_403_and_404_pages_use_the_shell(client_for, world):
    client = client_for(world.hospital_doctor)
    forbidden = client.get(reverse("accounts:users"))
    assert forbidden.status_code == 403 and 'data-testid="error-403"' in forbidden.content.decode()
    assert 'class="sidemenu"' in forbidden.content.decode()
    missing = client.get("/accounts/no-such-page/")
    assert missing.status_code == 404 and 'data-testid="error-404"' in missing.content.decode()


def test_500_page_is_standalone():
    from django.template.loader import get_template

    html = get_template("500.html").render({})
    assert 'data-testid="error-500"' in html and "{% extends" not in html and "<html" in html
    assert '<html lang="zh-hans">' in html
    # The page is rendered without context processors: it names the request's language itself.
    from django.utils import translation

    with translation.override("en"):
        assert '<html lang="en">' in get_template("500.html").render({})


def test_english_user_pages_set_a_region_scope_in_ascii_brackets(world):
    """A regulator's region scope read “霍邱县（341522）” with full-width brackets on English pages."""
    client = Client()
    client.force_login(world.admin)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    detail = client.get(reverse("accounts:user-detail", args=[world.regulator.public_id]), **english)
    listing = client.get(reverse("accounts:users"), **english)
    html = detail.content.decode() + listing.content.decode()
    assert "霍邱县 (341522)" in html and "霍邱县（341522）" not in html
    chinese = client.get(reverse("accounts:user-detail", args=[world.regulator.public_id])).content.decode()
    assert "霍邱县（341522）" in chinese
