"""Long-term postings and the posting indicator (working definition, cross-year rule)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.outreach import selectors, services
from yilian.outreach.models import Posting
from yilian.outreach.tests.factories import outreach_world, posting, today

pytestmark = pytest.mark.django_db
D = datetime.date


def test_record_start_and_end_early_with_reason(world):
    ow = outreach_world(world)
    start = today() - datetime.timedelta(days=30)
    p = services.posting_create(
        actor=world.hospital_admin,
        expert=ow.expert,
        home_institution=world.hospital,
        host_institution=world.township,
        planned_start=start,
        planned_end=start + datetime.timedelta(days=200),
        home_department=ow.cardiology,
        duties="全科门诊与带教",
    )
    assert p.title_at_posting == "chief_physician" and p.status == "planned"
    services.posting_start(actor=world.township_admin, posting=p, actual_start=start)
    with pytest.raises(Invalid) as error:
        services.posting_end(actor=world.hospital_admin, posting=p, actual_end=today())
    assert "reason" in error.value.errors
    services.posting_end(actor=world.hospital_admin, posting=p, actual_end=today(), reason="家中有事")
    p.refresh_from_db()
    assert p.status == "ended_early" and p.actual_end == today() and p.early_end_reason == "家中有事"
    with pytest.raises(Conflict):
        services.posting_end(actor=world.hospital_admin, posting=p, actual_end=today(), reason="x")


def test_bad_posting_input_saves_nothing(world):
    ow = outreach_world(world)
    with pytest.raises(Invalid) as error:
        services.posting_create(
            actor=world.hospital_admin,
            expert=ow.township_doctor,
            home_institution=world.hospital,
            host_institution=world.township,
            planned_start=today(),
            planned_end=today() + datetime.timedelta(days=100),
        )
    assert {"expert", "planned_end"} <= set(error.value.errors)
    assert "183" in str(error.value.errors["planned_end"][0])
    with pytest.raises(Invalid) as error:
        services.posting_create(
            actor=world.township_admin,
            expert=ow.township_doctor,
            home_institution=world.township,
            host_institution=world.hospital,
            planned_start=today(),
            planned_end=today() + datetime.timedelta(days=200),
        )
    assert "host_institution" in error.value.errors  # a hospital is not a primary institution
    with pytest.raises(NotAllowed):
        services.posting_create(
            actor=ow.expert,
            expert=ow.expert,
            home_institution=world.hospital,
            host_institution=world.township,
            planned_start=today(),
            planned_end=today() + datetime.timedelta(days=200),
        )
    assert not Posting.objects.exists()


def test_overlapping_postings_of_one_expert_are_refused(world):
    ow = outreach_world(world)
    kwargs = {
        "actor": world.hospital_admin,
        "expert": ow.expert,
        "home_institution": world.hospital,
        "host_institution": world.township,
    }
    services.posting_create(
        **kwargs, planned_start=today(), planned_end=today() + datetime.timedelta(days=200)
    )
    with pytest.raises(Invalid):
        services.posting_create(
            **kwargs,
            planned_start=today() + datetime.timedelta(days=100),
            planned_end=today() + datetime.timedelta(days=400),
        )


def test_cancel_only_before_start(world):
    ow = outreach_world(world)
    p = posting(ow, start=today(), end=today() + datetime.timedelta(days=200))
    with pytest.raises(NotAllowed):
        services.posting_cancel(actor=world.township_admin, posting=p, reason="x")
    services.posting_cancel(actor=world.hospital_admin, posting=p, reason="人员调整")
    p.refresh_from_db()
    assert p.status == "cancelled"


def test_indicator_counts_cross_year_postings_by_days_inside_the_year(world):
    ow = outreach_world(world)
    year = today().year - 1
    # A whole year: weight 1. Counted.
    posting(
        ow, start=D(year, 1, 1), end=D(year, 12, 31), actual_start=D(year, 1, 1), actual_end=D(year, 12, 31)
    )
    # Cross-year from 1 October of the year before: 273 days inside (1 Jan – 30 Sep... of ``year``).
    other = ow.junior
    other.professional_title = "associate_chief_physician"
    other.save()
    posting(
        ow,
        expert=other,
        start=D(year - 1, 10, 1),
        end=D(year, 9, 30),
        actual_start=D(year - 1, 10, 1),
        actual_end=D(year, 9, 30),
    )
    # Below intermediate title: not counted.
    world.hospital_doctor.professional_title = "resident_physician"
    world.hospital_doctor.save()
    posting(
        ow,
        expert=world.hospital_doctor,
        start=D(year, 3, 1),
        end=D(year, 12, 31),
        actual_start=D(year, 3, 1),
        actual_end=D(year, 12, 31),
    )
    # Ended after 100 days: shorter than 183, not counted.
    from yilian.accounts.tests.factories import user_with_role

    short = user_with_role("doctor", username="short", institution=world.hospital)
    short.professional_title = "attending_physician"
    short.save()
    posting(
        ow,
        expert=short,
        start=D(year, 2, 1),
        end=D(year, 10, 1),
        actual_start=D(year, 2, 1),
        actual_end=D(year, 5, 11),
        reason="调回",
    )
    figure = selectors.posting_indicator(world.office, year=year, consortium=world.consortium)
    days = (D(year, 12, 31) - D(year, 1, 1)).days + 1
    inside = (D(year, 9, 30) - D(year, 1, 1)).days + 1
    assert figure.postings_counted == 2 and figure.persons_counted == 2
    assert figure.person_days == days + inside
    expected = (Decimal(days + inside) / days / 800_000 * 10000).quantize(Decimal("0.001"))
    assert figure.value == expected
    rows = selectors.posting_indicator_rows(world.office, year=year, consortium=world.consortium)
    reasons = sorted(r.excluded_because for r in rows)
    assert reasons == ["", "", "short", "title"]
    # The same posting counts in the year before by its days there (1 Oct – 31 Dec = 92 days).
    before = selectors.posting_indicator(world.office, year=year - 1, consortium=world.consortium)
    assert before.person_days == 92 and before.postings_counted == 1
    # A region scope reads the county's population.
    by_region = selectors.posting_indicator(world.regulator, year=year, region=world.regions["county"])
    assert by_region.value == expected


def test_indicator_is_for_oversight_and_administrators(world):
    ow = outreach_world(world)
    with pytest.raises(NotAllowed):
        selectors.posting_indicator(ow.expert, year=today().year, consortium=world.consortium)
    assert (
        selectors.posting_indicator(
            world.hospital_admin, year=today().year, consortium=world.consortium
        ).value
        == 0
    )


def test_only_physicians_of_the_sender_are_posted(world):
    """A technician (an equipment engineer), a nurse or a doctor without a physician title is not posted."""
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role
    from yilian.institutions.tests.factories import DepartmentFactory

    ow = outreach_world(world)
    engineer = user_with_role(Role.TECHNICIAN, username="engineer", institution=world.hospital)
    nurse = user_with_role(Role.NURSE, username="ward_nurse", institution=world.hospital)
    nurse.professional_title = "supervising_nurse"
    nurse.save()
    untitled = user_with_role(Role.DOCTOR, username="untitled", institution=world.hospital)
    other_department = DepartmentFactory(institution=world.township, name="全科医疗科")
    start = today() + datetime.timedelta(days=1)
    for person in (engineer, nurse, untitled):
        with pytest.raises(Invalid) as error:
            services.posting_create(
                actor=world.hospital_admin,
                expert=person,
                home_institution=world.hospital,
                host_institution=world.township,
                planned_start=start,
                planned_end=start + datetime.timedelta(days=200),
                home_department=ow.cardiology,
            )
        assert set(error.value.errors) == {"expert"}, person.username
    with pytest.raises(Invalid) as error:
        services.posting_create(
            actor=world.hospital_admin,
            expert=ow.expert,
            home_institution=world.hospital,
            host_institution=world.township,
            planned_start=start,
            planned_end=start + datetime.timedelta(days=200),
            home_department=other_department,
        )
    assert set(error.value.errors) == {"home_department"}
    assert not Posting.objects.exists()
    offered = set(selectors.physicians_of({world.hospital.pk}))
    assert ow.expert in offered and ow.junior in offered
    assert not offered & {engineer, nurse, untitled}


def test_posting_problems_are_the_errors_posting_create_raises(world):
    """The read-only check gives the service's own field errors (a nurse, overlap) and writes nothing."""
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role

    ow = outreach_world(world)
    nurse = user_with_role(Role.NURSE, username="posted_nurse", institution=world.hospital)
    nurse.professional_title = "supervising_nurse"
    nurse.save()
    start = today() + datetime.timedelta(days=1)
    values = {
        "home_institution": world.hospital,
        "host_institution": world.township,
        "planned_start": start,
        "planned_end": start + datetime.timedelta(days=200),
    }
    with pytest.raises(Invalid) as error:
        services.posting_create(actor=world.hospital_admin, expert=nurse, **values)
    assert services.posting_problems(expert=nurse, **values) == error.value.errors
    assert services.posting_problems(expert=ow.expert, **values) == {}
    saved = services.posting_create(actor=world.hospital_admin, expert=ow.expert, **values)
    assert set(services.posting_problems(expert=ow.expert, **values)) == {"planned_start"}
    assert services.posting_problems(expert=ow.expert, ignore=saved, **values) == {}
    assert Posting.objects.count() == 1
