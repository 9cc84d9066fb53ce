"""Writes of prescriptions across levels: the catalogue, stock lists (one by one and from Excel), the
formulary limits, prescriptions (regular, long, extended) and their voiding, and the delivery steps.

Every write is one transaction with its audit event, after a policy check. Races end with one winner:
deliveries move by conditional updates on the expected state; long prescriptions of one person are
serialised by a lock on the person row, backed by a unique constraint; stock rows are unique per
institution and drug.
"""

from __future__ import annotations

import datetime
import io
import math
import random
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.icd10 import parse_icd10
from yilian.core.messages import Message, message, stored
from yilian.core.text import join_list, pinyin_full, pinyin_initials
from yilian.institutions.models import Consortium, Department, Institution
from yilian.people.choices import PersonLinkReason
from yilian.people.models import Person
from yilian.people.selectors import person_visible_to
from yilian.people.services import person_link
from yilian.prescriptions import policies, selectors
from yilian.prescriptions.choices import (
    DELIVERY_STEPS,
    DOSES_PER_DAY,
    DeliveryStatus,
    DosageForm,
    DrugCategory,
    Frequency,
    PrescriptionKind,
    PrescriptionStatus,
    Route,
)
from yilian.prescriptions.codes import parse_drug_code
from yilian.prescriptions.models import (
    ConsortiumFormulary,
    Delivery,
    DeliveryEvent,
    Drug,
    Prescription,
    PrescriptionItem,
    StockItem,
)

REGULAR_VALID_DAYS = 3
"""A regular prescription is valid on the day written, at most three days (处方管理办法 Art. 18)."""

MAX_ITEMS = 5
"""At most five drugs on one prescription (处方管理办法 Art. 6)."""

IMPORT_MAX_ROWS = 5000


def _actor_label(actor: Any) -> str:
    return getattr(actor, "full_name", "") or actor.get_username()


