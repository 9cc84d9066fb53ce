"""Region boundaries: load official outlines from a GeoJSON file, and hand them to maps.

Boundaries are drawing material only (the cockpit's township and county
maps); nothing looks places up by coordinates, so they are kept as plain
GeoJSON geometries on ``Region.boundary`` and need no GIS extension.

A boundary file is a GeoJSON ``FeatureCollection`` whose features carry the
region's GB/T 2260 code in a property (``code`` unless told otherwise) and a
``Polygon`` or ``MultiPolygon`` geometry in WGS 84 longitude/latitude. The
whole file is checked first; any bad feature rejects it, and nothing is saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid
from yilian.institutions import policies
from yilian.institutions.models import Region, RegionBoundary
from yilian.institutions.services._common import _registry_changed, _require

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
MAX_ERRORS = 50
"""Stop listing problems after this many; the file is rejected either way."""


@dataclass
class BoundaryLoadResult:
    """What a boundary load did: codes whose outline was set, replaced, or left as it was."""

    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _ring_problem(ring: Any) -> str:
    """Why ``ring`` is not a closed linear ring of lon/lat positions ("" when it is)."""
    if not isinstance(ring, list) or len(ring) < 4:
        return _("环至少需要 4 个点")
    for position in ring:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(
                isinstance(number, int | float) and not isinstance(number, bool) for number in position[:2]
            )
        ):
            return _("坐标应为 [经度, 纬度] 数字对")
        longitude, latitude = position[0], position[1]
        if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
            return _("坐标超出范围：经度 %(lon)s，纬度 %(lat)s") % {"lon": longitude, "lat": latitude}
    if list(ring[0][:2]) != list(ring[-1][:2]):
        return _("环的首尾坐标应相同（闭合）")
    return ""


def geometry_problem(geometry: Any) -> str:
    """Why ``geometry`` is not a usable Polygon/MultiPolygon with valid coordinates ("" when it is)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        return _("几何类型应为 Polygon 或 MultiPolygon")
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        return _("缺少坐标")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return _("缺少坐标")
        for ring in polygon:
            problem = _ring_problem(ring)
            if problem:
                return problem
    return ""


def _clean_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    """Only type and coordinates (lon/lat, dropping altitudes and foreign members), to keep rows small."""

    def ring(points: list[Any]) -> list[list[float]]:
        return [[float(point[0]), float(point[1])] for point in points]

    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in geometry["coordinates"]]}
    return {
        "type": "MultiPolygon",
        "coordinates": [[ring(r) for r in polygon] for polygon in geometry["coordinates"]],
    }


def parse_feature_collection(
    content: bytes | str | dict[str, Any], code_property: str = "code"
) -> dict[str, Any]:
    """Check a GeoJSON FeatureCollection and return code → cleaned geometry.

    Raises Invalid with every problem (``file`` for the file as a whole,
    ``feature N`` for a feature) — unreadable JSON, no features, a missing
    or duplicate code, a code that is not a known region, a geometry of the
    wrong type or with coordinates out of range.
    """
    if isinstance(content, dict):
        data: Any = content
    else:
        try:
            data = json.loads(content.decode("utf-8-sig") if isinstance(content, bytes) else content)
        except (UnicodeDecodeError, ValueError) as error:
            raise Invalid({"file": [_("不是有效的 GeoJSON 文件：%(error)s") % {"error": error}]}) from error
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise Invalid({"file": [_("文件应为 GeoJSON FeatureCollection")]})
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise Invalid({"file": [_("文件中没有任何要素（feature）")]})
    errors: dict[str, list[str]] = {}
    geometries: dict[str, dict[str, Any]] = {}
    for number, feature in enumerate(features, start=1):
        if len(errors) >= MAX_ERRORS:
            break
        key = _("第 %(n)s 个要素") % {"n": number}
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = str((properties or {}).get(code_property) or "").strip()
        if not code:
            errors[key] = [_("缺少区划代码属性“%(name)s”") % {"name": code_property}]
            continue
        if code in geometries:
            errors[key] = [_("区划代码 %(code)s 重复") % {"code": code}]
            continue
        problem = geometry_problem(feature.get("geometry"))
        if problem:
            errors[key] = [f"{code}：{problem}"]
            continue
        geometries[code] = _clean_geometry(feature["geometry"])
    known = set(Region.objects.filter(code__in=list(geometries)).values_list("code", flat=True))
    for code in sorted(set(geometries) - known):
        errors.setdefault("file", []).append(_("未知的区划代码：%(code)s") % {"code": code})
    if errors:
        raise Invalid(errors)
    return geometries


def boundaries_load(
    *, actor: Any, content: bytes | str | dict[str, Any], code_property: str = "code"
) -> BoundaryLoadResult:
    """Set the boundaries of the regions named in a GeoJSON FeatureCollection (all or nothing).

    Only platform administrators load boundaries. Writes the ``RegionBoundary``
    of every feature's region in one transaction with one audit event
    (``region.boundaries_load``) on the highest region loaded, none when
    every boundary is already as given. Raises
    NotAllowed, Invalid (see ``parse_feature_collection``).
    """
    _require(policies.can_manage_regions(actor))
    geometries = parse_feature_collection(content, code_property)
    result = BoundaryLoadResult()
    with transaction.atomic():
        regions = list(Region.objects.select_for_update().filter(code__in=list(geometries)).order_by("code"))
        current = {
            boundary.region_id: boundary
            for boundary in RegionBoundary.objects.select_for_update().filter(region__in=regions)
        }
        created, replaced = [], []
        for region in regions:
            geometry = geometries[region.code]
            boundary = current.get(region.pk)
            if boundary is None:
                created.append(RegionBoundary(region=region, geometry=geometry))
                result.created.append(region.code)
            elif boundary.geometry == geometry:
                result.unchanged.append(region.code)
            else:
                boundary.geometry = geometry
                replaced.append(boundary)
                result.replaced.append(region.code)
        if not created and not replaced:
            # Nothing changed is nothing to audit: a re-run of the demo or a repeated upload stays silent.
            return result
        RegionBoundary.objects.bulk_create(created, batch_size=200)
        RegionBoundary.objects.bulk_update(replaced, ["geometry", "updated_at"], batch_size=200)
        _registry_changed()
        top = min(regions, key=lambda region: (len(region.code), region.code))
        record_event(
            actor=actor,
            action="region.boundaries_load",
            obj=top,
            details={
                "created": result.created,
                "replaced": result.replaced,
                "unchanged": len(result.unchanged),
            },
            region_code=top.code,
        )
    return result


def boundary_features(regions: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the given regions that have a boundary (``name``, ``code``, ``id``).

    ``regions`` is an iterable of Region fetched with their boundary
    (``map_regions``); regions without one are left out. No query of its own.
    """
    features = []
    for region in regions:
        boundary = getattr(region, "boundary", None)  # a missing one-to-one raises AttributeError
        if boundary is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"name": region.name, "code": region.code, "id": region.pk},
                "geometry": boundary.geometry,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def map_regions(parent_code: str) -> list[Region]:
    """The direct children of region ``parent_code`` that have a boundary, with it, by code (one query).

    For maps: a county's townships, a prefecture's counties. Region outlines
    are public reference data, so no actor is needed.
    """
    return list(
        Region.objects.filter(parent__code=parent_code, boundary__isnull=False)
        .select_related("boundary")
        .only("pk", "code", "name", "boundary__geometry")
        .order_by("code")
    )
