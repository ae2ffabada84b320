"""The audit trail: who did what, when, with which decision."""
