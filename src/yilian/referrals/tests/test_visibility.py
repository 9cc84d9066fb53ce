"""Who reads a referral: the identity read before a step (``policies.sees_referral`` on one row) agrees
with the scoped queryset (``selectors.referral_visible_to``) for every reader and state, and costs one
query where the row alone decides."""

from __future__ import annotations

import pytest

from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import NotFound
from yilian.core.permissions import Role
from yilian.institutions.tests.factories import ConsortiumFactory
from yilian.referrals import policies, selectors
from yilian.referrals.models import Referral
from yilian.referrals.tests.factories import draft, referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(world):
    return referral_world(world)


def _readers(rw):
    district = rw.world.regions["district"]
    other_consortium = ConsortiumFactory(name="裕安区医共体", region=district)
    return {
        **rw.world.users(),
        "township_doctor": rw.township_doctor,
        "township_nurse": rw.township_nurse,
        "hospital_nurse": rw.hospital_nurse,
        "hospital_coordinator": rw.hospital_coordinator,
        "district_regulator": user_with_role(Role.REGULATOR, username="district_regulator", region=district),
        "other_office": user_with_role(
            Role.CONSORTIUM_OFFICE, username="other_office", consortium=other_consortium
        ),
    }


@pytest.mark.parametrize("state", ["draft", "submitted"])
def test_the_row_check_agrees_with_the_scoped_queryset(rw, state):
    referral = draft(rw) if state == "draft" else submitted(rw)
    for name, reader in _readers(rw).items():
        visible = selectors.referral_visible_to(reader).filter(pk=referral.pk).exists()
        row = Referral.objects.only(*selectors.IDENTITY_FIELDS).get(pk=referral.pk)
        decided = policies.sees_referral(reader, row)
        assert decided in (visible, None), (name, state, decided, visible)
        if decided is None:
            assert name in {"regulator", "district_regulator"}, name
        try:
            found = selectors.referral_get_for(reader, referral.public_id, related=False)
        except NotFound:
            found = None
        assert (found is not None) is visible, (name, state)
        if found is not None:
            assert (found.pk, found.public_id) == (referral.pk, referral.public_id)


def test_an_end_is_decided_in_one_query(rw, django_assert_num_queries):
    referral = submitted(rw)
    reader = rw.hospital_doctor
    for each in (reader, rw.outsider_doctor):
        policies.can_use_referrals(each)  # the reader's scope, read once per request before this
    with django_assert_num_queries(1):
        assert selectors.referral_get_for(reader, referral.public_id, related=False).pk == referral.pk
    with django_assert_num_queries(1), pytest.raises(NotFound):
        selectors.referral_get_for(rw.outsider_doctor, referral.public_id, related=False)


@pytest.mark.parametrize("public_id", ["ZZ2026", "", "1", "7d9f0c1e-0000-4000-8000-000000000000", None, 42])
def test_unknown_and_malformed_ids_are_not_found(rw, public_id):
    submitted(rw)
    with pytest.raises(NotFound):
        selectors.referral_get_for(rw.hospital_doctor, public_id, related=False)
