"""Clinical pages of the shared diagnostic centres: orders, the order form with recognition, the order
page with its actions and report editor, study files, the reading list, specimen receipt, critical values."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.audit import action_label
from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.diagnostics import documents, forms, policies, selectors, services, workflow
from yilian.diagnostics.choices import SPECIMEN_KINDS, OrderStatus
from yilian.diagnostics.models import DiagnosticOrder
from yilian.people import selectors as people_selectors

CRITICAL_STATUSES = (
    OrderStatus.READING,
    OrderStatus.PRELIMINARY,
    OrderStatus.AWAITING_SECOND,
    OrderStatus.FINAL,
)
BOXES = (
    ("ordering", gettext_lazy("本机构开单")),
    ("centre", gettext_lazy("中心接收")),
    ("all", gettext_lazy("全部")),
)
DANGER = {"reject", "cancel"}


def diagnostics_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _label_rows(actor: Any, orders: Any) -> list[DiagnosticOrder]:
    rows = list(orders)
    for order in rows:
        order.patient_label = selectors.patient_label(actor, order)  # type: ignore[attr-defined]
    return rows


@diagnostics_view
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """Orders of the actor's institutions (sent or received at a centre), or all visible ones for overseers."""
    actor = request.user
    require(policies.can_use_diagnostics(actor))
    is_clinical = bool(policies.patient_institutions(actor))
    if not is_clinical:
        tabs = BOXES[2:]
    elif policies.hosts_centre(actor):
        tabs = BOXES
    else:
        tabs = tuple(tab for tab in BOXES if tab[0] != "centre")
    box = request.GET.get("box") or tabs[0][0]
    if box not in dict(tabs):
        box = tabs[0][0]
    form = forms.OrderFilterForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    person = None
    if request.GET.get("person"):
        person = people_selectors.person_get_for(actor, request.GET["person"])
    filters = selectors.OrderFilters(
        box=box,
        status=params.get("status", ""),
        query=params.get("q", ""),
        person_id=person.pk if person else None,
    )
    page = paginate(request, selectors.order_list(actor, filters))
    page.object_list = _label_rows(actor, page.object_list)
    return render(
        request,
        "diagnostics/order_list.html",
        {
            "page_obj": page,
            "form": form,
            "box": box,
            "tabs": [(key, label, f"{reverse('diagnostics:orders')}?box={key}") for key, label in tabs],
            "may_order": policies.can_order(actor),
            "person": person,
        },
    )


@diagnostics_view
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    """The order form: pick the patient (search), the item and the clinical data. A valid recognised
    result of the item is shown with the choice to use it or to give a reason to repeat."""
    actor = request.user
    require(policies.can_order(actor))
    institutions = selectors.ordering_institution_choices(actor)
    person = None
    person_id = request.POST.get("person") or request.GET.get("person")
    if person_id:
        try:
            person = people_selectors.person_get_for(actor, person_id)
        except NotFound as error:
            raise Http404 from error
    query = request.GET.get("q", "").strip()
    candidates = (
        list(people_selectors.person_list(actor, query=query)[:20]) if query and person is None else []
    )
    items: list[Any] = []
    for institution in institutions:
        items.extend(selectors.orderable_items(actor, institution.pk))
    unique_items = list({item.pk: item for item in items}.values())
    form = forms.OrderForm(request.POST or None, institutions=institutions, items=unique_items)
    recognition = None
    if request.method == "POST" and person is not None and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if request.POST.get("use_recognised"):
                decision = services.recognition_use(
                    actor=actor, person=person, institution=data["institution"], item=data["item"]
                )
                return _prior_result_page(request, decision.prior_order)
            order, _created = services.order_create(
                actor=actor,
                person=person,
                idempotency_key=request.POST.get("idempotency_key", ""),
                **data,
            )
        except services.RecognisedResultExists as error:
            recognition = error.recognition
            add_domain_errors(form, error)
        except Invalid as error:
            add_domain_errors(form, error, field_map={"department": "institution"})
        else:
            messages.success(request, _("已开单：%(number)s。") % {"number": order.number})
            return redirect("diagnostics:detail", order.public_id)
    elif request.method == "POST" and person is None:
        form.is_valid()
        form.add_error(None, _("请先选择患者。"))
    if recognition is not None:
        report = selectors.published_report(recognition.order)
        recognition_conclusion = report.conclusion if report else ""
    else:
        recognition_conclusion = ""
    return render(
        request,
        "diagnostics/order_form.html",
        {
            "form": form,
            "person": person,
            "query": query,
            "candidates": candidates,
            "recognition": recognition,
            "recognition_conclusion": recognition_conclusion,
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        },
        status=400 if request.method == "POST" else 200,
    )


