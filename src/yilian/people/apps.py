"""App configuration of people: registers its entry in the role menu."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _may_view_people(request: HttpRequest) -> bool:
    from yilian.people.policies import can_view_people

    return can_view_people(request.user)


class PeopleConfig(AppConfig):
    name = "yilian.people"
    label = "people"
    verbose_name = _("居民与患者")

    def ready(self) -> None:
        """Register the menu entry 居民 for staff who see patients."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "person.create": _("登记居民"),
                "person.update": _("修改居民信息"),
                "person.link": _("关联居民"),
                "person.reveal_id": _("查看完整身份证号"),
            }
        )
        from yilian.core.ui.menu import MenuEntry, register

        register(MenuEntry(_("居民健康"), _("居民"), "people:list", _may_view_people, 300))
