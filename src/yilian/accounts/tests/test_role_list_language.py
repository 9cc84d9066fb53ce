"""The roles named in the title-mismatch message are joined in the reader's language: 护士、医技人员 in
Chinese, "Nurse, Medical technician"-like in English, never with the Chinese enumeration comma."""

from __future__ import annotations

from django.utils.translation import override

from yilian.accounts.choices import ProfessionalTitle
from yilian.accounts.services import title_mismatch
from yilian.core.permissions import Role


def test_role_names_are_joined_for_the_language():
    roles = [Role.NURSE, Role.TECHNICIAN]
    with override("zh-hans"):
        chinese = title_mismatch(ProfessionalTitle.CHIEF_PHYSICIAN, roles)
        assert f"（{Role.NURSE.label}、{Role.TECHNICIAN.label}）" in chinese
    with override("en"):
        english = title_mismatch(ProfessionalTitle.CHIEF_PHYSICIAN, roles)
        names = f"{Role.NURSE.label}, {Role.TECHNICIAN.label}"
        assert f"({names})" in english and "、" not in english
        assert english.startswith("The title")
