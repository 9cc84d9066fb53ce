"""Prescriptions across levels (Art. 25): the drug catalogue, the consortium formulary with each
member's stock list, regular / long / extended prescriptions, and the consortium deliveries (配送)
that bring an extended prescription's drugs from the lead hospital's pharmacy to the member."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import RenderedNote
from yilian.core.models import BaseModel, SearchableNameMixin
from yilian.prescriptions.choices import (
    DeliveryStatus,
    DosageForm,
    DrugCategory,
    Frequency,
    PrescriptionKind,
    PrescriptionStatus,
    Route,
)


class Drug(BaseModel, SearchableNameMixin):
    """A drug product of the shared catalogue (统一药品目录): national insurance drug code (国家医保药品
    代码, 23 characters), generic name (``name``, searchable by pinyin), form, strength and package.

    ``package_size`` dose units make one package (28 片/盒); the prescribed quantity in packages is
    computed from it. ``is_chronic`` marks chronic-disease drugs (the ones long prescriptions may carry
    and whose absence at a member blocks down-referral); ``is_essential`` marks 国家基本药物.
    """

    code = models.CharField(_("医保药品代码"), max_length=23, unique=True)
    name = models.CharField(_("通用名"), max_length=100)
    dosage_form = models.CharField(_("剂型"), max_length=16, choices=DosageForm.choices)
    strength = models.CharField(_("规格"), max_length=40)
    dose_unit = models.CharField(_("剂量单位"), max_length=8, default="片")
    package_size = models.PositiveIntegerField(_("每包装数量"), default=1)
    package_unit = models.CharField(_("包装单位"), max_length=8, default="盒")
    category = models.CharField(_("类别"), max_length=20, choices=DrugCategory.choices, db_index=True)
    is_chronic = models.BooleanField(_("慢病用药"), default=False, db_index=True)
    is_essential = models.BooleanField(_("国家基本药物"), default=False)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        ordering = ["name", "strength", "id"]
        verbose_name = _("药品")
        verbose_name_plural = _("药品")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(package_size__gte=1), name="drug_package_size_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength}"

    @property
    def package_label(self) -> str:
        """E.g. "28片/盒"."""
        return f"{self.package_size}{self.dose_unit}/{self.package_unit}"


class ConsortiumFormulary(BaseModel):
    """A consortium's drug-list alignment (用药目录衔接) and its prescription limits.

    The reference list is the stock list of the lead hospital (``reference_institution``); every
    member's list is compared with it. The office edits the limits; ``version`` guards concurrent edits.
    """

    consortium = models.OneToOneField(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="formulary",
    )
    reference_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("基准目录机构（牵头医院）"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    long_max_days = models.PositiveIntegerField(_("长处方最长用药天数"), default=84)
    extended_max_days = models.PositiveIntegerField(_("延伸处方最长用药天数"), default=84)
    regular_max_days = models.PositiveIntegerField(_("普通处方最长用药天数"), default=30)
    source_recent_months = models.PositiveIntegerField(_("延伸处方可引用的原处方月数"), default=6)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("医联体用药目录")
        verbose_name_plural = _("医联体用药目录")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(long_max_days__gte=1, long_max_days__lte=180),
                name="formulary_long_days_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.consortium_id)


class StockItem(BaseModel):
    """A drug an institution stocks (its 药品目录). At the lead hospital these rows are the consortium's
    reference list; at a member, a drug outside the reference list is aligned only when marked as a
    local addition (本地增补)."""

    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("机构"),
        on_delete=models.CASCADE,
        related_name="drug_stock",
    )
    drug = models.ForeignKey(Drug, verbose_name=_("药品"), on_delete=models.PROTECT, related_name="stock")
    is_local_addition = models.BooleanField(_("本地增补"), default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["institution_id", "drug_id"]
        verbose_name = _("机构药品目录条目")
        verbose_name_plural = _("机构药品目录条目")
        constraints = [
            models.UniqueConstraint(fields=["institution", "drug"], name="stock_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}:{self.drug_id}"


class Prescription(BaseModel):
    """A prescription (处方) written by a doctor of an institution for a person.

    ``kind`` is regular, long (长处方, stable chronic patients, up to the formulary's limit) or extended
    (延伸处方: a primary doctor continues ``source``, a lead-hospital prescription, for drugs the member
    does not stock; they come through a ``Delivery``). Valid until ``valid_until``; voiding
    (作废) is final and keeps the reason.
    """

    number = models.CharField(_("处方编号"), max_length=20, unique=True)
    kind = models.CharField(_("处方类型"), max_length=10, choices=PrescriptionKind.choices, db_index=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=PrescriptionStatus.choices,
        default=PrescriptionStatus.ACTIVE,
        db_index=True,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescriptions",
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("开方机构"),
        on_delete=models.PROTECT,
        related_name="prescriptions",
    )
    department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescriptions",
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开方医师"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescriptions_written",
    )
    # The name as signed; history imported from an HIS may name a doctor who has no account here.
    prescriber_name = models.CharField(_("开方医师姓名"), max_length=150)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="prescriptions"
    )
    diagnosis_code = models.CharField(_("诊断编码（ICD-10）"), max_length=11)
    diagnosis_name = models.CharField(_("诊断名称"), max_length=50)
    prescribed_on = models.DateField(_("开具日期"), db_index=True)
    valid_until = models.DateField(_("有效期至"))
    days = models.PositiveIntegerField(_("用药天数"))
    source = models.ForeignKey(
        "self",
        verbose_name=_("原处方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="extensions",
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    # The form's one-time key: a second post of the same form (a double click, a resubmitted page)
    # returns the first prescription instead of writing the same drugs twice.
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-prescribed_on", "-id"]
        verbose_name = _("处方")
        verbose_name_plural = _("处方")
        indexes = [
            models.Index(fields=["institution", "prescribed_on"], name="rx_institution_day_idx"),
            models.Index(fields=["consortium", "kind", "prescribed_on"], name="rx_consortium_kind_idx"),
            models.Index(fields=["person", "status"], name="rx_person_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gte=1), name="rx_days_positive"),
            models.CheckConstraint(
                condition=~models.Q(kind=PrescriptionKind.EXTENDED) | models.Q(source__isnull=False),
                name="rx_extended_has_source",
            ),
            models.UniqueConstraint(
                fields=["prescriber", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="rx_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PrescriptionItem(models.Model):
    """One drug on a prescription: dose, frequency, route, days and the quantity in packages.

    ``person``, ``kind``, ``is_current`` are copied from the prescription so the database refuses two
    active long prescriptions of the same drug for one person started the same day (the service checks
    overlapping periods under a lock on the person; this is the backstop for a race).
    """

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="items")
    drug = models.ForeignKey(Drug, verbose_name=_("药品"), on_delete=models.PROTECT, related_name="+")
    dose = models.DecimalField(_("单次剂量"), max_digits=8, decimal_places=2)
    frequency = models.CharField(_("频次"), max_length=4, choices=Frequency.choices)
    route = models.CharField(_("给药途径"), max_length=16, choices=Route.choices)
    days = models.PositiveIntegerField(_("天数"))
    quantity = models.PositiveIntegerField(_("数量（包装）"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+", editable=False)
    kind = models.CharField(max_length=10, choices=PrescriptionKind.choices, editable=False)
    is_current = models.BooleanField(default=True, editable=False)
    delivered_by_consortium = models.BooleanField(_("医联体配送"), default=False)

    class Meta:
        ordering = ["prescription_id", "id"]
        verbose_name = _("处方明细")
        verbose_name_plural = _("处方明细")
        indexes = [models.Index(fields=["person", "drug", "ends_on"], name="rx_item_person_drug_idx")]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "drug"], name="rx_item_drug_once"),
            models.UniqueConstraint(
                fields=["person", "drug", "starts_on"],
                condition=models.Q(kind=PrescriptionKind.LONG, is_current=True),
                name="rx_item_one_long_per_drug_start",
            ),
            models.CheckConstraint(condition=models.Q(dose__gt=0), name="rx_item_dose_positive"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="rx_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.prescription_id}:{self.drug_id}"


class Delivery(BaseModel):
    """The consortium delivery (配送) of an extended prescription's drugs from the lead hospital's
    pharmacy to the member: requested → dispatched → received → handed to the patient.

    Each step is a conditional update on the expected state, so of two people pressing the same button
    one wins and the other gets a conflict.
    """

    number = models.CharField(_("配送单号"), max_length=20, unique=True)
    prescription = models.OneToOneField(
        Prescription, verbose_name=_("延伸处方"), on_delete=models.PROTECT, related_name="delivery"
    )
    from_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("发药机构"),
        on_delete=models.PROTECT,
        related_name="deliveries_out",
    )
    to_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("接收机构"),
        on_delete=models.PROTECT,
        related_name="deliveries_in",
    )
    status = models.CharField(
        _("配送状态"),
        max_length=12,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.REQUESTED,
        db_index=True,
    )
    requested_at = models.DateTimeField(_("申请时间"), db_index=True)
    dispatched_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handed_at = models.DateTimeField(_("交付患者时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("药品配送")
        verbose_name_plural = _("药品配送")
        indexes = [
            models.Index(fields=["from_institution", "status"], name="delivery_out_idx"),
            models.Index(fields=["to_institution", "status"], name="delivery_in_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_institution=models.F("to_institution")),
                name="delivery_not_to_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class DeliveryEvent(RenderedNote, models.Model):
    """One step on a delivery's timeline (both ends read it)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    institution_name = models.CharField(_("机构"), max_length=200, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    note_params = models.JSONField(_("说明参数"), default=dict, db_default={}, blank=True)
    occurred_at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("配送进程")
        verbose_name_plural = _("配送进程")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.action}"
