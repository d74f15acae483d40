"""The OpenSearch client, built once per process from settings."""

from __future__ import annotations

from functools import lru_cache

from opensearchpy import OpenSearch

from indexing.settings import get_settings


@lru_cache
def get_client() -> OpenSearch:
    """Return the process-wide client (HTTP locally; HTTPS with basic auth when configured)."""
    settings = get_settings()
    auth = None
    if settings.opensearch_user and settings.opensearch_password:
        auth = (settings.opensearch_user, settings.opensearch_password.get_secret_value())
    return OpenSearch(
        hosts=[settings.opensearch_url],
        http_auth=auth,
        verify_certs=settings.opensearch_verify_certs,
        ca_certs=settings.opensearch_ca_certs,
        ssl_show_warn=False,
        timeout=settings.opensearch_timeout,
        max_retries=2,
        retry_on_timeout=True,
        http_compress=settings.opensearch_http_compress,
        pool_maxsize=20,
    )


def reset_client() -> None:
    """Forget the cached client (tests that change settings call this)."""
    get_client.cache_clear()
