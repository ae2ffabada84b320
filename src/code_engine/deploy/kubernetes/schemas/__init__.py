"""Vendored CRD schemas (see SOURCE.md); data only."""
