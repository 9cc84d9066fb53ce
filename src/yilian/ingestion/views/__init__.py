"""Import pages under /imports/: the job list, the upload form, templates, a job's progress and rejected rows."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.exceptions import Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.ingestion import forms, policies, selectors, services
from yilian.ingestion.choices import ImportKind, ImportStatus
from yilian.ingestion.tasks import enqueue_import_job

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def imports_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403."""
    return login_required(domain_errors(view))


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@imports_view
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """The import jobs the user and his peers ran, newest first."""
    require(policies.can_use_imports(request.user))
    page = paginate(request, selectors.import_job_list(request.user))
    return render(
        request,
        "ingestion/job_list.html",
        {
            "page_obj": page,
            "may_encounters": policies.can_import_encounters(request.user),
            "may_claims": policies.can_import_claims(request.user),
        },
    )


@imports_view
@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest) -> HttpResponse:
    """Upload a file; the import runs in the background and the page moves to the job's progress."""
    actor = request.user
    require(policies.can_use_imports(actor))
    institutions = list(selectors.encounter_upload_institutions(actor))
    regions = list(selectors.claim_upload_regions(actor))
    kinds = [
        k for k, allowed in ((ImportKind.ENCOUNTERS, institutions), (ImportKind.CLAIMS, regions)) if allowed
    ]
    form = forms.ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        institutions=institutions,
        regions=regions,
        kinds=kinds,
        initial={"kind": request.GET.get("kind") or (kinds[0] if kinds else "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        institution = next((i for i in institutions if str(i.public_id) == data["institution"]), None)
        region = next((r for r in regions if r.code == data["region"]), None)
        try:
            job = services.import_job_create(
                actor=actor,
                kind=data["kind"],
                upload=data["file"],
                institution=institution,
                region=region,
                all_or_nothing=data["all_or_nothing"],
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            enqueue_import_job(job)
            messages.success(request, _("文件已上传，正在后台导入。"))
            return redirect("ingestion:detail", public_id=job.public_id)
    return render(request, "ingestion/job_form.html", {"form": form, "kinds": kinds})


@imports_view
@require_GET
def template(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """The template of a kind of file (xlsx or csv) with one example row."""
    require(policies.can_use_imports(request.user))
    if kind not in ImportKind.values or fmt not in ("csv", "xlsx"):
        raise NotFound("template")
    if fmt == "csv":
        return _download(services.template_csv(kind), f"template-{kind}.csv", "text/csv; charset=utf-8")
    return _download(services.template_xlsx(kind), f"template-{kind}.xlsx", XLSX)


@imports_view
@require_GET
def job_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A job's progress (refreshing while it runs), its counters and its rejected rows."""
    job = selectors.import_job_get_for(request.user, public_id)
    page = paginate(request, selectors.import_row_errors(job))
    return render(
        request,
        "ingestion/job_detail.html",
        {
            "job": job,
            "page_obj": page,
            "running": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            "may_resume": job.status == ImportStatus.FAILED,
            "percent": _percent(job),
        },
    )


def _percent(job: object) -> int:
    total = getattr(job, "total_rows", None) or 0
    if getattr(job, "status", "") in (ImportStatus.SUCCEEDED, ImportStatus.REJECTED):
        return 100
    return min(100, 100 * getattr(job, "rows_read", 0) // total) if total else 0


@imports_view
@require_GET
def job_status(request: HttpRequest, public_id: str) -> JsonResponse:
    """The job's status and counters as JSON (the progress bar polls it)."""
    job = selectors.import_job_get_for(request.user, public_id)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "percent": _percent(job),
            "rows_read": job.rows_read,
            "total_rows": job.total_rows,
            "accepted_rows": job.accepted_rows,
            "duplicate_rows": job.duplicate_rows,
            "rejected_rows": job.rejected_rows,
        }
    )


@imports_view
@require_GET
def job_errors_export(request: HttpRequest, public_id: str) -> HttpResponse:
    """The job's rejected rows as Excel."""
    job = selectors.import_job_get_for(request.user, public_id)
    return _download(services.errors_xlsx(job), f"import-errors-{job.public_id}.xlsx", XLSX)


@imports_view
@require_POST
def job_resume(request: HttpRequest, public_id: str) -> HttpResponse:
    """Queue a failed job again from where it stopped."""
    job = selectors.import_job_get_for(request.user, public_id)
    services.import_job_resume(actor=request.user, job=job)
    enqueue_import_job(job)
    messages.success(
        request, _("导入任务已重新排队，将从第 {row} 行之后继续。").format(row=job.rows_committed + 1)
    )
    return redirect("ingestion:detail", public_id=job.public_id)


urlpatterns: list[URLPattern] = [
    path("", job_list, name="list"),
    path("new/", job_new, name="new"),
    path("templates/<str:kind>.<str:fmt>", template, name="template"),
    path("<str:public_id>/", job_detail, name="detail"),
    path("<str:public_id>/status.json", job_status, name="status"),
    path("<str:public_id>/errors.xlsx", job_errors_export, name="errors"),
    path("<str:public_id>/resume/", job_resume, name="resume"),
]
