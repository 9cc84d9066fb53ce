"""Writes of insurance: budgets, settlement rules, unreasonable amounts on claims, frozen settlements.

Every write takes the keyword ``actor``, runs in one transaction and records
an audit event. Raises NotAllowed / Conflict / Invalid from
``yilian.core.exceptions``.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yilian.accounts.selectors import scope_for
from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.permissions import Role
from yilian.insurance import calculation, policies, selectors
from yilian.insurance.choices import SettlementStatus, SettlementTier
from yilian.insurance.models import (
    BudgetDeduction,
    BudgetHeadcount,
    Claim,
    GlobalBudget,
    MemberTier,
    Settlement,
    SettlementRule,
    SettlementShare,
)
from yilian.people.choices import InsuranceScheme

BUDGET_FIELDS = (
    "year",
    "consortium_share",
    "prepayment_rate",
    "counts_members",
    "counts_in_county_others",
    "counts_out_of_county",
    "counts_pharmacies",
    "notes",
)
RULE_FIELDS = (
    "name",
    "surplus_retained",
    "overspend_borne",
    "lead_parts",
    "township_parts",
    "village_parts",
    "weighted_by_score",
    "is_adopted",
)
RULE_PRESETS: dict[str, dict[str, Any]] = {
    "6:3:1": {"lead_parts": 6, "township_parts": 3, "village_parts": 1},
    "4:3:3": {"lead_parts": 4, "township_parts": 3, "village_parts": 3},
}
"""The default tier ratio and the seeds' alternative."""


MAX_MONEY = Decimal("1000000000000")
"""Money columns hold 14 digits with 2 places: amounts and the fund total must stay below 10¹²."""


def _number(value: Any, field: str, label: str, errors: dict[str, list[str]]) -> Decimal | None:
    """``value`` as a finite Decimal, or None with "…须为数字" added to ``errors``."""
    try:
        return calculation.to_decimal(value)
    except ValueError:
        errors.setdefault(field, []).append(_("%(label)s须为数字") % {"label": label})
        return None


def _rate(data: Mapping[str, Any], field: str, label: str, errors: dict[str, list[str]]) -> Decimal | None:
    value = _number(data.get(field), field, label, errors)
    if value is None:
        return None
    # Range first: quantizing a huge number raises InvalidOperation.
    if not Decimal("0") <= value <= Decimal("1"):
        errors.setdefault(field, []).append(_("%(label)s须在0到1之间") % {"label": label})
        return None
    return value.quantize(Decimal("0.0001"))


def _money(value: Any, field: str, label: str, errors: dict[str, list[str]]) -> Decimal | None:
    amount = _number(value, field, label, errors)
    if amount is None:
        return None
    if amount < 0:
        errors.setdefault(field, []).append(_("%(label)s不能为负数") % {"label": label})
        return None
    if amount >= MAX_MONEY:
        errors.setdefault(field, []).append(_("%(label)s过大") % {"label": label})
        return None
    return calculation.money(amount)