def _prior_result_page(request: HttpRequest, prior: DiagnosticOrder) -> HttpResponse:
    """After using a recognised result: the prior order whose result now stands for this one, or the
    patient's orders when the doctor may not open an order of another institution."""
    messages.success(
        request,
        _("已采用既往互认结果（申请单 %(number)s），未重复开单。") % {"number": prior.number},
    )
    if selectors.order_visible_to(request.user).filter(pk=prior.pk).exists():
        return redirect("diagnostics:detail", prior.public_id)
    return redirect(f"{reverse('diagnostics:orders')}?person={prior.person.public_id}")


ACTION_LABELS = {
    "collect": gettext_lazy("已采集并贴码"),
    "dispatch": gettext_lazy("送出标本"),
    "receive": gettext_lazy("接收"),
    "reject": gettext_lazy("拒收"),
    "claim": gettext_lazy("领取诊断"),
    "release": gettext_lazy("放弃领取"),
    "save_preliminary": gettext_lazy("保存初步报告"),
    "sign": gettext_lazy("签发报告"),
    "second_sign": gettext_lazy("复核签发"),
    "amend": gettext_lazy("修订报告"),
    "cancel": gettext_lazy("撤销申请"),
}

DONE_MESSAGES = {
    "collect": gettext_lazy("申请单 %(number)s：标本已采集并贴码。"),
    "dispatch": gettext_lazy("申请单 %(number)s：标本已送出。"),
    "reject": gettext_lazy("申请单 %(number)s 已拒收。"),
    "claim": gettext_lazy("申请单 %(number)s 已由您领取诊断。"),
    "release": gettext_lazy("已放弃领取申请单 %(number)s，其他医师可以领取。"),
    "save_preliminary": gettext_lazy("申请单 %(number)s 的初步报告已保存。"),
    "sign": gettext_lazy("申请单 %(number)s 的报告已签名。"),
    "second_sign": gettext_lazy("申请单 %(number)s 的报告已复核签发。"),
    "amend": gettext_lazy("申请单 %(number)s 的报告已修订。"),
    "cancel": gettext_lazy("申请单 %(number)s 已撤销。"),
}
"""What the page says after each action, naming the order."""


def _detail_context(request: HttpRequest, order: DiagnosticOrder, **extra: Any) -> dict[str, Any]:
    actor = request.user
    sees = policies.sees_patient(actor, order)
    available = selectors.available_actions(actor, order)
    # Upload has its own panel; a specimen is received by scanning its barcode at the centre's desk,
    # so the order page links there instead of offering a form the action view refuses.
    actions = [a for a in available if a not in ("upload", "receive")]
    current = selectors.current_report(order) if sees else None
    bound: dict[str, Any] = extra.pop("bound", {})
    critical_form = extra.pop("critical_form", None)
    action_forms = []
    for action in actions:
        initial: dict[str, Any] = {"expected_version": order.version}
        if action in ("save_preliminary", "sign", "amend") and current is not None:
            initial.update(
                findings=current.findings, conclusion=current.conclusion, is_abnormal=current.is_abnormal
            )
        form = bound.get(action) or forms.action_form(action, initial=initial, kind=order.centre.kind)
        action_forms.append(
            {
                "name": action,
                "label": ACTION_LABELS.get(action, action),
                "form": form,
                "danger": action in DANGER,
            }
        )
    # A form kept after a conflict whose action is no longer offered (e.g. the other tab signed): its text
    # is shown under the conflict so it can be copied, rather than lost.
    unsaved = [
        (form.fields[name].label, value)
        for name_of_action, form in bound.items()
        if name_of_action not in actions and form.is_bound
        for name in KEPT_TEXT_FIELDS
        if name in form.fields
        and isinstance(form.fields[name].widget, (django_forms.Textarea, django_forms.TextInput))
        and (value := str(form.data.get(f"{form.prefix}-{name}", "")).strip())
    ]
    kept_in_form = any(name_of_action in actions and form.is_bound for name_of_action, form in bound.items())
    may_upload = "upload" in available
    may_raise_critical = order.status in CRITICAL_STATUSES and bool(
        policies.sides_of(actor, order).get("centre", frozenset()) & workflow.READING_ROLES
    )
    return {
        "order": order,
        "sees_patient": sees,
        "patient_label": selectors.patient_label(actor, order),
        "action_forms": action_forms,
        "may_upload": may_upload,
        "may_receive": "receive" in available,
        "may_raise_critical": may_raise_critical,
        "upload_form": forms.UploadForm(initial={"expected_version": order.version}),
        "critical_form": critical_form if critical_form is not None else forms.CriticalValueForm(),
        "timeline": [
            (event, action_label(f"diagnostics.{event.action}")) for event in selectors.order_timeline(order)
        ],
        "files": list(selectors.order_files(order)) if sees else [],
        "reports": list(selectors.order_reports(order)) if sees else [],
        "published": selectors.published_report(order) if sees else None,
        "alerts": list(order.critical_alerts.select_related("recipient", "acknowledged_by")) if sees else [],
        "holder": order.claimed_by,
        "unsaved": unsaved,
        "kept_in_form": kept_in_form,
        **extra,
    }