def _save_numbered(obj: Model, prefix: str) -> None:
    """Insert ``obj`` under the next free ``number`` (prefix + date + sequence); a concurrent insert that
    took the number makes us try a later one in our own savepoint."""
    model = type(obj)
    stem = f"{prefix}{timezone.localdate():%Y%m%d}"
    for attempt in range(30):
        last = (
            model.objects.filter(number__startswith=stem)  # type: ignore[attr-defined]
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        sequence = (int(last[len(stem) :]) if last else 0) + 1 + random.randrange(attempt * 2 + 1)
        obj.number = f"{stem}{sequence:05d}"  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
            return
        except IntegrityError:
            if not model.objects.filter(number=obj.number).exists() or attempt == 29:  # type: ignore[attr-defined]
                raise


# --- catalogue ----------------------------------------------------------------------------------

DRUG_FIELDS = (
    "code",
    "name",
    "dosage_form",
    "strength",
    "dose_unit",
    "package_size",
    "package_unit",
    "category",
    "is_chronic",
    "is_essential",
    "is_active",
)


def _check_catalogue_rights(actor: Any) -> None:
    if not policies.can_manage_catalogue(actor, selectors.lead_institution_ids()):
        raise NotAllowed(_("您没有维护药品目录的权限。"))


def _validate_drug(data: dict[str, Any]) -> dict[str, list[str]]:
    """Field checks of a catalogue entry (normalises ``data``)."""
    errors: dict[str, list[str]] = {}
    try:
        data["code"] = parse_drug_code(data.get("code", ""))
    except Invalid as error:
        errors.update(error.as_text())
    data["name"] = str(data.get("name") or "").strip()
    if not data["name"]:
        errors["name"] = [_("请填写通用名。")]
    elif len(data["name"]) > 100:
        errors["name"] = [_("通用名不能超过 100 个字。")]
    if data.get("dosage_form") not in DosageForm.values:
        errors["dosage_form"] = [_("请选择剂型。")]
    data["strength"] = str(data.get("strength") or "").strip()
    if not data["strength"]:
        errors["strength"] = [_("请填写规格。")]
    if data.get("category") not in DrugCategory.values:
        errors["category"] = [_("请选择类别。")]
    try:
        size = int(data.get("package_size") or 0)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= 10000:
        errors["package_size"] = [_("每包装数量应为 1–10000 的整数。")]
    data["package_size"] = size
    for name, default in (("dose_unit", "片"), ("package_unit", "盒")):
        data[name] = str(data.get(name) or default).strip()[:8]
    return errors


def drug_save(*, actor: Any, drug: Drug | None = None, **data: Any) -> Drug:
    """Add a drug to the shared catalogue, or change one. Audited as ``drug.create`` / ``drug.update``.
    Raises NotAllowed, Invalid (also for a code already in the catalogue)."""
    _check_catalogue_rights(actor)
    data = {k: v for k, v in data.items() if k in DRUG_FIELDS}
    if drug is not None:
        data = {**snapshot(drug, DRUG_FIELDS), **data}
    errors = _validate_drug(data)
    if not errors and Drug.objects.filter(code=data["code"]).exclude(pk=getattr(drug, "pk", None)).exists():
        errors["code"] = [_("该医保药品代码已在目录中。")]
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        before = snapshot(drug, DRUG_FIELDS) if drug is not None else None
        target = drug or Drug()
        for key, value in data.items():
            setattr(target, key, value)
        target.name_initials = pinyin_initials(target.name)
        target.name_pinyin = pinyin_full(target.name)
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError as error:
            raise Conflict(_("该医保药品代码刚被他人录入。")) from error
        record_event(
            actor=actor,
            action="drug.update" if drug is not None else "drug.create",
            obj=target,
            before=before,
            after=snapshot(target, DRUG_FIELDS),
        )
    return target


# --- Excel imports ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


YES = {"是", "Y", "YES", "1", "TRUE", "√"}
NO = {"", "否", "N", "NO", "0", "FALSE"}

STOCK_COLUMNS = ("医保药品代码", "通用名", "本地增补")
DRUG_COLUMNS = (
    "医保药品代码",
    "通用名",
    "剂型",
    "规格",
    "剂量单位",
    "每包装数量",
    "包装单位",
    "类别",
    "慢病用药",
    "国家基本药物",
)


def _read_sheet(content: bytes, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of the first sheet as (Excel row number, {column: text}); the first row names the columns.
    Invalid when the file is not an .xlsx workbook or a required column is missing."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a non-workbook
        raise Invalid(
            {"file": [_("无法读取文件，请上传 .xlsx 格式的 Excel 文件（可先下载模板）。")]}
        ) from error
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(value or "").strip() for value in next(rows, ())]
    missing = [name for name in columns[:2] if name not in header]
    if missing:
        raise Invalid(
            {"file": [_("表头缺少列：%(columns)s。请使用模板。") % {"columns": join_list(missing)}]}
        )
    index = {name: header.index(name) for name in columns if name in header}
    parsed = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(value in (None, "") for value in values):
            continue
        if len(parsed) >= IMPORT_MAX_ROWS:
            raise Invalid({"file": [_("一次最多导入 %(count)s 行。") % {"count": IMPORT_MAX_ROWS}]})
        row = {}
        for name, position in index.items():
            value = values[position] if position < len(values) else None
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            row[name] = str(value).strip() if value is not None else ""
        parsed.append((number, row))
    workbook.close()
    return parsed


def _row_error(number: int, column: str, reason: str) -> str:
    return _("第 %(row)s 行「%(column)s」：%(reason)s") % {"row": number, "column": column, "reason": reason}


def _yes_no(value: str) -> bool | None:
    text = value.strip().upper()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def template_workbook(kind: str) -> bytes:
    """An empty import template with the column names and one example row (``stock`` or ``drugs``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    if kind == "drugs":
        sheet.title = "药品目录"
        sheet.append(list(DRUG_COLUMNS))
        sheet.append(
            [
                "XC08CAA105A001010100000",
                "苯磺酸氨氯地平片",
                str(DosageForm.TABLET.label),
                "5mg",
                "片",
                28,
                "盒",
                str(DrugCategory.ANTIHYPERTENSIVE.label),
                "是",
                "是",
            ]
        )
    else:
        sheet.title = "机构药品目录"
        sheet.append(list(STOCK_COLUMNS))
        sheet.append(["XC08CAA105A001010100000", "苯磺酸氨氯地平片", "否"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in "ABCDEFGHIJ":
        sheet.column_dimensions[column].width = 26 if column == "A" else 14
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def stock_import(
    *, actor: Any, institution: Institution, content: bytes, replace: bool = False
) -> ImportResult:
    """Load an institution's stock list from an Excel file (医保药品代码, 通用名, 本地增补).

    Every row is checked first — the code must be in the catalogue, the name (when given) must match it,
    no code twice; any error lists every bad row (row, column, reason) and nothing is saved. With
    ``replace`` the drugs not in the file leave the list. Audited as one ``stock.import``. Raises
    NotAllowed, Invalid.
    """
    _check_stock_rights(actor, institution)
    rows = _read_sheet(content, STOCK_COLUMNS)
    codes = {row.get("医保药品代码", "").upper().replace(" ", "") for _n, row in rows}
    drugs = {drug.code: drug for drug in Drug.objects.filter(code__in=codes)}
    errors: list[str] = []
    wanted: dict[int, bool] = {}
    seen: dict[str, int] = {}
    for number, row in rows:
        raw = row.get("医保药品代码", "")
        try:
            code = parse_drug_code(raw)
        except Invalid as error:
            errors.append(_row_error(number, "医保药品代码", next(iter(error.as_text().values()))[0]))
            continue
        drug = drugs.get(code)
        if drug is None:
            errors.append(
                _row_error(number, "医保药品代码", _("药品目录中没有该代码，请先在药品目录中添加。"))
            )
            continue
        if code in seen:
            errors.append(
                _row_error(number, "医保药品代码", _("与第 %(row)s 行重复。") % {"row": seen[code]})
            )
            continue
        seen[code] = number
        name = row.get("通用名", "")
        if name and name != drug.name:
            errors.append(
                _row_error(
                    number, "通用名", _("与目录中该代码的通用名“%(name)s”不一致。") % {"name": drug.name}
                )
            )
        local = _yes_no(row.get("本地增补", ""))
        if local is None:
            errors.append(_row_error(number, "本地增补", _("请填写“是”或“否”。")))
            continue
        wanted[drug.pk] = local
    if not rows:
        errors.append(_("文件中没有数据行。"))
    if errors:
        raise Invalid({"file": errors})
    result = ImportResult()
    with transaction.atomic():
        existing = {
            item.drug_id: item
            for item in StockItem.objects.select_for_update().filter(institution=institution)
        }
        new_rows = []
        for drug_id, local in wanted.items():
            item = existing.get(drug_id)
            if item is None:
                new_rows.append(
                    StockItem(
                        institution=institution, drug_id=drug_id, is_local_addition=local, added_by=actor
                    )
                )
            elif item.is_local_addition != local:
                StockItem.objects.filter(pk=item.pk).update(
                    is_local_addition=local, updated_at=timezone.now()
                )
                result.updated += 1
            else:
                result.unchanged += 1
        StockItem.objects.bulk_create(new_rows, ignore_conflicts=True)
        result.created = len(new_rows)
        if replace:
            gone = [pk for drug_id, pk in ((d, i.pk) for d, i in existing.items()) if drug_id not in wanted]
            result.removed = StockItem.objects.filter(pk__in=gone).delete()[0]
        record_event(
            actor=actor,
            action="stock.import",
            obj=institution,
            details={**result.__dict__, "replace": replace, "rows": len(rows)},
            institution_public_id=institution.public_id,
        )
    return result


def drug_import(*, actor: Any, content: bytes) -> ImportResult:
    """Add or update catalogue drugs from an Excel file (the ``DRUG_COLUMNS``), matched by code. Every
    row is checked first; any error lists every bad row and nothing is saved. Raises NotAllowed, Invalid."""
    _check_catalogue_rights(actor)
    rows = _read_sheet(content, DRUG_COLUMNS)
    forms = {str(label): value for value, label in DosageForm.choices}
    categories = {str(label): value for value, label in DrugCategory.choices}
    errors: list[str] = []
    parsed: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    columns = {
        "code": "医保药品代码",
        "name": "通用名",
        "dosage_form": "剂型",
        "strength": "规格",
        "dose_unit": "剂量单位",
        "package_size": "每包装数量",
        "package_unit": "包装单位",
        "category": "类别",
        "is_chronic": "慢病用药",
        "is_essential": "国家基本药物",
    }
    for number, row in rows:
        data: dict[str, Any] = {
            "code": row.get("医保药品代码", ""),
            "name": row.get("通用名", ""),
            "dosage_form": forms.get(row.get("剂型", ""), row.get("剂型", "")),
            "strength": row.get("规格", ""),
            "dose_unit": row.get("剂量单位", ""),
            "package_size": row.get("每包装数量", ""),
            "package_unit": row.get("包装单位", ""),
            "category": categories.get(row.get("类别", ""), row.get("类别", "")),
            "is_active": True,
        }
        for key in ("is_chronic", "is_essential"):
            flag = _yes_no(row.get(columns[key], ""))
            if flag is None:
                errors.append(_row_error(number, columns[key], _("请填写“是”或“否”。")))
            data[key] = bool(flag)
        field_errors = _validate_drug(data)
        for key, messages in field_errors.items():
            errors.append(_row_error(number, columns.get(key, key), messages[0]))
        if field_errors:
            continue
        if data["code"] in seen:
            errors.append(
                _row_error(number, "医保药品代码", _("与第 %(row)s 行重复。") % {"row": seen[data["code"]]})
            )
            continue
        seen[data["code"]] = number
        parsed[data["code"]] = data
    if not rows:
        errors.append(_("文件中没有数据行。"))
    if errors:
        raise Invalid({"file": errors})
    result = ImportResult()
    with transaction.atomic():
        existing = {drug.code: drug for drug in Drug.objects.select_for_update().filter(code__in=parsed)}
        new_rows = []
        for code, data in parsed.items():
            drug = existing.get(code)
            if drug is None:
                new_rows.append(
                    Drug(
                        **data,
                        name_initials=pinyin_initials(data["name"]),
                        name_pinyin=pinyin_full(data["name"]),
                    )
                )
                continue
            changes = {k: v for k, v in data.items() if getattr(drug, k) != v}
            if changes:
                if "name" in changes:
                    changes["name_initials"] = pinyin_initials(data["name"])
                    changes["name_pinyin"] = pinyin_full(data["name"])
                Drug.objects.filter(pk=drug.pk).update(**changes, updated_at=timezone.now())
                result.updated += 1
            else:
                result.unchanged += 1
        try:
            with transaction.atomic():
                Drug.objects.bulk_create(new_rows)
        except IntegrityError as error:
            raise Conflict(_("导入期间有药品被他人录入，请重新导入。")) from error
        result.created = len(new_rows)
        first = new_rows[0] if new_rows else next(iter(existing.values()))
        record_event(
            actor=actor, action="drug.import", obj=first, details={**result.__dict__, "rows": len(rows)}
        )
    return result


# --- stock lists and the formulary --------------------------------------------------------------


def _check_stock_rights(actor: Any, institution: Institution) -> None:
    if not policies.can_manage_stock(actor, institution.pk, selectors.member_consortium_ids(institution.pk)):
        raise NotAllowed(_("您没有维护该机构药品目录的权限。"))


def stock_add(
    *, actor: Any, institution: Institution, drug: Drug, is_local_addition: bool = False
) -> StockItem:
    """Put a drug on an institution's stock list (or change its local-addition mark). Audited as
    ``stock.add``. Raises NotAllowed, Invalid (inactive drug)."""
    _check_stock_rights(actor, institution)
    if not drug.is_active:
        raise Invalid({"drug": [_("该药品已停用。")]})
    with transaction.atomic():
        item, created = StockItem.objects.get_or_create(
            institution=institution,
            drug=drug,
            defaults={"is_local_addition": is_local_addition, "added_by": actor},
        )
        if not created and item.is_local_addition != is_local_addition:
            item.is_local_addition = is_local_addition
            item.save(update_fields=["is_local_addition", "updated_at"])
        elif not created:
            return item
        record_event(
            actor=actor,
            action="stock.add",
            obj=institution,
            details={"drug": drug.code, "name": drug.name, "local_addition": is_local_addition},
            institution_public_id=institution.public_id,
        )
    return item


def stock_remove(*, actor: Any, institution: Institution, drug: Drug) -> None:
    """Take a drug off an institution's stock list (nothing happens when it is not on it). Audited as
    ``stock.remove``. Raises NotAllowed."""
    _check_stock_rights(actor, institution)
    with transaction.atomic():
        deleted, _rows = StockItem.objects.filter(institution=institution, drug=drug).delete()
        if deleted:
            record_event(
                actor=actor,
                action="stock.remove",
                obj=institution,
                details={"drug": drug.code, "name": drug.name},
                institution_public_id=institution.public_id,
            )


LIMIT_FIELDS = ("long_max_days", "extended_max_days", "regular_max_days", "source_recent_months")
LIMIT_RANGES = {
    "long_max_days": (1, 180),
    "extended_max_days": (1, 180),
    "regular_max_days": (1, 90),
    "source_recent_months": (1, 24),
}


def formulary_update(
    *, actor: Any, consortium: Consortium, expected_version: int | None = None, **limits: Any
) -> ConsortiumFormulary:
    """Set the consortium's prescription limits (long / extended / regular days, how recent an extended
    prescription's source must be). The office only. ``expected_version`` from the form: a stale one is a
    Conflict. Audited as ``formulary.update``. Raises NotAllowed, Invalid, Conflict."""
    if not policies.can_edit_formulary(actor, consortium.pk):
        raise NotAllowed(_("只有医联体管理办公室可以修改用药目录设置。"))
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for name in LIMIT_FIELDS:
        if name not in limits:
            continue
        low, high = LIMIT_RANGES[name]
        try:
            value = int(limits[name])
        except (TypeError, ValueError):
            value = -1
        if not low <= value <= high:
            errors[name] = [_("应为 %(low)s–%(high)s 之间的整数。") % {"low": low, "high": high}]
        values[name] = value
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        formulary = ConsortiumFormulary.objects.select_for_update().filter(consortium=consortium).first()
        if formulary is None:
            lead = selectors.lead_of(consortium)
            if lead is None:
                raise Invalid(_("该医联体没有牵头单位，无法设置用药目录。"))
            try:
                with transaction.atomic():
                    formulary = ConsortiumFormulary.objects.create(
                        consortium=consortium, reference_institution=lead
                    )
            except IntegrityError as error:
                raise Conflict(_("设置已被他人修改，请刷新后重试。")) from error
        if expected_version is not None and expected_version != formulary.version:
            raise Conflict(_("设置已被他人修改，请刷新后重试。"))
        before = snapshot(formulary, LIMIT_FIELDS)
        for name, value in values.items():
            setattr(formulary, name, value)
        formulary.version += 1
        formulary.save()
        record_event(
            actor=actor,
            action="formulary.update",
            obj=formulary,
            before=before,
            after=snapshot(formulary, LIMIT_FIELDS),
            consortium_public_id=consortium.public_id,
        )
    return formulary


# --- prescriptions ------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def needed_packages(drug: Drug, dose: Decimal, frequency: str, days: int) -> int:
    """Packages covering ``days`` of ``dose`` ``frequency`` (rounded up)."""
    units = dose * DOSES_PER_DAY.get(frequency, Decimal(1)) * days
    return max(1, math.ceil(units / drug.package_size))


def _clean_items(
    items: list[dict[str, Any]], max_days: int
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Check each item (drug, dose, frequency, route, days, quantity); errors keyed ``items.<n>.<field>``.
    Computes the quantity in packages when not given and checks a given one against the need."""
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, Any]] = []
    seen: set[int] = set()
    rows = [item for item in items if any(item.get(k) not in (None, "") for k in ("drug", "dose", "days"))]
    if not rows:
        errors["items"] = [_("请至少开具一种药品。")]
    if len(rows) > MAX_ITEMS:
        errors["items"] = [_("每张处方不得超过 %(count)s 种药品。") % {"count": MAX_ITEMS}]
    for index, item in enumerate(rows):
        key = f"items.{index}"
        drug = item.get("drug")
        if not isinstance(drug, Drug) or not drug.is_active:
            errors[f"{key}.drug"] = [_("请选择目录中的在用药品。")]
            continue
        if drug.pk in seen:
            errors[f"{key}.drug"] = [_("同一药品在处方中出现了两次。")]
            continue
        seen.add(drug.pk)
        dose = _decimal(item.get("dose"))
        if dose is None or dose <= 0 or dose > 1000:
            errors[f"{key}.dose"] = [_("单次剂量应为大于 0 的数。")]
        frequency = item.get("frequency") or ""
        if frequency not in Frequency.values:
            errors[f"{key}.frequency"] = [_("请选择用药频次。")]
        route = item.get("route") or ""
        if route not in Route.values:
            errors[f"{key}.route"] = [_("请选择给药途径。")]
        days = _int(item.get("days"))
        if days is None or days < 1:
            errors[f"{key}.days"] = [_("用药天数应为正整数。")]
        elif days > max_days:
            errors[f"{key}.days"] = [_("用药天数不能超过 %(days)s 天。") % {"days": max_days}]
        if any(k.startswith(key) for k in errors):
            continue
        assert dose is not None and days is not None
        needed = needed_packages(drug, dose, frequency, days)
        quantity = _int(item.get("quantity"))
        if item.get("quantity") not in (None, "") and quantity is None:
            errors[f"{key}.quantity"] = [_("数量应为正整数。")]
            continue
        if quantity is None:
            quantity = needed
        elif quantity < needed:
            errors[f"{key}.quantity"] = [
                _("数量不足：%(days)s 天需要 %(needed)s%(unit)s。")
                % {"days": days, "needed": needed, "unit": drug.package_unit}
            ]
            continue
        elif quantity > needed + 1:
            errors[f"{key}.quantity"] = [
                _("数量超过 %(days)s 天的用量（%(needed)s%(unit)s）。")
                % {"days": days, "needed": needed, "unit": drug.package_unit}
            ]
            continue
        cleaned.append(
            {
                "drug": drug,
                "dose": dose,
                "frequency": frequency,
                "route": route,
                "days": days,
                "quantity": quantity,
            }
        )
    return cleaned, errors


