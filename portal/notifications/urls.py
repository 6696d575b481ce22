from django.urls import path

from portal.notifications import views

urlpatterns = [
    path("notifications", views.notification_list, name="notification-list"),
    path("notifications/bell", views.bell, name="notification-bell"),
    path("notifications/read-all", views.mark_all_read, name="notification-read-all"),
    path("notifications/<int:notification_id>/read", views.mark_read, name="notification-read"),
    path("notifications/preferences", views.preferences, name="notification-preferences"),
    path("notifications/deliveries", views.delivery_log, name="delivery-log"),
    path(
        "notifications/deliveries/<uuid:delivery_id>/retry",
        views.delivery_retry,
        name="delivery-retry",
    ),
    path("notifications/notices/<int:notice_id>/retry", views.notice_retry, name="notice-retry"),
    path(
        "notifications/notices/retry-failed",
        views.notices_retry_failed,
        name="notices-retry-failed",
    ),
    path(
        "notifications/notices/<int:notice_id>/discard",
        views.notice_discard,
        name="notice-discard",
    ),
    path("notifications/templates", views.template_previews, name="email-template-previews"),
    path(
        "notifications/templates/<slug:kind>.html",
        views.template_preview_html,
        name="email-template-preview-html",
    ),
]
