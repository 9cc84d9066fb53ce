"""Factories of prescription tests: drugs, stock lists of the lead hospital and the township, a stable
chronic patient (through chronic_care's factories), a township GP, nurse and a county pharmacist."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.tests.factories import user_with_role
from yilian.chronic_care.tests.factories import CareWorld, care_world, enrol, visit
from yilian.core.permissions import Role
from yilian.core.text import pinyin_full, pinyin_initials
from yilian.people.models import Person, PersonInstitutionLink
from yilian.prescriptions import services
from yilian.prescriptions.models import Drug, Prescription, StockItem

_sequence = [0]


def drug_code(atc: str = "C08CA", kind: str = "X") -> str:
    """A unique code of the documented shape (23 characters, ATC level 4 at positions 2–6)."""
    _sequence[0] += 1
    return f"{kind}{atc}A{_sequence[0] % 1000:03d}A001{_sequence[0]:09d}"


def make_drug(
    name: str = "苯磺酸氨氯地平片",
    *,
    atc: str = "C08CA",
    category: str = "antihypertensive",
    chronic: bool = True,
    strength: str = "5mg",
    package_size: int = 28,
    **extra: Any,
) -> Drug:
    """A catalogue drug."""
    return Drug.objects.create(
        code=drug_code(atc),
        name=name,
        name_initials=pinyin_initials(name),
        name_pinyin=pinyin_full(name),
        dosage_form=extra.pop("dosage_form", "tablet"),
        strength=strength,
        package_size=package_size,
        category=category,
        is_chronic=chronic,
        is_essential=extra.pop("essential", True),
        **extra,
    )


def stock(institution: Any, *drugs: Drug, local: bool = False) -> None:
    """Put drugs on an institution's stock list."""
    for item in drugs:
        StockItem.objects.get_or_create(
            institution=institution, drug=item, defaults={"is_local_addition": local}
        )


@dataclass
class RxWorld:
    """The shared world plus drugs, stock lists and the prescription actors."""

    world: Any
    cw: CareWorld
    amlodipine: Drug
    metformin: Drug
    clopidogrel: Drug
    amoxicillin: Drug
    gp: User
    nurse: User
    pharmacist: User
    specialist: User
    patient: Person

    def users(self) -> dict[str, Any]:
        """Every actor by name."""
        return {
            **self.world.users(),
            "gp": self.gp,
            "nurse": self.nurse,
            "pharmacist": self.pharmacist,
            "specialist": self.specialist,
        }


def rx_world(world: Any, *, stable: bool = True) -> RxWorld:
    """Drugs (amlodipine and metformin stocked everywhere, clopidogrel only at the hospital, amoxicillin
    a non-chronic drug everywhere) and a patient with a hypertension case, stable unless ``stable`` is
    false; the patient is also known to the hospital (a referral there)."""
    cw = care_world(world)
    amlodipine = make_drug()
    metformin = make_drug(
        "盐酸二甲双胍片", atc="A10BA", category="antidiabetic", strength="0.5g", package_size=48
    )
    clopidogrel = make_drug(
        "硫酸氢氯吡格雷片", atc="B01AC", category="antiplatelet", strength="75mg", package_size=7
    )
    amoxicillin = make_drug(
        "阿莫西林胶囊", atc="J01CA", category="anti_infective", chronic=False, package_size=24
    )
    stock(world.hospital, amlodipine, metformin, clopidogrel, amoxicillin)
    stock(world.township, amlodipine, metformin, amoxicillin)
    case = enrol(cw)
    if stable:
        visit(cw, case, days=20, sbp=128, dbp=78)
    else:
        visit(cw, case, days=20, sbp=168, dbp=102)
    PersonInstitutionLink.objects.get_or_create(
        person=cw.patient, institution=world.hospital, reason="referral"
    )
    pharmacist = user_with_role(Role.TECHNICIAN, username="pharmacist", institution=world.hospital)
    return RxWorld(
        world=world,
        cw=cw,
        amlodipine=amlodipine,
        metformin=metformin,
        clopidogrel=clopidogrel,
        amoxicillin=amoxicillin,
        gp=cw.gp,
        nurse=cw.nurse,
        pharmacist=pharmacist,
        specialist=cw.specialist,
        patient=cw.patient,
    )


def item(
    drug: Drug, *, days: int = 28, dose: str = "1", frequency: str = "qd", **extra: Any
) -> dict[str, Any]:
    """One prescription item."""
    return {"drug": drug, "dose": dose, "frequency": frequency, "route": "oral", "days": days, **extra}


def prescribe(rw: RxWorld, kind: str = "long", *, actor: User | None = None, **extra: Any) -> Prescription:
    """Write a prescription through the service (a long one by the township GP by default)."""
    values: dict[str, Any] = {
        "institution": rw.world.township,
        "person": rw.patient,
        "kind": kind,
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "items": [item(rw.amlodipine, days=84)],
    }
    values.update(extra)
    return services.prescription_create(actor=actor or rw.gp, **values)


def source_rx(rw: RxWorld, *, on: datetime.date | None = None) -> Prescription:
    """A regular lead-hospital prescription with clopidogrel and amlodipine (by the hospital specialist)."""
    rx = prescribe(
        rw,
        "regular",
        actor=rw.specialist,
        institution=rw.world.hospital,
        diagnosis_code="I25.1",
        diagnosis_name="冠状动脉粥样硬化性心脏病",
        items=[item(rw.clopidogrel, days=30), item(rw.amlodipine, days=30)],
    )
    if on is not None:
        Prescription.objects.filter(pk=rx.pk).update(
            prescribed_on=on, valid_until=on + datetime.timedelta(days=2)
        )
        rx.refresh_from_db()
    return rx


def extend(rw: RxWorld, source: Prescription | None = None, **extra: Any) -> Prescription:
    """An extended prescription of clopidogrel by the township GP continuing ``source``."""
    source = source or source_rx(rw)
    values: dict[str, Any] = {
        "kind": "extended",
        "source": source,
        "diagnosis_code": "I25.1",
        "diagnosis_name": "冠状动脉粥样硬化性心脏病",
        "items": [item(rw.clopidogrel, days=56)],
    }
    values.update(extra)
    return prescribe(rw, **values)


def today() -> datetime.date:
    """Today (local)."""
    return timezone.localdate()
