"""Factories for diagnostics tests: centres, items, rules, orders and DICOM files on the shared ``world``."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pypdf import PdfWriter

from yilian.accounts.models import Membership, User
from yilian.accounts.selectors import forget_scope
from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.diagnostics import services
from yilian.diagnostics.models import DiagnosticItem, DiagnosticOrder, RecognitionRule, SharedCentre
from yilian.institutions.models import Department
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.people.models import Person
from yilian.people.tests.factories import person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_bytes(pages: int = 1) -> bytes:
    """A real, small PDF of blank A4 pages (uploads are opened with pypdf, a bare header is refused)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = pdf_bytes()


@dataclass
class DiagWorld:
    """The shared world plus a lab, an imaging and a pathology centre run by the hospital's 医技科 (the
    centres' department: its doctor, second doctor and technician), a surgeon of the same hospital who is
    not the centres' staff, clinicians of the township and a patient."""

    world: Any
    lab: SharedCentre
    imaging: SharedCentre
    pathology: SharedCentre
    glucose: DiagnosticItem
    ct: DiagnosticItem
    biopsy: DiagnosticItem
    department: Department
    township_doctor: User
    township_nurse: User
    hospital_doctor: User
    second_doctor: User
    hospital_technician: User
    hub_surgeon: User
    outsider_doctor: User
    patient: Person


def diag_world(world: Any) -> DiagWorld:
    """Centres of the hospital serving the township, items, clinicians at both ends and a township patient.

    The world's ``hospital_doctor`` is moved into the centres' department (医技科); ``hub_surgeon`` is a
    doctor of the hospital's 普外科, refused the centres' work.
    """
    department = DepartmentFactory(institution=world.hospital, name="医技科", specialty="32")
    surgery = DepartmentFactory(institution=world.hospital, name="普外科", specialty="04")
    Membership.objects.filter(
        user=world.hospital_doctor, institution=world.hospital, role=Role.DOCTOR
    ).update(department=department)
    forget_scope(world.hospital_doctor)
    lab = services.centre_create(
        actor=world.office,
        consortium=world.consortium,
        kind="lab",
        name="县域检验中心",
        hub_institution=world.hospital,
        department=department,
        served_institutions=[world.township],
        critical_ack_minutes=15,
    )
    imaging = services.centre_create(
        actor=world.office,
        consortium=world.consortium,
        kind="imaging",
        name="县域医学影像中心",
        hub_institution=world.hospital,
        department=department,
        served_institutions=[world.township],
    )
    pathology = services.centre_create(
        actor=world.office,
        consortium=world.consortium,
        kind="pathology",
        name="县域病理中心",
        hub_institution=world.hospital,
        department=department,
        served_institutions=[world.township],
    )
    glucose = services.item_create(
        actor=world.office,
        centre=lab,
        code="GLU",
        name="空腹血糖",
        price="8.00",
        turnaround_hours=4,
        specimen="灰管",
    )
    ct = services.item_create(
        actor=world.office,
        centre=imaging,
        code="CT-HEAD",
        name="头颅CT平扫",
        price="180.00",
        turnaround_hours=24,
    )
    biopsy = services.item_create(
        actor=world.office,
        centre=pathology,
        code="PATH-BX",
        name="活检组织病理",
        price="260.00",
        turnaround_hours=72,
        requires_second_reader=True,
    )
    return DiagWorld(
        world=world,
        lab=lab,
        imaging=imaging,
        pathology=pathology,
        glucose=glucose,
        ct=ct,
        biopsy=biopsy,
        department=department,
        township_doctor=user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township),
        township_nurse=user_with_role(Role.NURSE, username="township_nurse", institution=world.township),
        hospital_doctor=world.hospital_doctor,
        second_doctor=user_with_role(
            Role.DOCTOR, username="second_doctor", institution=world.hospital, department=department
        ),
        hospital_technician=user_with_role(
            Role.TECHNICIAN, username="hospital_tech", institution=world.hospital, department=department
        ),
        hub_surgeon=user_with_role(
            Role.DOCTOR, username="hub_surgeon", institution=world.hospital, department=surgery
        ),
        outsider_doctor=world.outsider_doctor,
        patient=person("王五", institution=world.township),
    )


