"""Synthetic region outlines for the demo's maps — NOT real boundaries.

The cockpit draws townships and counties from their ``RegionBoundary``. The
official outlines (民政部 / 自然资源部 standard maps) are not redistributable
with the code, so the demo makes up plausible shapes instead; a real
deployment loads the official ones with ``yilian load-boundaries FILE.geojson``.

How the shapes are made (pure Python, deterministic, no dependency):

* the prefecture is a wobbly star-shaped outline around 六安 (≈116.1°E, 31.6°N);
* its three county-level divisions (金寨县, 裕安区, 金安区) are the Voronoi cells
  of three seats placed roughly where the real seats are, clipped to it;
* 金寨县's townships are the Voronoi cells of deterministic township centres
  (a sunflower spiral inside the county, the county seat 梅山镇 near the
  middle), clipped to the county's cell — so the townships tile the county
  exactly and the county outline is their union.

Distances are measured on a plane with longitudes shrunk by cos(latitude),
so cells look right on a map.
"""

from __future__ import annotations

import math
from typing import Any

from yilian.demo.content import COUNTY_CODE, JINAN_CODE, TOWNSHIPS, YUAN_CODE
from yilian.institutions.boundaries import BoundaryLoadResult, boundaries_load

Point = tuple[float, float]

CENTRE: Point = (116.12, 31.62)
"""Middle of the synthetic prefecture (lon, lat)."""
SHRINK = math.cos(math.radians(31.6))
"""Longitude degrees are this much shorter than latitude degrees at 六安's latitude."""
SEATS: dict[str, Point] = {
    COUNTY_CODE: (115.82, 31.42),
    YUAN_CODE: (116.27, 31.93),
    JINAN_CODE: (116.62, 31.72),
}
"""Seats of the county-level divisions; the cells around them become their outlines."""
DIGITS = 4
"""Coordinates kept to 4 decimals (≈10 m), which keeps each township's outline small."""


def _to_plane(point: Point) -> Point:
    return ((point[0] - CENTRE[0]) * SHRINK, point[1] - CENTRE[1])


def _from_plane(point: Point) -> Point:
    return (round(point[0] / SHRINK + CENTRE[0], DIGITS), round(point[1] + CENTRE[1], DIGITS))


def prefecture_outline(vertices: int = 72) -> list[Point]:
    """The prefecture's outline on the plane: a radius wobbling with a few fixed harmonics."""
    points = []
    for index in range(vertices):
        angle = 2 * math.pi * index / vertices
        radius = 0.52 * (
            1
            + 0.12 * math.sin(3 * angle + 0.7)
            + 0.07 * math.cos(5 * angle + 1.9)
            + 0.04 * math.sin(9 * angle)
        )
        points.append((radius * math.cos(angle) * 1.15, radius * math.sin(angle)))
    return points


def clip(polygon: list[Point], site: Point, other: Point) -> list[Point]:
    """The part of ``polygon`` nearer to ``site`` than to ``other`` (Sutherland–Hodgman, one half-plane)."""
    # Points p with (p - m)·(other - site) <= 0, m the midpoint, are nearer to site.
    mx, my = (site[0] + other[0]) / 2, (site[1] + other[1]) / 2
    dx, dy = other[0] - site[0], other[1] - site[1]

    def side(point: Point) -> float:
        return (point[0] - mx) * dx + (point[1] - my) * dy

    result: list[Point] = []
    for index, current in enumerate(polygon):
        previous = polygon[index - 1]
        current_in, previous_in = side(current) <= 0, side(previous) <= 0
        if current_in != previous_in:
            a, b = side(previous), side(current)
            t = a / (a - b)
            result.append(
                (previous[0] + t * (current[0] - previous[0]), previous[1] + t * (current[1] - previous[1]))
            )
        if current_in:
            result.append(current)
    return result


def voronoi_cells(outline: list[Point], sites: list[Point]) -> list[list[Point]]:
    """Each site's cell: the part of ``outline`` nearer to it than to any other site."""
    cells = []
    for index, site in enumerate(sites):
        cell = outline
        for other_index, other in enumerate(sites):
            if other_index != index and cell:
                cell = clip(cell, site, other)
        cells.append(cell)
    return cells


def contains(polygon: list[Point], point: Point) -> bool:
    """Whether ``point`` is inside ``polygon`` (ray casting)."""
    inside = False
    x, y = point
    for index, (x1, y1) in enumerate(polygon):
        x2, y2 = polygon[index - 1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def centroid(polygon: list[Point]) -> Point:
    """The area centroid of a simple polygon."""
    area = cx = cy = 0.0
    for index, (x1, y1) in enumerate(polygon):
        x0, y0 = polygon[index - 1]
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return (cx / (3 * area), cy / (3 * area))


def township_sites(county: list[Point], count: int) -> list[Point]:
    """``count`` deterministic centres inside ``county``: its centroid (the county seat) first, then points of
    a sunflower spiral around it that fall inside the county, evenly picked."""
    middle = centroid(county)
    xs, ys = [p[0] for p in county], [p[1] for p in county]
    reach = max(max(xs) - min(xs), max(ys) - min(ys)) / 2
    golden = math.pi * (3 - math.sqrt(5))
    steps = count * 6
    inside = []
    for step in range(1, steps + 1):
        radius = reach * math.sqrt(step / steps)
        candidate = (
            middle[0] + radius * math.cos(step * golden),
            middle[1] + radius * math.sin(step * golden),
        )
        if contains(county, candidate):
            inside.append(candidate)
    if len(inside) < count - 1:
        raise RuntimeError("could not place township centres")
    stride = len(inside) / (count - 1)
    return [middle] + [inside[int(index * stride)] for index in range(count - 1)]


def _polygon(points: list[Point]) -> dict[str, Any]:
    ring = [list(_from_plane(point)) for point in points]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def demo_feature_collection() -> dict[str, Any]:
    """The synthetic outlines as a GeoJSON FeatureCollection (``code`` property): 3 county-level divisions
    and the 18 townships of 金寨县. Pure computation, same result every time."""
    codes = list(SEATS)
    seats = [_to_plane(SEATS[code]) for code in codes]
    counties = dict(zip(codes, voronoi_cells(prefecture_outline(), seats), strict=True))
    county = counties[COUNTY_CODE]
    sites = township_sites(county, len(TOWNSHIPS))
    features = [
        {"type": "Feature", "properties": {"code": code, "synthetic": True}, "geometry": _polygon(cell)}
        for code, cell in counties.items()
    ]
    for township, cell in zip(TOWNSHIPS, voronoi_cells(county, sites), strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {"code": township.code, "synthetic": True},
                "geometry": _polygon(cell),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def seed_boundaries(*, actor: Any) -> BoundaryLoadResult:
    """Load the synthetic outlines through the registry's boundary loader (one transaction, one audit event).

    ``actor`` is a platform administrator. Idempotent: a second run leaves every outline unchanged.
    """
    return boundaries_load(actor=actor, content=demo_feature_collection())
