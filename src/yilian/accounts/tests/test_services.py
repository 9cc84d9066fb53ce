"""Accounts services: throttled login, accounts, role grants and revocations, with their audit."""

from __future__ import annotations

import datetime
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends import db as db_cache
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from yilian.accounts import policies, selectors, services
from yilian.accounts.models import Membership, User
from yilian.accounts.tests.factories import PASSWORD, UserFactory, user_with_role
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
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


STRONG = "Qiang-mima-2026!"


# Login ---------------------------------------------------------------------------


def test_login_accepts_right_password(world):
    assert services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1") == (
        world.hospital_doctor
    )


def test_wrong_password_and_unknown_user_get_the_same_message(world):
    with pytest.raises(Invalid) as wrong:
        services.login(username="hospital_doctor", password="nope", address="10.0.0.1")
    with pytest.raises(Invalid) as unknown:
        services.login(username="nobody-here", password="nope", address="10.0.0.2")
    assert wrong.value.as_text() == unknown.value.as_text()
    assert "nope" not in str(wrong.value.as_text())


def test_inactive_user_cannot_log_in(world):
    world.hospital_doctor.is_active = False
    world.hospital_doctor.save()
    with pytest.raises(Invalid):
        services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_login_locks_after_repeated_failures_even_with_the_right_password(world):
    for _attempt in range(3):
        with pytest.raises(Invalid):
            services.login(username="hospital_doctor", password="wrong", address="10.0.0.1")
    with pytest.raises(services.LoginLocked):
        services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.9")
    # The lock is per username and per address: another user from another address is not locked.
    assert services.login(username="hospital_admin", password=PASSWORD, address="10.0.0.8")


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=3)
def test_login_locks_an_address_trying_many_usernames(world):
    for name in ("a1", "a2", "a3"):
        with pytest.raises(Invalid):
            services.login(username=name, password="wrong", address="10.9.9.9")
    with pytest.raises(services.LoginLocked):
        services.login(username="hospital_doctor", password=PASSWORD, address="10.9.9.9")


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_successful_login_resets_the_failure_count(world):
    for _attempt in range(2):
        with pytest.raises(Invalid):
            services.login(username="hospital_doctor", password="wrong", address="10.0.0.1")
    services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")
    for _attempt in range(2):
        with pytest.raises(Invalid):
            services.login(username="hospital_doctor", password="wrong", address="10.0.0.1")
    assert services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")


@override_settings(LOGIN_FAILURE_LIMIT=5, LOGIN_ADDRESS_FAILURE_LIMIT=50)
def test_many_users_behind_one_gateway_are_not_locked_out_together(world):
    # Twelve people of one hospital mistype their password once, all through one gateway.
    for n in range(12):
        with pytest.raises(Invalid):
            services.login(username=f"staff{n}", password="wrong", address="10.20.0.1")
    assert services.login(username="hospital_doctor", password=PASSWORD, address="10.20.0.1")
    # The username limit is still the small one.
    for _attempt in range(5):
        with pytest.raises(Invalid):
            services.login(username="hospital_admin", password="wrong", address="10.20.0.1")
    with pytest.raises(services.LoginLocked):
        services.login(username="hospital_admin", password=PASSWORD, address="10.20.0.2")


