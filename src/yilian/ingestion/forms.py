"""Forms of the import pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yilian.ingestion.choices import ImportKind


class ImportUploadForm(forms.Form):
    """Upload a file: its kind, the reporting institution (encounters) or insured region (claims)."""

    kind = forms.ChoiceField(label=_("导入类型"), choices=ImportKind.choices)
    institution = forms.ChoiceField(label=_("数据报送机构"), required=False)
    region = forms.ChoiceField(label=_("参保地"), required=False)
    file = forms.FileField(label=_("文件（.csv 或 .xlsx）"))
    all_or_nothing = forms.BooleanField(
        label=_("全部成功才导入"),
        required=False,
        help_text=_("勾选后，只要有一行错误，整个文件都不导入。"),
    )

    def __init__(
        self, *args: Any, institutions: Any = (), regions: Any = (), kinds: Any = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [c for c in ImportKind.choices if c[0] in kinds]
        self.fields["institution"].choices = [("", "—")] + [(str(i.public_id), i.name) for i in institutions]
        self.fields["region"].choices = [("", "—")] + [(r.code, str(r)) for r in regions]
        # One choice is the answer: preselected, so a user of one institution is not sent back (with
        # the file input emptied, as browsers do) for not picking it.
        for name in ("institution", "region"):
            options = self.fields[name].choices
            if len(options) == 2:
                self.fields[name].initial = options[1][0]