def _clean_budget(
    data: Mapping[str, Any],
) -> tuple[dict[str, Any], list[tuple[str, int, Decimal]], list[tuple[str, Decimal]]]:
    """Validate budget fields, headcounts and deductions; raises Invalid with Chinese messages."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        year = int(data.get("year"))  # type: ignore[arg-type]
        if not 2000 <= year <= 2100:
            raise ValueError
        cleaned["year"] = year
    except (TypeError, ValueError):
        errors["year"] = [_("年度须为2000–2100之间的年份")]
    cleaned["consortium_share"] = _rate(data, "consortium_share", _("打包比例"), errors)
    cleaned["prepayment_rate"] = _rate(data, "prepayment_rate", _("月度预付比例"), errors)
    for switch in ("counts_members", "counts_in_county_others", "counts_out_of_county", "counts_pharmacies"):
        cleaned[switch] = bool(data.get(switch, False))
    cleaned["notes"] = str(data.get("notes") or "")[:300]
    headcounts: list[tuple[str, int, Decimal]] = []
    seen: set[str] = set()
    for row in data.get("headcounts") or []:
        scheme = str(row.get("scheme") or "")
        if scheme not in InsuranceScheme.values:
            errors.setdefault("headcounts", []).append(_("险种“%(scheme)s”无效") % {"scheme": scheme})
            continue
        if scheme in seen:
            errors.setdefault("headcounts", []).append(_("险种重复：%(scheme)s") % {"scheme": scheme})
            continue
        seen.add(scheme)
        try:
            count = int(row.get("insured_count"))
            if count < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.setdefault("headcounts", []).append(_("参保人数须为不小于0的整数"))
            continue
        fund = _money(row.get("per_capita_fund"), "headcounts", _("人均基金"), errors)
        if fund is not None:
            headcounts.append((scheme, count, fund))
    if not headcounts and "headcounts" not in errors:
        errors["headcounts"] = [_("至少填写一个险种的参保人数与人均基金")]
    deductions: list[tuple[str, Decimal]] = []
    names: set[str] = set()
    for row in data.get("deductions") or []:
        name = str(row.get("name") or "").strip()
        if not name:
            errors.setdefault("deductions", []).append(_("扣除项须有名称"))
            continue
        if name in names:
            errors.setdefault("deductions", []).append(_("扣除项重复：%(name)s") % {"name": name})
            continue
        names.add(name)
        amount = _money(row.get("amount"), "deductions", _("扣除金额"), errors)
        if amount is not None:
            deductions.append((name[:60], amount))
    if not errors:
        gross = sum((count * fund for _scheme, count, fund in headcounts), Decimal("0"))
        if gross >= MAX_MONEY:
            # The pool and the settlement's figures are stored in money columns.
            errors["headcounts"] = [_("基金总额过大")]
        elif sum((amount for _name, amount in deductions), Decimal("0")) > gross:
            errors["deductions"] = [_("扣除项合计超过基金总额")]
    if errors:
        raise Invalid(errors)
    return cleaned, headcounts, deductions


def _replace_rows(
    budget: GlobalBudget,
    headcounts: Iterable[tuple[str, int, Decimal]],
    deductions: Iterable[tuple[str, Decimal]],
) -> None:
    budget.headcounts.all().delete()
    budget.deductions.all().delete()
    BudgetHeadcount.objects.bulk_create(
        BudgetHeadcount(budget=budget, scheme=scheme, insured_count=count, per_capita_fund=fund)
        for scheme, count, fund in headcounts
    )
    BudgetDeduction.objects.bulk_create(
        BudgetDeduction(budget=budget, name=name, amount=amount) for name, amount in deductions
    )


def _rows_snapshot(budget: GlobalBudget) -> dict[str, Any]:
    return {
        "headcounts": [
            [row.scheme, row.insured_count, str(row.per_capita_fund)]
            for row in budget.headcounts.order_by("scheme")
        ],
        "deductions": [[row.name, str(row.amount)] for row in budget.deductions.order_by("name")],
    }


def _carry_member_tiers(budget: GlobalBudget) -> None:
    """A new year starts from the tiers chosen in the consortium's latest earlier budget, not the defaults."""
    previous = (
        GlobalBudget.objects.filter(consortium_id=budget.consortium_id, year__lt=budget.year)
        .order_by("-year")
        .first()
    )
    if previous is not None:
        MemberTier.objects.bulk_create(
            MemberTier(
                budget=budget, institution_id=row.institution_id, tier=row.tier, decided_by=row.decided_by
            )
            for row in previous.member_tiers.all()
        )


def budget_create(*, actor: Any, consortium: Any, data: Mapping[str, Any]) -> GlobalBudget:
    """Create a consortium's budget for a year with its headcounts and deductions.

    ``data``: year, consortium_share, prepayment_rate, counts_* switches, notes,
    headcounts [{scheme, insured_count, per_capita_fund}], deductions [{name, amount}].
    The members' settlement tiers chosen in the consortium's latest earlier
    budget are carried over. Raises NotAllowed (not an insurance officer of it), Invalid, Conflict (a
    budget for that year exists).
    """
    if not policies.can_manage_budget(actor, consortium):
        raise NotAllowed(_("只有医保专员可以配置总额预算"))
    cleaned, headcounts, deductions = _clean_budget(data)
    try:
        with transaction.atomic():
            budget = GlobalBudget.objects.create(consortium=consortium, created_by=actor, **cleaned)
            _replace_rows(budget, headcounts, deductions)
            _carry_member_tiers(budget)
            record_event(
                actor=actor,
                action="budget.create",
                obj=budget,
                after={**snapshot(budget, BUDGET_FIELDS), **_rows_snapshot(budget)},
                consortium_public_id=consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("%(year)s年度的预算已存在") % {"year": cleaned["year"]}) from error
    return budget


