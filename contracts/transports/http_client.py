"""The run's httpx clients, all with one TLS context.

An ``httpx.Client`` builds its own TLS context unless it is given one, and building one (the
CA bundle read and parsed) takes about 20 ms: a run made four or five clients before its first
test (preflight, transport, session; a second process its own transport again), each with a
context of its own, for a target that is most often plain HTTP. They now share one, made the
way httpx makes its default one (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), so
every client verifies exactly as before.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's default context (``verify=True``), made once per process."""
    return httpx.create_ssl_context()


def http_client(base_url: str, timeout: float, **options: Any) -> httpx.Client:
    """``httpx.Client(base_url=..., timeout=..., **options)`` with the shared TLS context."""
    return httpx.Client(base_url=base_url, timeout=timeout, verify=tls_context(), **options)
