"""Fixtures shared by every test: isolated settings and a database per test."""
