"""Reindex jobs: one zero-downtime rebuild of an index, asked for by an admin and followed to its end."""
