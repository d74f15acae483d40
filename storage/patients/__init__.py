"""The patient registry."""