def _stable_case(person: Person, on: datetime.date) -> Any:
    # chronic_care decides what "stable" means (recent controlled follow-up, no uncontrolled side effects).
    from yilian.chronic_care.selectors import stable_case_for

    return stable_case_for(person, on=on)


def _active_long_items(
    person: Person, cleaned: list[dict[str, Any]], prescribed_on: datetime.date
) -> QuerySet[PrescriptionItem]:
    # The rule is per generic name (通用名), not per catalogue product: 依那普利片 5mg and 10mg are the
    # same drug for the patient, and two long prescriptions of it would double the dose.
    return (
        PrescriptionItem.objects.filter(
            person=person,
            kind=PrescriptionKind.LONG,
            is_current=True,
            drug__name__in={item["drug"].name for item in cleaned},
            ends_on__gte=prescribed_on,
        )
        .select_related("drug", "prescription")
        .order_by("ends_on", "id")
    )


def _overlap_message(row: PrescriptionItem) -> str:
    return _(
        "患者已有同一药品“%(drug)s”的有效长处方 %(number)s（%(start)s 至 %(end)s），同一药品不得与有效长处方重叠。"
    ) % {
        "drug": row.drug,
        "number": row.prescription.number,
        "start": row.starts_on.isoformat(),
        "end": row.ends_on.isoformat(),
    }


