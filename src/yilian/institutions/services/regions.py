"""Writes of the region list: one region, or a whole CSV file."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yilian.core.audit import changed, record_event, snapshot
from yilian.core.exceptions import Invalid
from yilian.institutions import policies
from yilian.institutions.choices import (
    RegionLevel,
)
from yilian.institutions.codes import parse_region_code
from yilian.institutions.models import (
    Region,
)
from yilian.institutions.services._common import (
    _registry_changed,
    _require,
    _set_name,
)


def _region_parent(codes: Sequence[str], known: dict[str, Region]) -> Region | None:
    for code in codes:
        if code in known:
            return known[code]
        parent = Region.objects.filter(code=code).first()
        if parent is not None:
            known[code] = parent
            return parent
    return None


def region_create(*, actor: Any, code: str, name: str = "", population: int | None = None) -> Region:
    """Create one region. The code must be valid GB/T 2260 (or its extension) and its parent present.

    Raises NotAllowed, Invalid (unknown code, missing parent, duplicate).
    """
    _require(policies.can_manage_regions(actor))
    parsed = parse_region_code(code)
    name = (name or parsed.official_name).strip()
    if not name:
        raise Invalid({"name": _("请填写区划名称。")})
    with transaction.atomic():
        if Region.objects.filter(code=parsed.code).exists():
            raise Invalid({"code": _("区划代码 %(code)s 已存在。") % {"code": parsed.code}})
        parent = _region_parent(parsed.parent_candidates, {})
        if parent is None and parsed.level != RegionLevel.PROVINCE:
            raise Invalid({"code": _("请先建立上级区划。")})
        region = Region(
            code=parsed.code,
            level=parsed.level,
            prefix=parsed.prefix,
            parent=parent,
            population=population,
        )
        _set_name(region, name)
        region.save()
        _registry_changed()
        record_event(
            actor=actor,
            action="region.create",
            obj=region,
            after=snapshot(region, ("code", "name", "level")),
            region_code=region.code,
        )
    return region


@dataclass
class RegionImportResult:
    """What a region import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def region_import_csv(*, actor: Any, content: str | bytes) -> RegionImportResult:
    """Import a region list (CSV with columns ``code,name[,population]``, header optional).

    All rows are validated first; any bad row rejects the whole file with
    every row's reason (nothing saved). Existing codes get their name and
    population updated. Parents may come from the same file or the database.
    """
    _require(policies.can_manage_regions(actor))
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                content = content.decode("gb18030")
            except UnicodeDecodeError as error:
                raise Invalid({"file": _("文件编码无法识别，请使用 UTF-8 或 GB18030。")}) from error
    rows: list[tuple[int, Any, str, int | None]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(content)), start=1):
        if not row or not "".join(row).strip():
            continue
        code = row[0].strip()
        if number == 1 and not code.isdigit():
            continue  # header
        name = row[1].strip() if len(row) > 1 else ""
        population: int | None = None
        if len(row) > 2 and row[2].strip():
            if not row[2].strip().isdigit():
                errors.append(_("第 %(row)d 行：人口应为整数。") % {"row": number})
                continue
            population = int(row[2].strip())
        try:
            parsed = parse_region_code(code)
        except Invalid as error:
            errors.append(_("第 %(row)d 行：%(message)s") % {"row": number, "message": error.message})
            continue
        if parsed.code in seen:
            errors.append(_("第 %(row)d 行：区划代码 %(code)s 重复。") % {"row": number, "code": code})
            continue
        seen.add(parsed.code)
        name = name or parsed.official_name
        if not name:
            errors.append(_("第 %(row)d 行：缺少名称。") % {"row": number})
            continue
        rows.append((number, parsed, name, population))
    if not rows and not errors:
        raise Invalid({"file": _("文件中没有区划数据。")})
    result = RegionImportResult()
    with transaction.atomic():
        existing = {region.code: region for region in Region.objects.filter(code__in=seen)}
        known: dict[str, Region] = dict(existing)
        pending = {parsed.code for _number, parsed, _name, _population in rows}
        for number, parsed, name, population in sorted(
            rows, key=lambda item: len(item[1].code) * 10**12 + int(item[1].code)
        ):
            region = existing.get(parsed.code)
            if region is not None:
                before = snapshot(region, ("name", "population"))
                _set_name(region, name)
                region.population = population if population is not None else region.population
                after = snapshot(region, ("name", "population"))
                if before == after:
                    result.unchanged += 1
                    continue
                region.save()
                old, new = changed(before, after)
                record_event(
                    actor=actor,
                    action="region.update",
                    obj=region,
                    before=old,
                    after=new,
                    region_code=region.code,
                )
                result.updated += 1
                continue
            parent = _region_parent(parsed.parent_candidates, known)
            if parent is None and parsed.level != RegionLevel.PROVINCE:
                missing = next(
                    (c for c in parsed.parent_candidates if c in pending),
                    parsed.parent_candidates[0],
                )
                errors.append(
                    _("第 %(row)d 行：上级区划 %(parent)s 不存在。") % {"row": number, "parent": missing}
                )
                continue
            region = Region(
                code=parsed.code,
                level=parsed.level,
                prefix=parsed.prefix,
                parent=parent,
                population=population,
            )
            _set_name(region, name)
            region.save()
            known[region.code] = region
            record_event(
                actor=actor,
                action="region.create",
                obj=region,
                after=snapshot(region, ("code", "name", "level")),
                region_code=region.code,
                details={"source": "csv"},
            )
            result.created += 1
        if errors:
            transaction.set_rollback(True)
            raise Invalid({"file": errors})
        if result.created or result.updated:
            _registry_changed()
    return result