def budget_update(*, actor: Any, budget: GlobalBudget, version: int, data: Mapping[str, Any]) -> GlobalBudget:
    """Replace a budget's settings, headcounts and deductions if ``version`` is still current.

    Once a settlement of the budget is frozen, the year's settlement rule is
    settled: only the notes may still change; anything that shapes the
    figures (year, rates, switches, headcounts, deductions) is refused with a
    Conflict naming the frozen version. The budget's row is locked first, so
    an edit and a freeze at once end with one of them refused.
    Raises NotAllowed, Invalid, Conflict (stale version, a frozen settlement, or the year is taken).
    """
    if not policies.can_manage_budget(actor, budget.consortium):
        raise NotAllowed(_("只有医保专员可以配置总额预算"))
    cleaned, headcounts, deductions = _clean_budget(data)
    try:
        with transaction.atomic():
            locked = _lock_budget(budget)
            frozen = selectors.frozen_settlement(locked)
            if frozen is not None and _changes_figures(locked, cleaned, headcounts, deductions):
                raise _frozen_conflict(frozen)
            before = {**snapshot(budget, BUDGET_FIELDS), **_rows_snapshot(budget)}
            # The conditional update is the optimistic lock: only one writer of a version wins.
            updated = GlobalBudget.objects.filter(pk=budget.pk, version=version).update(
                version=F("version") + 1, updated_at=timezone.now(), **cleaned
            )
            if not updated:
                raise Conflict(_("预算已被他人修改，请刷新后重试"))
            budget.refresh_from_db()
            _replace_rows(budget, headcounts, deductions)
            record_event(
                actor=actor,
                action="budget.update",
                obj=budget,
                before=before,
                after={**snapshot(budget, BUDGET_FIELDS), **_rows_snapshot(budget)},
                consortium_public_id=budget.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("%(year)s年度的预算已存在") % {"year": cleaned["year"]}) from error
    return budget


FIGURE_FIELDS = tuple(name for name in BUDGET_FIELDS if name != "notes")
"""The budget's fields that shape its settlement's figures; the notes do not."""


def _frozen_conflict(settlement: Settlement) -> Conflict:
    """The refusal of a change to a budget whose settlement is frozen, naming the version and its time."""
    return Conflict(
        _(
            "本预算已冻结第%(version)s版结算（%(time)s），本年度的结算口径已确定："
            "年度、打包比例、月度预付比例、计入范围、参保人数与人均基金、扣除项和成员结算层级不能再修改。"
        )
        % {
            "version": settlement.version,
            "time": timezone.localtime(settlement.frozen_at).strftime("%Y-%m-%d %H:%M"),
        }
    )


def _lock_budget(budget: GlobalBudget) -> GlobalBudget:
    """The budget's row, locked until the transaction ends: freezes, budget edits and tier changes of one
    budget take turns, so a freeze never keeps figures an edit changed under it."""
    return GlobalBudget.objects.select_for_update().get(pk=budget.pk)


def _changes_figures(
    locked: GlobalBudget,
    cleaned: Mapping[str, Any],
    headcounts: Iterable[tuple[str, int, Decimal]],
    deductions: Iterable[tuple[str, Decimal]],
) -> bool:
    """True when the cleaned data differs from the stored budget in anything but the notes."""
    if any(getattr(locked, name) != cleaned[name] for name in FIGURE_FIELDS):
        return True
    stored_headcounts = {
        (row.scheme, row.insured_count, row.per_capita_fund) for row in locked.headcounts.all()
    }
    stored_deductions = {(row.name, row.amount) for row in locked.deductions.all()}
    return stored_headcounts != set(headcounts) or stored_deductions != set(deductions)


def _clean_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    named = RULE_PRESETS.get(str(data.get("preset") or ""))
    preset = named or RULE_PRESETS["6:3:1"]
    cleaned["name"] = str(data.get("name") or "").strip()[:60]
    if not cleaned["name"]:
        errors["name"] = [_("请填写方案名称")]
    cleaned["surplus_retained"] = _rate(data, "surplus_retained", _("结余留用比例 α"), errors)
    cleaned["overspend_borne"] = _rate(data, "overspend_borne", _("合理超支医共体承担比例 γ"), errors)
    for part in ("lead_parts", "township_parts", "village_parts"):
        raw = data.get(part)
        if named or raw in (None, ""):
            raw = preset[part]
        try:
            value = int(raw)  # type: ignore[arg-type]
            if not 0 <= value <= 100:
                raise ValueError
            cleaned[part] = value
        except (TypeError, ValueError):
            errors[part] = [_("份数须为0–100的整数")]
    if not errors and not (cleaned["lead_parts"] + cleaned["township_parts"] + cleaned["village_parts"]):
        errors["lead_parts"] = [_("三级份数不能全为0")]
    cleaned["weighted_by_score"] = bool(data.get("weighted_by_score", False))
    cleaned["is_adopted"] = bool(data.get("is_adopted", False))
    if errors:
        raise Invalid(errors)
    return cleaned


