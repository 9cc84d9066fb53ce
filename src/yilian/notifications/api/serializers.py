"""Serializers of the notifications API."""

from __future__ import annotations

from rest_framework import serializers


class NotificationSerializer(serializers.Serializer):
    """One in-app message to the requester."""

    public_id = serializers.UUIDField(read_only=True)
    topic = serializers.CharField(read_only=True, help_text="类别，如 referral.new、referral.answered")
    title = serializers.CharField(source="display_title", read_only=True, help_text="标题（请求的语言）")
    body = serializers.CharField(source="display_body", read_only=True, help_text="内容（请求的语言）")
    link = serializers.CharField(read_only=True, help_text="打开的页面（站内路径）")
    object_id = serializers.CharField(read_only=True, help_text="相关对象的编号（如转诊单 public_id）")
    is_read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_is_read(self, notification: object) -> bool:
        """Whether the requester has read it."""
        return getattr(notification, "read_at", None) is not None


class NotificationQuerySerializer(serializers.Serializer):
    """Filters of the notification list."""

    unread = serializers.BooleanField(required=False, default=False, help_text="只看未读")


class UnreadCountSerializer(serializers.Serializer):
    """How many unread notifications the requester has (the badge)."""

    count = serializers.IntegerField(read_only=True)


class MarkReadSerializer(serializers.Serializer):
    """Which notifications to mark read; all unread ones when ``ids`` is omitted."""

    ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_null=True, max_length=500, help_text="消息编号"
    )


class MarkReadResultSerializer(serializers.Serializer):
    """How many were marked read, and how many stay unread."""

    marked = serializers.IntegerField(read_only=True)
    unread = serializers.IntegerField(read_only=True)
