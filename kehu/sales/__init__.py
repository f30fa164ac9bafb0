"""Opportunities (SAL-2, SAL-8): pipelines with stages as data, the board, forecast against targets, who should take a deal."""
