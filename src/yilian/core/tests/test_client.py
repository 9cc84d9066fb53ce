"""Client address behind trusted proxies."""

from __future__ import annotations

from django.test import RequestFactory, override_settings

from yilian.core.client import client_address


def _request(remote: str, forwarded: str = "") -> object:
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_proxies_the_peer_is_the_client():
    assert client_address(_request("10.0.0.5", "1.2.3.4")) == "10.0.0.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_proxy_takes_the_last_forwarded_entry_and_ignores_forged_ones():
    assert client_address(_request("10.0.0.1", "6.6.6.6, 203.0.113.9")) == "203.0.113.9"
    assert client_address(_request("10.0.0.1")) == "10.0.0.1"
