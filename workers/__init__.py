"""Celery app, thin tasks over storage/indexing functions, and the admin CLI."""
