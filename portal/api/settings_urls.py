"""The token pages under /settings/tokens (included by the project urlconf at the root)."""

urlpatterns: list = []
