"""App configuration of family doctors: audit labels, menu entries and the person-page section."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _uses(request: HttpRequest) -> bool:
    from yilian.family_doctors import policies

    return policies.can_use_family_doctors(request.user)


def _reads_contracts(request: HttpRequest) -> bool:
    # Scope only (no query): the menu is drawn on every page of every app.
    from yilian.accounts.selectors import scope_for
    from yilian.family_doctors import policies

    return scope_for(request.user).is_platform_admin or bool(
        policies.administered_institutions(request.user) or policies.is_clinical_somewhere(request.user)
    )


def _reads_coverage(request: HttpRequest) -> bool:
    from yilian.family_doctors import policies

    return policies.can_view_coverage(request.user)


def _register_menu() -> None:
    """家庭医生签约: teams for everyone with a view, contracts (with the signing button) for admins and
    clinicians, packages and coverage. Predicates read the cached scope only: no query per page."""
    from yilian.core.ui.menu import MenuEntry, register

    section = _("家庭医生签约")
    for order, label, url_name, allowed in (
        (600, _("签约团队"), "family_doctors:teams", _uses),
        (610, _("签约居民"), "family_doctors:contracts", _reads_contracts),
        (620, _("签约服务包"), "family_doctors:packages", _uses),
        (640, _("重点人群签约覆盖"), "family_doctors:coverage", _reads_coverage),
    ):
        register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))


def _register_record_section() -> None:
    """The resident's contract and team on the person page."""
    from yilian.core.ui.record import RecordSection, register
    from yilian.family_doctors.views.record import contract_section

    register(
        RecordSection(
            name="family_doctors",
            title=_("家庭医生签约"),
            template="family_doctors/_record_section.html",
            context=contract_section,
            order=150,
        )
    )


class FamilyDoctorsConfig(AppConfig):
    name = "yilian.family_doctors"
    label = "family_doctors"
    verbose_name = _("家庭医生签约")

    def ready(self) -> None:
        """Register the audit labels, the menu entries and the person-page section."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "care_team.create": _("组建签约团队"),
                "care_team.update": _("修改签约团队"),
                "care_team.member_add": _("添加团队成员"),
                "care_team.member_remove": _("移出团队成员"),
                "care_team.leader": _("指定团队长"),
                "service_package.create": _("新增签约服务包"),
                "service_package.update": _("修改签约服务包"),
                "contract.sign": _("签订家庭医生签约协议"),
                "contract.renew": _("续约"),
                "contract.terminate": _("解约"),
                "contract.expire": _("签约协议到期"),
            }
        )
        _register_menu()
        _register_record_section()
