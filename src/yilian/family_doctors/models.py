"""Family-doctor contracting: care teams, their members, service packages and contracts with residents."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.models import BaseModel, SearchableNameMixin
from yilian.family_doctors.choices import (
    ACTIVE_STATUSES,
    ContractStatus,
    PackageKind,
    PriorityGroup,
    TeamMemberRole,
    TerminationReason,
)


class CareTeam(BaseModel, SearchableNameMixin):
    """A family-doctor contract team (签约团队) formed by a primary institution.

    Its members are the primary institution's general practitioners and
    nurses, specialists of the lead hospital and public-health staff, one of
    them the leader. Residents of the grid it serves sign contracts with it.
    """

    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("所属基层机构"),
        on_delete=models.PROTECT,
        related_name="care_teams",
    )
    name = models.CharField(_("团队名称"), max_length=100)
    grid = models.ForeignKey(
        "institutions.Grid",
        verbose_name=_("服务网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_teams",
    )
    description = models.CharField(_("团队简介"), max_length=300, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["institution_id", "name"]
        verbose_name = _("签约团队")
        verbose_name_plural = _("签约团队")
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="care_team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CareTeamMember(models.Model):
    """A person's place in a care team: their institution (the primary one or the lead hospital), role and
    whether they lead it. ``left_on`` ends the membership; only current members count, and the rows
    stay as the team's history."""

    team = models.ForeignKey(
        CareTeam, verbose_name=_("团队"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("成员"),
        on_delete=models.PROTECT,
        related_name="care_team_memberships",
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("所在机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.CharField(_("团队角色"), max_length=24, choices=TeamMemberRole.choices)
    is_leader = models.BooleanField(_("团队长"), default=False)
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        ordering = ["team_id", "-is_leader", "role", "id"]
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=models.Q(left_on__isnull=True),
                name="care_team_member_unique_current",
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=models.Q(left_on__isnull=True, is_leader=True),
                name="care_team_one_current_leader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.user_id} {self.role}"


class ServicePackage(BaseModel):
    """A family-doctor service package of a consortium: the free basic package (national basic public
    health services and contracted general care) or a paid personalised one with its annual price and
    contents. Managed by the consortium office; contracts copy the price."""

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="service_packages",
    )
    name = models.CharField(_("服务包名称"), max_length=100)
    kind = models.CharField(_("服务包类型"), max_length=16, choices=PackageKind.choices)
    annual_price = models.DecimalField(
        _("年服务费（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    contents = models.TextField(_("服务内容"), help_text=_("每行一项服务。"))
    target_groups = models.CharField(_("适用人群"), max_length=200, blank=True)
    is_active = models.BooleanField(_("可签约"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["consortium_id", "kind", "name"]
        verbose_name = _("签约服务包")
        verbose_name_plural = _("签约服务包")
        constraints = [
            models.UniqueConstraint(fields=["consortium", "name"], name="service_package_unique_name"),
            models.CheckConstraint(
                condition=models.Q(annual_price__gte=0), name="service_package_price_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=PackageKind.BASIC) | models.Q(annual_price=0),
                name="service_package_basic_is_free",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def content_lines(self) -> list[str]:
        """The services, one per line, blank lines dropped."""
        return [line.strip() for line in self.contents.splitlines() if line.strip()]


class FamilyDoctorContract(BaseModel):
    """A resident's family-doctor contract (签约服务协议) with a care team.

    ``starts_on`` is the first day of the relationship, ``term_starts_on`` /
    ``ends_on`` the current term (one year by default); each term is kept in
    ``ContractTerm``, so a renewal continues the contract under the same
    number. Signed and renewed contracts are in force: a partial unique index
    allows one per resident, the backstop of the service's check. ``version``
    guards renewals and terminations against concurrent changes.
    """

    number = models.CharField(_("协议编号"), max_length=20, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("签约居民"), on_delete=models.PROTECT, related_name="fd_contracts"
    )
    team = models.ForeignKey(
        CareTeam, verbose_name=_("签约团队"), on_delete=models.PROTECT, related_name="contracts"
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("签约机构"),
        on_delete=models.PROTECT,
        related_name="fd_contracts",
    )
    package = models.ForeignKey(
        ServicePackage, verbose_name=_("服务包"), on_delete=models.PROTECT, related_name="contracts"
    )
    annual_price = models.DecimalField(_("年服务费（元）"), max_digits=8, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.SIGNED
    )
    starts_on = models.DateField(_("首次签约日期"))
    term_starts_on = models.DateField(_("本期开始日期"))
    ends_on = models.DateField(_("本期到期日期"), db_index=True)
    terms = models.PositiveSmallIntegerField(_("服务期数"), default=1)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签约医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    terminated_on = models.DateField(_("解约日期"), null=True, blank=True)
    termination_reason = models.CharField(
        _("解约原因"), max_length=20, choices=TerminationReason.choices, blank=True
    )
    termination_note = models.CharField(_("解约说明"), max_length=200, blank=True)
    terminated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.CharField(_("备注"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("签约协议")
        verbose_name_plural = _("签约协议")
        indexes = [
            models.Index(fields=["team", "status", "ends_on"], name="fd_contract_panel_idx"),
            models.Index(fields=["institution", "status"], name="fd_contract_institution_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="fd_contract_one_active_per_person",
                violation_error_message=_("该居民已有生效的签约协议。"),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("term_starts_on")), name="fd_contract_term_order"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_active(self) -> bool:
        """True while the contract is in force (signed or renewed)."""
        return self.status in ACTIVE_STATUSES


class ContractTerm(models.Model):
    """One term of a contract: the first signing or a renewal, with its package, price and dates."""

    contract = models.ForeignKey(
        FamilyDoctorContract,
        verbose_name=_("签约协议"),
        on_delete=models.CASCADE,
        related_name="term_history",
    )
    sequence = models.PositiveSmallIntegerField(_("期数"))
    package = models.ForeignKey(
        ServicePackage, verbose_name=_("服务包"), on_delete=models.PROTECT, related_name="+"
    )
    annual_price = models.DecimalField(_("年服务费（元）"), max_digits=8, decimal_places=2)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("到期日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("办理时间"), auto_now_add=True)

    class Meta:
        ordering = ["contract_id", "sequence"]
        verbose_name = _("服务期")
        verbose_name_plural = _("服务期")
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="fd_contract_term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} #{self.sequence}"


class ContractPriorityGroup(models.Model):
    """A priority group the contracted resident belongs to; rows so coverage is counted in SQL."""

    contract = models.ForeignKey(
        FamilyDoctorContract,
        verbose_name=_("签约协议"),
        on_delete=models.CASCADE,
        related_name="priority_groups",
    )
    group = models.CharField(_("重点人群"), max_length=16, choices=PriorityGroup.choices)

    class Meta:
        ordering = ["contract_id", "group"]
        verbose_name = _("重点人群标记")
        verbose_name_plural = _("重点人群标记")
        indexes = [models.Index(fields=["group", "contract"], name="fd_priority_group_idx")]
        constraints = [
            models.UniqueConstraint(fields=["contract", "group"], name="fd_priority_group_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.group}"
