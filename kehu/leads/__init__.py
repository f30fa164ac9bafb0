"""Leads (SAL-1): entry, the public web inquiry form, assignment rules, first-response SLA, transparent scoring, qualification and conversion."""
