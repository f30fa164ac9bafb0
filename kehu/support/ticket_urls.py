"""Pages of tickets (filled in by the tickets' views)."""

urlpatterns: list = []
