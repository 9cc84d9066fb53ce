"""Admin of people: read-only, masked. The keyed hash and the ciphertext of ID numbers are never shown.

Searching by ID number is not offered here (it would put the number in the
URL); use the people pages, which look it up by keyed hash and audit reveals.
"""

from __future__ import annotations

from django.contrib import admin

from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin
from yilian.people.models import Person, PersonInstitutionLink


class PersonInstitutionLinkInline(ReadOnlyInline):
    model = PersonInstitutionLink
    fields = ("institution", "reason", "since")
    readonly_fields = fields


@admin.register(Person)
class PersonAdmin(ReadOnlyModelAdmin):
    """Residents and patients, with the masked ID number only."""

    list_display = ("name", "id_number_masked", "gender", "birth_date", "insurance_scheme", "home_grid")
    list_filter = ("gender", "insurance_scheme")
    search_fields = ("name", "name_initials", "phone")
    list_select_related = ("home_grid",)
    fields = (
        "public_id",
        "name",
        "id_number_masked",
        "gender",
        "birth_date",
        "phone",
        "address",
        "address_region",
        "insurance_scheme",
        "home_grid",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    exclude = ("id_number_hash", "id_number_encrypted")
    inlines = (PersonInstitutionLinkInline,)
