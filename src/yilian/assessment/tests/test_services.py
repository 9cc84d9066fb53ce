"""Assessment services: computing, freezing (snapshots, versions), publishing, qualitative items, schemes."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yilian.assessment import schemes as shipped
from yilian.assessment import selectors, services
from yilian.assessment.models import AssessmentRound, AssessmentScheme, RoundResult, RoundTotal
from yilian.assessment.tests.factories import MONTH, figure, indicator
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.indicators.models import Indicator
from yilian.institutions.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def _totals(round_, version):
    return {
        t.subject_name: (t.score, t.grade, t.rank, t.reward)
        for t in RoundTotal.objects.filter(round=round_, version=version)
    }


def test_compute_scores_grades_and_ranks(aw):
    services.round_compute(actor=aw.world.office, round_=aw.round)
    totals = _totals(aw.round, 0)
    assert totals == {
        "霍邱县城关镇卫生院": (D("80.00"), "good", 1, ""),
        "霍邱县周集镇卫生院": (D("64.00"), "fair", 2, ""),
        "霍邱县冯井镇卫生院": (D("32.00"), "poor", 3, "约谈"),
    }
    # The lead hospital is not ranked among the members.
    assert not RoundTotal.objects.filter(subject_id=aw.world.hospital.pk).exists()
    row = RoundResult.objects.get(
        round=aw.round, version=0, subject_id=aw.world.township.pk, indicator=aw.rate
    )
    assert (row.value, row.indicator_version, row.is_working_definition, row.rank) == (D(12), 1, True, 1)


def test_judgement_counts_at_next_compute(aw):
    services.judgement_record(
        actor=aw.world.office,
        round_=aw.round,
        indicator=aw.checklist,
        subject_id=aw.members[2].pk,
        verdict="partly",
        comment="制度已建立",
    )
    services.round_compute(actor=aw.world.office, round_=aw.round)
    assert _totals(aw.round, 0)["霍邱县冯井镇卫生院"][0] == D("42.00")
    services.judgement_record(
        actor=aw.world.office,
        round_=aw.round,
        indicator=aw.checklist,
        subject_id=aw.members[2].pk,
        verdict="met",
    )
    services.round_compute(actor=aw.world.office, round_=aw.round)
    assert _totals(aw.round, 0)["霍邱县冯井镇卫生院"][0] == D("52.00")
    assert AuditEvent.objects.filter(action="assessment_judgement.record").count() == 2


def test_freeze_snapshot_survives_indicator_edit_and_refresh(aw):
    frozen = services.round_freeze(actor=aw.world.office, round_=aw.round, expected_version=0)
    assert (frozen.version, frozen.status) == (1, "frozen")
    before = _totals(aw.round, 1)
    # An edit of the indicator and a refresh that replaces the figures.
    Indicator.objects.filter(pk=aw.rate.pk).update(target=D(1), version=2, name="改名")
    for member in aw.members:
        figure(aw.rate, member.pk, "1")
    assert _totals(aw.round, 1) == before
    row = RoundResult.objects.get(
        round=aw.round, version=1, subject_id=aw.world.township.pk, indicator=aw.rate
    )
    assert (row.value, row.indicator_version, row.indicator_name) == (D(12), 1, "上转率")
    # Freezing again reads the new figures and definition as version 2.
    services.round_freeze(actor=aw.world.office, round_=aw.fresh_round(), expected_version=1)
    row2 = RoundResult.objects.get(
        round=aw.round, version=2, subject_id=aw.world.township.pk, indicator=aw.rate
    )
    assert (row2.value, row2.indicator_version) == (D(1), 2)
    assert _totals(aw.round, 1) == before


def test_stale_freeze_is_a_conflict(aw):
    services.round_freeze(actor=aw.world.office, round_=aw.round, expected_version=0)
    with pytest.raises(Conflict):
        services.round_freeze(actor=aw.world.office, round_=aw.fresh_round(), expected_version=0)
    assert RoundTotal.objects.filter(round=aw.round, version=2).count() == 0


def test_publish_then_refreeze_keeps_published_version(aw):
    with pytest.raises(Conflict):
        services.round_publish(actor=aw.world.office, round_=aw.round)  # nothing frozen
    services.round_freeze(actor=aw.world.office, round_=aw.round)
    published = services.round_publish(actor=aw.world.office, round_=aw.fresh_round(), expected_version=1)
    assert (published.status, published.published_version) == ("published", 1)
    with pytest.raises(Conflict):
        services.judgement_record(
            actor=aw.world.office,
            round_=published,
            indicator=aw.checklist,
            subject_id=aw.members[0].pk,
            verdict="met",
        )
    refrozen = services.round_freeze(actor=aw.world.office, round_=published, expected_version=1)
    assert (refrozen.version, refrozen.status, refrozen.published_version) == (2, "frozen", 1)
    # Members still read version 1 only.
    member_view = selectors.round_get(aw.world.township_admin, aw.round.public_id)
    assert selectors.round_versions(member_view) == [1]
    assert {t.version for t in selectors.round_totals(member_view)} == {1}


def test_member_sees_ranking_only_when_policy_allows(aw):
    from yilian.indicators.models import RankingPolicy

    services.round_freeze(actor=aw.world.office, round_=aw.round)
    services.round_publish(actor=aw.world.office, round_=aw.fresh_round())
    view = selectors.round_get(aw.world.township_admin, aw.round.public_id)
    assert selectors.round_totals(view).count() == 3
    RankingPolicy.objects.create(consortium=aw.world.consortium, members_see_ranking=False)
    view = selectors.round_get(aw.world.township_admin, aw.round.public_id)
    assert [t.subject_id for t in selectors.round_totals(view)] == [aw.world.township.pk]


def test_draft_round_hidden_from_members(aw):
    from yilian.core.exceptions import NotFound

    with pytest.raises(NotFound):
        selectors.round_get(aw.world.township_admin, aw.round.public_id)
    with pytest.raises(NotFound):
        selectors.round_get(aw.world.outsider_doctor, aw.round.public_id)
    assert selectors.round_get(aw.world.regulator, aw.round.public_id).access.all_versions


def test_evidence_upload_and_bad_files(aw, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    good = SimpleUploadedFile("制度.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    evidence = services.evidence_upload(
        actor=aw.world.office,
        round_=aw.round,
        indicator=aw.checklist,
        subject_id=aw.members[0].pk,
        upload=good,
    )
    assert (evidence.content_type, evidence.size, evidence.original_name) == (
        "application/pdf",
        13,
        "制度.pdf",
    )
    # The member's own administrator may upload for itself, not for another member.
    own = SimpleUploadedFile("a.png", b"\x89PNG", content_type="image/png")
    services.evidence_upload(
        actor=aw.world.township_admin,
        round_=aw.round,
        indicator=aw.checklist,
        subject_id=aw.world.township.pk,
        upload=own,
    )
    with pytest.raises(NotAllowed):
        services.evidence_upload(
            actor=aw.world.township_admin,
            round_=aw.round,
            indicator=aw.checklist,
            subject_id=aw.members[1].pk,
            upload=own,
        )
    bad_cases = [
        (SimpleUploadedFile("x.exe", b"MZ"), aw.checklist, aw.members[0].pk, "file"),
        (
            SimpleUploadedFile("big.pdf", b"0" * (services.EVIDENCE_MAX_BYTES + 1)),
            aw.checklist,
            aw.members[0].pk,
            "file",
        ),
        (SimpleUploadedFile("empty.pdf", b""), aw.checklist, aw.members[0].pk, "file"),
        (SimpleUploadedFile("ok.pdf", b"%PDF"), aw.rate, aw.members[0].pk, "indicator"),
        (SimpleUploadedFile("ok.pdf", b"%PDF"), aw.checklist, aw.world.outsider.pk, "subject"),
    ]
    for upload, ind, subject, field in bad_cases:
        with pytest.raises(Invalid) as error:
            services.evidence_upload(
                actor=aw.world.office, round_=aw.round, indicator=ind, subject_id=subject, upload=upload
            )
        assert field in error.value.errors, (upload.name, error.value.errors)


def test_judgement_bad_input(aw):
    for kwargs, field in (
        ({"indicator": aw.rate, "subject_id": aw.members[0].pk, "verdict": "met"}, "indicator"),
        ({"indicator": aw.checklist, "subject_id": aw.members[0].pk, "verdict": "great"}, "verdict"),
        ({"indicator": aw.checklist, "subject_id": "x", "verdict": "met"}, "subject"),
    ):
        with pytest.raises(Invalid) as error:
            services.judgement_record(actor=aw.world.office, round_=aw.round, **kwargs)
        assert field in error.value.errors
    with pytest.raises(NotAllowed):
        services.judgement_record(
            actor=aw.world.township_admin,
            round_=aw.round,
            indicator=aw.checklist,
            subject_id=aw.members[0].pk,
            verdict="met",
        )


def test_scheme_update_keeps_what_the_form_leaves_out(aw):
    bands = [{"from": "0", "to": "5", "share": "1"}, {"from": "5", "to": None, "share": "0.5"}]
    scheme = services.scheme_update(
        actor=aw.world.office,
        scheme=aw.scheme,
        expected_version=1,
        data={
            "name": "上转率月度排名",
            "code": "up-ranking",
            "subject": "members",
            "period_type": "month",
            "grading": "quartile",
            "department_groups": {"内科": "medicine"},
        },
        items=[{"indicator": aw.rate, "weight": "100", "rule": "banded", "bands": bands}],
    )
    # The page's form posts neither the code, the groups nor an item's bands.
    again = services.scheme_update(
        actor=aw.world.office,
        scheme=scheme,
        expected_version=2,
        data={"name": "改名", "subject": "members", "period_type": "month", "grading": "quartile"},
        items=[{"indicator": aw.rate, "weight": "90", "rule": "banded"}],
    )
    item = again.items.get()
    assert (again.code, again.department_groups, again.name) == ("up-ranking", {"内科": "medicine"}, "改名")
    assert (item.weight, [band["share"] for band in item.bands]) == (D("90"), ["1", "0.5"])


def test_scheme_update_versions_and_conflict(aw):
    updated = services.scheme_update(
        actor=aw.world.office,
        scheme=aw.scheme,
        expected_version=1,
        data={"name": "新名称", "subject": "members", "period_type": "month", "grading": "quartile"},
        items=[{"indicator": aw.rate, "weight": "100", "rule": "rank"}],
    )
    assert (updated.version, updated.name, updated.items.count()) == (2, "新名称", 1)
    with pytest.raises(Conflict):
        services.scheme_update(
            actor=aw.world.office,
            scheme=aw.fresh_scheme(),
            expected_version=1,
            data={"name": "x", "subject": "members", "period_type": "month", "grading": "quartile"},
            items=[],
        )
    services.round_compute(actor=aw.world.office, round_=aw.round)
    assert [t[1] for t in sorted(_totals(aw.round, 0).values(), key=lambda t: t[2])] == [
        "excellent",
        "good",
        "fair",
    ]


@pytest.mark.parametrize(
    ("data", "items", "field"),
    [
        ({"name": "", "subject": "members", "period_type": "month", "grading": "quartile"}, [], "name"),
        ({"name": "a", "subject": "x", "period_type": "month", "grading": "quartile"}, [], "subject"),
        (
            {"name": "a", "subject": "members", "period_type": "week", "grading": "quartile"},
            [],
            "period_type",
        ),
        ({"name": "a", "subject": "members", "period_type": "month", "grading": "bands"}, [], "grade_bands"),
        (
            {
                "name": "a",
                "subject": "members",
                "period_type": "month",
                "grading": "bands",
                "grade_bands": {"excellent": "abc"},
            },
            [],
            "grade_bands",
        ),
        (
            {"name": "a", "subject": "members", "period_type": "month", "grading": "quartile"},
            "weight",
            "items",
        ),
        (
            {"name": "a", "subject": "members", "period_type": "month", "grading": "quartile"},
            "bands",
            "items",
        ),
    ],
)
def test_scheme_bad_input(aw, data, items, field):
    if items == "weight":
        items = [{"indicator": aw.rate, "weight": "-1", "rule": "target"}]
    elif items == "bands":
        items = [
            {"indicator": aw.rate, "weight": "10", "rule": "banded", "bands": [{"from": 0, "share": "2"}]}
        ]
    with pytest.raises(Invalid) as error:
        services.scheme_create(actor=aw.world.office, consortium=aw.world.consortium, data=data, items=items)
    assert field in error.value.errors


def test_scheme_authorization(aw):
    data = {"name": "a", "subject": "consortia", "period_type": "year", "grading": "quartile"}
    with pytest.raises(NotAllowed):
        services.scheme_create(actor=aw.world.office, consortium=None, data=data, items=[])
    with pytest.raises(NotAllowed):
        services.scheme_create(
            actor=aw.world.hospital_admin, consortium=aw.world.consortium, data=data, items=[]
        )
    assert services.scheme_create(actor=aw.world.regulator, consortium=None, data=data, items=[]).pk


def test_round_create_rules(aw):
    with pytest.raises(Invalid):
        services.round_create(
            actor=aw.world.office,
            scheme=aw.scheme,
            kind="monthly_ranking",
            period_start="2025-03-15",
            consortium=aw.world.consortium,
        )
    with pytest.raises(Invalid):
        services.round_create(
            actor=aw.world.office,
            scheme=aw.scheme,
            kind="nope",
            period_start=MONTH,
            consortium=aw.world.consortium,
        )
    with pytest.raises(NotAllowed):
        services.round_create(
            actor=aw.world.township_admin,
            scheme=aw.scheme,
            kind="monthly_ranking",
            period_start=MONTH,
            consortium=aw.world.consortium,
        )
    # The lead unit's administrator runs the self-assessment.
    self_round = services.round_create(
        actor=aw.world.hospital_admin,
        scheme=aw.scheme,
        kind="self",
        period_start=MONTH,
        consortium=aw.world.consortium,
    )
    services.round_compute(actor=aw.world.hospital_admin, round_=self_round)
    # The self-assessment includes the lead unit itself.
    assert RoundTotal.objects.filter(round=self_round, version=0, subject_id=aw.world.hospital.pk).exists()
    with pytest.raises(NotAllowed):
        services.round_compute(actor=aw.world.hospital_admin, round_=aw.round)


@pytest.mark.parametrize(
    ("period_type", "kind", "start"),
    [
        ("month", "regulator_annual", "2025-01-01"),
        ("month", "half_year_target", "2025-01-01"),
        ("year", "monthly_ranking", "2025-01-01"),
        ("half_year", "regulator_annual", "2025-01-01"),
    ],
)
def test_round_kind_must_match_the_schemes_period(aw, period_type, kind, start):
    """A monthly scheme run as the annual assessment (and the like) is a field error on the kind; nothing saved."""
    scheme = services.scheme_create(
        actor=aw.world.office,
        consortium=aw.world.consortium,
        data={**shipped_data(), "period_type": period_type},
        items=[{"indicator": aw.rate, "weight": "100", "rule": "rank"}],
    )
    rounds = AssessmentRound.objects.count()
    events = AuditEvent.objects.filter(action="assessment_round.create").count()
    with pytest.raises(Invalid) as raised:
        services.round_create(
            actor=aw.world.office,
            scheme=scheme,
            kind=kind,
            period_start=start,
            consortium=aw.world.consortium,
        )
    assert list(raised.value.errors) == ["kind"]
    assert scheme.name in str(raised.value.errors["kind"][0])
    assert AssessmentRound.objects.count() == rounds
    assert AuditEvent.objects.filter(action="assessment_round.create").count() == events


@pytest.mark.parametrize(
    ("period_type", "kind", "start"),
    [
        ("month", "monthly_ranking", "2025-02-01"),
        ("half_year", "half_year_target", "2025-07-01"),
        ("year", "regulator_annual", "2025-01-01"),
        ("quarter", "self", "2025-04-01"),
        ("month", "self", "2025-02-01"),
    ],
)
def test_round_kind_matching_the_schemes_period_is_accepted(aw, period_type, kind, start):
    scheme = services.scheme_create(
        actor=aw.world.office,
        consortium=aw.world.consortium,
        data={**shipped_data(), "period_type": period_type},
        items=[{"indicator": aw.rate, "weight": "100", "rule": "rank"}],
    )
    round_ = services.round_create(
        actor=aw.world.office, scheme=scheme, kind=kind, period_start=start, consortium=aw.world.consortium
    )
    assert (round_.kind, round_.period_type, round_.period_start.isoformat()) == (kind, period_type, start)


def shipped_data() -> dict[str, str | dict[str, str]]:
    return {
        "name": "周期校验方案",
        "subject": "members",
        "grading": "bands",
        "grade_bands": {"excellent": "90", "good": "70", "fair": "50"},
    }


def test_departments_ranked_apart(aw):
    rate = indicator("department_down_referral_rate", name="科室下转率")
    medicine = [
        DepartmentFactory(institution=aw.world.hospital, name=f"内科{i}", specialty="03") for i in range(2)
    ]
    surgery = [
        DepartmentFactory(institution=aw.world.hospital, name=f"外科{i}", specialty="04") for i in range(2)
    ]
    for department, value in zip(medicine + surgery, ("5", "3", "1", "2"), strict=True):
        figure(rate, department.pk, value, kind="department")
    scheme = services.scheme_create(
        actor=aw.world.office,
        consortium=aw.world.consortium,
        data={
            "name": "科室排名",
            "subject": "departments",
            "period_type": "month",
            "grading": "quartile",
            "group_by": "specialty",
        },
        items=[{"indicator": rate, "weight": "100", "rule": "rank"}],
    )
    round_ = services.round_create(
        actor=aw.world.office,
        scheme=scheme,
        kind="monthly_ranking",
        period_start=MONTH,
        consortium=aw.world.consortium,
    )
    services.round_compute(actor=aw.world.office, round_=round_)
    ranks = {(t.group, t.subject_name): (t.rank, t.grade) for t in RoundTotal.objects.filter(round=round_)}
    assert ranks == {
        ("内科", "内科0"): (1, "excellent"),
        ("内科", "内科1"): (2, "fair"),
        ("外科", "外科1"): (1, "excellent"),
        ("外科", "外科0"): (2, "fair"),
    }


def test_regulator_round_of_consortia(aw):
    annual = indicator("primary_visit_share", name="基层诊疗量占比", period_type="year", target=D(60))
    figure(
        annual,
        aw.world.consortium.pk,
        "45",
        kind="consortium",
        period_type="year",
        start=datetime.date(2025, 1, 1),
    )
    scheme = services.scheme_create(
        actor=aw.world.regulator,
        consortium=None,
        data={
            "name": "年度考核",
            "subject": "consortia",
            "period_type": "year",
            "grading": "bands",
            "grade_bands": {"excellent": "90", "good": "70", "fair": "60"},
        },
        items=[{"indicator": annual, "weight": "100", "rule": "target"}],
    )
    with pytest.raises(NotAllowed):
        services.round_create(
            actor=aw.world.office,
            scheme=scheme,
            kind="regulator_annual",
            period_start="2025-01-01",
            region=aw.world.regions["county"],
        )
    round_ = services.round_create(
        actor=aw.world.regulator,
        scheme=scheme,
        kind="regulator_annual",
        period_start="2025-01-01",
        region=aw.world.regions["county"],
    )
    services.round_freeze(actor=aw.world.regulator, round_=round_)
    assert _totals(round_, 1) == {"霍邱县人民医院医共体": (D("75.00"), "good", 1, "")}


def test_year_on_year(aw):
    earlier = services.round_create(
        actor=aw.world.office,
        scheme=aw.scheme,
        kind="monthly_ranking",
        period_start=datetime.date(2024, 3, 1),
        consortium=aw.world.consortium,
    )
    for member in aw.members:
        figure(aw.rate, member.pk, "5", start=datetime.date(2024, 3, 1))
    services.round_freeze(actor=aw.world.office, round_=earlier)
    services.round_publish(actor=aw.world.office, round_=earlier)
    services.round_freeze(actor=aw.world.office, round_=aw.round)
    view = selectors.round_get(aw.world.office, aw.round.public_id)
    comparison = selectors.year_on_year(aw.world.office, view)
    assert comparison.earlier.pk == earlier.pk
    by_name = {row["subject_name"]: row for row in comparison.rows}
    assert by_name["霍邱县城关镇卫生院"]["previous_score"] == D("40.00")
    assert by_name["霍邱县城关镇卫生院"]["change"] == D("40.00")


def test_install_schemes_is_idempotent_and_skips_missing_codes(aw):
    indicator("seed_up_referral_rate", direction="lower")
    first = shipped.install_schemes()
    assert len(first) == len(shipped.SHIPPED)
    ranking = AssessmentScheme.objects.get(code="monthly-up-referral-ranking", consortium=None)
    assert list(ranking.items.values_list("indicator__code", flat=True)) == ["seed_up_referral_rate"]
    again = shipped.install_schemes()
    assert [s.pk for s in again] == [s.pk for s in first]
    assert ranking.items.count() == 1


def test_shipped_schemes_name_shipped_indicators():
    from yilian.indicators.catalogue import CATALOGUES

    codes = {spec["code"] for catalogue in CATALOGUES for spec in catalogue["indicators"]}
    for spec in shipped.SHIPPED:
        for candidates, _weight, _rule in spec["items"]:
            assert codes & set(candidates), (spec["code"], candidates)


def test_seed_assessment_on_the_world(aw):
    from yilian.demo.assessment import seed_assessment

    indicator("seed_up_referral_rate", direction="lower")
    figure(Indicator.objects.get(code="seed_up_referral_rate"), aw.members[0].pk, "3")
    result = seed_assessment(aw.world.admin, aw.world.consortium)
    assert [r["kind"] for r in result["rounds"]] == ["monthly_ranking", "half_year_target"]
    assert result["rounds"][0]["version"] == 1
    again = seed_assessment(aw.world.admin, aw.world.consortium)
    assert again["rounds"] == result["rounds"]


def test_member_reads_own_evidence_only(aw, settings, tmp_path):
    from yilian.core.exceptions import NotFound

    settings.MEDIA_ROOT = tmp_path
    own = services.evidence_upload(
        actor=aw.world.office,
        round_=aw.round,
        indicator=aw.checklist,
        subject_id=aw.world.township.pk,
        upload=SimpleUploadedFile("own.pdf", b"%PDF"),
    )
    other = services.evidence_upload(
        actor=aw.world.office,
        round_=aw.round,
        indicator=aw.checklist,
        subject_id=aw.members[1].pk,
        upload=SimpleUploadedFile("other.pdf", b"%PDF"),
    )
    services.round_freeze(actor=aw.world.office, round_=aw.round)
    services.round_publish(actor=aw.world.office, round_=aw.fresh_round())
    assert selectors.evidence_get(aw.world.township_admin, own.public_id).pk == own.pk
    with pytest.raises(NotFound):
        selectors.evidence_get(aw.world.township_admin, other.public_id)
    view = selectors.round_get(aw.world.township_admin, aw.round.public_id)
    assert [e.pk for e in selectors.round_evidence(view)] == [own.pk]
    assert selectors.evidence_get(aw.world.regulator, other.public_id).pk == other.pk


def test_units_without_figures_are_not_ranked(aw):
    from yilian.indicators.models import IndicatorValue

    IndicatorValue.objects.filter(unit_id=aw.members[2].pk).delete()
    services.round_compute(actor=aw.world.office, round_=aw.round)
    totals = _totals(aw.round, 0)
    assert totals["霍邱县冯井镇卫生院"] == (D("0.00"), "", None, "")
    assert totals["霍邱县周集镇卫生院"][2] == 2


def test_unranked_units_listed_last(aw):
    from yilian.indicators.models import IndicatorValue

    IndicatorValue.objects.filter(unit_id=aw.members[0].pk).delete()
    services.round_compute(actor=aw.world.office, round_=aw.round)
    view = selectors.round_get(aw.world.office, aw.round.public_id)
    assert [t.rank for t in selectors.round_totals(view, 0)] == [1, 2, None]
