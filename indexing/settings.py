"""Settings of the indexing package (where OpenSearch is, index names)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IndexingSettings(BaseSettings):
    """OpenSearch connection: plain HTTP on loopback locally, TLS + basic auth in docker-compose."""

    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore")

    opensearch_url: str = "http://127.0.0.1:9200"
    opensearch_user: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_verify_certs: bool = True
    opensearch_ca_certs: str | None = None
    opensearch_timeout: float = 10.0
    # gzip request bodies: worth it to a remote cluster over a slow link; on loopback (and
    # beside the cluster in docker-compose) it only burns CPU on both ends, so off by default.
    opensearch_http_compress: bool = False
    # Every index and alias name starts with this; tests use a per-run prefix.
    index_prefix: str = "coleta-"
    # People's changes per drain batch (a batch refreshes only when it is smaller than drain_refresh_below).
    drain_batch_size: int = 500
    # A bulk writer's rows (an import's) per drain batch: people's changes wait at most for the batch
    # being written when they arrive, so it is kept short (issue 14: an edit made during an import is
    # searchable within 2 s); a smaller batch costs the import's drain more requests.
    drain_bulk_batch_size: int = 200
    # A drain that finds fewer due outbox rows than this (people's writes, not an import) refreshes
    # what it wrote, so the change is searchable in milliseconds instead of at the next refresh
    # (1 s). Larger drains leave it to the refresh interval: a refresh per batch would slow imports.
    drain_refresh_below: int = 50
    # A rebuild's backfill: keys per chunk (one bulk request each) and chunks in flight at once
    # (each reads, builds and writes on its own thread: PostgreSQL, Python and OpenSearch overlap).
    backfill_chunk_size: int = 1000
    backfill_workers: int = 3


@lru_cache
def get_settings() -> IndexingSettings:
    """Return the cached indexing settings."""
    return IndexingSettings()
