"""Accounts UI: login, my account, staff of an institution, users and roles, the audit log.

Views are thin adapters: parse a form, call one service or selector with
``actor=request.user``, render. Services decide who may do what.
"""

from __future__ import annotations

from yilian.accounts.views.audit import (
    audit_log,
)
from yilian.accounts.views.auth import (
    login_view,
    logout_view,
    me,
    password_change,
)
from yilian.accounts.views.staff import (
    institution_staff,
    membership_revoke,
    my_staff,
    staff_create,
    staff_password_reset,
    staff_set_active,
)
from yilian.accounts.views.users import (
    user_create,
    user_detail,
    user_grant,
    user_list,
    user_password_reset,
    user_set_active,
)

__all__ = [
    "audit_log",
    "institution_staff",
    "login_view",
    "logout_view",
    "me",
    "membership_revoke",
    "my_staff",
    "password_change",
    "staff_create",
    "staff_password_reset",
    "staff_set_active",
    "user_create",
    "user_detail",
    "user_grant",
    "user_list",
    "user_password_reset",
    "user_set_active",
]
