"""Writes of grids: their areas and the consortium that serves each."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yilian.core.audit import changed, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid
from yilian.institutions import policies
from yilian.institutions.choices import (
    ConsortiumStatus,
    RegionLevel,
)
from yilian.institutions.models import (
    Consortium,
    Grid,
    GridArea,
    GridAssignment,
    Region,
)
from yilian.institutions.services._common import (
    GRID_FIELDS,
    _raise_if,
    _require,
    _set_name,
    _today,
)


def _grid_areas(
    region: Region, area_codes: Iterable[str], grid: Grid | None
) -> tuple[list[Region], list[str]]:
    codes = sorted({code.strip() for code in area_codes if code and code.strip()})
    areas = {area.code: area for area in Region.objects.filter(code__in=codes)}
    errors: list[str] = []
    for code in codes:
        area = areas.get(code)
        if area is None:
            errors.append(_("区划 %(code)s 不存在。") % {"code": code})
        elif area.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
            errors.append(_("%(name)s 不是乡镇（街道）或村（居）。") % {"name": area.name})
        elif not area.code.startswith(region.prefix):
            errors.append(_("%(name)s 不在网格所属区域内。") % {"name": area.name})
    taken = GridArea.objects.filter(area__code__in=codes).select_related("grid", "area")
    if grid is not None:
        taken = taken.exclude(grid=grid)
    for link in taken:
        errors.append(_("%(area)s 已属于网格“%(grid)s”。") % {"area": link.area.name, "grid": link.grid.name})
    # A township in a grid covers its villages, so a township and its villages never sit in two grids.
    nested = GridArea.objects.filter(
        Q(area__code__in={code[:9] for code in codes if len(code) == 12})
        | Q(area__parent__code__in=[code for code in codes if len(code) == 9])
    ).select_related("grid", "area")
    if grid is not None:
        nested = nested.exclude(grid=grid)
    for link in nested:
        if link.area.level == RegionLevel.TOWNSHIP:
            message = _("%(area)s 已整体属于网格“%(grid)s”，其下的村不能再划入其他网格。")
        else:
            message = _("%(area)s 已属于网格“%(grid)s”，其所在乡镇不能整体划入。")
        errors.append(message % {"area": link.area.name, "grid": link.grid.name})
    chosen = set(codes)
    for code in codes:
        if len(code) == 12 and code[:9] in chosen:
            errors.append(_("%(code)s 所在乡镇已整体划入，无需单独选择村。") % {"code": code})
    return [areas[code] for code in codes if code in areas], errors


def grid_create(
    *,
    actor: Any,
    region: Region,
    code: str,
    name: str,
    area_codes: Iterable[str] = (),
    population: int | None = None,
    description: str = "",
) -> Grid:
    """Plan a grid in a region (county or prefecture) covering townships/villages not in another grid.

    Raises NotAllowed, Invalid.
    """
    _require(policies.can_plan_grids(actor, region))
    errors: dict[str, list[str]] = {}
    if not isinstance(region, Region) or region.level not in (
        RegionLevel.PREFECTURE,
        RegionLevel.COUNTY,
    ):
        errors["region"] = [_("网格的规划区域应为地级或县级区划。")]
        _raise_if(errors)
    if not (code or "").strip():
        errors["code"] = [_("请填写网格编码。")]
    elif Grid.objects.filter(code=code.strip()).exists():
        errors["code"] = [_("网格编码已存在。")]
    if not (name or "").strip():
        errors["name"] = [_("请填写网格名称。")]
    areas, area_errors = _grid_areas(region, area_codes, None)
    if area_errors:
        errors["area_codes"] = area_errors
    _raise_if(errors)
    with transaction.atomic():
        grid = Grid(region=region, code=code.strip(), population=population, description=description)
        _set_name(grid, name)
        try:
            with transaction.atomic():
                grid.save()
                GridArea.objects.bulk_create([GridArea(grid=grid, area=area) for area in areas])
        except IntegrityError as error:
            raise Conflict(_("网格或其覆盖区域刚被他人修改，请刷新后重试。")) from error
        after = snapshot(grid, GRID_FIELDS)
        after["areas"] = [area.code for area in areas]
        record_event(actor=actor, action="grid.create", obj=grid, after=after, region_code=region.code)
    return grid


def grid_update(
    *,
    actor: Any,
    grid: Grid,
    name: str | None = None,
    population: int | None = None,
    description: str | None = None,
    area_codes: Iterable[str] | None = None,
    seen_updated_at: datetime.datetime | None = None,
) -> Grid:
    """Rename a grid or change the areas it covers.

    ``seen_updated_at`` is the ``updated_at`` of the grid the caller edited; when someone saved the
    grid since, nothing changes (the form carries every field and area, so saving it would silently
    undo the other change). Raises NotAllowed, Invalid, Conflict.
    """
    _require(policies.can_change_grid(actor, grid))
    errors: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        errors["name"] = [_("请填写网格名称。")]
    areas: list[Region] | None = None
    if area_codes is not None:
        areas, area_errors = _grid_areas(grid.region, area_codes, grid)
        if area_errors:
            errors["area_codes"] = area_errors
    _raise_if(errors)
    with transaction.atomic():
        if seen_updated_at is not None:
            current = Grid.objects.select_for_update().only("updated_at").get(pk=grid.pk)
            if current.updated_at != seen_updated_at:
                raise Conflict(_("该网格在您编辑期间已被他人修改；请核对后再次保存（以本页内容为准）。"))
        before = snapshot(grid, GRID_FIELDS)
        before["areas"] = list(grid.area_links.order_by("area__code").values_list("area__code", flat=True))
        if name is not None:
            _set_name(grid, name)
        if population is not None:
            grid.population = population
        if description is not None:
            grid.description = description
        grid.save()
        if areas is not None:
            try:
                with transaction.atomic():
                    grid.area_links.exclude(area__in=areas).delete()
                    present = set(grid.area_links.values_list("area_id", flat=True))
                    GridArea.objects.bulk_create(
                        [GridArea(grid=grid, area=area) for area in areas if area.pk not in present]
                    )
            except IntegrityError as error:
                raise Conflict(_("网格或其覆盖区域刚被他人修改，请刷新后重试。")) from error
        after = snapshot(grid, GRID_FIELDS)
        after["areas"] = list(grid.area_links.order_by("area__code").values_list("area__code", flat=True))
        old, new = changed(before, after)
        if new:
            record_event(
                actor=actor,
                action="grid.update",
                obj=grid,
                before=old,
                after=new,
                region_code=grid.region.code,
            )
    return grid


def grid_assign(
    *,
    actor: Any,
    grid: Grid,
    consortium: Consortium,
    assigned_from: datetime.date | None = None,
    replace: bool = False,
) -> GridAssignment:
    """Make a city group or county community responsible for a grid (Art. 10: one at a time).

    If the grid already has a consortium, pass ``replace=True`` to hand it
    over (the old assignment ends the day before); otherwise raises Invalid.
    Raises NotAllowed, Invalid, Conflict.
    """
    _require(policies.can_change_grid(actor, grid))
    assigned_from = assigned_from or _today()
    errors: dict[str, list[str]] = {}
    if not isinstance(consortium, Consortium):
        raise Invalid({"consortium": [_("请选择医联体。")]})
    if not policies.can_serve_grid(consortium):
        errors["consortium"] = [_("只有城市医疗集团或县域医共体可以负责网格。")]
    elif consortium.status != ConsortiumStatus.ACTIVE:
        errors["consortium"] = [_("该医联体已解散。")]
    _raise_if(errors)
    with transaction.atomic():
        Grid.objects.select_for_update().get(pk=grid.pk)
        current = grid.assignments.filter(is_current=True).select_related("consortium").first()
        if current is not None:
            if current.consortium_id == consortium.pk:
                raise Invalid({"consortium": [_("该网格已由此医联体负责。")]})
            if not replace:
                raise Invalid(
                    {
                        "consortium": [
                            _("该网格已由“%(name)s”负责；一个网格同一时间只能由一个医联体负责。")
                            % {"name": current.consortium.name}
                        ]
                    }
                )
            if assigned_from <= current.assigned_from:
                raise Invalid({"assigned_from": [_("交接日期必须晚于当前责任的起始日期。")]})
            current.is_current = False
            current.assigned_to = assigned_from - datetime.timedelta(days=1)
            current.save()
            record_event(
                actor=actor,
                action="grid.unassign",
                obj=current,
                before={"is_current": True},
                after={"is_current": False, "assigned_to": str(current.assigned_to)},
                consortium_public_id=current.consortium.public_id,
                region_code=grid.region.code,
            )
        try:
            with transaction.atomic():
                assignment = GridAssignment.objects.create(
                    grid=grid, consortium=consortium, assigned_from=assigned_from
                )
        except IntegrityError as error:
            raise Conflict(_("该网格刚被他人分配，请刷新后重试。")) from error
        record_event(
            actor=actor,
            action="grid.assign",
            obj=assignment,
            after={
                "grid": grid.code,
                "consortium": str(consortium.public_id),
                "assigned_from": str(assigned_from),
            },
            consortium_public_id=consortium.public_id,
            region_code=grid.region.code,
        )
    return assignment


def grid_unassign(*, actor: Any, grid: Grid, assigned_to: datetime.date | None = None) -> GridAssignment:
    """End the current consortium's responsibility for a grid. Raises NotAllowed, Invalid."""
    _require(policies.can_change_grid(actor, grid))
    with transaction.atomic():
        Grid.objects.select_for_update().get(pk=grid.pk)
        current = grid.assignments.filter(is_current=True).select_related("consortium").first()
        if current is None:
            raise Invalid({"__all__": [_("该网格当前没有负责的医联体。")]})
        end = assigned_to or _today()
        if end < current.assigned_from:
            raise Invalid({"assigned_to": [_("截止日期不能早于起始日期。")]})
        current.is_current = False
        current.assigned_to = end
        current.save()
        record_event(
            actor=actor,
            action="grid.unassign",
            obj=current,
            before={"is_current": True},
            after={"is_current": False, "assigned_to": str(end)},
            consortium_public_id=current.consortium.public_id,
            region_code=grid.region.code,
        )
    return current