def prescription_create(
    *,
    actor: Any,
    institution: Institution,
    person: Person,
    kind: str,
    diagnosis_code: str,
    diagnosis_name: str,
    items: list[dict[str, Any]],
    source: Prescription | None = None,
    department: Department | None = None,
    note: str = "",
    prescribed_on: datetime.date | None = None,
    idempotency_key: str = "",
) -> Prescription:
    """Write a prescription at ``institution`` for ``person`` and link them (``prescription``).

    The same ``idempotency_key`` from the same prescriber returns the first prescription unchanged (a
    double click on the form writes one prescription, not two).

    Regular: days within the formulary's regular limit; valid three days. Long (长处方): the person has a
    stable chronic case, every drug is a chronic-disease drug on the consortium's reference list and
    stocked here, days within the long limit, and no active long prescription of the same generic name
    (通用名, any strength) overlaps (Invalid on the item's drug, naming that prescription; Conflict when a
    concurrent write got there first). Extended (延伸处方): a member (not the lead) continues ``source``, an active prescription of
    the consortium's lead hospital for the same person written within the formulary's months, for drugs
    on it that this institution does not stock; a delivery from the lead's pharmacy is requested. Audited
    as ``prescription.create``. Raises NotAllowed, Invalid, Conflict.
    """
    if not policies.can_prescribe_at(actor, institution.pk):
        raise NotAllowed(_("您不是该机构的医师，不能开具处方。"))
    if not person_visible_to(actor).filter(pk=person.pk).exists():
        raise NotAllowed(_("您无权为该患者开具处方。"))
    once_key = str(idempotency_key or "").strip()[:64]
    if once_key:
        existing = Prescription.objects.filter(prescriber=actor, idempotency_key=once_key).first()
        if existing is not None:
            return existing
    today = timezone.localdate()
    prescribed_on = prescribed_on or today
    errors: dict[str, list[str]] = {}
    if kind not in PrescriptionKind.values:
        raise Invalid({"kind": [_("无效的处方类型。")]})
    if prescribed_on > today or prescribed_on < today - datetime.timedelta(days=1):
        errors["prescribed_on"] = [_("开具日期只能是今天（或补录昨天）。")]
    try:
        diagnosis_code = parse_icd10(diagnosis_code).code
    except Invalid as error:
        errors.update(error.as_text())
    diagnosis_name = str(diagnosis_name or "").strip()
    if not diagnosis_name:
        errors["diagnosis_name"] = [_("请填写诊断名称。")]
    elif len(diagnosis_name) > 50:
        errors["diagnosis_name"] = [_("诊断名称不能超过 50 个字。")]
    note = str(note or "").strip()
    if len(note) > 300:
        errors["note"] = [_("备注不能超过 300 个字。")]
    if department is not None and department.institution_id != institution.pk:
        errors["department"] = [_("科室不属于开方机构。")]
    consortium = selectors.consortium_of(institution)
    formulary = selectors.formulary_for(consortium) if consortium is not None else None
    if kind != PrescriptionKind.REGULAR and formulary is None:
        raise Invalid({"kind": [_("本机构不属于有牵头医院的医联体，只能开具普通处方。")]})
    limits = formulary or ConsortiumFormulary()
    max_days = {
        PrescriptionKind.REGULAR: limits.regular_max_days,
        PrescriptionKind.LONG: limits.long_max_days,
        PrescriptionKind.EXTENDED: limits.extended_max_days,
    }[kind]
    cleaned, item_errors = _clean_items(items, max_days)
    errors.update(item_errors)
    drug_ids = [item["drug"].pk for item in cleaned]
    stocked = selectors.stocked_drug_ids(institution.pk, drug_ids)
    lead_id = formulary.reference_institution_id if formulary is not None else None
    if kind == PrescriptionKind.LONG:
        assert formulary is not None and lead_id is not None
        reference = selectors.stocked_drug_ids(lead_id, drug_ids)
        for index, item in enumerate(cleaned):
            drug = item["drug"]
            key = f"items.{index}.drug"
            if not drug.is_chronic:
                errors[key] = [_("“%(drug)s”不是慢病用药，不能开长处方。") % {"drug": drug}]
            elif drug.pk not in reference:
                errors[key] = [_("“%(drug)s”不在医联体用药目录中。") % {"drug": drug}]
            elif drug.pk not in stocked:
                errors[key] = [_("本机构未配备“%(drug)s”，可改开延伸处方。") % {"drug": drug}]
        if not errors and _stable_case(person, prescribed_on) is None:
            errors["person"] = [_("患者没有病情稳定的慢病管理档案（近 3 个月随访控制满意），不能开长处方。")]
        if not errors:
            active = {row.drug.name: row for row in _active_long_items(person, cleaned, prescribed_on)}
            for index, item in enumerate(cleaned):
                row = active.get(item["drug"].name)
                if row is not None:
                    errors[f"items.{index}.drug"] = [_overlap_message(row)]
    if kind == PrescriptionKind.EXTENDED:
        if source is None:
            errors["source"] = [_("延伸处方须选择牵头医院的原处方。")]
        elif institution.pk == lead_id:
            errors["kind"] = [_("牵头医院无需开具延伸处方。")]
        else:
            assert formulary is not None
            oldest = prescribed_on - datetime.timedelta(days=formulary.source_recent_months * 31)
            if (
                source.institution_id != lead_id
                or source.person_id != person.pk
                or source.kind == PrescriptionKind.EXTENDED
            ):
                errors["source"] = [_("原处方须是本医联体牵头医院为该患者开具的处方。")]
            elif source.status != PrescriptionStatus.ACTIVE:
                errors["source"] = [_("原处方已作废。")]
            elif source.prescribed_on < oldest:
                errors["source"] = [
                    _("原处方开具已超过 %(months)s 个月，请患者到牵头医院复诊。")
                    % {"months": formulary.source_recent_months}
                ]
            else:
                on_source = set(source.items.values_list("drug_id", flat=True))
                for index, item in enumerate(cleaned):
                    drug = item["drug"]
                    key = f"items.{index}.drug"
                    if drug.pk not in on_source:
                        errors[key] = [_("“%(drug)s”不在原处方上。") % {"drug": drug}]
                    elif drug.pk in stocked:
                        errors[key] = [
                            _("本机构配备“%(drug)s”，请直接开具普通处方或长处方。") % {"drug": drug}
                        ]
    if errors:
        raise Invalid(errors)
    days = max(item["days"] for item in cleaned)
    valid_until = (
        prescribed_on + datetime.timedelta(days=REGULAR_VALID_DAYS - 1)
        if kind == PrescriptionKind.REGULAR
        else prescribed_on + datetime.timedelta(days=days - 1)
    )
    try:
        return _prescription_insert(
            actor=actor,
            institution=institution,
            person=person,
            kind=kind,
            consortium=consortium,
            department=department,
            diagnosis_code=diagnosis_code,
            diagnosis_name=diagnosis_name,
            prescribed_on=prescribed_on,
            valid_until=valid_until,
            days=days,
            source=source,
            note=note,
            cleaned=cleaned,
            once_key=once_key,
        )
    except IntegrityError:
        # Two posts of one form at once: the loser's insert hit the key's unique constraint.
        existing = (
            Prescription.objects.filter(prescriber=actor, idempotency_key=once_key).first()
            if once_key
            else None
        )
        if existing is None:
            raise
        return existing


