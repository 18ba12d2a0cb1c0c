"""Helpers shared by the test suites (tests import these, never a conftest)."""
