"""Everything that touches OpenSearch: client, documents, bulk writes, sync, lifecycle, queries."""
