"""Customer classification and evaluation (CLS-1..6): tier suggestions, key-account and dealer evaluations, credit, time allocation."""
