"""Prescription and delivery pages: the list, writing a prescription, the prescription with its PDF and
voiding, the delivery worklists and a delivery with its steps.

Thin adapters: reads through ``prescriptions.selectors``, writes through ``prescriptions.services`` with
``actor=request.user``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.accounts.models import User
from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors, invalid_message
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.institutions.models import Department, Institution
from yilian.people.forms import chosen_person
from yilian.people.identifiers import mask_name
from yilian.people.selectors import person_visible_to
from yilian.prescriptions import documents, forms, policies, selectors, services
from yilian.prescriptions.choices import DELIVERY_STEPS, PrescriptionKind, PrescriptionStatus
from yilian.prescriptions.models import Delivery, Drug, Prescription

DRUG_OPTIONS_LIMIT = 2000

DELIVERY_BOXES = (
    ("out", gettext_lazy("待发药（本院药房）")),
    ("in", gettext_lazy("本机构接收")),
    ("all", gettext_lazy("全部")),
)
STEP_LABELS = {
    "dispatch": gettext_lazy("发出药品"),
    "receive": gettext_lazy("签收"),
    "hand_over": gettext_lazy("交付患者"),
    "cancel": gettext_lazy("取消配送"),
}
DONE_MESSAGES = {
    "dispatch": gettext_lazy("配送单 %(number)s：药品已发出。"),
    "receive": gettext_lazy("配送单 %(number)s 已签收。"),
    "hand_over": gettext_lazy("配送单 %(number)s：药品已交付患者。"),
    "cancel": gettext_lazy("配送单 %(number)s 已取消。"),
}
"""What the delivery page says after each step, naming the delivery."""


def prescriptions_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def patient_label(actor: Any, prescription: Prescription) -> str:
    """The patient's name, masked for oversight readers."""
    if policies.sees_patient(actor, prescription):
        return prescription.person.name
    return mask_name(prescription.person.name)


def _user_label(user: Any) -> str:
    return getattr(user, "full_name", "") or user.get_username()


# --- prescriptions ------------------------------------------------------------------------------


@prescriptions_view
@require_GET
def prescription_list(request: HttpRequest) -> HttpResponse:
    """Prescriptions of the actor's institutions (office: the consortium's, masked), filtered by kind,
    status, doctor, date and validity."""
    actor = request.user
    require(policies.can_use_prescriptions(actor))
    institutions = policies.reading_institutions(actor)
    prescribers = (
        User.objects.filter(prescriptions_written__institution_id__in=institutions)
        .distinct()
        .order_by("full_name")
        if institutions
        else User.objects.none()
    )
    prescriber_choices = [(str(u.public_id), _user_label(u)) for u in prescribers[:200]]
    form = forms.PrescriptionFilterForm(request.GET or None, prescribers=prescriber_choices)
    values = form.cleaned_data if form.is_valid() else {}
    prescriber_id = None
    if values.get("prescriber"):
        prescriber_id = next((u.pk for u in prescribers if str(u.public_id) == values["prescriber"]), None)
    person_id = None
    if request.GET.get("person"):
        try:
            person_id = person_visible_to(actor).get(public_id=request.GET["person"]).pk
        except Exception:  # a bad or invisible id just shows nothing
            person_id = -1
    rows = selectors.prescription_list(
        actor,
        selectors.PrescriptionFilters(
            kind=values.get("kind") or "",
            status=values.get("status") or "",
            current_only=bool(values.get("current")),
            prescriber_id=prescriber_id,
            person_id=person_id,
            first=values.get("first"),
            last=values.get("last"),
            query=values.get("q") or "",
        ),
    )
    page = paginate(request, rows, capped=True)
    items = selectors.items_by_prescription(list(page.object_list))
    for prescription in page.object_list:
        prescription.patient_label = patient_label(actor, prescription)
        prescription.item_list = items.get(prescription.pk, [])
    return render(
        request,
        "prescriptions/prescription_list.html",
        {"form": form, "page_obj": page, "may_prescribe": policies.can_prescribe(actor)},
    )


def _pick(choices: list[tuple[str, Any]], value: str) -> Any:
    return next((obj for key, obj in choices if key == value), None)


def _drug_from_text(text: str, offered: dict[str, Drug]) -> Drug | None:
    code = (text or "").strip().split(" ")[0].upper()
    return offered.get(code)


