"""The chronic-care side of ``seed-demo``: cases and a year of follow-ups agree with the rules, a live
referral was sent through the services, pages have content for the demo accounts, a second run changes
nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yilian.accounts.models import User
from yilian.chronic_care import rules
from yilian.chronic_care.choices import CaseStatus, Control
from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.people.models import PersonInstitutionLink

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "120", "--village-limit", "2", "--referral-months", "2")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded() -> str:
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def test_cases_and_follow_ups_are_consistent(seeded):
    cases = list(ChronicCase.objects.select_related("registry", "person"))
    assert cases, "the demo enrols some residents"
    assert {c.registry.code for c in cases} <= {"hypertension", "diabetes_t2"}
    today = timezone.localdate()
    for case in cases:
        follow_ups = list(FollowUp.objects.filter(case=case).order_by("-visited_on", "-id"))
        assert case.follow_up_count == len(follow_ups)
        assert case.status == CaseStatus.ACTIVE
        if follow_ups:
            last = follow_ups[0]
            assert case.last_follow_up_on == last.visited_on and case.next_due_on == last.next_due_on
            assert case.last_control == last.control
            assert all(f.visited_on <= today for f in follow_ups)
            for f in follow_ups:
                expected = rules.control_status(
                    rules.Thresholds.of(case.registry),
                    age=rules_age(case, f),
                    systolic=f.systolic,
                    diastolic=f.diastolic,
                    fasting_glucose=f.fasting_glucose,
                )
                assert f.control == expected
                if f.systolic is not None:
                    assert f.diastolic < f.systolic
        assert PersonInstitutionLink.objects.filter(
            person=case.person, institution=case.institution, reason="chronic_care"
        ).exists()


def rules_age(case, follow_up):
    from yilian.people.services import age_on

    return age_on(case.person, follow_up.visited_on)


def test_live_referral_sent_by_township_doctor(seeded):
    follow_up = (
        FollowUp.objects.filter(referral__isnull=False).select_related("referral", "recorded_by").get()
    )
    assert follow_up.recorded_by.username == "township_doctor"
    assert follow_up.referral.status == "submitted"
    assert follow_up.referral.created_by.username == "township_doctor"
    assert follow_up.control == Control.UNCONTROLLED


def test_second_run_changes_nothing(seeded):
    counts = (ChronicCase.objects.count(), FollowUp.objects.count())
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert (ChronicCase.objects.count(), FollowUp.objects.count()) == counts


PAGES = (
    ("township_doctor", "chronic_care:list"),
    ("township_doctor", "chronic_care:overdue"),
    ("township_doctor", "chronic_care:suggestions"),
    ("township_nurse", "chronic_care:list"),
    ("office", "chronic_care:rates"),
    ("regulator", "chronic_care:rates"),
    ("office", "chronic_care:registries"),
)


def test_pages_open_for_demo_accounts(seeded):
    for username, url_name in PAGES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        response = client.get(reverse(url_name))
        assert response.status_code == 200, (username, url_name)
        if url_name == "chronic_care:list":
            assert response.context["page_obj"].object_list, username
