"""REST routes of people."""

urlpatterns: list = []
