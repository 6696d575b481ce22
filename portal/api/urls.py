"""/api/v1/… (included by the project urlconf under `api/v1/`)."""

urlpatterns: list = []