def _prescription_insert(
    *,
    actor: Any,
    institution: Institution,
    person: Person,
    kind: str,
    consortium: Any,
    department: Department | None,
    diagnosis_code: str,
    diagnosis_name: str,
    prescribed_on: datetime.date,
    valid_until: datetime.date,
    days: int,
    source: Prescription | None,
    note: str,
    cleaned: list[dict[str, Any]],
    once_key: str,
) -> Prescription:
    """The checked prescription's rows in one transaction (``prescription_create`` did the checks)."""
    with transaction.atomic():
        if kind == PrescriptionKind.LONG:
            # Serialise long prescriptions of one person so the overlap check below sees the winner's rows.
            Person.objects.select_for_update().filter(pk=person.pk).first()
            # Checked again under the lock: a concurrent writer may have committed since the check above.
            overlapping = _active_long_items(person, cleaned, prescribed_on).first()
            if overlapping is not None:
                raise Conflict(_overlap_message(overlapping))
        prescription = Prescription(
            kind=kind,
            consortium=consortium,
            institution=institution,
            department=department,
            prescriber=actor,
            prescriber_name=_actor_label(actor),
            person=person,
            diagnosis_code=diagnosis_code,
            diagnosis_name=diagnosis_name,
            prescribed_on=prescribed_on,
            valid_until=valid_until,
            days=days,
            source=source if kind == PrescriptionKind.EXTENDED else None,
            note=note,
            idempotency_key=once_key,
        )
        _save_numbered(prescription, "CF")
        try:
            with transaction.atomic():
                PrescriptionItem.objects.bulk_create(
                    [
                        PrescriptionItem(
                            prescription=prescription,
                            person=person,
                            kind=kind,
                            starts_on=prescribed_on,
                            ends_on=prescribed_on + datetime.timedelta(days=item["days"] - 1),
                            delivered_by_consortium=kind == PrescriptionKind.EXTENDED,
                            **item,
                        )
                        for item in cleaned
                    ]
                )
        except IntegrityError as error:
            raise Conflict(_("患者的同一药品长处方刚被他人开具，请刷新后查看。")) from error
        person_link(actor=actor, person=person, institution=institution, reason=PersonLinkReason.PRESCRIPTION)
        record_event(
            actor=actor,
            action="prescription.create",
            obj=prescription,
            after={
                "kind": kind,
                "diagnosis_code": diagnosis_code,
                "days": days,
                "items": [f"{item['drug'].code} ×{item['quantity']}" for item in cleaned],
                "source": source.number if source is not None and kind == PrescriptionKind.EXTENDED else "",
            },
            institution_public_id=institution.public_id,
            consortium_public_id=consortium.public_id if consortium is not None else None,
        )
        if kind == PrescriptionKind.EXTENDED:
            assert source is not None
            _request_delivery(actor=actor, prescription=prescription, lead=source.institution)
    return prescription


