"""The OpenSearch client: request compression is a setting, off by default (loopback gzip is pure CPU)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexing import names, writer
from indexing.client import get_client, reset_client
from indexing.settings import get_settings


@pytest.fixture
def fresh_client() -> Iterator[None]:
    get_settings.cache_clear()
    reset_client()
    yield
    get_settings.cache_clear()
    reset_client()


def _compresses() -> list[bool]:
    return [connection.http_compress for connection in get_client().transport.connection_pool.connections]


def test_compression_is_off_by_default(fresh_client, monkeypatch):
    monkeypatch.delenv("COLETA_OPENSEARCH_HTTP_COMPRESS", raising=False)
    assert _compresses() == [False]


@pytest.mark.usefixtures("committed")
def test_a_compressing_client_still_writes_for_remote_clusters(fresh_client, monkeypatch):
    monkeypatch.setenv("COLETA_OPENSEARCH_HTTP_COMPRESS", "true")
    assert _compresses() == [True]
    alias = names.alias("visits")
    outcome = writer.write(get_client(), [writer.IndexOp(alias, "v-1", 3, {"id": "v-1", "city": "São Paulo"})], refresh=True)
    assert outcome.failed == {}
    assert get_client().get(index=alias, id="v-1")["_source"] == {"id": "v-1", "city": "São Paulo"}