@diagnostics_view
@require_GET
def order_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One order: patient (as the actor may see it), item, centre, specimen or study, report versions,
    critical values, the timeline, and the actions (with the report editor) the actor may take now."""
    order = selectors.order_get_for(request.user, public_id)
    return render(request, "diagnostics/order_detail.html", _detail_context(request, order))


@require_POST
@diagnostics_view
def order_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one workflow action; a stale page or a state that moved on shows the conflict and changes nothing."""
    actor = request.user
    order = selectors.order_get_for(actor, public_id)
    transition = workflow.transition_for(action)
    if transition is None or action in ("upload", "receive"):
        raise Http404
    require(bool(policies.sides_of(actor, order).get(transition.side, frozenset()) & transition.roles))
    form = forms.action_form(action, request.POST, kind=order.centre.kind)
    if form.is_valid():
        try:
            services.order_act(
                actor=actor,
                order=order,
                action=action,
                expected_version=form.cleaned_data.get("expected_version"),
                **forms.fields_for_service(form),
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            current = selectors.order_get_for(actor, public_id)
            return render(
                request,
                "diagnostics/order_detail.html",
                _detail_context(
                    request,
                    current,
                    action_error=str(error.message),
                    bound={action: _kept_form(action, request.POST, current)},
                ),
                status=409,
            )
        else:
            messages.success(request, DONE_MESSAGES[action] % {"number": order.number})
            return redirect("diagnostics:detail", order.public_id)
    return render(
        request,
        "diagnostics/order_detail.html",
        _detail_context(request, order, bound={action: form}),
        status=400,
    )


def _kept_form(action: str, data: Any, current: DiagnosticOrder) -> forms.ActionForm:
    """The refused action's form with what the user typed, against the order's current version.

    A report can be long: a stale page (another tab saved first) must not throw the text away. The user
    reads what changed on the page, then resubmits on purpose; nothing was saved by the refused post.
    """
    kept = data.copy()
    kept[f"{action}-expected_version"] = str(current.version)
    return forms.action_form(action, kept, kind=current.centre.kind)


KEPT_TEXT_FIELDS = ("findings", "conclusion", "critical_value", "reason", "note")
"""Free-text inputs shown back when their action is no longer offered after a conflict."""


@require_POST
@diagnostics_view
def critical_value(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Report a critical value on the order (a centre doctor); the ordering doctor is notified."""
    actor = request.user
    order = selectors.order_get_for(actor, public_id)
    form = forms.CriticalValueForm(request.POST)
    if form.is_valid():
        try:
            services.critical_value_raise(
                actor=actor, order=order, description=form.cleaned_data["description"]
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(
                request, _("申请单 %(number)s 已报告危急值，已通知开单医生。") % {"number": order.number}
            )
            return redirect("diagnostics:detail", order.public_id)
    context = _detail_context(request, order, critical_form=form)
    return render(request, "diagnostics/order_detail.html", context, status=400)


@require_POST
@diagnostics_view
def order_upload(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Upload the study's files (imaging, ECG: the ordering side); one bad file refuses them all."""
    actor = request.user
    order = selectors.order_get_for(actor, public_id)
    form = forms.UploadForm(request.POST)
    version = form.cleaned_data.get("expected_version") if form.is_valid() else None
    try:
        uploaded = services.study_upload(
            actor=actor, order=order, files=request.FILES.getlist("files"), expected_version=version
        )
    except Invalid as error:
        context = _detail_context(
            request, order, upload_errors=[m for ms in error.as_text().values() for m in ms]
        )
        return render(request, "diagnostics/order_detail.html", context, status=400)
    messages.success(
        request,
        ngettext(
            "申请单 %(number)s：已上传 %(count)s 个检查文件。",
            "申请单 %(number)s：已上传 %(count)s 个检查文件。",
            len(uploaded),
        )
        % {"number": order.number, "count": len(uploaded)},
    )
    return redirect("diagnostics:detail", order.public_id)


def _patient_order(request: HttpRequest, public_id: Any) -> DiagnosticOrder:
    order = selectors.order_get_for(request.user, public_id)
    require(policies.sees_patient(request.user, order))
    return order


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@diagnostics_view
@require_GET
def report_pdf(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The printable report for the patient (the current final version)."""
    order = _patient_order(request, public_id)
    report = selectors.published_report(order)
    if report is None:
        raise Http404
    return _pdf(documents.report_pdf(order, report), f"{order.number}.pdf")


@diagnostics_view
@require_GET
def label_pdf(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The specimen barcode label."""
    order = _patient_order(request, public_id)
    if not order.barcode:
        raise Http404
    return _pdf(documents.label_pdf(order), f"{order.barcode}.pdf")


@diagnostics_view
@require_GET
def file_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A simple viewer: images inline, PDF in a frame, DICOM as a download with its metadata table."""
    study_file = selectors.file_get_for(request.user, public_id)
    return render(request, "diagnostics/file_view.html", {"file": study_file, "order": study_file.order})


@xframe_options_sameorigin
@diagnostics_view
@require_GET
def file_raw(request: HttpRequest, public_id: Any) -> FileResponse:
    """The file itself (inline for images and PDF, otherwise a download). The viewer page frames PDFs,
    so this one view may be framed by the site's own pages (SAMEORIGIN; the rest of the site says DENY)."""
    study_file = selectors.file_get_for(request.user, public_id)
    inline = study_file.kind in ("image", "pdf")
    response = FileResponse(
        study_file.file.open("rb"),
        as_attachment=not inline,
        filename=study_file.original_filename,
        content_type=study_file.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


@diagnostics_view
@require_GET
def centre_desk(request: HttpRequest) -> HttpResponse:
    """The centres the actor works at, with their pending counts: links to reading lists and receipt."""
    actor = request.user
    require(bool(policies.patient_institutions(actor)))
    centres = list(selectors.working_centres(actor))
    for centre in centres:
        centre.receives_specimens = centre.kind in SPECIMEN_KINDS  # type: ignore[attr-defined]
    return render(request, "diagnostics/centres.html", {"centres": centres})


@diagnostics_view
@require_GET
def reading_list(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A centre's pending studies, most urgent then oldest first; who holds a claimed one."""
    actor = request.user
    centre = selectors.centre_get_for(actor, public_id)
    status = request.GET.get("status", "")
    page = paginate(request, selectors.reading_list(actor, centre, status=status), capped=True)
    page.object_list = _label_rows(actor, page.object_list)
    return render(
        request,
        "diagnostics/reading_list.html",
        {
            "centre": centre,
            "receives_specimens": centre.kind in SPECIMEN_KINDS,
            "page_obj": page,
            "status": status,
            "statuses": [
                (s, OrderStatus(s).label)
                for s in (
                    OrderStatus.RECEIVED,
                    OrderStatus.READING,
                    OrderStatus.PRELIMINARY,
                    OrderStatus.AWAITING_SECOND,
                )
            ],
        },
    )


@diagnostics_view
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Receive specimens by scanning their barcodes; an unknown barcode is shown and nothing changes.
    Imaging and ECG centres receive uploaded studies, not specimens: they have no such page."""
    actor = request.user
    centre = selectors.centre_get_for(actor, public_id)
    require(policies.works_at_centre(actor, centre))
    if centre.kind not in SPECIMEN_KINDS:
        raise Http404
    form = forms.ReceiveForm(request.POST or None)
    received = None
    if request.method == "POST" and form.is_valid():
        try:
            received = services.order_receive_barcode(
                actor=actor, centre=centre, barcode=form.cleaned_data["barcode"]
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(
                request,
                _("已接收：%(number)s（%(item)s）。")
                % {"number": received.number, "item": received.item_name},
            )
            form = forms.ReceiveForm()
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "diagnostics/receive.html",
        {"centre": centre, "form": form, "received": received},
        status=status,
    )


def _may_acknowledge(actor: Any, alert: Any) -> bool:
    return alert.acknowledged_at is None and bool(
        policies.sides_of(actor, alert.order).get("ordering", frozenset()) & workflow.ORDERING_ROLES
    )


def _alert_page(
    request: HttpRequest, *, failed: Any = None, form: forms.AcknowledgeForm | None = None, status: int = 200
) -> HttpResponse:
    """The alert list; ``failed`` is the alert whose acknowledgement was refused, shown with ``form``'s errors."""
    actor = request.user
    page = paginate(request, selectors.critical_alert_list(actor))
    page.object_list = list(page.object_list)
    for alert in page.object_list:
        alert.patient_label = selectors.patient_label(actor, alert.order)
        alert.may_acknowledge = _may_acknowledge(actor, alert)
        alert.ack_errors = form.errors.get("note", []) if form is not None and alert.pk == failed else []
        alert.ack_note = form.data.get("note", "") if form is not None and alert.pk == failed else ""
    return render(
        request,
        "diagnostics/alerts.html",
        {"page_obj": page, "form": forms.AcknowledgeForm()},
        status=status,
    )


@diagnostics_view
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """Critical values of visible orders, unacknowledged first, with the acknowledge form for the orderers."""
    require(bool(policies.patient_institutions(request.user)))
    return _alert_page(request)


@require_POST
@diagnostics_view
def alert_acknowledge(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Acknowledge a critical value with the record of what was done (a doctor of the ordering institution);
    an empty record is shown on the alert's row and nothing is saved."""
    actor = request.user
    alert = selectors.critical_alert_get_for(actor, public_id)
    form = forms.AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.critical_alert_acknowledge(actor=actor, alert=alert, note=form.cleaned_data["note"])
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            # Back to the list (the decorator would redirect to this POST-only address).
            messages.error(request, str(error.message))
            return redirect("diagnostics:alerts")
        else:
            messages.success(
                request,
                _("申请单 %(number)s 的危急值已确认，处置记录已保存。") % {"number": alert.order.number},
            )
            return redirect("diagnostics:alerts")
    elif alert.acknowledged_at is not None:
        messages.error(request, _("该危急值已被确认。"))
        return redirect("diagnostics:alerts")
    else:
        # The rules first: whoever may not acknowledge learns that, not that the record is missing.
        require(_may_acknowledge(actor, alert))
    return _alert_page(request, failed=alert.pk, form=form, status=400)


urlpatterns: list[URLPattern] = [
    path("", order_list, name="orders"),
    path("new/", order_new, name="new"),
    path("orders/<uuid:public_id>/", order_detail, name="detail"),
    path("orders/<uuid:public_id>/act/<str:action>/", order_action, name="act"),
    path("orders/<uuid:public_id>/upload/", order_upload, name="upload"),
    path("orders/<uuid:public_id>/critical-value/", critical_value, name="critical-value"),
    path("orders/<uuid:public_id>/report.pdf", report_pdf, name="report-pdf"),
    path("orders/<uuid:public_id>/label.pdf", label_pdf, name="label-pdf"),
    path("files/<uuid:public_id>/", file_view, name="file"),
    path("files/<uuid:public_id>/raw", file_raw, name="file-raw"),
    path("centres/", centre_desk, name="centres"),
    path("reading/<uuid:public_id>/", reading_list, name="reading"),
    path("receive/<uuid:public_id>/", receive, name="receive"),
    path("alerts/", alert_list, name="alerts"),
    path("alerts/<uuid:public_id>/acknowledge/", alert_acknowledge, name="acknowledge"),
]
