from django.urls import path

from portal.analytics import views

urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
]
