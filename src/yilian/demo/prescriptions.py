"""Prescriptions across levels in the demo county: the drug catalogue, stock lists, a year of long and
extended prescriptions with their deliveries, and live records.

What ``seed-demo`` adds for the prescription pages, deterministically from the seed and relative to today:

* a catalogue of about 1 400 products: a few hundred real generic names (``prescriptions_content``) ×
  their strengths × a few manufacturers, each with a national insurance drug code of the documented
  shape; the county hospital (the consortium's lead) stocks all of them — the reference list;
* stock lists of the members: township centres 300–500 products (essential medicines first, so chronic-
  disease drugs such as newer antidiabetics and anticoagulants are often missing), village clinics 80–150,
  a few township-only local additions; the formulary settings of the county consortium (84 days);
* a year of prescriptions for the chronic cases the chronic-care seeder made (the referral patients of
  the primary institutions when there are none): long prescriptions every 8–12 weeks for most cases,
  lead-hospital source prescriptions and extended prescriptions continuing them for about one patient in
  six, each with its delivery played forward (requested → dispatched → received → handed, a few
  cancelled) and cut at "now", so the pharmacy's worklist and the receiving lists have open work;
* live records through the real services: ``doctor`` writes a lead-hospital prescription, ``township_doctor``
  continues it as an extended prescription and writes a long one, ``pharmacist`` dispatches a delivery
  and ``township_doctor`` signs for another.

The catalogue and stock lists are written only when the lead hospital has no stock list, the activity
only when the county consortium has no prescription, so a second run changes nothing.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from yilian.accounts.models import Membership, User
from yilian.core.exceptions import DomainError
from yilian.core.text import pinyin_full, pinyin_initials
from yilian.demo import prescriptions_content as pc
from yilian.demo.plan import DemoPlan
from yilian.demo.referrals import backdated, local
from yilian.institutions.models import ConsortiumMember, Institution
from yilian.people.models import PersonInstitutionLink
from yilian.prescriptions import services as rx
from yilian.prescriptions.choices import DOSES_PER_DAY, DeliveryStatus, PrescriptionKind, PrescriptionStatus
from yilian.prescriptions.models import (
    ConsortiumFormulary,
    Delivery,
    DeliveryEvent,
    Drug,
    Prescription,
    PrescriptionItem,
    StockItem,
)

LONG_SHARE = 0.7
EXTENDED_SHARE = 0.12
FREQUENCIES = {"tablet": "qd", "sustained": "qd", "capsule": "bid", "injection": "qd", "pill": "tid"}


@dataclass
class PrescriptionsSeeder:
    """Seeds the demo county's prescriptions records; a second run changes nothing."""

    plan: DemoPlan
    admin: User
    institutions: dict[str, Any]
    consortia: dict[str, Any]
    log: Any
    months: int
    rng: random.Random = field(init=False)
    today: datetime.date = field(init=False)

    def run(self) -> None:
        """Write the catalogue and stock lists once, the year of activity once, then the live records."""
        self.rng = random.Random(f"{self.plan.seed}-prescriptions")
        self.today = timezone.localdate()
        county = self.consortia.get("county")
        if county is None:
            return
        members = list(
            ConsortiumMember.objects.filter(consortium=county, is_active=True).select_related("institution")
        )
        lead = next((m.institution for m in members if m.role == "lead"), None)
        if lead is None:
            return
        started = time.perf_counter()
        if StockItem.objects.filter(institution=lead).exists():
            self.log("药品目录演示数据已存在，跳过 / drug lists already seeded, skipped")
        else:
            with transaction.atomic():
                drugs, rows = self._catalogue(
                    county, lead, [m.institution for m in members if m.role != "lead"]
                )
            self.log(
                f"药品目录 drug lists: {drugs} drugs, {rows} stock rows ({time.perf_counter() - started:.1f} s)"
            )
        if Prescription.objects.filter(consortium=county).exists():
            self.log("处方演示数据已存在，跳过 / prescriptions already seeded, skipped")
            return
        if self.months <= 0:
            return
        started = time.perf_counter()
        with transaction.atomic():
            written, deliveries = self._history(county, lead, members)
        self.log(
            f"处方 prescriptions: {written} prescriptions, {deliveries} deliveries "
            f"({time.perf_counter() - started:.1f} s)"
        )
        started = time.perf_counter()
        self._live(lead)
        self.log(f"  (prescriptions live records: {time.perf_counter() - started:.1f} s)")

    # Catalogue and stock lists ----------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _catalogue(self, county: Any, lead: Institution, members: list[Institution]) -> tuple[int, int]:
        drugs: list[Drug] = []
        for category, rows in pc.DRUGS.items():
            for index, (name, atc, form, unit, strengths, package, essential) in enumerate(rows):
                chronic = category in pc.CHRONIC_CATEGORIES or name in pc.CHRONIC_NAMES
                initials = pinyin_initials(name)
                full = pinyin_full(name)
                for s_index, strength in enumerate(strengths):
                    for maker in range(self.rng.randint(3, 5)):
                        kind = "Z" if category == "tcm" else "X"
                        klass = atc or f"A{index % 10}{s_index}AA"
                        code = (
                            f"{kind}{klass}{initials[:1].upper() or 'A'}{(index * 7 + len(name)) % 1000:03d}"
                            f"A{s_index + 1:03d}{package % 10000:04d}{self.rng.randrange(100000):05d}"
                        )
                        drugs.append(
                            Drug(
                                public_id=self._uuid(),
                                code=code,
                                name=name,
                                name_initials=initials,
                                name_pinyin=full,
                                dosage_form=form,
                                strength=strength,
                                dose_unit=unit,
                                package_size=package * (2 if maker == 3 and package < 50 else 1),
                                package_unit="盒" if form not in ("injection", "inhaler") else "支",
                                category=category,
                                is_chronic=chronic,
                                is_essential=essential and maker < 3,
                            )
                        )
        seen: set[str] = set()
        unique = []
        for drug in drugs:
            if drug.code not in seen:
                seen.add(drug.code)
                unique.append(drug)
        local_drugs = [
            Drug(
                public_id=self._uuid(),
                code=f"ZB{index:02d}AAL{index:03d}A001{package:04d}{self.rng.randrange(100000):05d}",
                name=name,
                name_initials=pinyin_initials(name),
                name_pinyin=pinyin_full(name),
                dosage_form=form,
                strength=strength,
                dose_unit=unit,
                package_size=package,
                category="tcm" if form != "tablet" else "anti_infective",
                is_chronic=False,
                is_essential=False,
            )
            for index, (name, form, unit, strength, package) in enumerate(pc.LOCAL_ADDITIONS)
        ]
        Drug.objects.bulk_create([*unique, *local_drugs], ignore_conflicts=True, batch_size=500)
        catalogue = list(Drug.objects.filter(code__in=[d.code for d in unique]).order_by("id"))
        locals_ = list(Drug.objects.filter(code__in=[d.code for d in local_drugs]).order_by("id"))
        stock: list[tuple[int, int, bool]] = [(lead.pk, drug.pk, False) for drug in catalogue]
        # Villages draw from the essential oral medicines; the other members weigh the whole list.
        village_pool = [d for d in catalogue if d.is_essential and d.dosage_form != "injection"]
        for institution in members:
            if not institution.category.startswith(("B", "C", "D", "A", "G")):
                continue  # CDCs and the like dispense nothing
            if institution.category.startswith("D"):
                chosen = self.rng.sample(village_pool, k=min(len(village_pool), self.rng.randint(80, 150)))
            else:
                hospital = institution.category.startswith(("A", "G"))
                target = self.rng.randint(600, 900) if hospital else self.rng.randint(300, 500)
                weighted = sorted(
                    catalogue,
                    key=lambda d: -(self.rng.random() + (0.6 if d.is_essential else 0.0)
                                    + (0.2 if d.category in ("antihypertensive", "antidiabetic") else 0.0)),
                )  # fmt: skip
                chosen = weighted[:target]
                for drug in self.rng.sample(locals_, k=min(len(locals_), self.rng.randint(1, 3))):
                    stock.append((institution.pk, drug.pk, True))
            stock.extend((institution.pk, d.pk, False) for d in chosen)
        self._insert_stock(stock)
        ConsortiumFormulary.objects.get_or_create(consortium=county, defaults={"reference_institution": lead})
        return len(catalogue) + len(locals_), len(stock)

    def _insert_stock(self, rows: list[tuple[int, int, bool]]) -> None:
        """Insert the ~40 000 stock rows with one executemany: building that many model instances alone
        would take seconds."""
        public_id = StockItem._meta.get_field("public_id")
        now = timezone.now()
        created = StockItem._meta.get_field("created_at").get_db_prep_value(now, connection)
        sql = (
            f"INSERT INTO {StockItem._meta.db_table} "
            "(public_id, created_at, updated_at, institution_id, drug_id, is_local_addition) "
            "VALUES (%s, %s, %s, %s, %s, %s)"
        )
        params = [
            (
                public_id.get_db_prep_value(self._uuid(), connection),
                created,
                created,
                institution,
                drug,
                local,
            )
            for institution, drug, local in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)

    # History ----------------------------------------------------------------------------------------

    def _names(self, institution_id: int) -> list[str]:
        """Two or three doctors' names of an institution without accounts (history from its HIS)."""
        rng = random.Random(f"{self.plan.seed}-doctors-{institution_id}")
        return [rng.choice(pc.SURNAMES) + rng.choice(pc.GIVEN_NAMES) for _ in range(rng.randint(2, 3))]

    def _doctors(self, institution_ids: set[int]) -> dict[int, list[int]]:
        doctors: dict[int, list[Any]] = {}
        for institution_id, user_id in (
            Membership.objects.filter(institution_id__in=institution_ids, role="doctor", is_active=True)
            .order_by("institution_id", "user_id")
            .values_list("institution_id", "user_id")
        ):
            doctors.setdefault(institution_id, []).append(user_id)
        return doctors

    def _patients(self, primary: dict[int, Institution]) -> list[tuple[int, int, str, str, str]]:
        """(person, institution, registry, diagnosis code, name) of the chronic cases; the referral
        patients of the primary institutions when the chronic-care seeder made none."""
        try:
            from yilian.chronic_care.models import ChronicCase

            rows = list(
                ChronicCase.objects.filter(institution_id__in=primary, status="active")
                .order_by("id")
                .values_list(
                    "person_id", "institution_id", "registry__code", "diagnosis_code", "diagnosis_name"
                )
            )
        except Exception:  # the chronic-care app is optional for this seeder
            rows = []
        if rows:
            return rows
        links = (
            PersonInstitutionLink.objects.filter(institution_id__in=primary)
            .order_by("person_id")
            .values_list("person_id", "institution_id")
            .distinct()[:400]
        )
        return [(p, i, "hypertension", "I10.x00", "原发性高血压") for p, i in links]

    def _history(self, county: Any, lead: Institution, members: list[Any]) -> tuple[int, int]:
        primary = {m.institution_id: m.institution for m in members if m.institution.is_primary}
        doctors = self._doctors({*primary, lead.pk})
        names = {
            pk: full or username
            for pk, full, username in User.objects.filter(
                pk__in=[u for users in doctors.values() for u in users]
            ).values_list("pk", "full_name", "username")
        }
        lead_doctors = doctors.get(lead.pk, [])
        stock: dict[int, set[int]] = {}
        for institution_id, drug_id in StockItem.objects.filter(
            institution_id__in=[*primary, lead.pk]
        ).values_list("institution_id", "drug_id"):
            stock.setdefault(institution_id, set()).add(drug_id)
        drugs = {d.pk: d for d in Drug.objects.filter(pk__in=stock.get(lead.pk, set()), is_chronic=True)}
        by_category: dict[str, list[Drug]] = {}
        for drug in sorted(drugs.values(), key=lambda d: d.pk):
            if drug.dosage_form != "injection":
                by_category.setdefault(drug.category, []).append(drug)
        first_day = self.today - datetime.timedelta(days=min(self.months, 12) * 30)
        prescriptions: list[Prescription] = []
        items: list[tuple[Prescription, list[dict[str, Any]]]] = []
        deliveries: list[tuple[Prescription, Institution, Institution]] = []
        links: list[PersonInstitutionLink] = []
        numbers: dict[str, int] = {}

        def number(prefix: str, day: datetime.date) -> str:
            stem = f"{prefix}{day:%Y%m%d}"
            numbers[stem] = numbers.get(stem, 0) + 1
            return f"{stem}{numbers[stem]:05d}"

        def write(
            kind: str, institution: Institution, doctor: int | str, person: int, day: datetime.date,
            diagnosis: tuple[str, str], lines: list[tuple[Drug, int]], source: Prescription | None = None,
        ) -> Prescription:  # fmt: skip
            days = max(d for _drug, d in lines)
            valid = day + datetime.timedelta(days=2 if kind == PrescriptionKind.REGULAR else days - 1)
            voided = self.rng.random() < 0.02 and kind == PrescriptionKind.LONG
            created = local(day, 8.5 + self.rng.random() * 8)
            prescription = Prescription(
                public_id=self._uuid(),
                number=number("CF", day),
                kind=kind,
                status=PrescriptionStatus.VOIDED if voided else PrescriptionStatus.ACTIVE,
                consortium=county,
                institution=institution,
                prescriber_id=doctor if isinstance(doctor, int) else None,
                prescriber_name=names.get(doctor, "") if isinstance(doctor, int) else doctor,
                person_id=person,
                diagnosis_code=diagnosis[0],
                diagnosis_name=diagnosis[1],
                prescribed_on=day,
                valid_until=valid,
                days=days,
                source=source,
                created_at=created,
                updated_at=created,
                voided_at=created + datetime.timedelta(hours=2) if voided else None,
                voided_by_id=doctor if voided and isinstance(doctor, int) else None,
                void_reason="患者血压波动，调整方案后重新开具" if voided else "",
            )
            prescriptions.append(prescription)
            rows = []
            for drug, line_days in lines:
                per_day = DOSES_PER_DAY[FREQUENCIES.get(drug.dosage_form, "qd")]
                quantity = max(1, -(-int(per_day * line_days) // drug.package_size))
                rows.append(
                    {
                        "drug": drug,
                        "dose": Decimal(1),
                        "frequency": FREQUENCIES.get(drug.dosage_form, "qd"),
                        "route": "oral",
                        "days": line_days,
                        "quantity": quantity,
                        "starts_on": day,
                        "ends_on": day + datetime.timedelta(days=line_days - 1),
                        "kind": kind,
                        "is_current": not voided,
                        "delivered_by_consortium": kind == PrescriptionKind.EXTENDED,
                    }
                )
            items.append((prescription, rows))
            links.append(
                PersonInstitutionLink(person_id=person, institution=institution, reason="prescription")
            )
            return prescription

        for person, institution_id, registry, code, name in self._patients(primary):
            institution = primary[institution_id]
            staff: list[Any] = doctors.get(institution_id) or self._names(institution_id)
            doctor = staff[person % len(staff)]
            held = stock.get(institution_id, set())
            category = pc.REGISTRY_CATEGORIES.get(registry, "antihypertensive")
            own = [d for d in by_category.get(category, []) if d.pk in held]
            if own and self.rng.random() < LONG_SHARE:
                chosen = own[person % len(own)]
                extra = [d for d in by_category.get("lipid_lowering", []) if d.pk in held]
                day = first_day + datetime.timedelta(days=self.rng.randrange(60))
                while day <= self.today:
                    days = self.rng.choice((56, 84, 84, 84))
                    lines = [(chosen, days)]
                    if extra and person % 3 == 0 and registry == "hypertension":
                        # The statin rides on the hypertension case only, so one person's two cases never
                        # carry overlapping long prescriptions of the same drug.
                        lines.append((extra[person % len(extra)], days))
                    write(PrescriptionKind.LONG, institution, doctor, person, day, (code, name), lines)
                    # Renewed when the supply runs out: long prescriptions of one drug never overlap.
                    day += datetime.timedelta(days=days + self.rng.randrange(0, 5))
            if lead_doctors and self.rng.random() < EXTENDED_SHARE:
                source_code, source_name, source_category = self.rng.choice(pc.SOURCE_DIAGNOSES)
                missing = [d for d in by_category.get(source_category, []) if d.pk not in held]
                if not missing:
                    continue
                drug = missing[person % len(missing)]
                day = first_day + datetime.timedelta(days=self.rng.randrange(30))
                while day <= self.today - datetime.timedelta(days=3):
                    source = write(
                        PrescriptionKind.REGULAR,
                        lead,
                        lead_doctors[person % len(lead_doctors)],
                        person,
                        day,
                        (source_code, source_name),
                        [(drug, 28)],
                    )
                    follow = day + datetime.timedelta(days=self.rng.randint(20, 30))
                    while follow <= self.today and follow < day + datetime.timedelta(days=170):
                        days = self.rng.choice((28, 56))
                        extended = write(
                            PrescriptionKind.EXTENDED,
                            institution,
                            doctor,
                            person,
                            follow,
                            (source_code, source_name),
                            [(drug, days)],
                            source=source,
                        )
                        deliveries.append((extended, lead, institution))
                        follow += datetime.timedelta(days=days + self.rng.randrange(0, 4))
                    day += datetime.timedelta(days=self.rng.randint(150, 180))
        stamps = [Prescription._meta.get_field(n) for n in ("created_at", "updated_at")]
        stamps += [Delivery._meta.get_field(n) for n in ("created_at", "updated_at")]
        with backdated(*stamps):
            sources = [p for p in prescriptions if p.source is None]
            Prescription.objects.bulk_create(sources, batch_size=500)
            extended = [p for p in prescriptions if p.source is not None]
            for p in extended:
                p.source_id = p.source.pk  # type: ignore[union-attr]
            Prescription.objects.bulk_create(extended, batch_size=500)
            PrescriptionItem.objects.bulk_create(
                [
                    PrescriptionItem(prescription=p, person_id=p.person_id, **row)
                    for p, rows in items
                    for row in rows
                ],
                batch_size=1000,
            )
            PersonInstitutionLink.objects.bulk_create(links, ignore_conflicts=True, batch_size=1000)
            written = self._deliveries(deliveries)
        return len(prescriptions), written

    def _deliveries(self, rows: list[tuple[Prescription, Institution, Institution]]) -> int:
        """Each delivery played forward from its request and cut at now."""
        now = timezone.now()
        pharmacist = User.objects.filter(username="pharmacist").first()
        deliveries: list[Delivery] = []
        events: list[tuple[Delivery, list[tuple[str, str, str, datetime.datetime, str]]]] = []
        numbers: dict[str, int] = {}
        for prescription, lead, member in rows:
            requested = prescription.created_at
            stem = f"PS{requested:%Y%m%d}"
            numbers[stem] = numbers.get(stem, 0) + 1
            delivery = Delivery(
                public_id=self._uuid(),
                number=f"{stem}{numbers[stem]:05d}",
                prescription=prescription,
                from_institution=lead,
                to_institution=member,
                requested_at=requested,
                created_at=requested,
                updated_at=requested,
            )
            steps = [("request", "", DeliveryStatus.REQUESTED, requested, member.name)]
            if self.rng.random() < 0.03 and requested < now - datetime.timedelta(days=2):
                at = requested + datetime.timedelta(hours=self.rng.uniform(1, 20))
                delivery.status, delivery.cancelled_at = DeliveryStatus.CANCELLED, at
                delivery.note = "患者改在牵头医院取药"
                steps.append(("cancel", DeliveryStatus.REQUESTED, DeliveryStatus.CANCELLED, at, member.name))
            else:
                at = requested
                recent = requested > now - datetime.timedelta(days=10)
                stop = self.rng.choice(("dispatch", "receive", "hand_over", "end")) if recent else "end"
                for action, start, end, attr, low, high, side in (
                    (
                        "dispatch",
                        DeliveryStatus.REQUESTED,
                        DeliveryStatus.DISPATCHED,
                        "dispatched_at",
                        3,
                        26,
                        lead,
                    ),
                    (
                        "receive",
                        DeliveryStatus.DISPATCHED,
                        DeliveryStatus.RECEIVED,
                        "received_at",
                        4,
                        30,
                        member,
                    ),
                    ("hand_over", DeliveryStatus.RECEIVED, DeliveryStatus.HANDED, "handed_at", 1, 60, member),
                ):
                    at = at + datetime.timedelta(hours=self.rng.uniform(low, high))
                    if at > now or action == stop:
                        break
                    delivery.status = end
                    setattr(delivery, attr, at)
                    steps.append((action, start, end, at, side.name))
            delivery.updated_at = steps[-1][3]
            deliveries.append(delivery)
            events.append((delivery, steps))
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        label = (pharmacist.full_name or pharmacist.username) if pharmacist else "药房"
        DeliveryEvent.objects.bulk_create(
            [
                DeliveryEvent(
                    delivery=delivery,
                    action=action,
                    from_status=start,
                    to_status=end,
                    actor_id=pharmacist.pk if pharmacist and action == "dispatch" else None,
                    actor_label=label if action == "dispatch" else "",
                    institution_name=side,
                    occurred_at=at,
                )
                for delivery, steps in events
                for action, start, end, at, side in steps
            ],
            batch_size=1000,
        )
        return len(deliveries)

    # Live -------------------------------------------------------------------------------------------

    def _live(self, lead: Institution) -> None:
        """``doctor`` writes a source prescription, ``township_doctor`` continues it and writes a long
        prescription, ``pharmacist`` dispatches one delivery and ``township_doctor`` signs for another
        (each skipped when its account or a suitable patient is missing)."""
        doctor = User.objects.filter(username="doctor").first()
        gp = User.objects.filter(username="township_doctor").first()
        pharmacist = User.objects.filter(username="pharmacist").first()
        if gp is None:
            return
        from yilian.prescriptions import policies

        township_ids = policies.prescribing_institutions(gp)
        township = Institution.objects.filter(pk__in=township_ids).order_by("pk").first()
        if township is None:
            return
        held = set(StockItem.objects.filter(institution=township).values_list("drug_id", flat=True))
        try:
            self._live_long(gp, township, held)
        except DomainError as error:
            self.log(f"  (live long prescription skipped: {error.message})")
        if doctor is not None:
            try:
                self._live_extended(doctor, gp, lead, township, held)
            except DomainError as error:
                self.log(f"  (live extended prescription skipped: {error.message})")
        if pharmacist is not None:
            delivery = (
                Delivery.objects.filter(from_institution=lead, status=DeliveryStatus.REQUESTED)
                .exclude(prescription__institution=township)
                .order_by("requested_at")
                .first()
            )
            if delivery is not None:
                rx.delivery_step(
                    actor=pharmacist, delivery=delivery, action="dispatch", note="已装箱，随物流车配送"
                )
        incoming = (
            Delivery.objects.filter(to_institution=township, status=DeliveryStatus.DISPATCHED)
            .order_by("requested_at")
            .first()
        )
        if incoming is not None:
            rx.delivery_step(actor=gp, delivery=incoming, action="receive", note="药品完好，数量无误")

    def _live_long(self, gp: User, township: Institution, held: set[int]) -> None:
        from yilian.chronic_care.models import ChronicCase
        from yilian.chronic_care.selectors import stable_case_for

        busy = PrescriptionItem.objects.filter(kind="long", is_current=True, ends_on__gte=self.today).values(
            "person_id"
        )
        for case in (
            ChronicCase.objects.filter(institution=township, status="active", registry__code="hypertension")
            .exclude(person_id__in=busy)
            .select_related("person")
            .order_by("id")[:40]
        ):
            if stable_case_for(case.person, on=self.today) is None:
                continue
            drug = (
                Drug.objects.filter(pk__in=held, category="antihypertensive", is_chronic=True)
                .exclude(dosage_form="injection")
                .order_by("name", "id")
                .first()
            )
            if drug is None:
                return
            rx.prescription_create(
                actor=gp,
                institution=township,
                person=case.person,
                kind=PrescriptionKind.LONG,
                diagnosis_code=case.diagnosis_code or "I10",
                diagnosis_name=case.diagnosis_name or "原发性高血压",
                items=[{"drug": drug, "dose": "1", "frequency": "qd", "route": "oral", "days": 84}],
            )
            return

    def _live_extended(
        self, doctor: User, gp: User, lead: Institution, township: Institution, held: set[int]
    ) -> None:
        from yilian.people.selectors import person_visible_to

        drug = (
            Drug.objects.filter(stock__institution=lead, category="antiplatelet", is_chronic=True)
            .exclude(pk__in=held)
            .order_by("name", "id")
            .first()
        )
        person = (
            person_visible_to(doctor).filter(pk__in=person_visible_to(gp).values("pk")).order_by("id").first()
        )
        if drug is None or person is None:
            return
        source = rx.prescription_create(
            actor=doctor,
            institution=lead,
            person=person,
            kind=PrescriptionKind.REGULAR,
            diagnosis_code="I25.1",
            diagnosis_name="冠状动脉粥样硬化性心脏病",
            items=[{"drug": drug, "dose": "1", "frequency": "qd", "route": "oral", "days": 28}],
        )
        rx.prescription_create(
            actor=gp,
            institution=township,
            person=person,
            kind=PrescriptionKind.EXTENDED,
            source=source,
            diagnosis_code="I25.1",
            diagnosis_name="冠状动脉粥样硬化性心脏病",
            items=[{"drug": drug, "dose": "1", "frequency": "qd", "route": "oral", "days": 56}],
            note="患者在牵头医院心内科就诊后回乡，延续抗血小板治疗",
        )
