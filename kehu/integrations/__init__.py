"""Imports and exports (INT-1): CSV, Excel and vCard, with column mapping, preview and background jobs."""