@prescriptions_view
@require_http_methods(["GET", "POST"])
def prescription_new(request: HttpRequest) -> HttpResponse:
    """Write a prescription. Choosing institution, kind, patient (and the source for an extended one)
    reloads the page with the drugs that may go on it; saving calls ``services.prescription_create``."""
    actor = request.user
    institution_ids = policies.prescribing_institutions(actor)
    require(bool(institution_ids))
    institutions = list(Institution.objects.filter(pk__in=institution_ids).order_by("name"))
    data = request.POST if request.method == "POST" else request.GET
    institution = (
        _pick([(str(i.public_id), i) for i in institutions], data.get("institution", "")) or institutions[0]
    )
    kind = data.get("kind") or PrescriptionKind.REGULAR
    if kind not in PrescriptionKind.values:
        kind = PrescriptionKind.REGULAR
    # Any visible person; the form renders only the chosen one and the picker searches the rest.
    persons = person_visible_to(actor)
    person = chosen_person(persons, data.get("person", ""))
    consortium = selectors.consortium_of(institution)
    formulary = selectors.formulary_for(consortium) if consortium is not None else None
    sources: list[Prescription] = []
    if kind == PrescriptionKind.EXTENDED and person is not None and formulary is not None:
        sources = list(
            selectors.source_candidates(
                person,
                formulary.reference_institution_id,
                on=timezone.localdate(),
                months=formulary.source_recent_months,
            )[:20]
        )
    source = _pick([(str(s.public_id), s) for s in sources], data.get("source", ""))
    if source is None and len(sources) == 1:
        source = sources[0]
    departments = list(Department.objects.filter(institution=institution, is_active=True).order_by("name"))
    offered_drugs = _offered_drugs(institution, kind, source, formulary)
    initial: dict[str, Any] = {
        "institution": str(institution.public_id),
        "kind": kind,
        "person": str(person.public_id) if person is not None else "",
        "source": str(source.public_id) if source is not None else "",
    }
    if source is not None:
        initial.update({"diagnosis_code": source.diagnosis_code, "diagnosis_name": source.diagnosis_name})
    head = forms.PrescriptionHeadForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        institutions=[(str(i.public_id), i.name) for i in institutions],
        persons=persons,
        person=person,
        sources=[
            (
                str(s.public_id),
                f"{s.number} · {s.prescribed_on:%Y-%m-%d} · {s.diagnosis_name} · {s.prescriber_name}",
            )
            for s in sources
        ],
        departments=[(str(d.public_id), d.name) for d in departments],
    )
    items = forms.ItemFormSet(request.POST if request.method == "POST" else None, prefix="items")
    if request.method == "GET" and source is not None:
        # Continue the source: its drugs the member lacks, pre-filled.
        rows = [i for i in selectors.prescription_items(source) if i.drug.code in offered_drugs]
        items = forms.ItemFormSet(
            prefix="items",
            initial=[
                {
                    "drug": forms.drug_option(i.drug),
                    "dose": i.dose,
                    "frequency": i.frequency,
                    "route": i.route,
                    "days": min(i.days, formulary.extended_max_days) if formulary else i.days,
                }
                for i in rows
            ],
        )
    item_errors: dict[int, dict[str, list[str]]] = {}
    saving = request.method == "POST" and bool(request.POST.get("save"))
    # After "save" the form comes back only when nothing was written: 400 for bad input (409 for a
    # conflict, set below), as the other apps' forms answer; a reload to pick the patient or kind is 200.
    status = 400 if saving else 200
    if saving and head.is_valid() and items.is_valid():
        values = head.cleaned_data
        parsed_items = []
        for index, row in enumerate(items.cleaned_data):
            text = row.get("drug") or ""
            drug = _drug_from_text(text, offered_drugs)
            if text and drug is None:
                item_errors.setdefault(index, {})["drug"] = [_("请从候选列表中选择本处方可开的药品。")]
            parsed_items.append({**row, "drug": drug if drug is not None else (text or None)})
        if person is None:
            head.add_error("person", _("请选择患者。"))
        elif not item_errors:
            try:
                prescription = services.prescription_create(
                    actor=actor,
                    institution=institution,
                    person=person,
                    kind=kind,
                    diagnosis_code=values.get("diagnosis_code") or "",
                    diagnosis_name=values.get("diagnosis_name") or "",
                    items=parsed_items,
                    source=source,
                    department=_pick(
                        [(str(d.public_id), d) for d in departments], values.get("department") or ""
                    ),
                    note=values.get("note") or "",
                    idempotency_key=request.POST.get("idempotency_key", ""),
                )
            except Conflict as error:
                head.add_error(None, str(error.message))
                status = 409
            except Invalid as error:
                for key, texts in error.as_text().items():
                    if key.startswith("items."):
                        parts = key.split(".")
                        field = parts[2] if len(parts) > 2 else "drug"
                        item_errors.setdefault(int(parts[1]), {})[field] = texts
                    else:
                        add_domain_errors(head, Invalid({key: texts}))
            else:
                messages.success(request, _("处方 %(number)s 已开具。") % {"number": prescription.number})
                return redirect("prescriptions:detail", prescription.public_id)
    item_rows = [
        {"form": form, "errors": item_errors.get(index, {})} for index, form in enumerate(items.forms)
    ]
    return render(
        request,
        "prescriptions/prescription_form.html",
        {
            "head": head,
            "items": items,
            "item_rows": item_rows,
            "kind": kind,
            "person": person,
            "source": source,
            "formulary": formulary,
            # With each option its dose unit: the dose is counted in it (片, ml…), shown beside the field.
            "drug_options": [(forms.drug_option(d), d.dose_unit) for d in offered_drugs.values()],
            "institution": institution,
            "no_sources": kind == PrescriptionKind.EXTENDED and person is not None and not sources,
            # Kept across the form's reloads; a second post of it returns the first prescription.
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        },
        status=status,
    )


