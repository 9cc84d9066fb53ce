"""App configuration of insurance: settlement records (claims), the global budget and its settlement."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _reads_budgets(request: HttpRequest) -> bool:
    """Budget readers anywhere, and institution administrators (lead: everything; member: own share)."""
    from yilian.accounts.selectors import scope_for
    from yilian.core.permissions import Role
    from yilian.insurance.policies import BUDGET_READERS

    scope = scope_for(request.user)
    return scope.is_platform_admin or scope.has_role(*BUDGET_READERS, Role.INSTITUTION_ADMIN)


def _reads_cost_stories(request: HttpRequest) -> bool:
    """Budget readers; a lead hospital's administrator reaches the page from the budget page.

    Whether an institution leads a consortium needs a query, and menu predicates read only the cached scope.
    """
    from yilian.accounts.selectors import scope_for
    from yilian.insurance.policies import BUDGET_READERS

    scope = scope_for(request.user)
    return scope.is_platform_admin or scope.has_role(*BUDGET_READERS)


def _reads_claim_rows(request: HttpRequest) -> bool:
    from yilian.insurance.policies import claim_row_region_prefixes

    return bool(claim_row_region_prefixes(request.user))


def _register_menu() -> None:
    """医保: the budgets, the claim rows (insurance and oversight roles only) and the cost stories."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("医保")
    for order, label, url_name, allowed in (
        (900, _("医保总额预算"), "insurance:budgets", _reads_budgets),
        (910, _("结算记录"), "insurance:claims", _reads_claim_rows),
        (920, _("费用对比"), "insurance:cost_stories", _reads_cost_stories),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


class InsuranceConfig(AppConfig):
    name = "yilian.insurance"
    label = "insurance"
    verbose_name = _("医保")

    def ready(self) -> None:
        """Register the audit labels and the menu entries."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "budget.create": _("创建医保总额预算"),
                "budget.update": _("修改医保总额预算"),
                "settlement_rule.create": _("新增结算方案"),
                "settlement_rule.update": _("修改结算方案"),
                "settlement.freeze": _("冻结年度结算"),
                "settlement.reopen": _("重新开放年度结算"),
                "settlement_tier.update": _("修改成员结算层级"),
                "claim.mark_unreasonable": _("认定不合理费用"),
            }
        )
        _register_menu()
