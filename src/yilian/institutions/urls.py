"""URLs of the institutions UI."""

app_name = "institutions"
urlpatterns: list = []
