"""Menu entries of the referral management pages (called from ``ReferralsConfig.ready``).

Each predicate reads only the actor's cached scope, so the menu adds no query.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _manages_capacity(request: HttpRequest) -> bool:
    from yilian.referrals import policies

    user = request.user
    return any(policies.can_manage_capacity(user, pk) for pk in policies.end_institutions(user))


def _views_statistics(request: HttpRequest) -> bool:
    from yilian.referrals import policies

    return policies.can_view_statistics(request.user)


def _reports_volumes(request: HttpRequest) -> bool:
    from yilian.encounters.policies import can_report_volume_at
    from yilian.referrals import policies

    user = request.user
    return any(can_report_volume_at(user, pk) for pk in policies.end_institutions(user))


def register() -> None:
    """Add 预留号源, 转诊标准与设置, 转诊统计, 差价补贴 and 服务量填报 to the role menu."""
    from yilian.core.ui.menu import MenuEntry
    from yilian.core.ui.menu import register as add

    section = _("转诊管理")
    for order, label, url_name, allowed in (
        (500, _("预留号源"), "referrals:capacity", _manages_capacity),
        (510, _("转诊标准与设置"), "referrals:configuration", _views_statistics),
        (520, _("转诊统计"), "referrals:statistics", _views_statistics),
        (530, _("起付线差价补贴"), "referrals:subsidies", _views_statistics),
        (540, _("服务量填报"), "referrals:volumes", _reports_volumes),
    ):
        add(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))
