"""Every HTTP client shares one TLS context (building one costs ~20 ms), and it verifies."""

from __future__ import annotations

import ssl

from cockpit.backends.alertmanager import AlertmanagerApi
from cockpit.backends.http import tls_context
from cockpit.config import parse_config


def test_one_verifying_context_shared_by_the_clients() -> None:
    context = tls_context()
    assert context is tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    config = parse_config({"alertmanager": {"url": "https://am.example:9093"}})
    assert config.alertmanager is not None
    api = AlertmanagerApi(config.alertmanager)
    pool = api.http.client._transport._pool  # type: ignore[attr-defined]
    assert pool._ssl_context is context
