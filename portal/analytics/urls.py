from django.urls import path

from portal.analytics import deflections, views

urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
    path("analytics", views.analytics, name="analytics"),
    path("analytics/knowledge-base", deflections.knowledge_base, name="analytics-kb"),
    path("analytics/<slug:chart>.csv", views.chart_csv, name="analytics-csv"),
]