def settlement_rule_save(
    *, actor: Any, budget: GlobalBudget, data: Mapping[str, Any], rule: SettlementRule | None = None
) -> SettlementRule:
    """Create or update a settlement rule (α, γ, tier parts, score weighting); adopting one un-adopts the others.

    ``data`` may name a ``preset`` ("6:3:1" or "4:3:3") for the parts. The budget's row is locked first, as a
    freeze locks it: a save and a freeze of the budget take turns, and a freeze that read the rule before
    this save committed is refused instead of keeping the old parameters (see ``settlement_freeze``).
    Raises NotAllowed, Invalid, Conflict (name taken).
    """
    if not policies.can_manage_budget(actor, budget.consortium):
        raise NotAllowed(_("只有医保专员可以配置结算方案"))
    cleaned = _clean_rule(data)
    try:
        with transaction.atomic():
            _lock_budget(budget)
            # Touch the budget's row: a PostgreSQL freeze that took its snapshot before this commits and waits
            # for the lock is then refused (serialization failure) instead of freezing the old parameters.
            GlobalBudget.objects.filter(pk=budget.pk).update(updated_at=timezone.now())
            if cleaned["is_adopted"]:
                budget.rules.exclude(pk=getattr(rule, "pk", None)).update(is_adopted=False)
            before = snapshot(rule, RULE_FIELDS) if rule else None
            if rule is None:
                rule = SettlementRule.objects.create(budget=budget, **cleaned)
            else:
                for name, value in cleaned.items():
                    setattr(rule, name, value)
                rule.save()
            record_event(
                actor=actor,
                action="settlement_rule.update" if before else "settlement_rule.create",
                obj=rule,
                before=before,
                after=snapshot(rule, RULE_FIELDS),
                consortium_public_id=budget.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("同名方案已存在，或已有采用的方案")) from error
    return rule


def _tier_audit_label(tier: str, default_tier: str) -> str:
    """A member's tier as the audit log shows it: the tier's label, or 默认（its default's label）.

    The audit log labels values by the changed model field's choices, but this
    event is keyed by member name, so the labels are stored; in the source
    language, as the log's other stored text is, whoever makes the change.
    """
    with translation.override(settings.LANGUAGE_CODE):
        if tier:
            return str(SettlementTier(tier).label)
        return _("默认（%(tier)s）") % {"tier": SettlementTier(default_tier).label}


def member_tiers_set(*, actor: Any, budget: GlobalBudget, tiers: Mapping[str, Any]) -> list[str]:
    """Record the settlement tier of members of the budget's consortium; returns the changed members' names.

    ``tiers`` maps an active member's institution public id to a tier
    (``SettlementTier``: lead, township, village), or to "" / None to return it
    to the default. Members not named keep theirs. Side effects: the
    ``MemberTier`` rows, and one audit event ``settlement_tier.update`` on the
    budget with the changed members' tiers before and after as labels
    ("默认（牵头医院）" when none is recorded; the codes are kept in its
    details); nothing when nothing changes. Frozen settlements keep their
    tiers. Raises NotAllowed (not an insurance officer of the consortium),
    Invalid (not a member, an unknown tier; nothing is saved), Conflict (a
    concurrent first choice for the same member, or a settlement of the
    budget is frozen: the year's tiers are settled with it).
    """
    if not policies.can_manage_budget(actor, budget.consortium):
        raise NotAllowed(_("只有医保专员可以确定成员结算层级"))
    rows = {str(row.institution_public_id): row for row in selectors.member_tiers(budget)}
    errors: dict[str, list[str]] = {}
    wanted: dict[str, str] = {}
    for key, value in tiers.items():
        row = rows.get(str(key))
        tier = str(value or "").strip()
        if row is None:
            errors.setdefault("tiers", []).append(_("“%(key)s”不是本医联体的在册成员") % {"key": key})
        elif tier and tier not in SettlementTier.values:
            errors.setdefault("tiers", []).append(
                _("%(name)s：结算层级“%(tier)s”无效") % {"name": row.name, "tier": tier}
            )
        else:
            wanted[str(key)] = tier
    if errors:
        raise Invalid(errors)
    changed = {key: tier for key, tier in wanted.items() if rows[key].recorded_tier != tier}
    if not changed:
        return []
    try:
        with transaction.atomic():
            frozen = selectors.frozen_settlement(_lock_budget(budget))
            if frozen is not None:
                raise _frozen_conflict(frozen)
            # Touch the budget's row: a freeze that took its snapshot before this commits and waits for the
            # lock is then refused (PostgreSQL serialization failure) instead of keeping the old tiers.
            GlobalBudget.objects.filter(pk=budget.pk).update(updated_at=timezone.now())
            for key, tier in changed.items():
                institution_id = rows[key].institution_id
                if tier:
                    MemberTier.objects.update_or_create(
                        budget=budget,
                        institution_id=institution_id,
                        defaults={"tier": tier, "decided_by": actor},
                    )
                else:
                    MemberTier.objects.filter(budget=budget, institution_id=institution_id).delete()
            record_event(
                actor=actor,
                action="settlement_tier.update",
                obj=budget,
                before={
                    rows[key].name: _tier_audit_label(rows[key].recorded_tier, rows[key].default_tier)
                    for key in changed
                },
                after={
                    rows[key].name: _tier_audit_label(tier, rows[key].default_tier)
                    for key, tier in changed.items()
                },
                details={
                    "institutions": sorted(changed),
                    "tiers": {
                        rows[key].name: [rows[key].recorded_tier or "default", tier or "default"]
                        for key, tier in changed.items()
                    },
                },
                consortium_public_id=budget.consortium.public_id,
            )
    except IntegrityError as error:
        # Two officers recording the same member's first choice at once: the loser retries on fresh rows.
        raise Conflict(_("结算层级已被他人修改，请刷新后重试")) from error
    return [rows[key].name for key in changed]


