"""家庭医生签约 pages: teams and members, the panel, signing, contracts, packages and coverage.

Thin adapters: every read goes through ``family_doctors.selectors`` and every
change through ``family_doctors.services`` with ``actor=request.user``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.family_doctors import documents, forms, policies, selectors, services
from yilian.family_doctors.choices import PriorityGroup
from yilian.family_doctors.models import CareTeam

PANEL_PAGE_SIZE = 50
# The signing form's resident finder shows at most this many matches.
RESIDENT_SEARCH_LIMIT = 20


def fd_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


# Teams -----------------------------------------------------------------------------------------


@fd_view
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    """The teams the actor sees, with members, leader and contracts in force."""
    actor = request.user
    require(policies.can_use_family_doctors(actor))
    query = request.GET.get("q", "").strip()[:50]
    page_obj = paginate(request, selectors.team_list(actor, query=query, include_inactive=True))
    counts = selectors.status_counts(actor)
    return render(
        request,
        "family_doctors/team_list.html",
        {
            "page_obj": page_obj,
            "query": query,
            "may_create": bool(selectors.team_institutions(actor))
            if policies.manages_some_teams(actor)
            else False,
            "counts": counts,
            "oversight": policies.is_oversight(actor) and not policies.administered_institutions(actor),
        },
    )


@fd_view
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    """Form a team: institution, name, grid, leader."""
    actor = request.user
    institutions = selectors.team_institutions(actor)
    require(bool(institutions))
    chosen = institutions[0]
    wanted = request.POST.get("institution") or request.GET.get("institution")
    for institution in institutions:
        if str(institution.public_id) == wanted:
            chosen = institution
    probe = CareTeam(institution=chosen)
    leaders = [m for m in selectors.member_candidates(probe) if m.institution.is_primary]
    form = forms.TeamForm(
        request.POST or None,
        institutions=institutions,
        grids=selectors.grids_for(chosen),
        leaders=leaders,
        creating=True,
        initial={"institution": str(chosen.public_id)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
                actor=actor,
                institution=form.pick("institution") or chosen,
                name=form.cleaned_data["name"],
                grid=form.pick("grid"),
                description=form.cleaned_data.get("description") or "",
                leader=form.pick("leader"),
                leader_role=form.cleaned_data.get("leader_role") or "general_practitioner",
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("签约团队已组建。"))
            return redirect("family_doctors:team", public_id=team.public_id)
    return render(
        request, "family_doctors/team_form.html", {"form": form, "team": None, "institution": chosen}
    )


@fd_view
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Change a team's name, grid, description, active."""
    actor = request.user
    team = selectors.team_get_for(actor, public_id)
    require(policies.can_manage_teams_of(actor, team.institution))
    form = forms.TeamForm(
        request.POST or None,
        institutions=[team.institution],
        grids=selectors.grids_for(team.institution),
        leaders=None,
        creating=False,
        initial={
            "name": team.name,
            "grid": str(team.grid.public_id) if team.grid_id else "",
            "description": team.description,
            "is_active": team.is_active,
            "seen_updated_at": team.updated_at.isoformat(),
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(
                actor=actor,
                team=team,
                name=form.cleaned_data["name"],
                grid=form.pick("grid"),
                description=form.cleaned_data.get("description") or "",
                is_active=form.cleaned_data.get("is_active", False),
                seen_updated_at=forms.seen_updated_at(form),
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            # Keep what the user typed; a second save, after checking, is made over the newer team.
            team.refresh_from_db()
            posted = request.POST.copy()
            posted["seen_updated_at"] = team.updated_at.isoformat()
            form = forms.TeamForm(
                posted,
                institutions=[team.institution],
                grids=selectors.grids_for(team.institution),
                leaders=None,
                creating=False,
            )
            form.is_valid()
            form.add_error(None, str(error.message))
            status = 409
        else:
            messages.success(request, _("签约团队已保存。"))
            return redirect("family_doctors:team", public_id=team.public_id)
    return render(
        request,
        "family_doctors/team_form.html",
        {"form": form, "team": team, "institution": team.institution},
        status=status,
    )


@fd_view
@require_http_methods(["GET", "POST"])
def team_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A team: its members (current and history), its coverage, the add-member form for its admins."""
    actor = request.user
    team = selectors.team_get_for(actor, public_id)
    manages = policies.can_manage_teams_of(actor, team.institution)
    form = None
    if manages and team.is_active:
        form = forms.MemberAddForm(request.POST or None, candidates=selectors.member_candidates(team))
        if request.method == "POST" and form.is_valid():
            try:
                services.team_member_add(
                    actor=actor,
                    team=team,
                    user=form.pick("user"),
                    role=form.cleaned_data["role"],
                    is_leader=form.cleaned_data.get("is_leader", False),
                    joined_on=form.cleaned_data.get("joined_on"),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("已添加团队成员。"))
                return redirect("family_doctors:team", public_id=team.public_id)
    elif request.method == "POST":
        require(False)
    members = list(selectors.team_members(team, include_past=True))
    coverage = [row for row in selectors.coverage(actor, by="team") if row.key == str(team.pk)]
    return render(
        request,
        "family_doctors/team_detail.html",
        {
            "team": team,
            "current": [m for m in members if m.left_on is None],
            "past": [m for m in members if m.left_on is not None],
            "form": form,
            "manages": manages,
            "sees_residents": selectors.sees_residents(actor, team),
            "may_sign": selectors.may_sign_for(actor, team),
            "coverage": coverage[0] if coverage else None,
        },
    )


@fd_view
@require_POST
def team_member_action(
    request: HttpRequest, public_id: uuid.UUID, user_id: uuid.UUID, action: str
) -> HttpResponse:
    """Remove a member or make them the leader."""
    actor = request.user
    team = selectors.team_get_for(actor, public_id)
    require(policies.can_manage_teams_of(actor, team.institution))
    member = next((m for m in selectors.team_members(team) if m.user.public_id == user_id), None)
    if member is None:
        raise NotFound("member")
    try:
        if action == "remove":
            services.team_member_remove(actor=actor, team=team, user=member.user)
            messages.success(request, _("已移出团队成员（保留历史记录）。"))
        elif action == "leader":
            services.team_set_leader(actor=actor, team=team, user=member.user)
            messages.success(request, _("已指定新的团队长。"))
        else:
            raise NotFound("action")
    except Invalid as error:
        for texts in error.as_text().values():
            for text in texts:
                messages.error(request, text)
    return redirect("family_doctors:team", public_id=team.public_id)


# Panel and contracts ---------------------------------------------------------------------------


def _contracts(actor: Any, form: forms.PanelFilterForm, team: CareTeam | None) -> Any:
    """The contracts the filters select; none when the filters cannot run (a search too long), rather
    than every contract under the form's error."""
    contracts = selectors.contract_list(actor, _contract_filters(form, team))
    return contracts.none() if form.is_bound and not form.is_valid() else contracts


def _contract_filters(form: forms.PanelFilterForm, team: CareTeam | None) -> selectors.ContractFilters:
    values = form.cleaned_data if form.is_valid() else {}
    team_id = team.pk if team else None
    if team is None and values.get("team"):
        chosen = form.teams.get(values["team"])
        team_id = chosen.pk if chosen else None
    return selectors.ContractFilters(
        team_id=team_id,
        status=values.get("status") or "active",
        group=values.get("group") or "",
        expiring=bool(values.get("expiring")),
        query=values.get("q") or "",
    )


@fd_view
@require_GET
def team_panel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The team's panel: residents with contracts, priority groups, end dates; filters and search."""
    actor = request.user
    team = selectors.team_get_for(actor, public_id)
    require(selectors.sees_residents(actor, team))
    form = forms.PanelFilterForm(request.GET or None)
    page_obj = paginate(request, _contracts(actor, form, team), PANEL_PAGE_SIZE)
    return render(
        request,
        "family_doctors/contract_list.html",
        {
            "team": team,
            "form": form,
            "page_obj": page_obj,
            "today": timezone.localdate(),
            "soon": timezone.localdate() + datetime.timedelta(days=selectors.EXPIRING_DAYS),
            "may_sign": selectors.may_sign_for(actor, team),
        },
    )


@fd_view
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    """Contracts of every team the actor sees residents of."""
    actor = request.user
    require(policies.can_use_family_doctors(actor))
    teams = [
        t for t in selectors.team_list(actor, include_inactive=True) if selectors.sees_residents(actor, t)
    ]
    form = forms.PanelFilterForm(request.GET or None, teams=teams)
    page_obj = paginate(request, _contracts(actor, form, None), PANEL_PAGE_SIZE)
    return render(
        request,
        "family_doctors/contract_list.html",
        {
            "team": None,
            "form": form,
            "page_obj": page_obj,
            "today": timezone.localdate(),
            "soon": timezone.localdate() + datetime.timedelta(days=selectors.EXPIRING_DAYS),
            "may_sign": selectors.signing_teams(actor).exists(),
        },
    )


@fd_view
@require_http_methods(["GET", "POST"])
def contract_sign(request: HttpRequest) -> HttpResponse:
    """Sign a resident: choose the team, find (or register) the resident, package, term, groups."""
    actor = request.user
    teams = list(selectors.signing_teams(actor))
    require(bool(teams))
    team = teams[0]
    wanted = request.POST.get("team") or request.GET.get("team")
    for candidate in teams:
        if str(candidate.public_id) == wanted:
            team = candidate
    person = None
    person_id = _uuid(request.POST.get("person") or request.GET.get("person"))
    if person_id is not None:
        person = selectors.grid_resident_get(actor, team, person_id)
    registering = person is None and (request.GET.get("new") == "1" or request.POST.get("new") == "1")
    search = forms.ResidentSearchForm(request.GET or None)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    found = (
        selectors.residents_of_grid(actor, team, query=query, limit=RESIDENT_SEARCH_LIMIT + 1)
        if query and person is None
        else []
    )
    # One more than shown tells whether more residents match (the page then asks to narrow the search).
    more_found = len(found) > RESIDENT_SEARCH_LIMIT
    found = found[:RESIDENT_SEARCH_LIMIT]
    signed = selectors.active_contracts_of([p.pk for p in found]) if found else {}
    packages = list(selectors.packages_for_team(team))
    existing = selectors.active_contract_for(person) if person is not None else None
    initial = {"priority_groups": selectors.suggested_groups(person)} if person is not None else {}
    basic = next((p for p in packages if p.kind == "basic"), None)
    if basic is not None:
        initial["package"] = str(basic.public_id)
    form = forms.SignForm(request.POST or None, packages=packages, registering=registering, initial=initial)
    if request.method == "POST":
        if person is None and not registering:
            messages.error(request, _("请先查找并选择签约居民，或登记新居民。"))
        elif form.is_valid():
            sign = {
                "package": form.pick("package"),
                "starts_on": form.cleaned_data.get("starts_on"),
                "ends_on": form.cleaned_data.get("ends_on"),
                "priority_groups": form.cleaned_data.get("priority_groups") or [],
                "notes": form.cleaned_data.get("notes") or "",
            }
            try:
                if registering:
                    contract = services.contract_sign_new_resident(
                        actor=actor, team=team, resident=form.resident_data(), **sign
                    )
                else:
                    contract = services.contract_sign(actor=actor, team=team, person=person, **sign)
            except Invalid as error:
                add_domain_errors(
                    form,
                    error,
                    field_map={
                        "name": "new_name",
                        "id_number": "new_id_number",
                        "gender": "new_gender",
                        "birth_date": "new_birth_date",
                        "phone": "new_phone",
                        "address": "new_address",
                    },
                )
            else:
                messages.success(request, _("签约成功，协议编号 %(number)s。") % {"number": contract.number})
                return redirect("family_doctors:contract", public_id=contract.public_id)
    return render(
        request,
        "family_doctors/sign.html",
        {
            "teams": teams,
            "team": team,
            "person": person,
            "registering": registering,
            "search": search,
            "query": query,
            "found": [(p, signed.get(p.pk), selectors.suggested_groups(p)) for p in found],
            "more_found": more_found,
            "form": form,
            "existing": existing,
            "no_packages": not packages,
        },
    )


@fd_view
@require_http_methods(["GET", "POST"])
def contract_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A contract: resident, team, package, terms, groups; renew and terminate for signing members."""
    actor = request.user
    contract = selectors.contract_get_for(actor, public_id)
    may_act = selectors.may_sign_for(actor, contract.team)
    packages = list(selectors.packages_for_team(contract.team))
    groups = [g.group for g in contract.priority_groups.all()]
    renew = forms.RenewForm(
        request.POST if request.POST.get("action") == "renew" else None,
        packages=packages,
        initial={
            "package": str(contract.package.public_id),
            "priority_groups": groups,
            "version": contract.version,
        },
    )
    terminate = forms.TerminateForm(
        request.POST if request.POST.get("action") == "terminate" else None,
        initial={"version": contract.version},
    )
    status, conflict = 200, ""
    if request.method == "POST":
        require(may_act)
        try:
            if request.POST.get("action") == "renew" and renew.is_valid():
                services.contract_renew(
                    actor=actor,
                    contract=contract,
                    package=renew.pick("package"),
                    ends_on=renew.cleaned_data.get("ends_on"),
                    priority_groups=renew.cleaned_data.get("priority_groups") or [],
                    expected_version=renew.cleaned_data["version"],
                )
                messages.success(request, _("已续约。"))
                return redirect("family_doctors:contract", public_id=contract.public_id)
            if request.POST.get("action") == "terminate" and terminate.is_valid():
                services.contract_terminate(
                    actor=actor,
                    contract=contract,
                    reason=terminate.cleaned_data["reason"],
                    note=terminate.cleaned_data.get("note") or "",
                    on=terminate.cleaned_data.get("on"),
                    expected_version=terminate.cleaned_data["version"],
                )
                messages.success(request, _("已解约。"))
                return redirect("family_doctors:contract", public_id=contract.public_id)
        except Invalid as error:
            add_domain_errors(renew if request.POST.get("action") == "renew" else terminate, error)
        except Conflict as error:
            # Keep what the user typed, over the newer contract: a second submit, after checking, acts on it.
            contract = selectors.contract_get_for(actor, public_id)
            groups = [g.group for g in contract.priority_groups.all()]
            posted = request.POST.copy()
            posted["version"] = str(contract.version)
            if request.POST.get("action") == "renew":
                renew = forms.RenewForm(posted, packages=packages, initial={"version": contract.version})
                acted: Any = renew
            else:
                terminate = forms.TerminateForm(posted, initial={"version": contract.version})
                acted = terminate
            acted.is_valid()
            conflict = str(error.message)
            acted.add_error(None, conflict)
            status = 409
    today = timezone.localdate()
    renewable = contract.status == "expired" or (
        contract.is_active and (contract.ends_on - today).days <= selectors.RENEWAL_WINDOW_DAYS
    )
    if conflict and not (renewable if request.POST.get("action") == "renew" else contract.is_active):
        # The form is no longer offered (renewed or ended meanwhile): say why above the page instead.
        messages.error(request, conflict)
    return render(
        request,
        "family_doctors/contract_detail.html",
        {
            "contract": contract,
            "groups": [PriorityGroup(g).label for g in groups],
            "terms": list(selectors.contract_terms(contract)),
            "members": list(selectors.team_members(contract.team)),
            "may_act": may_act,
            "renew": renew if may_act and renewable else None,
            "terminate": terminate if may_act and contract.is_active else None,
            "renew_window": selectors.RENEWAL_WINDOW_DAYS,
        },
        status=status,
    )


@fd_view
@require_GET
def contract_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The signed agreement as a PDF."""
    actor = request.user
    contract = selectors.contract_get_for(actor, public_id)
    content = documents.contract_pdf(
        contract,
        list(selectors.team_members(contract.team)),
        [g.group for g in contract.priority_groups.all()],
        list(selectors.contract_terms(contract)),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.number}.pdf"'
    return response


# Packages --------------------------------------------------------------------------------------


@fd_view
@require_http_methods(["GET", "POST"])
def package_list(request: HttpRequest) -> HttpResponse:
    """The consortium's packages; the office adds packages here."""
    actor = request.user
    require(policies.can_use_family_doctors(actor))
    consortia = selectors.office_consortia(actor)
    form = forms.PackageForm(request.POST or None, consortia=consortia) if consortia else None
    if request.method == "POST":
        require(form is not None)
        assert form is not None
        if form.is_valid():
            try:
                services.package_create(
                    actor=actor,
                    consortium=form.consortia[form.cleaned_data["consortium"]],
                    **form.data_for_service(),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("服务包已保存。"))
                return redirect("family_doctors:packages")
    return render(
        request,
        "family_doctors/packages.html",
        {"packages": list(selectors.package_list(actor)), "form": form},
    )


@fd_view
@require_http_methods(["GET", "POST"])
def package_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Change a package (the office)."""
    actor = request.user
    package = selectors.package_get_for(actor, public_id)
    require(policies.can_manage_packages(actor, package.consortium))
    form = forms.PackageForm(
        request.POST or None,
        initial={
            "name": package.name,
            "kind": package.kind,
            "annual_price": package.annual_price,
            "target_groups": package.target_groups,
            "contents": package.contents,
            "is_active": package.is_active,
            "seen_updated_at": package.updated_at.isoformat(),
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.package_update(
                actor=actor, package=package, seen_updated_at=form.seen(), **form.data_for_service()
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            # Keep what the user typed; a second save, after checking, is made over the newer package.
            package.refresh_from_db()
            posted = request.POST.copy()
            posted["seen_updated_at"] = package.updated_at.isoformat()
            form = forms.PackageForm(posted)
            form.is_valid()
            form.add_error(None, str(error.message))
            status = 409
        else:
            messages.success(request, _("服务包已保存。"))
            return redirect("family_doctors:packages")
    return render(
        request, "family_doctors/package_form.html", {"form": form, "package": package}, status=status
    )


# Coverage --------------------------------------------------------------------------------------

COVERAGE_UNITS = (("team", "按团队"), ("institution", "按机构"), ("consortium", "按医联体"))


@fd_view
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    """Coverage of priority groups per team, institution or consortium; ``?format=xlsx`` exports it."""
    actor = request.user
    require(policies.can_view_coverage(actor))
    by = request.GET.get("by", "team")
    if by not in dict(COVERAGE_UNITS):
        by = "team"
    rows = selectors.coverage(actor, by=by)
    labels = {"team": _("按团队"), "institution": _("按机构"), "consortium": _("按医联体")}
    if request.GET.get("format") == "xlsx":
        title = _("家庭医生签约重点人群覆盖（%(unit)s，%(date)s）") % {
            "unit": labels[by],
            "date": timezone.localdate(),
        }
        response = HttpResponse(
            documents.coverage_workbook(rows, title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="family-doctor-coverage-{by}.xlsx"'
        return response
    registry_missing = any(g.note == "no_registry" for row in rows for g in row.groups)
    return render(
        request,
        "family_doctors/coverage.html",
        {
            "rows": rows,
            "by": by,
            "units": [(key, labels[key]) for key, _label in COVERAGE_UNITS],
            "groups": list(PriorityGroup),
            "registry_missing": registry_missing,
            "export_url": f"{reverse('family_doctors:coverage')}?by={by}&format=xlsx",
        },
    )
