"""Read models for staff that span the areas: the dashboard, the ledger, order and batch lists, the audit log."""