def claim_mark_unreasonable(*, actor: Any, claim: Claim, amount: Any, reason: str) -> Claim:
    """Record the amount of a claim the insurance review found unreasonable (borne by the consortium).

    0 clears it. Raises NotAllowed (not an insurance officer over the
    insured's county), Invalid (negative, over the fund's payment, no reason).
    """
    region_code = claim.insured_region.code
    if not policies.can_read_claim_rows(actor, region_code) or not _is_insurance_officer_over(
        actor, region_code
    ):
        raise NotAllowed(_("只有医保专员可以认定不合理费用"))
    errors: dict[str, list[str]] = {}
    value = _money(amount, "amount", _("不合理费用"), errors)
    if value is not None and value > claim.fund_paid:
        errors["amount"] = [_("不合理费用不能超过基金支付金额")]
    reason = (reason or "").strip()
    if value and not reason:
        errors["reason"] = [_("请填写不合理原因")]
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        before = {"unreasonable_amount": str(claim.unreasonable_amount), "reason": claim.unreasonable_reason}
        Claim.objects.filter(pk=claim.pk).update(unreasonable_amount=value, unreasonable_reason=reason[:300])
        claim.unreasonable_amount, claim.unreasonable_reason = value, reason[:300]  # type: ignore[assignment]
        record_event(
            actor=actor,
            action="claim.mark_unreasonable",
            obj=claim,
            before=before,
            after={"unreasonable_amount": str(value), "reason": claim.unreasonable_reason},
            region_code=region_code,
        )
    return claim


def _is_insurance_officer_over(actor: Any, region_code: str) -> bool:
    """Only insurance officers (not regulators, who also read rows) judge amounts unreasonable."""
    return scope_for(actor).covers_region(region_code, Role.INSURANCE_OFFICER)


def _computed_from(aggregates: calculation.Aggregates, outcome: calculation.Outcome) -> tuple[Any, ...]:
    """What a freeze keeps, as comparable values: the totals and each member's spend, unreasonable amount and
    share (two reads of the same data give equal tuples)."""
    return (
        outcome.pool,
        outcome.charged,
        outcome.subsidies,
        aggregates.unreasonable,
        tuple((m.institution_id, m.spent, m.unreasonable) for m in aggregates.members),
        tuple((share.institution_id, share.amount) for share in outcome.shares),
    )


