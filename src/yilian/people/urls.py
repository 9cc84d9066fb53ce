"""URLs of the people UI."""

app_name = "people"
urlpatterns: list = []
