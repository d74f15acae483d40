"""Read side: searches, facets and aggregations, returned as typed results."""
