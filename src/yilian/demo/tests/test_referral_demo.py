"""The referral side of ``seed-demo``: every referral page has content, and the content is consistent."""

from __future__ import annotations

import datetime
import io
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import F, Q
from django.utils import timezone, translation
from stdnum.cn import ric

from yilian.accounts.models import User
from yilian.core.icd10 import parse_icd10
from yilian.core.models import AuditEvent
from yilian.demo import referral_content as rc
from yilian.demo.seeding import count_rows
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.institutions.models import Consortium, Institution
from yilian.people.identifiers import decrypt_id_number
from yilian.people.models import PersonInstitutionLink
from yilian.referrals import policies, selectors
from yilian.referrals.choices import ADMITTING_KINDS, OPEN_STATUSES, ReferralStatus
from yilian.referrals.models import (
    DeductibleSubsidy,
    FollowUpTask,
    Referral,
    ReferralCriterion,
    ReferralEvent,
    ReferralSettings,
    ReservedCapacity,
    default_answer_hours,
)
from yilian.referrals.services import referral_check

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "40", "--village-limit", "2", "--referral-months", "2")
"""Two full months of history and the current one, two village clinics per township."""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded():
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def county() -> Consortium:
    return Consortium.objects.get(type="county_community")


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_the_catalogue_codes_are_valid_icd10():
    for rule in rc.CRITERIA:
        parse_icd10(rule.icd_from)
        parse_icd10(rule.icd_to)
        assert rule.source and len(rule.source) <= 200
    diagnoses = {
        dx for table in (rc.UP_DIAGNOSES, rc.DOWN_DIAGNOSES) for items in table.values() for dx, _w in items
    }
    for dx in diagnoses:
        assert parse_icd10(dx.code).code == dx.code
        assert len(dx.name) <= 50


def check_configuration_follows_the_brief() -> None:
    consortium = county()
    settings = ReferralSettings.objects.get(consortium=consortium)
    assert settings.grade_bounds == rc.GRADE_BOUNDS
    subsidies = dict(
        DeductibleSubsidy.objects.filter(consortium=consortium).values_list("insurance_scheme", "amount")
    )
    assert subsidies == {"resident": 200, "employee": 240}
    hypertension = ReferralCriterion.objects.get(consortium=consortium, category="must_up", icd_from="I10")
    assert hypertension.icd_to == "I15"
    assert hypertension.required_materials == ["history", "exam_results", "medications", "ecg"]
    assert (hypertension.completeness_threshold, hypertension.missing_action) == (85, "warn")
    assert len(hypertension.triggers) >= 6
    stays = dict(
        ReferralCriterion.objects.filter(consortium=consortium, category="down_rehabilitation").values_list(
            "icd_from", "min_stay_days"
        )
    )
    assert stays["I10"] == 5 and stays["I60"] == 10 and stays["S72"] == 7
    assert ReferralCriterion.objects.filter(
        consortium=consortium, category="stay_primary", icd_from="I10"
    ).exists()
    assert ReferralCriterion.objects.filter(source__contains="示例（非国家标准）").count() >= 5
    today = timezone.localdate()
    capacity = ReservedCapacity.objects.filter(
        department__institution__name="金寨县人民医院", signed_residents_only=False
    )
    assert {row.date for row in capacity} == {today + datetime.timedelta(days=d) for d in range(14)}
    assert {row.kind for row in capacity} == {"outpatient_slot", "bed", "exam_slot"}
    assert capacity.filter(booked__gt=0, booked__lt=F("quantity")).exists()  # partly booked


def check_the_lead_hospital_inbox_has_open_referrals_in_every_state() -> None:
    for username in ("doctor", "coordinator"):
        inbox = selectors.referral_list(
            user(username), selectors.ReferralFilters(box="inbox", open_only=True)
        )
        assert inbox.exists()
    statuses = set(
        Referral.objects.filter(to_institution__name="金寨县人民医院", status__in=OPEN_STATUSES).values_list(
            "status", flat=True
        )
    )
    assert statuses == set(OPEN_STATUSES)
    township = selectors.referral_list(user("township_doctor"), selectors.ReferralFilters(box="inbox"))
    assert township.filter(direction="down", status__in=OPEN_STATUSES).exists()
    assert (
        selectors.referral_list(user("township_doctor"), selectors.ReferralFilters(box="outbox"))
        .filter(status="draft")
        .exists()
    )
    overdue = Referral.objects.filter(status="submitted", answer_due_at__lt=timezone.now())
    assert overdue.exists()