def settlement_freeze(
    *,
    actor: Any,
    budget: GlobalBudget,
    rule: SettlementRule,
    scores: Mapping[int, Decimal] | None = None,
    expected_latest: int | None = None,
    rule_seen: datetime.datetime | None = None,
) -> Settlement:
    """Compute the settlement of ``budget`` under ``rule`` and freeze it as the next version with its shares.

    The new version supersedes the one in force (the budget's latest, unless it was reopened) in the same
    transaction: the version in force is always the latest one, so there is never a moment with two, and
    the audit event names the version it supersedes. ``expected_latest`` is the latest version the officer
    saw when they confirmed (0: none; the rules page and the API send it): when another freeze committed
    since, this one is refused with Conflict instead of superseding a version the officer never saw — two
    freezes at once end with one winner and one Conflict.

    The rule's parameters are read again under the budget's lock (rule saves take it too): a rule edited
    since the caller read ``rule`` — or, with ``rule_seen`` (the rule's ``updated_at`` the officer's page
    showed), since the page was loaded — answers Conflict instead of freezing parameters nobody confirmed.

    Besides the shares, the settlement keeps everything its page, PDF, Excel
    and API show: the members' and the consortium's names, the year and the
    budget's twelve months with the places counted (``figures["monthly"]``),
    so later imports, tier changes, renames or budget edits leave it as it
    was. Everything the settlement is computed from is read in one
    transaction, after the budget's row is locked, as one snapshot
    (``_read_one_snapshot``): claims imported or changed meanwhile are either
    all in it or not at all, and the check that re-reads the months and each
    member's spend, unreasonable amount and share compares reads of that same
    snapshot with what is written. A budget edit, tier change or reopen that
    committed after the caller read ``budget`` (its ``version``), or while
    the freeze waited for the lock, answers Conflict; one that comes later
    waits and is then refused by the frozen settlement. Two freezes at once
    get versions n and n + 1, or the loser gets a clean Conflict. Raises NotAllowed,
    Invalid (rule of another budget, scores out of 0–100), Conflict.
    """
    if not policies.can_manage_budget(actor, budget.consortium):
        raise NotAllowed(_("只有医保专员可以冻结结算"))
    if rule.budget_id != budget.pk:
        raise Invalid({"rule": [_("方案不属于该预算")]})
    clean_scores: dict[int, Decimal] = {}
    for institution_id, score in (scores or {}).items():
        try:
            value = calculation.to_decimal(score)
        except ValueError:
            raise Invalid({"scores": [_("考核得分须为数字")]}) from None
        if not Decimal("0") <= value <= Decimal("100"):
            raise Invalid({"scores": [_("考核得分须在0到100之间")]})
        clean_scores[int(institution_id)] = value.quantize(Decimal("0.01"))
    parameters = selectors.rule_parameters(rule)
    try:
        with transaction.atomic():
            _read_one_snapshot()
            # The budget's row first: budget edits, tier changes, rule saves, reopens and other freezes of this
            # budget wait until this freeze ends, so the figures below are read and kept under the same lock.
            locked = _lock_budget(budget)
            if locked.version != budget.version:
                # Edited or reopened since the officer's page (or the caller) read it: freeze what they saw.
                raise Conflict(_("预算或成员结算层级在计算期间被修改，请刷新后重试"))
            _check_rule_unchanged(rule, rule_seen)
            aggregates = selectors.settlement_aggregates(budget, clean_scores)
            outcome = calculation.settle(aggregates, parameters)
            monthly = selectors.budget_monthly(budget, destinations=False)
            _recheck(budget, aggregates, outcome, monthly, parameters)
            # The tiers were read under the lock too; compare them as the claims are, in the same transaction.
            recorded_now = dict(
                locked.member_tiers.filter(
                    institution_id__in=[member.institution_id for member in aggregates.members]
                ).values_list("institution_id", "tier")
            )
            recorded_then = {m.institution_id: m.tier for m in aggregates.members if m.tier_recorded}
            if recorded_now != recorded_then:
                raise Conflict(_("预算或成员结算层级在计算期间被修改，请刷新后重试"))
            previous = selectors.latest_settlement(budget)
            latest = previous.version if previous is not None else 0
            if expected_latest is not None and latest != expected_latest:
                raise _superseded_meanwhile(previous, expected_latest)
            settlement = Settlement.objects.create(
                budget=budget,
                version=latest + 1,
                rule_name=rule.name,
                pool=outcome.pool,
                spent=outcome.spent,
                result=outcome.result,
                consortium_amount=outcome.consortium_amount,
                fund_amount=outcome.fund_amount,
                figures={
                    **outcome.as_figures(aggregates),
                    "scores": {str(k): str(v) for k, v in clean_scores.items()},
                    # Which members' tiers an officer chose (the rest took the default), for the reports.
                    "tiers_recorded": [str(m.institution_id) for m in aggregates.members if m.tier_recorded],
                    "consortium_name": budget.consortium.name,
                    "year": budget.year,
                    "monthly": monthly.as_figures(),
                },
                frozen_at=timezone.now(),
                frozen_by=actor,
            )
            SettlementShare.objects.bulk_create(
                SettlementShare(
                    settlement=settlement,
                    institution_id=share.institution_id,
                    institution_name=share.name,
                    tier=share.tier,
                    score=share.score,
                    amount=share.amount,
                )
                for share in outcome.shares
            )
            record_event(
                actor=actor,
                action="settlement.freeze",
                obj=settlement,
                details={
                    "version": settlement.version,
                    "rule": rule.name,
                    "result": str(outcome.result),
                    "consortium_amount": str(outcome.consortium_amount),
                    # The version this one replaces (in force, or reopened for this correction), if any.
                    "supersedes": latest or None,
                    "superseded_status": (
                        None
                        if previous is None
                        else str(selectors.settlement_status(previous, latest))  # in_force or reopened
                    ),
                },
                consortium_public_id=budget.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("另一结算正在冻结，请刷新后重试")) from error
    except OperationalError as error:
        if not _serialization_failure(error):
            raise
        # PostgreSQL: the budget's row changed after this freeze's snapshot was taken (an edit, a tier change,
        # a reopen or another freeze committed while it waited for the lock): its snapshot is stale.
        raise Conflict(_("预算或结算在冻结期间被修改，请刷新后重试")) from error
    return settlement


