"""Exact query counts of the accounts list pages: constant, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yilian.accounts import services
from yilian.accounts.models import Membership
from yilian.accounts.tests.factories import UserFactory
from yilian.core.permissions import Role
from yilian.institutions.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def _count(user, url, params=None):
    """Queries of one GET by ``user`` (session, user and scope included)."""
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries)


def _add_staff(world, count, start):
    """Staff with two roles each, a department, and one audit event each."""
    department = DepartmentFactory(institution=world.hospital, name=f"科室{start}")
    for index in range(start, start + count):
        user = UserFactory(username=f"staff-{index}")
        Membership.objects.create(
            user=user, role=Role.NURSE, institution=world.hospital, department=department
        )
        services.membership_grant(
            actor=world.admin, user=user, role=Role.QUALITY_OFFICER, institution=world.hospital
        )


def _counts_for(world, user, url, params=None):
    _add_staff(world, 3, 0)
    few = _count(user, url, params)
    _add_staff(world, 12, 100)
    many = _count(user, url, params)
    return few, many


def test_user_list_queries(world):
    # session, user, scope, count, users, their memberships (one prefetch), notification badge
    assert _counts_for(world, world.admin, reverse("accounts:users")) == (7, 7)


def test_user_list_with_role_filter_queries(world):
    assert _counts_for(world, world.admin, reverse("accounts:users"), {"role": Role.NURSE}) == (7, 7)


def test_staff_list_queries(world):
    url = reverse("accounts:institution-staff", args=[world.hospital.public_id])
    # session, user, scope, institution, memberships, departments and staff for the grant form, badge,
    # whether the institution hosts a shared centre (the menu)
    assert _counts_for(world, world.hospital_admin, url) == (9, 9)


def test_audit_list_queries_for_platform_admin(world):
    # session, user, scope, count, events (with actors), notification badge
    assert _counts_for(world, world.admin, reverse("accounts:audit")) == (6, 6)


def test_audit_list_queries_for_institution_admin(world):
    # plus the actor's administered institutions and consortia for the scope
    assert _counts_for(world, world.hospital_admin, reverse("accounts:audit")) == (
        9,
        9,
    )  # + the centre menu check
