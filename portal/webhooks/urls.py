from django.urls import path

from portal.webhooks import views

urlpatterns = [
    path("webhooks", views.webhook_list, name="webhook-list"),
    path("webhooks/new", views.webhook_new, name="webhook-new"),
    path("webhooks/<int:hook_id>", views.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:hook_id>/delete", views.webhook_delete, name="webhook-delete"),
    path("webhooks/<int:hook_id>/secret", views.webhook_rotate_secret, name="webhook-secret"),
    path(
        "webhooks/deliveries/<uuid:delivery_id>/retry",
        views.delivery_retry,
        name="webhook-delivery-retry",
    ),
    path("webhooks/hosts", views.allowed_host_add, name="webhook-host-add"),
    path(
        "webhooks/hosts/<int:host_id>/delete",
        views.allowed_host_remove,
        name="webhook-host-remove",
    ),
]