def _check_rule_unchanged(rule: SettlementRule, seen: datetime.datetime | None) -> None:
    """Refuse the freeze (Conflict) when ``rule`` was edited since the caller read it, or since ``seen``.

    Read under the budget's lock, which rule saves take as well, so the edit cannot commit after this check.
    """
    current = SettlementRule.objects.filter(pk=rule.pk, budget_id=rule.budget_id).first()
    changed = current is None or any(
        getattr(current, name) != getattr(rule, name) for name in RULE_FIELDS if name != "is_adopted"
    )
    if changed or (seen is not None and current is not None and current.updated_at != seen):
        raise Conflict(
            _("结算方案“%(name)s”在您确认后已被修改，请刷新后核对参数再冻结") % {"name": rule.name}
        )


def _superseded_meanwhile(latest: Settlement | None, expected: int) -> Conflict:
    """The refusal of a freeze confirmed against an older state: another version was frozen since."""
    if latest is None or latest.version < expected:
        return Conflict(_("结算版本已变化，请刷新后核对再冻结"))
    return Conflict(
        _(
            "您确认冻结后，第%(version)s版结算已于%(time)s冻结；请刷新后核对，如仍需冻结请重新确认（新版本将取代它）"
        )
        % {
            "version": latest.version,
            "time": timezone.localtime(latest.frozen_at).strftime("%Y-%m-%d %H:%M"),
        }
    )


def _recheck(
    budget: GlobalBudget,
    aggregates: calculation.Aggregates,
    outcome: calculation.Outcome,
    monthly: selectors.BudgetMonthly,
    parameters: calculation.Parameters,
) -> None:
    """Read again what the settlement was computed from, in the freeze's transaction: the totals against
    December's cumulative figures (or the workbook would contradict the summary), and each member's spend,
    unreasonable amount and share, so money moved between members with the total unchanged is caught too.
    Raises Conflict when the two reads disagree (within one snapshot only a change made by the freeze's own
    connection can cause that; the check keeps the months and the shares honest with each other)."""
    by_member, unreasonable = selectors.member_claim_totals(budget)
    reread = dataclasses.replace(
        aggregates,
        charged=monthly.counted_total,
        subsidies=monthly.subsidies,
        unreasonable=unreasonable,
        members=tuple(
            dataclasses.replace(
                member,
                spent=by_member.get(member.institution_id, (calculation.ZERO, calculation.ZERO))[0],
                unreasonable=by_member.get(member.institution_id, (calculation.ZERO, calculation.ZERO))[1],
            )
            for member in aggregates.members
        ),
    )
    if monthly.pool != outcome.pool or _computed_from(aggregates, outcome) != _computed_from(
        reread, calculation.settle(reread, parameters)
    ):
        raise Conflict(_("结算数据在计算期间发生变化，请重试"))