def _cache_expiries():
    """Seconds from now until each login-failure counter expires in the database cache."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, expires FROM yilian_cache")
        rows = cursor.fetchall()
    now = timezone.now()
    return {
        key.split(":", 2)[-1]: (
            (expires if timezone.is_aware(expires) else timezone.make_aware(expires, datetime.UTC)) - now
        ).total_seconds()
        for key, expires in rows
        if "login-fail" in key
    }


@pytest.fixture
def clock(monkeypatch):
    """``clock(minutes)`` moves the time the database cache sees (expiry and reads) that far ahead."""
    real_time = time.time

    def move(minutes: float) -> None:
        offset = minutes * 60

        def now() -> datetime.datetime:
            return datetime.datetime.fromtimestamp(real_time() + offset, tz=datetime.UTC)

        monkeypatch.setattr(time, "time", lambda: real_time() + offset)
        monkeypatch.setattr(db_cache, "tz_now", now)
        monkeypatch.setattr(timezone, "now", now)

    return move


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_SECONDS=900)
def test_the_lock_lasts_the_configured_window_not_the_cache_default(world, clock):
    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    for _attempt in range(3):
        with pytest.raises(Invalid):
            services.login(username="hospital_doctor", password="wrong", address="10.0.0.1")
    expiries = _cache_expiries()
    assert len(expiries) == 2  # the username's counter and the address's
    assert all(890 < seconds <= 900 for seconds in expiries.values()), expiries
    # Ten minutes later (past the cache's 5-minute default timeout) it is still locked …
    clock(10)
    with pytest.raises(services.LoginLocked):
        services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")
    # … and once the 15 minutes have passed, the right password works again.
    clock(16)
    assert services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_SECONDS=900)
def test_each_failure_restarts_the_window(world, clock):
    with pytest.raises(Invalid):
        services.login(username="hospital_doctor", password="wrong", address="10.0.0.1")
    clock(12)
    for _attempt in range(2):
        with pytest.raises(Invalid):
            services.login(username="hospital_doctor", password="wrong", address="10.0.0.1")
    # Three failures, each within 15 minutes of the one before: locked, for 15 minutes from the last.
    with pytest.raises(services.LoginLocked):
        services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")
    assert all(890 < seconds <= 900 for seconds in _cache_expiries().values())
    clock(12 + 14)
    with pytest.raises(services.LoginLocked):
        services.login(username="hospital_doctor", password=PASSWORD, address="10.0.0.1")


# Accounts ------------------------------------------------------------------------


def test_institution_admin_creates_an_account_audited_without_the_password(world):
    user = services.user_create(
        actor=world.hospital_admin, password=STRONG, username="li.si", full_name="李四", phone="13900000000"
    )
    assert user.check_password(STRONG)
    assert user.password != STRONG
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.public_id))
    assert event.actor == world.hospital_admin
    assert STRONG not in str(event.after) and "password" not in event.after


@pytest.mark.parametrize("who", ["hospital_doctor", "stranger", "regulator", "office"])
def test_only_admins_create_accounts(world, who):
    with pytest.raises(NotAllowed):
        services.user_create(actor=getattr(world, who), password=STRONG, username="new.one")
    assert not User.objects.filter(username="new.one").exists()


def test_duplicate_username_weak_password_and_bad_phone_are_field_errors(world):
    with pytest.raises(Invalid) as error:
        services.user_create(actor=world.admin, password="123", username="HOSPITAL_DOCTOR", phone="12a")
    assert set(error.value.errors) == {"username", "password", "phone"}


@pytest.mark.parametrize("username", ["li si", "li.si!", "李 四", "x" * 151])
def test_a_username_the_model_would_refuse_is_a_field_error(world, username):
    """Spaces, punctuation other than @ . + - _ and over-long names were saved (the model's validator
    was skipped), leaving accounts the admin site and createsuperuser refuse."""
    with pytest.raises(Invalid) as error:
        services.user_create(actor=world.admin, password=STRONG, username=username, full_name="李四")
    assert set(error.value.errors) == {"username"}
    assert not User.objects.filter(full_name="李四").exists()


def test_a_chinese_or_dotted_username_is_accepted(world):
    for username in ("李四", "li.si@county-1"):
        assert (
            services.user_create(actor=world.admin, password=STRONG, username=username).username == username
        )


def test_user_update_by_the_administering_institution_admin(world):
    services.user_update(actor=world.hospital_admin, user=world.hospital_doctor, is_active=False)
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.is_active is False
    event = AuditEvent.objects.get(action="user.update", object_id=str(world.hospital_doctor.public_id))
    assert event.before == {"is_active": True} and event.after == {"is_active": False}


def test_institution_admin_cannot_change_staff_of_another_institution(world):
    with pytest.raises(NotAllowed):
        services.user_update(actor=world.township_admin, user=world.hospital_doctor, is_active=False)
    with pytest.raises(NotAllowed):
        services.user_set_password(actor=world.township_admin, user=world.hospital_doctor, password=STRONG)
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.is_active and world.hospital_doctor.check_password(PASSWORD)


def test_institution_admin_cannot_change_someone_who_also_works_elsewhere(world):
    Membership.objects.create(user=world.hospital_doctor, role=Role.DOCTOR, institution=world.township)
    with pytest.raises(NotAllowed):
        services.user_update(actor=world.hospital_admin, user=world.hospital_doctor, is_active=False)


def test_users_cannot_deactivate_themselves(world):
    services.user_update(actor=world.hospital_admin, user=world.hospital_admin, is_active=False, phone="139")
    world.hospital_admin.refresh_from_db()
    assert world.hospital_admin.is_active and world.hospital_admin.phone == "139"


def test_set_own_password_validates_and_audits(world):
    with pytest.raises(Invalid) as error:
        services.user_set_password(actor=world.hospital_doctor, user=world.hospital_doctor, password="123")
    assert "password" in error.value.errors
    services.user_set_password(actor=world.hospital_doctor, user=world.hospital_doctor, password=STRONG)
    world.hospital_doctor.refresh_from_db()
    assert world.hospital_doctor.check_password(STRONG)
    event = AuditEvent.objects.get(action="user.password")
    assert STRONG not in str(event.details) and event.before is None and event.after is None


# Grants and revocations ------------------------------------------------------------


def test_institution_admin_grants_a_role_with_department_in_own_institution(world):
    department = DepartmentFactory(institution=world.hospital)
    nurse = UserFactory(username="nurse")
    membership = services.membership_grant(
        actor=world.hospital_admin,
        user=nurse,
        role=Role.NURSE,
        institution=world.hospital,
        department=department,
    )
    assert membership.granted_by == world.hospital_admin
    assert selectors.scope_for(nurse).institution_roles == {world.hospital.pk: frozenset({Role.NURSE})}
    event = AuditEvent.objects.get(action="membership.grant", object_id=str(membership.public_id))
    assert event.institution_public_id == world.hospital.public_id
    assert event.after["role"] == Role.NURSE and event.after["department"] == str(department.public_id)


def test_institution_admin_cannot_grant_in_another_institution(world):
    with pytest.raises(NotAllowed):
        services.membership_grant(
            actor=world.hospital_admin, user=world.stranger, role=Role.DOCTOR, institution=world.township
        )
    assert not Membership.objects.filter(user=world.stranger).exists()


@pytest.mark.parametrize(
    ("role", "target"),
    [
        (Role.REGULATOR, "region"),
        (Role.CONSORTIUM_OFFICE, "consortium"),
        (Role.INSURANCE_OFFICER, "region"),
        (Role.PLATFORM_ADMIN, None),
    ],
)
def test_institution_admin_cannot_grant_regulator_office_or_platform_roles(world, role, target):
    targets = {
        "region": {"region": world.regions["county"]},
        "consortium": {"consortium": world.consortium},
        None: {},
    }[target]
    with pytest.raises(NotAllowed):
        services.membership_grant(actor=world.hospital_admin, user=world.stranger, role=role, **targets)
    assert not Membership.objects.filter(user=world.stranger).exists()


@pytest.mark.parametrize("who", ["hospital_doctor", "stranger", "regulator", "office"])
def test_non_admins_cannot_grant(world, who):
    with pytest.raises(NotAllowed):
        services.membership_grant(
            actor=getattr(world, who), user=world.stranger, role=Role.DOCTOR, institution=world.hospital
        )


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.INSURANCE_OFFICER])
def test_region_roles_are_granted_at_county_level_and_above_only(world, role):
    """A regulator or insurance officer could be granted on a township or village (no such body there)."""
    for level in ("town_a", "village_a1"):
        with pytest.raises(Invalid) as error:
            services.membership_grant(
                actor=world.admin, user=world.stranger, role=role, region=world.regions[level]
            )
        assert error.value.errors == {"region": ["只能按县级及以上行政区划授权。"]}
    assert not Membership.objects.filter(user=world.stranger, role=role).exists()
    granted = services.membership_grant(
        actor=world.admin, user=world.stranger, role=role, region=world.regions["county"]
    )
    assert granted.region == world.regions["county"]


def test_duplicate_grant_is_a_field_error(world):
    with pytest.raises(Invalid) as error:
        services.membership_grant(
            actor=world.hospital_admin,
            user=world.hospital_doctor,
            role=Role.DOCTOR,
            institution=world.hospital,
        )
    assert "role" in error.value.errors
    assert Membership.objects.filter(user=world.hospital_doctor, role=Role.DOCTOR).count() == 1


@pytest.mark.parametrize(
    ("role", "target", "field"),
    [
        (Role.REGULATOR, "institution", "role"),
        (Role.DOCTOR, "consortium", "role"),
        (Role.DOCTOR, "region", "role"),
        (Role.PLATFORM_ADMIN, "institution", "role"),
        (Role.DOCTOR, None, "__all__"),
        ("astronaut", "institution", "role"),
    ],
)
def test_role_must_fit_its_target(world, role, target, field):
    targets = {
        "institution": {"institution": world.hospital},
        "region": {"region": world.regions["county"]},
        "consortium": {"consortium": world.consortium},
        None: {},
    }[target]
    with pytest.raises(Invalid) as error:
        services.membership_grant(actor=world.admin, user=world.stranger, role=role, **targets)
    assert field in error.value.errors


def test_department_must_belong_to_the_institution(world):
    foreign = DepartmentFactory(institution=world.township)
    with pytest.raises(Invalid) as error:
        services.membership_grant(
            actor=world.admin,
            user=world.stranger,
            role=Role.DOCTOR,
            institution=world.hospital,
            department=foreign,
        )
    assert "department" in error.value.errors


def test_platform_admin_grants_region_consortium_and_platform_roles(world):
    services.membership_grant(
        actor=world.admin, user=world.stranger, role=Role.REGULATOR, region=world.regions["city"]
    )
    services.membership_grant(
        actor=world.admin, user=world.stranger, role=Role.CONSORTIUM_OFFICE, consortium=world.consortium
    )
    services.membership_grant(actor=world.admin, user=world.stranger, role=Role.PLATFORM_ADMIN)
    scope = selectors.scope_for(User.objects.get(pk=world.stranger.pk))
    assert scope.is_platform_admin
    assert scope.region_roles == {"3415": frozenset({Role.REGULATOR})}
    assert scope.consortium_roles == {world.consortium.pk: frozenset({Role.CONSORTIUM_OFFICE})}
    region_event = AuditEvent.objects.get(action="membership.grant", region_code="341500")
    assert region_event.after["region"] == "341500"


def test_revoke_keeps_history_and_audits(world):
    membership = Membership.objects.get(user=world.hospital_doctor)
    services.membership_revoke(actor=world.hospital_admin, membership=membership)
    membership.refresh_from_db()
    assert membership.is_active is False
    assert selectors.scope_for(User.objects.get(pk=world.hospital_doctor.pk)).roles() == frozenset()
    event = AuditEvent.objects.get(action="membership.revoke")
    assert event.institution_public_id == world.hospital.public_id
    with pytest.raises(Conflict):
        services.membership_revoke(actor=world.hospital_admin, membership=membership)


def test_institution_admin_cannot_revoke_in_another_institution_or_a_regulator(world):
    for user in (world.township_admin, world.regulator):
        membership = Membership.objects.get(user=user)
        with pytest.raises(NotAllowed):
            services.membership_revoke(actor=world.hospital_admin, membership=membership)
        membership.refresh_from_db()
        assert membership.is_active


def test_platform_admin_cannot_revoke_own_platform_role(world):
    membership = Membership.objects.get(user=world.admin)
    with pytest.raises(Invalid):
        services.membership_revoke(actor=world.admin, membership=membership)
    membership.refresh_from_db()
    assert membership.is_active


def test_regrant_after_revoke_is_allowed(world):
    membership = Membership.objects.get(user=world.hospital_doctor)
    services.membership_revoke(actor=world.admin, membership=membership)
    again = services.membership_grant(
        actor=world.hospital_admin, user=world.hospital_doctor, role=Role.DOCTOR, institution=world.hospital
    )
    assert again.pk != membership.pk and again.is_active


# Selectors and policies used by the pages ---------------------------------------------


def test_user_visibility(world):
    assert set(selectors.user_visible_to(world.admin)) == set(User.objects.all())
    visible = set(selectors.user_visible_to(world.hospital_admin))
    assert visible == {world.hospital_admin, world.hospital_doctor}
    assert set(selectors.user_visible_to(world.hospital_doctor)) == {world.hospital_doctor}
    assert not selectors.user_visible_to(None).exists()


def test_audit_scope(world):
    doctor = user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township)
    services.membership_grant(actor=world.admin, user=doctor, role=Role.NURSE, institution=world.township)
    services.membership_grant(
        actor=world.admin, user=world.stranger, role=Role.DOCTOR, institution=world.hospital
    )
    assert selectors.audit_list(world.admin).count() == 2
    hospital_events = list(selectors.audit_list(world.hospital_admin))
    assert [event.after["user"] for event in hospital_events] == ["stranger"]
    assert [event.after["user"] for event in selectors.audit_list(world.township_admin)] == [
        "township_doctor"
    ]
    assert selectors.audit_list(world.regulator).count() == 0  # institution events carry no region code
    assert not selectors.audit_list(world.hospital_doctor).exists()
    assert policies.can_view_audit(world.hospital_admin) and not policies.can_view_audit(
        world.hospital_doctor
    )


# Professional titles fit the staff kind ----------------------------------------------


def test_a_nurse_account_cannot_carry_a_physician_title(world):
    with pytest.raises(Invalid) as error:
        services.staff_account_create(
            actor=world.hospital_admin,
            institution=world.hospital,
            role=Role.NURSE,
            password=STRONG,
            username="nurse.wang",
            professional_title="chief_physician",
        )
    assert set(error.value.errors) == {"professional_title"}
    assert "医师系列" in error.value.as_text()["professional_title"][0]
    assert not User.objects.filter(username="nurse.wang").exists()
    assert not AuditEvent.objects.filter(action="user.create").exists()
    # Reported with the account's own errors, all at once.
    with pytest.raises(Invalid) as both:
        services.staff_account_create(
            actor=world.hospital_admin,
            institution=world.hospital,
            role=Role.TECHNICIAN,
            password="123",
            username="tech.li",
            professional_title="supervising_nurse",
        )
    assert set(both.value.errors) == {"professional_title", "password"}
    nurse, _membership = services.staff_account_create(
        actor=world.hospital_admin,
        institution=world.hospital,
        role=Role.NURSE,
        password=STRONG,
        username="nurse.wang",
        professional_title="supervising_nurse",
    )
    assert nurse.professional_title == "supervising_nurse"


def test_changing_a_title_must_fit_the_roles_held(world):
    nurse = user_with_role(Role.NURSE, username="nurse.zhao", institution=world.hospital)
    with pytest.raises(Invalid) as error:
        services.user_update(actor=world.hospital_admin, user=nurse, professional_title="attending_physician")
    assert set(error.value.errors) == {"professional_title"}
    nurse.refresh_from_db()
    assert nurse.professional_title == ""
    services.user_update(actor=world.hospital_admin, user=nurse, professional_title="chief_nurse")
    # A doctor who coordinates referrals keeps a physician title; a coordinator alone may hold any.
    coordinator = user_with_role(Role.REFERRAL_COORDINATOR, username="coord", institution=world.hospital)
    services.user_update(actor=world.hospital_admin, user=coordinator, professional_title="supervising_nurse")
    services.user_update(actor=world.hospital_admin, user=world.hospital_doctor, professional_title="")


def test_granting_a_role_of_another_series_than_the_title_is_refused(world):
    coordinator = user_with_role(Role.REFERRAL_COORDINATOR, username="coord", institution=world.hospital)
    coordinator.professional_title = "chief_physician"
    coordinator.save()
    with pytest.raises(Invalid) as error:
        services.membership_grant(
            actor=world.hospital_admin, user=coordinator, role=Role.NURSE, institution=world.hospital
        )
    assert set(error.value.errors) == {"role"} and "请先修改该用户的职称" in error.value.as_text()["role"][0]
    assert not Membership.objects.filter(user=coordinator, role=Role.NURSE).exists()
    services.membership_grant(
        actor=world.hospital_admin, user=coordinator, role=Role.DOCTOR, institution=world.hospital
    )
