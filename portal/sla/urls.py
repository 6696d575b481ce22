from django.urls import path

from portal.sla import views

urlpatterns = [
    path("sla", views.index, name="sla-index"),
    path("sla/calendars/new", views.calendar_create, name="sla-calendar-create"),
    path("sla/calendars/<int:calendar_id>", views.calendar_edit, name="sla-calendar"),
    path("sla/calendars/<int:calendar_id>/holidays", views.holiday_add, name="sla-holiday-add"),
    path(
        "sla/calendars/<int:calendar_id>/holidays/import",
        views.holiday_import,
        name="sla-holiday-import",
    ),
    path(
        "sla/calendars/<int:calendar_id>/holidays/<int:holiday_id>/delete",
        views.holiday_delete,
        name="sla-holiday-delete",
    ),
    path("sla/policies/new", views.policy_create, name="sla-policy-create"),
    path("sla/policies/<int:policy_id>", views.policy_edit, name="sla-policy"),
]
