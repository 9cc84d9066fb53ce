"""The outreach side of ``seed-demo``: a year of batches, postings, expert clinics; pages have content for
their demo accounts; the indicator leaves out low titles; a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from yilian.accounts.models import User
from yilian.core.models import AuditEvent
from yilian.institutions.models import Consortium
from yilian.outreach import selectors, services
from yilian.outreach.choices import PHYSICIAN_TITLES
from yilian.outreach.models import (
    ClinicBooking,
    ExpertClinicSession,
    OutreachBatch,
    OutreachEvent,
    OutreachVisit,
    Posting,
)

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "40", "--village-limit", "2", "--referral-months", "2")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            OutreachBatch,
            OutreachVisit,
            OutreachEvent,
            Posting,
            ExpertClinicSession,
            ClinicBooking,
        )
    )


def test_outreach_demo_content_pages_and_idempotence():
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    county = Consortium.objects.get(type="county_community")
    batches = OutreachBatch.objects.filter(consortium=county)
    assert batches.count() > 20
    assert {"planned", "done", "confirmed"} <= set(batches.values_list("status", flat=True))
    assert OutreachVisit.objects.filter(batch__consortium=county).values("kind").distinct().count() >= 6
    # Every batch has its recorded step; confirmed ones their confirmation, after completion.
    assert OutreachEvent.objects.filter(action="create").count() == OutreachBatch.objects.count()
    for batch in batches.filter(status="confirmed")[:20]:
        steps = list(batch.events.values_list("action", "occurred_at"))
        assert [a for a, _t in steps][-2:] == ["complete", "confirm"]
        assert steps == sorted(steps, key=lambda s: s[1])
        assert steps[-1][1] <= timezone.now()
    # The live batch waits for the township administrator.
    township_admin = User.objects.get(username="township_admin")
    waiting = selectors.batch_list(township_admin, selectors.BatchFilters(box="received", status="done"))
    assert waiting.filter(created_by__username="doctor").exists()
    # Postings: a dozen, some not counted (title below intermediate, too short).
    assert Posting.objects.count() == 12
    # Every seeded posting is one the posting service would accept: a physician of the sender (no nurse),
    # a primary host in the consortium, six months to three years, no overlap with the expert's others.
    for posting in Posting.objects.select_related("expert", "home_institution", "host_institution"):
        assert posting.title_at_posting in PHYSICIAN_TITLES, posting.expert.username
        problems = services.posting_problems(
            expert=posting.expert,
            home_institution=posting.home_institution,
            host_institution=posting.host_institution,
            planned_start=posting.planned_start,
            planned_end=posting.planned_end,
            home_department=posting.home_department,
            duties=posting.duties,
            ignore=posting,
        )
        assert problems == {}, (posting.expert.username, problems)
    office = User.objects.get(username="office")
    year = timezone.localdate().year - 1
    rows = selectors.posting_indicator_rows(office, year=year, consortium=county)
    assert any(r.counted for r in rows) and {"title", "short"} <= {r.excluded_because for r in rows}
    figure = selectors.posting_indicator(office, year=year, consortium=county)
    assert figure.postings_counted == sum(1 for r in rows if r.counted) and figure.value is not None
    # Expert clinics for the next fortnight, some slots booked through the service (linked persons).
    assert ExpertClinicSession.objects.filter(starts_at__gt=timezone.now()).count() >= 4
    assert ClinicBooking.objects.filter(status="booked").exists()
    assert AuditEvent.objects.filter(action="clinic_booking.create").count() == ClinicBooking.objects.count()
    generated = User.objects.filter(username__startswith="od_")
    assert generated.count() == 9
    created = set(AuditEvent.objects.filter(action="user.create").values_list("object_id", flat=True))
    assert {str(u.public_id) for u in generated} <= created
    # Pages have content for their demo accounts.
    for username, url, marker in (
        ("hospital_admin", "/outreach/?box=sent", 'data-testid="batch-row"'),
        ("township_admin", "/outreach/?box=received", 'data-testid="batch-row"'),
        ("doctor", "/outreach/?box=mine", 'data-testid="batch-row"'),
        ("office", "/outreach/postings/", 'data-testid="posting-row"'),
        ("office", f"/outreach/indicator/?year={year}", 'data-testid="indicator-row"'),
        ("office", "/outreach/report/", 'data-testid="report-row"'),
        ("office", "/outreach/statistics/", "stat-by-member"),
        ("township_doctor", "/outreach/sessions/", 'data-testid="session-row"'),
        ("doctor", "/outreach/sessions/?mine=1", 'data-testid="session-row"'),
    ):
        client = Client()
        client.force_login(User.objects.get(username=username))
        response = client.get(url)
        assert response.status_code == 200, (username, url)
        assert marker in response.content.decode(), (username, url)
    before = _counts()
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert _counts() == before