def _offered_drugs(
    institution: Institution, kind: str, source: Prescription | None, formulary: Any
) -> dict[str, Drug]:
    """Drugs the form offers: a regular prescription any stocked drug, a long one the stocked chronic-disease
    drugs, an extended one the source's drugs the institution does not stock."""
    if kind == PrescriptionKind.EXTENDED:
        if source is None:
            return {}
        drugs = Drug.objects.filter(pk__in=source.items.values("drug_id")).exclude(
            stock__institution=institution
        )
    else:
        drugs = Drug.objects.filter(stock__institution=institution, is_active=True)
        if kind == PrescriptionKind.LONG:
            drugs = drugs.filter(is_chronic=True)
    return {d.code: d for d in drugs.order_by("name", "strength")[:DRUG_OPTIONS_LIMIT]}


def _detail_page(
    request: HttpRequest,
    prescription: Prescription,
    *,
    void_form: forms.VoidForm | None = None,
    void_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The prescription page; ``void_form`` comes back bound (with the reason typed) after a refused void."""
    actor = request.user
    sees = policies.sees_patient(actor, prescription)
    may_void = prescription.status == PrescriptionStatus.ACTIVE and policies.can_void(actor, prescription)
    delivery = Delivery.objects.filter(prescription=prescription).first()
    if not may_void:
        void_form = None
    elif void_form is None:
        void_form = forms.VoidForm(initial={"version": prescription.version})
    return render(
        request,
        "prescriptions/prescription_detail.html",
        {
            "rx": prescription,
            "items": selectors.prescription_items(prescription),
            "patient_label": patient_label(actor, prescription),
            "sees_patient": sees,
            "delivery": delivery,
            "extensions": list(
                prescription.extensions.select_related("institution").order_by("-prescribed_on")
            )
            if sees
            else [],
            "void_form": void_form,
            "void_error": void_error,
            "expired": prescription.valid_until < timezone.localdate(),
        },
        status=status,
    )


@prescriptions_view
@require_GET
def prescription_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One prescription: patient, diagnosis, items, source or extensions, its delivery, voiding."""
    prescription = selectors.prescription_get_for(request.user, public_id)
    return _detail_page(request, prescription)


@prescriptions_view
@require_GET
def prescription_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The printable prescription (A5)."""
    actor = request.user
    prescription = selectors.prescription_get_for(actor, public_id)
    content = documents.prescription_pdf(
        prescription,
        selectors.prescription_items(prescription),
        show_patient=policies.sees_patient(actor, prescription),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="prescription-{prescription.number}.pdf"'
    return response


@prescriptions_view
@require_POST
def prescription_void(request: HttpRequest, public_id: str) -> HttpResponse:
    """Void a prescription with a reason."""
    actor = request.user
    prescription = selectors.prescription_get_for(actor, public_id)
    form = forms.VoidForm(request.POST)
    if not form.is_valid():
        # Under the field, the page as it was: not a message on a fresh page with the reason gone.
        require(policies.can_void(actor, prescription))
        return _detail_page(request, prescription, void_form=form, status=400)
    try:
        services.prescription_void(
            actor=actor,
            prescription=prescription,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except Conflict as error:
        # A stale page (changed in another tab, or the drugs dispatched meanwhile): 409 on the current
        # prescription, the typed reason kept against its current version when voiding is still possible.
        current = selectors.prescription_get_for(actor, public_id)
        kept = forms.VoidForm(initial={"version": current.version, "reason": form.cleaned_data["reason"]})
        return _detail_page(request, current, void_form=kept, void_error=str(error.message), status=409)
    except Invalid as error:
        add_domain_errors(form, error)
        return _detail_page(request, prescription, void_form=form, status=400)
    messages.success(request, _("处方已作废。"))
    return redirect("prescriptions:detail", prescription.public_id)


# --- deliveries ---------------------------------------------------------------------------------


def _delivery_tabs(actor: Any) -> list[tuple[str, Any]]:
    tabs = []
    if policies.pharmacy_institutions(actor):
        tabs.append(DELIVERY_BOXES[0])
    if policies.receiving_institutions(actor):
        tabs.append(DELIVERY_BOXES[1])
    tabs.append(DELIVERY_BOXES[2])
    return tabs


@prescriptions_view
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    """The lead pharmacy's worklist, the member's receiving list, or all visible deliveries."""
    actor = request.user
    require(policies.can_use_prescriptions(actor))
    tabs = _delivery_tabs(actor)
    box = request.GET.get("box") or tabs[0][0]
    if box not in dict(tabs):
        box = tabs[0][0]
    form = forms.DeliveryFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    rows = selectors.delivery_list(
        actor, box=box, status=values.get("status") or "", open_only=bool(values.get("open"))
    )
    page = paginate(request, rows, capped=True)
    items = selectors.items_by_prescription([d.prescription for d in page.object_list])
    for delivery in page.object_list:
        # The pharmacy reads the patient of the deliveries it sends (``policies.sees_patient``).
        delivery.prescription.delivery_from_id = delivery.from_institution_id
        delivery.patient_label = patient_label(actor, delivery.prescription)
        delivery.item_list = items.get(delivery.prescription_id, [])
    return render(
        request,
        "prescriptions/delivery_list.html",
        {
            "form": form,
            "page_obj": page,
            "box": box,
            "tabs": [(key, label, f"{reverse('prescriptions:deliveries')}?box={key}") for key, label in tabs],
        },
    )


@prescriptions_view
@require_GET
def delivery_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A delivery: the prescription's drugs, both ends, the timeline and the steps the actor may take."""
    actor = request.user
    delivery = selectors.delivery_get_for(actor, public_id)
    actions = selectors.delivery_actions(actor, delivery)
    delivery.prescription.delivery_from_id = delivery.from_institution_id
    return render(
        request,
        "prescriptions/delivery_detail.html",
        {
            "delivery": delivery,
            "rx": delivery.prescription,
            "items": selectors.prescription_items(delivery.prescription),
            "patient_label": patient_label(actor, delivery.prescription),
            "timeline": list(selectors.delivery_timeline(delivery)),
            "actions": [{"name": a, "label": STEP_LABELS[a], "danger": a == "cancel"} for a in actions],
        },
    )


@prescriptions_view
@require_POST
def delivery_step(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """Take one step of a delivery."""
    actor = request.user
    if action not in DELIVERY_STEPS:
        raise NotFound("action")
    delivery = selectors.delivery_get_for(actor, public_id)
    form = forms.DeliveryStepForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        services.delivery_step(actor=actor, delivery=delivery, action=action, note=note)
    except Conflict as error:
        messages.error(request, str(error.message))
    except Invalid as error:
        messages.error(request, invalid_message(error))
    else:
        messages.success(request, DONE_MESSAGES[action] % {"number": delivery.number})
    return redirect("prescriptions:delivery", delivery.public_id)


urlpatterns: list[URLPattern] = [
    path("", prescription_list, name="list"),
    path("new/", prescription_new, name="new"),
    path("deliveries/", delivery_list, name="deliveries"),
    path("deliveries/<uuid:public_id>/", delivery_detail, name="delivery"),
    path("deliveries/<uuid:public_id>/<str:action>/", delivery_step, name="delivery-step"),
    path("<uuid:public_id>/", prescription_detail, name="detail"),
    path("<uuid:public_id>/prescription.pdf", prescription_pdf, name="pdf"),
    path("<uuid:public_id>/void/", prescription_void, name="void"),
]
