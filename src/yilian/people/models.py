"""People: residents and patients, with their protected identifiers and who may see them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.models import BaseModel, SearchableNameMixin
from yilian.people.choices import Gender, InsuranceScheme, PersonLinkReason


class Person(BaseModel, SearchableNameMixin):
    """A resident or patient.

    The resident ID number is never stored in clear: ``id_number_hash`` (a
    keyed hash) finds a person by exact number, ``id_number_encrypted``
    holds it for the few who may read it, ``id_number_masked`` is shown in
    lists. ``__str__`` shows only the name.
    """

    name = models.CharField(_("姓名"), max_length=50)
    id_number_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("现住址"), max_length=300, blank=True)
    address_region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("现住址区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    insurance_scheme = models.CharField(
        _("参保类型"),
        max_length=10,
        choices=InsuranceScheme.choices,
        default=InsuranceScheme.RESIDENT,
    )
    home_grid = models.ForeignKey(
        "institutions.Grid",
        verbose_name=_("所属网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self) -> str:
        return self.name


class PersonInstitutionLink(models.Model):
    """Records that an institution is involved with a person, which is what lets it see them."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="institution_links")
    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.CASCADE, related_name="person_links"
    )
    reason = models.CharField(_("关联原因"), max_length=12, choices=PersonLinkReason.choices)
    since = models.DateTimeField(_("关联时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("居民关联机构")
        verbose_name_plural = _("居民关联机构")
        constraints = [
            models.UniqueConstraint(fields=["person", "institution", "reason"], name="person_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person} ↔ {self.institution}"
