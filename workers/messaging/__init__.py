"""Messaging providers (SMS gateway, WhatsApp Cloud API, a development stand-in), their settings and rate limit."""