def check_statistics_are_graded_with_a_spread() -> None:
    office = user("office")
    assert policies.can_view_statistics(office) and policies.can_view_statistics(user("regulator"))
    consortium = selectors.member_consortia_for_statistics(user("regulator")).get()
    assert consortium == county()
    today = timezone.localdate()
    first = (today.replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    up = selectors.up_referral_rates(consortium, first, today)
    down = selectors.down_referral_rates(consortium, first, today)
    up_grades = {row.grade for row in up if row.grade}
    down_grades = {row.grade for row in down if row.grade}
    assert len(up_grades) >= 3, Counter(row.grade for row in up)
    assert len(down_grades) >= 3, Counter(row.grade for row in down)
    assert all(row.denominator for row in up if row.referrals)
    summary = selectors.referral_summary(consortium, first, today)
    assert summary.up and summary.down and summary.lateral
    assert summary.subsidy_total > 0 and summary.response_hours_median is not None
    month = today.replace(day=1) - datetime.timedelta(days=1)
    assert selectors.subsidy_report(consortium, month).exists()


def check_the_worklist_suggests_a_home_institution() -> None:
    rows = selectors.down_referral_worklist(user("doctor"))
    assert rows
    assert all(row.suggested_institution is not None for row in rows)
    assert all(row.suggested_institution.is_primary for row in rows)
    assert any(row.flagged for row in rows) and any(not row.flagged and row.rule for row in rows)
    assert any(row.open_referral for row in rows)
    lead = Institution.objects.get(name="金寨县人民医院")
    current = Encounter.objects.filter(institution=lead, kind="inpatient", ended_at__isnull=True)
    assert current.count() >= 30
    for stay in current:
        assert PersonInstitutionLink.objects.filter(
            person=stay.person, institution=lead, reason="treated"
        ).exists()


def check_system_notes_read_in_the_readers_language() -> None:
    """The seeded schedule and redirect steps are msgids with values, as the services write them."""
    events = list(ReferralEvent.objects.filter(note__in=["预约 {day}", "由 {number} 改派"]))
    assert {event.note for event in events} == {"预约 {day}", "由 {number} 改派"}
    assert all(event.note_params for event in events)
    assert not ReferralEvent.objects.filter(
        Q(note__startswith="预约日期") | Q(note__regex=r"^由 ZZ")
    ).exists()
    with translation.override("en"):
        english = [event.display_note for event in events]
    assert not [note for note in english if re.search(r"[\u4e00-\u9fff{}]", note)], english[:5]
    chinese = [event.display_note for event in events]
    assert all(re.fullmatch(r"预约 \d{4}-\d\d-\d\d|由 ZZ\d{13} 改派", note) for note in chinese), chinese[:5]


def check_every_timeline_agrees_with_its_referral() -> None:
    hours = default_answer_hours()
    now = timezone.now()
    referrals = Referral.objects.prefetch_related("events", "follow_up_tasks", "attachments")
    assert referrals.count() > 200
    numbers = set()
    for referral in referrals.select_related("person", "consortium"):
        events = sorted(referral.events.all(), key=lambda e: (e.occurred_at, e.id))
        assert events, referral.number
        assert events[-1].to_status == referral.status, referral.number
        assert all(e.occurred_at <= now for e in events)
        assert re.fullmatch(r"ZZ\d{8}\d{5}", referral.number) and referral.number not in numbers
        numbers.add(referral.number)
        actions = [e.action for e in events]
        if referral.status == ReferralStatus.DRAFT:
            assert referral.submitted_at is None
            continue
        submitted = next(e for e in events if e.action == "submit")
        assert abs(referral.submitted_at - submitted.occurred_at) < datetime.timedelta(seconds=1)
        assert referral.answer_due_at == referral.submitted_at + datetime.timedelta(
            hours=hours[referral.priority]
        )
        moments = [
            referral.submitted_at,
            referral.answered_at,
            referral.arrived_at,
            referral.completed_at,
            referral.closed_at,
        ]
        present = [m for m in moments if m is not None]
        assert present == sorted(present), referral.number
        assert (referral.ended_at is not None) == (referral.status in _ENDED), referral.number
        if referral.status == ReferralStatus.CLOSED:
            assert referral.closed_at == referral.ended_at
            assert actions[-1] in ("close", "follow_up")
        if (
            referral.completed_at
            and referral.inside_consortium
            and referral.direction != "lateral"
            and referral.kind in ADMITTING_KINDS
        ):
            if referral.consortium == county():
                expected = {"resident": 200, "employee": 240}.get(referral.person.insurance_scheme, 0)
                assert referral.subsidy_amount == expected, referral.number
        else:
            assert referral.subsidy_amount == 0, referral.number
        # As on submit; a redirect keeps the original's check (the service copies it).
        check = referral_check(referral.redirected_from or referral)
        assert check.criterion == referral.criterion, referral.number
        assert (check.met, check.completeness) == (referral.criteria_met, referral.completeness), (
            referral.number
        )
        if referral.arrived_at and referral.direction == "down":
            assert {t.kind for t in referral.follow_up_tasks.all()} == {"follow_up", "rehabilitation"}
        else:
            assert not referral.follow_up_tasks.all()
        assert PersonInstitutionLink.objects.filter(
            person=referral.person, institution=referral.to_institution
        ).exists()
        if referral.status in (ReferralStatus.SCHEDULED, ReferralStatus.CANCEL_REQUESTED):
            assert referral.scheduled_for >= timezone.localdate() - datetime.timedelta(days=1)


_ENDED = {"declined", "redirected", "closed", "cancelled", "no_show", "expired"}


def check_bookings_and_closed_loop_duties() -> None:
    for row in ReservedCapacity.objects.all():
        holding = Referral.objects.filter(booking=row).exclude(
            status__in=["declined", "redirected", "expired", "cancelled"]
        )
        assert row.booked == holding.count() <= row.quantity
    tasks = FollowUpTask.objects.all()
    now = timezone.now()
    assert tasks.filter(done_at__lte=F("due_at")).exists()
    assert tasks.filter(done_at__gt=F("due_at")).exists()
    assert tasks.filter(done_at__isnull=True, due_at__lt=now).exists()
    assert tasks.filter(done_at__isnull=True, due_at__gt=now).exists()


def check_patients_are_valid_residents_and_volumes_cover_the_members() -> None:
    referred = Referral.objects.values("person")
    sample = list(PersonInstitutionLink.objects.filter(person__in=referred).select_related("person")[:300])
    for link in sample:
        assert ric.validate(decrypt_id_number(link.person.id_number_encrypted))
    consortium = county()
    members = consortium.members.filter(is_active=True).values("institution")
    months = ServiceVolume.objects.filter(department__isnull=True, institution__in=members)
    assert months.values("institution").distinct().count() == members.count()
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    visits = dict(months.filter(month=last_month).values_list("institution__category", "outpatient_visits"))
    assert 200 <= visits["D600"] <= 700 and 1_000 <= visits["C220"] <= 4_500
    lead = ServiceVolume.objects.filter(
        institution__name="金寨县人民医院",
        department__isnull=False,
        month__lt=timezone.localdate().replace(day=1),
    )
    assert all(40 <= row.discharges <= 450 for row in lead)


def check_live_referrals_are_in_the_audit_log_by_the_demo_clinicians() -> None:
    actions = Counter(
        AuditEvent.objects.filter(action__startswith="referral.", actor__isnull=False).values_list(
            "actor__username", "action"
        )
    )
    assert actions[("township_doctor", "referral.submit")] >= 8
    assert actions[("doctor", "referral.accept")] >= 1
    assert actions[("coordinator", "referral.redirect")] == 1
    assert actions[("township_doctor", "referral.follow_up")] == 1
    assert actions[("admin", "referral.bulk_create")] == 1
    created = AuditEvent.objects.filter(action="referral_criterion.create", actor__username="office")
    rules = ReferralCriterion.objects.filter(consortium=county())
    assert created.count() == rules.count() == len(rc.CRITERIA) + 4  # + the shipped hypertension scheme
    updated = AuditEvent.objects.filter(action="referral_criterion.update", actor__username="office")
    assert updated.count() == 1  # the emergency hypertension threshold set to the county's 85 %
    assert AuditEvent.objects.filter(
        action="reserved_capacity.publish", actor__username="coordinator"
    ).exists()
    for username in ("township_doctor", "doctor", "coordinator", "office", "regulator"):
        assert policies.can_use_referrals(user(username))
        assert selectors.referral_visible_to(user(username)).exists()


def test_running_twice_changes_nothing(seeded):
    before = count_rows()
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert count_rows() == before
    assert not Referral.objects.filter(Q(number="") | Q(person__isnull=True)).exists()


def test_the_pages_have_content(seeded):
    """One seeding, read the way the inbox, statistics, worklist and configuration pages read it."""
    check_configuration_follows_the_brief()
    check_the_lead_hospital_inbox_has_open_referrals_in_every_state()
    check_statistics_are_graded_with_a_spread()
    check_the_worklist_suggests_a_home_institution()
    check_live_referrals_are_in_the_audit_log_by_the_demo_clinicians()


def test_the_data_is_consistent(seeded):
    """Timelines, timestamps, criteria, subsidies, bookings, duties, patients and volumes agree."""
    check_every_timeline_agrees_with_its_referral()
    check_system_notes_read_in_the_readers_language()
    check_bookings_and_closed_loop_duties()
    check_patients_are_valid_residents_and_volumes_cover_the_members()
    check_the_green_channel_is_for_up_referrals_only()


def check_the_green_channel_is_for_up_referrals_only() -> None:
    """No down-referral carries the green channel: neither the signed residents' flag nor 急危重 / 急诊."""
    downs = Referral.objects.filter(direction="down")
    assert downs.exists()
    assert not downs.filter(Q(signed_resident=True) | Q(priority="stat") | Q(kind="emergency")).exists()
    assert Referral.objects.filter(direction="up", signed_resident=True).exists()