def _request_delivery(*, actor: Any, prescription: Prescription, lead: Institution) -> Delivery:
    now = timezone.now()
    delivery = Delivery(
        prescription=prescription,
        from_institution=lead,
        to_institution=prescription.institution,
        requested_at=now,
    )
    _save_numbered(delivery, "PS")
    DeliveryEvent.objects.create(
        delivery=delivery,
        action="request",
        to_status=DeliveryStatus.REQUESTED,
        actor=actor,
        actor_label=_actor_label(actor),
        institution_name=prescription.institution.name,
        occurred_at=now,
    )
    record_event(
        actor=actor,
        action="delivery.request",
        obj=delivery,
        details={"prescription": prescription.number, "from": lead.name, "to": prescription.institution.name},
        institution_public_id=lead.public_id,
        consortium_public_id=prescription.consortium.public_id if prescription.consortium_id else None,
    )
    return delivery


def prescription_void(
    *, actor: Any, prescription: Prescription, reason: str, expected_version: int | None = None
) -> Prescription:
    """Void (作废) an active prescription with a reason. A requested delivery is cancelled with it; once the
    drugs are dispatched the prescription can no longer be voided (Conflict). Audited as
    ``prescription.void``. Raises NotAllowed, Invalid, Conflict (already voided, stale version)."""
    if not policies.can_void(actor, prescription):
        raise NotAllowed(_("只有开方机构的医师可以作废处方。"))
    reason = str(reason or "").strip()
    if not reason:
        raise Invalid({"reason": [_("请填写作废原因。")]})
    if len(reason) > 200:
        raise Invalid({"reason": [_("作废原因不能超过 200 个字。")]})
    with transaction.atomic():
        condition = {"pk": prescription.pk, "status": PrescriptionStatus.ACTIVE}
        if expected_version is not None:
            condition["version"] = expected_version
        delivery = Delivery.objects.select_for_update().filter(prescription=prescription).first()
        if delivery is not None and delivery.status not in (
            DeliveryStatus.REQUESTED,
            DeliveryStatus.CANCELLED,
        ):
            raise Conflict(_("药品已由牵头医院发出，不能作废该延伸处方。"))
        now = timezone.now()
        updated = Prescription.objects.filter(**condition).update(
            status=PrescriptionStatus.VOIDED,
            voided_at=now,
            voided_by=actor,
            void_reason=reason,
            version=F("version") + 1,
            updated_at=now,
        )
        if not updated:
            raise Conflict(_("处方已作废或已被他人修改，请刷新后查看。"))
        prescription.items.update(is_current=False)
        if delivery is not None and delivery.status == DeliveryStatus.REQUESTED:
            _move_delivery(
                actor=actor,
                delivery=delivery,
                action="cancel",
                note=message(gettext_noop("处方作废：{reason}"), reason=reason),
            )
        record_event(
            actor=actor,
            action="prescription.void",
            obj=prescription,
            before={"status": PrescriptionStatus.ACTIVE},
            after={"status": PrescriptionStatus.VOIDED, "reason": reason},
            institution_public_id=prescription.institution.public_id,
            consortium_public_id=prescription.consortium.public_id if prescription.consortium_id else None,
        )
    prescription.refresh_from_db()
    return prescription


