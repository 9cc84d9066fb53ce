"""Forms of the registry UI. They only shape input; every rule is checked by ``services``.

Choice fields run over selector querysets and carry public ids or region
codes, never integer primary keys. Filter forms turn a query string into
selector keyword arguments.
"""

from __future__ import annotations

from yilian.institutions.forms.consortia import (
    AgreementForm,
    ConsortiumEditForm,
    ConsortiumForm,
    ManagementBodyForm,
    MemberAddForm,
    MemberEditForm,
    MemberRemoveForm,
    PartiesField,
    member_institutions,
    parent_choices,
)
from yilian.institutions.forms.fields import (
    IDEOGRAPHIC_SPACE,
    InstitutionPickerField,
    MemberChoiceField,
    RegionCodeField,
    RegionCodeInput,
    institution_label,
    region_label,
    upper_region_choices,
)
from yilian.institutions.forms.filters import (
    ConsortiumFilterForm,
    CoverageForm,
    GridFilterForm,
    InstitutionFilterForm,
    RegionFilterForm,
    coverage_region_choices,
    grid_consortia,
)
from yilian.institutions.forms.grids import (
    GridAssignForm,
    GridForm,
    GridRegionForm,
    GridUnassignForm,
    plannable_regions,
)
from yilian.institutions.forms.institutions import (
    DepartmentForm,
    InstitutionCreateForm,
    InstitutionForm,
    RegionCreateForm,
    RegionImportForm,
)

__all__ = [
    "IDEOGRAPHIC_SPACE",
    "AgreementForm",
    "ConsortiumEditForm",
    "ConsortiumFilterForm",
    "ConsortiumForm",
    "CoverageForm",
    "DepartmentForm",
    "GridAssignForm",
    "GridFilterForm",
    "GridForm",
    "GridRegionForm",
    "GridUnassignForm",
    "InstitutionCreateForm",
    "InstitutionFilterForm",
    "InstitutionForm",
    "InstitutionPickerField",
    "ManagementBodyForm",
    "MemberAddForm",
    "MemberChoiceField",
    "MemberEditForm",
    "MemberRemoveForm",
    "PartiesField",
    "RegionCodeField",
    "RegionCodeInput",
    "RegionCreateForm",
    "RegionFilterForm",
    "RegionImportForm",
    "coverage_region_choices",
    "grid_consortia",
    "institution_label",
    "member_institutions",
    "parent_choices",
    "plannable_regions",
    "region_label",
    "upper_region_choices",
]
