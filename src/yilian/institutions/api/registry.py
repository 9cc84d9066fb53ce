"""Registry API: regions, institutions and their departments."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet
from yilian.core.exceptions import Invalid
from yilian.institutions import selectors, services
from yilian.institutions.api import serializers as s
from yilian.institutions.api.serializers import (
    DepartmentSerializer,
    InstitutionSerializer,
    RegionSerializer,
)

REGISTRY = ["registry"]


@extend_schema(tags=REGISTRY)
class RegionViewSet(ServiceViewSet):
    """GB/T 2260 regions and their township / village extensions, addressed by code."""

    serializer_class = RegionSerializer

    @extend_schema(parameters=[s.RegionQuerySerializer], responses={200: RegionSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Regions, searchable by name, pinyin initials or code."""
        params = self.query(s.RegionQuerySerializer)
        regions = selectors.region_list(
            self.actor,
            query=params.get("q", ""),
            level=params.get("level", ""),
            parent_code=params.get("parent", ""),
            within=params.get("within", ""),
        )
        return self.paginated(regions, RegionSerializer)

    @extend_schema(responses={200: RegionSerializer})
    def retrieve(self, request: Request, code: str) -> Response:
        """One region by code."""
        return self.rendered(selectors.region_get(self.actor, code), RegionSerializer)

    @extend_schema(request=RegionSerializer, responses={201: RegionSerializer})
    def create(self, request: Request) -> Response:
        """Create a region (platform administrators). The code is validated against GB/T 2260."""
        data = self.payload(RegionSerializer)
        region = services.region_create(
            actor=self.actor, code=data["code"], name=data.get("name", ""), population=data.get("population")
        )
        return self.rendered(region, RegionSerializer, status=201)

    @extend_schema(
        request={"multipart/form-data": s.RegionImportSerializer},
        responses={200: s.RegionImportResultSerializer},
    )
    def import_csv(self, request: Request) -> Response:
        """Import a CSV region list. Any bad row rejects the whole file with every row's reason."""
        data = self.payload(s.RegionImportSerializer)
        upload = data["file"]
        if upload.size and upload.size > settings.UPLOAD_MAX_BYTES:
            raise Invalid({"file": [_("文件过大。")]})
        result = services.region_import_csv(actor=self.actor, content=upload.read())
        return self.rendered(result, s.RegionImportResultSerializer)


@extend_schema(tags=REGISTRY)
class InstitutionViewSet(ServiceViewSet):
    """Health institutions and their departments."""

    serializer_class = InstitutionSerializer

    @extend_schema(
        parameters=[s.InstitutionQuerySerializer], responses={200: InstitutionSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Institutions, searchable by name, pinyin initials ("xrmyy"), pinyin or credit code."""
        params = self.query(s.InstitutionQuerySerializer)
        institutions = selectors.institution_list(
            self.actor,
            query=params.get("q", ""),
            category=params.get("category", ""),
            within=params.get("within", ""),
            status=params.get("status", ""),
            consortium=params.get("consortium"),
            primary=params.get("primary"),
        )
        return self.paginated(institutions, InstitutionSerializer)

    @extend_schema(responses={200: InstitutionSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One institution's profile."""
        return self.rendered(selectors.institution_get(self.actor, self.object_id()), InstitutionSerializer)

    @extend_schema(request=InstitutionSerializer, responses={201: InstitutionSerializer})
    def create(self, request: Request) -> Response:
        """Register an institution (platform administrators; regulators inside their region)."""
        institution = services.institution_create(actor=self.actor, **self.payload(InstitutionSerializer))
        return self.rendered(institution, InstitutionSerializer, status=201)

    @extend_schema(request=InstitutionSerializer, responses={200: InstitutionSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change the profile (the institution's administrators, its regulators, platform administrators)."""
        institution = selectors.institution_get(self.actor, self.object_id())
        data = self.payload(InstitutionSerializer, partial=True)
        institution = services.institution_update(actor=self.actor, institution=institution, **data)
        return self.rendered(institution, InstitutionSerializer)

    @extend_schema(parameters=[s.DepartmentQuerySerializer], responses={200: DepartmentSerializer(many=True)})
    def departments(self, request: Request, public_id: str) -> Response:
        """The institution's departments."""
        params = self.query(s.DepartmentQuerySerializer)
        institution = selectors.institution_get(self.actor, self.object_id())
        departments = selectors.department_list(
            self.actor, institution, include_inactive=params["include_inactive"]
        )
        return self.paginated(departments, DepartmentSerializer)

    @extend_schema(request=DepartmentSerializer, responses={201: DepartmentSerializer})
    def create_department(self, request: Request, public_id: str) -> Response:
        """Add a department (the institution's administrators)."""
        institution = selectors.institution_get(self.actor, self.object_id())
        data = self.payload(DepartmentSerializer)
        department = services.department_create(actor=self.actor, institution=institution, **data)
        return self.rendered(department, DepartmentSerializer, status=201)


@extend_schema(tags=REGISTRY)
class DepartmentViewSet(ServiceViewSet):
    """One department, by public id."""

    serializer_class = DepartmentSerializer

    @extend_schema(responses={200: DepartmentSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One department."""
        return self.rendered(selectors.department_get(self.actor, self.object_id()), DepartmentSerializer)

    @extend_schema(request=DepartmentSerializer, responses={200: DepartmentSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change or deactivate a department (the institution's administrators)."""
        department = selectors.department_get(self.actor, self.object_id())
        data = self.payload(DepartmentSerializer, partial=True)
        department = services.department_update(actor=self.actor, department=department, **data)
        return self.rendered(department, DepartmentSerializer)
