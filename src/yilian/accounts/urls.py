"""URLs of the accounts UI."""

app_name = "accounts"
urlpatterns: list = []
