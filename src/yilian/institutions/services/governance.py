"""Writes of a consortium's management bodies, charter and agreements."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from yilian.core.audit import changed, snapshot
from yilian.core.exceptions import Invalid
from yilian.core.text import join_list
from yilian.institutions import policies
from yilian.institutions.choices import (
    AgreementKind,
    ManagementBodyKind,
)
from yilian.institutions.models import (
    Agreement,
    Consortium,
    Institution,
    ManagementBody,
)
from yilian.institutions.services._common import (
    AGREEMENT_FIELDS,
    ALLOWED_UPLOADS,
    BODY_FIELDS,
    _choice,
    _consortium_event,
    _raise_if,
    _require,
)


def management_body_save(
    *, actor: Any, consortium: Consortium, body: ManagementBody | None = None, **data: Any
) -> ManagementBody:
    """Create (``body`` None) or change a management body of a consortium. Raises NotAllowed, Invalid."""
    _require(policies.can_manage_consortium(actor, consortium))
    data = {k: v for k, v in data.items() if k in BODY_FIELDS}
    errors: dict[str, list[str]] = {}
    if "kind" in data or body is None:
        _choice(errors, "kind", data.get("kind"), ManagementBodyKind)
    if (body is None or "name" in data) and not str(data.get("name") or "").strip():
        errors["name"] = [_("请填写名称。")]
    _raise_if(errors)
    with transaction.atomic():
        before = snapshot(body, BODY_FIELDS) if body else None
        target = body or ManagementBody(consortium=consortium)
        for key, value in data.items():
            setattr(target, key, value)
        target.save()
        after = snapshot(target, BODY_FIELDS)
        if before is None:
            _consortium_event(actor, "consortium.body.create", target, consortium, after=after)
        else:
            old, new = changed(before, after)
            if new:
                _consortium_event(actor, "consortium.body.update", target, consortium, before=old, after=new)
    return target


def management_body_delete(*, actor: Any, body: ManagementBody) -> None:
    """Remove a management body. Raises NotAllowed."""
    consortium = body.consortium
    _require(policies.can_manage_consortium(actor, consortium))
    with transaction.atomic():
        _consortium_event(
            actor, "consortium.body.delete", body, consortium, before=snapshot(body, BODY_FIELDS)
        )
        body.delete()


def _validate_upload(upload: UploadedFile | None, errors: dict[str, list[str]]) -> None:
    if upload is None:
        errors["file"] = [_("请上传文件。")]
        return
    name = (upload.name or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in ALLOWED_UPLOADS:
        errors["file"] = [_("只接受 PDF、OFD、Word、Excel 或图片文件。")]
        return
    if upload.size and upload.size > settings.UPLOAD_MAX_BYTES:
        errors["file"] = [
            _("文件过大（上限 %(size)d MB）。") % {"size": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}
        ]
        return
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ALLOWED_UPLOADS[suffix]):
        errors["file"] = [_("文件内容与扩展名不符。")]


def agreement_create(
    *,
    actor: Any,
    consortium: Consortium,
    kind: str,
    title: str,
    file: UploadedFile | None,
    effective_from: datetime.date | None,
    effective_to: datetime.date | None = None,
    signed_on: datetime.date | None = None,
    parties: Iterable[Institution] = (),
    notes: str = "",
) -> Agreement:
    """Upload a charter or agreement with its dates and signing parties (members of the consortium).

    Raises NotAllowed, Invalid (file type/size, dates, parties not members).
    """
    _require(policies.can_manage_consortium(actor, consortium))
    parties = list(parties)
    errors: dict[str, list[str]] = {}
    _choice(errors, "kind", kind, AgreementKind)
    if not (title or "").strip():
        errors["title"] = [_("请填写标题。")]
    if effective_from is None:
        errors["effective_from"] = [_("请填写生效日期。")]
    elif effective_to is not None and effective_to < effective_from:
        errors["effective_to"] = [_("失效日期不能早于生效日期。")]
    member_ids = set(consortium.members.filter(is_active=True).values_list("institution_id", flat=True))
    strangers = [party.name for party in parties if party.pk not in member_ids]
    if strangers:
        errors["parties"] = [_("以下机构不是本医联体成员：%(names)s") % {"names": join_list(strangers)}]
    _validate_upload(file, errors)
    _raise_if(errors)
    with transaction.atomic():
        agreement = Agreement(
            consortium=consortium,
            kind=kind,
            title=title.strip(),
            signed_on=signed_on,
            effective_from=effective_from,
            effective_to=effective_to,
            notes=notes,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            original_filename=(file.name or "")[:255] if file else "",
        )
        agreement.file.save(file.name or "upload", file, save=False)  # type: ignore[union-attr]
        agreement.save()
        agreement.parties.set(parties)
        after = snapshot(agreement, AGREEMENT_FIELDS)
        after["parties"] = [str(party.public_id) for party in parties]
        _consortium_event(actor, "consortium.agreement.create", agreement, consortium, after=after)
    return agreement


def agreement_update(
    *,
    actor: Any,
    agreement: Agreement,
    effective_to: datetime.date | None = None,
    notes: str | None = None,
) -> Agreement:
    """End an agreement (set its end date) or change its notes. Raises NotAllowed, Invalid."""
    consortium = agreement.consortium
    _require(policies.can_manage_consortium(actor, consortium))
    if effective_to is not None and effective_to < agreement.effective_from:
        raise Invalid({"effective_to": [_("失效日期不能早于生效日期。")]})
    with transaction.atomic():
        before = snapshot(agreement, ("effective_to", "notes"))
        agreement.effective_to = effective_to
        if notes is not None:
            agreement.notes = notes
        agreement.save()
        old, new = changed(before, snapshot(agreement, ("effective_to", "notes")))
        if new:
            _consortium_event(
                actor, "consortium.agreement.update", agreement, consortium, before=old, after=new
            )
    return agreement
