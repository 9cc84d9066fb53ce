"""Writes of the registry. Each public function: policy check, validation, one transaction, audit.

Every function takes the acting user as ``actor`` and raises the project's
exceptions: ``NotAllowed`` (403), ``Invalid`` (400, field messages),
``Conflict`` (409, a concurrent change won), ``NotFound`` (404).
"""

from __future__ import annotations

from yilian.institutions.services._common import (
    AGREEMENT_FIELDS,
    BODY_FIELDS,
    CONSORTIUM_FIELDS,
    DEPARTMENT_FIELDS,
    GRID_FIELDS,
    INSTITUTION_FIELDS,
    MEMBER_FIELDS,
)
from yilian.institutions.services.consortia import (
    consortium_create,
    consortium_update,
    member_add,
    member_remove,
    member_update,
)
from yilian.institutions.services.governance import (
    agreement_create,
    agreement_update,
    management_body_delete,
    management_body_save,
)
from yilian.institutions.services.grids import (
    grid_assign,
    grid_create,
    grid_unassign,
    grid_update,
)
from yilian.institutions.services.institutions import (
    default_may_serve_across_grids,
    department_create,
    department_update,
    institution_create,
    institution_update,
)
from yilian.institutions.services.regions import (
    RegionImportResult,
    region_create,
    region_import_csv,
)

__all__ = [
    "AGREEMENT_FIELDS",
    "BODY_FIELDS",
    "CONSORTIUM_FIELDS",
    "DEPARTMENT_FIELDS",
    "GRID_FIELDS",
    "INSTITUTION_FIELDS",
    "MEMBER_FIELDS",
    "RegionImportResult",
    "agreement_create",
    "agreement_update",
    "consortium_create",
    "consortium_update",
    "default_may_serve_across_grids",
    "department_create",
    "department_update",
    "grid_assign",
    "grid_create",
    "grid_unassign",
    "grid_update",
    "institution_create",
    "institution_update",
    "management_body_delete",
    "management_body_save",
    "member_add",
    "member_remove",
    "member_update",
    "region_create",
    "region_import_csv",
]
