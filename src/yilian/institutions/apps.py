"""The registry app: regions, institutions, consortia, grids."""

from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    """Registers the registry's menu entries, each guarded by a policy predicate."""

    name = "yilian.institutions"
    label = "institutions"
    verbose_name = _("机构与医联体")

    def ready(self) -> None:
        """Add the registry pages to the role menu."""
        from yilian.core.audit import register_action_labels

        register_action_labels(
            {
                "region.create": _("新增行政区划"),
                "region.update": _("修改行政区划"),
                "region.boundaries_load": _("导入行政区划边界"),
                "institution.create": _("新增机构"),
                "institution.update": _("修改机构"),
                "department.create": _("新增科室"),
                "department.update": _("修改科室"),
                "consortium.create": _("新建医联体"),
                "consortium.update": _("修改医联体"),
                "consortium.member.add": _("加入成员"),
                "consortium.member.update": _("修改成员"),
                "consortium.member.remove": _("成员退出"),
                "consortium.body.create": _("新增管理机构"),
                "consortium.body.update": _("修改管理机构"),
                "consortium.body.delete": _("删除管理机构"),
                "consortium.agreement.create": _("上传章程与协议"),
                "consortium.agreement.update": _("修改章程与协议"),
                "grid.create": _("新建网格"),
                "grid.update": _("修改网格"),
                "grid.assign": _("指定网格责任医联体"),
                "grid.unassign": _("解除网格责任"),
            }
        )
        from yilian.core.ui.menu import MenuEntry, register
        from yilian.institutions import policies

        def reader(request: HttpRequest) -> bool:
            return policies.can_view_registry(request.user)

        def planner(request: HttpRequest) -> bool:
            return policies.can_plan_grids(request.user)

        def coverage(request: HttpRequest) -> bool:
            return policies.can_view_coverage(request.user)

        def region_admin(request: HttpRequest) -> bool:
            return policies.can_manage_regions(request.user)

        section = _("机构与医联体")
        for order, label, url_name, allowed in (
            (200, _("行政区划"), "institutions:region-list", reader),
            (210, _("医疗卫生机构"), "institutions:institution-list", reader),
            (220, _("医联体"), "institutions:consortium-list", reader),
            (230, _("网格"), "institutions:grid-list", reader),
            (240, _("网格规划"), "institutions:grid-create", planner),
            (250, _("覆盖情况"), "institutions:coverage", coverage),
            (260, _("导入区划"), "institutions:region-import", region_admin),
        ):
            register(MenuEntry(section=section, label=label, url_name=url_name, allowed=allowed, order=order))
