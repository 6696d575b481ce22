from django.urls import path

from portal.retention import audit, views

urlpatterns = [
    path("retention", views.retention_page, name="retention"),
    path("retention/audit-export", audit.audit_export, name="audit-export"),
]
