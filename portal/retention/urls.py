from django.urls import path

from portal.retention import audit, person_views, views

urlpatterns = [
    path("retention", views.retention_page, name="retention"),
    path("retention/audit-export", audit.audit_export, name="audit-export"),
    path("settings/users/<int:user_id>/export", person_views.person_export, name="person-export"),
    path("settings/users/<int:user_id>/erase", person_views.person_erase, name="person-erase"),
]
