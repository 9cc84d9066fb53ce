"""REST routes of accounts."""

urlpatterns: list = []
