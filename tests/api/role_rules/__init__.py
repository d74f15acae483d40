"""Role rules per domain, merged by tests/api/test_roles.py (SUCCESS, DECIDED, PATH_PARAMS)."""
