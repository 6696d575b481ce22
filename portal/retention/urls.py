from django.urls import path

from portal.retention import views

urlpatterns = [path("retention", views.retention_page, name="retention")]