# --- deliveries ---------------------------------------------------------------------------------

STEP_TIMES = {
    "dispatch": "dispatched_at",
    "receive": "received_at",
    "hand_over": "handed_at",
    "cancel": "cancelled_at",
}


def _move_delivery(*, actor: Any, delivery: Delivery, action: str, note: str | Message = "") -> Delivery:
    # The timeline keeps a system note untranslated (shown in each reader's language); the delivery's own
    # note and the audit keep the text as read now.
    note_template, note_params = stored(note)
    text = str(note)
    start, end = DELIVERY_STEPS[action]
    now = timezone.now()
    updated = Delivery.objects.filter(pk=delivery.pk, status=start).update(
        status=end, updated_at=now, **{STEP_TIMES[action]: now}, **({"note": text[:300]} if text else {})
    )
    if not updated:
        raise Conflict(_("配送单状态已变化（可能已被他人处理），请刷新后查看。"))
    delivery.refresh_from_db()
    side = delivery.from_institution if action == "dispatch" else delivery.to_institution
    DeliveryEvent.objects.create(
        delivery=delivery,
        action=action,
        from_status=start,
        to_status=end,
        actor=actor,
        actor_label=_actor_label(actor),
        institution_name=side.name,
        note=note_template[:300],
        note_params=note_params,
        occurred_at=now,
    )
    record_event(
        actor=actor,
        action=f"delivery.{action}",
        obj=delivery,
        before={"status": start},
        after={"status": end},
        details={"note": text} if text else None,
        institution_public_id=side.public_id,
    )
    return delivery


def delivery_step(*, actor: Any, delivery: Delivery, action: str, note: str = "") -> Delivery:
    """Move a delivery one step: ``dispatch`` (the lead's pharmacy sends the drugs), ``receive`` (the member
    signs for them), ``hand_over`` (to the patient), ``cancel`` (before dispatch, with a note). Of two
    concurrent identical steps one wins; the other gets Conflict. Audited as ``delivery.<action>``.
    Raises NotAllowed, Invalid, Conflict."""
    if action not in DELIVERY_STEPS:
        raise Invalid({"action": [_("无效的配送操作。")]})
    if not policies.can_step_delivery(actor, delivery, action):
        raise NotAllowed(_("您无权执行该配送操作。"))
    note = str(note or "").strip()
    if len(note) > 300:
        raise Invalid({"note": [_("说明不能超过 300 个字。")]})
    if action == "cancel" and not note:
        raise Invalid({"note": [_("请填写取消原因。")]})
    with transaction.atomic():
        return _move_delivery(actor=actor, delivery=delivery, action=action, note=note)
