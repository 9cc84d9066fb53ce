"""The shipped catalogues: complete, valid over the registered data items, installed idempotently and audited."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from yilian.core.exceptions import NotAllowed
from yilian.core.models import AuditEvent
from yilian.indicators import registry, services
from yilian.indicators.catalogue import CATALOGUES, NCM_2024, SEEDS, check_catalogues, install_catalogues
from yilian.indicators.models import Indicator, IndicatorCatalogue, IndicatorVersion


def test_the_shipped_data_is_valid() -> None:
    assert check_catalogues() == []


def test_the_2024_set_has_the_14_official_indicators_in_5_areas() -> None:
    specs = NCM_2024["indicators"]
    numbers = sorted({spec["code"][len("ncm2024_") :][:2] for spec in specs})
    assert numbers == [f"{n:02d}" for n in range(1, 15)]
    areas = [spec["area"] for spec in specs]
    assert sorted(set(areas)) == sorted({"紧密型", "同质化", "促分工", "提效能", "保健康"})
    qualitative = {spec["code"] for spec in specs if spec.get("kind") == "qualitative"}
    # 1–3 are qualitative by the official text; 6 and 14 lack data on the platform and say so.
    assert qualitative == {"ncm2024_01", "ncm2024_02", "ncm2024_03", "ncm2024_06", "ncm2024_14"}
    for spec in specs:
        if spec["code"] in qualitative:
            assert spec["checklist"], spec["code"]
            assert not spec.get("numerator"), spec["code"]
        else:
            # Every formula was inferred from the indicator's name.
            assert spec["is_working_definition"] is True, spec["code"]
    assert "无法计算" in next(s for s in specs if s["code"] == "ncm2024_06")["description"]
    assert "无法计算" in next(s for s in specs if s["code"] == "ncm2024_14")["description"]


def test_every_seed_indicator_is_a_working_definition_over_registered_items() -> None:
    known = registry.data_items()
    for spec in SEEDS["indicators"]:
        assert spec["is_working_definition"] is True
        for formula in ("numerator", "denominator"):
            for code in spec.get(formula, "").replace("+", " ").split():
                assert code in known, (spec["code"], code)


def test_the_down_referral_rate_is_computed_for_departments() -> None:
    departmental = registry.department_item_codes()
    assert {"referrals_down", "encounters_discharges"} <= departmental


@pytest.mark.django_db
def test_install_creates_version_one_and_audits_once_per_catalogue() -> None:
    result = install_catalogues()
    total = sum(len(c["indicators"]) for c in CATALOGUES)
    assert len(result["created"]) == total
    assert IndicatorCatalogue.objects.filter(is_shipped=True).count() == 2
    assert Indicator.objects.count() == total
    assert set(Indicator.objects.values_list("version", flat=True)) == {1}
    assert IndicatorVersion.objects.filter(version=1).count() == total
    events = AuditEvent.objects.filter(action="indicator_catalogue.install")
    assert events.count() == 2
    four = Indicator.objects.get(code="ncm2024_04")
    assert (four.numerator, four.denominator, four.factor) == (
        "outreach_postings_senior_to_primary",
        "population",
        10000,
    )
    assert four.source_document == NCM_2024["source_document"]


@pytest.mark.django_db
def test_a_second_install_changes_nothing() -> None:
    install_catalogues()
    versions = IndicatorVersion.objects.count()
    events = AuditEvent.objects.count()
    result = install_catalogues()
    assert result["created"] == result["updated"] == result["kept"] == []
    assert len(result["unchanged"]) == sum(len(c["indicators"]) for c in CATALOGUES)
    assert IndicatorVersion.objects.count() == versions
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_changed_shipped_definition_is_a_new_version_unless_edited_by_hand(world: Any) -> None:
    install_catalogues()
    edited = Indicator.objects.get(code="seed_two_way_ratio")
    services.indicator_update(actor=world.regulator, indicator=edited, decimals=3)
    changed = copy.deepcopy(CATALOGUES)
    for catalogue in changed:
        for spec in catalogue["indicators"]:
            if spec["code"] in {"seed_cost_per_stay", "seed_two_way_ratio"}:
                spec["description"] += "（修订）"
    result = install_catalogues(actor=world.admin, catalogues=changed)
    assert result["updated"] == ["seed_cost_per_stay"]
    assert result["kept"] == ["seed_two_way_ratio"]
    cost = Indicator.objects.get(code="seed_cost_per_stay")
    assert cost.version == 2
    assert cost.description.endswith("（修订）")
    assert (
        IndicatorVersion.objects.get(indicator=cost, version=2).definition["description"] == cost.description
    )
    kept = Indicator.objects.get(code="seed_two_way_ratio")
    assert (kept.version, kept.decimals) == (2, 3)
    assert not kept.description.endswith("（修订）")
    event = AuditEvent.objects.filter(action="indicator_catalogue.install").order_by("-id").first()
    assert event is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("stranger", False), ("hospital_admin", False), ("office", False), ("regulator", True), ("admin", True)],
)
def test_who_may_install(world: Any, role: str, allowed: bool) -> None:
    actor = world.users()[role]
    if allowed:
        assert install_catalogues(actor=actor)["created"]
    else:
        with pytest.raises(NotAllowed):
            install_catalogues(actor=actor)
        assert not Indicator.objects.exists()


@pytest.mark.django_db
def test_broken_shipped_data_is_refused_before_writing() -> None:
    broken = copy.deepcopy(CATALOGUES)
    broken[1]["indicators"][0]["numerator"] = "referrals_up / (2 - 2)"
    broken[1]["indicators"][1]["denominator"] = "no_such_item"
    with pytest.raises(ValueError, match="no_such_item"):
        install_catalogues(catalogues=broken)
    assert not IndicatorCatalogue.objects.exists()


@pytest.mark.django_db
def test_every_source_drills_down_through_its_module_policy(world: Any) -> None:
    import uuid

    from django.urls import reverse

    for source, items in registry.items_by_source().values():
        model = source.records().model
        for column in source.columns:
            source.records().values(column.path)  # every column path resolves
        if source.visible_to is not None:
            try:
                assert source.visible_to(world.regulator).model is model, source.code
            except NotAllowed:
                assert source.code == "insurance.claims"  # claim rows: insurance and oversight roles only
        if source.detail_url:
            assert any(f.name == "public_id" for f in model._meta.get_fields()), source.code
            reverse(source.detail_url, args=[uuid.uuid4()])
        assert all(item.name and item.description and item.unit for item in items), source.code
        personal = [
            column.path for column in source.columns if "person__" in column.path or column.path == "name"
        ]
        flagged = {column.path for column in source.columns if column.sensitive}
        assert set(personal) - {"name"} <= flagged or model.__name__ in {"Region", "Institution"}, source.code


def test_every_shipped_unit_reads_in_english() -> None:
    from django.utils import translation

    from yilian.indicators.models import shown_unit

    units = {spec.get("unit", "") for catalogue in CATALOGUES for spec in catalogue["indicators"]} - {""}
    with translation.override("en"):
        shown = {unit: shown_unit(unit) for unit in units}
    assert all(not any("\u4e00" <= c <= "\u9fff" for c in text) for text in shown.values()), shown
    assert shown["人/每万常住人口"] == "persons per 10 000 residents" and shown["%"] == "%"


def test_a_shipped_unit_without_an_english_form_is_a_problem() -> None:
    broken = copy.deepcopy(SEEDS)
    broken["indicators"][0]["unit"] = "床日"
    problems = check_catalogues([broken])
    assert problems == [
        f"{broken['indicators'][0]['code']}: unit '床日' is not a known unit (add it to models.KNOWN_UNITS)"
    ]


def test_every_shipped_area_reads_in_english_and_an_unknown_one_is_a_problem() -> None:
    from django.utils import translation

    from yilian.indicators.models import shown_area

    areas = {spec.get("area", "") for catalogue in CATALOGUES for spec in catalogue["indicators"]} - {""}
    with translation.override("en"):
        shown = {area: shown_area(area) for area in areas}
    assert all(not any("\u4e00" <= c <= "\u9fff" for c in text) for text in shown.values()), shown
    broken = copy.deepcopy(SEEDS)
    broken["indicators"][0]["area"] = "自定领域"
    problems = check_catalogues([broken])
    assert problems == [
        f"{broken['indicators'][0]['code']}: area '自定领域' is not a known area (add it to models.KNOWN_AREAS)"
    ]
