"""People UI: search, register, view, edit residents, and reveal a full ID number (audited).

Patient data is need-to-know: every read goes through ``people.selectors``
(scoped to the actor's institutions), every write through ``people.services``.
A resident ID number never appears in a URL, a page (except the one reveal
response) or a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from yilian.accounts.policies import can_view_audit
from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import Conflict, DomainError, Invalid
from yilian.core.ui import record
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors
from yilian.core.ui.live import live_result
from yilian.institutions import selectors as institution_selectors
from yilian.people import forms, policies, selectors, services
from yilian.people.identifiers import parse_resident_id
from yilian.people.models import Person

PAGE_SIZE = 50
# The resident picker lists at most this many matches, then says that more match.
PERSON_OPTIONS_LIMIT = 20


def _posted(request: HttpRequest) -> Any:
    """The POST data on a POST (even when empty), None on a GET."""
    return request.POST if request.method == "POST" else None


def _require_people_access(request: HttpRequest) -> None:
    if not policies.can_view_people(request.user):
        raise PermissionDenied(_("您没有查看居民信息的权限。"))


def _grids(request: HttpRequest) -> Any:
    """Grids to choose a home grid from (without the list page's prefetches)."""
    return institution_selectors.grid_list(request.user).prefetch_related(None)


def _posted_region(request: HttpRequest, form: forms.PersonFieldsForm) -> Any:
    """The address region the user entered (None when blank, not yet posted, malformed or unknown)."""
    code = (getattr(form, "cleaned_data", None) or {}).get("address_region") or ""
    if not code:
        return None
    try:
        return institution_selectors.region_get(request.user, code)
    except DomainError:
        return None


def _county_grids(region: Any) -> Any:
    """Grids of the county of ``region``: the home grids a person living there may have."""
    return institution_selectors.grids_in_areas({institution_selectors.county_prefix(region)})


def _registration_institutions(request: HttpRequest) -> Any:
    """Institutions where the actor may register persons."""
    institutions = institution_selectors.institution_list(request.user)
    if scope_for(request.user).is_platform_admin:
        return institutions
    return institutions.filter(pk__in=policies.institutions_seeing_patients(request.user))


def _with_region(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Replace the address region code by the region. Raises Invalid (field ``address_region``)."""
    code = data.get("address_region") or ""
    if not code:
        data["address_region"] = None
        return data
    try:
        data["address_region"] = institution_selectors.region_get(request.user, code)
    except DomainError as error:
        raise Invalid({"address_region": [_("未找到该行政区划。")]}) from error
    return data


def _person_data(
    request: HttpRequest, form: forms.PersonRegisterForm | forms.PersonEditForm
) -> dict[str, Any] | None:
    """The person's fields (region resolved) when the form and region are valid; else None, every problem on the form.

    The form stops at its own errors and would hide the service's checks (phone, birth date and gender
    against the ID number, ...) until the next submit; those of the fields it accepted are added now.
    """
    valid = form.is_valid()
    data = form.person_data()
    try:
        data = _with_region(request, data)
    except Invalid as error:
        add_domain_errors(form, error)
        data.pop("address_region", None)
        valid = False
    if valid:
        return data
    problems = services.registration_problems(id_number=form.cleaned_data.get("id_number") or "", **data)
    for field, messages_ in problems.items():
        if field in form.fields and not form.has_error(field):
            for message in messages_:
                form.add_error(field, message)
    return None


@sensitive_post_parameters("id_number")
@login_required
@domain_errors
def person_list(request: HttpRequest) -> HttpResponse:
    """Visible persons searched by name, pinyin initials or phone; exact lookup by ID number (POST)."""
    _require_people_access(request)
    search = forms.PersonSearchForm(request.GET or None)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    lookup = forms.IdLookupForm(_posted(request))
    if request.method == "POST" and lookup.is_valid():
        try:
            found = list(selectors.person_list(request.user, id_number=lookup.cleaned_data["id_number"])[:2])
        except Invalid as error:
            add_domain_errors(lookup, error)
        else:
            if found:
                return redirect("people:detail", public_id=found[0].public_id)
            messages.warning(
                request, _("未找到该身份证号对应的居民，或该居民与您所在机构无关联。可以登记新居民。")
            )
            return redirect("people:list")
    people = selectors.person_list(request.user, query=query)
    if search.is_bound and not search.is_valid():
        # A search that cannot run (too long) lists no one, not every resident under its error.
        people = people.none()
    page_obj = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    page_obj.object_list = list(page_obj.object_list)
    for person in page_obj.object_list:
        person.age = services.age_on(person)  # type: ignore[attr-defined]
    return render(
        request,
        "people/person_list.html",
        {"search": search, "lookup": lookup, "page_obj": page_obj, "query": query},
        status=400 if lookup.errors or search.errors else 200,
    )


@sensitive_post_parameters("id_number")
@login_required
@domain_errors
def person_register(request: HttpRequest) -> HttpResponse:
    """Register a person at one of the actor's institutions; a known ID number links the existing person."""
    _require_people_access(request)
    institutions = _registration_institutions(request)
    form = forms.PersonRegisterForm(_posted(request), institutions=institutions, grids=_grids(request))
    data = _person_data(request, form) if request.method == "POST" else None
    if data is not None:
        try:
            person, created = services.person_register(
                actor=request.user,
                institution=form.cleaned_data["institution"],
                id_number=form.cleaned_data["id_number"],
                **data,
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            if created:
                messages.success(request, _("已登记居民 %(name)s。") % {"name": person.name})
            else:
                messages.info(
                    request,
                    _("该身份证号已登记为居民 %(name)s，已将其关联到%(institution)s，未新建档案。")
                    % {"name": person.name, "institution": form.cleaned_data["institution"].name},
                )
            return redirect("people:detail", public_id=person.public_id)
    # A home grid lies in the person's county: the address region's, else the registering institution's.
    # Before either is known, the counties of every institution the user may register at.
    region = _posted_region(request, form) or (
        form.cleaned_data.get("institution").region
        if form.is_bound and form.cleaned_data.get("institution")
        else None
    )
    form.offer_grids(
        _county_grids(region)
        if region is not None
        else institution_selectors.grids_in_areas(
            institution_selectors.institution_county_prefixes(institutions)
        )
    )
    return render(
        request, "people/person_form.html", {"form": form, "person": None}, status=400 if form.errors else 200
    )


def _detail_context(request: HttpRequest, person: Person, reveal_form: forms.RevealForm) -> dict[str, Any]:
    return {
        "person": person,
        "age": services.age_on(person),
        "links": selectors.person_links(person),
        "reveal_form": reveal_form,
        "may_reveal": bool(person.id_number_masked) and policies.can_view_full_id_number(request.user),
        "may_view_history": can_view_audit(request.user),
        "history_query": urlencode({"object_type": "people.person", "object_id": str(person.public_id)}),
        "record_sections": record.sections_for(request, person),
    }


@login_required
@domain_errors
def person_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One person: masked ID number, demographics, contact, insurance, home grid, linked institutions."""
    person = selectors.person_get_for(request.user, public_id)
    return render(request, "people/person_detail.html", _detail_context(request, person, forms.RevealForm()))


@login_required
@domain_errors
def person_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Change a person's details (birth date and gender follow the ID number when there is one)."""
    person = selectors.person_get_for(request.user, public_id)
    initial = {
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "phone": person.phone,
        "address": person.address,
        "address_region": person.address_region.code if person.address_region else "",
        "insurance_scheme": person.insurance_scheme,
        "home_grid": person.home_grid.public_id if person.home_grid else None,
        "seen_updated_at": person.updated_at.isoformat(),
    }
    form = forms.PersonEditForm(
        _posted(request), initial=initial, grids=_grids(request), has_id_number=bool(person.id_number_hash)
    )
    data = _person_data(request, form) if request.method == "POST" else None
    status = 200
    if data is not None:
        try:
            services.person_update(actor=request.user, person=person, seen_updated_at=form.seen(), **data)
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            # Keep what the user typed; a second save, after checking, is made over the newer record.
            person.refresh_from_db()
            posted = request.POST.copy()
            posted["seen_updated_at"] = person.updated_at.isoformat()
            form = forms.PersonEditForm(
                posted, initial=initial, grids=_grids(request), has_id_number=bool(person.id_number_hash)
            )
            form.is_valid()
            form.add_error(None, str(error.message))
            status = 409
        else:
            messages.success(request, _("居民信息已保存。"))
            return redirect("people:detail", public_id=person.public_id)
    if status == 200 and form.errors:
        status = 400
    # The grids of the person's county: of the address region entered, else the one on file, else
    # of the institution that registered them.
    if form.is_bound and "address_region" in getattr(form, "cleaned_data", {}):
        region = _posted_region(request, form)
    else:
        region = person.address_region
    region = region or selectors.registration_region(person)
    form.offer_grids(
        _county_grids(region) if region is not None else institution_selectors.grids_in_areas(())
    )
    return render(request, "people/person_form.html", {"form": form, "person": person}, status=status)


@require_POST
@never_cache
@login_required
@domain_errors
def person_reveal(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Show the full ID number once, to clinical staff who state a purpose; the reveal is audited."""
    person = selectors.person_get_for(request.user, public_id)
    form = forms.RevealForm(request.POST)
    if form.is_valid():
        try:
            number = services.person_reveal_id_number(
                actor=request.user, person=person, purpose=form.cleaned_data["purpose"]
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            return render(request, "people/person_reveal.html", {"person": person, "id_number": number})
    return render(request, "people/person_detail.html", _detail_context(request, person, form), status=400)


@sensitive_post_parameters("q")
@require_POST
@login_required
def person_options(request: HttpRequest) -> HttpResponse:
    """Options of the resident picker: visible persons by name, pinyin initials or (exact) ID number.

    POST, so a typed ID number never lands in a URL or an access log. At most
    ``PERSON_OPTIONS_LIMIT`` persons, then a disabled option asking to narrow the search.
    """
    if not policies.can_view_people(request.user):
        raise PermissionDenied
    query = (request.POST.get("q") or "").strip()[:50]
    persons: list[Person] = []
    message = ""
    if query:
        compact = query.upper()
        looks_like_id = len(compact) in (15, 18) and compact[:-1].isdigit()
        try:
            found = selectors.person_list(
                request.user, **({"id_number": compact} if looks_like_id else {"query": query})
            )
            persons = list(found[: PERSON_OPTIONS_LIMIT + 1])
        except Invalid as error:
            message = next(iter(error.as_text().values()))[0]
        if not persons and not message:
            message = _("没有找到符合条件的患者。")
    return render(
        request,
        "people/_person_options.html",
        {
            "persons": [(p, forms.person_label(p)) for p in persons[:PERSON_OPTIONS_LIMIT]],
            "more": len(persons) > PERSON_OPTIONS_LIMIT,
            "message": message,
        },
    )


@sensitive_post_parameters("id_number")
@require_POST
@login_required
def check_id_number(request: HttpRequest) -> HttpResponse:
    """Live check of a typed resident ID number (POST, so it never lands in a URL or access log).

    Says what the number encodes (birth date, sex, address code) and whether
    the person is already registered where the user can see them.
    """
    if not policies.can_view_people(request.user):
        raise PermissionDenied
    value = (request.POST.get("id_number") or "").strip().upper()
    if not value:
        return live_result(request, ok=True, message="")
    try:
        parsed = parse_resident_id(value)
    except Invalid as error:
        return live_result(request, ok=False, message=error.as_text()["id_number"][0])
    sex = _("男") if parsed.gender == "1" else _("女")
    message = _("出生日期 %(birth)s · %(sex)s · 地址码 %(region)s") % {
        "birth": parsed.birth_date.isoformat(),
        "sex": sex,
        "region": parsed.region_code,
    }
    known = selectors.person_list(request.user, id_number=value).first()
    if known is not None:
        message += " · " + _("已登记：%(name)s") % {"name": known.name}
    return live_result(request, ok=True, message=message)
