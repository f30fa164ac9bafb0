"""Webhooks (INT-4): subscriptions, signed deliveries with retries and a delivery log."""