def order(dw: DiagWorld, item: DiagnosticItem | None = None, **overrides: Any) -> DiagnosticOrder:
    """An order from the township doctor (lab glucose by default)."""
    data: dict[str, Any] = {
        "diagnosis_code": "E11.9",
        "diagnosis_name": "2型糖尿病",
        "clinical_info": "口干多饮",
    }
    data.update(overrides)
    created, _new = services.order_create(
        actor=dw.township_doctor,
        person=data.pop("person", dw.patient),
        institution=dw.world.township,
        item=item or dw.glucose,
        **data,
    )
    return created


def received_specimen(dw: DiagWorld, item: DiagnosticItem | None = None, **overrides: Any) -> DiagnosticOrder:
    """A lab order collected, dispatched and received at the centre."""
    created = order(dw, item, **overrides)
    services.order_act(actor=dw.township_nurse, order=created, action="collect")
    services.order_act(actor=dw.township_nurse, order=created, action="dispatch")
    return services.order_receive_barcode(
        actor=dw.hospital_technician, centre=created.centre, barcode=created.barcode
    )


def final_result(dw: DiagWorld, item: DiagnosticItem | None = None, **overrides: Any) -> DiagnosticOrder:
    """A lab order through to a final report."""
    received = received_specimen(dw, item, **overrides)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    return services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", findings="血糖 6.1", conclusion="正常"
    )


def rule(
    dw: DiagWorld, code: str = "GLU", days: int = 30, scope: str = "consortium", **kw: Any
) -> RecognitionRule:
    """A recognition rule of the world's consortium."""
    return services.rule_create(
        actor=dw.world.office,
        consortium=kw.pop("consortium", dw.world.consortium),
        item_code=code,
        name="空腹血糖",
        validity_days=days,
        scope=scope,
    )


def dicom_bytes(modality: str = "CT", description: str = "头颅平扫") -> bytes:
    """A small valid DICOM file (no pixel data) built with pydicom."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.preamble = b"\x00" * 128
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.PatientName = "SOMEONE^ELSE"
    dataset.Modality = modality
    dataset.StudyDate = "20261120"
    dataset.StudyDescription = "HEAD"
    dataset.SpecificCharacterSet = "ISO_IR 192"
    dataset.SeriesDescription = description
    buffer = io.BytesIO()
    dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()


def dicom_upload(name: str = "image1.dcm") -> SimpleUploadedFile:
    """A DICOM upload."""
    return SimpleUploadedFile(name, dicom_bytes(), content_type="application/dicom")


def corrupt_dicom_upload() -> SimpleUploadedFile:
    """Something with the DICM marker whose header does not parse."""
    return SimpleUploadedFile(
        "broken.dcm", b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"\x01" * 20
    )


def ago(**kwargs: Any) -> datetime.timedelta:
    """A timedelta (readability in tests)."""
    return datetime.timedelta(**kwargs)


PRICE = Decimal("8.00")


def sterilisation_item(dw: DiagWorld) -> DiagnosticItem:
    """The hospital's sterilisation supply centre (serving the township) and one instrument-package item."""
    centre = services.centre_create(
        actor=dw.world.office,
        consortium=dw.world.consortium,
        kind="sterilisation",
        name="县域消毒供应中心",
        hub_institution=dw.world.hospital,
        department=dw.department,
        served_institutions=[dw.world.township],
    )
    return services.item_create(
        actor=dw.world.office,
        centre=centre,
        code="XG001",
        name="基础器械包灭菌",
        price="35.00",
        turnaround_hours=24,
        specimen="器械包",
    )
