"""Factories for users and role grants."""

from __future__ import annotations

from typing import Any

import factory

from yilian.accounts.models import Membership, User
from yilian.core.permissions import Role

PASSWORD = "Yilian-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n + 1}")
    full_name = factory.Sequence(lambda n: f"测试用户{n + 1}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


def user_with_role(role: str, *, username: str | None = None, **target: Any) -> User:
    """A user holding ``role`` within the given institution / consortium / region (none for platform admin)."""
    user = UserFactory(username=username) if username else UserFactory()
    Membership.objects.create(user=user, role=role, **target)
    return user


def platform_admin(username: str = "platform") -> User:
    """A platform administrator."""
    return user_with_role(Role.PLATFORM_ADMIN, username=username)
