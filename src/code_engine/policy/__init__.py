"""Policy decisions, secrets and the audit trail."""
