"""REST routes of institutions."""

urlpatterns: list = []
