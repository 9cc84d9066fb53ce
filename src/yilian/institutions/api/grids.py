"""Grid API: the region plan's grids, which consortium serves each, and coverage."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.schema import ErrorSerializer
from yilian.core.api.views import ServiceViewSet
from yilian.institutions import selectors, services
from yilian.institutions.api import serializers as s
from yilian.institutions.api.serializers import GridAssignmentSerializer, GridDetailSerializer, GridSerializer
from yilian.institutions.models import Grid

GRIDS = ["grids"]


@extend_schema(tags=GRIDS)
class GridViewSet(ServiceViewSet):
    """Grids: townships and villages served by one city group or county community at a time."""

    serializer_class = GridSerializer
    error_statuses = (400, 401, 403, 404, 409)

    def _detail(self, grid: Grid, status: int = 200) -> Response:
        return self.rendered(
            grid,
            GridDetailSerializer,
            status=status,
            areas=list(selectors.grid_areas(grid)),
            assignments=list(selectors.grid_assignment_history(grid)),
        )

    @extend_schema(parameters=[s.GridQuerySerializer], responses={200: GridSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Grids with their current consortium and number of areas."""
        params = self.query(s.GridQuerySerializer)
        grids = selectors.grid_list(
            self.actor,
            query=params.get("q", ""),
            within=params.get("within", ""),
            consortium=params.get("consortium"),
        )
        return self.paginated(grids, GridSerializer)

    @extend_schema(responses={200: GridDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One grid with its areas and assignment history."""
        return self._detail(selectors.grid_get(self.actor, self.object_id()))

    @extend_schema(request=s.GridCreateSerializer, responses={201: GridDetailSerializer})
    def create(self, request: Request) -> Response:
        """Plan a grid (regulators inside their region, platform administrators)."""
        data = self.payload(s.GridCreateSerializer)
        grid = services.grid_create(
            actor=self.actor,
            region=data["region"],
            code=data["code"],
            name=data["name"],
            area_codes=data.get("area_codes", []),
            population=data.get("population"),
            description=data.get("description", ""),
        )
        return self._detail(grid, status=201)

    @extend_schema(request=s.GridUpdateSerializer, responses={200: GridDetailSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Rename a grid or replace the areas it covers."""
        grid = selectors.grid_get(self.actor, self.object_id())
        data = self.payload(s.GridUpdateSerializer, partial=True)
        grid = services.grid_update(actor=self.actor, grid=grid, **data)
        return self._detail(grid)

    @extend_schema(request=s.GridAssignSerializer, responses={201: GridAssignmentSerializer})
    def assign(self, request: Request, public_id: str) -> Response:
        """Make a consortium responsible for the grid; ``replace`` hands over from the current one."""
        grid = selectors.grid_get(self.actor, self.object_id())
        data = self.payload(s.GridAssignSerializer)
        assignment = services.grid_assign(
            actor=self.actor,
            grid=grid,
            consortium=data["consortium"],
            assigned_from=data.get("assigned_from"),
            replace=data["replace"],
        )
        return self.rendered(assignment, GridAssignmentSerializer, status=201)

    @extend_schema(request=s.GridUnassignSerializer, responses={200: GridAssignmentSerializer})
    def unassign(self, request: Request, public_id: str) -> Response:
        """End the current consortium's responsibility for the grid."""
        grid = selectors.grid_get(self.actor, self.object_id())
        data = self.payload(s.GridUnassignSerializer)
        assignment = services.grid_unassign(actor=self.actor, grid=grid, assigned_to=data.get("assigned_to"))
        return self.rendered(assignment, GridAssignmentSerializer)


@extend_schema(tags=GRIDS)
class CoverageViewSet(ServiceViewSet):
    """Coverage of a region by grids and consortia (regulators and platform administrators)."""

    serializer_class = s.CoverageSerializer

    @extend_schema(
        parameters=[s.CoverageQuerySerializer], responses={200: s.CoverageSerializer, 403: ErrorSerializer}
    )
    def retrieve(self, request: Request) -> Response:
        """Townships and villages in no grid, grids without a consortium, institutions in no consortium."""
        region = self.query(s.CoverageQuerySerializer)["region"]
        return self.rendered(selectors.coverage_report(self.actor, region), s.CoverageSerializer)