def _read_one_snapshot() -> None:
    """Make the freeze's reads one consistent snapshot. Called first in its outermost transaction.

    SQLite runs every transaction ``IMMEDIATE`` (settings): the freeze holds the database's write lock, so
    no claim, budget or tier changes between its reads. PostgreSQL's default READ COMMITTED gives every
    statement its own snapshot, so claims imported while the freeze computes would show in one read and not
    another; REPEATABLE READ gives the whole transaction the snapshot of its first statement. A writer of
    the budget's inputs that committed while the freeze waited for the row lock updated that row, which
    PostgreSQL answers with a serialization failure (turned into Conflict). Inside an enclosing transaction
    (tests, a caller's atomic block) the isolation is the caller's.
    """
    connection = transaction.get_connection()
    # The outermost atomic block has no savepoint; a nested one (the caller's transaction) has.
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _serialization_failure(error: OperationalError) -> bool:
    """True for PostgreSQL's "could not serialize access" (SQLSTATE 40001)."""
    return getattr(error.__cause__, "sqlstate", None) == "40001"


REOPEN_REASON_MAX = 300
"""The longest reason a reopen keeps (``Settlement.reopen_reason``)."""


def settlement_reopen(*, actor: Any, settlement: Settlement, reason: str) -> Settlement:
    """Reopen the settlement in force for a correction (重新开放), with the officer's reason.

    Only the budget's latest version, frozen and not yet reopened, may be
    reopened. The version itself is kept as history — its figures and shares
    are never touched; it records who reopened it, when and why, and stops
    being in force. The budget's figures and members' tiers become editable
    again, and the corrected settlement is frozen as the next version.
    Side effects: the settlement's reopen fields, the budget's ``version``
    bumped (an edit form or a freeze computed before the reopen answers
    Conflict), one audit event ``settlement.reopen`` with the version, the
    reason and the figures it had. The budget's row is locked, so two reopens,
    or a reopen and a freeze, at once end with one winner and one Conflict.
    Raises NotAllowed (not an insurance officer of the consortium), Invalid
    (no reason, or longer than 300 characters; nothing saved), Conflict (a
    later version exists, or it is already reopened).
    """
    budget = settlement.budget
    if not policies.can_manage_budget(actor, budget.consortium):
        raise NotAllowed(_("只有医保专员可以重新开放结算"))
    text = str(reason or "").strip()
    if not text:
        raise Invalid({"reason": [_("请填写重新开放的原因")]})
    if len(text) > REOPEN_REASON_MAX:
        raise Invalid(
            {"reason": [_("原因不能超过%(n)s个字（现为%(m)s个）") % {"n": REOPEN_REASON_MAX, "m": len(text)}]}
        )
    with transaction.atomic():
        locked = _lock_budget(budget)
        current = Settlement.objects.select_related("reopened_by").get(pk=settlement.pk)
        latest = locked.settlements.aggregate(latest=Max("version"))["latest"] or 0
        if current.is_reopened:
            raise Conflict(
                _("第%(version)s版结算已于%(time)s由%(who)s重新开放，请刷新后查看")
                % {
                    "version": current.version,
                    "time": timezone.localtime(current.reopened_at).strftime("%Y-%m-%d %H:%M"),
                    "who": _person_label(current.reopened_by),
                }
            )
        if current.version != latest:
            raise Conflict(
                _("第%(version)s版结算已被第%(latest)s版取代，只能重新开放生效的最新版本")
                % {"version": current.version, "latest": latest}
            )
        now = timezone.now()
        Settlement.objects.filter(pk=current.pk).update(
            reopened_at=now, reopened_by=actor, reopen_reason=text, updated_at=now
        )
        # The budget changed state (its figures are editable again): forms and freezes read before are stale.
        GlobalBudget.objects.filter(pk=locked.pk).update(version=F("version") + 1, updated_at=now)
        settlement.reopened_at, settlement.reopened_by, settlement.reopen_reason = now, actor, text
        budget.version = locked.version + 1
        record_event(
            actor=actor,
            action="settlement.reopen",
            obj=settlement,
            before={"status": _status_label(SettlementStatus.IN_FORCE)},
            after={"status": _status_label(SettlementStatus.REOPENED), "reason": text},
            details={
                "version": current.version,
                "reason": text,
                "rule": current.rule_name,
                "pool": str(current.pool),
                "result": str(current.result),
                "consortium_amount": str(current.consortium_amount),
                "fund_amount": str(current.fund_amount),
                "frozen_at": current.frozen_at.isoformat(),
            },
            consortium_public_id=budget.consortium.public_id,
        )
    return settlement


def _person_label(user: Any) -> str:
    """A user as messages name them: the full name, else the username; 系统 when none is left."""
    if user is None:
        return _("系统")
    return getattr(user, "full_name", "") or user.get_username()


def _status_label(status: str) -> str:
    """A settlement status's label in the source language, as the audit log's other stored text is."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(SettlementStatus(status).label)
