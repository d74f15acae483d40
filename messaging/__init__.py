"""Messaging providers (SMS gateway, WhatsApp Cloud API, a development stand-in), their settings and rate limit.

What both sides of a message need: the workers send through a provider (`workers.delivery`),
the API verifies and reads its webhooks (`api.routers.webhooks`). Nothing here touches the
database; storage owns the messages themselves.
"""
